# The demo service: build the demo cadastre at image build time, serve it as a non-root user.
# Installed as a wheel would be: the package reads its data (solar/data/) through
# importlib.resources, so nothing of the checkout is needed at run time.
FROM python:3.11-slim

# CADASTRE_DATA_DIR: where `cadastre demo` builds the demo cadastre and serves it from.
# NUMBA_CACHE_DIR: numba caches its compiled functions beside the package by default, which
# the unprivileged user cannot write: the first import of a compiled function would fail
# ("cannot cache function ...: no locator available").
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CADASTRE_DATA_DIR=/srv/cadastre/data NUMBA_CACHE_DIR=/srv/cadastre/numba-cache
WORKDIR /srv/cadastre

COPY pyproject.toml README.md /usr/src/cadastre/
COPY solar/ /usr/src/cadastre/solar/
COPY app/ /usr/src/cadastre/app/
RUN pip install --no-compile /usr/src/cadastre \
    && rm -rf /usr/src/cadastre \
    && useradd --system --uid 10001 --home-dir /srv/cadastre cadastre \
    && cadastre demo --build-only \
    && mkdir -p "$NUMBA_CACHE_DIR" \
    && chown -R cadastre "$CADASTRE_DATA_DIR" "$NUMBA_CACHE_DIR"

USER cadastre
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
# Two worker processes, one per core of a small host; each opens the cadastre, watches its
# file and parses Linky uploads in a process of its own. Mount a real cadastre (with its
# .sha256 beside it) and pass its path to --cadastre to serve it instead of the demo.
CMD ["cadastre", "serve", "--cadastre", "/srv/cadastre/data/cadastre.gpkg", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
