"""Simulate a project for a household: self-consumption, economics, uncertainty, sizing.

Both endpoints run :func:`solar.household.project.simulate_project`; they differ in where the
load comes from: an Enedis standard profile described in JSON, or the resident's own
Linky export uploaded as a file, read by :func:`app.uploads.read_form` (in memory, under a
hard cap, never stored, never logged).
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from app import views
from app.dependencies import Services, ServicesDep
from app.models import ErrorBody, LinkyForm, ProjectIn, SimulationRequest, SimulationResult
from app.uploads import form_errors, read_form
from solar.errors import InputError
from solar.household.loadcurves import HouseholdOptions, LinkyCurve, read_linky, standard_profile
from solar.household.project import simulate_project
from solar.household.uncertainty import Spreads

router = APIRouter(
    prefix="/api/v1/simulate",
    tags=["simulate"],
    responses={
        400: {"model": ErrorBody, "description": "The body cannot be parsed."},
        404: {
            "model": ErrorBody,
            "description": "Unknown building or address (`code` not_found), or no building "
            "under the address (`code` no_building_at_address).",
        },
        422: {
            "model": ErrorBody,
            "description": "A field is invalid; the message names it (and the line of a "
            "Linky file).",
        },
    },
)


def _building_id(services: Services, project: ProjectIn) -> str:
    """The building of ``building_id``, or the one under ``address_id``."""
    if (project.building_id is None) == (project.address_id is None):
        raise InputError("give exactly one of building_id and address_id", source="building_id")
    if project.building_id is not None:
        return project.building_id
    _, building_id = services.address(str(project.address_id))
    return building_id


def _simulate(
    services: Services,
    project: ProjectIn,
    load: np.ndarray,
    *,
    spreads: Spreads,
    linky: LinkyCurve | None = None,
) -> Response:
    result = simulate_project(
        services.cadastre,
        _building_id(services, project),
        load,
        site=services.site,
        face_ids=project.face_ids,
        n_modules=project.n_modules,
        kwc=project.kwc,
        battery_kwh=project.battery_kwh,
        tariff_date=project.tariff_date,
        years=project.years,
        persons=project.persons,
        spreads=spreads,
    )
    return views.json_response(
        views.simulation_result(result, battery_kwh=project.battery_kwh, linky=linky)
    )


@router.post(
    "",
    response_model=SimulationResult,
    summary="Simulate a project with a standard load profile",
)
def simulate(body: SimulationRequest, services: ServicesDep) -> Response:
    """A year of the roof's production against the household's consumption, hour by
    hour, and what it is worth.

    Give `building_id` or `address_id`. By default: every module of the faces worth
    equipping, 4,500 kWh/yr on the Enedis RES1 profile, no battery, the tariffs of today,
    20 years. `n_modules` or `kwc` fills the best faces first.
    """
    consumption = body.consumption
    load = standard_profile(
        consumption.profile,
        consumption.annual_kwh,
        HouseholdOptions(**consumption.options.model_dump()),
    )
    return _simulate(services, body, load, spreads=Spreads())


def _read_curve(data: bytes) -> LinkyCurve:
    try:
        return read_linky(data, source="file")
    except UnicodeDecodeError:
        # read_linky falls back to Windows-1252, which leaves five byte values undefined
        raise InputError(
            "not a text file: expected the Enedis CSV export (UTF-8 or Windows-1252)",
            source="file",
        ) from None


def _simulate_linky(services: Services, form: LinkyForm, project: ProjectIn) -> Response:
    curve = _read_curve(form.file)
    return _simulate(
        services, project, curve.hourly, spreads=Spreads.for_measured_load(), linky=curve
    )


@router.post(
    "/linky",
    response_model=SimulationResult,
    summary="Simulate a project with your Linky load curve",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": LinkyForm.model_json_schema()}},
        }
    },
    responses={
        413: {"model": ErrorBody, "description": "The file is larger than the service accepts."}
    },
)
async def simulate_linky(request: Request, services: ServicesDep) -> Response:
    """The same simulation, with the household's own consumption: the Enedis/Linky
    "courbe de charge" export (half-hourly, in W or Wh) in `file`, and the project's
    fields as form fields (`face_ids` comma-separated).

    The file is used for this request only: it is never stored and never logged. Hours
    missing from the curve are filled from the RES1 profile and reported in `warnings`.
    """
    form = await read_form(request, LinkyForm, limit=services.settings.upload_limit_bytes)
    with form_errors():
        project = form.project()
    return await run_in_threadpool(_simulate_linky, services, form, project)
