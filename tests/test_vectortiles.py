"""The roofs' vector tiles: the encoder against the reference decoder, the archive against
the PMTiles reference reader."""

from __future__ import annotations

import gzip
import math
import shutil
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from mapbox_vector_tile.Mapbox import vector_tile_pb2
from pmtiles.reader import MmapSource
from pmtiles.reader import Reader as ReferenceReader
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from typer.testing import CliRunner

from app.cli import cli
from solar import vectortiles
from solar.build import BuildSummary
from solar.cadastre import Cadastre
from solar.vectortiles import EXTENT, HALF_WORLD, MapLayer, RoofArchive, encode_tile

Z = 16
SIZE = 2 * HALF_WORLD / 2**Z
UNIT = SIZE / EXTENT
#: Top-left corner of tile (Z, X, Y), near Lens. [m]
X, Y = 33_300, 22_000
X0, Y0 = -HALF_WORLD + X * SIZE, HALF_WORLD - Y * SIZE


def _at(u: float, v: float) -> tuple[float, float]:
    """Web Mercator of tile units (u right, v down) of tile (Z, X, Y)."""
    return (X0 + u * UNIT, Y0 - v * UNIT)


def _polygon(ring: list[tuple[float, float]], *holes: list[tuple[float, float]]):
    return shapely.Polygon([_at(*p) for p in ring], [[_at(*p) for p in h] for h in holes])


def _layer(geometries: list[shapely.Geometry], **properties: list[object]) -> MapLayer:
    geometry = shapely.orient_polygons(np.array(geometries, dtype=object), exterior_cw=True)
    columns = {
        k: np.array(v, dtype=np.float64 if isinstance(v[0], float) else object)
        for k, v in properties.items()
    }
    return MapLayer("faces", geometry, columns, min_zoom=0)


def _decode(tile: bytes) -> dict:
    return mapbox_vector_tile.decode(tile, default_options={"y_coord_down": True})


def _surveyor(ring: list[list[float]]) -> float:
    """Twice the signed area of a ring in tile coordinates (the MVT spec's formula)."""
    pts = ring[:-1] if ring[0] == ring[-1] else ring
    return sum(
        pts[i][0] * pts[(i + 1) % len(pts)][1] - pts[(i + 1) % len(pts)][0] * pts[i][1]
        for i in range(len(pts))
    )


def test_polygon_with_hole_quantised_and_wound_as_the_spec_says() -> None:
    square = _polygon(
        [(100.2, 100.4), (900.0, 100.0), (900.0, 900.0), (100.0, 900.0)],
        [(300.0, 300.0), (300.0, 600.0), (600.0, 600.0), (600.0, 300.0)],
    )
    tile = encode_tile([_layer([square], face_id=["f1"])], Z, X, Y)
    assert tile is not None
    (feature,) = _decode(tile)["faces"]["features"]
    assert feature["geometry"]["type"] == "Polygon"
    exterior, hole = feature["geometry"]["coordinates"]
    assert sorted(map(tuple, exterior[:-1])) == [(100, 100), (100, 900), (900, 100), (900, 900)]
    assert sorted(map(tuple, hole[:-1])) == [(300, 300), (300, 600), (600, 300), (600, 600)]
    assert _surveyor(exterior) > 0 > _surveyor(hole)
    assert _decode(tile)["faces"]["extent"] == EXTENT


def test_properties_round_trip_and_missing_values_are_left_out() -> None:
    a = _polygon([(10, 10), (50, 10), (50, 50), (10, 50)])
    b = _polygon([(60, 10), (90, 10), (90, 50), (60, 50)])
    layer = _layer(
        [a, b],
        face_id=["A-1", "B-1"],
        suitability=["good", "good"],
        kwc=[5.95, math.nan],
        is_flat=[True, False],
    )
    tile = encode_tile([layer], Z, X, Y)
    assert tile is not None
    features = _decode(tile)["faces"]["features"]
    assert [f["properties"] for f in features] == [
        {"face_id": "A-1", "suitability": "good", "kwc": 5.95, "is_flat": True},
        {"face_id": "B-1", "suitability": "good", "is_flat": False},
    ]


def test_a_feature_across_tiles_is_whole_in_each() -> None:
    across = _polygon([(4000, 100), (4200, 100), (4200, 300), (4000, 300)])
    layer = _layer([across], face_id=["edge"])
    left = _decode(encode_tile([layer], Z, X, Y) or b"")["faces"]["features"][0]
    right = _decode(encode_tile([layer], Z, X + 1, Y) or b"")["faces"]["features"][0]
    assert max(x for x, _ in left["geometry"]["coordinates"][0]) == 4200
    assert min(x for x, _ in right["geometry"]["coordinates"][0]) == 4000 - EXTENT
    assert encode_tile([layer], Z, X + 2, Y) is None


def test_what_rounds_to_nothing_is_dropped() -> None:
    speck = _polygon([(10.0, 10.0), (10.2, 10.0), (10.2, 10.2)])
    kept = _polygon([(20, 20), (40, 20), (40, 40)])
    tile = encode_tile([_layer([speck, kept], face_id=["speck", "kept"])], Z, X, Y)
    assert tile is not None
    assert [f["properties"]["face_id"] for f in _decode(tile)["faces"]["features"]] == ["kept"]


def test_a_whole_zoom_equals_tile_by_tile() -> None:
    rng = np.random.default_rng(3)
    polygons = []
    for u, v in rng.uniform(-2000, 3 * EXTENT, size=(300, 2)):
        w, h = rng.uniform(5, 400, size=2)
        polygons.append(_polygon([(u, v), (u + w, v), (u + w, v + h), (u, v + h + w / 3)]))
    layer = _layer(polygons, face_id=[f"f{i}" for i in range(len(polygons))])
    whole = {(x, y): tile for x, y, tile in vectortiles.zoom_tiles([layer], Z, batch=97)}
    assert len(whole) >= 9
    for (x, y), tile in whole.items():
        assert encode_tile([layer], Z, x, y) == tile
        # the reference decoder reads every feature back
        assert len(_decode(tile)["faces"]["features"]) > 0


def test_each_tile_holds_its_values_once_and_every_feature_its_own() -> None:
    """Features over many tiles share values, within a property and across two (the same
    float); missing ones are left out. The reference decoder reads each feature's own
    properties back, and each tile lists the values its features use, each once."""
    rng = np.random.default_rng(8)
    polygons, kwc, irradiation, flat, suitability = [], [], [], [], []
    for k, (u, v) in enumerate(rng.uniform(-500, 3 * EXTENT, size=(400, 2))):
        polygons.append(_polygon([(u, v), (u + 300, v), (u + 300, v + 200), (u, v + 200)]))
        kwc.append(math.nan if k % 7 == 0 else float(rng.choice([3.0, 4.5, 6.0])))
        irradiation.append(float(rng.choice([900.0, 1000.0, 3.0])))
        flat.append(bool(k % 3 == 0))
        suitability.append(None if k % 11 == 0 else str(rng.choice(["good", "fair"])))
    layer = MapLayer(
        "faces",
        shapely.orient_polygons(np.array(polygons, dtype=object), exterior_cw=True),
        {
            "face_id": np.array([f"f{k}" for k in range(len(polygons))], dtype=object),
            "suitability": np.array(suitability, dtype=object),
            "kwc": np.array(kwc),
            "irradiation_kwh_m2_yr": np.array(irradiation),
            "is_flat": np.array(flat),
        },
        min_zoom=0,
    )
    tiles = list(vectortiles.zoom_tiles([layer], Z, batch=150))
    assert len(tiles) >= 9
    seen = set()
    for _, _, tile in tiles:
        for feature in _decode(tile)["faces"]["features"]:
            k = int(feature["properties"]["face_id"][1:])
            seen.add(k)
            expected = {
                "face_id": f"f{k}",
                "suitability": suitability[k],
                "kwc": kwc[k],
                "irradiation_kwh_m2_yr": irradiation[k],
                "is_flat": flat[k],
            }
            assert feature["properties"] == {
                name: v
                for name, v in expected.items()
                if v is not None and not (isinstance(v, float) and math.isnan(v))
            }
        message = vector_tile_pb2.tile()
        message.ParseFromString(tile)
        (raw,) = message.layers
        values = [v.SerializeToString() for v in raw.values]
        assert len(set(values)) == len(values)
        used = {f.tags[i] for f in raw.features for i in range(1, len(f.tags), 2)}
        assert used == set(range(len(values)))
    assert seen == set(range(len(polygons)))


def test_archive_reader_matches_the_reference_reader(tmp_path: Path) -> None:
    """Enough tiles that the directory needs leaves, read by both readers."""
    path = tmp_path / "many.pmtiles"
    expected = {}
    with open(path, "wb") as f:
        writer = Writer(f)
        rng = np.random.default_rng(5)
        columns, rows = rng.integers(133_000, 134_000, 40_000), rng.integers(88_000, 89_000, 40_000)
        tiles = sorted({(18, int(x), int(y)) for x, y in zip(columns, rows, strict=True)})
        for z, x, y in sorted(tiles, key=lambda t: zxy_to_tileid(*t)):
            data = gzip.compress(f"{z}/{x}/{y}".encode())
            expected[(z, x, y)] = data
            writer.write_tile(zxy_to_tileid(z, x, y), data)
        writer.finalize(
            {"tile_compression": Compression.GZIP, "tile_type": TileType.MVT},
            {"vector_layers": []},
        )
    archive = RoofArchive(path)
    with open(path, "rb") as f:
        reference = ReferenceReader(MmapSource(f))
        assert reference.header()["leaf_directory_length"] > 0
        for key in list(expected)[::37]:
            assert archive.get(*key) == reference.get(*key) == expected[key]
    missing = next(
        (18, x, 88_000) for x in range(133_000, 134_000) if (18, x, 88_000) not in expected
    )
    assert archive.get(*missing) is None
    assert archive.get(15, 0, 0) is None
    archive.close()


@pytest.mark.slow
def test_archive_of_a_real_build_holds_its_roofs(montpellier_build: BuildSummary) -> None:
    """The build wrote the archive beside the cadastre; every face is in the top zoom."""
    path = vectortiles.archive_path(montpellier_build.path)
    archive = RoofArchive(path)
    assert (archive.min_zoom, archive.max_zoom) == (vectortiles.MIN_ZOOM, vectortiles.MAX_ZOOM)
    layers = {layer["id"]: layer for layer in archive.metadata["vector_layers"]}
    assert set(layers["faces"]["fields"]) == set(vectortiles.FACE_PROPERTIES)
    store = Cadastre(montpellier_build.path)
    expected = {r[0] for r in store._rows("SELECT face_id FROM roof_faces")}
    found: set[str] = set()
    z = archive.max_zoom
    west, south, east, north = archive.bounds
    for x in range(_tile_x(west, z), _tile_x(east, z) + 1):
        for y in range(_tile_y(north, z), _tile_y(south, z) + 1):
            data = archive.get(z, x, y)
            if data is not None:
                layer = mapbox_vector_tile.decode(gzip.decompress(data)).get("faces")
                found |= {f["properties"]["face_id"] for f in (layer or {}).get("features", [])}
    assert found == expected
    archive.close()


def _tile_x(lon: float, z: int) -> int:
    return int((lon + 180.0) / 360.0 * 2**z)


def _tile_y(lat: float, z: int) -> int:
    phi = math.radians(lat)
    return int((1.0 - math.asinh(math.tan(phi)) / math.pi) / 2.0 * 2**z)


@pytest.mark.slow
def test_tiles_command_writes_the_archive_and_style(
    tmp_path: Path, montpellier_build: BuildSummary
) -> None:
    path = Path(shutil.copy(montpellier_build.path, tmp_path / "copy.gpkg"))
    result = CliRunner().invoke(cli, ["tiles", "--cadastre", str(path)])
    assert result.exit_code == 0, result.output
    archive = RoofArchive(tmp_path / "copy.roofs.pmtiles")
    assert archive.max_zoom == vectortiles.MAX_ZOOM
    archive.close()
    assert (tmp_path / "copy.suitability.qml").is_file()
    missing = CliRunner().invoke(cli, ["tiles", "--cadastre", str(tmp_path / "none.gpkg")])
    assert missing.exit_code == 2
    assert missing.output.count("\n") == 1 and "none.gpkg" in missing.output
