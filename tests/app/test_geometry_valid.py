"""Every GeoJSON geometry the API writes is a valid polygon, whatever the cadastre holds."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from app import views
from app.geo import Projector
from app.main import create_app
from app.settings import Settings
from solar import demo
from solar.build import BuildSummary
from solar.cadastre import Cadastre

CELL = 0.04
"""Side of the boxes asked of /roofs. [°]"""


def _assert_valid_polygonal(geometry: dict[str, Any], what: str) -> None:
    assert geometry["type"] in ("Polygon", "MultiPolygon"), what
    polygon = shape(geometry)
    assert polygon.is_valid, f"{what}: {shapely.is_valid_reason(polygon)}"
    assert polygon.area > 0, what
    # RFC 7946: exterior rings counter-clockwise
    for part in getattr(polygon, "geoms", [polygon]):
        assert part.exterior.is_ccw, what


def _check_every_geometry(client: TestClient, path: Path) -> int:
    """Every building document and every face of /roofs over the cadastre; the count."""
    store = Cadastre(path)
    checked = 0
    for row in store._rows("SELECT building_id FROM buildings"):
        body = client.get(f"/api/v1/buildings/{row[0]}").json()
        _assert_valid_polygonal(body["footprint"], row[0])
        for face in body["faces"]:
            _assert_valid_polygonal(face["geometry"], face["face_id"])
            checked += 1
        checked += 1
    # /roofs over cells of 0.04° (under the 0.05° a bbox may span) holding every face
    to_wgs84 = pyproj.Transformer.from_crs(store.crs, 4326, always_xy=True)
    boxes = np.array(store._rows("SELECT minx, miny, maxx, maxy FROM rtree_roof_faces_geom"))
    lon, lat = to_wgs84.transform((boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2)
    cells = {(math.floor(x / CELL), math.floor(y / CELL)) for x, y in zip(lon, lat, strict=True)}
    faces_seen: set[str] = set()
    for i, j in sorted(cells):
        pad = 0.004  # a face whose centre is in the cell may reach past it
        bbox = f"{i * CELL - pad},{j * CELL - pad},{(i + 1) * CELL + pad},{(j + 1) * CELL + pad}"
        response = client.get("/api/v1/roofs", params={"bbox": bbox, "limit": 5000})
        assert response.status_code == 200
        for feature in response.json()["features"]:
            if feature["id"] not in faces_seen:
                _assert_valid_polygonal(feature["geometry"], feature["id"])
                faces_seen.add(feature["id"])
    assert len(faces_seen) == store.summary()["faces"]
    return checked


def test_repairs_what_the_cadastre_holds() -> None:
    """A self-touching outline and a bow tie come out valid, with their area."""
    projector = Projector("EPSG:2154")
    x0, y0 = 687_200.0, 7_037_800.0
    bowtie = shapely.Polygon([(x0, y0), (x0 + 4, y0 + 4), (x0 + 4, y0), (x0, y0 + 4)])
    pinched = shapely.Polygon(
        [(x0, y0), (x0 + 6, y0), (x0 + 6, y0 + 6), (x0 + 3, y0), (x0, y0 + 6)]
    )
    assert not bowtie.is_valid and not pinched.is_valid
    for geometry in views.valid_geojson(projector, [bowtie, pinched]):
        _assert_valid_polygonal(geometry, "repaired")


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.build_demo(tmp_path_factory.mktemp("demo")).path


def _client(path: Path) -> Iterator[TestClient]:
    # every building in a row: more than a resident's requests per second
    with TestClient(create_app(Settings(path=path, rate_limit=0))) as client:
        yield client


@pytest.mark.slow
def test_every_demo_geometry_is_valid(demo_path: Path) -> None:
    for client in _client(demo_path):
        assert _check_every_geometry(client, demo_path) > 400


@pytest.mark.slow
@pytest.mark.parametrize("sample", ["delft_build", "montpellier_build", "burgundy_build"])
def test_every_real_sample_geometry_is_valid(sample: str, request: pytest.FixtureRequest) -> None:
    build: BuildSummary = request.getfixturevalue(sample)
    for client in _client(build.path):
        assert _check_every_geometry(client, build.path) > 0
