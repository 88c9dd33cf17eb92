"""The build end to end: the real samples, tiling and Dask, the options, the communes.

The real samples are built once per session (tests/conftest.py); the tests compare what
the GeoPackage and the raster hold with physical bounds, with each other (tiled against
whole, Dask against in-process) and with independent readings of the inputs.
"""

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

from solar import build, pv
from solar.build.raster import ANNUAL_STEP
from solar.cadastre import Cadastre
from solar.errors import InputError
from solar.footprints import Footprint
from solar.resources import COMMUNES
from solar.surface import DsmSource, LazSource, Surface, crop, read_dsm
from tests import scenes
from tests.conftest import DELFT_CRS, DELFT_LAZ, MONTPELLIER_DSM


def _faces(path: Path) -> pd.DataFrame:
    with sqlite3.connect(path) as con:
        return pd.read_sql("SELECT * FROM roof_faces", con)


def _buildings(path: Path) -> pd.DataFrame:
    with sqlite3.connect(path) as con:
        return pd.read_sql("SELECT * FROM buildings", con)


# --- the real samples ---------------------------------------------------------------------


@pytest.mark.slow
def test_delft_footprints_get_faces_with_plausible_tilts(delft_build: build.BuildSummary) -> None:
    faces = _faces(delft_build.path)
    buildings = _buildings(delft_build.path)
    # the 160 BGT footprints, and the class-6 roofs that none of them holds
    found = buildings["footprint_check"] == "lidar_only"
    assert (~found).sum() == 160
    assert buildings.loc[found, "building_id"].str.startswith("LIDAR-").all()
    assert delft_build.footprints_lidar_only == found.sum() == 6
    with_faces = buildings["n_faces"] > 0
    assert with_faces.mean() >= 0.95
    pitched = faces[~faces["is_flat"].astype(bool)]
    assert 30.0 <= pitched["tilt_deg"].median() <= 50.0
    # every column of the schema is filled where it must be
    assert faces["face_id"].is_unique
    assert faces.loc[faces["is_flat"].astype(bool), "azimuth_deg"].isna().all()
    assert pitched["azimuth_deg"].between(0, 360).all()


@pytest.mark.slow
def test_delft_energy_is_consistent(delft_build: build.BuildSummary) -> None:
    faces = _faces(delft_build.path)
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
    store = Cadastre(delft_build.path)
    face = equipped.iloc[0]
    profile = store.profiles([face["face_id"]])[face["face_id"]]
    assert profile.sum() == pytest.approx(face["specific_yield_kwh_kwc"], rel=1e-3)
    monthly = store.faces(face["building_id"])
    row = next(f for f in monthly if f.face_id == face["face_id"])
    assert sum(row.production_monthly_kwh) == pytest.approx(face["production_kwh_yr"], rel=1e-3)
    assert sum(row.irradiation_monthly_kwh_m2) == pytest.approx(
        face["irradiation_kwh_m2_yr"], abs=0.2
    )


@pytest.mark.slow
def test_building_totals_count_only_faces_worth_equipping(
    delft_build: build.BuildSummary,
) -> None:
    faces = _faces(delft_build.path)
    buildings = _buildings(delft_build.path).set_index("building_id")
    worth = faces[faces["suitability"].isin(pv.WORTH_EQUIPPING)]
    expected = worth.groupby("building_id")["kwc"].sum()
    np.testing.assert_allclose(buildings.loc[expected.index, "kwc"], expected, atol=2e-3)
    assert buildings["kwc"].sum() == pytest.approx(delft_build.kwc, rel=1e-6)


@pytest.mark.slow
def test_irradiation_raster_is_a_cog_with_roof_pixels_only(
    delft_build: build.BuildSummary,
) -> None:
    assert delft_build.raster_path is not None
    with rasterio.open(delft_build.raster_path) as src:
        # the annual band alone by default (tests/build/test_raster.py: the months)
        assert src.count == 1
        assert src.crs.to_epsg() == 28992
        assert src.profile["tiled"]
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        annual = src.read(1, masked=True)
    share = annual.count() / annual.size
    assert 0.05 < share < 0.9  # roofs only, nodata elsewhere
    assert 100 < np.ma.median(annual) < 1400


@pytest.mark.slow
def test_montpellier_dsm_builds(
    montpellier_build: build.BuildSummary, montpellier_traced: tuple[Footprint, ...]
) -> None:
    assert montpellier_build.buildings == len(montpellier_traced)
    assert montpellier_build.faces >= 2
    assert montpellier_build.filled_cells == 7
    assert Cadastre(montpellier_build.path).crs.to_epsg() == 2154


@pytest.mark.slow
def test_burgundy_laz_with_bd_uni_builds(burgundy_build: build.BuildSummary) -> None:
    # 40 BD UNI footprints, of which the 100 x 62 m point cloud covers 6; and one class-6
    # roof of 34 m² that none of them holds
    assert burgundy_build.buildings == 6 + burgundy_build.footprints_lidar_only
    assert burgundy_build.footprints_lidar_only == 1
    assert len(burgundy_build.footprints_outside) == 34
    assert burgundy_build.faces >= 6
    assert burgundy_build.kwc > 0
    provenance = Cadastre(burgundy_build.path).provenance()
    assert len(provenance["footprints_outside"]) == 34
    assert provenance["footprints_outside"] == list(burgundy_build.footprints_outside)
    assert provenance["footprints_repaired"] == burgundy_build.footprints_repaired
    assert {s["file"] for s in provenance["sources"]} >= {"870000_6618000.subset.postIA.shp"}


# --- tiles, windows and Dask --------------------------------------------------------------


@pytest.mark.slow
def test_a_dsm_mosaic_is_read_tile_by_tile(
    tmp_path: Path,
    montpellier_build: build.BuildSummary,
    montpellier_footprints: Path,
) -> None:
    """Quarters of the Montpellier DSM, built in 25 m tiles, give the whole file's cadastre."""
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
    assert DsmSource.open(quarters).bounds == pytest.approx(read_dsm([MONTPELLIER_DSM]).bounds)
    tiled = build.build_cadastre(
        build.BuildInputs(dsm=quarters, buildings=montpellier_footprints),
        out=tmp_path / "tiled.gpkg",
        options=build.BuildOptions(tile_size=25.0),
    )
    whole = montpellier_build
    assert tiled.tiles >= 2
    a, b = _faces(whole.path).set_index("face_id"), _faces(tiled.path).set_index("face_id")
    assert list(a.index) == list(b.index)
    # the halo reaches the whole 50 m sample from any tile: same surface, same figures
    np.testing.assert_allclose(b["irradiation_kwh_m2_yr"], a["irradiation_kwh_m2_yr"], atol=0.2)
    np.testing.assert_allclose(b["kwc"], a["kwc"])
    assert tiled.raster_path is not None and whole.raster_path is not None
    with rasterio.open(tiled.raster_path) as t, rasterio.open(whole.raster_path) as w:
        assert t.transform == w.transform
        # within 0.1%: the 7 nodata cells are filled from each window's own neighbourhood,
        # and a value either side of a half may round to the next whole kWh/m²
        np.testing.assert_allclose(t.read(1), w.read(1), rtol=1e-3, atol=ANNUAL_STEP)


@pytest.mark.slow
def test_tiles_with_halo_match_one_tile(
    tmp_path: Path,
    delft_surface: tuple[Surface, tuple[Footprint, ...]],
    delft_build: build.BuildSummary,
) -> None:
    """Cut Delft into 60 m tiles: each building is built once, with the same shade."""
    surface, inside = delft_surface
    many = build.build_from_surface(
        build.Territory(surface, inside, communes=None),
        out=tmp_path / "many.gpkg",
        options=build.BuildOptions(tile_size=60.0),
    )
    one = delft_build  # one 1 km tile over the same grid
    assert one.tiles == 1
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


@pytest.mark.slow
def test_point_clouds_are_read_tile_by_tile(
    tmp_path: Path,
    delft_surface: tuple[Surface, tuple[Footprint, ...]],
    delft_build: build.BuildSummary,
) -> None:
    """Delft's LAZ rasterised per 60 m tile window matches the whole grid's build."""
    whole_surface, inside = delft_surface
    source = LazSource.open(DELFT_LAZ, resolution=0.5, crs=DELFT_CRS)
    assert source.bounds[0] >= whole_surface.bounds[0]
    assert source.bounds[2] <= whole_surface.bounds[2]
    window = (84900.0, 447500.0, 84950.0, 447550.0)
    part = source.read(window)
    assert part.bounds == window
    np.testing.assert_array_equal(part.building, crop(whole_surface, window).building)
    tiled = build.build_from_surface(
        build.Territory(source, inside, communes=None),
        out=tmp_path / "tiled.gpkg",
        options=build.BuildOptions(tile_size=60.0),
    )
    whole = delft_build
    assert tiled.tiles > 4
    a = _faces(whole.path).set_index("face_id")
    b = _faces(tiled.path).set_index("face_id")
    common = a.index.intersection(b.index)
    # holes are filled from each window's own cells: a few faces segment differently
    assert len(common) >= 0.95 * len(a)
    assert tiled.production_mwh_yr == pytest.approx(whole.production_mwh_yr, rel=0.03)
    assert tiled.raster_path is not None and whole.raster_path is not None
    with rasterio.open(tiled.raster_path) as t, rasterio.open(whole.raster_path) as w:
        assert t.transform == w.transform and t.shape == w.shape


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_cadastre(tmp_path: Path) -> None:
    scene = scenes.gable(tilt=35.0, azimuth=180.0)
    territory = build.Territory(scene.surface, [scene.footprint], communes=None)
    options = build.BuildOptions(tile_size=10.0)
    here = build.build_from_surface(territory, out=tmp_path / "here.gpkg", options=options)
    there = build.build_from_surface(
        territory,
        out=tmp_path / "there.gpkg",
        options=options,
        execution=build.Execution(workers=2),
    )
    pd.testing.assert_frame_equal(_faces(here.path), _faces(there.path))


# --- options, communes, inputs ------------------------------------------------------------


@pytest.mark.slow
def test_every_option_changes_the_output(tmp_path: Path) -> None:
    scene = scenes.gable(tilt=35.0, azimuth=180.0, chimney=(1.0, 1.5))
    territory = build.Territory(scene.surface, [scene.footprint], communes=None)
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
            territory, out=tmp_path / f"{name}.gpkg", options=options
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
    summary = build.build_from_surface(
        build.Territory(scene.surface, [scene.footprint]), out=tmp_path / "lens.gpkg"
    )
    # the commune that holds the scene, found independently: lon/lat, then the polygons
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(*scenes.CENTRE)
    communes = json.loads(COMMUNES.read_text())["features"]
    expected = [
        f["properties"]["insee"]
        for f in communes
        if shapely.geometry.shape(f["geometry"]).contains(shapely.Point(lon, lat))
    ]
    assert len(expected) == 1
    building = Cadastre(summary.path).building(scene.footprint.building_id)
    assert building.commune_insee == expected[0]


def test_a_build_of_flat_roofs_keeps_a_numeric_azimuth_column(tmp_path: Path) -> None:
    """Every azimuth null (flat roofs only): the column is still a number column."""
    scene = scenes.flat(parapet_width=0.0)
    summary = build.build_from_surface(
        build.Territory(scene.surface, [scene.footprint], communes=None),
        out=tmp_path / "flat.gpkg",
    )
    with sqlite3.connect(summary.path) as con:
        types = {row[1]: row[2] for row in con.execute("PRAGMA table_info(roof_faces)")}
        azimuths = con.execute("SELECT azimuth_deg FROM roof_faces").fetchall()
    assert azimuths and all(a is None for (a,) in azimuths)
    assert types["azimuth_deg"] == "REAL"


def test_build_from_surface_rejects_no_footprint(tmp_path: Path) -> None:
    surface = scenes.gable(tilt=35.0, azimuth=180.0).surface
    with pytest.raises(InputError, match="no footprint"):
        build.build_from_surface(build.Territory(surface, []), out=tmp_path / "x.gpkg")


def test_build_inputs_need_one_surface_source(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not both and not neither"):
        build.read_inputs(build.BuildInputs(), laz_resolution=0.5)
    with pytest.raises(InputError, match="not both"):
        build.read_inputs(
            build.BuildInputs(dsm=[MONTPELLIER_DSM], laz=list(DELFT_LAZ)), laz_resolution=0.5
        )
    assert not list(tmp_path.iterdir())


def test_progress_reports_every_tile(tmp_path: Path) -> None:
    scene = scenes.gable(tilt=35.0, azimuth=180.0)
    calls: list[tuple[str, int, int]] = []
    summary = build.build_from_surface(
        build.Territory(scene.surface, [scene.footprint], communes=None),
        out=tmp_path / "p.gpkg",
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    tiles = [c for c in calls if c[0] == "tiles"]
    assert tiles == [("tiles", i + 1, summary.tiles) for i in range(summary.tiles)]
    # then the map's roof tiles, zoom by zoom, up to all of them
    roof_tiles = [c for c in calls if c[0] == "roof tiles"]
    assert roof_tiles and roof_tiles[-1][1] == roof_tiles[-1][2]
    assert calls == tiles + roof_tiles
    assert set(summary.stage_seconds) == {
        "roofs",
        "horizon",
        "irradiance",
        "pv",
        "raster",
        "write",
        "map",
    }
