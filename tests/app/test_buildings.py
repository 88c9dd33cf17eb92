"""GET /api/v1/buildings/{id} and /api/v1/buildings?lon=&lat=."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from app.models import BuildingSolar, RoofFace
from solar.cadastre import BUILDING_FIELDS, FACE_FIELDS, Cadastre
from solar.footprints import read_footprints
from tests.app.conftest import BURGUNDY_FOOTPRINTS, BURGUNDY_ROWS, LENS_BUILDINGS

TO_WGS84 = pyproj.Transformer.from_crs(2154, 4326, always_xy=True)
TO_L93 = pyproj.Transformer.from_crs(4326, 2154, always_xy=True)


def test_models_carry_every_layer_field() -> None:
    derived = {"footprint", "faces", "footprint_note", "suitability_label", "centre", "bbox"}
    derived |= {"production_monthly_kwh"}
    assert set(BuildingSolar.model_fields) - derived == set(BUILDING_FIELDS)
    extra = {"geometry", "production_monthly_kwh", "irradiation_monthly_kwh_m2"}
    extra |= {"suitability_label", "orientation"}
    assert set(RoofFace.model_fields) - extra == set(FACE_FIELDS)


def test_face_id_examples_look_like_the_cadastre_ids(
    client: TestClient, cadastre_path: Path
) -> None:
    """Face ids are ``<building_id>-<n>``, n from 1; the documented examples say so too."""
    cadastre = Cadastre(cadastre_path)
    building_ids = [b.building_id for b in LENS_BUILDINGS] + [row[3] for row in BURGUNDY_ROWS]
    for building_id in building_ids:
        face_ids = [f.face_id for f in cadastre.faces(building_id)]
        assert face_ids
        for face_id in face_ids:
            prefix, _, number = face_id.rpartition("-")
            assert prefix == building_id
            assert number.isdigit() and int(number) >= 1, face_id
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    face = schemas["RoofFace"]["properties"]
    (building_id,) = face["building_id"]["examples"]
    (face_id,) = face["face_id"]["examples"]
    assert re.fullmatch(rf"{re.escape(building_id)}-[1-9]\d*", face_id)
    feature = schemas["RoofCollection"]["examples"][0]["features"][0]
    assert feature["id"] == feature["properties"]["face_id"] == face_id


def test_building_footprint_is_rfc7946(client: TestClient, cadastre_path: Path) -> None:
    body = client.get("/api/v1/buildings/BAT_GABLE_A").json()
    footprint = shape(body["footprint"])
    # back to Lambert-93 independently: within 2 cm of the stored footprint (7 decimals)
    back = shapely.transform(
        footprint, lambda xy: np.column_stack(TO_L93.transform(xy[:, 0], xy[:, 1]))
    )
    stored = Cadastre(cadastre_path).building("BAT_GABLE_A").geometry
    assert shapely.hausdorff_distance(back, stored) < 0.02
    # and the stored footprint is the scene's, placed on the Lens grid
    assert shapely.hausdorff_distance(stored, LENS_BUILDINGS[0].footprint.geometry) < 1e-6
    # RFC 7946 §3.1.6: exterior rings are counter-clockwise
    for polygon in getattr(footprint, "geoms", [footprint]):
        assert polygon.exterior.is_ccw


def _angle_between(a: float, b: float) -> float:
    """Smallest difference between two azimuths. [°]"""
    return abs((a - b + 180.0) % 360.0 - 180.0)


def test_building_faces_match_the_scenes(client: TestClient) -> None:
    """The faces served are those of the analytic scenes: orientation within 1.5°."""
    flat = client.get("/api/v1/buildings/BAT_FLAT_C").json()
    (face,) = flat["faces"]
    assert face["is_flat"] is True
    assert face["azimuth_deg"] is None
    assert len(face["irradiation_monthly_kwh_m2"]) == 12
    for placed in LENS_BUILDINGS:
        if placed.building_id == "BAT_FLAT_C":
            continue
        body = client.get(f"/api/v1/buildings/{placed.building_id}").json()
        assert len(body["faces"]) == len(placed.scene.faces)
        for truth in placed.scene.faces:
            assert truth.surface_azimuth is not None
            match = min(
                body["faces"], key=lambda f: _angle_between(f["azimuth_deg"], truth.surface_azimuth)
            )
            assert _angle_between(match["azimuth_deg"], truth.surface_azimuth) < 1.5
            assert match["tilt_deg"] == pytest.approx(truth.surface_tilt, abs=1.5)
    gable = client.get("/api/v1/buildings/BAT_GABLE_A").json()
    south = min(gable["faces"], key=lambda f: _angle_between(f["azimuth_deg"], 180.0))
    # the south face outline lies in the southern half of the footprint
    assert shape(south["geometry"]).centroid.y < shape(gable["footprint"]).centroid.y


def test_point_lookup(client: TestClient) -> None:
    lon, lat = TO_WGS84.transform(687_280.0, 7_037_803.0)  # inside C (687274–687286)
    response = client.get("/api/v1/buildings", params={"lon": lon, "lat": lat})
    assert response.status_code == 200
    assert response.json()["building_id"] == "BAT_FLAT_C"
    assert shape(response.json()["footprint"]).contains(shapely.Point(lon, lat))


def test_point_lookup_on_the_real_sample(client: TestClient) -> None:
    """A click on a BD UNI footprint of the Burgundy sample finds that building."""
    footprints = read_footprints(BURGUNDY_FOOTPRINTS, target_crs=2154).footprints
    building_id = BURGUNDY_ROWS[1][3]
    point = shapely.point_on_surface(
        next(f.geometry for f in footprints if f.building_id == building_id)
    )
    lon, lat = TO_WGS84.transform(point.x, point.y)
    response = client.get("/api/v1/buildings", params={"lon": lon, "lat": lat})
    assert response.status_code == 200
    assert response.json()["building_id"] == building_id


def test_point_without_building_is_a_404(client: TestClient) -> None:
    lon, lat = TO_WGS84.transform(687_220.0, 7_037_800.0)  # between A and B
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


def test_buildings_and_faces_carry_their_production_band(
    client: TestClient, cadastre_path: Path
) -> None:
    """The build's P10 ≤ P50 ≤ P90 reach the API, around the nominal production."""
    producing = [b for b in LENS_BUILDINGS if Cadastre(cadastre_path).building(b.building_id).kwc]
    assert producing
    for building in producing:
        body = client.get(f"/api/v1/buildings/{building.building_id}").json()
        for record in (body, *(f for f in body["faces"] if f["production_kwh_yr"])):
            low, middle, high = (record[f"production_p{p}_kwh_yr"] for p in (10, 50, 90))
            assert low < middle < high
            assert low < record["production_kwh_yr"] < high
            # weather, losses, orientation and area: a band of ±5-15 % around the median
            assert 0.05 < (high - low) / (2 * middle) < 0.15


def test_buildings_carry_what_the_map_page_shows(client: TestClient, cadastre_path: Path) -> None:
    """Centre and box of the footprint, monthly totals of the counted faces, French words."""
    labels = {"excellent": "Excellent", "good": "Bon", "fair": "Moyen", "poor": "Faible"}
    labels["unsuitable"] = "Inadapté"
    cadastre = Cadastre(cadastre_path)
    for placed in LENS_BUILDINGS:
        body = client.get(f"/api/v1/buildings/{placed.building_id}").json()
        record = cadastre.building(placed.building_id)
        corners = np.array(TO_WGS84.transform(*shapely.get_coordinates(record.geometry).T)).T
        west, south = corners.min(axis=0)
        east, north = corners.max(axis=0)
        assert body["bbox"] == pytest.approx([west, south, east, north], abs=2e-7)
        centre = shapely.centroid(record.geometry)
        assert body["centre"] == pytest.approx(TO_WGS84.transform(centre.x, centre.y), abs=2e-7)
        counted = [
            f
            for f in cadastre.faces(placed.building_id)
            if f.panels and f.suitability in {"excellent", "good", "fair"}
        ]
        months = np.sum([f.production_monthly_kwh for f in counted], axis=0) if counted else 0
        assert body["production_monthly_kwh"] == pytest.approx(np.zeros(12) + months, abs=0.01)
        assert sum(body["production_monthly_kwh"]) == pytest.approx(
            record.production_kwh_yr, rel=1e-3, abs=0.5
        )
        assert body["suitability_label"] == labels[record.suitability]
        for face in body["faces"]:
            assert face["suitability_label"] == labels[face["suitability"]]


def test_faces_say_where_they_look(client: TestClient) -> None:
    """The scenes' true orientations, in words: A and D face south and north (D also east and
    west), B east and west, C is flat (tests.app.conftest)."""
    compass = {0.0: "nord", 90.0: "est", 180.0: "sud", 270.0: "ouest"}
    for placed in LENS_BUILDINGS:
        faces = client.get(f"/api/v1/buildings/{placed.building_id}").json()["faces"]
        expected = {
            "plat" if true.surface_azimuth is None else compass[true.surface_azimuth]
            for true in placed.scene.faces
        }
        assert {f["orientation"] for f in faces} == expected, placed.building_id
