"""The demo territory: the three real samples, built, merged and served."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from solar import demo
from solar.cadastre import Cadastre


@pytest.fixture(scope="module")
def demo_cadastre(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "cadastre.gpkg"
    demo.build_demo(out=out)
    return out


def test_demo_holds_every_sample_in_lambert93(demo_cadastre: Path) -> None:
    store = Cadastre(demo_cadastre)
    assert store.crs.to_epsg() == 2154
    parts = [p["part"] for p in store.provenance()["parts"]]
    assert parts == [f"{s.name}.gpkg" for s in demo.SAMPLES]
    summary = store.summary()
    assert summary["buildings"] >= 160 + 6 + 1  # Delft, Burgundy in the LAZ, Montpellier
    assert summary["kwc"] > 0


def test_every_demo_address_stands_on_its_building(demo_cadastre: Path) -> None:
    with sqlite3.connect(demo_cadastre) as con:
        rows = con.execute(
            "SELECT nom_commune, count(*), count(building_id) FROM addresses GROUP BY 1"
        ).fetchall()
    assert {r[0] for r in rows} == {s.nom_commune for s in demo.SAMPLES}
    for commune, n, linked in rows:
        assert n == linked, commune
        assert commune.endswith("(démo)")


def test_demo_is_served_and_found_by_search(demo_cadastre: Path) -> None:
    client = TestClient(create_app(Settings(path=demo_cadastre)))
    hits = client.get("/api/v1/addresses", params={"q": "rue"}).json()["results"]
    assert hits
    solar = client.get(f"/api/v1/addresses/{hits[0]['address_id']}/solar")
    assert solar.status_code == 200
    assert solar.json()["building"]["faces"]
