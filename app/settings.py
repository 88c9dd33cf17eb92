"""Service settings: one class, read from ``CADASTRE_*`` variables, checked at start-up."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
        default=3600,
        ge=0,
        description="Cache-Control max-age of API responses [s]: the cadastre is read-only.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
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


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, read once; tests call ``get_settings.cache_clear()``."""
    return Settings()  # type: ignore[call-arg]  # path comes from CADASTRE_PATH
