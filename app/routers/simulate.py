"""Simulate a project for a household: self-consumption, economics, uncertainty, sizing.

Both endpoints run :func:`solar.household.project.simulate_project`; they differ in where the
load comes from: an Enedis standard profile described in JSON, or the resident's own
Linky export uploaded as a file.

The Linky file is read in memory under a hard cap (``CADASTRE_UPLOAD_LIMIT_BYTES``): a
Content-Length above it is refused before reading, and reading stops as soon as the body
passes it (413). The file is parsed, used for this request and dropped. It never reaches
the disk: the multipart parser's spool is kept larger than the cap, so it never rolls
over to a temporary file. It is never logged: no handler logs request bodies, 4xx errors
are not logged, and python-multipart's framing warnings (which quote body bytes) are
silenced in :func:`app.main.create_app`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from app import views
from app.dependencies import AddressIndexDep, CadastreDep, SettingsDep, SiteDep
from app.models import ErrorBody, LinkyForm, ProjectIn, SimulationRequest, SimulationResult
from solar.addresses import AddressIndex
from solar.cadastre import Cadastre
from solar.errors import InputError, NoBuildingAtAddress, NotFound, PayloadTooLarge
from solar.household.loadcurves import HouseholdOptions, LinkyCurve, read_linky, standard_profile
from solar.household.project import Site, simulate_project
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

#: Room for the form fields and the multipart framing around the file. [bytes]
FORM_OVERHEAD_BYTES = 64 * 1024
#: Form fields a Linky upload may carry besides the file.
MAX_FORM_FIELDS = 20


def _building_id(index: AddressIndex, project: ProjectIn) -> str:
    """The building of ``building_id``, or the one under ``address_id``."""
    if (project.building_id is None) == (project.address_id is None):
        raise InputError("give exactly one of building_id and address_id", source="building_id")
    if project.building_id is not None:
        return project.building_id
    record = index.get(str(project.address_id))
    if record is None:
        raise NotFound(f"no address with id {project.address_id!r}")
    if record["building_id"] is None:
        raise NoBuildingAtAddress("no building at this address")
    return str(record["building_id"])


def _simulate(
    cadastre: Cadastre,
    index: AddressIndex,
    site: Site,
    project: ProjectIn,
    load: np.ndarray,
    *,
    spreads: Spreads,
    linky: LinkyCurve | None = None,
) -> Response:
    result = simulate_project(
        cadastre,
        _building_id(index, project),
        load,
        site=site,
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
def simulate(
    body: SimulationRequest, cadastre: CadastreDep, index: AddressIndexDep, site: SiteDep
) -> Response:
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
    return _simulate(cadastre, index, site, body, load, spreads=Spreads())


class _InMemoryMultiPartParser(MultiPartParser):
    """Starlette's multipart parser with a spool as large as the body cap.

    A spooled file moves to disk only when it outgrows its ``max_size``; the body is cut
    off at ``spool_max_size``, so the uploaded file always stays in memory.
    """

    def __init__(
        self, headers: Headers, stream: AsyncGenerator[bytes, None], *, spool_max_size: int
    ):
        super().__init__(
            headers,
            stream,
            max_files=1,
            max_fields=MAX_FORM_FIELDS,
            max_part_size=FORM_OVERHEAD_BYTES,
        )
        self.spool_max_size = spool_max_size


async def _capped(
    stream: AsyncIterator[bytes], cap: int, limit: int
) -> AsyncGenerator[bytes, None]:
    """The request body, stopped with a 413 as soon as it passes ``cap`` bytes."""
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > cap:
            raise PayloadTooLarge(
                f"the upload is larger than {limit} bytes, the largest file accepted",
                source="file",
            )
        yield chunk


async def _read_form(request: Request, limit: int) -> dict[str, Any]:
    """The form's fields, and the file's bytes under ``"file"``, read under the cap."""
    cap = limit + FORM_OVERHEAD_BYTES
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap:
        raise PayloadTooLarge(
            f"the upload is {int(length)} bytes; the file may have at most {limit}",
            source="file",
        )
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise InputError(
            "expected a multipart/form-data upload with the Linky export in 'file'",
            source="file",
        )
    parser = _InMemoryMultiPartParser(
        request.headers, _capped(request.stream(), cap, limit), spool_max_size=cap
    )
    try:
        form: FormData = await parser.parse()
    except MultiPartException as exc:
        raise InputError(f"malformed upload: {exc.message}", source="file") from None
    values: dict[str, Any] = {}
    try:
        for name, value in form.multi_items():
            if name in values:
                raise InputError("given more than once", source=name)
            if isinstance(value, UploadFile):
                values[name] = await value.read()
            elif value != "":  # a blank form field is an absent one
                values[name] = value
    finally:
        await form.close()
    file = values.get("file")
    if isinstance(file, str):
        values["file"] = file.encode("utf-8")
    if isinstance(values.get("file"), bytes) and len(values["file"]) > limit:
        raise PayloadTooLarge(
            f"the file is larger than {limit} bytes, the largest accepted", source="file"
        )
    return values


def _read_curve(data: bytes) -> LinkyCurve:
    try:
        return read_linky(data, source="file")
    except UnicodeDecodeError:
        # read_linky falls back to Windows-1252, which leaves five byte values undefined
        raise InputError(
            "not a text file: expected the Enedis CSV export (UTF-8 or Windows-1252)",
            source="file",
        ) from None


def _simulate_linky(
    cadastre: Cadastre, index: AddressIndex, site: Site, form: LinkyForm, project: ProjectIn
) -> Response:
    curve = _read_curve(form.file)
    return _simulate(
        cadastre,
        index,
        site,
        project,
        curve.hourly,
        spreads=Spreads.for_measured_load(),
        linky=curve,
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
async def simulate_linky(
    request: Request,
    cadastre: CadastreDep,
    index: AddressIndexDep,
    site: SiteDep,
    settings: SettingsDep,
) -> Response:
    """The same simulation, with the household's own consumption: the Enedis/Linky
    "courbe de charge" export (half-hourly, in W or Wh) in `file`, and the project's
    fields as form fields (`face_ids` comma-separated).

    The file is used for this request only: it is never stored and never logged. Hours
    missing from the curve are filled from the RES1 profile and reported in `warnings`.
    """
    values = await _read_form(request, settings.upload_limit_bytes)
    try:
        form = LinkyForm.model_validate(values)
        project = form.project()
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None
    finally:
        values.clear()
    return await run_in_threadpool(_simulate_linky, cadastre, index, site, form, project)
