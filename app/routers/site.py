"""The residents' page's settings: its basemap, its map sources and its next-step links."""

from __future__ import annotations

from fastapi import APIRouter

from app import tiles
from app.dependencies import ServicesDep
from app.models import SiteConfig
from app.routers.tiles import router as tiles_router

router = APIRouter(prefix="/api/v1/site", tags=["site"])


@router.get("", summary="Settings of the residents' page")
def site(services: ServicesDep) -> SiteConfig:
    """The basemap style (null: none, the page works offline on its own layers); the
    TileJSON of each map source this cadastre has (null when it has none, so that the page
    never asks for a missing one); and the links to free advice (France Rénov') and to
    RGE-certified installers, from `CADASTRE_BASEMAP_STYLE`, `CADASTRE_ADVICE_URL` and
    `CADASTRE_INSTALLERS_URL`."""
    settings = services.settings
    sources = tiles.map_sources(services.cadastre.path)
    return SiteConfig(
        basemap_style=settings.basemap_style,
        advice_url=settings.advice_url,
        installers_url=settings.installers_url,
        roof_tiles=f"{tiles_router.prefix}/roofs.json" if sources.archive is not None else None,
        irradiation_tiles=f"{tiles_router.prefix}/irradiation.json" if sources.rasters else None,
    )
