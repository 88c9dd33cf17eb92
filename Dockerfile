# The demo service: build the demo cadastre at image build time, serve it as a non-root user.
# Installed editable so that the package finds data/ beside it, as in a checkout.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/cadastre

COPY pyproject.toml README.md ./
COPY solar/ solar/
COPY app/ app/
COPY data/ data/
RUN pip install --no-compile -e . \
    && useradd --system --uid 10001 --home-dir /srv/cadastre cadastre \
    && cadastre demo --build-only \
    && chown -R cadastre /srv/cadastre/build

USER cadastre
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["cadastre", "demo", "--host", "0.0.0.0", "--port", "8000"]
