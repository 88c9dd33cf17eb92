"""Hourly self-consumption balance of a roof's production against a household's load.

All series are float64 arrays of 8760 hourly energies [kWh] on the calendar of
:mod:`solar.calendar` (value ``h`` = energy over ``[h, h + 1)``). Placing modules on a
roof's faces and choosing a size are in :mod:`solar.household.sizing`.

Definitions (French usage: "taux d'autoconsommation" and "taux d'autoproduction")
---------------------------------------------------------------------------------
Each hour, the production first feeds the load directly. Without a battery, what is
left is the surplus sold to the grid, and the load not covered is imported. With a
battery, the surplus first charges the battery and the battery then discharges into the
uncovered load. Summed over the year, with no rounding anywhere:

- ``self_consumed_kwh`` is the production *not exported*: direct use plus battery
  charging. Hence **self_consumed + surplus = production**, exactly.
- ``self_supplied_kwh`` is the load *not imported*: direct use plus battery discharge.
  Hence **self_supplied + grid_import = consumption**, exactly.
- The two differ only through the battery:
  ``self_consumed = self_supplied + battery_losses_kwh + battery_stored_kwh``, where the
  losses are the charging and discharging losses and ``battery_stored_kwh`` is the energy
  left in the battery at the end of the year minus the energy at the start. Without a
  battery both are zero and ``self_consumed == self_supplied``.
- ``self_consumption_rate = self_consumed / production`` (0 when nothing is produced) and
  ``self_sufficiency_rate = self_supplied / consumption`` (0 when nothing is consumed).

The savings on the electricity bill follow ``self_supplied_kwh`` (the kWh no longer
bought); the revenue follows ``surplus_kwh`` (the kWh sold).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from solar.calendar import HOURS_PER_YEAR, monthly_sums
from solar.errors import InputError


@dataclass(frozen=True)
class Battery:
    """A home battery on the AC side.

    Attributes
    ----------
    capacity_kwh : float
        Usable capacity. [kWh]
    power_kw : float
        Largest charging and discharging power, on the AC side. [kW] Over one hour it
        bounds the energy in or out to ``power_kw`` kWh.
    round_trip_efficiency : float
        AC to AC. [-] Split evenly: ``sqrt(round_trip_efficiency)`` on the way in and on
        the way out. 0.90 by default, typical of lithium-ion home batteries.
    soc_min, soc_max : float
        Bounds of the state of charge, as fractions of ``capacity_kwh``. [-] The battery
        starts the year at ``soc_min``.
    """

    capacity_kwh: float
    power_kw: float
    round_trip_efficiency: float = 0.90
    soc_min: float = 0.0
    soc_max: float = 1.0

    def __post_init__(self) -> None:
        checks = {
            "capacity_kwh": self.capacity_kwh > 0,
            "power_kw": self.power_kw > 0,
            "round_trip_efficiency": 0 < self.round_trip_efficiency <= 1,
            "soc_min": 0 <= self.soc_min < 1,
            "soc_max": self.soc_min < self.soc_max <= 1,
        }
        for name, ok in checks.items():
            value = getattr(self, name)
            if not (np.isfinite(value) and ok):
                raise InputError(f"invalid value {value!r}", source=f"battery.{name}")

    @classmethod
    def from_capacity(cls, capacity_kwh: float) -> Battery:
        """A battery of ``capacity_kwh`` with the power of half its capacity per hour.

        A C/2 rating is the usual order for home batteries (for example 5 kWh and
        2.5 kW); the other parameters keep their defaults.
        """
        return cls(capacity_kwh=capacity_kwh, power_kw=0.5 * capacity_kwh)


@dataclass(frozen=True)
class MonthlyBalance:
    """One calendar month (UTC) of a :class:`Balance`. Energies in [kWh]."""

    month: int
    production_kwh: float
    consumption_kwh: float
    self_consumed_kwh: float
    self_supplied_kwh: float
    surplus_kwh: float
    grid_import_kwh: float


@dataclass(frozen=True, eq=False)
class Balance:
    """The yearly balance of production against load; see the module docstring.

    Attributes
    ----------
    production_kwh, consumption_kwh : float
        Yearly totals. [kWh]
    self_consumed_kwh : float
        Production not exported (direct use and battery charging). [kWh]
    self_supplied_kwh : float
        Load not imported (direct use and battery discharge). [kWh]
    surplus_kwh, grid_import_kwh : float
        Exported and imported energy. [kWh]
    battery_charge_kwh, battery_discharge_kwh : float
        AC energy into and out of the battery. [kWh]
    battery_losses_kwh : float
        Charging and discharging losses. [kWh]
    battery_stored_kwh : float
        Energy stored at the end of the year minus at the start. [kWh]
    self_consumption_rate, self_sufficiency_rate : float
        ``self_consumed / production`` and ``self_supplied / consumption``, 0 when the
        denominator is 0. [-]
    monthly : tuple of MonthlyBalance
        Twelve rows, January first.
    hourly_self_consumed, hourly_self_supplied, hourly_surplus, hourly_grid_import : ndarray
        (8760,) hourly series. [kWh]
    hourly_state_of_charge : numpy.ndarray or None
        (8760,) energy in the battery at the end of each hour [kWh], None without one.
    """

    production_kwh: float
    consumption_kwh: float
    self_consumed_kwh: float
    self_supplied_kwh: float
    surplus_kwh: float
    grid_import_kwh: float
    battery_charge_kwh: float
    battery_discharge_kwh: float
    battery_losses_kwh: float
    battery_stored_kwh: float
    self_consumption_rate: float
    self_sufficiency_rate: float
    monthly: tuple[MonthlyBalance, ...]
    hourly_self_consumed: np.ndarray
    hourly_self_supplied: np.ndarray
    hourly_surplus: np.ndarray
    hourly_grid_import: np.ndarray
    hourly_state_of_charge: np.ndarray | None


@numba.njit(cache=True)
def _battery_dispatch(
    surplus: np.ndarray,
    deficit: np.ndarray,
    power_kw: float,
    eta_in: float,
    eta_out: float,
    e_min: float,
    e_max: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Charge from the surplus, discharge into the deficit, hour by hour.

    Returns the AC energy charged and discharged each hour and the stored energy at the
    end of each hour [kWh]. The battery starts at ``e_min``. In one hour either the
    surplus or the deficit is zero, so the battery never charges and discharges at once.
    """
    n = surplus.size
    charge = np.zeros(n)
    discharge = np.zeros(n)
    stored = np.zeros(n)
    energy = e_min
    for h in range(n):
        c = min(surplus[h], power_kw, (e_max - energy) / eta_in)
        if c > 0.0:
            energy = min(energy + c * eta_in, e_max)
            charge[h] = c
        d = min(deficit[h], power_kw, (energy - e_min) * eta_out)
        if d > 0.0:
            energy = max(energy - d / eta_out, e_min)
            discharge[h] = d
        stored[h] = energy
    return charge, discharge, stored


def hourly_series(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` as a contiguous float64 year of hourly energies, checked.

    Raises
    ------
    solar.errors.InputError
        Naming ``name``: not 8760 values, or a value that is not finite and >= 0.
    """
    series = np.ascontiguousarray(values, dtype=np.float64)
    if series.shape != (HOURS_PER_YEAR,):
        raise InputError(f"expected 8760 hourly values, got shape {series.shape}", source=name)
    if not np.all(np.isfinite(series)) or (series < 0).any():
        raise InputError("values must be finite and >= 0", source=name)
    return series


class _Dispatch(NamedTuple):
    """Hourly flows of one year [kWh]; ``stored`` is None without a battery."""

    direct: np.ndarray
    surplus: np.ndarray
    grid_import: np.ndarray
    charge: np.ndarray
    discharge: np.ndarray
    stored: np.ndarray | None


def _dispatch(production: np.ndarray, load: np.ndarray, battery: Battery | None) -> _Dispatch:
    direct = np.minimum(production, load)
    surplus = production - direct
    deficit = load - direct
    if battery is None:
        zeros = np.zeros(HOURS_PER_YEAR)
        return _Dispatch(direct, surplus, deficit, zeros, zeros, None)
    eta = np.sqrt(battery.round_trip_efficiency)
    charge, discharge, stored = _battery_dispatch(
        surplus,
        deficit,
        battery.power_kw,
        eta,
        eta,
        battery.soc_min * battery.capacity_kwh,
        battery.soc_max * battery.capacity_kwh,
    )
    return _Dispatch(direct, surplus - charge, deficit - discharge, charge, discharge, stored)


def simulate(
    production_kwh: np.ndarray, load_kwh: np.ndarray, battery: Battery | None = None
) -> Balance:
    """Hourly self-consumption balance over one year.

    Parameters
    ----------
    production_kwh : array_like
        (8760,) AC production per hour. [kWh]
    load_kwh : array_like
        (8760,) consumption per hour. [kWh]
    battery : Battery, optional
        Home battery; none by default.

    Returns
    -------
    Balance

    Examples
    --------
    >>> import numpy as np
    >>> balance = simulate(np.full(8760, 2.0), np.full(8760, 1.0))
    >>> balance.self_consumption_rate, balance.self_sufficiency_rate
    (0.5, 1.0)
    """
    production = hourly_series(production_kwh, "production_kwh")
    load = hourly_series(load_kwh, "load_kwh")
    flows = _dispatch(production, load, battery)
    direct, surplus, grid_import = flows.direct, flows.surplus, flows.grid_import
    charge, discharge, state = flows.charge, flows.discharge, flows.stored
    stored_change = 0.0
    if state is not None and battery is not None:
        stored_change = float(state[-1] - battery.soc_min * battery.capacity_kwh)
    self_consumed = direct + charge
    self_supplied = direct + discharge

    totals = {
        "production": float(production.sum()),
        "consumption": float(load.sum()),
        "self_consumed": float(self_consumed.sum()),
        "self_supplied": float(self_supplied.sum()),
        "surplus": float(surplus.sum()),
        "grid_import": float(grid_import.sum()),
    }
    months = monthly_sums(
        np.stack([production, load, self_consumed, self_supplied, surplus, grid_import])
    )
    monthly = tuple(MonthlyBalance(m + 1, *(float(v) for v in months[:, m])) for m in range(12))
    charged, discharged = float(charge.sum()), float(discharge.sum())
    return Balance(
        production_kwh=totals["production"],
        consumption_kwh=totals["consumption"],
        self_consumed_kwh=totals["self_consumed"],
        self_supplied_kwh=totals["self_supplied"],
        surplus_kwh=totals["surplus"],
        grid_import_kwh=totals["grid_import"],
        battery_charge_kwh=charged,
        battery_discharge_kwh=discharged,
        battery_losses_kwh=charged - discharged - stored_change,
        battery_stored_kwh=stored_change,
        self_consumption_rate=_ratio(totals["self_consumed"], totals["production"]),
        self_sufficiency_rate=_ratio(totals["self_supplied"], totals["consumption"]),
        monthly=monthly,
        hourly_self_consumed=self_consumed,
        hourly_self_supplied=self_supplied,
        hourly_surplus=surplus,
        hourly_grid_import=grid_import,
        hourly_state_of_charge=state,
    )


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 0.0


@dataclass(frozen=True)
class AnnualEnergy:
    """Yearly totals of a balance, without the hourly detail. Energies in [kWh]."""

    production_kwh: float
    consumption_kwh: float
    self_consumed_kwh: float
    self_supplied_kwh: float
    surplus_kwh: float

    @property
    def self_consumption_rate(self) -> float:
        return _ratio(self.self_consumed_kwh, self.production_kwh)

    @property
    def self_sufficiency_rate(self) -> float:
        return _ratio(self.self_supplied_kwh, self.consumption_kwh)


def annual_energy(
    production_kwh: np.ndarray, load_kwh: np.ndarray, battery: Battery | None = None
) -> AnnualEnergy:
    """The yearly totals of :func:`simulate`, for loops over many sizes or samples.

    Inputs are not validated: pass float64 arrays of 8760 finite values >= 0.
    """
    flows = _dispatch(production_kwh, load_kwh, battery)
    direct = float(flows.direct.sum())
    return AnnualEnergy(
        production_kwh=float(production_kwh.sum()),
        consumption_kwh=float(load_kwh.sum()),
        self_consumed_kwh=direct + float(flows.charge.sum()),
        self_supplied_kwh=direct + float(flows.discharge.sum()),
        surplus_kwh=float(flows.surplus.sum()),
    )
