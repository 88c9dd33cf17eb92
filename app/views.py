"""Cadastre records and domain results shaped into response models: field selection,
reprojection and rounding only."""

from __future__ import annotations

import functools
import math
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
    EconomicsOut,
    LinkyCurveInfo,
    MonthlyEnergy,
    Percentiles,
    RoofCollection,
    RoofFace,
    RoofFeature,
    RoofProperties,
    SimulationResult,
    SizingOption,
    SizingOut,
    SolarWaterHeaterOut,
    TariffsUsed,
    UncertaintyOut,
)
from solar.cadastre import BUILDING_FIELDS, FACE_FIELDS, BuildingRecord, Cadastre
from solar.household.loadcurves import LinkyCurve
from solar.household.project import ProjectResult
from solar.household.selfconsumption import SizingResult
from solar.household.uncertainty import Band

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
    points = np.array([r.geometry for r in rows], dtype=object)
    lons, lats = projector.points_to_wgs84(shapely.get_x(points), shapely.get_y(points))
    records = []
    for row, lon, lat in zip(rows, lons.tolist(), lats.tolist(), strict=True):
        record: dict[str, Any] = {k: getattr(row, k) for k in ADDRESS_KEYS if hasattr(row, k)}
        record["lon"], record["lat"] = lon, lat
        records.append(record)
    return records


def address(record: Mapping[str, Any]) -> Address:
    """The full address model of an index record."""
    return Address.model_validate({k: record.get(k) for k in ADDRESS_KEYS})


class BuildingDocuments:
    """Each building's JSON document, rendered once and kept.

    The cadastre does not change under a running service, so a building's document (its
    fields, footprint and faces, reprojected) is the same at every request. Rendering it
    costs about half a millisecond of the service's CPU; a cached one costs a dictionary
    look-up. The least recently used documents go first past ``maxsize``.

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

    def _render(self, building_id: str) -> str:
        building = self.cadastre.building(building_id)  # NotFound is not cached
        return building_solar(self.cadastre, self.projector, building).model_dump_json()

    def response(self, building_id: str) -> Response:
        """The building's document as a JSON response."""
        return Response(self.get(building_id), media_type="application/json")

    def address_response(self, address: Address, building_id: str) -> Response:
        """An :class:`app.models.AddressSolar` document, around the cached building."""
        body = f'{{"address":{address.model_dump_json()},"building":{self.get(building_id)}}}'
        return Response(body, media_type="application/json")


def building_solar(
    cadastre: Cadastre, projector: Projector, building: BuildingRecord
) -> BuildingSolar:
    """A building record with its faces, all geometry in WGS84."""
    faces = cadastre.faces(building.building_id)
    footprint, *outlines = projector.geojson([building.geometry, *(f.geometry for f in faces)])
    return BuildingSolar.model_validate(
        {
            **{k: getattr(building, k) for k in BUILDING_FIELDS},
            "footprint": footprint,
            "faces": [
                RoofFace.model_validate(
                    {
                        **{k: getattr(face, k) for k in FACE_FIELDS},
                        "production_monthly_kwh": face.production_monthly_kwh,
                        "irradiation_monthly_kwh_m2": face.irradiation_monthly_kwh_m2,
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
    geometries = projector.geojson([f.geometry for f in faces])
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


def _round(value: float, digits: int) -> float:
    return round(float(value), digits)


def _finite(value: float | None, digits: int) -> float | None:
    """Rounded, or None for a missing or non-finite value (JSON has no infinity)."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def _percentiles(band: Band, digits: int) -> Percentiles:
    return Percentiles(
        p10=_finite(band.p10, digits), p50=_finite(band.p50, digits), p90=_finite(band.p90, digits)
    )


def _sizing_option(option: SizingResult) -> SizingOption:
    return SizingOption(
        n_modules=option.n_modules,
        kwc=_round(option.kwc, 3),
        production_kwh_yr=_round(option.production_kwh, 1),
        self_consumption_rate=_round(option.self_consumption_rate, 4),
        self_sufficiency_rate=_round(option.self_sufficiency_rate, 4),
        npv_eur=_finite(option.npv_eur, 2),
    )


def simulation_result(
    result: ProjectResult, *, battery_kwh: float, linky: LinkyCurve | None = None
) -> SimulationResult:
    """A project result shaped for the API: energies to 0.1 kWh, money to the cent.

    Each figure is rounded on its own, so the identities hold to 0.1 kWh in the response.
    """
    balance, money, tariffs = result.balance, result.economics, result.economics.tariffs
    period = result.surplus_period
    heater, sizing = result.water_heater, result.sizing
    return SimulationResult(
        building_id=result.building_id,
        face_ids=list(result.face_ids),
        modules_per_face=dict(result.modules_per_face),
        n_modules=result.n_modules,
        kwc=_round(result.kwc, 3),
        module_kwc=_round(result.module_kwc, 4),
        battery_kwh=battery_kwh,
        production_kwh_yr=_round(balance.production_kwh, 1),
        consumption_kwh_yr=_round(balance.consumption_kwh, 1),
        self_consumed_kwh_yr=_round(balance.self_consumed_kwh, 1),
        self_supplied_kwh_yr=_round(balance.self_supplied_kwh, 1),
        surplus_kwh_yr=_round(balance.surplus_kwh, 1),
        grid_import_kwh_yr=_round(balance.grid_import_kwh, 1),
        battery_losses_kwh_yr=_round(balance.battery_losses_kwh, 1),
        battery_stored_kwh_yr=_round(balance.battery_stored_kwh, 1),
        self_consumption_rate=_round(balance.self_consumption_rate, 4),
        self_sufficiency_rate=_round(balance.self_sufficiency_rate, 4),
        monthly=[
            MonthlyEnergy(
                month=m.month,
                production_kwh=_round(m.production_kwh, 1),
                consumption_kwh=_round(m.consumption_kwh, 1),
                self_consumed_kwh=_round(m.self_consumed_kwh, 1),
                self_supplied_kwh=_round(m.self_supplied_kwh, 1),
                surplus_kwh=_round(m.surplus_kwh, 1),
                grid_import_kwh=_round(m.grid_import_kwh, 1),
            )
            for m in balance.monthly
        ],
        economics=EconomicsOut(
            capex_eur=_round(money.capex_eur, 2),
            prime_eur=_round(money.prime_eur, 2),
            annual_savings_eur=_round(money.annual_savings_eur, 2),
            surplus_revenue_eur_yr=_round(money.surplus_revenue_eur_yr, 2),
            payback_years=_finite(money.payback_years, 2),
            npv_eur=_round(money.npv_eur, 2),
            irr=_finite(money.irr, 4),
            lcoe_eur_kwh=_finite(money.lcoe_eur_kwh, 4),
            co2_avoided_kg_yr=_round(money.co2_avoided_kg_yr, 1),
            years=money.years,
            discount_rate=money.discount_rate,
            tariffs=TariffsUsed(
                tariff_date=tariffs.date,
                period=period.period,
                valid_from=period.valid_from,
                valid_to=period.valid_to,
                source=period.source,
                sources=list(tariffs.sources),
                band_max_kwc=tariffs.band_max_kwc,
                surplus_eur_kwh=tariffs.surplus_eur_kwh,
                prime_eur_kwc=tariffs.prime_eur_kwc,
                electricity_eur_kwh=tariffs.electricity_eur_kwh,
                electricity_drift=tariffs.electricity_drift,
                vat_rate=tariffs.vat_rate,
                stale=list(tariffs.stale),
            ),
            tariffs_stale=result.tariffs_stale,
            tariffs_message=result.tariffs_message,
        ),
        uncertainty=UncertaintyOut(
            production_kwh_yr=_percentiles(result.uncertainty.production_kwh_yr, 1),
            annual_savings_eur=_percentiles(result.uncertainty.annual_savings_eur, 2),
            payback_years=_percentiles(result.uncertainty.payback_years, 2),
            self_consumption_rate=_percentiles(result.uncertainty.self_consumption_rate, 4),
            n_samples=result.uncertainty.n_samples,
            seed=result.uncertainty.seed,
            consumption_sd=result.uncertainty.spreads.consumption_sd,
        ),
        sizing=SizingOut(
            best_npv=_sizing_option(sizing.best_npv),
            largest_mostly_self_consumed=None
            if sizing.largest_mostly_self_consumed is None
            else _sizing_option(sizing.largest_mostly_self_consumed),
            smallest_for_self_sufficiency=None
            if sizing.smallest_for_self_sufficiency is None
            else _sizing_option(sizing.smallest_for_self_sufficiency),
            self_consumption_target=sizing.self_consumption_target,
            self_sufficiency_target=sizing.self_sufficiency_target,
        ),
        solar_water_heater=None
        if heater is None or result.water_heater_face_id is None
        else SolarWaterHeaterOut(
            face_id=result.water_heater_face_id,
            persons=heater.persons,
            collector_area_m2=_round(heater.collector_area_m2, 2),
            tank_l=_round(heater.tank_l, 0),
            solar_fraction=_round(heater.annual_solar_fraction, 4),
            heat_saved_kwh_yr=_round(heater.heat_saved_kwh_yr, 1),
            annual_load_kwh=_round(heater.annual_load_kwh, 1),
            monthly_solar_fraction=[_round(f, 4) for f in heater.monthly_solar_fraction],
        ),
        linky=None
        if linky is None
        else LinkyCurveInfo(
            measured_hours=linky.measured_hours,
            filled_hours=linky.filled_hours,
            measured_kwh=_round(linky.measured_kwh, 1),
            step_minutes=linky.step_minutes,
            unit=linky.unit,
            start=linky.start,
            end=linky.end,
        ),
        warnings=[*(linky.warnings if linky else ()), *result.warnings],
    )
