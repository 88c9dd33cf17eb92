"""The FastAPI application: ``create_app`` wires settings, cadastre, routers and errors.

Run it with :func:`serve` (``cadastre serve``), or with uvicorn's factory mode:
``CADASTRE_PATH=cadastre.gpkg uvicorn --factory app.main:create_app``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import solar
from app.dependencies import Services
from app.errors import install_error_handlers
from app.routers import addresses, buildings, coverage, health, roofs, simulate
from app.settings import Settings, get_settings

STATIC_DIR = Path(__file__).parent / "static"
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

    The cadastre never changes under a running service, so one tag (file identity and
    code version) validates every API response; a matching ``If-None-Match`` gets a 304
    without touching the cadastre.
    """

    def __init__(self, app: ASGIApp, *, etag: str, max_age: int):
        self.app = app
        self.etag = etag.encode()
        self.cache_control = f"public, max-age={max_age}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"if-none-match" and self.etag in (v.strip() for v in value.split(b",")):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 304,
                        "headers": [(b"etag", self.etag), (b"cache-control", self.cache_control)],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message["headers"] = [
                    *message.get("headers", []),
                    (b"etag", self.etag),
                    (b"cache-control", self.cache_control),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _etag(path: Path) -> str:
    stat = path.stat()
    identity = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{solar.__version__}"
    return f'W/"{hashlib.sha256(identity.encode()).hexdigest()[:16]}"'


def _offline_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs from the app's own static files, not from a CDN.

    A commune's intranet, or this project's CI, may have no route to a CDN. The assets
    are served by the static mount of :func:`create_app`, under ``SWAGGER_UI``.
    """

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} – API",
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
        )


def _lifespan(
    settings: Settings,
) -> Callable[[FastAPI], AbstractAsyncContextManager[dict[str, Services]]]:
    """Open the :class:`app.dependencies.Services` at start-up, close them at shutdown.

    Both run on the event loop's thread, so the cadastre connection opened while building
    the services is the one closed.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Services]]:
        services = Services.open(settings)
        logger.info(
            "serving %s: %d buildings, %d addresses",
            settings.path,
            services.coverage.counts.buildings,
            len(services.address_index),
        )
        try:
            yield {"services": services}
        finally:
            services.close()

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
    _offline_docs(app)
    install_error_handlers(app)
    for module in (health, addresses, buildings, roofs, coverage, simulate):
        app.include_router(module.router)
    app.add_middleware(CacheHeaders, etag=_etag(settings.path), max_age=settings.cache_max_age)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
        )
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
    access_log: bool = False,
) -> None:
    """Serve a cadastre with uvicorn until interrupted.

    The settings are checked here, before any worker starts, so a wrong path stops the
    command with a clear message. Workers are separate processes: each opens the
    cadastre and builds its own address index.

    Parameters
    ----------
    cadastre_path : path-like
        The cadastre GeoPackage.
    host, port : str, int
        Where to listen; the default is loopback only.
    workers : int
        uvicorn worker processes; one per core.
    log_level : str
        uvicorn's log level.
    access_log : bool
        One log line per request; off by default, as a reverse proxy logs them already.

    Raises
    ------
    pydantic.ValidationError
        When ``cadastre_path`` is not a readable cadastre, or another ``CADASTRE_*``
        variable is invalid.
    """
    import uvicorn

    Settings(path=Path(cadastre_path))
    os.environ["CADASTRE_PATH"] = str(Path(cadastre_path).resolve())
    get_settings.cache_clear()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
    )
