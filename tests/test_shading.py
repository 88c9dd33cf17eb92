"""Tests of solar.shading, then of shading through the whole build.

First the views and sunlit hours of :mod:`solar.shading`, against closed forms, a
quadrature of the hemisphere and the lit rule written in plain numpy. Then the build: an
open plain, a block, trees, monthly sums. Every build scene comes from tests/scenes.py, goes
through :func:`solar.build.build_from_surface` and is read back from the GeoPackage and the
irradiation raster, as a user would. The reference of the block scene is an hourly ray
march toward the sun written here on pvlib and numpy alone: it uses nothing of
solar.horizon, solar.shading or solar.irradiance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
import rasterio
import shapely
from affine import Affine
from numpy.testing import assert_allclose, assert_array_equal

from solar import build
from solar.build import raster
from solar.build.options import BuildOptions
from solar.cadastre import Cadastre, FaceRecord
from solar.horizon import Horizons, horizon_angles
from solar.resources import DEFAULT_WEATHER
from solar.shading import (
    face_and_pixel_shading,
    face_shading,
    horizon_band_open,
    pixel_lit_sums,
    pixel_sky_view,
    sky_view,
)
from solar.weather import Weather, read_weather, solar_position
from tests import scenes
from tests.horizon_reference import horizon_angles_reference, random_surface, wall_scene

TILT = 35.0
"""Slope of the gable of the analytic scene. [°]"""
EAVE = 6.0
"""Eave height of the gables built by :func:`scenes.gable_with_casters`. [m]"""
HALF_WIDTH = 4.0
"""Half the width of those gables: the south face spans 4 m south of the ridge. [m]"""
BLOCK = (20.0, 40.0, 10.0, 30.0)
"""A block 20 m south of the south eave, 40 m east-west, 10 m deep, 30 m high. [m]"""
CROWN = (1.0, 3.0, 12.0)
"""A crown 1 m south of the south eave, 3 m in radius, its top 12 m above the ground
(3.2 m above the ridge). [m]"""

MARCH_STEP = 0.25
"""Step of the reference ray march, half a pixel. [m]"""
MARCH_REACH = 300.0
"""Longest reference ray, or the grid's edge when nearer. [m]"""
HORIZON_BAND = 6.5
"""Height of the horizon brightening band of the original Perez model: R. Perez et al.,
Solar Energy 36(6), 481-497, 1986. [°]"""


# --- sky views ----------------------------------------------------------------------------


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
    horizons = horizon_angles(random_surface(4, "rough"), 0.5)
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


# --- sunlit hours --------------------------------------------------------------------------


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
    z, wall_row = wall_scene(height=10.0)
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


def test_face_shading_matches_plain_rule_on_randomrandom_surface() -> None:
    horizons = horizon_angles(random_surface(5, "rough"), 0.5)
    rng = np.random.default_rng(5)
    azimuth = rng.uniform(0, 360, 500)
    elevation = rng.uniform(-10, 70, 500)
    faces = [np.arange(0, 300), np.arange(300, 301), rng.choice(horizons.n_pixels, 50)]
    tilt, facing = [0.0, 30.0, 80.0], [180.0, 90.0, 300.0]
    lit, sky, band = face_shading(horizons, faces, azimuth, elevation, tilt, facing)
    mask = _lit_reference(horizons.angles_deg().astype(np.float64), azimuth, elevation)
    for f, pixels in enumerate(faces):
        # Unlit whenever the sun stands behind the face's plane.
        front = pvlib.irradiance.aoi_projection(tilt[f], facing[f], 90.0 - elevation, azimuth) > 0
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
    horizons = horizon_angles(random_surface(6, "spikes", (80, 90)), 0.5)
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


def test_face_and_pixel_shading_is_the_three_passes() -> None:
    # the fused pass against face_shading, pixel_lit_sums and pixel_sky_view, value for value
    horizons = horizon_angles(random_surface(7, "spikes", (60, 70)), 0.5)
    rng = np.random.default_rng(7)
    n_hours = 1200
    azimuth = rng.uniform(0, 360, n_hours)
    elevation = rng.uniform(-20, 80, n_hours)
    month = rng.integers(1, 13, n_hours)
    faces = [rng.choice(horizons.n_pixels, size, replace=False) for size in (400, 1, 90, 700)]
    tilt, facing = np.array([0.0, 30.0, 80.0, 45.0]), np.array([180.0, 90.0, 300.0, 10.0])
    # float32 as a build's open direct irradiance; zeros where a pixel test is skipped
    weight = (rng.uniform(0, 900, (4, n_hours)) * (rng.random((4, n_hours)) < 0.6)).astype(
        np.float32
    )
    hour_mask = elevation > 0.0
    fused = face_and_pixel_shading(
        horizons, faces, azimuth, elevation, tilt, facing, weight, month, hour_mask=hour_mask
    )
    lit, sky, band = face_shading(
        horizons, faces, azimuth, elevation, tilt, facing, hour_mask=hour_mask
    )
    assert_array_equal(fused.lit_fraction, lit)
    assert_array_equal(fused.sky_view, sky)
    assert_array_equal(fused.horizon_band_open, band)
    pixels = np.concatenate(faces)
    pixel_face = np.repeat(np.arange(len(faces)), [f.size for f in faces])
    own = Horizons(
        horizons.rows[pixels],
        horizons.cols[pixels],
        horizons.angles[pixels],
        horizons.n_sectors,
        horizons.shape,
        horizons.resolution,
    )
    sums = pixel_lit_sums(own, azimuth, elevation, weight, month, pixel_group=pixel_face)
    assert_array_equal(fused.pixel_lit_sums, sums)
    pixel_sky, pixel_band = pixel_sky_view(own, pixel_face, tilt, facing)
    assert_array_equal(fused.pixel_sky_view, pixel_sky)
    assert_array_equal(fused.pixel_band_open, pixel_band)
    # the sums need every sun-up hour
    with pytest.raises(ValueError, match="hour_mask"):
        face_and_pixel_shading(
            horizons, faces, azimuth, elevation, tilt, facing, weight, month, hour_mask=~hour_mask
        )
    with pytest.raises(ValueError, match="hourly_weight"):
        face_and_pixel_shading(horizons, faces, azimuth, elevation, tilt, facing, weight[:2], month)


# --- builds -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Built:
    """A scene, its build summary, and its faces as the cadastre returns them."""

    scene: scenes.Scene
    summary: build.BuildSummary
    faces: list[FaceRecord]

    def face(self, azimuth: float) -> FaceRecord:
        """The face looking toward ``azimuth`` (within 10°)."""
        found = [
            f
            for f in self.faces
            if f.azimuth_deg is not None
            and abs((f.azimuth_deg - azimuth + 180.0) % 360.0 - 180.0) < 10.0
        ]
        assert len(found) == 1, [(f.face_id, f.azimuth_deg) for f in self.faces]
        return found[0]

    def annual_raster(self) -> np.ma.MaskedArray:
        """Band 1 of the irradiation raster, masked off the roofs. [kWh m-2]"""
        assert self.summary.raster_path is not None
        with rasterio.open(self.summary.raster_path) as src:
            return src.read(1, masked=True)


@pytest.fixture(scope="module")
def weather() -> Weather:
    return read_weather(DEFAULT_WEATHER)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shading")


def _build(scene: scenes.Scene, name: str, workdir: Path, weather: Weather) -> Built:
    territory = build.Territory(scene.surface, [scene.footprint], weather=weather, communes=None)
    # with the monthly bands, whose sums the tests hold to the annual band
    summary = build.build_from_surface(
        territory, out=workdir / f"{name}.gpkg", options=BuildOptions(monthly_raster=True)
    )
    return Built(scene, summary, Cadastre(summary.path).faces(scene.footprint.building_id))


# The analytic scene is noise-free, so that the reference marches over the very planes
# onto which the build moves its roof pixels before computing horizons.
@pytest.fixture(scope="module")
def plain(workdir: Path, weather: Weather) -> Built:
    return _build(scenes.gable_with_casters(TILT, noise=0.0), "plain", workdir, weather)


@pytest.fixture(scope="module")
def blocked(workdir: Path, weather: Weather) -> Built:
    scene = scenes.gable_with_casters(TILT, block=BLOCK, noise=0.0)
    return _build(scene, "blocked", workdir, weather)


# --- an open plain ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lone_gable(workdir: Path, weather: Weather) -> Built:
    return _build(scenes.gable(TILT, 180.0), "lone_gable", workdir, weather)


def test_open_flat_roof_loses_nothing(workdir: Path, weather: Weather) -> None:
    built = _build(scenes.flat(parapet_width=0.0), "flat", workdir, weather)
    [face] = built.faces
    assert face.is_flat
    # Horizons are taken on the fitted plane, which the rays sample exactly; 0.05% is 5
    # stored units of shading_loss_pct (2 decimals).
    assert face.shading_loss_pct < 0.05


def test_open_flat_roof_without_noise_builds(workdir: Path, weather: Weather) -> None:
    # a synthetic DSM, or a LiDAR flat roof whose heights happen to lie on one level
    built = _build(scenes.flat(parapet_width=0.0, noise=0.0), "flat_exact", workdir, weather)
    [face] = built.faces
    assert face.is_flat
    assert face.panels > 0


def test_open_plain_south_face_loses_under_half_a_percent(lone_gable: Built) -> None:
    # the acceptance bound for a face with nothing around it
    assert lone_gable.face(180.0).shading_loss_pct < 0.5


def test_open_plain_north_face_loses_under_half_a_percent(lone_gable: Built) -> None:
    # Nothing rises above the north face's own plane: the ridge is its top edge and the
    # south face falls away behind it. The sun lights it in summer mornings and evenings,
    # low in the east and west, where the own-plane error of the horizons is largest.
    assert lone_gable.face(0.0).shading_loss_pct < 0.5


# --- a 30 m block 20 m south of a gable ---------------------------------------------------


def test_south_face_without_the_block_loses_under_one_percent(plain: Built) -> None:
    # the acceptance bound for the analytic scene without its block
    assert plain.face(180.0).shading_loss_pct < 1.0


def test_block_takes_far_more_in_december_than_in_june(plain: Built, blocked: Built) -> None:
    without = np.array(plain.face(180.0).irradiation_monthly_kwh_m2)
    with_block = np.array(blocked.face(180.0).irradiation_monthly_kwh_m2)
    loss = 1.0 - with_block / without
    loss_jun, loss_dec = loss[5], loss[11]
    # In December the sun stays under 16° at 50.8°N, while the block's top is seen from
    # the south eave at atan(24 / 20) = 50° straight south and 40° at its corners (azimuths
    # 135° to 225°): the beam is gone most of the day, and the block hides part of the sky
    # the face looks at. The June sun culminates at 62.6°, above the block.
    assert loss_dec > 0.20
    assert loss_dec > 3.0 * loss_jun
    assert loss_jun > 0.0  # the block still hides some sky in June
    assert blocked.face(180.0).shading_loss_pct > 10.0


def _bilinear(z: np.ndarray, transform: Affine, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Heights at plan points, bilinear between pixel centres; -inf off the grid. [m]"""
    res = transform.a
    col = (x - transform.c) / res - 0.5
    row = (transform.f - y) / res - 0.5
    n_rows, n_cols = z.shape
    on_grid = (col >= 0) & (col <= n_cols - 1) & (row >= 0) & (row <= n_rows - 1)
    c0 = np.clip(np.floor(col), 0, n_cols - 2).astype(np.int64)
    r0 = np.clip(np.floor(row), 0, n_rows - 2).astype(np.int64)
    fc, fr = col - c0, row - r0
    height = (
        z[r0, c0] * (1 - fc) * (1 - fr)
        + z[r0, c0 + 1] * fc * (1 - fr)
        + z[r0 + 1, c0] * (1 - fc) * fr
        + z[r0 + 1, c0 + 1] * fc * fr
    )
    return np.where(on_grid, height, -np.inf)


def _steepest_rise(
    z: np.ndarray, transform: Affine, x: float, y: float, z0: float, azimuth: np.ndarray
) -> np.ndarray:
    """Per azimuth, the largest (z - z0) / distance along a ray from (x, y). [m m-1]

    The ray is marched every :data:`MARCH_STEP` up to :data:`MARCH_REACH` or the grid's
    edge, whichever is nearer; its arctangent is the horizon toward that azimuth.
    """
    reach = min(MARCH_REACH, math.hypot(*z.shape) * transform.a)
    distance = np.arange(1, int(reach / MARCH_STEP) + 1) * MARCH_STEP
    az = np.radians(np.asarray(azimuth, dtype=np.float64))[:, None]
    height = _bilinear(z, transform, x + distance * np.sin(az), y + distance * np.cos(az))
    return ((height - z0) / distance).max(axis=1)


@dataclass(frozen=True)
class _OpenPlane:
    """Hourly Perez components on one plane with nothing around it, from pvlib. [W m-2]"""

    direct: np.ndarray  # beam + circumsolar
    isotropic: np.ndarray
    horizon: np.ndarray
    ground: np.ndarray


def _day_of_year(weather: Weather) -> np.ndarray:
    return pd.DatetimeIndex(weather.data.index).day_of_year.to_numpy()


def _pixel_centres(
    transform: Affine, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    return transform.c + (cols + 0.5) * transform.a, transform.f + (rows + 0.5) * transform.e


def _open_plane(
    weather: Weather, solpos: pd.DataFrame, tilt: float, azimuth: float, albedo: float
) -> _OpenPlane:
    data = weather.data
    zenith, sun_azimuth = solpos["apparent_zenith"], solpos["azimuth"]
    components = pd.DataFrame(
        pvlib.irradiance.perez(
            tilt,
            azimuth,
            data["dhi"],
            data["dni"],
            pvlib.irradiance.get_extra_radiation(_day_of_year(weather)),
            zenith,
            sun_azimuth,
            pvlib.atmosphere.get_relative_airmass(zenith),
            return_components=True,
        )
    ).fillna(0.0)  # pvlib gives NaN in the few hours where dhi and dni are both 0
    beam = pvlib.irradiance.beam_component(tilt, azimuth, zenith, sun_azimuth, data["dni"])
    return _OpenPlane(
        direct=beam.fillna(0.0).to_numpy() + components["poa_circumsolar"].to_numpy(),
        isotropic=components["poa_isotropic"].to_numpy(),
        horizon=components["poa_horizon"].to_numpy(),
        ground=pvlib.irradiance.get_ground_diffuse(tilt, data["ghi"], albedo=albedo).to_numpy(),
    )


def _reference_annual(
    surface_z: np.ndarray,
    transform: Affine,
    point: tuple[float, float, float],
    tilt: float,
    azimuth: float,
    open_plane: _OpenPlane,
    solpos: pd.DataFrame,
) -> float:
    """Annual irradiation of one point of a roof by brute force. [kWh m-2]

    - beam and circumsolar: the hours when a ray toward the sun clears the surface;
    - isotropic sky: times the plane's cosine-weighted view of the sky above the point's
      horizon, integrated numerically (1° of azimuth, 0.05° of elevation) with the
      horizon marched every 1° of azimuth, over the same with no horizon,
      (1 + cos tilt) / 2;
    - horizon band: times the same view restricted to the band from 0 to 6.5°;
    - ground reflection: kept.
    """
    x, y, z0 = point
    elevation = solpos["apparent_elevation"].to_numpy()
    sun_azimuth = solpos["azimuth"].to_numpy()
    hours = np.flatnonzero((elevation > 0.0) & (open_plane.direct > 0.0))
    rise = _steepest_rise(surface_z, transform, x, y, z0, sun_azimuth[hours])
    lit = np.tan(np.radians(elevation[hours])) > rise

    psi_deg = np.arange(360) + 0.5
    psi = np.radians(psi_deg)
    e = np.radians(np.arange(0.0, 90.0, 0.05) + 0.025)
    horizon = np.arctan(np.maximum(_steepest_rise(surface_z, transform, x, y, z0, psi_deg), 0.0))
    beta, gamma = math.radians(tilt), math.radians(azimuth)
    cos_incidence = (
        math.cos(beta) * np.sin(e)[None, :]
        + math.sin(beta) * np.cos(e)[None, :] * np.cos(psi - gamma)[:, None]
    )
    weight = np.maximum(cos_incidence, 0.0) * np.cos(e)[None, :] * (math.radians(1.0) ** 2 / 20)
    visible = e[None, :] > horizon[:, None]
    sky_view = (weight * visible).sum() / math.pi / ((1.0 + math.cos(beta)) / 2.0)
    band = e < math.radians(HORIZON_BAND)
    band_open = (weight * visible * band).sum() / (weight * band).sum()
    wh = (
        (open_plane.direct[hours] * lit).sum()
        + sky_view * open_plane.isotropic.sum()
        + band_open * open_plane.horizon.sum()
        + open_plane.ground.sum()
    )
    return float(wh / 1000.0)


def test_block_scene_matches_a_ray_marching_reference(
    plain: Built, blocked: Built, weather: Weather
) -> None:
    solpos = solar_position(weather)
    albedo = build.BuildOptions().albedo
    open_plane = _open_plane(weather, solpos, TILT, 180.0, albedo)
    cx, cy = scenes.CENTRE
    slope = math.tan(math.radians(TILT))

    def on_face(dx: float, dy: float) -> tuple[float, float, float]:
        # the point on the face's plane, as the build moves its pixels onto it
        return cx + dx, cy + dy, scenes.GROUND + EAVE + (HALF_WIDTH + dy) * slope

    # The reference itself: without the block it must find pvlib's open plane.
    z_plain = plain.scene.surface.elevation.astype(np.float64)
    open_reference = _reference_annual(
        z_plain,
        plain.scene.surface.transform,
        on_face(0.25, -2.25),
        TILT,
        180.0,
        open_plane,
        solpos,
    )
    data = weather.data
    pvlib_open = pvlib.irradiance.get_total_irradiance(
        TILT,
        180.0,
        solpos["apparent_zenith"],
        solpos["azimuth"],
        data["dni"],
        data["ghi"],
        data["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(_day_of_year(weather)),
        airmass=pvlib.atmosphere.get_relative_airmass(solpos["apparent_zenith"]),
        albedo=albedo,
        model="perez",
    )["poa_global"]
    # 0.01%: the quadrature of the sky integral (1° x 0.05° cells) under an open sky
    assert open_reference == pytest.approx(pvlib_open.sum() / 1000.0, rel=1e-4)

    surface = blocked.scene.surface
    z = surface.elevation.astype(np.float64)
    annual = blocked.annual_raster()
    inverse = ~surface.transform
    ratios: list[float] = []
    # A 3 x 3 pattern over the south face (x from -6 to 6 m, y from -4 to 0 m around the
    # centre): 0.75, 1.75 and 2.75 m below the ridge, 3 m either side of the middle and in
    # it, on pixel centres.
    for dx in (-3.25, 0.25, 3.25):
        for dy in (-1.25, -2.25, -3.25):
            point = on_face(dx, dy)
            col, row = inverse * point[:2]
            built_value = annual[int(row), int(col)]
            assert built_value is not np.ma.masked, (dx, dy)
            reference = _reference_annual(
                z, surface.transform, point, TILT, 180.0, open_plane, solpos
            )
            ratios.append(float(built_value) / reference - 1.0)
    error = np.array(ratios)
    # 2% per point, the acceptance bound. The build interpolates horizons between 5° sectors, across
    # the block's corners where the true horizon jumps: single pixels move by up to 2% either
    # way (with 360 sectors these points agree within 0.8%). Such errors of both signs
    # cancel over the pattern, a bias would not: 1% on the mean.
    assert np.abs(error).max() < 0.02, np.round(100 * error, 2)
    assert abs(error.mean()) < 0.01
    # The face's own figure is the mean of its pixels' lit flags and sky views: it agrees
    # with the mean of its pixels in the raster up to the dark-sky clipping, which the
    # pixels skip (irradiance.diffuse_terms), and the outline's edge pixels.
    face = blocked.face(180.0).irradiation_kwh_m2_yr
    assert face / _face_pixels(blocked, 180.0).mean() == pytest.approx(1.0, abs=0.005)


def _face_pixels(built: Built, azimuth: float) -> np.ndarray:
    """Raster values of the pixels inside one face's outline. [kWh m-2]"""
    annual = built.annual_raster()
    rows, cols = np.nonzero(~np.ma.getmaskarray(annual))
    x, y = _pixel_centres(built.scene.surface.transform, rows, cols)
    inside = shapely.contains_xy(built.face(azimuth).geometry, x, y)
    return np.asarray(annual[rows[inside], cols[inside]])


# --- trees --------------------------------------------------------------------------------


def _crown_points(surface_vegetation: np.ndarray, transform: Affine) -> np.ndarray:
    rows, cols = np.nonzero(surface_vegetation)
    assert rows.size > 20
    return shapely.points(*_pixel_centres(transform, rows, cols))


def _assert_crown_is_no_face(built: Built, vegetation: np.ndarray) -> None:
    """Two faces, the gable's, none of them over the crown, no irradiation under it."""
    assert len(built.faces) == 2
    for face, azimuth in ((built.face(180.0), 180.0), (built.face(0.0), 0.0)):
        # the roof segmentation's tolerances for the analytic scenes
        assert face.tilt_deg == pytest.approx(TILT, abs=1.5)
        assert face.azimuth_deg is not None
        assert abs((face.azimuth_deg - azimuth + 180.0) % 360.0 - 180.0) < 3.0
        crown = _crown_points(vegetation, built.scene.surface.transform)
        assert not shapely.covers(face.geometry, crown).any(), face.face_id
    rows, cols = np.nonzero(vegetation)
    assert np.ma.getmaskarray(built.annual_raster())[rows, cols].all()


@pytest.fixture(scope="module")
def treeless(workdir: Path, weather: Weather) -> Built:
    return _build(scenes.gable_with_casters(TILT, half_size=20.0), "treeless", workdir, weather)


@pytest.mark.parametrize("classes", [True, False], ids=["laz_classes", "dsm_alone"])
def test_crown_south_of_the_roof_shades_it_and_is_never_a_face(
    classes: bool, treeless: Built, workdir: Path, weather: Weather
) -> None:
    """From a classified LAZ the crown is vegetation; from a DSM alone it is only a height
    outside every footprint, so it casts and cannot be roof either way."""
    scene = scenes.gable_with_casters(TILT, crown=CROWN, half_size=20.0, classes=classes)
    built = _build(scene, f"crown_{classes}", workdir, weather)
    # the same scene with classes, for the crown's pixels
    vegetation = scenes.gable_with_casters(TILT, crown=CROWN, half_size=20.0, classes=True)
    assert vegetation.surface.vegetation is not None
    _assert_crown_is_no_face(built, vegetation.surface.vegetation)
    shaded = built.face(180.0)
    # The crown rises 6 m above the eave within 7 m of it: it hides the winter sun from
    # most of the face. 5% is far above the open face's own 0.5% of artefacts.
    assert shaded.irradiation_kwh_m2_yr < 0.95 * treeless.face(180.0).irradiation_kwh_m2_yr
    assert shaded.shading_loss_pct > 5.0
    # the north face stands behind the ridge, out of the crown's reach at any sun height
    # that lights it; 0.5 kWh m-2 is the rounding of two stored values
    assert built.face(0.0).irradiation_kwh_m2_yr == pytest.approx(
        treeless.face(0.0).irradiation_kwh_m2_yr, abs=0.5
    )


def test_crown_over_the_roof_from_laz_classes_shades_it_and_is_never_a_face(
    workdir: Path, weather: Weather
) -> None:
    scene = scenes.gable(TILT, 180.0, tree=(3.0, 1.0), classes=True)
    assert scene.surface.vegetation is not None
    built = _build(scene, "crown_over", workdir, weather)
    bare = _build(scenes.gable(TILT, 180.0, classes=True), "crown_over_bare", workdir, weather)
    _assert_crown_is_no_face(built, scene.surface.vegetation)
    # The crown stands 1 m above the ridge over the face's lower part: the rest of the face
    # lies north of it, in its shade whenever the sun is low in the south.
    assert built.face(180.0).irradiation_kwh_m2_yr < 0.95 * bare.face(180.0).irradiation_kwh_m2_yr
    assert built.face(180.0).area_m2 < bare.face(180.0).area_m2


# --- monthly figures ----------------------------------------------------------------------


def test_monthly_figures_add_up_to_the_year(plain: Built, blocked: Built) -> None:
    for built in (plain, blocked):
        assert built.faces
        profiles = Cadastre(built.summary.path).profiles([f.face_id for f in built.faces])
        month = pd.date_range("2023-01-01", periods=8760, freq="h").month.to_numpy()
        for face in built.faces:
            # the brief's 0.5%; the stored values are rounded to 0.01 and 0.1
            assert sum(face.irradiation_monthly_kwh_m2) == pytest.approx(
                face.irradiation_kwh_m2_yr, rel=5e-3
            )
            assert face.kwc > 0
            # 12 values rounded to 0.01 kWh and a total rounded to 0.1 kWh
            assert sum(face.production_monthly_kwh) == pytest.approx(
                face.production_kwh_yr, abs=12 * 0.005 + 0.05
            )
            # the hourly profile, shade included, gives the same months (its 1e-4 kWh/kWc
            # steps add up to far less than 0.5%)
            by_month = np.bincount(month - 1, weights=profiles[face.face_id]) * face.kwc
            np.testing.assert_allclose(by_month, face.production_monthly_kwh, rtol=5e-3)
        assert built.summary.raster_path is not None
        with rasterio.open(built.summary.raster_path) as src:
            bands = src.read(masked=True)
        # the bands are stored rounded: the year to raster.ANNUAL_STEP, each month to
        # raster.MONTHLY_STEP
        np.testing.assert_allclose(
            bands[1:].sum(axis=0).compressed(),
            bands[0].compressed(),
            rtol=1e-4,
            atol=raster.ANNUAL_STEP / 2 + 12 * raster.MONTHLY_STEP / 2,
        )
    # the block takes from every month but adds to none
    south_plain = np.array(plain.face(180.0).irradiation_monthly_kwh_m2)
    south_blocked = np.array(blocked.face(180.0).irradiation_monthly_kwh_m2)
    assert (south_blocked < south_plain).all()
