"""A commune's buildings and its portfolio, for its agents and the PMA (scoped API keys).

Every endpoint takes ``Authorization: Bearer KEY`` (``cadastre keys create``): 401 without
a valid key, 403 for a commune outside its scope, 404 for a commune the cadastre does not
cover. Answers are never cached (``Cache-Control: no-store``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Annotated, Any

import numpy as np
import shapely
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from app import views
from app.communes.auth import ACCESS_RESPONSES, CommuneAccessDep, KeyScope, KeyScopeDep, StoreDep
from app.communes.imports import Matcher, read_table
from app.communes.models import (
    CommuneAccess,
    CommuneBuilding,
    CommuneBuildings,
    ImportRefused,
    ImportReport,
    ImportRow,
    Portfolio,
    PortfolioIn,
    PortfolioItem,
)
from app.communes.store import Store
from app.dependencies import Services, ServicesDep
from app.models import ErrorBody
from app.uploads import form_request_body, read_form
from solar import suitability as suitability_classes
from solar.cadastre import COMMUNE_SORT_KEYS
from solar.communes.portfolio import PortfolioEntry, Status
from solar.errors import InputError, NotFound

router = APIRouter(
    prefix="/api/v1/communes",
    tags=["communes"],
    responses=ACCESS_RESPONSES,
)

NO_STORE = {"Cache-Control": "no-store"}
SORTS = tuple(f"{sign}{key}" for key in COMMUNE_SORT_KEYS for sign in ("-", ""))
BUILDING_ID = Annotated[str, Path(max_length=200, description="The cadastre's building id.")]


def _json(model: BaseModel, status_code: int = 200) -> Response:
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=NO_STORE,
    )


@router.get("", response_model=CommuneAccess, summary="The communes your key reaches")
def communes(scope: KeyScopeDep, services: ServicesDep) -> Response:
    """The key's label and the INSEE codes of the communes it reaches in this cadastre."""
    covered = services.cadastre.communes()
    reached = [c for c in covered if scope.covers(c)]
    names = services.cadastre.commune_names()
    return _json(
        CommuneAccess(
            label=scope.label,
            territory=scope.territory,
            communes=reached,
            names={c: names[c] for c in reached if c in names},
        )
    )


def _encode_cursor(sort: str, after: tuple[Any, str]) -> str:
    raw = json.dumps([sort, after[0], after[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, building_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise InputError("not a cursor this service gave", source="cursor") from None
    if cursor_sort != sort or not isinstance(building_id, str):
        raise InputError("the cursor belongs to another sort order", source="cursor")
    if not isinstance(value, str | int | float):
        raise InputError("not a cursor this service gave", source="cursor")
    return value, building_id


def _suitability_codes(values: list[str]) -> list[str]:
    codes = [c.strip() for v in values for c in v.split(",") if c.strip()]
    known = {c.code.value for c in suitability_classes.CLASSES}
    for code in codes:
        if code not in known:
            raise InputError(f"expected some of {', '.join(sorted(known))}", source="suitability")
    return codes


@router.get(
    "/{insee}/buildings",
    response_model=CommuneBuildings,
    summary="The commune's buildings with their potential and portfolio status",
)
def commune_buildings(
    insee: str,
    scope: CommuneAccessDep,
    services: ServicesDep,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Buildings per page.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=600, description="The `next` of the previous page.")
    ] = None,
    suitability: Annotated[
        list[str],
        Query(
            max_length=5,
            description="Keep these classes: excellent, good, fair, poor, unsuitable "
            "(repeat, or comma-separated).",
        ),
    ] = [],  # noqa: B006 - FastAPI copies the default of a list query parameter
    min_kwc: Annotated[float | None, Query(ge=0, le=1e6, description="[kWc]")] = None,
    usage: Annotated[
        str | None,
        Query(
            max_length=100,
            description="BD TOPO usage (`usage_1`) as BD TOPO writes it: Résidentiel, "
            "Sportif, Religieux, Commercial et services…",
        ),
    ] = None,
    status: Annotated[
        Status | None,
        Query(description="Keep the buildings of the portfolio with this status."),
    ] = None,
    sort: Annotated[
        str,
        Query(
            description="A field, `-` first for largest first: " + ", ".join(COMMUNE_SORT_KEYS),
            max_length=40,
        ),
    ] = "-kwc",
) -> Response:
    """One page of the commune's buildings, filtered and sorted; `next` gives the following
    page (an opaque cursor) until the last, where it is null."""
    if sort not in SORTS:
        raise InputError(f"expected one of {', '.join(SORTS)}", source="sort")
    building_ids = None
    if status is not None:
        building_ids = [e.building_id for e in store.portfolio(insee) if e.status == status]
    records, following = services.cadastre.buildings_in_commune(
        insee,
        limit=limit,
        sort=sort.lstrip("-"),
        descending=sort.startswith("-"),
        after=_decode_cursor(cursor, sort) if cursor else None,
        suitability=_suitability_codes(suitability),
        min_kwc=min_kwc,
        usage=usage,
        building_ids=building_ids,
    )
    ids = [r.building_id for r in records]
    addresses = services.cadastre.address_labels(ids)
    entries = store.entries(insee, ids)
    points = shapely.point_on_surface(np.array([r.geometry for r in records], dtype=object))
    lons, lats = services.projector.points_to_wgs84(shapely.get_x(points), shapely.get_y(points))
    items = [
        CommuneBuilding(
            building_id=r.building_id,
            address=addresses.get(r.building_id),
            position=[lon, lat],
            kwc=r.kwc,
            panels=r.panels,
            production_kwh_yr=r.production_kwh_yr,
            specific_yield_kwh_kwc=r.specific_yield_kwh_kwc,
            usable_area_m2=r.usable_area_m2,
            suitability=r.suitability,
            suitability_label=suitability_classes.label(r.suitability),
            shading_loss_pct=r.shading_loss_pct,
            footprint_check=r.footprint_check,
            footprint_note=views.footprint_note(r.footprint_check, r.footprint_shift_m),
            usage_bdtopo=r.usage_1,
            portfolio=PortfolioItem.of(entries[r.building_id])
            if r.building_id in entries
            else None,
        )
        for r, lon, lat in zip(
            records, np.atleast_1d(lons).tolist(), np.atleast_1d(lats).tolist(), strict=True
        )
    ]
    next_cursor = _encode_cursor(sort, following) if following is not None else None
    return _json(CommuneBuildings(items=items, next=next_cursor))


@router.get("/{insee}/portfolio", response_model=Portfolio, summary="The commune's portfolio")
def portfolio(insee: str, scope: CommuneAccessDep, store: StoreDep) -> Response:
    """Every building the commune qualified, by building id."""
    return _json(Portfolio(items=[PortfolioItem.of(e) for e in store.portfolio(insee)]))


def _building_in_commune(services: Services, insee: str, building_id: str) -> None:
    building = services.cadastre.building(building_id)
    if building.commune_insee != insee:
        raise NotFound(f"the building {building_id!r} is not in the commune {insee}")


@router.put(
    "/{insee}/portfolio/{building_id}",
    response_model=PortfolioItem,
    summary="Qualify one building of the commune",
    responses={
        201: {"model": PortfolioItem, "description": "The building entered the portfolio."},
        400: {"model": ErrorBody, "description": "The body is not JSON."},
        404: {"model": ErrorBody, "description": "No such building in this commune."},
    },
)
def put_portfolio_entry(
    insee: str,
    building_id: BUILDING_ID,
    body: PortfolioIn,
    scope: CommuneAccessDep,
    services: ServicesDep,
    store: StoreDep,
) -> Response:
    """Set the building's status, with the reason of an exclusion (only with `ecarte`),
    its usage, its annual consumption and a note. 201 when the building enters the
    portfolio, 200 when its entry is replaced. Journaled with the key's label."""
    _building_in_commune(services, insee, building_id)
    entry = PortfolioEntry(
        commune_insee=insee,
        building_id=building_id,
        updated_at=dt.datetime.now(dt.UTC),
        updated_by=scope.label,
        **body.model_dump(),
    )
    created = store.put_entry(entry, key_id=scope.key_id)
    return _json(PortfolioItem.of(entry), status_code=201 if created else 200)


class ImportForm(BaseModel):
    """The multipart form of ``POST …/portfolio/import``."""

    model_config = ConfigDict(extra="forbid")

    file: bytes = Field(
        description="CSV (UTF-8 or Latin-1; `;`, `,` or tab) or XLSX. First row: column "
        "names. One of `batiment` (building id), `adresse` (BAN address) or `longitude` "
        "and `latitude` (WGS84); optional `statut`, `motif`, `usage`, `consommation_kwh`, "
        "`note`.",
        json_schema_extra={"format": "binary"},
    )


def _import(
    insee: str,
    data: bytes,
    scope: KeyScope,
    services: Services,
    store: Store,
    *,
    dry_run: bool,
) -> Response:
    table = read_table(data)
    matcher = Matcher(
        insee, services.cadastre, services.address_index, services.projector.point_from_wgs84
    )
    results = matcher.check(table)
    existing = {e.building_id for e in store.portfolio(insee)}
    rows = [
        ImportRow(
            row=r.row,
            matched=r.matched,
            building_id=r.building_id,
            address=r.address,
            action=None
            if not r.matched
            else ("updated" if r.building_id in existing else "created"),
            reason=r.reason,
        )
        for r in results
    ]
    refused = [r for r in results if not r.matched]
    if refused:
        body = ImportRefused(
            detail=f"{len(refused)} of {len(results)} rows refused; nothing was imported",
            code="import_refused",
            rows=rows,
        )
        return _json(body, status_code=422)
    if dry_run:
        return _json(ImportReport(imported=0, dry_run=True, rows=rows))
    now = dt.datetime.now(dt.UTC)
    entries = [
        PortfolioEntry(
            commune_insee=insee,
            building_id=str(r.building_id),
            updated_at=now,
            updated_by=scope.label,
            **r.values,
        )
        for r in results
    ]
    store.import_entries(entries, key_id=scope.key_id)
    return _json(ImportReport(imported=len(entries), dry_run=False, rows=rows))


@router.post(
    "/{insee}/portfolio/import",
    response_model=ImportReport,
    summary="Import a list of the commune's buildings (CSV or XLSX)",
    openapi_extra=form_request_body(ImportForm),
    responses={
        413: {"model": ErrorBody, "description": "The file is larger than 10 MB."},
        422: {
            "model": ImportRefused,
            "description": "Some rows were refused (`code` import_refused, the per-row "
            "report in `rows`; nothing was imported), or the file cannot be read.",
        },
    },
)
async def import_portfolio(
    request: Request,
    insee: str,
    scope: CommuneAccessDep,
    services: ServicesDep,
    store: StoreDep,
    dry_run: Annotated[
        bool, Query(description="Check and report every row, write nothing.")
    ] = False,
) -> Response:
    """Each row gives a building of the commune by id, BAN address or WGS84 coordinates,
    and optionally its status, reason, usage, consumption and note (the values of
    `PUT …/portfolio/{building_id}`, or their French words: « À étudier », « Salle de
    sport »…; the status defaults to `a_etudier`).

    The import is all or nothing, in one transaction: when every row matches, every entry
    is written (existing ones replaced) and the answer is the per-row report; when a row
    does not (unknown building, outside the commune, address not found, a building given
    twice, an unknown status…), nothing is written and the answer is a 422 with the same
    report. `dry_run=true` reports without writing. The file itself is not kept."""
    form = await read_form(request, ImportForm, limit=services.settings.import_limit_bytes)
    return await run_in_threadpool(
        _import, insee, form.file, scope, services, store, dry_run=dry_run
    )
