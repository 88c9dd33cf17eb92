"""A commune's reports, their jobs, the PMA's operation workbook and collective balances.

Every endpoint takes ``Authorization: Bearer KEY`` (401 without a valid key; 403 outside its
scope; 404 for a commune the cadastre does not cover); answers are never cached.

- ``GET /api/v1/communes/{insee}/report.{csv,xlsx,geojson,pdf}``: the portfolio's
  buildings (``?scope=all``: every building of the commune), ranked by production. Up to
  :data:`DIRECT_LIMIT` buildings the file is the answer; beyond, a report job is queued and
  the answer is 202 with its id and where to follow it.
- ``POST /api/v1/communes/{insee}/report-jobs`` queues one; ``GET …/report-jobs/{id}``
  gives its state and progress, ``GET …/report-jobs/{id}/file`` the file once done. Jobs
  live in the store: they survive a restart of the service.
- ``GET /api/v1/operation/report.xlsx`` (territory key): the retained buildings of every
  commune, by commune and by lot.
- ``GET /api/v1/communes/{insee}/collective``: the collective self-consumption balance of
  the commune's portfolio.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.communes.auth import ACCESS_RESPONSES, CommuneAccessDep, StoreDep, TerritoryAccessDep
from app.communes.jobs import register_job_kind
from app.communes.store import Job, Store
from app.dependencies import HeavyDep, Services, ServicesDep
from app.models import ErrorBody
from app.uploads import form_request_body, read_form, read_load_curve
from solar.cadastre import BuildingRecord, Cadastre
from solar.communes import collective, operation
from solar.communes.economics import CommuneTariffTable
from solar.communes.loadshapes import BuildingLoad, measured_load
from solar.communes.pdf import write_pdf
from solar.communes.portfolio import PortfolioEntry
from solar.communes.reports import (
    CommuneReport,
    ReportBuilding,
    Scope,
    assess,
    commune_name,
    write_csv,
    write_geojson,
    write_operation_xlsx,
    write_xlsx,
)
from solar.communes.sizing import read_roof, recommend
from solar.errors import InputError, NotFound

router = APIRouter(
    tags=["communes"],
    responses=ACCESS_RESPONSES,
)

#: Largest report answered directly, in buildings. A report costs 1 to 2 ms per building,
#: cadastre reads included, on a loaded core (``scripts/bench_reports.py``: 1,000 buildings
#: in 0.6 - 2.5 s whatever the format): up to 200 buildings it answers within about half a
#: second; beyond, it runs as a job so that no request holds a worker for seconds.
DIRECT_LIMIT = 200
#: The kind of the report jobs in the store.
JOB_KIND = "commune_report"
#: The largest commune read for a report. [buildings] (Lens has about 15,000.)
MAX_BUILDINGS = 100_000

Format = Literal["csv", "xlsx", "geojson", "pdf"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "pdf": "application/pdf",
}
WRITERS: dict[str, Callable[[CommuneReport], bytes]] = {
    "csv": write_csv,
    "xlsx": write_xlsx,
    "geojson": write_geojson,
    "pdf": write_pdf,
}
NO_STORE = {"Cache-Control": "no-store"}
JOB_ID = Annotated[str, Path(max_length=64, description="The job's id.")]
TariffDate = Annotated[
    dt.date | None,
    Query(description="Date of the connection request that sets the tariffs; today by default."),
]
ScopeQuery = Annotated[
    Scope,
    Query(description="`portfolio` (default): the portfolio's buildings; `all`: every one."),
]


@lru_cache(maxsize=1)
def tariff_table() -> CommuneTariffTable:
    """The dated tariff table read with the communes' rules, once per process."""
    return CommuneTariffTable.load()


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _records(
    cadastre: Cadastre, insee: str, building_ids: list[str] | None, limit: int = MAX_BUILDINGS
) -> list[BuildingRecord]:
    if building_ids is not None and not building_ids:
        return []
    records, _ = cadastre.buildings_in_commune(
        insee, limit=limit, sort="production_kwh_yr", building_ids=building_ids
    )
    return records


def commune_report(
    cadastre: Cadastre,
    store: Store,
    insee: str,
    scope: Scope,
    tariff_date: dt.date,
    progress: Callable[[float], None] | None = None,
) -> CommuneReport:
    """Read the commune's buildings and portfolio, and assess them."""
    entries = {e.building_id: e for e in store.portfolio(insee)}
    records = _records(cadastre, insee, None if scope == "all" else list(entries))
    addresses = cadastre.address_labels([r.building_id for r in records])
    buildings = [
        ReportBuilding(r, addresses.get(r.building_id), entries.get(r.building_id)) for r in records
    ]
    return assess(
        cadastre,
        buildings,
        commune_insee=insee,
        commune_name=commune_name(insee),
        scope=scope,
        table=tariff_table(),
        tariff_date=tariff_date,
        progress=progress,
    )


def _filename(insee: str, scope: Scope, fmt: str) -> str:
    return f"rapport-{insee}-{'tous' if scope == 'all' else 'portefeuille'}.{fmt}"


def _file(data: bytes, media_type: str, filename: str) -> Response:
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(data, media_type=media_type, headers=headers)


def render_report_job(
    store: Store, cadastre: Cadastre, job: Job, progress: Callable[[float], None]
) -> tuple[bytes, str, str]:
    """The renderer of the report jobs (see :func:`app.communes.jobs.register_job_kind`)."""
    fmt, scope = job.params["format"], job.params["scope"]
    insee = job.commune_insee
    if insee is None or fmt not in WRITERS or scope not in ("portfolio", "all"):
        raise InputError("a report job needs a commune, a format and a scope", source="job")
    date = dt.date.fromisoformat(job.params["tariff_date"])
    # the buildings are most of the work; writing the file the rest
    report = commune_report(
        cadastre, store, insee, scope, date, progress=lambda share: progress(0.8 * share)
    )
    progress(0.8)
    return WRITERS[fmt](report), MEDIA_TYPES[fmt], _filename(insee, scope, fmt)


register_job_kind(JOB_KIND, render_report_job)


class ReportJobIn(BaseModel):
    """A report to render as a job."""

    format: Format = Field(description="`csv`, `xlsx`, `geojson` or `pdf`.")
    scope: Scope = Field("portfolio", description="`portfolio` or `all`.")
    tariff_date: dt.date | None = Field(None, description="Tariff date; today by default.")


class ReportJob(BaseModel):
    """A report job and where to follow it."""

    id: str
    format: str
    scope: str
    state: Literal["queued", "running", "done", "failed"]
    progress: float = Field(description="Share done, from 0 to 1.")
    created_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None = Field(description="Why it failed.")
    status_url: str
    file_url: str | None = Field(description="The file, once done.")

    @classmethod
    def of(cls, job: Job) -> ReportJob:
        status_url = f"/api/v1/communes/{job.commune_insee}/report-jobs/{job.id}"
        return cls(
            id=job.id,
            format=str(job.params.get("format")),
            scope=str(job.params.get("scope")),
            state=job.state,  # type: ignore[arg-type]
            progress=job.progress,
            created_at=job.created_at,
            finished_at=job.finished_at,
            error=job.error,
            status_url=status_url,
            file_url=f"{status_url}/file" if job.state == "done" else None,
        )


def _queue(
    request: Request, store: Store, insee: str, fmt: str, scope: Scope, date: dt.date, key_id: int
) -> Response:
    params = {"format": fmt, "scope": scope, "tariff_date": date.isoformat()}
    job_id = store.create_job(JOB_KIND, insee, params, key_id)
    runner = getattr(request.state, "job_runner", None)
    if runner is not None:
        runner.wake()
    job = store.job(job_id)
    assert job is not None
    body = ReportJob.of(job)
    return Response(
        body.model_dump_json(),
        status_code=202,
        media_type="application/json",
        headers={**NO_STORE, "Location": body.status_url},
    )


@router.get(
    "/api/v1/communes/{insee}/report.{fmt}",
    summary="The commune's report: CSV, XLSX, GeoJSON or PDF",
    response_class=Response,
    responses={
        200: {
            "content": {m: {} for m in MEDIA_TYPES.values()},
            "description": "The report file.",
        },
        202: {"model": ReportJob, "description": "A large report: queued as a job."},
    },
)
def commune_report_file(
    insee: str,
    fmt: Format,
    request: Request,
    access: CommuneAccessDep,
    services: ServicesDep,
    store: StoreDep,
    scope: ScopeQuery = "portfolio",
    tariff_date: TariffDate = None,
) -> Response:
    """The portfolio's buildings (or every building with `scope=all`), ranked by annual
    production, with their potential, the recommended system and its economics for the
    commune. Columns, formats and the PDF's pages are described in the project's
    documentation (`solar.communes.reports`, `solar.communes.pdf`). Up to 200 buildings
    the file is the answer; beyond, 202 and a report job (`Location` header)."""
    date = tariff_date or _today()
    if scope == "all":
        size = len(_records(services.cadastre, insee, None, limit=DIRECT_LIMIT + 1))
    else:
        size = len(store.portfolio(insee))
    if size > DIRECT_LIMIT:
        return _queue(request, store, insee, fmt, scope, date, access.key_id)
    report = commune_report(services.cadastre, store, insee, scope, date)
    return _file(WRITERS[fmt](report), MEDIA_TYPES[fmt], _filename(insee, scope, fmt))


@router.post(
    "/api/v1/communes/{insee}/report-jobs",
    summary="Queue a report as a job",
    status_code=202,
    response_model=ReportJob,
    responses={400: {"model": ErrorBody, "description": "The body is not JSON."}},
)
def create_report_job(
    insee: str, body: ReportJobIn, request: Request, access: CommuneAccessDep, store: StoreDep
) -> Response:
    """Queue a report of any size; follow it at `status_url`, fetch it at `file_url`."""
    date = body.tariff_date or _today()
    return _queue(request, store, insee, body.format, body.scope, date, access.key_id)


def _own_job(store: Store, insee: str, job_id: str) -> Job:
    job = store.job(job_id)
    if job is None or job.kind != JOB_KIND or job.commune_insee != insee:
        raise NotFound(f"no report job {job_id!r} for the commune {insee}")
    return job


@router.get(
    "/api/v1/communes/{insee}/report-jobs/{job_id}",
    summary="A report job's state and progress",
    response_model=ReportJob,
)
def report_job(insee: str, job_id: JOB_ID, access: CommuneAccessDep, store: StoreDep) -> Response:
    """`queued`, `running` (with its progress), `done` (with `file_url`) or `failed`."""
    body = ReportJob.of(_own_job(store, insee, job_id))
    return Response(body.model_dump_json(), media_type="application/json", headers=NO_STORE)


@router.get(
    "/api/v1/communes/{insee}/report-jobs/{job_id}/file",
    summary="A report job's file",
    response_class=Response,
    responses={
        200: {"content": {m: {} for m in MEDIA_TYPES.values()}, "description": "The file."},
        409: {"model": ErrorBody, "description": "The job is not done (or it failed)."},
    },
)
def report_job_file(
    insee: str, job_id: JOB_ID, access: CommuneAccessDep, store: StoreDep
) -> Response:
    """The report, once its job is done."""
    job = _own_job(store, insee, job_id)
    data = store.job_result(job.id) if job.state == "done" else None
    if data is None:
        detail = f"the job is {job.state}" + (f": {job.error}" if job.error else "")
        return Response(
            ErrorBody(detail=detail, code="conflict").model_dump_json(),
            status_code=409,
            media_type="application/json",
            headers=NO_STORE,
        )
    return _file(data, job.media_type or "application/octet-stream", job.filename or "rapport")


# --------------------------------------------------------------------------- operation


def operation_items(
    cadastre: Cadastre, store: Store, tariff_date: dt.date
) -> list[operation.OperationItem]:
    """The retained buildings of every commune, with their recommended system."""
    by_commune: dict[str, dict[str, PortfolioEntry]] = {}
    for entry in store.retained():
        by_commune.setdefault(entry.commune_insee, {})[entry.building_id] = entry
    table = tariff_table()
    items = []
    for insee, entries in sorted(by_commune.items()):
        records = _records(cadastre, insee, list(entries))
        report = assess(
            cadastre,
            [ReportBuilding(r, None, entries[r.building_id]) for r in records],
            commune_insee=insee,
            commune_name=commune_name(insee),
            scope="portfolio",
            table=table,
            tariff_date=tariff_date,
        )
        items += [
            operation.OperationItem(
                commune_insee=insee,
                commune_name=report.commune_name,
                building_id=row.building_id,
                usage=entries[row.building_id].usage,
                kwc=row.system_kwc,
                production_kwh=row.system_production_kwh_yr,
                investment_ht_eur=table.investment_ht_eur(tariff_date, row.system_kwc),
            )
            for row in report.rows
            # a roof without a module has nothing to buy
            if row.system_kwc > 0
        ]
    return items


@router.get(
    "/api/v1/operation/report.xlsx",
    summary="The PMA's collective operation: retained buildings by commune and by lot",
    response_class=Response,
    responses={
        200: {"content": {MEDIA_TYPES["xlsx"]: {}}, "description": "The workbook."},
        403: {"model": ErrorBody, "description": "The key is not a territory key."},
    },
)
def operation_report(
    access: TerritoryAccessDep,
    services: ServicesDep,
    store: StoreDep,
    tariff_date: TariffDate = None,
) -> Response:
    """Sheets `Lots` (≤ 9, 9–36, 36–100, 100–500, > 500 kWc, then the total), `Communes`
    (then the total) and `Bâtiments`: kWc, MWh/yr and investment HT of the recommended
    systems of the retained buildings."""
    date = tariff_date or _today()
    gathered = operation.gather(operation_items(services.cadastre, store, date))
    data = write_operation_xlsx(gathered, tariff_date=date)
    return _file(data, MEDIA_TYPES["xlsx"], f"operation-collective-{date:%Y-%m-%d}.xlsx")


# --------------------------------------------------------------------------- collective


class CollectiveParticipant(BaseModel):
    """One building of a collective operation. Energies in kWh/yr."""

    building_id: str
    production_kwh: float
    consumption_kwh: float
    allocated_kwh: float = Field(description="Pooled production allocated to its load.")
    alone_self_consumed_kwh: float = Field(description="Its own production used on its own.")


class CollectiveBalance(BaseModel):
    """The collective self-consumption balance against each building on its own."""

    allocation: str
    perimeter_km: float
    diameter_m: float = Field(description="Largest distance between two participants. [m]")
    participants: list[CollectiveParticipant]
    excluded: list[str] = Field(description="Buildings beyond the perimeter, left out.")
    production_kwh: float
    consumption_kwh: float
    self_consumed_kwh: float
    surplus_kwh: float
    grid_import_kwh: float
    self_consumption_rate: float = Field(description="Self-consumed share of the production.")
    self_sufficiency_rate: float = Field(description="Share of the load covered.")
    alone_self_consumed_kwh: float
    alone_self_consumption_rate: float = Field(description="The same, each building alone.")


@router.get(
    "/api/v1/communes/{insee}/collective",
    summary="Collective self-consumption of the commune's portfolio",
    response_model=CollectiveBalance,
)
def collective_balance(
    insee: str,
    access: CommuneAccessDep,
    services: ServicesDep,
    store: StoreDep,
    perimeter_km: Annotated[
        float,
        Query(
            gt=0,
            le=20,
            description="Largest distance between two participants: 2 km, or "
            "10 or 20 km by derogation. [km]",
        ),
    ] = collective.PERIMETER_KM,
    allocation: Annotated[
        collective.Allocation,
        Query(
            description="`dynamic` (pro rata of each hour's load) or `static` (pro rata of "
            "the annual consumption)."
        ),
    ] = "dynamic",
) -> Response:
    """Producers: the retained buildings (their whole roof worth equipping); consumers: the
    portfolio's buildings with an annual consumption, on the load shape of their use. The
    hourly balance of the pooled production against the pooled load, with the allocation
    key, against each building self-consuming on its own."""
    entries = {e.building_id: e for e in store.portfolio(insee)}
    records = _records(services.cadastre, insee, list(entries))
    participants = collective.commune_participants(services.cadastre, records, entries)
    if not participants:
        raise InputError(
            "the portfolio has no retained building and no building with an annual consumption",
            source="portfolio",
        )
    result = collective.balance(participants, allocation=allocation, perimeter_km=perimeter_km)
    body = CollectiveBalance(
        allocation=result.allocation,
        perimeter_km=perimeter_km,
        diameter_m=result.diameter_m,
        participants=[CollectiveParticipant(**vars(p)) for p in result.participants],
        excluded=list(result.excluded),
        production_kwh=result.production_kwh,
        consumption_kwh=result.consumption_kwh,
        self_consumed_kwh=result.self_consumed_kwh,
        surplus_kwh=result.surplus_kwh,
        grid_import_kwh=result.grid_import_kwh,
        self_consumption_rate=result.self_consumption_rate,
        self_sufficiency_rate=result.self_sufficiency_rate,
        alone_self_consumed_kwh=result.alone_self_consumed_kwh,
        alone_self_consumption_rate=result.alone_self_consumption_rate,
    )
    return Response(body.model_dump_json(), media_type="application/json", headers=NO_STORE)


class CurveForm(BaseModel):
    """The multipart form of a recommendation on the building's own load curve."""

    model_config = ConfigDict(extra="forbid")

    file: bytes = Field(
        description="The building's Enedis 'courbe de charge' CSV export (half-hourly, W or "
        "Wh). Used for this request only: never stored, never logged."
    )
    tariff_date: dt.date | None = Field(default=None, description="Today by default.")


class RecommendationOut(BaseModel):
    """The system recommended on a building's roof for its own measured load."""

    building_id: str
    load_source: str = Field(description="Where the load comes from, in French.")
    consumption_kwh_yr: float = Field(description="The curve's annual consumption. [kWh]")
    scheme: str = Field(
        description="autoconsommation, vente_totale, appel_d_offres or aucun (no module)."
    )
    n_modules: int
    kwc: float = Field(description="[kWc]")
    production_kwh_yr: float = Field(description="[kWh/yr]")
    self_consumption_rate: float | None = Field(description="[-]")
    self_sufficiency_rate: float | None = Field(description="[-]")
    investment_eur: float = Field(
        description="What the commune pays: before VAT for total sale, including VAT less "
        "the FCTVA for self-consumption. [€]"
    )
    npv_eur: float | None = Field(description="Net present value over the horizon. [€]")
    payback_years: float | None = Field(description="[yr]")
    co2_avoided_kg_yr: float = Field(description="[kg/yr]")
    note: str = Field(description="Why, in French.")
    warnings: list[str] = Field(description="What the curve's reading filled or assumed.")


def _recommend_on_curve(
    services: Services, record: BuildingRecord, load: BuildingLoad, date: dt.date
) -> RecommendationOut:
    roof = read_roof(services.cadastre, record.building_id)
    result = recommend(
        tariff_table(),
        date,
        kwc=float(record.kwc),
        production_kwh=float(record.production_kwh_yr),
        module_kwc=roof.module_kwc or float(record.kwc) / max(record.panels, 1),
        face_profiles_kwh=roof.profiles,
        face_modules=roof.modules,
        load_kwh=load.hourly_kwh,
    )
    economics = result.economics
    return RecommendationOut(
        building_id=record.building_id,
        load_source=load.source,
        consumption_kwh_yr=round(load.annual_kwh, 1),
        scheme=result.scheme,
        n_modules=result.n_modules,
        kwc=round(result.kwc, 3),
        production_kwh_yr=round(result.production_kwh, 1),
        self_consumption_rate=result.self_consumption_rate,
        self_sufficiency_rate=result.self_sufficiency_rate,
        investment_eur=round(result.investment_eur, 2),
        npv_eur=None if economics is None else round(economics.npv_eur, 2),
        payback_years=None if economics is None else economics.payback_years,
        co2_avoided_kg_yr=round(result.co2_avoided_kg_yr, 1),
        note=result.note,
        warnings=list(load.curve.warnings) if load.curve else [],
    )


@router.post(
    "/api/v1/communes/{insee}/buildings/{building_id}/recommendation",
    summary="The system to recommend for a building's own Enedis load curve",
    response_model=RecommendationOut,
    openapi_extra=form_request_body(CurveForm),
    responses={
        404: {"model": ErrorBody, "description": "No such building in the commune."},
        413: {"model": ErrorBody, "description": "The file is larger than the service accepts."},
        422: {"model": ErrorBody, "description": "The curve or a field is invalid."},
    },
)
async def recommendation_on_curve(
    insee: str,
    building_id: Annotated[str, Path(max_length=200)],
    request: Request,
    access: CommuneAccessDep,
    services: ServicesDep,
    heavy: HeavyDep,
) -> Response:
    """The building's load replaced by its own measured curve (the Enedis "courbe de
    charge" export, half-hourly): the recommended system and its economics for the
    commune, as the reports compute them with a load shape. The curve is used for this
    request only: it is never stored and never logged."""
    record = services.cadastre.building(building_id)
    if record.commune_insee != insee:
        raise NotFound(f"no building {building_id!r} in commune {insee}")
    form = await read_form(request, CurveForm, limit=services.settings.upload_limit_bytes)
    load = measured_load(await heavy.in_process(read_load_curve, form.file))
    body = await heavy.in_thread(
        _recommend_on_curve, services, record, load, form.tariff_date or _today()
    )
    return Response(
        body.model_dump_json(), media_type="application/json", headers={"Cache-Control": "no-store"}
    )
