"""Shared state of the app, as ``Annotated`` dependencies.

They are ``async def`` on purpose: they only read ``app.state``, so running them on the
event loop avoids a thread-pool round trip per dependency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from app.geo import Projector
from app.models import Coverage
from app.settings import Settings
from app.views import BuildingDocuments
from solar.addresses import AddressIndex
from solar.cadastre import Cadastre
from solar.errors import InputError
from solar.household.project import Site


async def get_cadastre(request: Request) -> Cadastre:
    """The cadastre opened at start-up (one SQLite connection per thread)."""
    cadastre: Cadastre = request.app.state.cadastre
    return cadastre


async def get_address_index(request: Request) -> AddressIndex:
    """The in-memory address search index built at start-up."""
    index: AddressIndex = request.app.state.address_index
    return index


async def get_projector(request: Request) -> Projector:
    """Reprojection between the cadastre's CRS and WGS84."""
    projector: Projector = request.app.state.projector
    return projector


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_coverage(request: Request) -> Coverage:
    """The coverage summary computed at start-up."""
    coverage: Coverage = request.app.state.coverage
    return coverage


async def get_site(request: Request) -> Site:
    """Tariffs and climate of the cadastre, read at start-up for the simulations."""
    site: Site = request.app.state.site
    return site


async def get_documents(request: Request) -> BuildingDocuments:
    """The cache of rendered building documents."""
    documents: BuildingDocuments = request.app.state.documents
    return documents


CadastreDep = Annotated[Cadastre, Depends(get_cadastre)]
DocumentsDep = Annotated[BuildingDocuments, Depends(get_documents)]
AddressIndexDep = Annotated[AddressIndex, Depends(get_address_index)]
ProjectorDep = Annotated[Projector, Depends(get_projector)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
CoverageDep = Annotated[Coverage, Depends(get_coverage)]
SiteDep = Annotated[Site, Depends(get_site)]


@dataclass(frozen=True)
class BBox:
    """A WGS84 box. [°]"""

    minlon: float
    minlat: float
    maxlon: float
    maxlat: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.minlon, self.minlat, self.maxlon, self.maxlat)


BBOX_DESCRIPTION = (
    "minlon,minlat,maxlon,maxlat in WGS84 degrees, min ≤ max, at most CADASTRE_MAX_BBOX_DEG "
    "(0.05° by default) on a side."
)


async def bbox_query(
    bbox: Annotated[
        str,
        Query(
            description=BBOX_DESCRIPTION,
            max_length=200,
            examples=["2.8200,50.4250,2.8350,50.4350"],
        ),
    ],
    settings: SettingsDep,
) -> BBox:
    """Parse and check the ``bbox`` query parameter; every failure names ``bbox``."""
    parts = bbox.split(",")
    if len(parts) != 4:
        raise InputError(
            f"expected 4 comma-separated numbers minlon,minlat,maxlon,maxlat, got {len(parts)}",
            source="bbox",
        )
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(
            "expected 4 comma-separated numbers minlon,minlat,maxlon,maxlat", source="bbox"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise InputError("coordinates must be finite numbers", source="bbox")
    box = BBox(*values)
    if not (-180 <= box.minlon <= 180 and -180 <= box.maxlon <= 180):
        raise InputError("longitudes must lie in [-180, 180]", source="bbox")
    if not (-90 <= box.minlat <= 90 and -90 <= box.maxlat <= 90):
        raise InputError("latitudes must lie in [-90, 90]", source="bbox")
    if box.minlon > box.maxlon or box.minlat > box.maxlat:
        raise InputError("min must not exceed max (minlon,minlat,maxlon,maxlat)", source="bbox")
    side = max(box.maxlon - box.minlon, box.maxlat - box.minlat)
    if side > settings.max_bbox_deg:
        raise InputError(
            f"too large: {side:.4g}° on a side, at most {settings.max_bbox_deg:g}°; zoom in",
            source="bbox",
        )
    return box


BBoxDep = Annotated[BBox, Depends(bbox_query)]
