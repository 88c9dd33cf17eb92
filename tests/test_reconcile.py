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
