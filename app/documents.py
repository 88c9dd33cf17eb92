"""Each building's JSON document (:class:`app.models.BuildingSolar`), written straight to
text, the cache that keeps the recent ones, and the ASGI layer that serves them.

A resident's request reads one building of 300,000: no cache can hold the territory, so
the document is rendered at nearly every request, and rendering is the request's cost.
Validating the models and serialising their coordinate lists, then round-tripping each
outline through GeoJSON dictionaries to check it, took twice the time of what is done
here: the footprint, the faces and the centre are reprojected in one pyproj call,
checked once and written by GEOS in one vectorised call each (:func:`geojson_texts`),
and the figures go through one :func:`pydantic_core.to_json`. :class:`DocumentRoutes`
answers the two routes that send them without FastAPI's routing. The routes still
declare the models as their ``response_model``, so the OpenAPI documents what is sent,
and the tests check every document against the models.
"""

from __future__ import annotations

import functools
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pydantic_core
import shapely
from fastapi import Response
from pydantic import BaseModel
from starlette._utils import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from app.geo import DECIMALS, Projector
from app.models import Address, BuildingSolar, Dwelling, RoofFace
from app.views import footprint_note
from solar import dwellings, suitability
from solar.cadastre import BuildingRecord, Cadastre, FaceRecord
from solar.errors import CadastreError
from solar.geometry import polygonal_parts

if TYPE_CHECKING:
    # app.dependencies imports this module, to build the services' cache of documents
    from app.dependencies import Services

#: Marks where a geometry goes in the figures' JSON: NUL never occurs in a figure.
_SLOT = "\x00{}\x00"
_SLOT_JSON = re.compile(r'"\\u0000(\d+)\\u0000"')


def geojson_texts(projector: Projector, geometries: Sequence[shapely.Geometry]) -> list[str]:
    """RFC 7946 GeoJSON texts of polygonal geometries, valid in WGS84 as OGC polygons.

    The same output as :func:`app.views.valid_geojson` (its docstring says why each
    repair is needed) for every geometry that is valid in the cadastre, vectorised: one
    pyproj call for every vertex, validity checked and GeoJSON written by GEOS.
    """
    texts, _ = _geojson_and_points(projector, geometries, np.empty((0, 2)))
    return texts


def _geojson_and_points(
    projector: Projector, geometries: Sequence[shapely.Geometry], points: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """:func:`geojson_texts` of ``geometries``, and ``points`` (n, 2) in WGS84, all
    reprojected in one pyproj call (a call costs as much as a few dozen vertices).

    Validity is checked once, after reprojection: a build writes valid outlines, and
    rounding to :data:`app.geo.DECIMALS` is what can fold a ring (0.5% of the faces of
    a territory). Only a geometry invalid there takes the path of
    :func:`app.views.valid_geojson`, which repairs an invalid source before reprojecting
    it, then the reprojected outline. An invalid source that rounding happens to make
    valid is written as it is: valid, as every geometry written.
    """
    source = np.asarray(geometries, dtype=object)
    coordinates = shapely.get_coordinates(source)
    xy = np.concatenate([coordinates, points])
    lon, lat = projector.points_to_wgs84(xy[:, 0], xy[:, 1])
    wgs84 = np.column_stack((lon, lat))
    projected = shapely.set_coordinates(source.copy(), wgs84[: len(coordinates)])
    projected = shapely.orient_polygons(projected, exterior_cw=False)
    invalid = np.flatnonzero(~shapely.is_valid(projected))
    if invalid.size:
        projected[invalid] = _repaired(projector, source[invalid])
    texts: list[str] = shapely.to_geojson(projected).tolist()
    return texts, wgs84[len(coordinates) :]


def _repaired(projector: Projector, source: np.ndarray) -> np.ndarray:
    """Geometries in WGS84 that are valid OGC polygons, as :func:`app.views.valid_geojson`
    makes them: an invalid source repaired, then reprojected, then what is still invalid
    repaired in WGS84 and snapped to :data:`app.geo.DECIMALS`."""
    invalid = ~shapely.is_valid(source)
    if invalid.any():
        source = source.copy()
        source[invalid] = polygonal_parts(shapely.make_valid(source[invalid]))

    def to_wgs84(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(projector.points_to_wgs84(xy[:, 0], xy[:, 1]))

    projected = shapely.orient_polygons(shapely.transform(source, to_wgs84), exterior_cw=False)
    for i in np.flatnonzero(~shapely.is_valid(projected)):
        repaired = shapely.set_precision(
            polygonal_parts(shapely.make_valid(projected[i : i + 1]))[0], 10.0**-DECIMALS
        )
        projected[i] = shapely.orient_polygons(polygonal_parts([repaired])[0], exterior_cw=False)
    return projected


def _finite(value: Any) -> float | None:
    # JSON has no NaN or infinity; the models write them as null too
    return float(value) if value is not None and math.isfinite(value) else None


def _conversion(annotation: Any) -> Callable[[Any], Any]:
    """What the model's validation does to a value of a field of this type, for the
    scalar types of the documents."""
    kinds = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else ()
    kinds = kinds or (annotation,)
    if float in kinds:
        return _finite
    if bool in kinds:
        return lambda value: value if value is None else bool(value)
    if int in kinds:
        return lambda value: value if value is None else int(value)
    return lambda value: value


def _fields(model: type[BaseModel]) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """The model's fields in its order, each with the conversion of its values."""
    return tuple((name, _conversion(f.annotation)) for name, f in model.model_fields.items())


_BUILDING_FIELDS = _fields(BuildingSolar)
_FACE_FIELDS = _fields(RoofFace)


def _values(
    fields: Iterable[tuple[str, Callable[[Any], Any]]], record: object, given: dict[str, Any]
) -> dict[str, Any]:
    """The model's fields, in its order: ``given`` ones as they are, the others read from
    ``record``'s attributes and converted."""
    return {
        name: given[name] if name in given else convert(getattr(record, name))
        for name, convert in fields
    }


def _monthly(values: Iterable[float]) -> list[float]:
    return [float(v) for v in values]


def building_document(cadastre: Cadastre, projector: Projector, building: BuildingRecord) -> str:
    """The :class:`app.models.BuildingSolar` JSON of a building, all geometry in WGS84.

    Parameters
    ----------
    cadastre : Cadastre
    projector : Projector
    building : BuildingRecord

    Returns
    -------
    str
        The document, as the model would serialise it.
    """
    faces = cadastre.faces(building.building_id)
    geometries, (centre,) = _geojson_and_points(
        projector,
        [building.geometry, *(f.geometry for f in faces)],
        shapely.get_coordinates(shapely.centroid(building.geometry)),
    )
    # the faces the building's totals count, so that the months add up to its year
    counted = [f for f in faces if f.panels > 0 and f.suitability in suitability.WORTH_EQUIPPING]
    monthly = np.sum([f.production_monthly_kwh for f in counted], axis=0) if counted else [0] * 12
    document = _values(
        _BUILDING_FIELDS,
        building,
        {
            "suitability_label": suitability.label(building.suitability),
            "centre": centre.tolist(),
            "bbox": list(projector.bounds_to_wgs84(tuple(building.geometry.bounds))),
            "production_monthly_kwh": [round(float(m), 2) for m in monthly],
            "footprint_note": footprint_note(building.footprint_check, building.footprint_shift_m),
            "footprint": _SLOT.format(0),
            "faces": [_face(face, k + 1) for k, face in enumerate(faces)],
        },
    )
    # pydantic's own JSON writer, which the models use: a third of the time of json.dumps
    text = pydantic_core.to_json(document).decode()
    return _SLOT_JSON.sub(lambda slot: geometries[int(slot[1])], text)


def _face(face: FaceRecord, slot: int) -> dict[str, Any]:
    return _values(
        _FACE_FIELDS,
        face,
        {
            "suitability_label": suitability.label(face.suitability),
            "orientation": suitability.orientation_words(face.azimuth_deg, face.is_flat),
            "production_monthly_kwh": _monthly(face.production_monthly_kwh),
            "irradiation_monthly_kwh_m2": _monthly(face.irradiation_monthly_kwh_m2),
            "geometry": _SLOT.format(slot),
        },
    )


class BuildingDocuments:
    """Each building's JSON document, rendered once and kept.

    The cadastre does not change under a running service, so a building's document (its
    fields, footprint and faces, reprojected) is the same at every request. Rendering it
    costs under a millisecond of the service's CPU; a cached one costs a
    dictionary look-up. The least recently used documents go first past ``maxsize``.

    Parameters
    ----------
    cadastre : Cadastre
    projector : Projector
    maxsize : int
        Documents kept: 4,096 take about 20 MB.
    """

    def __init__(self, cadastre: Cadastre, projector: Projector, maxsize: int = 4096):
        self.cadastre = cadastre
        self.projector = projector
        self.get = functools.lru_cache(maxsize=maxsize)(self._render)
        self.dwelling = functools.lru_cache(maxsize=maxsize)(self._dwelling)

    def _render(self, building_id: str) -> str:
        building = self.cadastre.building(building_id)  # NotFound is not cached
        return building_document(self.cadastre, self.projector, building)

    def response(self, building_id: str) -> Response:
        """The building's document as a JSON response."""
        return Response(self.get(building_id), media_type="application/json")

    def address_response(self, address: Address, building_id: str) -> Response:
        """An :class:`app.models.AddressSolar` document as a JSON response."""
        return Response(self.address_body(address, building_id), media_type="application/json")

    def address_body(self, address: Address, building_id: str) -> str:
        """An :class:`app.models.AddressSolar` document, around the cached building."""
        part = address.part_id
        dwelling = "null" if part is None else self.dwelling(building_id, part)
        return (
            f'{{"address":{address.model_dump_json()},"building":{self.get(building_id)},'
            f'"dwelling":{dwelling}}}'
        )

    def _dwelling(self, building_id: str, part_id: str) -> str:
        faces = self.cadastre.faces(building_id)
        own = [f.face_id for f in faces if f.part_id == part_id]
        counted = dwellings.equipped_faces(faces, part_id)
        monthly = np.sum([f.production_monthly_kwh for f in counted], axis=0) if counted else None
        return Dwelling(
            part_id=part_id,
            face_ids=own,
            panels=sum(f.panels for f in counted),
            kwc=round(sum(f.kwc for f in counted), 3),
            production_kwh_yr=round(sum(f.production_kwh_yr for f in counted), 1),
            production_monthly_kwh=[0.0] * 12
            if monthly is None
            else [round(float(m), 2) for m in monthly],
        ).model_dump_json()


#: The paths :class:`DocumentRoutes` answers, and the longest id their routes accept.
ADDRESS_SOLAR = re.compile(r"/api/v1/addresses/([^/]+)/solar")
BUILDING = re.compile(r"/api/v1/buildings/([^/]+)")
MAX_ID_LENGTH = 200


class DocumentRoutes:
    """``GET /api/v1/addresses/{id}/solar`` and ``GET /api/v1/buildings/{id}``, answered
    before FastAPI's routing when the id is found.

    These are what residents ask, one building of 300,000 each time. FastAPI's routing,
    its dependency solving and its request and response objects took 45% of the CPU of
    such a request when its document was cached (profiled in process), a tenth when it
    was rendered. This ASGI layer, innermost, sends the very body and headers of the
    routes (:mod:`app.routers.addresses`, :mod:`app.routers.buildings`), which stay the
    API's documented routes. Whatever it does not answer goes on to them: another
    method, an id longer than they accept (their 422), an unknown id (their 404).
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = scope.get("state", {}).get("services") if scope["type"] == "http" else None
        body = None if services is None or scope["method"] != "GET" else _answer(services, scope)
        if body is None:
            await self.app(scope, receive, send)
            return
        content = body.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                # as starlette.responses.Response writes them
                "headers": [
                    (b"content-length", str(len(content)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _answer(services: Services, scope: Scope) -> str | None:
    """The document of a found address or building, None for anything else."""
    path = get_route_path(scope)
    try:
        if match := ADDRESS_SOLAR.fullmatch(path):
            if len(match[1]) > MAX_ID_LENGTH:
                return None
            address, building_id = services.address(match[1])
            return services.documents.address_body(address, building_id)
        if (match := BUILDING.fullmatch(path)) and len(match[1]) <= MAX_ID_LENGTH:
            return services.documents.get(match[1])
    except CadastreError:
        # the route raises it again, and the app's handlers answer it
        return None
    return None
