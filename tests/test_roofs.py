"""Roof faces: analytic scenes with known planes (tests/scenes.py) and the Delft AHN3 sample.

Reference values come from the scene geometry, worked out in tests/scenes.py, never from
the code under test. Reference areas are the true sloped areas of the faces inside the
footprint: outlines are clipped to the footprint, so nothing is lost along the outer edges,
and only the ridge and hip lines between faces follow the 0.5 m pixels, where one face
gains what its neighbour loses.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable

import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from solar import roofs
from solar.footprints import Footprint
from solar.roofs import RoofFace, horn_gradient, plane_orientation, segment_roofs
from solar.surface import Surface
from tests import scenes


def _azimuth_error(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _face_at(faces: list[RoofFace], point: tuple[float, float]) -> RoofFace:
    hits = [f for f in faces if f.polygon.contains(shapely.Point(point))]
    assert len(hits) == 1, f"{len(hits)} faces at {point}"
    return hits[0]


def _segment(scene: scenes.Scene, **kwargs: float) -> list[RoofFace]:
    return segment_roofs(scene.surface, [scene.footprint], **kwargs)


@pytest.mark.parametrize(
    ("a", "b", "tilt", "azimuth"),
    [
        (0.0, 0.7, math.degrees(math.atan(0.7)), 180.0),  # rises to the north: faces south
        (0.0, -0.7, math.degrees(math.atan(0.7)), 0.0),
        (0.7, 0.0, math.degrees(math.atan(0.7)), 270.0),  # rises to the east: faces west
        (-0.7, 0.0, math.degrees(math.atan(0.7)), 90.0),
        (-0.5, 0.5, math.degrees(math.atan(math.sqrt(0.5))), 135.0),
        (0.0, 0.0, 0.0, 180.0),
    ],
)
def test_plane_orientation_follows_pvlib(a: float, b: float, tilt: float, azimuth: float) -> None:
    got_tilt, got_azimuth = plane_orientation(a, b)
    assert_allclose(got_tilt, tilt, atol=1e-9)
    if tilt > 0:
        assert_allclose(got_azimuth, azimuth, atol=1e-9)


def _horn_reference(z: np.ndarray, res: float) -> tuple[np.ndarray, np.ndarray]:
    """Horn (1981) written out on the interior: rows run south, so north is row - 1."""
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    dz_dx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * res)
    dz_dy = ((a + 2 * b + c) - (g + 2 * h + i)) / (8 * res)
    return dz_dx, dz_dy


def test_horn_gradient_matches_the_plain_operator() -> None:
    z = np.random.default_rng(7).normal(0.0, 1.0, (12, 15))
    dz_dx, dz_dy = horn_gradient(z, 0.5)
    ref_x, ref_y = _horn_reference(z, 0.5)
    assert_allclose(dz_dx[1:-1, 1:-1], ref_x, atol=1e-12)
    assert_allclose(dz_dy[1:-1, 1:-1], ref_y, atol=1e-12)


def test_masked_horn_gradient_ignores_the_ground_beyond_the_eave() -> None:
    rows, cols = np.mgrid[0:10, 0:10]
    x, y = (cols + 0.5) * 0.5, -(rows + 0.5) * 0.5
    roof = cols >= 4
    z = np.where(roof, 6.0 + 0.3 * x - 0.6 * y, 0.0)
    dz_dx, dz_dy = horn_gradient(z, 0.5, mask=roof)
    assert_allclose(dz_dx[roof], 0.3, atol=1e-9)
    assert_allclose(dz_dy[roof], -0.6, atol=1e-9)
    assert np.isnan(dz_dx[~roof]).all()
    # Without the mask the wall between ground and eave steepens the eave pixels.
    plain_x, _ = horn_gradient(z, 0.5)
    assert plain_x[5, 4] > 3.0


SCENES: dict[str, Callable[[], scenes.Scene]] = {
    "gable": scenes.gable,
    "hip": scenes.hip,
    "shed": scenes.shed,
    "rotated_gable": scenes.rotated_gable,
    "flat_with_parapet": scenes.flat,
}


@pytest.mark.parametrize("name", list(SCENES))
def test_analytic_scene(name: str) -> None:
    scene = SCENES[name]()
    faces = _segment(scene)
    assert len(faces) == len(scene.faces)
    for truth in scene.faces:
        face = _face_at(faces, truth.point)
        assert abs(face.surface_tilt - truth.surface_tilt) <= 1.5
        if truth.surface_azimuth is None:
            assert face.is_flat
            assert face.surface_azimuth is None
        else:
            assert not face.is_flat
            assert face.surface_azimuth is not None
            assert _azimuth_error(face.surface_azimuth, truth.surface_azimuth) <= 3.0
        assert_allclose(face.area_m2, truth.area_m2, rtol=0.05)
        assert face.rmse_m < 2 * scenes.NOISE
        # The plane is in the CRS: it gives back the heights of the face's own pixels.
        t = scene.surface.transform
        x, y = t.c + (face.cols + 0.5) * t.a, t.f + (face.rows + 0.5) * t.e
        a, b, c = face.plane
        off = scene.surface.elevation[face.rows, face.cols] - (a * x + b * y + c)
        assert np.abs(off).max() <= 0.2


def test_faces_partition_the_footprint_and_are_numbered_by_area() -> None:
    scene = scenes.hip()
    faces = _segment(scene)
    assert [f.face_id for f in faces] == [f"scene-{k}" for k in range(1, 5)]
    areas = [f.area_m2 for f in faces]
    assert areas == sorted(areas, reverse=True)
    footprint = scene.footprint.geometry
    outlines = [f.polygon for f in faces]
    # Faces cover the footprint without overlap, to floating-point slivers.
    assert_allclose(shapely.area(shapely.union_all(outlines)), footprint.area, rtol=1e-4)
    assert_allclose(sum(shapely.area(outlines)), footprint.area, rtol=1e-4)
    for face in faces:
        assert face.usable_polygon.difference(face.polygon).area < 1e-6
        assert 0 < face.usable_area_m2 < face.area_m2


def test_chimney_reduces_usable_area_and_makes_no_face() -> None:
    plain = scenes.gable()
    with_chimney = scenes.gable(chimney=(1.0, 1.5))
    before, after = _segment(plain), _segment(with_chimney)
    assert len(after) == len(before) == 2
    south = plain.faces[0]
    face_before, face_after = _face_at(before, south.point), _face_at(after, south.point)
    assert abs(face_after.surface_tilt - south.surface_tilt) <= 1.5
    # The chimney covers 2 × 2 pixels; in the roof plane it is 1 m × 1 m / cos(35°), and the
    # 0.4 m clearance around it gives (1 + 0.8) × (1 / cos(35°) + 0.8) = 3.64 m².
    assert len(face_after.obstacle_rows) == 4
    lost = face_before.usable_area_m2 - face_after.usable_area_m2
    cos_tilt = math.cos(math.radians(south.surface_tilt))
    assert_allclose(lost, 1.8 * (1.0 / cos_tilt + 0.8), rtol=0.05)
    assert_allclose(face_after.area_m2, face_before.area_m2, rtol=0.01)


def _with_spike(scene: scenes.Scene, n_pixels: int) -> scenes.Scene:
    """The scene with ``n_pixels`` side by side raised 0.5 m, mid-way down the south face."""
    elevation = scene.surface.elevation.copy()
    x, y = scene.faces[0].point
    col, row = (~scene.surface.transform) @ (x, y)
    elevation[int(row), int(col) : int(col) + n_pixels] += 0.5
    return dataclasses.replace(
        scene, surface=dataclasses.replace(scene.surface, elevation=elevation)
    )


def test_a_lone_stray_pixel_is_not_an_obstacle_but_two_are() -> None:
    plain = scenes.gable()
    south = plain.faces[0].point
    before = _face_at(_segment(plain), south)
    lone = _face_at(_segment(_with_spike(plain, 1)), south)
    pair = _face_at(_segment(_with_spike(plain, 2)), south)
    assert len(lone.obstacle_rows) == 0
    # the same usable area, but for the hair the plane fit moves without that pixel
    assert_allclose(lone.usable_area_m2, before.usable_area_m2, rtol=1e-3)
    assert len(pair.obstacle_rows) == 2
    assert pair.usable_area_m2 < before.usable_area_m2 - 1.0


def test_min_face_area_turns_a_dormer_into_an_obstacle() -> None:
    scene = scenes.gable(dormer=(2.5, 2.5))
    dormer_top = scenes.CENTRE[0], scenes.CENTRE[1] - 2.25  # 1 to 3.5 m south of the ridge
    small = _segment(scene, min_face_area=2.0)
    assert len(small) == 3
    dormer = _face_at(small, dormer_top)
    assert dormer.is_flat
    large = _segment(scene, min_face_area=8.0)
    assert len(large) == 2
    south = _face_at(large, dormer_top)
    assert len(south.obstacle_rows) > 0
    plain_south = _face_at(_segment(scenes.gable()), dormer_top)
    assert south.usable_area_m2 < plain_south.usable_area_m2 - 6.0


def test_min_face_area_is_a_sloped_area() -> None:
    # A 6 m × 4 m shed at 60°: 24 m² in plan, 24 m² / cos(60°) = 48 m² in its own plane.
    scene = scenes.shed(tilt=60.0, length=6.0, width=4.0)
    [face] = _segment(scene, min_face_area=30.0)  # above the plan area, below the sloped one
    assert face.area_m2 >= 30.0
    assert_allclose(face.area_m2, 48.0, rtol=0.02)
    assert _segment(scene, min_face_area=50.0) == []


@pytest.mark.parametrize("setback", [0.0, 0.4, 0.8])
def test_setback_is_kept_in_the_roof_plane(setback: float) -> None:
    scene = scenes.gable(length=12.0, width=8.0)
    # Each face unfolds into a 12 m × 4 m / cos(35°) rectangle.
    slope_length = 4.0 / math.cos(math.radians(35.0))
    expected = (12.0 - 2 * setback) * (slope_length - 2 * setback)
    for face in _segment(scene, setback=setback):
        assert_allclose(face.usable_area_m2, expected, rtol=0.01)


def test_obstacle_tolerance_decides_what_is_an_obstacle() -> None:
    # A 1 m box rising 0.5 m: on a 35° slope its flat top stands 0.33 to 0.67 m proud of
    # the roof at the pixel centres.
    scene = scenes.gable(chimney=(1.0, 0.5))
    south = scene.faces[0].point
    strict = _face_at(_segment(scene, obstacle_tolerance=0.2), south)
    loose = _face_at(_segment(scene, obstacle_tolerance=0.8), south)
    assert len(strict.obstacle_rows) == 4
    assert len(loose.obstacle_rows) == 0
    assert loose.usable_area_m2 > strict.usable_area_m2 + 3.0


def test_max_roof_tilt_separates_roofs_from_walls() -> None:
    scene = scenes.shed(tilt=65.0)
    [face] = _segment(scene, max_roof_tilt=70.0)
    assert abs(face.surface_tilt - 65.0) <= 1.5
    assert_allclose(face.area_m2, scene.faces[0].area_m2, rtol=0.05)
    assert _segment(scene, max_roof_tilt=60.0) == []


def test_angle_tolerance_decides_how_much_a_face_may_bend() -> None:
    scene = scenes.vault()
    assert len(_segment(scene, angle_tolerance=5.0)) > len(_segment(scene, angle_tolerance=20.0))


def test_min_height_leaves_out_low_roofs() -> None:
    garage = scenes.flat(height=2.5, parapet_width=0.0)
    assert len(_segment(garage, min_height=2.0)) == 1
    assert _segment(garage, min_height=3.0) == []


def test_tree_crown_over_a_roof_is_never_a_face() -> None:
    scene = scenes.gable(tree=(3.0, 1.0), classes=True)
    crown = scene.surface.vegetation
    assert crown is not None
    faces = _segment(scene)
    assert len(faces) == 2
    for face in faces:
        assert not crown[face.rows, face.cols].any()
    south = _face_at(faces, (scenes.CENTRE[0] + 4.5, scenes.CENTRE[1] - 2.0))
    assert abs(south.surface_tilt - 35.0) <= 1.5
    # The control: without the classes, the crown's flattish top makes faces of its own.
    unclassified = dataclasses.replace(scene.surface, vegetation=None, ground=None, building=None)
    assert len(segment_roofs(unclassified, [scene.footprint])) > 2


def test_rough_crown_on_a_dsm_alone_is_never_a_face(monkeypatch: pytest.MonkeyPatch) -> None:
    """No classes: the crown over the south face is told by its texture alone."""
    scene = scenes.gable(tree=(3.0, 1.0), leaves=0.3)
    # the crown where it stands over the roof: the same scene without it, same noise
    over = scene.surface.elevation - scenes.gable().surface.elevation > 0.5
    assert over.sum() > 50

    def claimed(faces: list[RoofFace]) -> int:
        return sum(int(over[f.rows, f.cols].sum()) for f in faces)

    faces = _segment(scene)
    # at most a leaf that happens to lie in a face's plane: one pixel, 0.25 m²
    assert len(faces) == 2 and claimed(faces) <= 1
    north = _face_at(faces, (scenes.CENTRE[0], scenes.CENTRE[1] + 2.0))
    south = _face_at(faces, (scenes.CENTRE[0] + 4.5, scenes.CENTRE[1] - 2.0))
    for face in (north, south):
        assert abs(face.surface_tilt - 35.0) <= 1.5
    # the roof under keeps its faces: the north one whole, the south one less the crown
    assert north.area_m2 == pytest.approx(scene.faces[1].area_m2, rel=0.08)
    assert south.area_m2 < scene.faces[0].area_m2 - 10.0
    # The control: without the texture test, the crown's pixels near the roof join a face.
    monkeypatch.setattr(roofs, "CANOPY_RMS", math.inf)
    assert claimed(_segment(scene)) > 4


def test_footprints_off_the_grid_get_no_face() -> None:
    scene = scenes.gable()
    away = dataclasses.replace(
        scene.footprint, geometry=shapely.affinity.translate(scene.footprint.geometry, 500.0)
    )
    assert segment_roofs(scene.surface, [away]) == []
    assert segment_roofs(scene.surface, []) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"setback": -0.1},
        {"min_face_area": -1.0},
        {"obstacle_tolerance": 0.0},
        {"max_roof_tilt": 90.0},
        {"angle_tolerance": 0.0},
        {"min_height": -1.0},
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, float]) -> None:
    scene = scenes.gable()
    with pytest.raises(ValueError):
        segment_roofs(scene.surface, [scene.footprint], **kwargs)


@pytest.mark.slow
def test_delft_ahn3_row_houses(delft_surface: tuple[Surface, tuple[Footprint, ...]]) -> None:
    surface, footprints = delft_surface
    assert len(footprints) == 160
    faces = segment_roofs(surface, footprints)
    with_faces = {f.building_id for f in faces}
    assert len(with_faces) / len(footprints) >= 0.95
    pitched = [f.surface_tilt for f in faces if not f.is_flat]
    assert 30.0 <= statistics.median(pitched) <= 50.0
    by_id = {f.building_id: f.geometry for f in footprints}
    for face in faces:
        assert face.polygon.difference(by_id[face.building_id]).area < 1e-6
