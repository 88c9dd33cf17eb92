"""GET /api/v1/buildings/{id} and /api/v1/buildings?lon=&lat=."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from app.models import BuildingSolar, RoofFace
from solar.cadastre import BUILDING_FIELDS, FACE_FIELDS, Cadastre

TO_WGS84 = pyproj.Transformer.from_crs(2154, 4326, always_xy=True)
TO_L93 = pyproj.Transformer.from_crs(4326, 2154, always_xy=True)


def test_models_carry_every_layer_field() -> None:
    assert set(BuildingSolar.model_fields) - {"footprint", "faces"} == set(BUILDING_FIELDS)
    extra = {"geometry", "production_monthly_kwh", "irradiation_monthly_kwh_m2"}
    assert set(RoofFace.model_fields) - extra == set(FACE_FIELDS)


def test_building_footprint_is_rfc7946(client: TestClient, cadastre_path: Path) -> None:
    body = client.get("/api/v1/buildings/BAT_GABLE_A").json()
    footprint = shape(body["footprint"])
    # back to Lambert-93 independently: within 2 cm of the stored footprint (7 decimals)
    back = shapely.transform(
        footprint, lambda xy: np.column_stack(TO_L93.transform(xy[:, 0], xy[:, 1]))
    )
    stored = Cadastre(cadastre_path).building("BAT_GABLE_A")["geometry"]
    assert shapely.hausdorff_distance(back, stored) < 0.02
    # RFC 7946 §3.1.6: exterior rings are counter-clockwise
    for polygon in getattr(footprint, "geoms", [footprint]):
        assert polygon.exterior.is_ccw


def test_building_faces(client: TestClient) -> None:
    body = client.get("/api/v1/buildings/BAT_FLAT_C").json()
    (face,) = body["faces"]
    assert face["is_flat"] is True
    assert face["azimuth_deg"] is None
    assert len(face["irradiation_monthly_kwh_m2"]) == 12
    gable = client.get("/api/v1/buildings/BAT_GABLE_A").json()
    assert sorted(f["azimuth_deg"] for f in gable["faces"]) == [0.0, 180.0]
    south = next(f for f in gable["faces"] if f["azimuth_deg"] == 180.0)
    # the south face outline lies in the southern half of the footprint
    assert shape(south["geometry"]).centroid.y < shape(gable["footprint"]).centroid.y


def test_point_lookup(client: TestClient) -> None:
    lon, lat = TO_WGS84.transform(686_070.0, 7_032_008.0)
    response = client.get("/api/v1/buildings", params={"lon": lon, "lat": lat})
    assert response.status_code == 200
    assert response.json()["building_id"] == "BAT_FLAT_C"
    assert shape(response.json()["footprint"]).contains(shapely.Point(lon, lat))


def test_point_without_building_is_a_404(client: TestClient) -> None:
    lon, lat = TO_WGS84.transform(686_020.0, 7_032_004.0)  # between A and B
    response = client.get("/api/v1/buildings", params={"lon": lon, "lat": lat})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    far = client.get("/api/v1/buildings", params={"lon": -179.9, "lat": -89.9})
    assert far.status_code == 404


def test_unknown_building_is_a_404(client: TestClient) -> None:
    response = client.get("/api/v1/buildings/NOPE")
    assert response.status_code == 404
    assert response.json() == {"detail": "no building with id 'NOPE'", "code": "not_found"}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"lon": 2.8, "lat": 95}, "lat"),
        ({"lon": 2.8, "lat": -90.5}, "lat"),
        ({"lon": 181, "lat": 50.4}, "lon"),
        ({"lon": "east", "lat": 50.4}, "lon"),
        ({"lon": "nan", "lat": 50.4}, "lon"),
        ({"lon": 2.8}, "lat"),
    ],
)
def test_bad_coordinates_are_422_naming_them(
    client: TestClient, params: dict[str, object], name: str
) -> None:
    response = client.get("/api/v1/buildings", params=params)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{name}: ")
