"""Footprints reconciled with the surface model, on analytic scenes (tests/scenes.py).

The truth is the scene's own geometry: the roof is rendered under the true footprint, and
the footprint handed to the code is moved by a known offset, or laid over bare ground.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from affine import Affine
from rasterio.crs import CRS

from solar import build, reconcile, roofs
from solar.cadastre import Cadastre
from solar.footprints import Footprint
from solar.surface import Surface
from tests import scenes
from tests.geometries import translated

OFFSET = (0.6, -0.7)
"""How far the footprint of the shifted scenes sits off its roof, east and north: 0.92 m."""


def _moved(scene: scenes.Scene, dx: float, dy: float, building_id: str) -> Footprint:
    return Footprint(building_id, translated(scene.footprint.geometry, dx, dy))


@pytest.mark.parametrize("classes", [False, True], ids=["dsm", "laz"])
def test_footprint_over_bare_ground_is_absent(classes: bool) -> None:
    scene = scenes.gable(classes=classes)
    # 11 m north of the 8 m wide house: on the ground of the scene, with the house 3 m off
    gone = _moved(scene, 0.0, 11.0, "gone")
    here, absent = reconcile.check_footprints(scene.surface, [scene.footprint, gone])
    assert (here.status, here.shift_m) == ("ok", None)
    assert (absent.status, absent.shift_m) == ("absent", None)
    assert reconcile.reconciled([scene.footprint, gone], [here, absent]) == [scene.footprint]


@pytest.mark.parametrize("classes", [False, True], ids=["dsm", "laz"])
def test_shifted_footprint_is_moved_onto_its_roof(classes: bool) -> None:
    scene = scenes.gable(classes=classes)
    off = _moved(scene, *OFFSET, scene.footprint.building_id)
    (check,) = reconcile.check_footprints(scene.surface, [off])
    assert check.status == "shifted"
    # a quarter-pixel search: within 0.125 m of the true offset along each axis
    np.testing.assert_allclose(check.shift, (-OFFSET[0], -OFFSET[1]), atol=0.13)
    assert check.shift_m == pytest.approx(math.hypot(*OFFSET), abs=0.15)

    def areas(footprints: list[Footprint]) -> list[float]:
        faces = roofs.segment_roofs(scene.surface, footprints)
        by_azimuth = {round(f.surface_azimuth or 0.0) % 360: f.area_m2 for f in faces}
        return [by_azimuth.get(round(t.surface_azimuth or 0.0), 0.0) for t in scene.faces]

    truth = [t.area_m2 for t in scene.faces]
    # the footprint as given loses a face's eave strip: more than 8 % of it
    assert max(abs(a / t - 1) for a, t in zip(areas([off]), truth, strict=True)) > 0.08
    fixed = areas(reconcile.reconciled([off], [check]))
    np.testing.assert_allclose(fixed, truth, rtol=0.08)


def test_footprint_smaller_than_its_roof_stays_put() -> None:
    """Walls inside the eaves: every nearby shift covers roof only, none is preferred."""
    scene = scenes.gable()
    walls = Footprint("walls", scene.footprint.geometry.buffer(-0.6, join_style="mitre"))
    (check,) = reconcile.check_footprints(scene.surface, [walls])
    assert (check.status, check.shift) == ("ok", (0.0, 0.0))


def test_hall_wider_than_the_ground_window_is_not_absent() -> None:
    """A DSM alone: the opening keeps a 70 m hall as ground, its surroundings do not."""
    n = 240  # 120 m at 0.5 m
    z = np.full((n, n), scenes.GROUND, np.float32)
    z[50:190, 50:190] += 9.0
    surface = Surface(z, Affine(0.5, 0, 0, 0, -0.5, 120.0), CRS.from_epsg(2154))
    hall = Footprint("hall", shapely.box(25, 25, 95, 95))
    assert reconcile.ground_height(surface)[120, 120] > scenes.GROUND + 8.0
    (check,) = reconcile.check_footprints(surface, [hall])
    assert check.status == "ok"


def test_build_flags_the_footprints(tmp_path: Path) -> None:
    scene = scenes.gable()
    off = _moved(scene, *OFFSET, "off")
    gone = _moved(scene, 0.0, 11.0, "gone")
    summary = build.build_from_surface(
        build.Territory(scene.surface, [off, gone], communes=None), out=tmp_path / "c.gpkg"
    )
    assert (summary.footprints_ok, summary.footprints_shifted, summary.footprints_absent) == (
        0,
        1,
        1,
    )
    store = Cadastre(summary.path)
    shifted, absent = store.building("off"), store.building("gone")
    assert shifted.footprint_check == "shifted"
    assert shifted.footprint_shift_m == pytest.approx(math.hypot(*OFFSET), abs=0.15)
    assert shifted.geometry.equals(off.geometry)  # the layer keeps the source footprint
    assert shifted.n_faces == 2
    assert (absent.footprint_check, absent.footprint_shift_m, absent.n_faces) == (
        "absent",
        None,
        0,
    )
    checks = store.provenance()["footprint_checks"]
    assert (checks["ok"], checks["shifted"], checks["absent"]) == (0, 1, 1)
    assert checks["median_dx_m"] == pytest.approx(-OFFSET[0], abs=0.13)
    assert checks["median_dy_m"] == pytest.approx(-OFFSET[1], abs=0.13)


def _row_of_houses(scene: scenes.Scene, n: int) -> Surface:
    """``n`` copies of the scene side by side, eastwards, 40 m apart (the scene's width)."""
    s = scene.surface

    def side_by_side(grid: np.ndarray | None) -> np.ndarray | None:
        return None if grid is None else np.concatenate([grid] * n, axis=1)

    return Surface(
        side_by_side(s.elevation),
        s.transform,
        s.crs,
        ground=side_by_side(s.ground),
        vegetation=side_by_side(s.vegetation),
        building=side_by_side(s.building),
    )


@pytest.mark.parametrize("classes", [False, True], ids=["dsm", "laz"])
def test_house_with_no_footprint_is_found_with_its_faces(classes: bool) -> None:
    scene = scenes.gable(classes=classes)
    surface = _row_of_houses(scene, 2)  # the second house, 40 m east, has no footprint
    (found,) = reconcile.unclaimed_buildings(surface, [scene.footprint], surface.bounds)
    east = translated(scene.footprint.geometry, 40.0, 0.0)
    assert found.building_id == f"LIDAR-{scenes.CENTRE[0] + 40:.0f}-{scenes.CENTRE[1]:.0f}"
    # traced from the pixels, whose edges fall on the house's walls
    assert shapely.symmetric_difference(found.geometry, east).area < 0.05 * east.area
    faces = roofs.segment_roofs(surface, [found])
    by_azimuth = {round(f.surface_azimuth or 0.0) % 360: f for f in faces}
    for truth in scene.faces:
        face = by_azimuth[round(truth.surface_azimuth or 0.0)]
        assert face.area_m2 == pytest.approx(truth.area_m2, rel=0.08)
        assert face.surface_tilt == pytest.approx(truth.surface_tilt, abs=0.5)


@pytest.mark.parametrize("classes", [False, True], ids=["dsm", "laz"])
def test_tree_crown_alone_is_not_a_building(classes: bool) -> None:
    """A 5 m crown, 10 m high, with the leaves' texture, and no house under it."""
    scene = scenes.gable(classes=classes)
    s = scene.surface
    x0, y0 = scenes.CENTRE
    cols, rows = np.meshgrid(np.arange(s.shape[1]), np.arange(s.shape[0]))
    x, y = s.transform * (cols + 0.5, rows + 0.5)
    r2 = ((x - x0) ** 2 + (y - y0) ** 2) / 5.0**2
    crown = r2 < 1.0
    leaves = np.random.default_rng(3).normal(0.0, 0.3, crown.shape)
    z = np.where(crown, scenes.GROUND + 10.0 - 3.0 * r2 + leaves, scenes.GROUND)
    tree = Surface(
        z.astype(np.float32),
        s.transform,
        s.crs,
        ground=~crown if classes else None,
        vegetation=crown if classes else None,
        building=np.zeros(crown.shape, bool) if classes else None,
    )
    assert reconcile.unclaimed_buildings(tree, [], tree.bounds) == []


def test_crown_over_a_footprinted_roof_adds_no_building() -> None:
    scene = scenes.gable(tree=(3.0, 2.0), leaves=0.3)
    assert (
        reconcile.unclaimed_buildings(scene.surface, [scene.footprint], scene.surface.bounds) == []
    )


def test_unclaimed_house_belongs_to_the_tile_whose_core_holds_it() -> None:
    scene = scenes.gable()
    surface = _row_of_houses(scene, 2)
    xmin, ymin, xmax, ymax = surface.bounds
    west_core = (xmin, ymin, xmin + 40.0, ymax)
    east_core = (xmin + 40.0, ymin, xmax, ymax)
    assert reconcile.unclaimed_buildings(surface, [scene.footprint], west_core) == []
    assert len(reconcile.unclaimed_buildings(surface, [scene.footprint], east_core)) == 1
    # another tile's footprint over the house claims it, even 1.5 m off its roof
    other = Footprint("other", translated(scene.footprint.geometry, 41.5, 0.0))
    assert (
        reconcile.unclaimed_buildings(surface, [scene.footprint], east_core, neighbours=[other])
        == []
    )


def test_build_adds_the_house_with_no_footprint_once(tmp_path: Path) -> None:
    """Three houses, the middle one without a footprint, on two tiles whose halos share it."""
    scene = scenes.gable()
    surface = _row_of_houses(scene, 3)
    west = Footprint("west", scene.footprint.geometry)
    east = Footprint("east", translated(scene.footprint.geometry, 80.0, 0.0))
    summary = build.build_from_surface(
        build.Territory(surface, [west, east], communes=None),
        out=tmp_path / "c.gpkg",
        options=build.BuildOptions(tile_size=60.0, halo=30.0),
    )
    assert summary.tiles == 2
    assert (summary.buildings, summary.footprints_ok, summary.footprints_lidar_only) == (3, 2, 1)
    store = Cadastre(summary.path)
    found_id = f"LIDAR-{scenes.CENTRE[0] + 40:.0f}-{scenes.CENTRE[1]:.0f}"
    found = store.building(found_id)
    assert (found.footprint_check, found.footprint_shift_m, found.n_faces) == (
        "lidar_only",
        None,
        2,
    )
    assert found.kwc == pytest.approx(store.building("west").kwc, rel=0.1)
    assert store.provenance()["footprint_checks"]["lidar_only"] == 1


def test_smooth_crown_beside_a_house_is_not_a_building(tmp_path: Path) -> None:
    """A DSM alone, a crown without the leaves' texture: a dome sloping every way."""
    scene = scenes.gable_with_casters(35.0, crown=(1.0, 3.0, 12.0), half_size=20.0)
    assert (
        reconcile.unclaimed_buildings(scene.surface, [scene.footprint], scene.surface.bounds) == []
    )
    summary = build.build_from_surface(
        build.Territory(scene.surface, [scene.footprint], communes=None), out=tmp_path / "c.gpkg"
    )
    assert (summary.buildings, summary.footprints_lidar_only) == (1, 0)


def test_a_dome_that_passed_for_roof_planes_is_dropped_by_its_faces() -> None:
    """The second gate: the crown's region, taken as a footprint, segments into many small
    facets, which no roof has."""
    scene = scenes.gable_with_casters(35.0, crown=(1.0, 3.0, 12.0), half_size=20.0)
    crown = scenes.gable_with_casters(35.0, crown=(1.0, 3.0, 12.0), half_size=20.0, classes=True)
    assert crown.surface.vegetation is not None
    rows, cols = np.nonzero(crown.surface.vegetation)
    x, y = crown.surface.transform * (cols + 0.5, rows + 0.5)
    outline = shapely.MultiPoint(np.column_stack([x, y])).convex_hull
    region = Footprint("LIDAR-crown", outline)
    faces = roofs.segment_roofs(scene.surface, [region])
    assert faces
    assert reconcile.planar_enough([region], faces) == []


def test_gradient_at_some_pixels_is_numpys_to_the_bit() -> None:
    rng = np.random.default_rng(4)
    for _ in range(50):
        shape = tuple(int(n) for n in rng.integers(2, 30, 2))
        z = (30.0 + 10.0 * rng.random(shape)).astype(np.float32)
        rows, cols = np.nonzero(rng.random(shape) < 0.4)
        along_rows, along_cols = np.gradient(z.astype(np.float64), 0.5)
        for axis, reference in ((0, along_rows), (1, along_cols)):
            got = reconcile._gradient_at(z, rows, cols, 0.5, axis=axis)
            np.testing.assert_array_equal(got, reference[rows, cols])
