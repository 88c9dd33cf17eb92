"""The build: real samples end to end, tiling and Dask, the raster, bad input from the CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.windows
import shapely
import shapely.geometry
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.transform import from_origin
from typer.testing import CliRunner

from app.cli import cli
from solar import build, pv
from solar.cadastre import Cadastre
from solar.errors import InputError
from solar.footprints import Footprint
from solar.resources import DATA_DIR
from solar.surface import Surface
from tests import scenes

DATA = DATA_DIR
DELFT = DATA / "lidar" / "delft_ahn3"
DELFT_LAZ = [DELFT / "ahn3_cropped_1.laz", DELFT / "ahn3_cropped_2.laz"]
BURGUNDY = DATA / "lidar" / "ign_lidarhd_burgundy_870000_6618000"
MONTPELLIER = DATA / "lidar" / "ign_lidarhd_montpellier_77055_627760"
MONTPELLIER_DSM = MONTPELLIER / "DSM_test_data_77055_627760_LA93_IGN69_50CM.tif"

runner = CliRunner()


def _faces(path: Path) -> pd.DataFrame:
    with sqlite3.connect(path) as con:
        return pd.read_sql("SELECT * FROM roof_faces", con)


def _buildings(path: Path) -> pd.DataFrame:
    with sqlite3.connect(path) as con:
        return pd.read_sql("SELECT * FROM buildings", con)


@pytest.fixture(scope="module")
def delft(tmp_path_factory: pytest.TempPathFactory) -> build.BuildSummary:
    out = tmp_path_factory.mktemp("delft") / "delft.gpkg"
    return build.build_cadastre(
        laz=DELFT_LAZ, laz_crs="EPSG:28992", buildings=DELFT / "bgt_pand.sqlite", out=out
    )


def test_delft_footprints_get_faces_with_plausible_tilts(delft: build.BuildSummary) -> None:
    faces = _faces(delft.path)
    buildings = _buildings(delft.path)
    assert len(buildings) == 160
    with_faces = buildings["n_faces"] > 0
    assert with_faces.mean() >= 0.95
    pitched = faces[~faces["is_flat"].astype(bool)]
    assert 30.0 <= pitched["tilt_deg"].median() <= 50.0
    # every column of the schema is filled where it must be
    assert faces["face_id"].is_unique
    assert faces.loc[faces["is_flat"].astype(bool), "azimuth_deg"].isna().all()
    assert pitched["azimuth_deg"].between(0, 360).all()


def test_delft_energy_is_consistent(delft: build.BuildSummary) -> None:
    faces = _faces(delft.path)
    equipped = faces[faces["panels"] > 0]
    assert len(equipped) > 20
    # production = specific yield x kWc, to the rounding of the stored values
    np.testing.assert_allclose(
        equipped["production_kwh_yr"],
        equipped["specific_yield_kwh_kwc"] * equipped["kwc"],
        rtol=2e-3,
        atol=0.5,
    )
    # the Artois yields 850 to 1,150 kWh/kWc on good roofs; shade only takes from that
    best = equipped[equipped["suitability"] == "excellent"]
    assert best["specific_yield_kwh_kwc"].between(850, 1150).all()
    assert (faces["shading_loss_pct"] >= -0.5).all()
    assert (faces["shading_loss_pct"] <= 100).all()
    store = Cadastre(delft.path)
    face = equipped.iloc[0]
    profile = store.profiles([face["face_id"]])[face["face_id"]]
    assert profile.sum() == pytest.approx(face["specific_yield_kwh_kwc"], rel=1e-3)
    monthly = store.faces(face["building_id"])
    row = next(f for f in monthly if f.face_id == face["face_id"])
    assert sum(row.production_monthly_kwh) == pytest.approx(face["production_kwh_yr"], rel=1e-3)


def test_building_totals_count_only_faces_worth_equipping(delft: build.BuildSummary) -> None:
    faces = _faces(delft.path)
    buildings = _buildings(delft.path).set_index("building_id")
    worth = faces[faces["suitability"].isin(pv.WORTH_EQUIPPING)]
    expected = worth.groupby("building_id")["kwc"].sum()
    np.testing.assert_allclose(buildings.loc[expected.index, "kwc"], expected, atol=2e-3)
    assert buildings["kwc"].sum() == pytest.approx(delft.kwc, rel=1e-6)


def test_irradiation_raster_is_a_cog_with_roof_pixels_only(delft: build.BuildSummary) -> None:
    assert delft.raster_path is not None
    with rasterio.open(delft.raster_path) as src:
        assert src.count == 13
        assert src.crs.to_epsg() == 28992
        assert src.profile["tiled"]
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        bands = src.read(masked=True)
    annual, months = bands[0], bands[1:]
    share = annual.count() / annual.size
    assert 0.05 < share < 0.9  # roofs only, nodata elsewhere
    np.testing.assert_allclose(months.sum(axis=0).compressed(), annual.compressed(), rtol=1e-3)
    assert 100 < np.ma.median(annual) < 1400


def test_montpellier_dsm_builds(tmp_path: Path) -> None:
    from solar.footprints import footprints_from_classes, write_footprints
    from solar.surface import rasterize_laz

    traced = footprints_from_classes(
        rasterize_laz([MONTPELLIER / "test_data_77055_627760_LA93_IGN69.laz"])
    )
    footprints = write_footprints(
        traced.footprints, tmp_path / "footprints.gpkg", crs=CRS.from_epsg(2154)
    )
    summary = build.build_cadastre(
        dsm=[MONTPELLIER_DSM], buildings=footprints, out=tmp_path / "m.gpkg"
    )
    assert summary.buildings == len(traced.footprints)
    assert summary.faces >= 2
    assert summary.filled_cells == 7
    assert Cadastre(summary.path).crs.to_epsg() == 2154


def test_a_dsm_mosaic_is_read_tile_by_tile(tmp_path: Path) -> None:
    """Quarters of the Montpellier DSM, built in 25 m tiles, give the whole file's cadastre."""
    from solar.footprints import footprints_from_classes, write_footprints
    from solar.surface import rasterize_laz, read_dsm

    with rasterio.open(MONTPELLIER_DSM) as dataset:
        profile = dataset.profile
        quarters = []
        for row in (0, 50):
            for col in (0, 50):
                window = rasterio.windows.Window(col, row, 50, 50)
                path = tmp_path / f"q{row}_{col}.tif"
                profile.update(height=50, width=50, transform=dataset.window_transform(window))
                with rasterio.open(path, "w", **profile) as out:
                    out.write(dataset.read(1, window=window), 1)
                quarters.append(path)
    traced = footprints_from_classes(
        rasterize_laz([MONTPELLIER / "test_data_77055_627760_LA93_IGN69.laz"])
    )
    source = build.DsmSource.open(quarters)
    assert source.bounds == pytest.approx(read_dsm([MONTPELLIER_DSM]).bounds)
    tiled = build.build_from_surface(
        source,
        traced.footprints,
        out=tmp_path / "tiled.gpkg",
        communes=None,
        options=build.BuildOptions(tile_size=25.0),
    )
    whole = build.build_from_surface(
        read_dsm([MONTPELLIER_DSM]), traced.footprints, out=tmp_path / "whole.gpkg", communes=None
    )
    assert tiled.tiles >= 2
    a, b = _faces(whole.path).set_index("face_id"), _faces(tiled.path).set_index("face_id")
    assert list(a.index) == list(b.index)
    # the halo reaches the whole 50 m sample from any tile: same surface, same figures
    np.testing.assert_allclose(b["irradiation_kwh_m2_yr"], a["irradiation_kwh_m2_yr"], atol=0.2)
    np.testing.assert_allclose(b["kwc"], a["kwc"])
    with rasterio.open(tiled.raster_path) as t, rasterio.open(whole.raster_path) as w:
        assert t.transform == w.transform
        # within 0.1%: the 7 nodata cells are filled from each window's own neighbourhood
        np.testing.assert_allclose(t.read(1), w.read(1), rtol=1e-3)
    # the command line reads DSM files the same way
    footprints = write_footprints(traced.footprints, tmp_path / "fp.gpkg", crs=source.crs)
    code, output = _run(
        tmp_path,
        *[arg for q in quarters for arg in ("--dsm", str(q))],
        "--buildings",
        str(footprints),
        "--tile-size",
        "25",
    )
    assert code == 0, output


def test_burgundy_laz_with_bd_uni_builds(tmp_path: Path) -> None:
    summary = build.build_cadastre(
        laz=[BURGUNDY / "870000_6618000.subset.postValidation.laz"],
        buildings=BURGUNDY / "870000_6618000.subset.postIA.shp",
        out=tmp_path / "b.gpkg",
    )
    # 40 BD UNI footprints, of which the 100 x 62 m point cloud covers 6
    assert summary.buildings == 6
    assert len(summary.footprints_outside) == 34
    assert summary.faces >= 6
    assert summary.kwc > 0
    provenance = Cadastre(summary.path).provenance()
    assert len(provenance["footprints_outside"]) == 34
    assert {s["file"] for s in provenance["sources"]} >= {"870000_6618000.subset.postIA.shp"}


@pytest.fixture(scope="module")
def delft_one_tile(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Surface, list[Footprint], build.BuildSummary]:
    """Delft rasterised whole, its footprints on it, and its cadastre built as one tile."""
    from solar.footprints import read_footprints, select_within
    from solar.surface import rasterize_laz

    surface = rasterize_laz(DELFT_LAZ, crs="EPSG:28992")
    inside, _ = select_within(
        read_footprints(DELFT / "bgt_pand.sqlite", target_crs=surface.crs), surface.bounds
    )
    out = tmp_path_factory.mktemp("delft_one_tile") / "one.gpkg"
    return surface, list(inside), build.build_from_surface(surface, inside, out=out, communes=None)


def test_tiles_with_halo_match_one_tile(
    tmp_path: Path, delft_one_tile: tuple[Surface, list[Footprint], build.BuildSummary]
) -> None:
    """Cut Delft into 60 m tiles: each building is built once, with the same shade."""
    surface, inside, one = delft_one_tile
    many = build.build_from_surface(
        surface,
        inside,
        out=tmp_path / "many.gpkg",
        communes=None,
        options=build.BuildOptions(tile_size=60.0),
    )
    assert many.tiles > 4
    a = _faces(one.path).set_index("face_id")
    b = _faces(many.path).set_index("face_id")
    # a face cut by a tile edge can segment slightly differently; nearly all match
    common = a.index.intersection(b.index)
    assert len(common) >= 0.97 * len(a)
    np.testing.assert_allclose(
        b.loc[common, "irradiation_kwh_m2_yr"], a.loc[common, "irradiation_kwh_m2_yr"], atol=15
    )
    assert many.production_mwh_yr == pytest.approx(one.production_mwh_yr, rel=0.03)


def test_point_clouds_are_read_tile_by_tile(
    tmp_path: Path, delft_one_tile: tuple[Surface, list[Footprint], build.BuildSummary]
) -> None:
    """Delft's LAZ rasterised per 60 m tile window matches the whole grid's build."""
    whole_surface, inside, whole = delft_one_tile
    source = build.LazSource.open(DELFT_LAZ, resolution=0.5, crs="EPSG:28992")
    assert source.bounds[0] >= whole_surface.bounds[0]
    assert source.bounds[2] <= whole_surface.bounds[2]
    window = (84900.0, 447500.0, 84950.0, 447550.0)
    part = source.read(window)
    assert part.bounds == window
    np.testing.assert_array_equal(part.building, build.crop(whole_surface, window).building)
    tiled = build.build_from_surface(
        source,
        inside,
        out=tmp_path / "tiled.gpkg",
        communes=None,
        options=build.BuildOptions(tile_size=60.0),
    )
    assert tiled.tiles > 4
    a = _faces(whole.path).set_index("face_id")
    b = _faces(tiled.path).set_index("face_id")
    common = a.index.intersection(b.index)
    # holes are filled from each window's own cells: a few faces segment differently
    assert len(common) >= 0.95 * len(a)
    assert tiled.production_mwh_yr == pytest.approx(whole.production_mwh_yr, rel=0.03)
    with rasterio.open(tiled.raster_path) as t, rasterio.open(whole.raster_path) as w:
        assert t.transform == w.transform and t.shape == w.shape


def test_dask_local_cluster_gives_the_same_cadastre(tmp_path: Path) -> None:
    scene = scenes.gable(tilt=35.0, azimuth=180.0)
    surface, footprint = scene.surface, scene.footprint
    twin = Footprint("twin", shapely.affinity.translate(footprint.geometry, 0.0, 0.0))
    here = build.build_from_surface(
        surface,
        [twin],
        out=tmp_path / "here.gpkg",
        communes=None,
        options=build.BuildOptions(tile_size=10.0),
    )
    there = build.build_from_surface(
        surface,
        [twin],
        out=tmp_path / "there.gpkg",
        communes=None,
        options=build.BuildOptions(tile_size=10.0),
        workers=2,
    )
    pd.testing.assert_frame_equal(_faces(here.path), _faces(there.path))


def test_every_option_changes_the_output(tmp_path: Path) -> None:
    scene = scenes.gable(tilt=35.0, azimuth=180.0, chimney=(1.0, 1.5))
    surface, footprint = scene.surface, scene.footprint
    base = build.BuildOptions()
    variants = {
        "setback": build.BuildOptions(setback=1.0),
        "system_losses": build.BuildOptions(system_losses=0.25),
        "albedo": build.BuildOptions(albedo=0.6),
        "module": build.BuildOptions(module="generic-perc-410"),
        "n_sectors": build.BuildOptions(n_sectors=8),
        "max_tilt": build.BuildOptions(max_tilt=30.0),
        "min_usable_area": build.BuildOptions(min_usable_area=44.0),
        "obstacle_tolerance": build.BuildOptions(obstacle_tolerance=2.0),
    }

    def signature(options: build.BuildOptions, name: str) -> tuple:
        summary = build.build_from_surface(
            surface, [footprint], out=tmp_path / f"{name}.gpkg", communes=None, options=options
        )
        faces = _faces(summary.path)
        return tuple(
            faces[["usable_area_m2", "kwc", "production_kwh_yr", "irradiation_kwh_m2_yr"]]
            .round(3)
            .itertuples(index=False)
        )

    reference = signature(base, "base")
    for name, options in variants.items():
        assert signature(options, name) != reference, name


def test_commune_from_the_polygons(tmp_path: Path) -> None:
    scene = scenes.gable(tilt=35.0, azimuth=180.0)
    surface, footprint = scene.surface, scene.footprint
    summary = build.build_from_surface(surface, [footprint], out=tmp_path / "lens.gpkg")
    # the commune that holds the scene, found independently: lon/lat, then the polygons
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(*scenes.CENTRE)
    communes = json.loads(build.DEFAULT_COMMUNES.read_text())["features"]
    expected = [
        f["properties"]["insee"]
        for f in communes
        if shapely.geometry.shape(f["geometry"]).contains(shapely.Point(lon, lat))
    ]
    assert len(expected) == 1
    assert Cadastre(summary.path).building(footprint.building_id).commune_insee == expected[0]


# --- the command line and bad input -------------------------------------------------------


def _write_dsm(path: Path, crs: str, data: np.ndarray | None = None) -> Path:
    data = np.full((40, 40), 30.0, dtype=np.float32) if data is None else data
    transform = (
        from_origin(2.8, 50.43, 1e-5, 1e-5)
        if crs == "EPSG:4326"
        else from_origin(686000, 7032020, 0.5, 0.5)
    )
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=data.shape[0],
        width=data.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=-9999,
    ) as dst:
        dst.write(data, 1)
    return path


def _write_geojson(path: Path, features: str) -> Path:
    path.write_text(
        '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": '
        f'"urn:ogc:def:crs:EPSG::2154"}}}}, "features": [{features}]}}'
    )
    return path


def _square_feature(x: float, y: float, size: float = 8.0, fid: str = "a") -> str:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return (
        f'{{"type": "Feature", "properties": {{"id": "{fid}"}}, '
        f'"geometry": {{"type": "Polygon", "coordinates": [{ring}]}}}}'
    )


def _run(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["build", *args, "--out", str(tmp_path / "out.gpkg")])
    return result.exit_code, result.output


@pytest.fixture()
def good_footprints(tmp_path: Path) -> Path:
    return _write_geojson(tmp_path / "fp.geojson", _square_feature(686005, 7032000))


def test_cli_builds_and_prints_a_summary(tmp_path: Path, good_footprints: Path) -> None:
    scene = scenes.gable(tilt=35.0, azimuth=180.0)
    surface, footprint = scene.surface, scene.footprint
    dsm = _write_dsm(tmp_path / "gable.tif", "EPSG:2154", surface.elevation)
    with rasterio.open(dsm, "r+") as dst:
        dst.transform = surface.transform
    fp = _write_geojson(
        tmp_path / "gable.geojson",
        '{"type": "Feature", "properties": {"id": "g1"}, "geometry": '
        + shapely.to_geojson(footprint.geometry)
        + "}",
    )
    code, output = _run(tmp_path, "--dsm", str(dsm), "--buildings", str(fp))
    assert code == 0, output
    text = " ".join(output.split())  # rich wraps at the terminal width
    assert "1 buildings" in text and "kWc" in text and "MWh/yr" in text
    assert (tmp_path / "out.gpkg").is_file()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("geographic", "projected"),
        ("truncated", "gable.tif"),
        ("no_overlap", "no footprint overlaps"),
        ("empty", "fp.geojson"),
    ],
)
def test_cli_bad_input_names_the_problem_and_writes_nothing(
    tmp_path: Path, good_footprints: Path, case: str, message: str
) -> None:
    dsm = _write_dsm(tmp_path / "gable.tif", "EPSG:2154")
    footprints = good_footprints
    if case == "geographic":
        dsm = _write_dsm(tmp_path / "gable.tif", "EPSG:4326")
    elif case == "truncated":
        dsm.write_bytes(dsm.read_bytes()[:300])
    elif case == "no_overlap":
        footprints = _write_geojson(tmp_path / "fp.geojson", _square_feature(600000, 7000000))
    elif case == "empty":
        footprints = _write_geojson(tmp_path / "fp.geojson", "")
    code, output = _run(tmp_path, "--dsm", str(dsm), "--buildings", str(footprints))
    assert code == 2
    text = " ".join(output.split())
    assert "error:" in text and message in text
    assert not list(tmp_path.glob("out*"))
    assert not list(tmp_path.glob(".out*"))


def test_cli_repairs_a_self_intersecting_footprint_and_says_so(tmp_path: Path) -> None:
    scene = scenes.gable(tilt=35.0, azimuth=180.0)
    surface, footprint = scene.surface, scene.footprint
    dsm = _write_dsm(tmp_path / "gable.tif", "EPSG:2154", surface.elevation)
    with rasterio.open(dsm, "r+") as dst:
        dst.transform = surface.transform
    xmin, ymin, xmax, ymax = footprint.geometry.bounds
    bowtie = [[xmin, ymin], [xmax, ymax], [xmax, ymin], [xmin, ymax], [xmin, ymin]]
    fp = _write_geojson(
        tmp_path / "bowtie.geojson",
        '{"type": "Feature", "properties": {"id": "bow"}, '
        f'"geometry": {{"type": "Polygon", "coordinates": [{bowtie}]}}}}',
    )
    code, output = _run(tmp_path, "--dsm", str(dsm), "--buildings", str(fp))
    assert code == 0, output
    assert "1 invalid geometries repaired" in " ".join(output.split())
    assert Cadastre(tmp_path / "out.gpkg").provenance()["footprints_repaired"] == 1


def test_cli_needs_one_surface_source(tmp_path: Path, good_footprints: Path) -> None:
    code, output = _run(tmp_path, "--buildings", str(good_footprints))
    assert code == 2 and "--dsm/--laz" in output


def test_build_from_surface_rejects_no_footprint(tmp_path: Path) -> None:
    surface = scenes.gable(tilt=35.0, azimuth=180.0).surface
    with pytest.raises(InputError, match="no footprint"):
        build.build_from_surface(surface, [], out=tmp_path / "x.gpkg")
