"""A terraced row drawn as one footprint: each address answers with its own house."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from solar import build
from tests import scenes
from tests.test_dwellings import _doors

HOUSES = 6


@pytest.fixture(scope="module")
def row_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    scene = scenes.terrace(HOUSES)
    summary = build.build_from_surface(
        build.Territory(scene.surface, [scene.footprint], addresses=_doors(scene), communes=None),
        out=tmp_path_factory.mktemp("row") / "row.gpkg",
    )
    with TestClient(create_app(Settings(path=summary.path))) as client:
        yield client


def test_each_address_answers_with_its_own_house(row_client: TestClient) -> None:
    doors = _doors(scenes.terrace(HOUSES))
    whole = row_client.get("/api/v1/buildings/row").json()
    seen: set[str] = set()
    for door in doors:
        body = row_client.get(f"/api/v1/addresses/{door.address_id}/solar").json()
        assert body["address"]["part_id"] == door.address_id
        assert body["building"] == whole  # the whole row stays available
        dwelling = body["dwelling"]
        own = [f for f in whole["faces"] if f["part_id"] == door.address_id]
        assert sorted(dwelling["face_ids"]) == sorted(f["face_id"] for f in own)
        counted = [f for f in own if f["panels"] and f["suitability"] in ("excellent", "good")]
        assert dwelling["kwc"] == pytest.approx(sum(f["kwc"] for f in counted), abs=1e-3)
        assert dwelling["production_kwh_yr"] == pytest.approx(
            sum(f["production_kwh_yr"] for f in counted), abs=0.2
        )
        assert sum(dwelling["production_monthly_kwh"]) == pytest.approx(
            dwelling["production_kwh_yr"], rel=0.01
        )
        seen.update(dwelling["face_ids"])
    assert seen == {f["face_id"] for f in whole["faces"]}


def test_a_simulation_by_address_lays_modules_on_the_house_only(row_client: TestClient) -> None:
    door = _doors(scenes.terrace(HOUSES))[2]
    body = row_client.get(f"/api/v1/addresses/{door.address_id}/solar").json()
    result = row_client.post("/api/v1/simulate", json={"address_id": door.address_id})
    assert result.status_code == 200, result.text
    used = set(result.json()["modules_per_face"])
    assert used and used <= set(body["dwelling"]["face_ids"])
    whole = row_client.post("/api/v1/simulate", json={"building_id": "row"}).json()
    assert whole["kwc"] > 3 * result.json()["kwc"]
