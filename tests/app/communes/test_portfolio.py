"""A commune's buildings and portfolio over HTTP, and the portfolio across restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.communes.store import Store
from app.main import create_app
from app.settings import Settings
from tests.app.communes.conftest import LENS, Keys
from tests.app.conftest import ADDRESS_BUILDING, ADDRESS_ROWS, BUILDING_IDS, lens_addresses


def _lens_buildings(cadastre_path: Path) -> list[sqlite3.Row]:
    """The Lens rows of the buildings layer, read with sqlite3 directly."""
    con = sqlite3.connect(cadastre_path)
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT * FROM buildings WHERE commune_insee = ?", (LENS,)).fetchall()
    finally:
        con.close()


def _pages(client: TestClient, key: str, query: str) -> list[dict]:
    items: list[dict] = []
    cursor = None
    for _ in range(50):
        url = f"/api/v1/communes/{LENS}/buildings?{query}"
        response = client.get(
            url + (f"&cursor={cursor}" if cursor else ""), headers=Keys.bearer(key)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ends")


def test_the_listing_pages_through_every_building_in_order(
    communes_client: TestClient, keys: Keys, cadastre_path: Path
) -> None:
    rows = _lens_buildings(cadastre_path)
    assert {r["building_id"] for r in rows} == set(BUILDING_IDS)
    by_kwc = [r["building_id"] for r in sorted(rows, key=lambda r: (-r["kwc"], r["building_id"]))]
    assert [i["building_id"] for i in _pages(communes_client, keys.lens, "limit=1")] == by_kwc
    by_yield = [
        r["building_id"]
        for r in sorted(rows, key=lambda r: (r["specific_yield_kwh_kwc"], r["building_id"]))
    ]
    listed = _pages(communes_client, keys.lens, "limit=3&sort=specific_yield_kwh_kwc")
    assert [i["building_id"] for i in listed] == by_yield


def test_listing_items_carry_the_building_and_its_address(
    communes_client: TestClient, keys: Keys, cadastre_path: Path
) -> None:
    rows = {r["building_id"]: r for r in _lens_buildings(cadastre_path)}
    items = _pages(communes_client, keys.territory, "limit=100")
    first_label = {}
    for address, (address_id, *_rest) in zip(lens_addresses(), ADDRESS_ROWS, strict=True):
        building = ADDRESS_BUILDING[address_id]
        if building is not None:
            first_label.setdefault(building, address.label)
    for item in items:
        row = rows[item["building_id"]]
        assert item["address"] == first_label[item["building_id"]]
        assert item["kwc"] == pytest.approx(row["kwc"], abs=1e-3)
        assert item["panels"] == row["panels"]
        assert item["suitability"] == row["suitability"]
        assert item["footprint_check"] == row["footprint_check"]
        lon, lat = item["position"]
        assert 2.80 < lon < 2.86 and 50.41 < lat < 50.45  # Lens
        assert item["portfolio"] is None or item["portfolio"]["building_id"] == row["building_id"]


def test_listing_filters(communes_client: TestClient, keys: Keys, cadastre_path: Path) -> None:
    rows = _lens_buildings(cadastre_path)
    threshold = sorted(r["kwc"] for r in rows)[len(rows) // 2]
    expected = {r["building_id"] for r in rows if r["kwc"] >= threshold}
    listed = _pages(communes_client, keys.lens, f"min_kwc={threshold}")
    assert {i["building_id"] for i in listed} == expected
    suitability = rows[0]["suitability"]
    listed = _pages(communes_client, keys.lens, f"suitability={suitability}")
    assert {i["building_id"] for i in listed} == {
        r["building_id"] for r in rows if r["suitability"] == suitability
    }
    usages = {r["usage_1"] for r in rows} | {"Résidentiel"}
    for usage in sorted(u for u in usages if u):
        listed = _pages(communes_client, keys.lens, f"usage={usage}")
        assert {i["building_id"] for i in listed} == {
            r["building_id"] for r in rows if r["usage_1"] == usage
        }


@pytest.mark.parametrize(
    "query",
    ["sort=height", "cursor=not-a-cursor", "suitability=great", "limit=0", "limit=501", "status=x"],
)
def test_bad_listing_parameters(communes_client: TestClient, keys: Keys, query: str) -> None:
    response = communes_client.get(
        f"/api/v1/communes/{LENS}/buildings?{query}", headers=Keys.bearer(keys.lens)
    )
    assert response.status_code == 422, response.text


def test_a_cursor_is_bound_to_its_sort(communes_client: TestClient, keys: Keys) -> None:
    headers = Keys.bearer(keys.lens)
    first = communes_client.get(f"/api/v1/communes/{LENS}/buildings?limit=1", headers=headers)
    cursor = first.json()["next"]
    other = communes_client.get(
        f"/api/v1/communes/{LENS}/buildings?limit=1&sort=panels&cursor={cursor}", headers=headers
    )
    assert other.status_code == 422
    assert "cursor" in other.json()["detail"]


def test_put_creates_then_updates(communes_client: TestClient, keys: Keys) -> None:
    headers = Keys.bearer(keys.lens)
    url = f"/api/v1/communes/{LENS}/portfolio/BAT_FLAT_C"
    body = {"status": "retenu", "usage": "salle_de_sport", "annual_consumption_kwh": 38_000}
    created = communes_client.put(url, json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["updated_by"] == "Mairie de Lens"
    updated = communes_client.put(
        url, json={"status": "ecarte", "reason": "structure", "note": "Charpente"}, headers=headers
    )
    assert updated.status_code == 200
    items = communes_client.get(f"/api/v1/communes/{LENS}/portfolio", headers=headers).json()
    entry = next(i for i in items["items"] if i["building_id"] == "BAT_FLAT_C")
    assert (entry["status"], entry["reason"], entry["usage"], entry["note"]) == (
        "ecarte",
        "structure",
        None,
        "Charpente",
    )
    listed = _pages(communes_client, keys.lens, "status=ecarte")
    assert [i["building_id"] for i in listed] == ["BAT_FLAT_C"]
    assert listed[0]["portfolio"]["reason"] == "structure"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "valide"},
        {"status": "retenu", "reason": "structure"},
        {"status": "ecarte", "reason": "trop cher"},
        {"status": "retenu", "usage": "piscine"},
        {"status": "retenu", "annual_consumption_kwh": -1},
        {"status": "retenu", "colour": "red"},
        {},
    ],
)
def test_bad_bodies_get_a_422(communes_client: TestClient, keys: Keys, body: dict) -> None:
    response = communes_client.put(
        f"/api/v1/communes/{LENS}/portfolio/BAT_HIP_D", json=body, headers=Keys.bearer(keys.lens)
    )
    assert response.status_code == 422, response.text


def test_a_building_outside_the_commune_is_not_found(
    communes_client: TestClient, keys: Keys, cadastre_path: Path
) -> None:
    con = sqlite3.connect(cadastre_path)
    try:
        (elsewhere,) = con.execute(
            "SELECT building_id FROM buildings WHERE commune_insee != ? LIMIT 1", (LENS,)
        ).fetchone()
    finally:
        con.close()
    headers = Keys.bearer(keys.territory)
    for building_id in (elsewhere, "NO_SUCH_BUILDING"):
        response = communes_client.put(
            f"/api/v1/communes/{LENS}/portfolio/{building_id}",
            json={"status": "retenu"},
            headers=headers,
        )
        assert response.status_code == 404, response.text


def test_the_portfolio_survives_a_restart(cadastre_path: Path, store_url: str) -> None:
    store = Store(store_url)
    _, key = store.create_key("Mairie de Lens", [LENS])
    store.close()
    settings = Settings(path=cadastre_path, db=store_url)
    url = f"/api/v1/communes/{LENS}/portfolio"
    with TestClient(create_app(settings)) as client:
        response = client.put(
            f"{url}/BAT_GABLE_A",
            json={"status": "retenu", "usage": "mairie"},
            headers=Keys.bearer(key),
        )
        assert response.status_code == 201
    with TestClient(create_app(settings)) as client:
        items = client.get(url, headers=Keys.bearer(key)).json()["items"]
    assert [(i["building_id"], i["status"], i["usage"]) for i in items] == [
        ("BAT_GABLE_A", "retenu", "mairie")
    ]
