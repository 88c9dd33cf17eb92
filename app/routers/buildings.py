"""Buildings by id, or under a map click."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.dependencies import ServicesDep
from app.models import BuildingSolar, ErrorBody
from solar.errors import NotFound

router = APIRouter(
    prefix="/api/v1/buildings",
    tags=["buildings"],
    responses={
        404: {"model": ErrorBody, "description": "No such building."},
        422: {"model": ErrorBody, "description": "A parameter is invalid."},
    },
)


@router.get("", response_model=BuildingSolar, summary="The building under a point (map click)")
async def building_at(
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude [°], WGS84.")],
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude [°], WGS84.")],
    services: ServicesDep,
) -> Response:
    """The building whose footprint holds the point, with every roof face; else a 404."""
    # on the event loop, as the address's solar result (app.routers.addresses)
    x, y = services.projector.point_from_wgs84(lon, lat)
    projected = math.isfinite(x) and math.isfinite(y)
    building = services.cadastre.building_at(x, y) if projected else None
    if building is None:
        raise NotFound(f"no building at lon={lon}, lat={lat}")
    return services.documents.response(building.building_id)


@router.get(
    "/{building_id}", response_model=BuildingSolar, summary="A building with its roof faces"
)
async def building(
    building_id: Annotated[str, Path(max_length=200, description="The building id.")],
    services: ServicesDep,
) -> Response:
    """The building's fields, footprint and faces, each with its monthly production."""
    # on the event loop, as the address's solar result (app.routers.addresses)
    return services.documents.response(building_id)
