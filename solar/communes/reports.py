"""A commune's report on its buildings: rows, ranked, written as CSV, XLSX and GeoJSON.

:func:`assess` turns the commune's buildings (cadastre records, their address, their
portfolio entry) into :class:`ReportRow`, one per building, with the recommended system
of :mod:`solar.communes.sizing` at the tariff date; :class:`CommuneReport` holds them
ranked by annual production, largest first. The PDF is in :mod:`solar.communes.pdf`.

Columns
-------
:data:`COLUMNS` lists them, with their French headers and units: rank, building id,
address, usage, portfolio status, the roof's potential (kWc of the modules it holds,
modules, annual production, specific yield, suitability, shading loss), the recommended
system (scheme, kWc, production, self-consumption rate) and its economics over 20 years
(year-1 savings on the bill and sales, NPV, payback, investment as the commune pays it:
HT for total sale and tender, TTC less the FCTVA for self-consumption; see
:mod:`solar.communes.economics`), and the CO2 avoided (production x (grid - PV life cycle)
factors of the tariff table, ``[[co2]]``, ADEME/RTE and NREL), and a remark on the
recommendation. A figure that does not apply is empty.

Formats
-------
- **CSV** for French Excel: UTF-8 with a BOM (Excel reads UTF-8 only with it), ``;`` as the
  separator and the decimal comma (the French locale's list separator and decimal mark, so
  that a double click opens it in columns, with numbers), French headers, no thousands
  separator.
- **XLSX**: a "Synthèse" sheet (commune, scope, tariff date, totals, counts by status and
  by system, sources) then a "Bâtiments" sheet: French headers, one typed column each
  (numbers as numbers, with number formats), header frozen, autofilter.
- **GeoJSON**: RFC 7946 FeatureCollection in WGS84 (lon, lat, 7 decimals: about 1 cm),
  polygons wound counter-clockwise; one Feature per building, its footprint, and the
  columns as properties under their ``key`` (English, snake case).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import shapely
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from pyproj import CRS, Transformer

from solar.cadastre import BuildingRecord, FaceRecord
from solar.communes.economics import SCHEME_LABELS, CommuneTariffTable
from solar.communes.loadshapes import BuildingLoad, building_load, usage_shapes
from solar.communes.operation import LOTS, Operation
from solar.communes.portfolio import PortfolioEntry
from solar.communes.sizing import Recommendation, RoofSource, read_roof, recommend
from solar.household.economics import Tariffs
from solar.resources import COMMUNES
from solar.suitability import label as suitability_label

Scope = Literal["portfolio", "all"]
Kind = Literal["text", "int", "float", "rate", "eur"]
ProgressCallback = Callable[[float], None]

#: French names of the portfolio statuses; a building outside the portfolio has none.
STATUS_LABELS: dict[str, str] = {
    "retenu": "Retenu",
    "a_etudier": "À étudier",
    "ecarte": "Écarté",
}
NO_STATUS = "Hors portefeuille"


@lru_cache(maxsize=1)
def _commune_names() -> dict[str, str]:
    with COMMUNES.open(encoding="utf-8") as f:
        features = json.load(f)["features"]
    return {str(f["properties"]["insee"]): str(f["properties"]["nom"]) for f in features}


def commune_name(insee: str) -> str:
    """The commune's name from the communes of the territory, else ``Commune <insee>``.

    >>> commune_name("62498")
    'Lens'
    """
    return _commune_names().get(insee, f"Commune {insee}")


@dataclass(frozen=True)
class Column:
    """One column of the reports.

    Attributes
    ----------
    key : str
        Attribute of :class:`ReportRow` and GeoJSON property.
    header : str
        French header of the CSV and XLSX, with the unit.
    kind : str
        ``text``, ``int``, ``float``, ``rate`` (a share, shown as %), or ``eur``.
    decimals : int
        Decimals written in the CSV and shown in the XLSX.
    """

    key: str
    header: str
    kind: Kind
    decimals: int = 0


COLUMNS: tuple[Column, ...] = (
    Column("rank", "Rang", "int"),
    Column("building_id", "Bâtiment", "text"),
    Column("address", "Adresse", "text"),
    Column("usage", "Usage", "text"),
    Column("status", "Statut", "text"),
    Column("kwc", "Puissance de la toiture (kWc)", "float", 1),
    Column("modules", "Modules", "int"),
    Column("production_kwh_yr", "Production (kWh/an)", "float", 0),
    Column("specific_yield_kwh_kwc", "Productible (kWh/kWc/an)", "float", 0),
    Column("suitability", "Potentiel", "text"),
    Column("shading_loss_pct", "Pertes par ombrage (%)", "float", 1),
    Column("system", "Système recommandé", "text"),
    Column("system_kwc", "Puissance recommandée (kWc)", "float", 1),
    Column("system_production_kwh_yr", "Production du système (kWh/an)", "float", 0),
    Column("self_consumption_rate", "Taux d'autoconsommation", "rate", 1),
    Column("annual_savings_eur", "Économies sur la facture (€/an)", "eur"),
    Column("annual_sales_eur", "Vente d'électricité (€/an)", "eur"),
    Column("npv_eur", "Valeur actuelle nette sur 20 ans (€)", "eur"),
    Column("payback_years", "Temps de retour (ans)", "float", 1),
    Column("investment_eur", "Investissement (€)", "eur"),
    Column("co2_avoided_kg_yr", "CO2 évité (kg/an)", "float", 0),
    Column("note", "Remarque", "text"),
)


@dataclass(frozen=True)
class ReportRow:
    """One building of a report; see :data:`COLUMNS` for the French names and units.

    ``kwc`` to ``shading_loss_pct`` are the whole roof's potential (the cadastre's
    building totals); ``system_*`` to ``co2_avoided_kg_yr`` the recommended system's.
    Money in [€], energies in [kWh yr-1], rates in [-].
    """

    rank: int
    building_id: str
    address: str | None
    usage: str | None
    status: str
    kwc: float
    modules: int
    production_kwh_yr: float
    specific_yield_kwh_kwc: float
    suitability: str | None
    shading_loss_pct: float
    system: str
    system_kwc: float
    system_production_kwh_yr: float
    self_consumption_rate: float | None
    annual_savings_eur: float | None
    annual_sales_eur: float | None
    npv_eur: float | None
    payback_years: float | None
    investment_eur: float | None
    co2_avoided_kg_yr: float
    note: str
    status_code: str | None = field(default=None, repr=False)
    scheme: str = field(default="aucun", repr=False)
    load_source: str | None = field(default=None, repr=False)
    geometry: shapely.Geometry | None = field(default=None, repr=False)

    def value(self, key: str) -> Any:
        return getattr(self, key)


@dataclass(frozen=True)
class ReportBuilding:
    """What :func:`assess` needs of one building.

    Attributes
    ----------
    record : solar.cadastre.BuildingRecord
    address : str or None
        Its first BAN address.
    entry : PortfolioEntry or None
        Its portfolio entry; None outside the portfolio.
    """

    record: BuildingRecord
    address: str | None
    entry: PortfolioEntry | None


@dataclass(frozen=True)
class Totals:
    """Sums over a report's rows; the system's figures, the roofs' in ``roof_*``."""

    buildings: int
    retained: int
    roof_kwc: float
    roof_production_kwh_yr: float
    system_kwc: float
    system_production_kwh_yr: float
    investment_eur: float
    co2_avoided_kg_yr: float
    by_status: dict[str, int]
    by_system: dict[str, int]


@dataclass(frozen=True, eq=False)
class CommuneReport:
    """A commune's report: its rows, ranked, and what they were computed with.

    Attributes
    ----------
    commune_insee, commune_name : str
    scope : str
        ``portfolio`` (the portfolio's buildings) or ``all`` (every building).
    tariff_date : datetime.date
    generated_at : datetime.datetime
        UTC.
    rows : tuple of ReportRow
        Ranked by annual production of the roof, largest first.
    crs : pyproj.CRS
        Of the rows' footprints (the cadastre's).
    faces : mapping of building id to tuple of FaceRecord
        The roof faces of the retained buildings, for the PDF's pages.
    sources : tuple of str
        Sources of the tariff rows used.
    stale : tuple of str
        Tariff tables the date is past the end of.
    notes : tuple of str
        How the figures were computed, in French, for the XLSX summary and the PDF.
    """

    commune_insee: str
    commune_name: str
    scope: Scope
    tariff_date: dt.date
    generated_at: dt.datetime
    rows: tuple[ReportRow, ...]
    crs: CRS
    faces: Mapping[str, tuple[FaceRecord, ...]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def totals(self) -> Totals:
        rows = self.rows
        return Totals(
            buildings=len(rows),
            retained=sum(r.status_code == "retenu" for r in rows),
            roof_kwc=sum(r.kwc for r in rows),
            roof_production_kwh_yr=sum(r.production_kwh_yr for r in rows),
            system_kwc=sum(r.system_kwc for r in rows),
            system_production_kwh_yr=sum(r.system_production_kwh_yr for r in rows),
            investment_eur=sum(r.investment_eur or 0.0 for r in rows),
            co2_avoided_kg_yr=sum(r.co2_avoided_kg_yr for r in rows),
            by_status=dict(Counter(r.status for r in rows)),
            by_system=dict(Counter(r.system for r in rows)),
        )

    @property
    def scope_label(self) -> str:
        return "tous les bâtiments" if self.scope == "all" else "portefeuille"


def _module_kwc(record: BuildingRecord) -> float:
    return float(record.kwc) / int(record.panels) if record.panels else 0.0


def _row(
    rank: int,
    building: ReportBuilding,
    recommendation: Recommendation,
    load: BuildingLoad | None,
) -> ReportRow:
    record, entry = building.record, building.entry
    money = recommendation.economics
    usage = entry.usage if entry else None
    return ReportRow(
        rank=rank,
        building_id=record.building_id,
        address=building.address,
        usage=usage_shapes()[usage].label if usage in usage_shapes() else None,
        status=STATUS_LABELS[entry.status] if entry else NO_STATUS,
        kwc=float(record.kwc),
        modules=int(record.panels),
        production_kwh_yr=float(record.production_kwh_yr),
        specific_yield_kwh_kwc=float(record.specific_yield_kwh_kwc),
        suitability=suitability_label(record.suitability),
        shading_loss_pct=float(record.shading_loss_pct),
        system=SCHEME_LABELS[recommendation.scheme],
        system_kwc=recommendation.kwc,
        system_production_kwh_yr=recommendation.production_kwh,
        self_consumption_rate=recommendation.self_consumption_rate,
        annual_savings_eur=money.annual_savings_eur if money else None,
        annual_sales_eur=money.surplus_revenue_eur_yr if money else None,
        npv_eur=money.npv_eur if money else None,
        payback_years=money.payback_years if money else None,
        investment_eur=recommendation.investment_eur or None,
        co2_avoided_kg_yr=recommendation.co2_avoided_kg_yr,
        note=recommendation.note,
        status_code=entry.status if entry else None,
        scheme=recommendation.scheme,
        load_source=load.source if load else None,
        geometry=record.geometry,
    )


def assess(
    cadastre: RoofSource,
    buildings: Sequence[ReportBuilding],
    *,
    commune_insee: str,
    commune_name: str,
    scope: Scope,
    table: CommuneTariffTable,
    tariff_date: dt.date,
    progress: ProgressCallback | None = None,
) -> CommuneReport:
    """The report of a commune's buildings at a tariff date.

    A building whose portfolio entry gives an annual consumption gets its load
    (:func:`solar.communes.loadshapes.building_load`) and a self-consumption sizing on
    its faces' hourly production; the others are sized on their totals. The faces of the
    retained buildings are read for the PDF.

    Parameters
    ----------
    cadastre : RoofSource
        The cadastre, for the faces and their hourly production.
    buildings : sequence of ReportBuilding
    commune_insee, commune_name : str
    scope : {"portfolio", "all"}
    table : CommuneTariffTable
    tariff_date : datetime.date
        Date of the connection request, which sets the tariffs.
    progress : callable, optional
        Called with the share done, from 0 to 1, every 50 buildings.

    Returns
    -------
    CommuneReport
    """
    assessed = []
    faces: dict[str, tuple[FaceRecord, ...]] = {}
    for i, building in enumerate(buildings):
        record, entry = building.record, building.entry
        load = building_load(entry.usage, entry.annual_consumption_kwh) if entry else None
        retained = entry is not None and entry.status == "retenu"
        profiles = modules = None
        module_kwc = _module_kwc(record)
        if load is not None or retained:
            roof = read_roof(cadastre, record.building_id)
            profiles, modules = roof.profiles, roof.modules
            module_kwc = roof.module_kwc or module_kwc
            if retained:
                faces[record.building_id] = roof.faces
        recommendation = recommend(
            table,
            tariff_date,
            kwc=float(record.kwc),
            production_kwh=float(record.production_kwh_yr),
            module_kwc=module_kwc,
            face_profiles_kwh=profiles,
            face_modules=modules,
            load_kwh=load.hourly_kwh if load else None,
        )
        assessed.append((building, recommendation, load))
        if progress is not None and i % 50 == 49:
            progress((i + 1) / len(buildings))
    assessed.sort(key=lambda a: (-a[0].record.production_kwh_yr, a[0].record.building_id))
    ranked = tuple(_row(n, *a) for n, a in enumerate(assessed, start=1))
    # the rows of a 9 - 36 kWc roof name every table used (the VAT is the commune's own)
    reference = table.household_at(tariff_date, 36.0)
    total_sale = table.total_sale(tariff_date, 36.0)
    sources = (
        *(row.source for row in reference.rows if row.table != "vat"),
        *((total_sale.row.source,) if total_sale else ()),
        *table.sources,
    )
    stale = (*reference.stale, *(("oa_total",) if total_sale and total_sale.stale else ()))
    return CommuneReport(
        commune_insee=commune_insee,
        commune_name=commune_name,
        scope=scope,
        tariff_date=tariff_date,
        generated_at=dt.datetime.now(dt.UTC),
        rows=ranked,
        crs=CRS.from_user_input(cadastre.crs.to_wkt()),
        faces=faces,
        sources=tuple(dict.fromkeys(sources)),
        stale=tuple(dict.fromkeys(stale)),
        notes=_notes(table, reference, bool(stale)),
    )


def _percent_fr(rate: float) -> str:
    return f"{100 * rate:.3f}".rstrip("0").rstrip(".").replace(".", ",") + " %"


def _notes(table: CommuneTariffTable, reference: Tariffs, stale: bool) -> tuple[str, ...]:
    """How the economics were computed, in plain French, with the table's own figures."""
    notes: tuple[str, ...] = (
        "Investissement : HT pour la vente totale et l'appel d'offres (la TVA d'une activité "
        f"de vente est déduite), TTC moins le FCTVA ({_percent_fr(table.fctva_rate)}) pour "
        "l'autoconsommation.",
        "Économies au prix TTC du Tarif Bleu, ventes aux tarifs d'achat S21 HT, valeur "
        f"actuelle nette sur 20 ans à {_percent_fr(reference.discount_rate)} par an.",
        f"Au-delà de {table.surplus_max_kwc:g} kWc sans tarif d'achat, le prix est fixé par "
        "appel d'offres : pas de bilan économique.",
        "Consommation : profil type de l'usage déclaré, mis à l'échelle de la consommation "
        "annuelle saisie (vacances scolaires de la zone B pour les écoles).",
    )
    if stale:
        notes = (
            "Attention : la date dépasse la table des tarifs ; les derniers tarifs connus "
            "sont utilisés.",
            *notes,
        )
    return notes


# --------------------------------------------------------------------------- CSV


def _csv_value(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if column.kind == "text":
        return str(value)
    if column.kind == "int":
        return str(int(value))
    number = float(value) * (100.0 if column.kind == "rate" else 1.0)
    return f"{number:.{column.decimals}f}".replace(".", ",")


def write_csv(report: CommuneReport) -> bytes:
    """The report as CSV for French Excel (see the module docstring). Rates are in %."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([f"{c.header} (%)" if c.kind == "rate" else c.header for c in COLUMNS])
    for row in report.rows:
        writer.writerow([_csv_value(row.value(c.key), c) for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


# --------------------------------------------------------------------------- XLSX

_NUMBER_FORMATS: dict[str, str] = {
    "int": "0",
    "eur": '#,##0 "€"',
    "rate": "0.0%",
}
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_TITLE_FONT = Font(bold=True, size=14)
_BOLD = Font(bold=True)


def _number_format(column: Column) -> str | None:
    if column.kind == "float":
        return "0" if column.decimals == 0 else "0." + "0" * column.decimals
    return _NUMBER_FORMATS.get(column.kind)


def _column_width(column: Column) -> float:
    if column.key == "address":
        return 40.0
    return max(10.0, min(30.0, len(column.header) * 0.9))


def _summary_lines(report: CommuneReport) -> list[tuple[str, Any, str | None]]:
    totals = report.totals
    lines: list[tuple[str, Any, str | None]] = [
        ("Commune", f"{report.commune_name} ({report.commune_insee})", None),
        ("Périmètre", report.scope_label, None),
        ("Date des tarifs", report.tariff_date, "dd/mm/yyyy"),
        ("Rapport produit le (UTC)", report.generated_at.replace(tzinfo=None), "dd/mm/yyyy hh:mm"),
        ("Bâtiments", totals.buildings, "0"),
        ("Bâtiments retenus", totals.retained, "0"),
        ("Puissance des toitures (kWc)", totals.roof_kwc, "#,##0.0"),
        ("Production des toitures (MWh/an)", totals.roof_production_kwh_yr / 1000, "#,##0.0"),
        ("Puissance recommandée (kWc)", totals.system_kwc, "#,##0.0"),
        ("Production recommandée (MWh/an)", totals.system_production_kwh_yr / 1000, "#,##0.0"),
        ("Investissement (€)", totals.investment_eur, '#,##0 "€"'),
        ("CO2 évité (t/an)", totals.co2_avoided_kg_yr / 1000, "#,##0.0"),
    ]
    lines += [(f"Statut : {k}", v, "0") for k, v in sorted(totals.by_status.items())]
    lines += [(f"Système : {k}", v, "0") for k, v in sorted(totals.by_system.items())]
    return lines


def _summary_sheet(workbook: Workbook, report: CommuneReport) -> None:
    sheet = workbook.create_sheet("Synthèse")
    sheet.column_dimensions["A"].width = 38
    sheet.column_dimensions["B"].width = 40
    title = WriteOnlyCell(sheet, f"Cadastre solaire – {report.commune_name}")
    title.font = _TITLE_FONT
    sheet.append([title])
    sheet.append([])
    for name, value, number_format in _summary_lines(report):
        name_cell = WriteOnlyCell(sheet, name)
        name_cell.font = _BOLD
        value_cell = WriteOnlyCell(sheet, value)
        if number_format:
            value_cell.number_format = number_format
        sheet.append([name_cell, value_cell])
    sheet.append([])
    notes = [*report.notes, "Sources des tarifs :", *report.sources]
    for note in notes:
        sheet.append([note])


def _buildings_sheet(workbook: Workbook, report: CommuneReport) -> None:
    sheet = workbook.create_sheet("Bâtiments")
    for i, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = _column_width(column)
    sheet.freeze_panes = "C2"
    last = get_column_letter(len(COLUMNS))
    sheet.auto_filter.ref = f"A1:{last}{len(report.rows) + 1}"
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, column.header)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)
    formats = [_number_format(c) for c in COLUMNS]
    for row in report.rows:
        cells: list[Any] = []
        for column, number_format in zip(COLUMNS, formats, strict=True):
            value = row.value(column.key)
            if number_format is None or value is None:
                cells.append(value)
                continue
            cell = WriteOnlyCell(sheet, int(value) if column.kind == "int" else float(value))
            cell.number_format = number_format
            cells.append(cell)
        sheet.append(cells)


def write_xlsx(report: CommuneReport) -> bytes:
    """The report as an Excel workbook: "Synthèse", then "Bâtiments"."""
    workbook = Workbook(write_only=True)
    _summary_sheet(workbook, report)
    _buildings_sheet(workbook, report)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- GeoJSON


def _to_wgs84(geometries: np.ndarray, crs: CRS) -> np.ndarray:
    transformer = Transformer.from_crs(crs, 4326, always_xy=True)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([x, y]), 7)

    projected = shapely.transform(geometries, project)
    # RFC 7946 section 3.1.6: exteriors counter-clockwise, holes clockwise
    return np.asarray(shapely.orient_polygons(projected, exterior_cw=False))


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_geojson(report: CommuneReport) -> bytes:
    """The report as an RFC 7946 FeatureCollection in WGS84 (see the module docstring)."""
    geometries = np.array([r.geometry for r in report.rows], dtype=object)
    projected = _to_wgs84(geometries, report.crs) if len(geometries) else geometries
    features = [
        {
            "type": "Feature",
            "id": row.building_id,
            "geometry": shapely.geometry.mapping(geometry),
            "properties": {c.key: _json_value(row.value(c.key)) for c in COLUMNS}
            | {"commune_insee": report.commune_insee},
        }
        for row, geometry in zip(report.rows, projected, strict=True)
    ]
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- operation


def _header_row(sheet: Any, headers: Sequence[str]) -> None:
    cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, text)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cells.append(cell)
    sheet.append(cells)


def _typed(sheet: Any, value: Any, number_format: str | None) -> Any:
    if number_format is None or value is None:
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = number_format
    return cell


_TOTALS_HEADERS = ("Bâtiments", "Puissance (kWc)", "Production (MWh/an)", "Investissement HT (€)")
_TOTALS_FORMATS = ("0", "#,##0.0", "#,##0.0", '#,##0 "€"')


def _totals_sheet(
    workbook: Workbook, title: str, first: Sequence[str], groups: Sequence[Any], total: Any
) -> None:
    sheet = workbook.create_sheet(title)
    for i, width in enumerate((16, 36, 12, 18, 20, 24), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    _header_row(sheet, (*first, *_TOTALS_HEADERS))
    for group in (*groups, total):
        values = (group.buildings, group.kwc, group.mwh_yr, group.investment_ht_eur)
        sheet.append(
            [
                group.key,
                group.label,
                *(_typed(sheet, v, f) for v, f in zip(values, _TOTALS_FORMATS, strict=True)),
            ]
        )


def write_operation_xlsx(operation: Operation, *, tariff_date: dt.date) -> bytes:
    """The PMA's operation as a workbook: totals by lot, by commune, then the buildings.

    Sheets: "Lots" (one row per power class of :data:`solar.communes.operation.LOTS`, then
    the total), "Communes" (one row per commune, then the total), "Bâtiments" (every
    retained building with its commune and lot, header frozen, autofilter).
    """
    workbook = Workbook(write_only=True)
    _totals_sheet(
        workbook, "Lots", ("Lot", "Classe de puissance"), operation.by_lot, operation.total
    )
    _totals_sheet(workbook, "Communes", ("INSEE", "Commune"), operation.by_commune, operation.total)
    sheet = workbook.create_sheet("Bâtiments")
    headers = (
        "INSEE",
        "Commune",
        "Bâtiment",
        "Usage",
        "Lot",
        "Puissance (kWc)",
        "Production (kWh/an)",
        "Investissement HT (€)",
    )
    for i, width in enumerate((10, 28, 24, 18, 26, 16, 20, 22), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:H{len(operation.items) + 1}"
    _header_row(sheet, headers)
    labels = {lot.key: lot.label for lot in LOTS}
    for item in operation.items:
        usage = usage_shapes()[item.usage].label if item.usage in usage_shapes() else None
        sheet.append(
            [
                item.commune_insee,
                item.commune_name,
                item.building_id,
                usage,
                labels[item.lot.key],
                _typed(sheet, item.kwc, "#,##0.0"),
                _typed(sheet, item.production_kwh, "#,##0"),
                _typed(sheet, item.investment_ht_eur, '#,##0 "€"'),
            ]
        )
    sheet.append([])
    sheet.append([f"Tarifs et coûts au {tariff_date:%d/%m/%Y} ; investissement HT (achat groupé)."])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
