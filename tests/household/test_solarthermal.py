"""Solar water heater (CESI): sizing and f-chart solar fraction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pvlib
import pytest

from solar.errors import InputError
from solar.household.solarthermal import Collector, mains_temperature, simulate_cesi, size_cesi
from solar.resources import DATA_DIR

WEATHER = DATA_DIR / "weather"
CALENDAR = pd.date_range("2023-01-01", periods=8760, freq="h", tz="UTC")


def monthly_climate(name: str, tilt: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    """Monthly irradiation on a south plane [kWh m-2] (isotropic sky) and air temperature."""
    weather = pd.read_csv(WEATHER / name)
    position = pvlib.solarposition.get_solarposition(CALENDAR + pd.Timedelta("30min"), 50.8, 3.3)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt,
        180.0,
        position["apparent_zenith"].to_numpy(),
        position["azimuth"].to_numpy(),
        weather["Gb(n)"].to_numpy(),
        weather["G(h)"].to_numpy(),
        weather["Gd(h)"].to_numpy(),
        model="isotropic",
    )
    month = CALENDAR.month.to_numpy()
    irradiation = np.bincount(month, weights=np.asarray(poa["poa_global"]))[1:] / 1000
    temperature = np.bincount(month, weights=weather["T2m"].to_numpy())[1:] / np.bincount(month)[1:]
    return irradiation, temperature


ARTOIS = monthly_climate("tmy_50.811_3.310_2005_2020.csv")


@pytest.mark.parametrize(
    ("persons", "area", "tank"),
    [
        (1, 3.0, 150.0),
        (3, 3.0, 150.0),
        (4, 4.0, 200.0),
        (5, 5.0, 250.0),
        (7, 8.0, 400.0),
        (12, 12.0, 600.0),
    ],
)
def test_sizing_rules(persons, area, tank):
    assert size_cesi(persons) == (area, tank)


def test_fractions_are_between_0_and_1():
    result = simulate_cesi(*ARTOIS, 4)
    assert all(0.0 <= f <= 1.0 for f in result.monthly_solar_fraction)
    assert 0.0 <= result.annual_solar_fraction <= 1.0
    dark = simulate_cesi(np.zeros(12), ARTOIS[1], 4)
    assert dark.annual_solar_fraction == 0.0
    assert dark.heat_saved_kwh_yr == 0.0
    blazing = simulate_cesi(np.full(12, 2000.0), ARTOIS[1], 4)
    assert blazing.monthly_solar_fraction == (1.0,) * 12


def test_more_collector_gives_a_larger_fraction():
    fractions = [
        simulate_cesi(*ARTOIS, 4, collector_area_m2=a, tank_l=200.0).annual_solar_fraction
        for a in (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
    ]
    assert np.all(np.diff(fractions) > 0)


@pytest.mark.parametrize(
    "name", ["tmy_50.811_3.310_2005_2020.csv", "tmy_50.911_3.192_2005_2020.csv"]
)
def test_a_4_m2_200_l_system_for_four_in_the_artois(name):
    result = simulate_cesi(*monthly_climate(name), 4)
    assert result.collector_area_m2 == 4.0
    assert result.tank_l == 200.0
    # French references for northern France: a 40 - 60 % annual solar fraction.
    assert 0.40 <= result.annual_solar_fraction <= 0.60
    # Summer is nearly covered, winter barely.
    assert result.monthly_solar_fraction[6] > 0.7
    assert result.monthly_solar_fraction[11] < 0.35
    assert result.heat_saved_kwh_yr == pytest.approx(
        result.annual_solar_fraction * result.annual_load_kwh, rel=1e-12
    )


def test_load_by_hand():
    temperature = np.full(12, 10.0)
    result = simulate_cesi(np.full(12, 100.0), temperature, 2, hot_water_temp=45.0)
    mains = mains_temperature(temperature)
    np.testing.assert_allclose(mains, (10 * 9 / 5 + 32 + 6 - 32) * 5 / 9)  # flat climate
    january_draw = 100 * 31 * 4186 * (45 - mains[0]) / 3.6e6  # 2 x 50 L a day
    january_tank = 1.0 * (150 / 200) ** (2 / 3) * (45 - 20) / 45 * 31
    assert result.monthly_load_kwh[0] == pytest.approx(january_draw + january_tank, rel=1e-12)
    assert result.monthly_tank_loss_kwh[0] == pytest.approx(january_tank, rel=1e-12)


def test_mains_temperature_follows_burch_and_christensen():
    temperature = ARTOIS[1]
    t_avg = temperature.mean() * 1.8 + 32
    spread = (temperature.max() - temperature.min()) * 1.8
    ratio = 0.4 + 0.01 * (t_avg - 44)
    lag = 35 - (t_avg - 44)
    days = (
        np.cumsum([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
        - np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]) / 2
    )
    expected_f = [
        t_avg + 6 + ratio * spread / 2 * math.sin(math.radians(0.986 * (d - 15 - lag) - 90))
        for d in days
    ]
    np.testing.assert_allclose(mains_temperature(temperature), (np.array(expected_f) - 32) / 1.8)


def test_f_chart_by_hand_for_one_month():
    # One month computed by hand with Duffie & Beckman's correlation.
    poa, temp = np.full(12, 120.0), np.full(12, 12.0)
    result = simulate_cesi(poa, temp, 4, collector=Collector())
    mains = mains_temperature(temp)[0]
    load = 200 * 31 * 4186 * (45 - mains) + 1.0 * (25 / 45) * 31 * 3.6e6
    x = 4.0 * 0.95 * (100 - 12) * 31 * 86400 * 4 / load
    x *= (200 / 4 / 75) ** -0.25 * (11.6 + 1.18 * 45 + 3.86 * mains - 2.32 * 12) / (100 - 12)
    y = 0.75 * 0.95 * 0.94 * 120 * 3.6e6 * 4 / load
    f = 1.029 * y - 0.065 * x - 0.245 * y**2 + 0.0018 * x**2 + 0.0215 * y**3
    assert result.monthly_solar_fraction[0] == pytest.approx(f, rel=1e-12)


def test_hotter_water_means_a_larger_load():
    warm = simulate_cesi(*ARTOIS, 4, hot_water_temp=55.0)
    tepid = simulate_cesi(*ARTOIS, 4)
    assert warm.annual_load_kwh > tepid.annual_load_kwh * 1.2


def test_bad_inputs():
    with pytest.raises(InputError):
        size_cesi(0)
    with pytest.raises(InputError):
        simulate_cesi(np.zeros(11), np.zeros(12), 4)
    with pytest.raises(InputError):
        simulate_cesi(np.full(12, -1.0), np.zeros(12), 4)
