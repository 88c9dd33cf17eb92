"""Cadastre records and domain results shaped into response models: field selection,
reprojection and rounding only."""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np
import shapely
from fastapi import Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import solar
from app.geo import DECIMALS, Projector
from app.models import (
    Counts,
    Coverage,
    EconomicsOut,
    Percentiles,
    RoofCollection,
    RoofFeature,
    RoofProperties,
    SimulationResult,
    SizingOption,
    SizingOut,
    SolarWaterHeaterOut,
    TariffsUsed,
    UncertaintyOut,
)
from solar.cadastre import ADDRESS_FIELDS, Cadastre
from solar.geometry import polygonal_parts
from solar.household.loadcurves import LinkyCurve
from solar.household.project import ProjectResult
from solar.household.sizing import SizingResult
from solar.household.uncertainty import Band

M = TypeVar("M", bound=BaseModel)


GEOJSON_MEDIA_TYPE = "application/geo+json"
"""RFC 7946's media type, for the FeatureCollections of the API."""


class GeoJSONResponse(JSONResponse):
    """A GeoJSON body, under RFC 7946's media type; as a route's ``response_class`` it
    puts that media type, with the route's model, in the OpenAPI.

    A body already serialised (a ``str``) is sent as it is.
    """

    media_type = GEOJSON_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return content.encode() if isinstance(content, str) else super().render(content)


def geojson_response(model: BaseModel) -> Response:
    """A validated GeoJSON model as an ``application/geo+json`` response (see
    :func:`json_response`)."""
    return GeoJSONResponse(model.model_dump_json())


def valid_geojson(projector: Projector, geometries: list[shapely.Geometry]) -> list[dict[str, Any]]:
    """RFC 7946 geometries that are valid OGC polygons, whatever the cadastre holds.

    A face outline traced on pixels can touch itself, and rounding to 7 decimals of a
    degree can fold a ring: an invalid geometry is repaired (:func:`shapely.make_valid`,
    polygons only) before it is reprojected, and the output is checked again; what is
    still invalid is repaired in WGS84 and snapped to the same 7 decimals, which GEOS's
    precision reducer does without breaking validity.
    """
    source = np.asarray(geometries, dtype=object)
    invalid = ~shapely.is_valid(source)
    if invalid.any():
        source = source.copy()
        source[invalid] = polygonal_parts(shapely.make_valid(source[invalid]))
    out = projector.geojson(list(source))
    projected = np.array([shapely.geometry.shape(g) for g in out], dtype=object)
    for i in np.flatnonzero(~shapely.is_valid(projected)):
        repaired = shapely.set_precision(
            polygonal_parts(shapely.make_valid(projected[i : i + 1]))[0], 10.0**-DECIMALS
        )
        out[i] = shapely.geometry.mapping(
            shapely.orient_polygons(polygonal_parts([repaired])[0], exterior_cw=False)
        )
    return out


def json_response(model: BaseModel) -> Response:
    """A validated model as a JSON response, serialised once in Rust.

    An endpoint that returns a model makes FastAPI validate it again, in a second trip
    to the thread pool, before serialising it; the models here are built validated, so
    returning the bytes skips that. The route's ``response_model`` still documents it.
    """
    return Response(model.model_dump_json(), media_type="application/json")


def _shaped(model: type[M], record: object, /, **renamed: Any) -> M:
    """``model`` from the attributes of ``record`` that bear its field names, and from
    ``renamed`` for the others; where a response rounds, the model's field types do it.

    Nested models are read from attributes too, so a domain object can be passed as it is
    wherever its fields match.
    """
    values = {name: getattr(record, name) for name in model.model_fields.keys() - renamed.keys()}
    return model.model_validate({**values, **renamed}, from_attributes=True)


def address_records(cadastre: Cadastre, projector: Projector) -> list[dict[str, Any]]:
    """Every address of the cadastre, its columns and its WGS84 ``lon`` and ``lat``, for
    the search index."""
    rows = cadastre.addresses()
    if not rows:
        return []
    points = np.array([r.geometry for r in rows], dtype=object)
    lons, lats = projector.points_to_wgs84(shapely.get_x(points), shapely.get_y(points))
    return [
        {**{k: getattr(row, k) for k in ADDRESS_FIELDS}, "lon": lon, "lat": lat}
        for row, lon, lat in zip(rows, lons.tolist(), lats.tolist(), strict=True)
    ]


def footprint_note(check: str, shift_m: float | None) -> str | None:
    """The footprint check of a building, for residents, in French; None when ``ok``.

    Examples
    --------
    >>> footprint_note("shifted", 0.94), footprint_note("ok", None)
    ('emprise recalée de 0,9 m', None)
    >>> footprint_note("lidar_only", None)
    'bâtiment détecté par le LiDAR'
    """
    if check == "shifted" and shift_m is not None:
        return f"emprise recalée de {shift_m:.1f} m".replace(".", ",")
    return _FOOTPRINT_NOTES.get(check)


_FOOTPRINT_NOTES = {
    "absent": "bâtiment absent du relevé",
    "lidar_only": "bâtiment détecté par le LiDAR",
}


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
    geometries = valid_geojson(projector, [f.geometry for f in faces])
    return RoofCollection(
        features=[
            RoofFeature.model_validate(
                {
                    "id": face.face_id,
                    "geometry": geometry,
                    "properties": RoofProperties.model_validate(face, from_attributes=True),
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
        counts=Counts.model_validate(summary),
        provenance=cadastre.provenance(),
        api_version=solar.__version__,
    )


def _finite(value: float | None, digits: int) -> float | None:
    """Rounded, or None for a missing or non-finite value (JSON has no infinity)."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def _percentiles(band: Band, digits: int) -> Percentiles:
    return Percentiles(
        p10=_finite(band.p10, digits), p50=_finite(band.p50, digits), p90=_finite(band.p90, digits)
    )


def _sizing_option(option: SizingResult | None) -> SizingOption | None:
    if option is None:
        return None
    return _shaped(SizingOption, option, production_kwh_yr=option.production_kwh)


#: Yearly totals of the balance, each named ``<total>_yr`` in the response. [kWh]
_BALANCE_TOTALS = (
    "production_kwh",
    "consumption_kwh",
    "self_consumed_kwh",
    "self_supplied_kwh",
    "surplus_kwh",
    "grid_import_kwh",
    "battery_losses_kwh",
    "battery_stored_kwh",
)


def simulation_result(
    result: ProjectResult, *, battery_kwh: float, linky: LinkyCurve | None = None
) -> SimulationResult:
    """A project result shaped for the API: energies to 0.1 kWh, money to the cent.

    Each figure is rounded on its own, so the identities hold to 0.1 kWh in the response.
    """
    balance, money, tariffs = result.balance, result.economics, result.economics.tariffs
    period, heater, sizing = result.surplus_period, result.water_heater, result.sizing
    spread = result.uncertainty
    return _shaped(
        SimulationResult,
        result,
        battery_kwh=battery_kwh,
        **{f"{total}_yr": getattr(balance, total) for total in _BALANCE_TOTALS},
        self_consumption_rate=balance.self_consumption_rate,
        self_sufficiency_rate=balance.self_sufficiency_rate,
        monthly=balance.monthly,
        economics=_shaped(
            EconomicsOut,
            money,
            tariffs=_shaped(
                TariffsUsed,
                tariffs,
                tariff_date=tariffs.date,
                period=period.period,
                valid_from=period.valid_from,
                valid_to=period.valid_to,
                source=period.source,
            ),
            tariffs_stale=result.tariffs_stale,
            tariffs_message=result.tariffs_message,
        ),
        uncertainty=_shaped(
            UncertaintyOut,
            spread,
            production_kwh_yr=_percentiles(spread.production_kwh_yr, 1),
            annual_savings_eur=_percentiles(spread.annual_savings_eur, 2),
            payback_years=_percentiles(spread.payback_years, 2),
            self_consumption_rate=_percentiles(spread.self_consumption_rate, 4),
            consumption_sd=spread.spreads.consumption_sd,
        ),
        sizing=_shaped(
            SizingOut,
            sizing,
            best_npv=_sizing_option(sizing.best_npv),
            largest_mostly_self_consumed=_sizing_option(sizing.largest_mostly_self_consumed),
            smallest_for_self_sufficiency=_sizing_option(sizing.smallest_for_self_sufficiency),
        ),
        solar_water_heater=None
        if heater is None or result.water_heater_face_id is None
        else _shaped(
            SolarWaterHeaterOut,
            heater,
            face_id=result.water_heater_face_id,
            solar_fraction=heater.annual_solar_fraction,
        ),
        linky=linky,
        warnings=[*(linky.warnings if linky else ()), *result.warnings],
    )
