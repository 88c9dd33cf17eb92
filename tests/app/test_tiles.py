"""The map's tiles: vector tiles of the roofs, raster tiles of the irradiation, TileJSON.

Tile numbers are computed here with the slippy-map formulas from pyproj's WGS84
coordinates, and the expected features and colours from what ``Cadastre`` and rasterio
read from the files, never with the code that makes the tiles.
"""

from __future__ import annotations

import gzip
import io
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from app.settings import Settings
from solar import vectortiles
from solar.cadastre import Cadastre
from solar.suitability import IRRADIATION_STOPS
from tests.app.conftest import LENS_BUILDINGS

TO_WGS84 = pyproj.Transformer.from_crs(2154, 4326, always_xy=True)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return int((lon + 180.0) / 360.0 * n), int(y)


def tile_lonlat(z: int, x: float, y: float) -> tuple[float, float]:
    """The WGS84 position of a point given in (fractional) tile numbers."""
    n = 2**z
    return x / n * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


@pytest.fixture(scope="module")
def map_cadastre(tmp_path_factory: pytest.TempPathFactory, cadastre_path: Path) -> Path:
    """The session cadastre in a folder of its own, with its two rasters named as a merged
    cadastre's parts and its roof tiles written by ``cadastre tiles``' function."""
    folder = tmp_path_factory.mktemp("map")
    path = shutil.copy(cadastre_path, folder / "roofs.gpkg")
    for part in ("lens", "burgundy"):
        source = cadastre_path.with_name(f"{part}.irradiation.tif")
        shutil.copy(source, folder / f"roofs.irradiation-{part}.tif")
    vectortiles.write_archive(path)
    return Path(path)


@pytest.fixture(scope="module")
def map_client(map_cadastre: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(path=map_cadastre))) as client:
        yield client


def _building_tile(building_id: str, cadastre: Path, z: int) -> tuple[int, int]:
    centre = shapely.centroid(Cadastre(cadastre).building(building_id).geometry)
    return tile_of(*TO_WGS84.transform(centre.x, centre.y), z)


def test_tilejson_states_zooms_layers_and_template(map_client: TestClient) -> None:
    body = map_client.get("/api/v1/tiles/roofs.json").json()
    assert body["tilejson"] == "3.0.0"
    assert body["tiles"] == ["http://testserver/api/v1/tiles/roofs/{z}/{x}/{y}.mvt"]
    assert (body["minzoom"], body["maxzoom"]) == (vectortiles.MIN_ZOOM, vectortiles.MAX_ZOOM)
    layers = {layer["id"]: layer for layer in body["vector_layers"]}
    assert set(layers["faces"]["fields"]) == {
        "face_id",
        "building_id",
        "suitability",
        "kwc",
        "irradiation_kwh_m2_yr",
        "is_flat",
    }
    assert set(layers["buildings"]["fields"]) == {
        "building_id",
        "suitability",
        "kwc",
        "footprint_check",
    }
    west, south, east, north = body["bounds"]
    lon, lat = TO_WGS84.transform(*LENS_BUILDINGS[0].footprint.geometry.centroid.coords[0])
    assert west < lon < east and south < lat < north


def test_below_the_faces_zoom_only_buildings(map_client: TestClient, map_cadastre: Path) -> None:
    z = vectortiles.FACES_MIN_ZOOM - 1
    x, y = _building_tile("BAT_GABLE_A", map_cadastre, z)
    response = map_client.get(f"/api/v1/tiles/roofs/{z}/{x}/{y}.mvt")
    layers = mapbox_vector_tile.decode(response.content)
    assert set(layers) == {"buildings"}
    buildings = {f["properties"]["building_id"] for f in layers["buildings"]["features"]}
    assert {b.building_id for b in LENS_BUILDINGS} <= buildings


def test_a_known_tile_holds_the_lens_roofs(map_client: TestClient, map_cadastre: Path) -> None:
    """Every face and building whose box meets the tile is in it, with the cadastre's
    values and its outline."""
    z = vectortiles.MAX_ZOOM
    x, y = _building_tile("BAT_GABLE_A", map_cadastre, z)
    response = map_client.get(f"/api/v1/tiles/roofs/{z}/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layers = mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True})

    west, north = tile_lonlat(z, x, y)
    east, south = tile_lonlat(z, x + 1, y + 1)
    tile_box = shapely.box(west, south, east, north)
    store = Cadastre(map_cadastre)
    expected = {}
    for placed in LENS_BUILDINGS:
        for face in store.faces(placed.building_id):
            outline = _wgs84(face.geometry)
            if shapely.box(*outline.bounds).intersects(tile_box):
                expected[face.face_id] = (face, outline)
    assert expected
    found = {f["properties"]["face_id"]: f for f in layers["faces"]["features"]}
    lens_found = {k: v for k, v in found.items() if k.startswith("BAT_")}
    assert set(lens_found) == set(expected)
    for face_id, feature in lens_found.items():
        face, outline = expected[face_id]
        props = feature["properties"]
        assert props["building_id"] == face.building_id
        assert props["suitability"] == face.suitability
        assert props["kwc"] == face.kwc
        assert props["irradiation_kwh_m2_yr"] == face.irradiation_kwh_m2_yr
        assert props["is_flat"] == face.is_flat
        drawn = _from_tile(feature["geometry"], z, x, y)
        overlap = drawn.intersection(outline).area / drawn.union(outline).area
        assert overlap > 0.9, face_id
    buildings = {f["properties"]["building_id"] for f in layers["buildings"]["features"]}
    assert {b.building_id for b in LENS_BUILDINGS} <= buildings


def _wgs84(geometry: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(
        geometry, lambda xy: np.column_stack(TO_WGS84.transform(xy[:, 0], xy[:, 1]))
    )


def _from_tile(geometry: dict, z: int, x: int, y: int) -> shapely.Geometry:
    def back(uv: np.ndarray) -> np.ndarray:
        points = [tile_lonlat(z, x + u / 4096, y + v / 4096) for u, v in uv]
        return np.array(points)

    return shapely.make_valid(shapely.transform(shapely.geometry.shape(geometry), back))


def test_gzip_when_accepted_identity_otherwise(map_client: TestClient, map_cadastre: Path) -> None:
    x, y = _building_tile("BAT_HIP_D", map_cadastre, 16)
    url = f"/api/v1/tiles/roofs/16/{x}/{y}.mvt"
    raw = map_client.get(url, headers={"accept-encoding": "gzip"}, follow_redirects=False)
    assert raw.headers["content-encoding"] == "gzip"
    plain = map_client.get(url, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == raw.content  # the client undid the gzip of the first
    assert mapbox_vector_tile.decode(plain.content)["faces"]["features"]


def test_empty_tile_is_204(map_client: TestClient) -> None:
    response = map_client.get("/api/v1/tiles/roofs/16/0/0.mvt")
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/tiles/roofs/16/65536/0.mvt", 404),
        ("/api/v1/tiles/roofs/3/0/8.mvt", 404),
        ("/api/v1/tiles/roofs/31/0/0.mvt", 422),
        ("/api/v1/tiles/roofs/-1/0/0.mvt", 422),
        ("/api/v1/tiles/roofs/a/0/0.mvt", 422),
        ("/api/v1/tiles/roofs/16/0/0.png", 404),
        (f"/api/v1/tiles/roofs/{vectortiles.MAX_ZOOM + 1}/0/0.mvt", 404),
        ("/api/v1/tiles/irradiation/16/65536/0.png", 404),
    ],
)
def test_tiles_that_do_not_exist(map_client: TestClient, path: str, status: int) -> None:
    response = map_client.get(path)
    assert response.status_code == status
    assert response.json()["detail"]


def test_a_cadastre_without_archive_still_serves(tmp_path: Path, cadastre_path: Path) -> None:
    path = Path(shutil.copy(cadastre_path, tmp_path / "bare.gpkg"))
    with TestClient(create_app(Settings(path=path))) as client:
        assert client.get("/api/v1/coverage").status_code == 200
        for url in ("/api/v1/tiles/roofs.json", "/api/v1/tiles/roofs/16/0/0.mvt"):
            response = client.get(url)
            assert response.status_code == 404
            assert "bare.roofs.pmtiles" in response.json()["detail"]
            assert "cadastre tiles" in response.json()["detail"]
        assert client.get("/api/v1/tiles/irradiation.json").status_code == 404


def test_irradiation_tilejson(map_client: TestClient, map_cadastre: Path) -> None:
    body = map_client.get("/api/v1/tiles/irradiation.json").json()
    assert body["tiles"] == ["http://testserver/api/v1/tiles/irradiation/{z}/{x}/{y}.png"]
    assert body["minzoom"] < 16 < body["maxzoom"]
    west, south, east, north = body["bounds"]
    for part in ("lens", "burgundy"):
        with rasterio.open(map_cadastre.with_name(f"roofs.irradiation-{part}.tif")) as src:
            lon, lat = TO_WGS84.transform(*src.xy(src.height // 2, src.width // 2))
        assert west < lon < east and south < lat < north


def _ramp(values: np.ndarray) -> np.ndarray:
    stops = np.array([v for v, _ in IRRADIATION_STOPS])
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for _, c in IRRADIATION_STOPS])
    return np.stack([np.interp(values, stops, rgb[:, k]) for k in range(3)], axis=-1)


def test_irradiation_png_has_the_ramp_colours_on_the_roofs(
    map_client: TestClient, map_cadastre: Path
) -> None:
    z = 19
    x, y = _building_tile("BAT_GABLE_A", map_cadastre, z)
    response = map_client.get(f"/api/v1/tiles/irradiation/{z}/{x}/{y}.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))
    assert image.shape == (256, 256, 4)
    to_l93 = pyproj.Transformer.from_crs(4326, 2154, always_xy=True)
    rows, cols = np.mgrid[0:256, 0:256]
    lonlat = np.array(
        [
            tile_lonlat(z, x + (c + 0.5) / 256, y + (r + 0.5) / 256)
            for r, c in zip(rows.ravel(), cols.ravel(), strict=True)
        ]
    )
    ex, ny = to_l93.transform(lonlat[:, 0], lonlat[:, 1])
    with rasterio.open(map_cadastre.with_name("roofs.irradiation-lens.tif")) as src:
        values = np.array([v[0] for v in src.sample(zip(ex, ny, strict=True), indexes=1)])
        nodata = src.nodata
    on_roof = (values != nodata).reshape(256, 256)
    opaque = image[..., 3] == 255
    assert on_roof.sum() > 1000
    # nearest resampling in another projection: a pixel may fall either side of an edge
    assert (opaque == on_roof).mean() > 0.97
    both = opaque & on_roof
    expected = _ramp(values.reshape(256, 256)[both])
    close = np.abs(image[..., :3][both].astype(float) - expected).max(axis=1) <= 2
    assert close.mean() > 0.95


def test_irradiation_outside_the_rasters_is_204(map_client: TestClient) -> None:
    assert map_client.get("/api/v1/tiles/irradiation/16/0/0.png").status_code == 204


def test_openapi_documents_the_tiles(map_client: TestClient) -> None:
    paths = map_client.get("/openapi.json").json()["paths"]
    mvt = paths["/api/v1/tiles/roofs/{z}/{x}/{y}.mvt"]["get"]["responses"]
    assert "application/vnd.mapbox-vector-tile" in mvt["200"]["content"]
    assert "204" in mvt
    png = paths["/api/v1/tiles/irradiation/{z}/{x}/{y}.png"]["get"]["responses"]
    assert "image/png" in png["200"]["content"]


def test_archive_is_gzip_of_the_same_tiles(map_cadastre: Path) -> None:
    """What the service sends is what the archive holds."""
    archive = vectortiles.RoofArchive(vectortiles.archive_path(map_cadastre))
    x, y = _building_tile("BAT_FLAT_C", map_cadastre, 16)
    data = archive.get(16, x, y)
    assert data is not None
    assert mapbox_vector_tile.decode(gzip.decompress(data))["faces"]["features"]
    archive.close()
