"""Cadastre records shaped into response models: field selection and reprojection only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely
from fastapi import Response
from pydantic import BaseModel

import solar
from app.geo import Projector
from app.models import (
    Address,
    BuildingSolar,
    Counts,
    Coverage,
    RoofCollection,
    RoofFace,
    RoofFeature,
    RoofProperties,
)
from solar.cadastre import BUILDING_FIELDS, FACE_FIELDS, Cadastre

#: Address fields kept in memory for the search index and the /solar endpoint.
ADDRESS_KEYS = (
    "address_id",
    "label",
    "lon",
    "lat",
    "building_id",
    "numero",
    "nom_voie",
    "code_postal",
    "code_insee",
    "nom_commune",
)


def json_response(model: BaseModel) -> Response:
    """A validated model as a JSON response, serialised once in Rust.

    An endpoint that returns a model makes FastAPI validate it again, in a second trip
    to the thread pool, before serialising it; the models here are built validated, so
    returning the bytes skips that. The route's ``response_model`` still documents it.
    """
    return Response(model.model_dump_json(), media_type="application/json")


def address_records(cadastre: Cadastre, projector: Projector) -> list[dict[str, Any]]:
    """Every address of the cadastre with its WGS84 position, for the search index."""
    rows = cadastre.addresses()
    if not rows:
        return []
    points = np.asarray([r["geometry"] for r in rows], dtype=object)
    lons, lats = projector.points_to_wgs84(shapely.get_x(points), shapely.get_y(points))
    records = []
    for row, lon, lat in zip(rows, lons.tolist(), lats.tolist(), strict=True):
        record = {k: row.get(k) for k in ADDRESS_KEYS}
        record["lon"], record["lat"] = lon, lat
        records.append(record)
    return records


def address(record: Mapping[str, Any]) -> Address:
    """The full address model of an index record."""
    return Address.model_validate({k: record.get(k) for k in ADDRESS_KEYS})


def building_solar(
    cadastre: Cadastre, projector: Projector, building: Mapping[str, Any]
) -> BuildingSolar:
    """A building record with its faces, all geometry in WGS84."""
    faces = cadastre.faces(building["building_id"])
    footprint, *outlines = projector.geojson(
        [building["geometry"], *(f["geometry"] for f in faces)]
    )
    return BuildingSolar.model_validate(
        {
            **{k: building.get(k) for k in BUILDING_FIELDS},
            "footprint": footprint,
            "faces": [
                RoofFace.model_validate(
                    {
                        **{k: face.get(k) for k in FACE_FIELDS},
                        "production_monthly_kwh": face["production_monthly_kwh"],
                        "irradiation_monthly_kwh_m2": face["irradiation_monthly_kwh_m2"],
                        "geometry": outline,
                    }
                )
                for face, outline in zip(faces, outlines, strict=True)
            ],
        }
    )


def roof_collection(
    cadastre: Cadastre,
    projector: Projector,
    bbox: tuple[float, float, float, float],
    limit: int,
) -> RoofCollection:
    """The faces whose envelope meets the WGS84 ``bbox``, at most ``limit`` of them."""
    bounds = projector.bounds_from_wgs84(bbox)
    if not all(np.isfinite(bounds)):
        return RoofCollection(features=[], truncated=False)
    # one more than asked tells whether the limit cut the answer
    faces = cadastre.faces_in_bbox(bounds, limit + 1)
    truncated = len(faces) > limit
    faces = faces[:limit]
    geometries = projector.geojson([f["geometry"] for f in faces])
    return RoofCollection(
        features=[
            RoofFeature.model_validate(
                {
                    "id": face["face_id"],
                    "geometry": geometry,
                    "properties": RoofProperties.model_validate(face),
                }
            )
            for face, geometry in zip(faces, geometries, strict=True)
        ],
        truncated=truncated,
    )


def coverage(cadastre: Cadastre, projector: Projector) -> Coverage:
    """The extent, communes, counts and provenance of the cadastre."""
    summary = cadastre.summary()
    authority = projector.crs.to_authority()
    return Coverage(
        bbox=list(projector.bounds_to_wgs84(summary["extent"])),
        crs=":".join(authority) if authority else projector.crs.name,
        communes=[str(c) for c in summary["communes"]],
        counts=Counts(
            buildings=summary["buildings"],
            faces=summary["faces"],
            addresses=summary["addresses"],
            kwc=summary["kwc"],
            production_kwh_yr=summary["production_kwh_yr"],
        ),
        provenance=cadastre.provenance(),
        api_version=solar.__version__,
    )
