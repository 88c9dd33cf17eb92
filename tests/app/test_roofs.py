"""GET /api/v1/roofs?bbox=…"""

from __future__ import annotations

from pathlib import Path

import pyproj
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape

from app.main import create_app
from app.settings import Settings
from solar.cadastre import Cadastre
from tests.app.conftest import BUILDING_IDS

TO_WGS84 = pyproj.Transformer.from_crs(2154, 4326, always_xy=True)
PROPERTIES = {
    "face_id",
    "building_id",
    "suitability",
    "irradiation_kwh_m2_yr",
    "kwc",
    "tilt_deg",
    "azimuth_deg",
    "production_kwh_yr",
    "shading_loss_pct",
}


def bbox_of(xmin: float, ymin: float, xmax: float, ymax: float) -> str:
    """A WGS84 bbox string around a Lambert-93 box (projected here, independently)."""
    box = TO_WGS84.transform_bounds(xmin, ymin, xmax, ymax)
    return ",".join(f"{v:.7f}" for v in box)


def test_roofs_in_a_box(client: TestClient, cadastre_path: Path) -> None:
    # around building A only (687194–687206, 7037796–7037804), clear of B at 687236
    response = client.get(
        "/api/v1/roofs", params={"bbox": bbox_of(687_190, 7_037_790, 687_210, 7_037_810)}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["truncated"] is False
    stored = Cadastre(cadastre_path).faces("BAT_GABLE_A")
    assert sorted(f["id"] for f in body["features"]) == sorted(f.face_id for f in stored)
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        assert set(feature["properties"]) == PROPERTIES
        assert feature["properties"]["building_id"] == "BAT_GABLE_A"
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert shape(feature["geometry"]).is_valid


def test_roofs_limit_and_truncation(client: TestClient, cadastre_path: Path) -> None:
    cadastre = Cadastre(cadastre_path)
    n_lens_faces = sum(len(cadastre.faces(b)) for b in BUILDING_IDS)
    assert n_lens_faces > 2
    everything = bbox_of(687_180, 7_037_780, 687_340, 7_037_820)  # the whole Lens grid
    body = client.get("/api/v1/roofs", params={"bbox": everything}).json()
    assert len(body["features"]) == n_lens_faces
    assert body["truncated"] is False
    cut = client.get("/api/v1/roofs", params={"bbox": everything, "limit": 2}).json()
    assert len(cut["features"]) == 2
    assert cut["truncated"] is True


def test_roofs_elsewhere_are_empty(client: TestClient) -> None:
    body = client.get("/api/v1/roofs", params={"bbox": "2.34,48.85,2.36,48.86"}).json()
    assert body == {"type": "FeatureCollection", "features": [], "truncated": False}


@pytest.mark.parametrize(
    "bbox",
    [
        "2.8,50.4,2.81",  # three numbers
        "2.8,50.4,2.81,50.41,1",  # five
        "a,b,c,d",
        "2.8,50.4,,50.41",
        "nan,50.4,2.81,50.41",
        "2.81,50.4,2.80,50.41",  # minlon > maxlon
        "2.80,50.41,2.81,50.40",  # minlat > maxlat
        "2.80,89.99,2.81,90.01",  # latitude out of range
        "-180.01,50.40,-179.99,50.41",  # longitude out of range
        "2.70,50.40,2.80,50.41",  # 0.1° wide: oversized
        "",
    ],
)
def test_bad_bbox_is_422_naming_it(client: TestClient, bbox: str) -> None:
    response = client.get("/api/v1/roofs", params={"bbox": bbox})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("bbox: ")
    assert response.json()["code"] == "invalid_parameter"


def test_max_bbox_setting_is_honoured(cadastre_path: Path) -> None:
    wide = {"bbox": "2.70,50.40,2.80,50.41"}
    with TestClient(create_app(Settings(path=cadastre_path, max_bbox_deg=0.2))) as client:
        assert client.get("/api/v1/roofs", params=wide).status_code == 200
    with TestClient(create_app(Settings(path=cadastre_path, max_bbox_deg=0.01))) as client:
        response = client.get("/api/v1/roofs", params={"bbox": "2.80,50.40,2.82,50.41"})
        assert response.status_code == 422
        assert "at most 0.01°" in response.json()["detail"]
