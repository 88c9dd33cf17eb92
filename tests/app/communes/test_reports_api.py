"""The report endpoints and their jobs, opened by real readers, and the job across a restart.

An app of its own, on its own store, so that the portfolio written here does not reach the
other tests of the communes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from geojson_pydantic import FeatureCollection
from openpyxl import load_workbook

from app.communes.store import Store
from app.main import create_app
from app.routers import reports
from app.settings import Settings
from solar.communes.portfolio import PortfolioEntry
from solar.household.loadcurves import read_linky
from solar.resources import LINKY_EXAMPLE
from tests.app.communes.conftest import LENS, LOUHANS, Keys
from tests.app.conftest import BURGUNDY_ROWS

#: The Lens portfolio: two retained buildings (one with a consumption), one ruled out for
#: its structure that still consumes; BAT_FLAT_C is outside the portfolio.
PORTFOLIO = {
    "BAT_GABLE_A": {"status": "retenu", "usage": "ecole", "annual_consumption_kwh": 30_000},
    "BAT_HIP_D": {"status": "retenu", "usage": "mairie"},
    "BAT_GABLE_B": {
        "status": "ecarte",
        "reason": "structure",
        "usage": "mairie",
        "annual_consumption_kwh": 20_000,
    },
}
RETAINED = ("BAT_GABLE_A", "BAT_HIP_D")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reports") / "communes.sqlite"


@pytest.fixture(scope="module")
def report_keys(db: Path) -> Keys:
    store = Store(db)
    try:
        return Keys(
            lens=store.create_key("Mairie de Lens", [LENS])[1],
            louhans=store.create_key("Mairie de Louhans", [LOUHANS])[1],
            territory=store.create_key("PMA énergie", None)[1],
            revoked="",
        )
    finally:
        store.close()


@pytest.fixture(scope="module")
def report_app(cadastre_path: Path, db: Path, report_keys: Keys) -> FastAPI:
    return create_app(Settings(path=cadastre_path, db=str(db)))


@pytest.fixture(scope="module")
def client(report_app: FastAPI, report_keys: Keys) -> Iterator[TestClient]:
    with TestClient(report_app) as test_client:
        for building_id, body in PORTFOLIO.items():
            response = test_client.put(
                f"/api/v1/communes/{LENS}/portfolio/{building_id}",
                json=body,
                headers=Keys.bearer(report_keys.lens),
            )
            assert response.status_code == 201, response.text
        yield test_client


@pytest.fixture(scope="module")
def lens_rows(cadastre_path: Path) -> dict[str, sqlite3.Row]:
    con = sqlite3.connect(cadastre_path)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute("SELECT * FROM buildings WHERE commune_insee = ?", (LENS,))
        return {r["building_id"]: r for r in rows}
    finally:
        con.close()


def _get(client: TestClient, key: str, path: str) -> bytes:
    response = client.get(path, headers=Keys.bearer(key))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.content


def _csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    return rows[0], rows[1:]


def test_csv_report_of_the_portfolio(
    client: TestClient, report_keys: Keys, lens_rows: dict[str, sqlite3.Row]
) -> None:
    header, body = _csv(_get(client, report_keys.lens, f"/api/v1/communes/{LENS}/report.csv"))
    ids = [r[header.index("Bâtiment")] for r in body]
    assert set(ids) == set(PORTFOLIO)
    production = header.index("Production (kWh/an)")
    for row in body:
        expected = lens_rows[row[1]]["production_kwh_yr"]
        assert float(row[production].replace(",", ".")) == pytest.approx(expected, abs=0.5)
    # ranked by production, largest first
    values = [float(r[production].replace(",", ".")) for r in body]
    assert values == sorted(values, reverse=True)
    status = {r[1]: r[header.index("Statut")] for r in body}
    assert status == {"BAT_GABLE_A": "Retenu", "BAT_HIP_D": "Retenu", "BAT_GABLE_B": "Écarté"}
    # every building of the commune with scope=all, the one outside the portfolio included
    url = f"/api/v1/communes/{LENS}/report.csv?scope=all"
    header, body = _csv(_get(client, report_keys.lens, url))
    assert {r[1]: r[header.index("Statut")] for r in body} == status | {
        "BAT_FLAT_C": "Hors portefeuille"
    }


def test_every_format_opens_in_its_reader(
    client: TestClient, report_keys: Keys, lens_rows: dict[str, sqlite3.Row]
) -> None:
    base = f"/api/v1/communes/{LENS}/report"
    workbook = load_workbook(io.BytesIO(_get(client, report_keys.lens, f"{base}.xlsx")))
    assert workbook.sheetnames == ["Synthèse", "Bâtiments"]
    assert workbook["Bâtiments"].max_row == len(PORTFOLIO) + 1
    collection = FeatureCollection.model_validate(
        json.loads(_get(client, report_keys.lens, f"{base}.geojson?scope=all"))
    )
    assert {f.id for f in collection.features} == set(lens_rows)
    reader = pypdf.PdfReader(io.BytesIO(_get(client, report_keys.lens, f"{base}.pdf")))
    assert len(reader.pages) == 3 + len(RETAINED)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Lens" in reader.pages[0].extract_text()
    for building_id in RETAINED:
        assert f"Bâtiment {building_id}" in text
    assert "BAT_GABLE_B" not in text  # a building ruled out gets no page


def test_report_access(client: TestClient, report_keys: Keys) -> None:
    path = f"/api/v1/communes/{LENS}/report.csv"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=Keys.bearer(report_keys.louhans)).status_code == 403
    assert client.get(path, headers=Keys.bearer(report_keys.territory)).status_code == 200
    bad = client.get(f"/api/v1/communes/{LENS}/report.doc", headers=Keys.bearer(report_keys.lens))
    assert bad.status_code == 422


def _wait(client: TestClient, key: str, status_url: str) -> dict:
    for _ in range(300):
        state = client.get(status_url, headers=Keys.bearer(key)).json()
        if state["state"] in ("done", "failed"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"the job did not end: {state}")


def test_a_large_report_runs_as_a_job(
    client: TestClient, report_keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = _get(client, report_keys.lens, f"/api/v1/communes/{LENS}/report.csv?scope=all")
    monkeypatch.setattr(reports, "DIRECT_LIMIT", 2)
    response = client.get(
        f"/api/v1/communes/{LENS}/report.csv?scope=all", headers=Keys.bearer(report_keys.lens)
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == job["status_url"]
    assert job["state"] in ("queued", "running", "done") and job["format"] == "csv"
    done = _wait(client, report_keys.lens, job["status_url"])
    assert done["state"] == "done" and done["progress"] == 1.0
    assert _get(client, report_keys.lens, done["file_url"]) == direct
    # another commune's key reaches neither the job nor its file
    other = client.get(done["status_url"], headers=Keys.bearer(report_keys.louhans))
    assert other.status_code == 403


def test_report_jobs_endpoint(client: TestClient, report_keys: Keys) -> None:
    response = client.post(
        f"/api/v1/communes/{LENS}/report-jobs",
        json={"format": "xlsx", "scope": "portfolio", "tariff_date": "2025-08-01"},
        headers=Keys.bearer(report_keys.lens),
    )
    assert response.status_code == 202, response.text
    done = _wait(client, report_keys.lens, response.json()["status_url"])
    workbook = load_workbook(io.BytesIO(_get(client, report_keys.lens, done["file_url"])))
    summary = {r[0]: r[1] for r in workbook["Synthèse"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Date des tarifs"].date().isoformat() == "2025-08-01"
    unknown = client.get(
        f"/api/v1/communes/{LENS}/report-jobs/nope", headers=Keys.bearer(report_keys.lens)
    )
    assert unknown.status_code == 404
    bad = client.post(
        f"/api/v1/communes/{LENS}/report-jobs",
        json={"format": "docx"},
        headers=Keys.bearer(report_keys.lens),
    )
    assert bad.status_code == 422


def test_a_queued_job_survives_a_restart(cadastre_path: Path, tmp_path: Path) -> None:
    # A job queued by a service that stopped before taking it (its own store, with no
    # other service running on it) is run by the next service to start.
    db = tmp_path / "restart.sqlite"
    store = Store(db)
    try:
        key_id, key = store.create_key("Mairie de Lens", [LENS])
        now = dt.datetime.now(dt.UTC)
        for building_id in RETAINED:
            entry = PortfolioEntry(LENS, building_id, "retenu", None, None, None, None, now, "")
            store.put_entry(entry, key_id=key_id)
        job_id = store.create_job(
            reports.JOB_KIND,
            LENS,
            {"format": "pdf", "scope": "portfolio", "tariff_date": "2026-01-15"},
            key_id,
        )
    finally:
        store.close()
    with TestClient(create_app(Settings(path=cadastre_path, db=str(db)))) as restarted:
        status_url = f"/api/v1/communes/{LENS}/report-jobs/{job_id}"
        done = _wait(restarted, key, status_url)
        assert done["state"] == "done", done
        pdf = _get(restarted, key, done["file_url"])
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 3 + len(RETAINED)


def test_operation_workbook(client: TestClient, report_keys: Keys) -> None:
    path = "/api/v1/operation/report.xlsx"
    assert client.get(path, headers=Keys.bearer(report_keys.lens)).status_code == 403
    workbook = load_workbook(io.BytesIO(_get(client, report_keys.territory, path)))
    lots = list(workbook["Lots"].iter_rows(min_row=2, values_only=True))
    total = lots[-1]
    assert total[0] == "total" and total[2] == len(RETAINED)
    # the lots' sums are the total's
    assert sum(row[3] for row in lots[:-1]) == pytest.approx(total[3])
    # and the recommended systems of the report's retained rows
    header, body = _csv(_get(client, report_keys.lens, f"/api/v1/communes/{LENS}/report.csv"))
    kwc = header.index("Puissance recommandée (kWc)")
    retained = [float(r[kwc].replace(",", ".")) for r in body if r[1] in RETAINED]
    assert total[3] == pytest.approx(sum(retained), abs=0.05 * len(RETAINED))
    buildings = list(workbook["Bâtiments"].iter_rows(min_row=2, values_only=True))
    assert {row[2] for row in buildings if row[0] == LENS} == set(RETAINED)


def test_collective_balance(
    client: TestClient, report_keys: Keys, lens_rows: dict[str, sqlite3.Row]
) -> None:
    def balance(query: str) -> dict:
        response = client.get(
            f"/api/v1/communes/{LENS}/collective?{query}", headers=Keys.bearer(report_keys.lens)
        )
        assert response.status_code == 200, response.text
        return response.json()

    dynamic = balance("perimeter_km=2&allocation=dynamic")
    # producers: the two retained roofs; consumers: A (30,000 kWh) and B (20,000 kWh)
    production = sum(lens_rows[b]["production_kwh_yr"] for b in RETAINED)
    assert dynamic["production_kwh"] == pytest.approx(production, rel=0.01)
    assert dynamic["consumption_kwh"] == pytest.approx(50_000.0)
    assert {p["building_id"] for p in dynamic["participants"]} == {*RETAINED, "BAT_GABLE_B"}
    assert dynamic["excluded"] == []
    assert dynamic["diameter_m"] < 200  # the Lens buildings stand side by side
    assert dynamic["self_consumed_kwh"] + dynamic["surplus_kwh"] == pytest.approx(
        dynamic["production_kwh"]
    )
    # pooling never uses less of the production than each building on its own
    assert dynamic["self_consumed_kwh"] >= dynamic["alone_self_consumed_kwh"] - 1e-6
    static = balance("allocation=static")
    assert static["self_consumed_kwh"] <= dynamic["self_consumed_kwh"] + 1e-6
    for query in ("perimeter_km=0", "perimeter_km=50", "allocation=greedy"):
        response = client.get(
            f"/api/v1/communes/{LENS}/collective?{query}", headers=Keys.bearer(report_keys.lens)
        )
        assert response.status_code == 422, query


def test_a_buildings_own_load_curve_sizes_its_system(
    client: TestClient, report_keys: Keys, db: Path
) -> None:
    """The Enedis export replaces the load shape, for this request only."""
    path = f"/api/v1/communes/{LENS}/buildings/BAT_GABLE_A/recommendation"
    curve = LINKY_EXAMPLE.read_bytes()
    journal = len(Store(str(db)).journal())
    response = client.post(
        path,
        files={"file": ("courbe.csv", curve, "text/csv")},
        data={"tariff_date": "2026-01-15"},
        headers=Keys.bearer(report_keys.lens),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["load_source"] == "courbe Enedis"
    assert body["consumption_kwh_yr"] == pytest.approx(read_linky(curve).annual_kwh, abs=0.1)
    assert body["scheme"] in ("autoconsommation", "vente_totale", "appel_d_offres", "aucun")
    if body["scheme"] == "autoconsommation":
        assert 0 < body["self_consumption_rate"] <= 1 and 0 < body["self_sufficiency_rate"] <= 1
    assert response.headers["cache-control"] == "no-store"
    assert len(Store(str(db)).journal()) == journal  # nothing written
    # another commune's key, a building of another commune, a file that is no curve
    files = {"file": ("courbe.csv", curve, "text/csv")}
    assert (
        client.post(path, files=files, headers=Keys.bearer(report_keys.louhans)).status_code == 403
    )
    outside = client.post(
        f"/api/v1/communes/{LENS}/buildings/{BURGUNDY_ROWS[0][3]}/recommendation",
        files=files,
        headers=Keys.bearer(report_keys.territory),
    )
    assert outside.status_code == 404
    bad = client.post(
        path,
        files={"file": ("courbe.csv", b"not;a;curve\n1;2;3\n", "text/csv")},
        headers=Keys.bearer(report_keys.lens),
    )
    assert bad.status_code == 422
    binary = client.post(
        path,
        files={"file": ("courbe.csv", bytes(range(256)) * 8, "text/csv")},
        headers=Keys.bearer(report_keys.lens),
    )
    assert binary.status_code == 422
    assert binary.json()["detail"].startswith("file")
