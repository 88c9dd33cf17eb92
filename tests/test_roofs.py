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


def _houses(scene: scenes.Scene, n: int, overlap: float = 0.0) -> list[Footprint]:
    """The scene's footprint cut into ``n`` houses across its long side; each house
    reaches ``overlap`` metres into the next, as surveys' neighbouring polygons do."""
    xmin, ymin, xmax, ymax = scene.footprint.geometry.bounds
    edges = np.linspace(xmin, xmax, n + 1)
    return [
        Footprint(f"h{k}", shapely.box(edges[k], ymin, min(edges[k + 1] + overlap, xmax), ymax))
        for k in range(n)
    ]


def _same_faces(got: list[RoofFace], expected: list[RoofFace]) -> None:
    assert [f.face_id for f in got] == [f.face_id for f in expected]
    for a, b in zip(got, expected, strict=True):
        assert a.plane == b.plane and a.area_m2 == b.area_m2
        assert a.usable_area_m2 == b.usable_area_m2
        for field in ("rows", "cols", "obstacle_rows", "obstacle_cols"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert shapely.equals_exact(a.polygon, b.polygon, tolerance=0.0)
        assert shapely.equals_exact(a.usable_polygon, b.usable_polygon, tolerance=0.0)


@pytest.mark.parametrize("overlap", [0.0, 0.6])
def test_buildings_segmented_together_are_segmented_as_alone(overlap: float) -> None:
    """The buildings of a tile are rasterised, traced, simplified and clipped together:
    each must come out as if it were alone, overlapping neighbours included."""
    scene = scenes.terrace(houses=6)
    houses = _houses(scene, 6, overlap)
    together = segment_roofs(scene.surface, houses)
    alone = [face for house in houses for face in segment_roofs(scene.surface, [house])]
    assert len({f.building_id for f in together}) == 6
    _same_faces(together, alone)


def test_a_footprint_over_the_grid_edge_keeps_its_pixels_only() -> None:
    """A footprint that runs off the grid is cut to its window: none of its pixels land
    on the next building's, rasterised beside it."""
    scene = scenes.terrace(houses=4, tree=None)
    houses = _houses(scene, 4)
    xmin, ymin, _, ymax = houses[0].geometry.bounds
    # the first house reaches 100 m west, far off the 40 m grid
    off = Footprint("off", shapely.box(xmin - 100.0, ymin, houses[0].geometry.bounds[2], ymax))
    together = segment_roofs(scene.surface, [off, *houses[1:]])
    alone = [face for house in [off, *houses[1:]] for face in segment_roofs(scene.surface, [house])]
    _same_faces(together, alone)


def _rough_patches_reference(spread: np.ndarray, threshold: float, width: int) -> np.ndarray:
    """The crown mask with scipy.ndimage: a 3×3 median by count, opening, erosion."""
    from scipy import ndimage

    above = (spread > threshold).astype(np.uint8)
    rough = ndimage.correlate(above, np.ones((3, 3), np.uint8), mode="reflect") >= 5
    patches = ndimage.binary_opening(rough, structure=np.ones((width, width), bool))
    return ndimage.binary_erosion(patches, structure=np.ones((3, 3), bool))


@pytest.mark.parametrize("width", [3, 4, 5, 6, 10])
def test_rough_patches_match_scipy_morphology(width: int) -> None:
    rng = np.random.default_rng(width)
    for _ in range(20):
        shape = tuple(int(n) for n in rng.integers(1, 40, 2))
        # patches of roughness, NaN off the roof
        spread = _blur(rng.random(shape)) * 0.6
        spread[rng.random(shape) < 0.1] = np.nan
        np.testing.assert_array_equal(
            roofs._rough_patches(spread, 0.3, width),
            _rough_patches_reference(spread, 0.3, width),
        )


def _blur(values: np.ndarray) -> np.ndarray:
    """Values smoothed over 3×3: random patches rather than salt and pepper."""
    from scipy import ndimage

    return ndimage.uniform_filter(values, 3, mode="nearest")


def test_unfit_patches_match_scipy_labelling() -> None:
    """Patches of unfit roof pixels: 8-connected, open when they touch the roof's edge."""
    from scipy import ndimage

    rng = np.random.default_rng(3)
    for _ in range(30):
        shape = tuple(int(n) for n in rng.integers(3, 30, 2))
        territory = _blur(rng.random(shape)) > 0.35
        labels = np.where(territory & (rng.random(shape) < 0.6), 1, 0).astype(np.int32)
        patches, is_open, sizes = roofs._unfit_patches(labels, territory)
        unfit = territory & (labels == 0)
        reference, n = ndimage.label(unfit, structure=np.ones((3, 3), bool))
        assert patches.max() == n
        edge = ndimage.binary_dilation(~territory, structure=np.ones((3, 3), bool), border_value=1)
        for k in range(1, n + 1):
            # the same patches, whatever their numbering
            (ref,) = np.unique(reference[patches == k])
            assert np.array_equal(reference == ref, patches == k)
            assert sizes[k] == np.count_nonzero(patches == k)
            assert is_open[k] == (edge & (patches == k)).any()


def test_clip_survives_a_face_that_runs_back_along_itself() -> None:
    """A straightened face of the corons district whose ring runs back along itself a
    nanometre away: snap-rounding it on the face grid fails, the clip must not."""
    face = shapely.from_wkt(
        "POLYGON ((685135.00026449 7031009.3890036065, 685135 7031004, 685142 7031004, "
        "685142 7031008, 685141.5 7031008, 685141.5 7031007.5, 685140.5 7031007.5, "
        "685140.5 7031008.5, 685140.4990418324 7031009.402106479, "
        "685141.9990333153 7031009.4056807645, 685142.0002247437 7031009.405683604, "
        "685135.00026449 7031009.3890036065))"
    )
    footprint = shapely.box(685135.3491627622, 7031004.50410775, 685141.2626085111, 7031014.29)
    with pytest.raises(shapely.errors.GEOSException):
        shapely.intersection(face, footprint, grid_size=roofs.FACE_GRID)
    (clipped,) = roofs._clip(np.array([face], dtype=object), np.array([footprint], dtype=object))
    assert clipped.is_valid
    assert clipped.area == pytest.approx(shapely.intersection(face, footprint).area, abs=1e-5)


def test_ground_percentile_is_numpys_to_the_bit() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        shape = tuple(int(n) for n in rng.integers(1, 30, 2))
        z = (35.0 + 10.0 * rng.random(shape)).astype(np.float32).astype(np.float64)
        inside = rng.random(shape) < rng.random()
        got = roofs._percentile_outside(z, inside, 5.0)
        assert got == (np.percentile(z[~inside], 5.0) if (~inside).any() else z.min())


def test_footprints_through_pixel_centres_keep_gdals_pixels() -> None:
    """Footprints traced from a point cloud on the surface's own grid run through pixel
    centres, which GDAL burns by a rule of its own: each footprint's pixels are those that
    rasterio gives it alone on its window."""
    from affine import Affine
    from rasterio.crs import CRS
    from rasterio.features import rasterize

    # centres on whole and half metres, as the IGN LiDAR HD Montpellier sample's
    transform = Affine(0.5, 0.0, 999.75, 0.0, -0.5, 2030.25)
    surface = Surface(np.zeros((60, 60), np.float32), transform, CRS.from_epsg(2154))
    footprints = [
        Footprint("a", shapely.Polygon([(1003, 2005), (1011, 2005), (1011, 2012), (1003, 2016)])),
        Footprint("b", shapely.box(1010.5, 2004.5, 1020.0, 2012.0)),  # overlaps a
        Footprint("c", shapely.box(1025.0, 2020.0, 1040.0, 2040.0)),  # off the grid's top
    ]
    windows = [roofs._pixel_span(surface, f.geometry.bounds, 3.0) for f in footprints]
    masks = roofs._footprint_masks(surface, footprints, windows)
    for footprint, ((r0, c0), (r1, c1)), mask in zip(footprints, windows, masks, strict=True):
        alone = rasterize(
            [footprint.geometry],
            out_shape=(r1 - r0, c1 - c0),
            transform=transform @ Affine.translation(c0, r0),
            dtype="uint8",
        ).view(bool)
        assert mask is not None
        np.testing.assert_array_equal(mask, alone)


def test_feature_transform_is_scipys_ties_included() -> None:
    """The nearest face pixel of each pixel, as scipy's exact distance transform picks it
    among pixels at the same distance: the owners of enclosed patches and of the pixels
    past the footprint depend on it."""
    from scipy import ndimage

    rng = np.random.default_rng(7)
    for _ in range(400):
        shape = tuple(int(n) for n in rng.integers(1, 35, 2))
        feature = rng.random(shape) < rng.choice([0.02, 0.1, 0.4, 0.8])
        _, (rows, cols) = ndimage.distance_transform_edt(~feature, return_indices=True)
        got_rows, got_cols = roofs._feature_transform(feature)
        np.testing.assert_array_equal(got_rows, rows)
        np.testing.assert_array_equal(got_cols, cols)


def test_window_median_is_numpys_to_the_bit() -> None:
    rng = np.random.default_rng(8)
    for n in range(1, 60):
        z = (35.0 + 10.0 * rng.random(n)).astype(np.float32).astype(np.float64)
        assert roofs._median(z) == np.median(z)


def test_pixel_lists_keep_the_raster_order_of_each_label() -> None:
    rng = np.random.default_rng(9)
    for _ in range(30):
        shape = tuple(int(n) for n in rng.integers(1, 30, 2))
        n = int(rng.integers(1, 6))
        labels = rng.integers(0, n + 1, shape).astype(np.int32)
        lists = roofs._PixelLists(*roofs._pixel_lists(labels, (100, 200), n))
        for k in range(1, n + 1):
            rows, cols = np.nonzero(labels == k)  # raster order
            got_rows, got_cols = lists.of(k)
            assert got_rows.dtype == got_cols.dtype == np.int32
            np.testing.assert_array_equal(got_rows, rows + 100)
            np.testing.assert_array_equal(got_cols, cols + 200)


def test_straighten_finds_the_shared_vertices_of_each_building_only() -> None:
    """Two gable roofs side by side, their ridges 7 cm off the pixel edge: the corner
    where the four faces meet is two faces' vertex in each building, which moves onto
    its ridge; taken as one building, four faces share it, and it stays."""
    # z = 0.7 y - 7 (faces south) and z = 7.1 - 0.7 y (faces north) meet at y = 14.1 / 1.4
    planes = np.array([[0.0, 0.7, -7.0], [0.0, -0.7, 7.1]] * 2)
    ridge = 14.1 / 1.4
    boxes = [(0, 0, 10, 10), (0, 10, 10, 20), (10, 0, 20, 10), (10, 10, 20, 20)]
    outlines = shapely.segmentize(np.array([shapely.box(*b) for b in boxes], dtype=object), 0.5)
    centres = np.array([[5.0, 5.0], [5.0, 15.0], [15.0, 5.0], [15.0, 15.0]])

    def has(faces: np.ndarray, x: float, y: float) -> list[bool]:
        return [
            bool(np.isclose(shapely.get_coordinates(f), (x, y)).all(axis=1).any()) for f in faces
        ]

    apart = roofs._straighten(outlines, planes, centres, 0.5, np.array([0, 0, 1, 1]))
    assert has(apart, 10.0, ridge) == [True] * 4
    assert has(apart, 5.0, ridge) == [True, True, False, False]
    together = roofs._straighten(outlines, planes, centres, 0.5)
    assert has(together, 10.0, 10.0) == [True] * 4
    assert has(together, 5.0, ridge) == [True, True, False, False]
