"""The FastAPI application: ``create_app`` wires settings, cadastre, routers and errors.

Run it with :func:`serve` (``cadastre serve``), or with uvicorn's factory mode:
``CADASTRE_PATH=cadastre.gpkg uvicorn --factory app.main:create_app``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import solar
from app.communes.service import open_communes
from app.dependencies import HeavyWork, Services
from app.documents import DocumentRoutes
from app.errors import install_error_handlers
from app.middleware import (
    AccessLog,
    BodyLimit,
    Compression,
    RateLimit,
    RequestTimeout,
    SecurityHeaders,
    content_security_policy,
    script_hash,
)
from app.routers import addresses, buildings, coverage, health, legend, roofs, simulate, site, tiles
from app.routers import communes as communes_router
from app.routers import reports as reports_router
from app.settings import Settings, get_settings
from app.swap import ServicesHolder, ServicesLease
from app.uploads import FORM_OVERHEAD_BYTES

STATIC_DIR = Path(__file__).parent / "static"
#: Smallest response body compressed when the client accepts gzip. [bytes]
GZIP_MINIMUM_BYTES = 1024
#: zlib level of the responses. Against level 6, a building's document (5.5 KB) takes 17%
#: less CPU for 0.5% more bytes, a 0.9 MB GeoJSON a third less CPU for 2% more bytes;
#: level 4 would add 4% and 13% of bytes, level 9 takes 1.6 and 3.6 times level 6's CPU
#: for 0.3% and 1.3% fewer bytes (territory documents, measured together).
GZIP_LEVEL = 5
#: API paths whose answers are per key and change: never cached, never given an ETag.
PRIVATE_API_PREFIXES = ("/api/v1/communes", "/api/v1/operation")
#: Where the static mount serves Swagger UI 5, vendored (see its README there): Swagger
#: UI 4 cannot read the OpenAPI 3.1 that FastAPI writes.
SWAGGER_UI = "/vendor/swagger-ui"

logger = logging.getLogger("app")

DESCRIPTION = """\
Open solar cadastre of the Pôle Métropolitain de l'Artois.

Type an address, get the roof: its faces, the kWc they can host, their production, their
shading and how suitable they are. Then simulate a project for your household: the
self-consumption, the savings and the payback with their uncertainty, from a standard
profile or from your own Linky load curve. Geometry is RFC 7946 GeoJSON in WGS84; angles follow
pvlib (tilt from horizontal, azimuth clockwise from north). Errors are
`{"detail": ..., "code": ...}`.
"""


class CacheHeaders:
    """Conditional GET for the read-only API: an ETag per cadastre file, and max-age.

    A cadastre file never changes while it is served, so one tag (its content hash and
    the code version, :attr:`app.dependencies.Services.etag`) validates every API
    response; a matching ``If-None-Match`` gets a 304 without touching the cadastre. The
    tag is that of the services the request was given: it follows a swapped file.
    """

    def __init__(self, app: ASGIApp, *, max_age: int):
        self.app = app
        self.cache_control = f"public, max-age={max_age}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].startswith("/api/")
            # what a commune writes changes under the service, and answers a key only
            or scope["path"].startswith(PRIVATE_API_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        services: Services | None = scope.get("state", {}).get("services")
        if services is None:
            await self.app(scope, receive, send)
            return
        etag = services.etag.encode()
        for name, value in scope["headers"]:
            if name == b"if-none-match" and etag in (v.strip() for v in value.split(b",")):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 304,
                        "headers": [(b"etag", etag), (b"cache-control", self.cache_control)],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message["headers"] = [
                    *message.get("headers", []),
                    (b"etag", etag),
                    (b"cache-control", self.cache_control),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _offline_docs(app: FastAPI, settings: Settings) -> None:
    """Serve Swagger UI at /docs from the app's own static files, not from a CDN.

    A commune's intranet, or this project's CI, may have no route to a CDN. The assets
    are served by the static mount of :func:`create_app`, under ``SWAGGER_UI``. The page
    starts Swagger UI in an inline script: its Content-Security-Policy allows that
    script by its hash, and no other.
    """
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} – API",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
    )
    inline = re.findall(r"<script>(.*?)</script>", bytes(page.body).decode(), flags=re.S)
    policy = content_security_policy(settings.basemap_style, [script_hash(s) for s in inline])

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page.body, headers={"content-security-policy": policy})


def _lifespan(
    settings: Settings,
) -> Callable[[FastAPI], AbstractAsyncContextManager[dict[str, Any]]]:
    """Open the :class:`app.dependencies.Services` at start-up, watch the cadastre file
    while serving (:mod:`app.swap`), close everything at shutdown.

    The state holds the :class:`app.swap.ServicesHolder` (``holder``), whose current
    services each request is given, and the pools of heavy work
    (:class:`app.dependencies.HeavyWork`, ``heavy``).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        services = await anyio.to_thread.run_sync(Services.open, settings)
        logger.info(
            "serving %s: %d buildings, %d addresses, sha256 %s%s",
            settings.path,
            services.coverage.counts.buildings,
            len(services.address_index),
            services.identity.sha256[:16],
            "" if services.identity.verified else " (no checksum file beside it: unverified)",
        )
        holder = ServicesHolder(settings, services)
        heavy = HeavyWork.open(settings)
        try:
            async with holder.watching():
                with open_communes(settings, lambda: holder.current.cadastre) as communes:
                    yield {"holder": holder, "heavy": heavy, **communes}
        finally:
            await anyio.to_thread.run_sync(heavy.close)
            holder.close()

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    """Wire the routers, the docs and the middleware; the lifespan opens the cadastre.

    Parameters
    ----------
    settings : Settings, optional
        By default :func:`app.settings.get_settings`, from ``CADASTRE_*`` variables.

    Returns
    -------
    fastapi.FastAPI
    """
    settings = settings or get_settings()
    # python-multipart logs malformed framing at WARNING, quoting bytes of the body: an
    # uploaded Linky file must never reach a log.
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
    app = FastAPI(
        title="Cadastre solaire de l'Artois",
        version=solar.__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(settings),
        docs_url=None,
        # ReDoc loads its script from a CDN; Swagger UI at /docs is served offline
        redoc_url=None,
    )
    _offline_docs(app, settings)
    install_error_handlers(app)
    for module in (health, addresses, buildings, roofs, coverage, simulate, site):
        app.include_router(module.router)
    app.include_router(communes_router.router)
    app.include_router(reports_router.router)
    app.include_router(legend.router)
    app.include_router(tiles.router)
    # innermost first: each add_middleware wraps what was added before it
    app.add_middleware(DocumentRoutes)
    app.add_middleware(CacheHeaders, max_age=settings.cache_max_age)
    app.add_middleware(ServicesLease)
    app.add_middleware(RequestTimeout, seconds=settings.request_timeout_s)
    app.add_middleware(
        BodyLimit,
        json_bytes=settings.json_limit_bytes,
        file_bytes=max(settings.upload_limit_bytes, settings.import_limit_bytes),
        form_bytes=FORM_OVERHEAD_BYTES,
    )
    if settings.rate_limit:
        app.add_middleware(
            RateLimit, per_second=settings.rate_limit, trusted_proxies=settings.trusted_proxies
        )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
        )
    # JSON and GeoJSON shrink about tenfold; below 1 KB the header costs more than it saves
    app.add_middleware(Compression, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    app.add_middleware(SecurityHeaders, basemap_style=settings.basemap_style)
    app.add_middleware(AccessLog)
    # last: the page (and the docs' assets) take whatever path no API route claims
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static")
    return app


def serve(
    cadastre_path: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    *,
    log_level: str = "info",
) -> None:
    """Serve a cadastre with uvicorn until interrupted.

    The settings are checked here, before any worker starts, so a wrong path stops the
    command with a clear message. Workers are separate processes: each opens the
    cadastre, builds its own address search index in a thread once it serves, and
    watches the file (:mod:`app.swap`). The first opening of a cadastre file hashes it
    to check it (seconds for a territory); later ones read the note it left beside it
    (:func:`app.dependencies.verify_once`).

    Logs are JSON lines on standard error, one access line per request
    (:mod:`app.logs`). The HTTP protocol caps request headers and the time to send them
    (:mod:`app.protocol`); an idle keep-alive connection is closed after 75 s, longer
    than a reverse proxy or a browser keeps one, so that the client closes it first.

    Parameters
    ----------
    cadastre_path : path-like
        The cadastre GeoPackage.
    host, port : str, int
        Where to listen; the default is loopback only.
    workers : int
        uvicorn worker processes; one per core.
    log_level : str
        The log level of the app and of uvicorn.

    Raises
    ------
    pydantic.ValidationError
        When ``cadastre_path`` is not a readable cadastre, or another ``CADASTRE_*``
        variable is invalid.
    """
    import uvicorn

    from app.logs import log_config
    from app.protocol import BoundedHttpToolsProtocol

    Settings(path=Path(cadastre_path))
    os.environ["CADASTRE_PATH"] = str(Path(cadastre_path).resolve())
    # glibc gives each thread that allocates its own arena, which keeps its freed memory:
    # with a thread pool, a worker's memory would creep up after every cadastre swap
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    get_settings.cache_clear()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=BoundedHttpToolsProtocol,
        log_config=log_config(log_level),
        log_level=log_level,
        access_log=False,
        # a server closing an idle connection as the client reuses it resets that request
        timeout_keep_alive=75,
        # after SIGTERM, requests in flight get this long to finish
        timeout_graceful_shutdown=30,
    )
