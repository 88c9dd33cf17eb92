"""Monte Carlo bands on production, savings and payback."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pvlib
import pytest

from solar.household.economics import TariffTable
from solar.household.loadcurves import standard_profile
from solar.household.selfconsumption import Battery, annual_energy
from solar.household.uncertainty import (
    ORIENTATION_AZIMUTHS,
    ORIENTATION_TILTS,
    Spreads,
    _interpolate,
    monte_carlo,
    orientation_factor,
    orientation_factors,
)
from solar.resources import DATA_DIR

WEATHER = DATA_DIR / "weather" / "tmy_50.811_3.310_2005_2020.csv"
CALENDAR = pd.date_range("2023-01-01", periods=8760, freq="h", tz="UTC")
POSITION = pvlib.solarposition.get_solarposition(CALENDAR + pd.Timedelta("30min"), 50.811, 3.310)
ELEVATION = np.clip(np.sin(np.radians(POSITION["apparent_elevation"].to_numpy())), 0, None)
PV = ELEVATION / ELEVATION.sum() * 6.0 * 950.0  # 6 kWc, 950 kWh/kWc
LOAD = standard_profile("RES1", 4500.0)
TARIFFS = TariffTable.load().at(dt.date(2026, 2, 1), 6.0)
TARIFFS_BATTERY = TariffTable.load().at(dt.date(2026, 2, 1), 6.0, battery_kwh=5.0)


def run(**kwargs):
    args = {
        "kwc": 6.0,
        "tariffs": TARIFFS,
        "surface_tilt": 35.0,
        "surface_azimuth": 180.0,
        "n_samples": 1000,
        "years": 25,
        # the expectations below are worked out against 14 % nominal losses
        "nominal_losses": 0.14,
    }
    args.update(kwargs)
    return monte_carlo(PV, LOAD, **args)


def bands(result):
    return [
        result.production_kwh_yr,
        result.annual_savings_eur,
        result.payback_years,
        result.self_consumption_rate,
    ]


def width(band):
    return band.p90 - band.p10


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"battery": Battery(5.0, 2.5), "tariffs": TARIFFS_BATTERY}, {"seed": 7}],
    ids=["plain", "battery", "seed7"],
)
def test_percentiles_are_ordered(kwargs):
    result = run(**kwargs)
    for band in bands(result):
        values = [band.p10, band.p50, band.p90]
        # None is a payback beyond the horizon: it can only be the slow end of the band.
        finite = [v for v in values if v is not None]
        assert values[: len(finite)] == finite
        assert finite == sorted(finite)
        assert band.p10 is not None
    assert result.production_kwh_yr.p50 == pytest.approx(PV.sum(), rel=0.05)


def test_certain_inputs_collapse_the_band_to_the_nominal_case():
    result = run(spreads=Spreads.certain(0.14))
    energy = annual_energy(PV, LOAD)
    assert result.production_kwh_yr.p10 == pytest.approx(PV.sum(), rel=1e-12)
    assert result.production_kwh_yr.p90 == pytest.approx(PV.sum(), rel=1e-12)
    savings = energy.self_supplied_kwh * TARIFFS.electricity_eur_kwh
    assert result.annual_savings_eur.p10 == pytest.approx(savings, rel=1e-9)
    assert result.annual_savings_eur.p90 == pytest.approx(savings, rel=1e-9)
    assert width(result.payback_years) == pytest.approx(0.0, abs=1e-9)


def test_the_band_narrows_as_the_inputs_get_more_certain():
    default = Spreads()
    half = Spreads(
        weather_sd=default.weather_sd / 2,
        tilt_sd_deg=default.tilt_sd_deg / 2,
        azimuth_sd_deg=default.azimuth_sd_deg / 2,
        losses_min=0.12,
        losses_max=0.16,
        consumption_sd=default.consumption_sd / 2,
    )
    wide, narrow, none = run(), run(spreads=half), run(spreads=Spreads.certain())
    for w, n, z in zip(bands(wide), bands(narrow), bands(none), strict=True):
        if w.p90 is None:
            continue
        assert width(w) > width(n) > width(z) - 1e-12


def test_each_input_widens_its_own_outputs():
    only_consumption = run(spreads=dataclasses.replace(Spreads.certain(), consumption_sd=0.15))
    assert width(only_consumption.production_kwh_yr) == pytest.approx(0.0, abs=1e-6)
    assert width(only_consumption.annual_savings_eur) > 10.0
    only_weather = run(spreads=dataclasses.replace(Spreads.certain(), weather_sd=0.045))
    # Normal(1, 4.5 %): P10 to P90 is 2 x 1.2816 x 4.5 % of the production.
    assert width(only_weather.production_kwh_yr) / PV.sum() == pytest.approx(
        2 * 1.2816 * 0.045, rel=0.1
    )
    only_losses = run(
        spreads=dataclasses.replace(Spreads.certain(), losses_min=0.10, losses_max=0.18)
    )
    # Uniform losses 10-18 % against 14 %: P10 at 17.2 %, P90 at 10.8 %.
    assert only_losses.production_kwh_yr.p10 / PV.sum() == pytest.approx(0.828 / 0.86, rel=0.01)
    assert only_losses.production_kwh_yr.p90 / PV.sum() == pytest.approx(0.892 / 0.86, rel=0.01)
    measured = run(spreads=Spreads.for_measured_load())
    assert width(measured.annual_savings_eur) < width(run().annual_savings_eur)


def test_the_draw_is_reproducible():
    assert run(seed=3) == run(seed=3)
    assert run(seed=3).annual_savings_eur != run(seed=4).annual_savings_eur


def test_the_grid_interpolation_tracks_direct_simulations():
    battery = Battery(5.0, 2.5)
    nodes_a = np.linspace(0.7, 1.3, 13)
    nodes_b = np.linspace(0.6, 1.4, 13)
    grid = np.array(
        [
            [annual_energy(PV * a, LOAD * b, battery).self_supplied_kwh for b in nodes_b]
            for a in nodes_a
        ]
    )
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.7, 1.3, 20), rng.uniform(0.6, 1.4, 20)
    interpolated = _interpolate(nodes_a, nodes_b, grid, a, b)
    direct = np.array(
        [
            annual_energy(PV * x, LOAD * y, battery).self_supplied_kwh
            for x, y in zip(a, b, strict=True)
        ]
    )
    np.testing.assert_allclose(interpolated, direct, rtol=0.003)


# --------------------------------------------------------------------------- orientation


def test_orientation_factor_shape_and_landmarks():
    factors = orientation_factors()
    assert factors.shape == (ORIENTATION_TILTS.size, ORIENTATION_AZIMUTHS.size) == (19, 25)
    assert not factors.flags.writeable
    assert orientation_factors() is factors  # computed once per process
    # the best plane of the grid: about 40° facing due south in the Artois
    i, j = np.unravel_index(np.argmax(factors), factors.shape)
    assert factors[i, j] == 1.0
    assert abs(ORIENTATION_AZIMUTHS[j] - 182.0) <= 7.5  # half a step of the grid
    assert 30.0 <= ORIENTATION_TILTS[i] <= 45.0
    assert float(orientation_factor(ORIENTATION_TILTS[i], ORIENTATION_AZIMUTHS[j])) == 1.0
    # a flat plane has no azimuth
    flat = orientation_factor(0.0, [0.0, 90.0, 180.0, 333.0])
    np.testing.assert_allclose(flat, flat[0], rtol=1e-6)
    # A plane tilted -20° towards the north is the plane tilted 20° towards the south.
    assert float(orientation_factor(-20.0, 0.0)) == pytest.approx(
        float(orientation_factor(20.0, 180.0))
    )
    # Halfway between two tilts of the table: the mean of the two.
    assert float(orientation_factor(37.5, 180.0)) == pytest.approx(
        (factors[7, 12] + factors[8, 12]) / 2
    )
    assert float(orientation_factor(90.0, 0.0)) < 0.3


@pytest.mark.parametrize(
    ("tilt", "azimuth"), [(0.0, 180.0), (30.0, 180.0), (45.0, 90.0), (90.0, 270.0), (15.0, 0.0)]
)
def test_orientation_factor_matches_pvlib_on_the_artois_tmy(tilt, azimuth):
    # pvlib's own chain, with the sun 10 min after each PVGIS label as solar.weather sets it
    weather = pd.read_csv(WEATHER)
    position = pvlib.solarposition.get_solarposition(
        CALENDAR + pd.Timedelta("10min"), 50.811, 3.310
    )
    zenith = position["apparent_zenith"].to_numpy()
    dni_extra = pvlib.irradiance.get_extra_radiation(np.asarray(CALENDAR.day_of_year))
    airmass = pvlib.atmosphere.get_relative_airmass(zenith)

    def annual(t, a):
        poa = pvlib.irradiance.get_total_irradiance(
            t,
            a,
            zenith,
            position["azimuth"].to_numpy(),
            weather["Gb(n)"].to_numpy(),
            weather["G(h)"].to_numpy(),
            weather["Gd(h)"].to_numpy(),
            dni_extra=dni_extra,
            airmass=airmass,
            model="perez",
            albedo=0.2,
        )
        return np.nansum(poa["poa_global"])

    expected = annual(tilt, azimuth) / annual(40.0, 180.0)
    assert float(orientation_factor(tilt, azimuth)) == pytest.approx(expected, abs=0.002)


def test_bad_spreads_are_rejected():
    from solar.errors import InputError

    with pytest.raises(InputError):
        Spreads(weather_sd=-0.1)
    with pytest.raises(InputError):
        Spreads(losses_min=0.2, losses_max=0.1)
    with pytest.raises(InputError):
        run(n_samples=5)
