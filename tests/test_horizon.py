"""Tests of solar.horizon: exactness against brute force, analytic scenes, sky views, shading."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from numpy.testing import assert_allclose, assert_array_equal
from pvlib.irradiance import aoi_projection

from solar.horizon import (
    Horizons,
    face_shading,
    horizon_angles,
    horizon_angles_reference,
    horizon_band_open,
    pixel_lit_sums,
    pixel_sky_view,
    sky_view,
)
from solar.resources import DATA_DIR

DATA = DATA_DIR
MONTPELLIER_DSM = (
    DATA
    / "lidar/ign_lidarhd_montpellier_77055_627760/DSM_test_data_77055_627760_LA93_IGN69_50CM.tif"
)
SOUTH = 36  # sector index toward 180° with 72 sectors


def _surface(seed: int, kind: str, shape: tuple[int, int] = (37, 53)) -> np.ndarray:
    """Random test surfaces: smooth hills, white noise, or flat ground with tall spikes."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    if kind == "smooth":
        z = 3 * np.sin(rows / 5.0 + seed) * np.cos(cols / 7.0) + rng.normal(0, 0.05, shape)
    elif kind == "rough":
        z = rng.uniform(0, 8, shape)
    else:
        z = rng.normal(0, 0.1, shape)
        spikes = rng.random(shape) < 0.01
        z[spikes] += rng.uniform(10, 40, spikes.sum())
    return (30.0 + z).astype(np.float32)


def _wall_scene(height: float = 10.0) -> tuple[np.ndarray, int]:
    """Flat ground at 0.5 m with a one-pixel wall of ``height`` m along row 80."""
    z = np.zeros((100, 100), dtype=np.float32)
    z[80, :] = height
    return z, 80


@pytest.mark.parametrize("kind", ["smooth", "rough", "spikes"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force_on_random_surfaces(seed: int, kind: str) -> None:
    z = _surface(seed, kind)
    horizons = horizon_angles(z, 0.5)
    expected = horizon_angles_reference(z, 0.5, 72, horizons.rows, horizons.cols)
    assert_allclose(horizons.angles_deg(), expected, atol=0.1)
    # Storage rounds to hundredths of a degree: the round trip stays within 0.01°.
    assert np.abs(horizons.angles_deg() - expected).max() < 0.01
    assert expected.max() > 5.0  # the surfaces do cast shade


@pytest.mark.parametrize("max_distance", [2.0, 4.3, 11.0])
def test_max_distance_matches_brute_force(max_distance: float) -> None:
    z = _surface(3, "spikes", (61, 44))
    horizons = horizon_angles(z, 0.5, n_sectors=36, max_distance=max_distance)
    expected = horizon_angles_reference(
        z, 0.5, 36, horizons.rows, horizons.cols, max_distance=max_distance
    )
    assert_allclose(horizons.angles_deg(), expected, atol=0.01)
    unbounded = horizon_angles(z, 0.5, n_sectors=36)
    assert (unbounded.angles_deg() > horizons.angles_deg() + 1.0).any()


@pytest.mark.parametrize("max_blend_step", [0.0, 2.5, np.inf])
def test_max_blend_step_matches_brute_force(max_blend_step: float) -> None:
    # 0 never blends (nearest pixel), inf always does; 2.5 m splits the 0-8 m steps.
    z = _surface(10, "rough", (41, 47))
    horizons = horizon_angles(z, 0.5, n_sectors=36, max_blend_step=max_blend_step)
    expected = horizon_angles_reference(
        z, 0.5, 36, horizons.rows, horizons.cols, max_blend_step=max_blend_step
    )
    assert_allclose(horizons.angles_deg(), expected, atol=0.01)
    default = horizon_angles(z, 0.5, n_sectors=36)
    assert np.abs(default.angles_deg() - horizons.angles_deg()).max() > 1.0


@pytest.mark.parametrize("max_distance", [None, 4.3])
def test_observer_height_matches_brute_force(max_distance: float | None) -> None:
    z = _surface(8, "smooth", (45, 50))
    horizons = horizon_angles(z, 0.5, max_distance=max_distance, observer_height=0.4)
    expected = horizon_angles_reference(
        z, 0.5, 72, horizons.rows, horizons.cols, max_distance=max_distance, observer_height=0.4
    )
    assert_allclose(horizons.angles_deg(), expected, atol=0.01)
    grounded = horizon_angles(z, 0.5, max_distance=max_distance)
    assert (grounded.angles_deg() > horizons.angles_deg() + 1.0).any()


def test_observer_height_hides_dsm_noise() -> None:
    # An open plane with the 2 cm noise of a LiDAR DSM: the neighbours' noise alone makes
    # a horizon of a few degrees, which a lift of a module's height above the roof removes.
    z = np.random.default_rng(9).normal(0.0, 0.02, (60, 60)).astype(np.float32)
    grounded = horizon_angles(z, 0.5).angles_deg()
    lifted = horizon_angles(z, 0.5, observer_height=0.15).angles_deg()
    assert horizon_band_open(grounded, 30.0, 180.0).mean() < 0.9
    assert horizon_band_open(lifted, 30.0, 180.0).mean() > 0.999
    assert sky_view(lifted, 30.0, 180.0).mean() > 0.9999


def test_max_distance_hides_a_far_tower() -> None:
    z = np.zeros((40, 200), dtype=np.float32)
    z[20, 150] = 30.0  # 50 m east of the pixel (20, 50)
    mask = np.zeros(z.shape, dtype=bool)
    mask[20, 50] = True
    near = horizon_angles(z, 0.5, mask=mask, max_distance=49.0)
    far = horizon_angles(z, 0.5, mask=mask, max_distance=51.0)
    assert near.angles_deg()[0, 18] == 0.0
    assert far.angles_deg()[0, 18] == pytest.approx(math.degrees(math.atan(30 / 50)), abs=0.01)


def test_matches_brute_force_on_real_dsm() -> None:
    with rasterio.open(MONTPELLIER_DSM) as src:
        z = src.read(1, masked=True)
        resolution = src.res[0]
    z = z.filled(z.min()).astype(np.float32)
    horizons = horizon_angles(z, resolution)
    expected = horizon_angles_reference(z, resolution, 72, horizons.rows, horizons.cols)
    assert_allclose(horizons.angles_deg(), expected, atol=0.1)
    assert expected.max() > 30.0
    bounded = horizon_angles(z, resolution, max_distance=12.0)
    expected = horizon_angles_reference(
        z, resolution, 72, bounded.rows, bounded.cols, max_distance=12.0
    )
    assert_allclose(bounded.angles_deg(), expected, atol=0.1)


def test_mask_stores_only_its_pixels_but_everything_casts() -> None:
    z, wall_row = _wall_scene()
    mask = np.zeros(z.shape, dtype=bool)
    mask[60, 10:20] = True
    horizons = horizon_angles(z, 0.5, mask=mask)
    assert horizons.angles.shape == (10, 72)
    assert horizons.angles.dtype == np.uint16
    assert_array_equal(horizons.rows, 60)
    assert_array_equal(horizons.cols, np.arange(10, 20))
    expected = math.degrees(math.atan(10.0 / ((wall_row - 60) * 0.5)))
    assert_allclose(horizons.angles_deg()[:, SOUTH], expected, atol=0.01)
    grid = horizons.index_grid()
    assert grid[60, 15] == 5
    assert (grid >= 0).sum() == 10


def test_wall_to_the_south() -> None:
    z, _ = _wall_scene(height=10.0)
    horizons = horizon_angles(z, 0.5)
    angles = horizons.angles_deg().reshape(100, 100, 72)
    # 40 pixels north of the wall: 20 m.
    assert angles[40, 50, SOUTH] == pytest.approx(math.degrees(math.atan(10 / 20)), abs=0.1)
    assert angles[40, 50, 0] == 0.0  # north
    assert angles[40, 50, 18] == 0.0  # east, along the wall
    assert angles[40, 50, 54] == 0.0  # west
    # South of the wall, the wall lies to the north.
    assert angles[90, 50, 0] == pytest.approx(math.degrees(math.atan(10 / 5)), abs=0.1)
    assert angles[90, 50, SOUTH] == 0.0
    assert horizons.sector_azimuths[SOUTH] == 180.0


def test_wall_to_the_east_lies_in_the_east_sector() -> None:
    z = np.zeros((50, 50), dtype=np.float32)
    z[:, 40] = 6.0
    mask = np.zeros(z.shape, dtype=bool)
    mask[25, 10] = True
    angles = horizon_angles(z, 0.5, n_sectors=4, mask=mask).angles_deg()[0]
    assert_allclose(angles, [0.0, math.degrees(math.atan(6 / 15)), 0.0, 0.0], atol=0.01)


def test_flat_plain_has_no_horizon() -> None:
    horizons = horizon_angles(np.full((30, 40), 52.0, dtype=np.float32), 0.5)
    assert_array_equal(horizons.angles, 0)


def test_uniform_slope_seen_uphill() -> None:
    # A plane rising 20° toward the east: the horizon east is the plane, west is open.
    cols = np.arange(60) * 0.5
    z = np.tile(cols * math.tan(math.radians(20)), (30, 1)).astype(np.float32)
    mask = np.zeros(z.shape, dtype=bool)
    mask[15, 10:40] = True
    angles = horizon_angles(z, 0.5, n_sectors=4, mask=mask).angles_deg()
    assert_allclose(angles[:, 1], 20.0, atol=0.01)
    assert_array_equal(angles[:, 3], 0.0)


def _plane_self_horizon(tilt: float, azimuth: float, n_sectors: int = 72) -> np.ndarray:
    """Elevation angle of a plane's own trace toward each sector, clipped at 0. [°]

    The plane falls toward ``azimuth`` at ``tan(tilt)``: toward ψ it rises at
    ``-tan(tilt) cos(ψ - azimuth)``.
    """
    psi = np.radians(np.arange(n_sectors) * (360.0 / n_sectors))
    rise = -math.tan(math.radians(tilt)) * np.cos(psi - math.radians(azimuth))
    return np.degrees(np.arctan(np.maximum(rise, 0.0)))


def _plane(tilt: float, azimuth: float, shape: tuple[int, int], resolution: float) -> np.ndarray:
    """Heights of a plane falling toward ``azimuth`` at ``tilt``, over a north-up grid. [m]"""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    x, y = cols * resolution, -rows * resolution
    g = math.radians(azimuth)
    return 40.0 - math.tan(math.radians(tilt)) * (x * math.sin(g) + y * math.cos(g))


def _gable(tilt: float, azimuth: float) -> tuple[np.ndarray, np.ndarray]:
    """A lone gable, 12 m long and 8 m wide, eaves 6 m above flat ground, at 0.5 m.

    Its face 0 falls toward ``azimuth``, face 1 the other way; the footprint turns with
    them. Returns the heights and the face of each pixel (-1 on the ground).
    """
    n, resolution = 80, 0.5
    centre = (np.arange(n) + 0.5 - n / 2) * resolution
    x, y = np.meshgrid(centre, -centre)
    g = math.radians(azimuth)
    across = x * math.sin(g) + y * math.cos(g)  # toward azimuth, from the ridge
    along = x * math.cos(g) - y * math.sin(g)
    roof = (np.abs(across) <= 4.0) & (np.abs(along) <= 6.0)
    z = np.where(roof, 6.0 + math.tan(math.radians(tilt)) * (4.0 - np.abs(across)), 0.0)
    return z.astype(np.float32), np.where(roof, np.where(across > 0, 0, 1), -1)


@pytest.mark.parametrize("tilt", [35.0, 55.0])
@pytest.mark.parametrize("azimuth", [180.0, 200.0, 243.0, 300.0, 15.0])
def test_tilted_plane_sees_its_own_slope(tilt: float, azimuth: float) -> None:
    # Interior pixels, with a reach that keeps every sample and its blending neighbour on
    # the grid: each ray runs on the plane, and its horizon is the plane's own rise.
    z = _plane(tilt, azimuth, (64, 64), 0.5).astype(np.float32)
    margin = 14  # 6 m: at most 12 samples along the major axis, 12 + 1 pixels across
    mask = np.zeros(z.shape, dtype=bool)
    mask[margin:-margin, margin:-margin] = True
    expected = _plane_self_horizon(tilt, azimuth)
    horizons = horizon_angles(z, 0.5, mask=mask, max_distance=6.0)
    assert_allclose(horizons.angles_deg(), np.broadcast_to(expected, (mask.sum(), 72)), atol=0.1)
    # The nearest pixel alone, never blended, made the plane shade itself near its contours.
    nearest = horizon_angles(z, 0.5, mask=mask, max_distance=6.0, max_blend_step=0.0)
    assert (nearest.angles_deg() - expected).max() > 10.0


@pytest.mark.parametrize("tilt", [35.0, 55.0])
@pytest.mark.parametrize("azimuth", [180.0, 200.0, 243.0, 300.0])
def test_open_gable_has_a_full_sky_view(tilt: float, azimuth: float) -> None:
    z, face = _gable(tilt, azimuth)
    horizons = horizon_angles(z, 0.5, mask=face >= 0)
    nearest = horizon_angles(z, 0.5, mask=face >= 0, max_blend_step=0.0)
    on = face[horizons.rows, horizons.cols]
    for f, facing in ((0, azimuth), (1, (azimuth + 180.0) % 360.0)):
        view = sky_view(horizons.angles_deg()[on == f], tilt, facing)
        assert view.mean() == pytest.approx(1.0, abs=1e-3)
        # the bias of nearest-pixel sampling, 0.5% to 1.6% on these faces
        assert sky_view(nearest.angles_deg()[on == f], tilt, facing).mean() < 0.996


@pytest.mark.parametrize("tilt", [0.0, 35.0])
def test_eave_over_a_drop_gets_no_horizon_from_the_blend(tilt: float) -> None:
    # A roof falling south at ``tilt`` (flat at 0°), its eave 6 m above the ground on all
    # four sides. Blending the eave with the ground would lower its observer by up to 3 m,
    # under the next samples of its own eave along the edge.
    z = np.zeros((60, 60), dtype=np.float32)
    roof = np.zeros(z.shape, dtype=bool)
    roof[20:40, 15:45] = True
    z[roof] = 6.0 + math.tan(math.radians(tilt)) * (39 - np.nonzero(roof)[0]) * 0.5
    expected = _plane_self_horizon(tilt, 180.0)
    horizons = horizon_angles(z, 0.5, mask=roof)
    eave = horizons.rows == 39
    assert eave.sum() == 30
    # Where a sample keeps its nearest pixel, at the edges, it lies at the pixel's height
    # while its line crosses up to half a pixel beyond, over the drop: no pixel sees more
    # than the plane's own rise, and those away from the edges see exactly that.
    angles = horizons.angles_deg()
    assert (angles <= expected + 0.01).all()
    inner = (np.abs(horizons.rows - 29.5) < 8) & (np.abs(horizons.cols - 29.5) < 13)
    assert_allclose(angles[inner], np.broadcast_to(expected, (inner.sum(), 72)), atol=0.1)
    blended = horizon_angles(z, 0.5, mask=roof, max_blend_step=np.inf).angles_deg()
    assert (blended[eave] - expected).max() > 20.0


def test_bad_inputs_are_rejected() -> None:
    z = np.zeros((10, 10), dtype=np.float32)
    z[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        horizon_angles(z, 0.5)
    with pytest.raises(ValueError, match="max_distance"):
        horizon_angles(np.zeros((5, 5)), 0.5, max_distance=0.0)
    with pytest.raises(ValueError, match="mask shape"):
        horizon_angles(np.zeros((5, 5)), 0.5, mask=np.ones((4, 5), dtype=bool))
    with pytest.raises(ValueError, match="max_blend_step"):
        horizon_angles(np.zeros((5, 5)), 0.5, max_blend_step=-0.1)


# Sky view -----------------------------------------------------------------------------


def _view_factor_quadrature(tilt: float, azimuth: float, horizon: float, top: float) -> float:
    """π times the view factor of the sky between a uniform horizon and ``top``, by a fine
    midpoint rule over the hemisphere, independent of the per-sector closed form."""
    n = 1440
    psi = (np.arange(n) + 0.5) * (2 * math.pi / n)
    e = horizon + (np.arange(n) + 0.5) * ((top - horizon) / n)
    psi, e = np.meshgrid(psi, e)
    beta, gamma = math.radians(tilt), math.radians(azimuth)
    cos_inc = math.cos(beta) * np.sin(e) + math.sin(beta) * np.cos(e) * np.cos(psi - gamma)
    cell = (2 * math.pi / n) * ((top - horizon) / n)
    return float((np.maximum(cos_inc, 0) * np.cos(e)).sum() * cell)


def test_sky_view_unobstructed_is_one() -> None:
    angles = np.zeros((4, 72))
    assert_array_equal(sky_view(angles, [0.0, 25.0, 60.0, 90.0], [180.0, 90.0, 0.0, 270.0]), 1.0)
    assert sky_view(angles[:1], 0.0, 0.0)[0] == 1.0


@pytest.mark.parametrize("a", [5.0, 20.0, 45.0])
def test_sky_view_horizontal_plane_under_uniform_horizon(a: float) -> None:
    assert sky_view(np.full((1, 72), a), 0.0, 180.0)[0] == pytest.approx(
        math.cos(math.radians(a)) ** 2, abs=1e-12
    )


@pytest.mark.parametrize("a", [10.0, 30.0])
def test_sky_view_vertical_plane_under_uniform_horizon(a: float) -> None:
    # Vertical plane: (1/π) ∫ cos(ψ-γ) dψ ∫_a^{π/2} cos²e de over (1/2) = 1 - (2a + sin 2a)/π.
    r = math.radians(a)
    expected = 1 - (2 * r + math.sin(2 * r)) / math.pi
    assert sky_view(np.full((1, 72), a), 90.0, 200.0)[0] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("tilt", "a"), [(30.0, 10.0), (45.0, 25.0), (60.0, 5.0)])
def test_sky_view_tilted_plane_against_quadrature(tilt: float, a: float) -> None:
    seen = _view_factor_quadrature(tilt, 180.0, math.radians(a), math.pi / 2) / math.pi
    expected = seen / ((1 + math.cos(math.radians(tilt))) / 2)
    assert sky_view(np.full((1, 72), a), tilt, 180.0)[0] == pytest.approx(expected, abs=2e-3)


def test_sky_view_ignores_obstacles_behind_the_plane() -> None:
    # A steep south face does not see the low northern sky: a low northern horizon is free.
    angles = np.zeros((1, 72))
    angles[0, 66:72] = 20.0
    angles[0, 0:7] = 20.0
    assert sky_view(angles, 45.0, 180.0)[0] == pytest.approx(1.0, abs=1e-12)
    assert sky_view(angles, 0.0, 180.0)[0] < 0.99


def test_horizon_band_open() -> None:
    zero = np.zeros((1, 72))
    assert horizon_band_open(zero, 30.0, 180.0)[0] == pytest.approx(1.0)
    assert horizon_band_open(np.full((1, 72), 7.0), 30.0, 180.0)[0] == 0.0
    # Vertical plane, horizon at half the band: weight cos²e over the band's elevations.
    band = math.radians(6.5)

    def q(x: float) -> float:
        return x / 2 + math.sin(2 * x) / 4

    expected = (q(band) - q(band / 2)) / q(band)
    half = horizon_band_open(np.full((1, 72), 3.25), 90.0, 180.0)[0]
    assert half == pytest.approx(expected, abs=1e-9)
    # The band height is a parameter that matters.
    assert horizon_band_open(np.full((1, 72), 3.25), 90.0, 180.0, band_deg=13.0)[0] > half + 0.2


def test_pixel_sky_view_matches_sky_view() -> None:
    horizons = horizon_angles(_surface(4, "rough"), 0.5)
    rng = np.random.default_rng(4)
    tilt = np.array([0.0, 35.0, 60.0, 90.0])
    azimuth = np.array([180.0, 120.0, 250.0, 10.0])
    plane = rng.integers(-1, 4, horizons.n_pixels)
    sky, band = pixel_sky_view(horizons, plane, tilt, azimuth)
    on = plane >= 0
    angles = horizons.angles_deg()[on]
    assert_allclose(sky[on], sky_view(angles, tilt[plane[on]], azimuth[plane[on]]), atol=1e-6)
    assert_allclose(
        band[on], horizon_band_open(angles, tilt[plane[on]], azimuth[plane[on]]), atol=1e-6
    )
    assert np.isnan(sky[~on]).all()
    assert sky[on].min() < 0.9


# Shading ------------------------------------------------------------------------------


def _lit_reference(angles: np.ndarray, azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """(n_pixels, n_hours) lit mask, written directly from the rule in plain numpy."""
    n_sectors = angles.shape[1]
    position = np.mod(azimuth, 360.0) / (360.0 / n_sectors)
    k0 = np.floor(position).astype(int) % n_sectors
    k1 = (k0 + 1) % n_sectors
    frac = position - np.floor(position)
    horizon = angles[:, k0] * (1 - frac) + angles[:, k1] * frac
    return (horizon < elevation) & (elevation > 0)


def test_face_behind_a_wall() -> None:
    z, wall_row = _wall_scene(height=10.0)
    mask = np.zeros(z.shape, dtype=bool)
    mask[40:60, 45:55] = True  # 10 to 20 m north of the wall
    horizons = horizon_angles(z, 0.5, mask=mask)
    low, high = math.degrees(math.atan(10 / 20)), math.degrees(math.atan(10 / 10))
    elevation = np.array([low - 1.0, high + 1.0, (low + high) / 2, -3.0, 50.0, 35.0])
    azimuth = np.array([180.0, 180.0, 180.0, 180.0, 0.0, 182.5])
    lit, sky, band = face_shading(
        horizons, [np.arange(horizons.n_pixels)], azimuth, elevation, [0.0], [180.0]
    )
    assert lit.shape == (1, 6)
    assert lit.dtype == np.float32
    assert lit[0, 0] == 0.0  # sun below the wall for every pixel
    assert lit[0, 1] == 1.0  # sun above it for every pixel
    # In between, the share of pixels far enough from the wall, from the geometry alone.
    distance = (wall_row - horizons.rows) * 0.5
    assert lit[0, 2] == pytest.approx(np.mean(np.degrees(np.arctan(10 / distance)) < elevation[2]))
    assert 0.0 < lit[0, 2] < 1.0
    assert lit[0, 3] == 0.0  # night
    assert lit[0, 4] == 1.0  # sun in the north, nothing there
    # Half-way between sectors 36 and 37, the mean of their brute-force horizons.
    reference = horizon_angles_reference(z, 0.5, 72, horizons.rows, horizons.cols)
    both = reference[:, 36:38].mean(axis=1)
    assert lit[0, 5] == pytest.approx(np.mean(both < 35.0), abs=1e-6)
    assert 0.0 < lit[0, 5] < 1.0
    assert sky[0] == pytest.approx(sky_view(reference, 0.0, 180.0).mean(), abs=1e-4)
    assert band[0] == pytest.approx(horizon_band_open(reference, 0.0, 180.0).mean(), abs=1e-4)
    assert sky[0] < 0.95
    assert band[0] < 0.75


def test_face_shading_matches_plain_rule_on_random_surface() -> None:
    horizons = horizon_angles(_surface(5, "rough"), 0.5)
    rng = np.random.default_rng(5)
    azimuth = rng.uniform(0, 360, 500)
    elevation = rng.uniform(-10, 70, 500)
    faces = [np.arange(0, 300), np.arange(300, 301), rng.choice(horizons.n_pixels, 50)]
    tilt, facing = [0.0, 30.0, 80.0], [180.0, 90.0, 300.0]
    lit, sky, band = face_shading(horizons, faces, azimuth, elevation, tilt, facing)
    mask = _lit_reference(horizons.angles_deg().astype(np.float64), azimuth, elevation)
    for f, pixels in enumerate(faces):
        # Unlit whenever the sun stands behind the face's plane.
        front = aoi_projection(tilt[f], facing[f], 90.0 - elevation, azimuth) > 0
        assert_allclose(lit[f], mask[pixels].mean(axis=0) * front, atol=1e-6)
        assert (lit[f][~front] == 0).all()
    assert (lit[2][elevation > 0] == 0).any()
    # Hours outside the mask are left unlit; the others are unchanged.
    hour_mask = rng.random(500) < 0.5
    masked, _, _ = face_shading(
        horizons, faces, azimuth, elevation, tilt, facing, hour_mask=hour_mask
    )
    assert_array_equal(masked, lit * hour_mask)
    assert_allclose(sky[2], sky_view(horizons.angles_deg()[faces[2]], 80.0, 300.0).mean())
    assert_allclose(band[0], horizon_band_open(horizons.angles_deg()[:300], 0.0, 180.0).mean())
    assert 0.0 < lit[0][elevation > 0].mean() < 1.0


def test_open_face_is_fully_lit_when_the_sun_is_up() -> None:
    horizons = horizon_angles(np.zeros((20, 20), dtype=np.float32), 0.5)
    elevation = np.array([-1.0, 0.0, 0.5, 30.0])
    lit, sky, band = face_shading(
        horizons, [np.arange(horizons.n_pixels)], np.full(4, 150.0), elevation, [20.0], [180.0]
    )
    assert_array_equal(lit[0], [0.0, 0.0, 1.0, 1.0])
    assert sky[0] == pytest.approx(1.0)
    assert band[0] == pytest.approx(1.0)


def test_face_shading_rejects_empty_faces() -> None:
    horizons = horizon_angles(np.zeros((5, 5), dtype=np.float32), 0.5)
    with pytest.raises(ValueError, match="no pixel"):
        face_shading(horizons, [np.array([], dtype=int)], [180.0], [30.0], [0.0], [180.0])


def test_pixel_lit_sums_match_plain_rule() -> None:
    # More pixels than one parallel task takes, so that a shared weight row is split.
    horizons = horizon_angles(_surface(6, "spikes", (80, 90)), 0.5)
    rng = np.random.default_rng(6)
    n_hours = 1500
    azimuth = rng.uniform(0, 360, n_hours)
    elevation = rng.uniform(-20, 80, n_hours)
    month = rng.integers(1, 13, n_hours)
    weight = rng.uniform(0, 900, (3, n_hours)) * (rng.random((3, n_hours)) < 0.6)
    group = rng.integers(-1, 3, horizons.n_pixels)
    sums = pixel_lit_sums(horizons, azimuth, elevation, weight, month, group)
    assert sums.shape == (horizons.n_pixels, 13)
    lit = _lit_reference(horizons.angles_deg().astype(np.float64), azimuth, elevation)
    on = group >= 0
    per_hour = np.where(lit[on], weight[group[on]], 0.0)
    assert_allclose(sums[on, 0], per_hour.sum(axis=1), rtol=1e-9, atol=1e-6)
    for m in (1, 6, 12):
        expected = per_hour[:, month == m].sum(axis=1)
        assert_allclose(sums[on, m], expected, rtol=1e-9, atol=1e-6)
    assert_allclose(sums[on, 1:].sum(axis=1), sums[on, 0], rtol=1e-12)
    assert np.isnan(sums[~on]).all()
    # A shared 1-D weight gives every pixel the same row of weights.
    shared = pixel_lit_sums(horizons, azimuth, elevation, weight[1], month)
    assert_allclose(shared[group == 1], sums[group == 1], rtol=1e-12)


def test_horizons_are_compact_and_self_describing() -> None:
    horizons = horizon_angles(_surface(7, "smooth"), 0.5, n_sectors=36)
    assert isinstance(horizons, Horizons)
    assert horizons.angles.shape == (37 * 53, 36)
    assert horizons.angles.dtype == np.uint16
    assert horizons.rows.dtype == np.int32
    assert horizons.shape == (37, 53)
    assert_allclose(horizons.sector_azimuths[:3], [0.0, 10.0, 20.0])
    assert horizons.angles_deg().dtype == np.float32
