"""Simulate a project for a household: self-consumption, economics, uncertainty, sizing.

Both endpoints run :func:`solar.household.project.simulate_project`; they differ in where the
load comes from: an Enedis standard profile described in JSON, or the resident's own
Linky export uploaded as a file, read by :func:`app.uploads.read_form` (in memory, under a
hard cap, never stored, never logged).

Both run in the bounded pools of heavy work (:class:`app.dependencies.HeavyWork`): a
Linky file is parsed in a separate process, a simulation in one of a few threads; the
others wait their turn, and the address and building look-ups keep the rest of the
thread pool, of the CPU and of the interpreter.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request, Response

from app import views
from app.dependencies import HeavyDep, Services, ServicesDep
from app.models import ErrorBody, LinkyForm, ProjectIn, SimulationRequest, SimulationResult
from app.uploads import form_errors, form_request_body, read_form, read_load_curve
from solar import dwellings
from solar.errors import InputError
from solar.household.loadcurves import HouseholdOptions, LinkyCurve, standard_profile
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


def _roof(services: Services, project: ProjectIn) -> tuple[str, list[str] | None]:
    """The building of ``building_id``, or the one under ``address_id``, and its faces.

    The faces are those asked for; by default, for an address on a building shared by
    several houses, the faces worth equipping of the address's own part
    (:mod:`solar.dwellings`), else None (the whole building's).
    """
    if (project.building_id is None) == (project.address_id is None):
        raise InputError("give exactly one of building_id and address_id", source="building_id")
    if project.building_id is not None:
        return project.building_id, project.face_ids
    address, building_id = services.address(str(project.address_id))
    if project.face_ids is not None or address.part_id is None:
        return building_id, project.face_ids
    faces = services.cadastre.faces(building_id)
    own = dwellings.equipped_faces(faces, address.part_id) or [
        f for f in faces if f.part_id == address.part_id
    ]
    return building_id, [f.face_id for f in own]


def _simulate(
    services: Services,
    project: ProjectIn,
    load: np.ndarray,
    *,
    spreads: Spreads,
    linky: LinkyCurve | None = None,
) -> Response:
    building_id, face_ids = _roof(services, project)
    result = simulate_project(
        services.cadastre,
        building_id,
        load,
        site=services.site,
        face_ids=face_ids,
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
async def simulate(body: SimulationRequest, services: ServicesDep, heavy: HeavyDep) -> Response:
    """A year of the roof's production against the household's consumption, hour by
    hour, and what it is worth.

    Give `building_id` or `address_id`. By default: every module of the faces worth
    equipping, 4,500 kWh/yr on the Enedis RES1 profile, no battery, the tariffs of today,
    20 years. `n_modules` or `kwc` fills the best faces first.
    """
    return await heavy.in_thread(_simulate_standard, services, body)


def _simulate_standard(services: Services, body: SimulationRequest) -> Response:
    consumption = body.consumption
    load = standard_profile(
        consumption.profile,
        consumption.annual_kwh,
        HouseholdOptions(**consumption.options.model_dump()),
    )
    return _simulate(services, body, load, spreads=Spreads())


def _simulate_linky(services: Services, curve: LinkyCurve, project: ProjectIn) -> Response:
    return _simulate(
        services, project, curve.hourly, spreads=Spreads.for_measured_load(), linky=curve
    )


@router.post(
    "/linky",
    response_model=SimulationResult,
    summary="Simulate a project with your Linky load curve",
    openapi_extra=form_request_body(LinkyForm),
    responses={
        413: {"model": ErrorBody, "description": "The file is larger than the service accepts."}
    },
)
async def simulate_linky(request: Request, services: ServicesDep, heavy: HeavyDep) -> Response:
    """The same simulation, with the household's own consumption: the Enedis/Linky
    "courbe de charge" export (half-hourly, in W or Wh) in `file`, and the project's
    fields as form fields (`face_ids` comma-separated).

    The file is used for this request only: it is never stored and never logged. Hours
    missing from the curve are filled from the RES1 profile and reported in `warnings`.
    """
    form = await read_form(request, LinkyForm, limit=services.settings.upload_limit_bytes)
    with form_errors():
        project = form.project()
    curve = await heavy.in_process(read_load_curve, form.file)
    return await heavy.in_thread(_simulate_linky, services, curve, project)
