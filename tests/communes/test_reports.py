"""Each report opened by a real reader: csv, openpyxl, a GeoJSON model, a PDF reader."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import numpy as np
import pypdf
import pytest
import shapely
from geojson_pydantic import FeatureCollection
from openpyxl import load_workbook

from solar.communes.economics import CommuneTariffTable
from solar.communes.operation import OperationItem, gather
from solar.communes.pdf import write_pdf
from solar.communes.reports import (
    COLUMNS,
    CommuneReport,
    assess,
    write_csv,
    write_geojson,
    write_operation_xlsx,
    write_xlsx,
)
from tests.communes import synthetic

N_BUILDINGS = 40
RETAINED = ("BAT00000", "BAT00007", "BAT00013")
DATE = dt.date(2026, 1, 15)


@pytest.fixture(scope="module")
def records() -> list:
    return synthetic.commune(N_BUILDINGS)[1]


@pytest.fixture(scope="module")
def report() -> CommuneReport:
    cadastre, records = synthetic.commune(N_BUILDINGS)
    entries = {b: synthetic.entry(b, "retenu", "ecole", 50_000.0) for b in RETAINED}
    entries["BAT00001"] = synthetic.entry("BAT00001", "ecarte")
    entries["BAT00002"] = synthetic.entry("BAT00002", "a_etudier", "mairie")
    return assess(
        cadastre,
        synthetic.report_buildings(records, entries),
        commune_insee=synthetic.LENS_INSEE,
        commune_name="Lens",
        scope="all",
        table=CommuneTariffTable.load(),
        tariff_date=DATE,
    )


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def test_rows_are_ranked_by_production(report: CommuneReport, records: list) -> None:
    production = [r.production_kwh_yr for r in report.rows]
    assert production == sorted(production, reverse=True)
    assert [r.rank for r in report.rows] == list(range(1, N_BUILDINGS + 1))
    assert sum(production) == pytest.approx(sum(r.production_kwh_yr for r in records))
    by_id = {r.building_id: r for r in report.rows}
    assert by_id["BAT00001"].status == "Écarté"
    assert by_id["BAT00003"].status == "Hors portefeuille"
    assert by_id["BAT00000"].system == "Autoconsommation avec vente du surplus"
    assert by_id["BAT00000"].load_source == "profil type : École"
    assert set(report.faces) == set(RETAINED)


def test_csv_opens_in_the_csv_module(report: CommuneReport, records: list) -> None:
    data = write_csv(report)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM French Excel needs
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[1] == "Bâtiment" and len(header) == len(COLUMNS)
    assert len(body) == N_BUILDINGS
    kwc = header.index("Puissance de la toiture (kWc)")
    assert sum(_number(r[kwc]) for r in body) == pytest.approx(
        sum(r.kwc for r in records), abs=0.05 * N_BUILDINGS
    )
    rate = header.index("Taux d'autoconsommation (%)")
    retained = [r for r in body if r[1] in RETAINED]
    assert all(0 < _number(r[rate]) <= 100 for r in retained)
    assert all(r[rate] == "" for r in body if r[1] not in RETAINED)


def test_xlsx_has_a_summary_and_typed_columns(report: CommuneReport, records: list) -> None:
    workbook = load_workbook(io.BytesIO(write_xlsx(report)))
    assert workbook.sheetnames == ["Synthèse", "Bâtiments"]
    summary = {r[0]: r[1] for r in workbook["Synthèse"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Commune"] == "Lens (62498)"
    assert summary["Bâtiments"] == N_BUILDINGS
    assert summary["Bâtiments retenus"] == len(RETAINED)
    sheet = workbook["Bâtiments"]
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref == f"A1:V{N_BUILDINGS + 1}"
    header = [c.value for c in sheet[1]]
    assert header == [c.header for c in COLUMNS]
    kwc = header.index("Puissance de la toiture (kWc)") + 1
    values = [sheet.cell(row=i, column=kwc).value for i in range(2, N_BUILDINGS + 2)]
    assert all(isinstance(v, int | float) for v in values)  # numbers, not text
    assert sum(values) == pytest.approx(sum(r.kwc for r in records))
    investment = header.index("Investissement (€)") + 1
    assert sheet.cell(row=2, column=investment).number_format == '#,##0 "€"'
    rate = header.index("Taux d'autoconsommation") + 1
    rates = [sheet.cell(row=i, column=rate) for i in range(2, N_BUILDINGS + 2)]
    assert {c.number_format for c in rates if c.value is not None} == {"0.0%"}


def test_geojson_is_rfc7946(report: CommuneReport, records: list) -> None:
    document = json.loads(write_geojson(report))
    collection = FeatureCollection.model_validate(document)
    assert len(collection.features) == N_BUILDINGS
    assert "crs" not in document  # RFC 7946 drops it: WGS84 only
    for feature in document["features"]:
        polygon = shapely.geometry.shape(feature["geometry"])
        assert polygon.is_valid
        assert shapely.is_ccw(polygon.exterior)  # right-hand rule, section 3.1.6
        lon, lat = polygon.centroid.x, polygon.centroid.y
        assert 2.7 < lon < 2.9 and 50.3 < lat < 50.5  # Lens
        assert set(feature["properties"]) >= {c.key for c in COLUMNS}
    # a 12 x 10 m footprint keeps its area once projected back (1 cm coordinates)
    first = shapely.geometry.shape(document["features"][0]["geometry"])
    assert np.isclose(_area_m2(first), 120.0, rtol=0.01)


def _area_m2(polygon: shapely.Polygon) -> float:
    from pyproj import Transformer

    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True)
    return shapely.transform(polygon, lambda c: np.column_stack(to_l93.transform(*c.T))).area


def test_pdf_opens_in_a_pdf_reader(report: CommuneReport) -> None:
    reader = pypdf.PdfReader(io.BytesIO(write_pdf(report)))
    # cover, totals, map, then one page per retained building
    assert len(reader.pages) == 3 + len(RETAINED)
    texts = [page.extract_text() for page in reader.pages]
    assert "Lens" in texts[0] and "62498" in texts[0]
    assert "Totaux" in texts[1]
    assert "Carte des bâtiments" in texts[2] and "Retenu (3)" in texts[2]
    ranked = [r.building_id for r in report.rows if r.building_id in RETAINED]
    for page, building_id in zip(texts[3:], ranked, strict=True):
        assert f"Bâtiment {building_id}" in page
        assert "Système recommandé" in page


def test_operation_workbook_totals() -> None:
    items = [
        OperationItem("62498", "Lens", "a", "ecole", 8.0, 8_000.0, 16_000.0),
        OperationItem("62498", "Lens", "b", "mairie", 60.0, 55_000.0, 66_000.0),
        OperationItem("62510", "Liévin", "c", None, 250.0, 230_000.0, 225_000.0),
    ]
    operation = gather(items)
    workbook = load_workbook(io.BytesIO(write_operation_xlsx(operation, tariff_date=DATE)))
    assert workbook.sheetnames == ["Lots", "Communes", "Bâtiments"]
    lots = list(workbook["Lots"].iter_rows(min_row=2, values_only=True))
    assert lots[-1][:3] == ("total", "Total", 3)
    assert lots[-1][3] == pytest.approx(318.0)
    assert lots[-1][4] == pytest.approx(293.0)  # MWh/yr
    assert lots[-1][5] == pytest.approx(307_000.0)
    assert [row[2] for row in lots[:-1]] == [1, 0, 1, 1, 0]
    communes = list(workbook["Communes"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[2]) for r in communes] == [("62498", 2), ("62510", 1), ("total", 3)]
    buildings = list(workbook["Bâtiments"].iter_rows(min_row=2, max_row=4, values_only=True))
    assert [r[2] for r in buildings] == ["b", "a", "c"]


def test_an_empty_portfolio_still_opens() -> None:
    cadastre, _ = synthetic.commune(1)
    empty = assess(
        cadastre,
        [],
        commune_insee=synthetic.LENS_INSEE,
        commune_name="Lens",
        scope="portfolio",
        table=CommuneTariffTable.load(),
        tariff_date=DATE,
    )
    assert _number_of_rows(write_csv(empty)) == 1  # the header
    assert load_workbook(io.BytesIO(write_xlsx(empty)))["Bâtiments"].max_row == 1
    assert FeatureCollection.model_validate(json.loads(write_geojson(empty))).features == []
    assert len(pypdf.PdfReader(io.BytesIO(write_pdf(empty))).pages) == 3


def _number_of_rows(data: bytes) -> int:
    return len(list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";")))
