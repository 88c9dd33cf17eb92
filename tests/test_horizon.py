"""Tests of solar.horizon: exactness against a brute-force oracle, and analytic scenes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from numpy.testing import assert_allclose, assert_array_equal

from solar.horizon import Horizons, horizon_angles
from solar.resources import DATA_DIR
from solar.shading import horizon_band_open, sky_view
from tests.horizon_reference import horizon_angles_reference, random_surface, wall_scene

MONTPELLIER_DSM = (
    DATA_DIR
    / "lidar/ign_lidarhd_montpellier_77055_627760/DSM_test_data_77055_627760_LA93_IGN69_50CM.tif"
)
SOUTH = 36  # sector index toward 180° with 72 sectors


@pytest.mark.parametrize("kind", ["smooth", "rough", "spikes"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force_on_random_surfaces(seed: int, kind: str) -> None:
    z = random_surface(seed, kind)
    horizons = horizon_angles(z, 0.5)
    expected = horizon_angles_reference(z, 0.5, 72, horizons.rows, horizons.cols)
    assert_allclose(horizons.angles_deg(), expected, atol=0.1)
    # Storage rounds to hundredths of a degree: the round trip stays within 0.01°.
    assert np.abs(horizons.angles_deg() - expected).max() < 0.01
    assert expected.max() > 5.0  # the surfaces do cast shade


@pytest.mark.parametrize("max_distance", [2.0, 4.3, 11.0])
def test_max_distance_matches_brute_force(max_distance: float) -> None:
    z = random_surface(3, "spikes", (61, 44))
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
    z = random_surface(10, "rough", (41, 47))
    horizons = horizon_angles(z, 0.5, n_sectors=36, max_blend_step=max_blend_step)
    expected = horizon_angles_reference(
        z, 0.5, 36, horizons.rows, horizons.cols, max_blend_step=max_blend_step
    )
    assert_allclose(horizons.angles_deg(), expected, atol=0.01)
    default = horizon_angles(z, 0.5, n_sectors=36)
    assert np.abs(default.angles_deg() - horizons.angles_deg()).max() > 1.0


@pytest.mark.parametrize("max_distance", [None, 4.3])
def test_observer_height_matches_brute_force(max_distance: float | None) -> None:
    z = random_surface(8, "smooth", (45, 50))
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
    z, wall_row = wall_scene()
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
    z, _ = wall_scene(height=10.0)
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


def test_horizons_are_compact_and_self_describing() -> None:
    horizons = horizon_angles(random_surface(7, "smooth"), 0.5, n_sectors=36)
    assert isinstance(horizons, Horizons)
    assert horizons.angles.shape == (37 * 53, 36)
    assert horizons.angles.dtype == np.uint16
    assert horizons.rows.dtype == np.int32
    assert horizons.shape == (37, 53)
    assert_allclose(horizons.sector_azimuths[:3], [0.0, 10.0, 20.0])
    assert horizons.angles_deg().dtype == np.float32
