"""GET /api/v1/addresses and /api/v1/addresses/{id}/solar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyproj
import pytest
from fastapi.testclient import TestClient

from solar.cadastre import BUILDING_FIELDS, FACE_FIELDS, Cadastre
from tests.app.conftest import (
    ADDRESS_BUILDING,
    ADDRESS_ROWS,
    BURGUNDY_ROWS,
    NO_BUILDING_ADDRESS,
)


def labels(client: TestClient, q: str, **params: object) -> list[str]:
    response = client.get("/api/v1/addresses", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [hit["label"] for hit in response.json()["results"]]


def test_search_ignores_accents_and_case(client: TestClient) -> None:
    assert labels(client, "JAURES")[0].startswith("12 Rue Jean Jaurès")
    assert set(labels(client, "emile basly")) == {"5 Boulevard Émile Basly 62300 Lens"}


@pytest.mark.parametrize("typo", ["jaurés", "jaurrs", "jaurse", "juares"])
def test_search_tolerates_a_typo(client: TestClient, typo: str) -> None:
    found = labels(client, f"rue {typo}")
    assert len(found) == 3
    assert all("Jaurès" in label for label in found)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("3 av foch", "3 Avenue du Maréchal Foch 62300 Lens"),
        ("av du mal foch", "3 Avenue du Maréchal Foch 62300 Lens"),
        ("7 r st eloi", "7 Rue Saint-Éloi 62300 Lens"),
        ("bd basly", "5 Boulevard Émile Basly 62300 Lens"),
    ],
)
def test_search_expands_abbreviations(client: TestClient, q: str, expected: str) -> None:
    assert labels(client, q)[0] == expected


def test_search_ranks_the_exact_number_first(client: TestClient) -> None:
    # "12" is exact for 12 and 12 bis, only a prefix of 120; plain 12 is the shorter label
    assert labels(client, "12 rue jean jaures") == [
        "12 Rue Jean Jaurès 62300 Lens",
        "12 bis Rue Jean Jaurès 62300 Lens",
        "120 Rue Jean Jaurès 62300 Lens",
    ]
    assert labels(client, "120 jaures")[0] == "120 Rue Jean Jaurès 62300 Lens"


def test_search_hits_carry_position_and_building(client: TestClient) -> None:
    response = client.get("/api/v1/addresses", params={"q": "12 bis jaures", "limit": 1})
    (hit,) = response.json()["results"]
    assert hit["address_id"] == "62498_0540_00012_bis"
    assert hit["building_id"] == ADDRESS_BUILDING["62498_0540_00012_bis"]
    # the BAN point in Lambert-93, projected here independently
    (x, y) = next(row[4:] for row in ADDRESS_ROWS if row[0] == "62498_0540_00012_bis")
    lon, lat = pyproj.Transformer.from_crs(2154, 4326, always_xy=True).transform(x, y)
    assert hit["lon"] == pytest.approx(lon, abs=1e-6)
    assert hit["lat"] == pytest.approx(lat, abs=1e-6)


def test_search_limit(client: TestClient) -> None:
    assert len(labels(client, "lens", limit=2)) == 2
    assert len(labels(client, "lens", limit=50)) == len(ADDRESS_ROWS)


def test_unknown_words_give_no_result(client: TestClient) -> None:
    assert labels(client, "zzzz qqqq") == []


def _round_trip(client: TestClient, cadastre_path: Path, q: str, label: str) -> dict[str, Any]:
    """search → address → building → faces, every field as the cadastre holds it."""
    (hit,) = client.get("/api/v1/addresses", params={"q": q, "limit": 1}).json()["results"]
    response = client.get(f"/api/v1/addresses/{hit['address_id']}/solar")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["address"]["label"] == label
    building = body["building"]
    assert building["building_id"] == hit["building_id"]
    cadastre = Cadastre(cadastre_path)
    stored = cadastre.building(hit["building_id"])
    assert {k: building[k] for k in BUILDING_FIELDS} == {
        k: getattr(stored, k) for k in BUILDING_FIELDS
    }
    stored_faces = cadastre.faces(hit["building_id"])
    assert stored_faces
    assert [f["face_id"] for f in building["faces"]] == [f.face_id for f in stored_faces]
    for face, ref in zip(building["faces"], stored_faces, strict=True):
        assert {k: face[k] for k in FACE_FIELDS} == {k: getattr(ref, k) for k in FACE_FIELDS}
        assert face["production_monthly_kwh"] == list(ref.production_monthly_kwh)
        assert len(face["production_monthly_kwh"]) == 12
        assert sum(face["production_monthly_kwh"]) == pytest.approx(
            face["production_kwh_yr"], rel=1e-3
        )
    assert building == client.get(f"/api/v1/buildings/{hit['building_id']}").json()
    return body


def test_address_solar_round_trip(client: TestClient, cadastre_path: Path) -> None:
    body = _round_trip(client, cadastre_path, "3 av foch", "3 Avenue du Maréchal Foch 62300 Lens")
    assert body["address"]["numero"] == 3
    assert body["address"]["code_insee"] == "62498"
    assert body["building"]["building_id"] == ADDRESS_BUILDING["62498_0541_00003"]


def test_address_solar_round_trip_on_the_real_sample(
    client: TestClient, cadastre_path: Path
) -> None:
    body = _round_trip(
        client, cadastre_path, "14 grande rue louhans", "14 Grande Rue 71500 Louhans"
    )
    assert body["building"]["building_id"] == BURGUNDY_ROWS[0][3]
    assert body["address"]["code_insee"] == "71263"


def test_unknown_address_is_a_404(client: TestClient) -> None:
    response = client.get("/api/v1/addresses/62498_9999_00001/solar")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "62498_9999_00001" in response.json()["detail"]


def test_address_without_building_is_a_distinct_404(client: TestClient) -> None:
    response = client.get(f"/api/v1/addresses/{NO_BUILDING_ADDRESS}/solar")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "no building at this address",
        "code": "no_building_at_address",
    }
    (hit,) = client.get("/api/v1/addresses", params={"q": "5 bd basly"}).json()["results"]
    assert hit["building_id"] is None


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "jaures", "limit": 0}, "limit"),
        ({"q": "jaures", "limit": 51}, "limit"),
        ({"q": "jaures", "limit": "ten"}, "limit"),
    ],
)
def test_bad_search_parameters_are_422_naming_them(
    client: TestClient, params: dict[str, object], name: str
) -> None:
    response = client.get("/api/v1/addresses", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert body["detail"].startswith(f"{name}: ")
