"""Solar water heater (CESI, "chauffe-eau solaire individuel") for one household.

Sizing rules of thumb, then the monthly solar fraction by the f-chart method.

Sizing
------
- Hot water: 50 L per person and day at 45 °C, which is the same energy as the 35 L at
  60 °C per person and day of the INES simulator and within the 30 - 80 L/person/day
  (at 55 °C) quoted for French households by Solaire Diffusion's sizing guide, which
  reproduces ADEME's CESI table.
- Tank: one day of draw, 50 L per person, rounded up to a stock size (150, 200, 250,
  300, 400, 500 L): 200 L for four people.
- Collector: 1 m² of glazed flat-plate collector per 50 L of tank, i.e. about 1 m² per
  person: 4 m² for four people. That 50 L/m² is inside the f-chart's validity (37.5 -
  300 L/m²) and matches the 2 - 4 m² for 4 - 5 people that Viessmann gives for the north
  of France (1.3 m² per 75 L of daily need).

Monthly method: f-chart (Klein, Beckman and Duffie)
---------------------------------------------------
For a liquid system with a collector of area A, monthly load L [J], monthly irradiation
on the collector plane H_T [J m-2] and mean air temperature T_a [°C]::

    Y = F_R'(tau alpha)_n x [(tau alpha)/(tau alpha)_n] x H_T x A / L
    X = F_R'U_L x (100 - T_a) x dt x A / L x c_storage x c_dhw
    f = 1.029 Y - 0.065 X - 0.245 Y^2 + 0.0018 X^2 + 0.0215 Y^3,  clipped to [0, 1]

with dt the seconds in the month, the storage correction ``c_storage = (M / 75)^-0.25``
for M litres of tank per m² of collector, and the domestic-hot-water correction
``c_dhw = (11.6 + 1.18 T_w + 3.86 T_m - 2.32 T_a) / (100 - T_a)`` for a delivery
temperature T_w and a mains temperature T_m. The annual fraction weighs the months by
their load.

The load is the heat to warm the draw from T_m to T_w plus the tank's standing losses:
about 1 kWh a day for a new 200 L tank (Low-tech Lab, "L'énergie dans l'habitat") at the
45 K of the standard test, scaled with the tank's surface (volume^(2/3)) and with the
difference between T_w and a 20 °C room.

The mains water temperature follows the monthly air temperature with a damped, lagged
sine (Burch and Christensen, 2007, the correlation of EnergyPlus' Site:WaterMainsTemperature).

References
----------
.. [1] J. A. Duffie and W. A. Beckman, Solar Engineering of Thermal Processes, 4th ed.,
   Wiley, 2013, ch. 20 (the f-chart method) :doi:`10.1002/9781118671603`.
.. [2] S. A. Klein, W. A. Beckman and J. A. Duffie, "A design procedure for solar heating
   systems", Solar Energy 18, 113-127, 1976.
.. [3] J. Burch and C. Christensen, "Towards development of an algorithm for mains water
   temperature", Proc. ASES Solar 2007.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solar.calendar import MONTH_DAYS
from solar.errors import InputError

#: Daily hot-water draw per person at :data:`HOT_WATER_TEMP`. [L]
DRAW_L_PER_PERSON = 50.0
#: Delivery temperature of the draw. [°C]
HOT_WATER_TEMP = 45.0
#: Stock tank sizes. [L]
TANK_SIZES_L = (150, 200, 250, 300, 400, 500)
#: Tank volume per m² of collector for the sizing rule. [L m-2]
TANK_L_PER_M2 = 50.0
#: Standing loss of a 200 L tank at 45 K above the room. [kWh day-1]
TANK_LOSS_KWH_DAY_200L = 1.0

_MID_DAY = np.cumsum(MONTH_DAYS) - MONTH_DAYS / 2.0
# Volumetric heat capacity of water. [J L-1 K-1]
_WATER_J_PER_L_K = 4186.0
_J_PER_KWH = 3.6e6


@dataclass(frozen=True)
class Collector:
    """Glazed flat-plate collector and its loop, in f-chart terms.

    Attributes
    ----------
    fr_tau_alpha : float
        F_R(tau alpha)_n, the optical efficiency at normal incidence. [-] 0.75 is a
        typical glazed flat plate (EN 12975 eta_0 about 0.75 - 0.80).
    fr_ul : float
        F_R U_L, the loss coefficient. [W m-2 K-1] 4.0 is typical (a1 about 3.5 - 4.5).
    exchanger_factor : float
        F_R'/F_R, the penalty of the heat exchanger between the glycol loop and the tank.
        [-] 0.95 (Duffie and Beckman, sect. 10.2).
    incidence_factor : float
        (tau alpha)/(tau alpha)_n averaged over the month. [-] 0.94, the value Duffie and
        Beckman suggest for single-glazed collectors.
    """

    fr_tau_alpha: float = 0.75
    fr_ul: float = 4.0
    exchanger_factor: float = 0.95
    incidence_factor: float = 0.94


@dataclass(frozen=True)
class SolarWaterHeater:
    """A CESI and its year.

    Attributes
    ----------
    persons : int
    collector_area_m2 : float
        [m²]
    tank_l : float
        [L]
    daily_draw_l : float
        Hot water drawn per day at ``hot_water_temp``. [L]
    hot_water_temp : float
        [°C]
    mains_temp : tuple of float
        Cold water per month. [°C]
    monthly_load_kwh : tuple of float
        Heat to warm the draw, plus the tank losses, per month. [kWh]
    monthly_solar_fraction : tuple of float
        Share of each month's load covered by the sun. [-]
    monthly_tank_loss_kwh : tuple of float
        Standing losses of the tank, included in ``monthly_load_kwh``. [kWh]
    annual_load_kwh : float
        [kWh yr-1]
    annual_solar_fraction : float
        Load-weighted. [-]
    heat_saved_kwh_yr : float
        Heat the backup no longer supplies: ``annual_solar_fraction x annual_load_kwh``;
        the electricity saved with a resistive backup. [kWh yr-1]
    """

    persons: int
    collector_area_m2: float
    tank_l: float
    daily_draw_l: float
    hot_water_temp: float
    mains_temp: tuple[float, ...]
    monthly_load_kwh: tuple[float, ...]
    monthly_solar_fraction: tuple[float, ...]
    monthly_tank_loss_kwh: tuple[float, ...]
    annual_load_kwh: float
    annual_solar_fraction: float
    heat_saved_kwh_yr: float


def size_cesi(persons: int) -> tuple[float, float]:
    """Collector area [m²] and tank [L] for a household, by the module's rules of thumb.

    Examples
    --------
    >>> size_cesi(4)
    (4.0, 200.0)
    """
    if persons < 1:
        raise InputError(f"must be >= 1, got {persons}", source="persons")
    need = DRAW_L_PER_PERSON * persons
    tank = next((float(s) for s in TANK_SIZES_L if s >= need), need)
    return tank / TANK_L_PER_M2, tank


def mains_temperature(temp_air_monthly: np.ndarray) -> np.ndarray:
    """Monthly mains water temperature [°C] from monthly mean air temperatures [°C].

    Burch and Christensen (2007), in °F as published::

        T_mains = (T_avg + 6) + ratio x (dT_max / 2) x sin(0.986 (day - 15 - lag) - 90)
        ratio = 0.4 + 0.01 (T_avg - 44),  lag = 35 - (T_avg - 44) [days]

    with T_avg the annual mean and dT_max the spread of the monthly means, evaluated at
    mid-month (northern hemisphere; the sine's argument in degrees).
    """
    temp = _twelve(temp_air_monthly, "temp_air")
    t_avg = temp.mean() * 9 / 5 + 32
    spread = (temp.max() - temp.min()) * 9 / 5
    ratio = 0.4 + 0.01 * (t_avg - 44)
    lag = 35 - (t_avg - 44)
    angle = np.radians(0.986 * (_MID_DAY - 15 - lag) - 90)
    t_mains_f = (t_avg + 6) + ratio * spread / 2 * np.sin(angle)
    return (t_mains_f - 32) * 5 / 9


def _twelve(values: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (12,) or not np.all(np.isfinite(array)):
        raise InputError("expected 12 finite monthly values", source=name)
    return array


def simulate_cesi(
    poa_monthly_kwh_m2: np.ndarray,
    temp_air_monthly: np.ndarray,
    persons: int,
    *,
    collector_area_m2: float | None = None,
    tank_l: float | None = None,
    draw_l_per_person: float = DRAW_L_PER_PERSON,
    hot_water_temp: float = HOT_WATER_TEMP,
    collector: Collector | None = None,
) -> SolarWaterHeater:
    """Monthly solar fraction and heat saved of a CESI by the f-chart method.

    Parameters
    ----------
    poa_monthly_kwh_m2 : array_like
        (12,) irradiation on the collector plane per month, January first. [kWh m-2]
    temp_air_monthly : array_like
        (12,) mean air temperature per month. [°C]
    persons : int
        Household size.
    collector_area_m2, tank_l : float, optional
        Override the sizing of :func:`size_cesi`. [m²], [L]
    draw_l_per_person : float
        Daily hot water per person at ``hot_water_temp``. [L]
    hot_water_temp : float
        Delivery temperature. [°C]
    collector : Collector, optional
        Collector parameters; :class:`Collector` defaults.

    Returns
    -------
    SolarWaterHeater
    """
    poa = _twelve(poa_monthly_kwh_m2, "poa_monthly")
    temp = _twelve(temp_air_monthly, "temp_air")
    if (poa < 0).any():
        raise InputError("irradiation must be >= 0", source="poa_monthly")
    default_area, default_tank = size_cesi(persons)
    area = default_area if collector_area_m2 is None else float(collector_area_m2)
    tank = default_tank if tank_l is None else float(tank_l)
    if not (area > 0 and tank > 0 and draw_l_per_person > 0):
        raise InputError("area, tank and draw must be > 0", source="collector_area_m2")
    collector = collector or Collector()

    mains = mains_temperature(temp)
    daily_draw = draw_l_per_person * persons
    draw = daily_draw * MONTH_DAYS * _WATER_J_PER_L_K * np.maximum(hot_water_temp - mains, 0.0)
    loss_per_day = (
        TANK_LOSS_KWH_DAY_200L * (tank / 200.0) ** (2 / 3) * max(hot_water_temp - 20.0, 0.0) / 45.0
    )
    tank_loss = loss_per_day * _J_PER_KWH * MONTH_DAYS
    load = draw + tank_loss
    seconds = MONTH_DAYS * 86400.0
    fr_ul = collector.fr_ul * collector.exchanger_factor
    fr_ta = collector.fr_tau_alpha * collector.exchanger_factor * collector.incidence_factor
    storage = (tank / area / 75.0) ** -0.25
    dhw = (11.6 + 1.18 * hot_water_temp + 3.86 * mains - 2.32 * temp) / (100.0 - temp)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = fr_ul * (100.0 - temp) * seconds * area / load * storage * dhw
        y = fr_ta * poa * _J_PER_KWH * area / load
        f = 1.029 * y - 0.065 * x - 0.245 * y**2 + 0.0018 * x**2 + 0.0215 * y**3
    f = np.where(load > 0, np.clip(f, 0.0, 1.0), 0.0)
    annual_load = float(load.sum())
    saved = float((f * load).sum())
    return SolarWaterHeater(
        persons=persons,
        collector_area_m2=area,
        tank_l=tank,
        daily_draw_l=daily_draw,
        hot_water_temp=hot_water_temp,
        mains_temp=tuple(float(t) for t in mains),
        monthly_load_kwh=tuple(float(v) for v in load / _J_PER_KWH),
        monthly_solar_fraction=tuple(float(v) for v in f),
        monthly_tank_loss_kwh=tuple(float(v) for v in tank_loss / _J_PER_KWH),
        annual_load_kwh=annual_load / _J_PER_KWH,
        annual_solar_fraction=saved / annual_load if annual_load > 0 else 0.0,
        heat_saved_kwh_yr=saved / _J_PER_KWH,
    )
