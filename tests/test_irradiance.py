"""Plane-of-array irradiance: equal to pvlib's Perez, and shading that acts where it should."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from solar.calendar import HOURS_PER_YEAR, monthly_sums
from solar.irradiance import (
    PEREZ_COEFFICIENTS,
    PEREZ_MODEL,
    PlaneOfArray,
    Shading,
    optimal_orientation,
    poa_irradiance,
    poa_sums,
    point_irradiation,
)
from solar.resources import DEFAULT_WEATHER
from solar.weather import Weather, read_weather, solar_position

# (tilt, azimuth): south 35°, flat (NaN), north 40°, west wall, east 20°, SSW 60°.
PLANES = [(35.0, 180.0), (12.0, np.nan), (40.0, 0.0), (90.0, 270.0), (20.0, 100.0), (60.0, 200.0)]


@pytest.fixture(scope="module")
def weather() -> Weather:
    return read_weather(DEFAULT_WEATHER)


@pytest.fixture(scope="module")
def solpos(weather: Weather) -> pd.DataFrame:
    return solar_position(weather)


@pytest.fixture(scope="module")
def open_sky(weather: Weather, solpos: pd.DataFrame) -> PlaneOfArray:
    tilt, azimuth = zip(*PLANES, strict=True)
    return poa_irradiance(weather, solpos, tilt, azimuth)


def pvlib_perez(
    weather: Weather, solpos: pd.DataFrame, tilt: float, azimuth: float
) -> pd.DataFrame:
    """pvlib's own Perez transposition, the reference."""
    if np.isnan(azimuth):
        # A flat face is horizontal, where pvlib's result does not depend on the azimuth.
        tilt, azimuth = 0.0, 0.0
    data = weather.data
    total = pvlib.irradiance.get_total_irradiance(
        tilt,
        azimuth,
        solpos["apparent_zenith"],
        solpos["azimuth"],
        data["dni"],
        data["ghi"],
        data["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(data.index.day_of_year.to_numpy()),
        airmass=pvlib.atmosphere.get_relative_airmass(solpos["apparent_zenith"]),
        albedo=0.2,
        model="perez",
        diffuse_components=True,
    )
    # pvlib returns NaN when dhi = dni = 0 with the sun up (no Perez sky bin): no light.
    return total.fillna(0.0)


@pytest.mark.parametrize("k", range(len(PLANES)))
def test_open_sky_equals_pvlib_perez(
    weather: Weather, solpos: pd.DataFrame, open_sky: PlaneOfArray, k: int
) -> None:
    reference = pvlib_perez(weather, solpos, *PLANES[k])
    assert open_sky.annual_kwh_m2[k] == pytest.approx(
        reference["poa_global"].sum() / 1000, rel=0.005
    )
    assert_allclose(open_sky.poa_global[k], reference["poa_global"], atol=0.05)
    # Components: direct = beam + circumsolar; diffuse = isotropic + horizon + ground.
    assert_allclose(
        open_sky.poa_direct[k], reference["poa_direct"] + reference["poa_circumsolar"], atol=0.05
    )
    assert_allclose(
        open_sky.poa_diffuse[k],
        reference["poa_isotropic"] + reference["poa_horizon"] + reference["poa_ground_diffuse"],
        atol=0.05,
    )


def test_flat_none_azimuth_is_horizontal(weather: Weather, solpos: pd.DataFrame) -> None:
    tilt = [0.0, 30.0, 0.0, 0.0]
    azimuth = np.array([None, None, 90.0, 250.0], dtype=float)
    out = poa_irradiance(weather, solpos, tilt, azimuth)
    reference = pvlib_perez(weather, solpos, 0.0, 0.0)["poa_global"]
    assert_allclose(out.poa_global, np.vstack([reference] * 4), atol=0.05)


def test_vendored_perez_coefficients_are_pvlibs() -> None:
    # pvlib keeps its tables private: this checks that the copy has not drifted from them.
    from pvlib.irradiance import _get_perez_coefficients

    f1, f2 = _get_perez_coefficients(PEREZ_MODEL)
    assert_array_equal(PEREZ_COEFFICIENTS, np.hstack([f1, f2]))
    # Two entries read off Perez et al. (1990), table 6: F11 of the overcast bin, F23 of the
    # clearest.
    assert (PEREZ_COEFFICIENTS[0, 0], PEREZ_COEFFICIENTS[7, 5]) == (-0.008, 0.251)


def test_full_view_shading_changes_nothing(
    weather: Weather, solpos: pd.DataFrame, open_sky: PlaneOfArray
) -> None:
    n = len(PLANES)
    tilt, azimuth = zip(*PLANES, strict=True)
    clear = Shading(np.ones((n, HOURS_PER_YEAR)), np.ones(n), np.ones(n))
    shaded = poa_irradiance(weather, solpos, tilt, azimuth, shading=clear)
    assert_allclose(shaded.poa_global, open_sky.poa_global, atol=1e-3)


def _one(
    weather: Weather, solpos: pd.DataFrame, lit: float, sky: float, band: float
) -> PlaneOfArray:
    shading = Shading(np.full((1, HOURS_PER_YEAR), lit), np.array([sky]), np.array([band]))
    return poa_irradiance(weather, solpos, [35.0], [180.0], shading=shading)


def test_no_sun_removes_beam_and_circumsolar(weather: Weather, solpos: pd.DataFrame) -> None:
    out = _one(weather, solpos, lit=0.0, sky=1.0, band=1.0)
    reference = pvlib_perez(weather, solpos, 35.0, 180.0)
    assert out.poa_direct.max() == 0.0
    # Where pvlib does not clip its sky diffuse, the rest is what pvlib says.
    expected = (
        reference["poa_isotropic"] + reference["poa_horizon"] + reference["poa_ground_diffuse"]
    )
    unclipped = (reference["poa_isotropic"] + reference["poa_horizon"]).to_numpy() > 0
    assert_allclose(out.poa_global[0, unclipped], expected[unclipped], atol=0.05)
    assert out.annual_kwh_m2[0] < 0.6 * reference["poa_global"].sum() / 1000


def test_half_lit_halves_the_direct(
    weather: Weather, solpos: pd.DataFrame, open_sky: PlaneOfArray
) -> None:
    out = _one(weather, solpos, lit=0.5, sky=1.0, band=1.0)
    assert_allclose(out.poa_direct[0], 0.5 * open_sky.poa_direct[0], rtol=1e-5, atol=0.05)
    assert_allclose(out.poa_diffuse[0], open_sky.poa_diffuse[0], atol=0.05)


def test_half_sky_view_removes_half_the_isotropic(
    weather: Weather, solpos: pd.DataFrame, open_sky: PlaneOfArray
) -> None:
    out = _one(weather, solpos, lit=1.0, sky=0.5, band=1.0)
    iso = pvlib_perez(weather, solpos, 35.0, 180.0)["poa_isotropic"].to_numpy()
    lost = open_sky.poa_diffuse[0] - out.poa_diffuse[0]
    assert_allclose(lost, 0.5 * iso, atol=0.05)
    assert out.annual_kwh_m2[0] < open_sky.annual_kwh_m2[0] - 100.0
    assert_allclose(out.poa_direct[0], open_sky.poa_direct[0], atol=0.05)


def test_closed_horizon_band_removes_the_horizon_term(
    weather: Weather, solpos: pd.DataFrame, open_sky: PlaneOfArray
) -> None:
    out = _one(weather, solpos, lit=1.0, sky=1.0, band=0.0)
    horizon = pvlib_perez(weather, solpos, 35.0, 180.0)["poa_horizon"].to_numpy()
    assert horizon.sum() > 10_000.0  # the band is bright on the whole: 10+ kWh/m2/yr
    assert_allclose(open_sky.poa_diffuse[0] - out.poa_diffuse[0], horizon, atol=0.05)
    assert out.annual_kwh_m2[0] < open_sky.annual_kwh_m2[0]


def test_fully_enclosed_face_keeps_only_the_ground(weather: Weather, solpos: pd.DataFrame) -> None:
    out = _one(weather, solpos, lit=0.0, sky=0.0, band=0.0)
    ground = pvlib.irradiance.get_ground_diffuse(35.0, weather.data["ghi"], albedo=0.2)
    assert_allclose(out.poa_global[0], ground, atol=0.01)
    assert out.poa_global.sum() > 0.0


def test_north_receives_less_than_south(open_sky: PlaneOfArray) -> None:
    south_35, north_40 = open_sky.annual_kwh_m2[0], open_sky.annual_kwh_m2[2]
    assert north_40 < 0.6 * south_35


def test_monthly_sums_add_up(open_sky: PlaneOfArray) -> None:
    monthly = open_sky.monthly_kwh_m2
    assert monthly.shape == (len(PLANES), 12)
    assert_allclose(monthly.sum(axis=1), open_sky.annual_kwh_m2, rtol=1e-9)
    # January by hand: the first 744 hours.
    assert monthly[0, 0] == pytest.approx(open_sky.poa_global[0, :744].sum() / 1000, rel=1e-6)
    assert monthly[0, 5] > 2 * monthly[0, 11]  # June against December


def test_albedo_changes_tilted_faces(weather: Weather, solpos: pd.DataFrame) -> None:
    low = poa_irradiance(weather, solpos, [35.0], [180.0], albedo=0.1).annual_kwh_m2[0]
    high = poa_irradiance(weather, solpos, [35.0], [180.0], albedo=0.4).annual_kwh_m2[0]
    # ghi · Δalbedo · (1 - cos 35°) / 2 = 1099.7 · 0.3 · 0.0904 = 29.8 kWh/m2.
    assert high - low == pytest.approx(1099.68 * 0.3 * (1 - np.cos(np.radians(35))) / 2, rel=1e-4)


def test_many_faces_in_blocks(weather: Weather, solpos: pd.DataFrame) -> None:
    rng = np.random.default_rng(7)
    tilt, azimuth = rng.uniform(0, 60, 37), rng.uniform(0, 360, 37)
    many = poa_irradiance(weather, solpos, tilt, azimuth)
    for k in (0, 17, 36):
        single = poa_irradiance(weather, solpos, [tilt[k]], [azimuth[k]])
        assert_allclose(many.poa_global[k], single.poa_global[0], atol=1e-3)


def test_open_faces_come_with_the_shaded_ones(weather: Weather, solpos: pd.DataFrame) -> None:
    rng = np.random.default_rng(3)
    tilt, azimuth = rng.uniform(0, 60, 5), rng.uniform(0, 360, 5)
    shading = Shading(
        rng.uniform(0, 1, (5, HOURS_PER_YEAR)), rng.uniform(0.3, 1, 5), rng.uniform(0, 1, 5)
    )
    both = poa_irradiance(weather, solpos, tilt, azimuth, shading=shading, with_open=True)
    alone = poa_irradiance(weather, solpos, tilt, azimuth, shading=shading)
    open_plane = poa_irradiance(weather, solpos, tilt, azimuth)
    assert both.open_direct is not None and both.open_annual_kwh_m2 is not None
    assert_allclose(both.poa_global, alone.poa_global, atol=1e-4)
    assert_allclose(both.open_direct, open_plane.poa_direct, atol=1e-3)
    assert_allclose(both.open_annual_kwh_m2, open_plane.annual_kwh_m2, rtol=1e-6)
    assert (both.annual_kwh_m2 < both.open_annual_kwh_m2).all()
    assert alone.open_direct is None


def test_poa_sums_are_the_hours_summed(weather: Weather, solpos: pd.DataFrame) -> None:
    # the monthly sums against poa_irradiance's hours, and the same open figures
    rng = np.random.default_rng(11)
    tilt, azimuth = zip(*PLANES, strict=True)
    n = len(PLANES)
    lit = rng.uniform(0, 1, (n, HOURS_PER_YEAR)) * (rng.random((n, HOURS_PER_YEAR)) < 0.8)
    shading = Shading(lit, rng.uniform(0.3, 1, n), rng.uniform(0, 1, n))
    hours = poa_irradiance(weather, solpos, tilt, azimuth, shading=shading, with_open=True)
    sums = poa_sums(weather, solpos, tilt, azimuth, shading=shading, with_open=True)
    assert sums.open_direct is not None and hours.open_direct is not None
    assert_array_equal(sums.open_direct, hours.open_direct)
    assert_allclose(sums.open_annual_kwh_m2, hours.open_annual_kwh_m2, rtol=1e-12)
    expected = monthly_sums(hours.poa_global.astype(np.float64)) / 1000.0
    assert_allclose(sums.monthly_kwh_m2, expected, rtol=1e-12)
    assert_allclose(sums.annual_kwh_m2, hours.annual_kwh_m2, rtol=1e-12)
    alone = poa_sums(weather, solpos, tilt, azimuth, shading=shading)
    assert alone.open_direct is None and alone.open_annual_kwh_m2 is None
    assert_array_equal(alone.monthly_kwh_m2, sums.monthly_kwh_m2)


def test_point_irradiation_adds_the_views_terms() -> None:
    # each point: its beam, plus its plane's diffuse terms scaled by its own views
    rng = np.random.default_rng(13)
    terms = tuple(rng.uniform(0, 300, (3, 13)) for _ in range(3))
    beam = rng.uniform(0, 900, (50, 13))
    sky, band, plane = rng.uniform(0, 1, 50), rng.uniform(0, 1, 50), rng.integers(0, 3, 50)
    out = point_irradiation(beam, sky, band, plane, terms)
    isotropic, horizon, ground = terms
    for p in (0, 17, 49):
        expected = [
            beam[p, m]
            + (sky[p] * isotropic[plane[p], m] + band[p] * horizon[plane[p], m])
            + ground[plane[p], m]
            for m in range(13)
        ]
        assert_allclose(out[p], expected, rtol=1e-15)
    with pytest.raises(ValueError, match="plane indices"):
        point_irradiation(beam, sky, band, plane + 3, terms)


def test_bad_shapes(weather: Weather, solpos: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="azimuths"):
        poa_irradiance(weather, solpos, [30.0, 20.0], [180.0])
    with pytest.raises(ValueError, match="lit_fraction"):
        poa_irradiance(
            weather,
            solpos,
            [30.0],
            [180.0],
            shading=Shading(np.ones((1, 10)), np.ones(1), np.ones(1)),
        )
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        poa_irradiance(
            weather,
            solpos,
            [30.0],
            [180.0],
            shading=Shading(np.ones((1, HOURS_PER_YEAR)), np.array([1.5]), np.ones(1)),
        )
    with pytest.raises(ValueError, match="lit_fraction"):
        lit = np.ones((1, HOURS_PER_YEAR))
        lit[0, 4000] = np.nan
        poa_irradiance(
            weather, solpos, [30.0], [180.0], shading=Shading(lit, np.ones(1), np.ones(1))
        )


def test_optimal_orientation_at_the_artois_site(
    weather: Weather, solpos: pd.DataFrame, open_sky: PlaneOfArray
) -> None:
    tilt, azimuth, irradiation = optimal_orientation(weather, solpos)
    assert 30.0 <= tilt <= 45.0
    assert 170.0 <= azimuth <= 190.0
    # It beats the usual 35° south, but only slightly: the optimum is flat.
    assert open_sky.annual_kwh_m2[0] <= irradiation < 1.01 * open_sky.annual_kwh_m2[0]
    # And its neighbours on the 1° grid do not beat it.
    around = poa_irradiance(
        weather,
        solpos,
        [tilt - 1, tilt + 1, tilt, tilt],
        [azimuth, azimuth, azimuth - 1, azimuth + 1],
    )
    assert (around.annual_kwh_m2 <= irradiation + 1e-6).all()
