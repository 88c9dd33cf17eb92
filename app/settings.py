"""Service settings: one class, read from ``CADASTRE_*`` variables, checked at start-up."""

from __future__ import annotations

import os
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.communes.store import check_url, default_store
from solar.cadastre import Cadastre
from solar.errors import InputError


class Settings(BaseSettings):
    """What the service needs to start; a bad value stops it at start-up with a clear message.

    Every field is read from the environment variable of the same name in capitals,
    prefixed with ``CADASTRE_`` (``CADASTRE_PATH``, ``CADASTRE_MAX_BBOX_DEG``, …).
    """

    model_config = SettingsConfigDict(env_prefix="CADASTRE_", frozen=True)

    path: Path = Field(description="The cadastre GeoPackage to serve (CADASTRE_PATH).")
    max_bbox_deg: float = Field(
        default=0.05,
        gt=0.0,
        le=1.0,
        description="Largest side of a /api/v1/roofs bbox [°]: 0.05° is about 5.5 km by "
        "3.5 km at 50° N, a few thousand roof faces in a dense town.",
    )
    upload_limit_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        description="Largest uploaded file (a Linky export) [bytes]; larger ones get a 413.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser, comma-separated; "
        "empty allows none but the service's own page.",
    )
    cache_max_age: int = Field(
        default=300,
        ge=0,
        description="Cache-Control max-age of API responses [s]: after a new cadastre is "
        "swapped in, browsers may show the old answers for this long.",
    )
    watch_interval_s: float = Field(
        default=5.0,
        gt=0.0,
        le=15.0,
        description="How often the service checks whether its cadastre file was replaced "
        "[s]; SIGHUP checks at once.",
    )
    rate_limit: int = Field(
        default=100,
        ge=0,
        description="Requests per second a client (an IP address) may send to each worker "
        "process, over a moving one-second window; 0 turns the limit off. The map page "
        "asks for a few dozen tiles at most when it moves.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-For names the client, comma-separated; empty trusts none.",
    )
    request_timeout_s: float = Field(
        default=60.0,
        gt=0.0,
        description="Longest time a request may take, its body included [s]: 408 when the "
        "body is still arriving, else 503.",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0.0,
        description="Longest time a connection may take to send a request's line and "
        "headers [s]; a slower client is disconnected.",
    )
    header_limit_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="Largest request line and headers together [bytes]; larger gets 431.",
    )
    json_limit_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body that is not an upload [bytes]; larger gets 413.",
    )
    heavy_workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Simulations run at once in a worker process; more wait their turn, so "
        "that they cannot starve the look-ups.",
    )
    parse_processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes of each worker that parse uploaded Linky files, one file "
        "each at a time; more wait their turn.",
    )
    db: str | None = Field(
        default=None,
        description="The communes' store (portfolios, keys, journal, report jobs): a SQLite "
        "file path, or a postgresql+psycopg:// URL for several servers (CADASTRE_DB). By "
        "default a SQLite file beside the cadastre, named after it (X.communes.sqlite).",
    )
    import_limit_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest portfolio import file (CSV or XLSX) [bytes]; larger ones get a 413.",
    )
    basemap_style: str | None = Field(
        default=None,
        description="MapLibre style URL of the page's basemap (for example IGN's Plan IGN "
        "vector style); none by default: the page draws its own layers only, offline.",
    )
    advice_url: str = Field(
        default="https://france-renov.gouv.fr/preparer-projet/trouver-conseiller",
        description="The page's link to free, independent advice: the France Rénov' service "
        "of the territory (by default the national search for the nearest one).",
    )
    installers_url: str = Field(
        default="https://france-renov.gouv.fr/annuaire-rge",
        description="The page's link to find RGE-certified installers (by default France "
        "Rénov's directory).",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        for proxy in value:
            try:
                ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network") from None
        return value

    @field_validator("basemap_style", mode="before")
    @classmethod
    def _blank_basemap_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("basemap_style", "advice_url", "installers_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("path")
    @classmethod
    def _readable_cadastre(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"no file at {value} (set CADASTRE_PATH to a cadastre .gpkg)")
        if not os.access(value, os.R_OK):
            raise ValueError(f"{value} is not readable by this user")
        try:
            Cadastre(value).close()
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("db")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_url(value)
            except InputError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def store_db(self) -> str:
        """The communes' store: ``db``, or the SQLite file beside the cadastre."""
        return self.db or str(default_store(self.path))


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, read once; tests call ``get_settings.cache_clear()``."""
    return Settings()  # type: ignore[call-arg]  # path comes from CADASTRE_PATH
