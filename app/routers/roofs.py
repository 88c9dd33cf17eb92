"""Roof faces in a map view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app import views
from app.dependencies import BBoxDep, ServicesDep
from app.models import ErrorBody, RoofCollection

router = APIRouter(
    prefix="/api/v1/roofs",
    tags=["roofs"],
    responses={422: {"model": ErrorBody, "description": "A parameter is invalid."}},
)

#: Most faces in one answer: about 1.5 MB of GeoJSON, what a browser draws without stalling.
MAX_ROOFS = 5000


@router.get(
    "",
    response_model=RoofCollection,
    response_class=views.GeoJSONResponse,
    # errors stay application/json: documented as such, not under the route's media type
    responses={
        422: {
            "description": "A parameter is invalid.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }
    },
    summary="Roof faces in a box (GeoJSON)",
)
def roofs(
    bbox: BBoxDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_ROOFS, description="Most faces returned.")] = 1000,
) -> Response:
    """An RFC 7946 FeatureCollection of the faces in the box, with suitability,
    irradiation and kWc; `truncated` says whether the limit cut it."""
    return views.geojson_response(
        views.roof_collection(services.cadastre, services.projector, bbox.as_tuple(), limit)
    )
