"""Footprint readers: formats, CRS, ids, repairs and the overlap with the surface model."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from rasterio.crs import CRS

from solar.errors import InputError
from solar.footprints import (
    Footprint,
    FootprintSet,
    GeneratedIdWarning,
    read_footprints,
    select_within,
)
from solar.resources import LIDAR_DIR
from tests import geometries as g

DELFT_BGT = LIDAR_DIR / "delft_ahn3" / "bgt_pand.sqlite"
BURGUNDY = LIDAR_DIR / "ign_lidarhd_burgundy_870000_6618000"
BURGUNDY_SHP = BURGUNDY / "870000_6618000.subset.postIA.shp"

# Somewhere in Lens, Lambert-93. [m]
LENS_X, LENS_Y = 687_000.0, 7_036_000.0


def write_geojson(
    path: Path, geometries: list[shapely.Geometry | None], props: list[dict], epsg: int | None
) -> Path:
    """A FeatureCollection, with the old-style ``crs`` member that GDAL honours when given."""
    collection: dict = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": p,
                "geometry": None if geom is None else json.loads(shapely.to_geojson(geom)),
            }
            for geom, p in zip(geometries, props, strict=True)
        ],
    }
    if epsg is not None:
        collection["crs"] = {
            "type": "name",
            "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"},
        }
    path.write_text(json.dumps(collection))
    return path


def placed(geometry: shapely.Geometry) -> shapely.Geometry:
    return g.translated(geometry, LENS_X, LENS_Y)


@pytest.fixture
def zoo(tmp_path: Path) -> Path:
    """Every shared test geometry in one Lambert-93 GeoJSON, ids a … h."""
    geometries = [
        g.polygon_with_hole,
        g.multi_polygon,
        g.bowtie,
        g.empty_polygon,
        g.polygon_z,
        g.point,
        g.collapsed_polygon,
        None,
    ]
    props = [{"id": name} for name in "abcdefgh"]
    return write_geojson(
        tmp_path / "zoo.geojson", [placed(x) if x else x for x in geometries], props, 2154
    )


def test_delft_bgt_sqlite() -> None:
    fs = read_footprints(DELFT_BGT, target_crs="EPSG:28992")
    assert len(fs.footprints) == 160
    assert fs.repaired == 0
    assert fs.dropped == ()
    # BGT: the object's own id (lokaalid) is preferred over the GML encoding's gml_id.
    ids = [f.building_id for f in fs.footprints]
    assert len(set(ids)) == 160
    assert all(i.startswith("G0503.") for i in ids)
    # Same CRS: the geometries are the file's, unchanged; areas from the raw WKB.
    _, _, wkb, _ = pyogrio.raw.read(DELFT_BGT)
    raw_areas = shapely.area(shapely.from_wkb(wkb))
    areas = np.array([f.geometry.area for f in fs.footprints])
    np.testing.assert_allclose(areas, raw_areas, rtol=1e-12)
    # Row houses and a few larger buildings.
    assert areas.min() > 1.0
    assert areas.max() < 5_000.0
    assert 20.0 < np.median(areas) < 150.0
    # Within the AHN3 crops (Rijksdriehoek metres).
    xmin, ymin, xmax, ymax = shapely.total_bounds([f.geometry for f in fs.footprints])
    assert 84_700 < xmin < xmax < 85_200
    assert 447_300 < ymin < ymax < 447_700


def test_id_field_picks_the_id() -> None:
    fs = read_footprints(DELFT_BGT, target_crs="EPSG:28992", id_field="gml_id")
    assert fs.footprints[0].building_id.startswith("b")
    assert not fs.footprints[0].building_id.startswith("G0503.")
    upper = read_footprints(DELFT_BGT, target_crs="EPSG:28992", id_field="GML_ID")
    assert [f.building_id for f in upper.footprints] == [f.building_id for f in fs.footprints]


def test_missing_id_field_names_it_and_lists_fields() -> None:
    with pytest.raises(InputError) as excinfo:
        read_footprints(DELFT_BGT, target_crs="EPSG:28992", id_field="cleabs")
    message = str(excinfo.value)
    assert "'cleabs'" in message and "lokaalid" in message and str(DELFT_BGT) in message


def test_burgundy_bd_uni_shapefile() -> None:
    # PRESENCE is the only field: ids are derived from the geometries, with a warning.
    with pytest.warns(GeneratedIdWarning, match="no id field") as caught:
        fs = read_footprints(BURGUNDY_SHP, target_crs="EPSG:2154")
    assert str(BURGUNDY_SHP) in str(caught[0].message)
    assert len(fs.footprints) == 40
    ids = [f.building_id for f in fs.footprints]
    assert len(set(ids)) == 40 and all(i.startswith("g") and len(i) == 17 for i in ids)
    assert not any(f.geometry.has_z for f in fs.footprints)
    bounds = shapely.total_bounds([f.geometry for f in fs.footprints])
    # total_bounds as ogrinfo reports them for the file.
    np.testing.assert_allclose(bounds, (870157.6, 6616964.8, 870357.8, 6617202.4), atol=0.05)
    assert all(f.geometry.area > 1.0 for f in fs.footprints)


def test_shapefile_without_prj(tmp_path: Path) -> None:
    for ext in ("shp", "shx", "dbf"):
        shutil.copy(BURGUNDY / f"870000_6618000.subset.postIA.{ext}", tmp_path / f"b.{ext}")
    with pytest.raises(InputError, match="no coordinate reference system") as excinfo:
        read_footprints(tmp_path / "b.shp", target_crs="EPSG:2154")
    assert str(tmp_path / "b.shp") in str(excinfo.value)


def test_wgs84_geojson_reprojected_to_lambert93(tmp_path: Path) -> None:
    # A 0.002° × 0.001° cell of the graticule in Lens; no crs member: WGS84 by RFC 7946.
    lon0, lat0, dlon, dlat = 2.830, 50.430, 0.002, 0.001
    cell = shapely.box(lon0, lat0, lon0 + dlon, lat0 + dlat)
    path = write_geojson(tmp_path / "wgs84.geojson", [cell], [{"id": "cell"}], None)
    fs = read_footprints(path, target_crs="EPSG:2154")
    # Spherical area of a graticule cell, R² Δλ (sin φ2 − sin φ1), with the mean Earth radius
    # (Moritz 2000, GRS80 R1 = 6371008.8 m). Sphere vs ellipsoid (+0.3 % at 50°N) and the
    # Lambert-93 scale factor (< 0.1 % here) stay well inside the 1 % tolerance.
    radius = 6_371_008.8
    expected = (
        radius**2
        * math.radians(dlon)
        * (math.sin(math.radians(lat0 + dlat)) - math.sin(math.radians(lat0)))
    )
    geometry = fs.footprints[0].geometry
    assert geometry.area == pytest.approx(expected, rel=0.01)
    # Lambert-93 metres, not degrees.
    assert 600_000 < geometry.centroid.x < 800_000 and 6_900_000 < geometry.centroid.y < 7_200_000


def test_shared_geometries(zoo: Path) -> None:
    fs = read_footprints(zoo, target_crs="EPSG:2154")
    by_id = {f.building_id: f.geometry for f in fs.footprints}
    assert list(by_id) == ["a", "b", "c", "e"]
    # Holes kept.
    assert by_id["a"].area == pytest.approx(96.0, abs=1e-6)
    assert len(by_id["a"].interiors) == 1
    # MultiPolygons kept.
    assert by_id["b"].geom_type == "MultiPolygon"
    assert by_id["b"].area == pytest.approx(32.0, abs=1e-6)
    # The bowtie is repaired into its two triangles.
    assert fs.repaired == 1
    assert by_id["c"].is_valid
    assert by_id["c"].area == pytest.approx(50.0, abs=1e-6)
    # Z dropped.
    assert not by_id["e"].has_z
    assert by_id["e"].area == pytest.approx(100.0, abs=1e-6)
    assert all(shapely.is_valid(x) for x in by_id.values())
    reasons = dict(d.split(": ", 1) for d in fs.dropped)
    assert reasons == {
        "d": "empty geometry",
        "f": "not a polygon (Point)",
        "g": "invalid geometry with no polygonal part once repaired",
        "h": "empty geometry",
    }


def test_repair_keeps_the_polygons_nested_in_a_collection(tmp_path: Path) -> None:
    # make_valid returns the two triangles as a MultiPolygon inside a collection, beside the
    # line left by the collapsed ring.
    path = write_geojson(
        tmp_path / "nested.geojson", [placed(g.bowtie_beside_a_collapsed_ring)], [{"id": "n"}], 2154
    )
    fs = read_footprints(path, target_crs="EPSG:2154")
    [footprint] = fs.footprints
    assert fs.repaired == 1
    assert footprint.geometry.is_valid
    assert footprint.geometry.geom_type == "MultiPolygon"
    assert footprint.geometry.area == pytest.approx(50.0, abs=1e-6)


def test_geopackage_layers_and_target_crs_object(tmp_path: Path) -> None:
    path = tmp_path / "bati.gpkg"
    geometries = shapely.to_wkb([placed(g.polygon_with_hole), placed(g.multi_polygon)])
    fields = [np.array(["BATIMENT0000000000000001", "BATIMENT0000000000000002"], dtype=object)]
    for layer in ("batiment", "annexe"):
        pyogrio.raw.write(
            path,
            geometries,
            fields,
            fields=["cleabs"],
            layer=layer,
            crs="EPSG:2154",
            driver="GPKG",
            geometry_type="Unknown",
            append=layer == "annexe",
        )
    with pytest.raises(InputError, match="batiment, annexe"):
        read_footprints(path, target_crs="EPSG:2154")
    fs = read_footprints(path, target_crs=CRS.from_epsg(2154), layer="annexe")
    assert [f.building_id for f in fs.footprints] == [
        "BATIMENT0000000000000001",
        "BATIMENT0000000000000002",
    ]
    assert fs.footprints[0].geometry.area == pytest.approx(96.0, abs=1e-6)
    assert fs.footprints[1].geometry.geom_type == "MultiPolygon"


def test_generated_ids_are_stable(tmp_path: Path) -> None:
    # A 10 m × 8 m box at the origin of Lambert-93, rounded to the cm and normalised, is the
    # WKB of POLYGON ((0 0, 0 8, 10 8, 10 0, 0 0)): its id is "g" and 16 digits of SHA-256.
    by_hand = shapely.to_wkb(shapely.from_wkt("POLYGON ((0 0, 0 8, 10 8, 10 0, 0 0))"))
    box_id = "g" + hashlib.sha256(by_hand).hexdigest()[:16]
    houses = [shapely.box(0, 0, 10, 8), placed(g.square), placed(g.polygon_with_hole)]
    path = write_geojson(tmp_path / "noid.geojson", houses, [{"hauteur": 7.0}] * 3, 2154)
    with pytest.warns(GeneratedIdWarning, match="--id-field"):
        first = [f.building_id for f in read_footprints(path, target_crs="EPSG:2154").footprints]
    assert first[0] == box_id
    # The same buildings in another order, a vertex moved by 2 mm: the same ids.
    moved = [houses[2], shapely.box(0, 0, 10.002, 8), houses[1]]
    again = write_geojson(tmp_path / "again.geojson", moved, [{}] * 3, 2154)
    with pytest.warns(GeneratedIdWarning):
        second = [f.building_id for f in read_footprints(again, target_crs="EPSG:2154").footprints]
    assert second == [first[2], first[0], first[1]]
    # Two identical footprints: the second is told apart by its rank.
    twice = write_geojson(tmp_path / "twice.geojson", [houses[0], houses[0]], [{}] * 2, 2154)
    with pytest.warns(GeneratedIdWarning):
        fs = read_footprints(twice, target_crs="EPSG:2154")
    assert [f.building_id for f in fs.footprints] == [box_id, box_id + "-2"]


def test_duplicate_ids_are_an_error(tmp_path: Path) -> None:
    squares = [placed(g.square), placed(g.translated(g.square, 20.0, 0.0))]
    path = write_geojson(tmp_path / "dup.geojson", squares, [{"id": "x"}, {"id": "x"}], 2154)
    with pytest.raises(InputError, match="'x' appears 2 times"):
        read_footprints(path, target_crs="EPSG:2154")


def test_missing_id_is_dropped(tmp_path: Path) -> None:
    squares = [placed(g.square), placed(g.translated(g.square, 20.0, 0.0))]
    path = write_geojson(
        tmp_path / "null.geojson", squares, [{"identifiant": "x"}, {"identifiant": None}], 2154
    )
    fs = read_footprints(path, target_crs="EPSG:2154")
    assert [f.building_id for f in fs.footprints] == ["x"]
    assert fs.dropped == ("fid 1: no value in the id field 'identifiant'",)


def test_empty_feature_collection(tmp_path: Path) -> None:
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="empty") as excinfo:
        read_footprints(path, target_crs="EPSG:2154")
    assert excinfo.value.source == str(path)


def test_only_unusable_features(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "points.geojson", [placed(g.point)], [{"id": "p"}], 2154)
    with pytest.raises(InputError, match=r"no usable footprint.*p: not a polygon"):
        read_footprints(path, target_crs="EPSG:2154")


@pytest.mark.parametrize("content", [b"not a vector file at all", None])
def test_unreadable_file(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bati.gpkg"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match="cannot read") as excinfo:
        read_footprints(path, target_crs="EPSG:2154")
    assert str(path) in str(excinfo.value)


def test_select_within() -> None:
    fs = FootprintSet(
        footprints=(
            Footprint("in", shapely.box(1, 1, 3, 3)),
            Footprint("across", shapely.box(8, 8, 12, 12)),
            Footprint("touching", shapely.box(10, 0, 11, 1)),
            Footprint("out", shapely.box(20, 20, 21, 21)),
        ),
        repaired=0,
        dropped=(),
        source="bati.gpkg",
    )
    inside, outside = select_within(fs, (0.0, 0.0, 10.0, 10.0))
    assert [f.building_id for f in inside] == ["in", "across"]
    # Kept whole, not clipped to the grid.
    assert inside[1].geometry.area == pytest.approx(16.0)
    assert outside == ("touching", "out")


def test_select_within_delft_and_burgundy() -> None:
    delft = read_footprints(DELFT_BGT, target_crs="EPSG:28992")
    # The western AHN3 crop alone (its header bounds, EPSG:28992).
    inside, outside = select_within(delft, (84808.3, 447412.8, 84999.999, 447641.299))
    assert len(inside) + len(outside) == 160
    assert 0 < len(outside) < 160
    assert {f.building_id for f in inside}.isdisjoint(outside)
    burgundy = read_footprints(BURGUNDY_SHP, target_crs="EPSG:2154")
    with pytest.raises(InputError, match="no footprint overlaps the surface model") as excinfo:
        select_within(burgundy, (84808.3, 447412.8, 84999.999, 447641.299))
    assert excinfo.value.source == str(BURGUNDY_SHP)


def test_write_footprints_round_trip(tmp_path: Path) -> None:
    from solar.footprints import write_footprints

    lambert93 = CRS.from_epsg(2154)
    written = [Footprint("a", g.polygon_with_hole), Footprint("b", g.multi_polygon)]
    path = write_footprints(written, tmp_path / "fp.gpkg", crs=lambert93)
    back = read_footprints(path, target_crs=lambert93)
    assert [f.building_id for f in back.footprints] == ["a", "b"]
    for original, read in zip(written, back.footprints, strict=True):
        assert read.geometry.area == pytest.approx(original.geometry.area)
