"""Economics of rooftop PV with surplus sale, from a dated French tariff table.

The table (``solar/data/tariffs.toml``) holds, each row with its validity dates and source:
the OA surplus tariff and self-consumption prime per size band and quarter (arrêté S21),
how the prime is paid, the Tarif Bleu price, VAT rates by size and date, installed costs
per size band, emission factors, and the economic assumptions. :class:`TariffTable`
picks the rows in force at a date for a size, and says which (:class:`TariffRow`);
:func:`evaluate` turns a yearly energy balance into capex, savings, payback, NPV, IRR,
LCOE and CO2 avoided.

Cash-flow model (year 0 is the investment, years 1..N the years of operation)
-----------------------------------------------------------------------------
- ``CF_0 = -capex``, capex TTC = kWc x installed cost HT x (1 + VAT), plus the battery
  (kWh x installed cost TTC) when there is one; no battery replacement is modelled.
- Production falls by ``degradation_per_year``: year t produces ``(1 - d)^(t-1)`` of
  year 1, and so do its self-supplied and surplus energies (the balance is scaled, not
  re-simulated).
- Savings in year t: self-supplied kWh x Tarif Bleu price x ``(1 + drift)^(t-1)``.
- Surplus revenue: surplus kWh x OA tariff, fixed for the 20-year contract (the S21
  tariff is set at the connection request; in-contract indexation is not modelled, which
  is conservative), then 0.
- The prime is paid in year 1 (and years 2-5 above 9 kWc) by the table's schedule.
- The inverter is replaced in year 12 at the table's cost, with the same VAT as capex.
- Operation and maintenance: the table's cost per kWc and year (0 by default).

Money is nominal euros; the discount rate is nominal.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy.optimize import brentq

from solar.errors import InputError
from solar.resources import TARIFFS

DEFAULT_PATH = TARIFFS
#: The dated tables of the tariff file, and their plain names for messages.
TABLES = {
    "oa_surplus": "surplus purchase tariff",
    "prime_schedule": "payment of the self-consumption prime",
    "electricity": "electricity price",
    "vat": "VAT rates",
    "installed_cost": "installation costs",
    "battery_cost": "battery cost",
    "co2": "emission factors",
}
_ASSUMPTIONS = (
    "electricity_price_drift",
    "discount_rate",
    "degradation_per_year",
    "inverter_replacement_year",
    "contract_years",
    "om_eur_per_kwc_year",
)


class AnnualEnergyLike(Protocol):
    """What :func:`evaluate` reads from a balance (see :mod:`solar.household.selfconsumption`)."""

    @property
    def production_kwh(self) -> float: ...

    @property
    def self_supplied_kwh(self) -> float: ...

    @property
    def surplus_kwh(self) -> float: ...


@dataclass(frozen=True)
class TariffRow:
    """One dated row of the tariff table, as :meth:`TariffTable.at` used it.

    Attributes
    ----------
    table : str
        The table it belongs to, a key of :data:`TABLES`.
    period : str
        Its name in the table, e.g. ``"2025-Q2 (1 Apr - 30 Jun 2025)"``; empty when the row
        has none.
    valid_from, valid_to : datetime.date
        Inclusive.
    source : str
    """

    table: str
    period: str
    valid_from: dt.date
    valid_to: dt.date
    source: str


@dataclass(frozen=True)
class Tariffs:
    """The prices and parameters in force at one date for one installation size.

    Attributes
    ----------
    date : datetime.date
        Date of the complete connection request, which sets the S21 tariff and prime.
    kwc : float
        Installation size. [kWc]
    band_max_kwc : float
        Upper bound of the S21 band the size falls in. [kWc]
    surplus_eur_kwh : float
        OA purchase price of the surplus. [€ kWh-1]
    prime_eur_kwc : float
        Self-consumption prime. [€ kWc-1]
    prime_schedule : tuple of float
        Share of the prime paid in years 1, 2, ... of operation. [-]
    electricity_eur_kwh : float
        Tarif Bleu base price TTC. [€ kWh-1]
    electricity_drift : float
        Assumed yearly change of that price. [yr-1]
    vat_rate : float
        VAT on the installation. [-]
    installed_cost_eur_per_wc : float
        Turnkey cost HT. [€ Wc-1]
    inverter_replacement_eur_per_wc : float
        Inverter replacement cost HT. [€ Wc-1]
    inverter_replacement_year : int
        Year of operation in which the inverter is replaced.
    degradation_per_year : float
        Yearly loss of production. [yr-1]
    contract_years : int
        Length of the purchase contract. [yr]
    om_eur_per_kwc_year : float
        Operation and maintenance. [€ kWc-1 yr-1]
    battery_kwh : float
        Capacity of the home battery, 0 without one. [kWh]
    battery_eur_per_kwh : float
        Installed battery cost TTC. [€ kWh-1]
    discount_rate : float
        Default nominal discount rate. [yr-1]
    grid_co2_kg_per_kwh, pv_co2_kg_per_kwh : float
        Emission factors of grid electricity and of PV over its life cycle. [kg kWh-1]
    stale : tuple of str
        Tables whose last row was used for a date after its end: the figures may be out
        of date. Empty when every row was in force.
    rows : tuple of TariffRow
        The rows used, one per table (the battery cost only with a battery).
    """

    date: dt.date
    kwc: float
    band_max_kwc: float
    surplus_eur_kwh: float
    prime_eur_kwc: float
    prime_schedule: tuple[float, ...]
    electricity_eur_kwh: float
    electricity_drift: float
    vat_rate: float
    installed_cost_eur_per_wc: float
    inverter_replacement_eur_per_wc: float
    inverter_replacement_year: int
    degradation_per_year: float
    contract_years: int
    om_eur_per_kwc_year: float
    battery_kwh: float
    battery_eur_per_kwh: float
    discount_rate: float
    grid_co2_kg_per_kwh: float
    pv_co2_kg_per_kwh: float
    stale: tuple[str, ...] = ()
    rows: tuple[TariffRow, ...] = field(default=(), repr=False)

    @property
    def sources(self) -> tuple[str, ...]:
        """Sources of the rows used, each once."""
        return tuple(dict.fromkeys(row.source for row in self.rows))

    def row(self, table: str) -> TariffRow:
        """The row of ``table`` (a key of :data:`TABLES`) that was used.

        Raises
        ------
        KeyError
            No row of that table was used.
        """
        for row in self.rows:
            if row.table == table:
                return row
        raise KeyError(f"no {table!r} row among the tariffs used")

    @property
    def surplus_row(self) -> TariffRow:
        """The OA surplus row, which names the S21 quarter."""
        return self.row("oa_surplus")

    @property
    def stale_message(self) -> str | None:
        """:attr:`stale` in plain words for the resident; None when every row was in force."""
        if not self.stale:
            return None
        names = ", ".join(TABLES.get(name, name) for name in self.stale)
        return (
            f"The tariff table does not reach {self.date} for the {names}: the last known "
            "values are used, and may have changed since."
        )

    @property
    def capex_eur(self) -> float:
        """Installation cost TTC, battery included. [€]"""
        pv = self.kwc * 1000.0 * self.installed_cost_eur_per_wc * (1.0 + self.vat_rate)
        return pv + self.battery_kwh * self.battery_eur_per_kwh

    @property
    def prime_eur(self) -> float:
        """Whole self-consumption prime, over all its instalments. [€]"""
        return self.kwc * self.prime_eur_kwc

    @property
    def inverter_replacement_eur(self) -> float:
        """Inverter replacement TTC. [€]"""
        return self.kwc * 1000.0 * self.inverter_replacement_eur_per_wc * (1.0 + self.vat_rate)


@dataclass(frozen=True)
class DatedRow:
    """One row of a table of ``tariffs.toml``, valid between two dates.

    Attributes
    ----------
    table : str
        The table's name (``oa_surplus``, ``installed_cost``, …).
    valid_from, valid_to : datetime.date
        First and last day of the row, both included.
    max_kwc : float or None
        Upper bound of the row's size band; None for a row of every size. [kWc]
    values : Mapping
        The row as the file gives it.
    source : str
    """

    table: str
    valid_from: dt.date
    valid_to: dt.date
    max_kwc: float | None
    values: Mapping[str, Any]
    source: str

    @cached_property
    def tariff_row(self) -> TariffRow:
        period = str(self.values.get("period", ""))
        return TariffRow(self.table, period, self.valid_from, self.valid_to, self.source)


def parse_rows(name: str, raw: Sequence[Mapping[str, Any]], path: Path) -> tuple[DatedRow, ...]:
    """The rows of table ``name`` of a tariff file, checked: dated, in order, without gap
    or overlap within a size band.

    Raises
    ------
    ValueError
        Naming the file, the table and the row.
    """
    rows = []
    for i, item in enumerate(raw):
        where = f"{path}: [[{name}]] row {i + 1}"
        for key in ("valid_from", "valid_to", "source"):
            if key not in item:
                raise ValueError(f"{where}: missing {key!r}")
        start, end = item["valid_from"], item["valid_to"]
        if not isinstance(start, dt.date) or not isinstance(end, dt.date) or end < start:
            raise ValueError(f"{where}: valid_from and valid_to must be dates, in order")
        rows.append(DatedRow(name, start, end, item.get("max_kwc"), item, str(item["source"])))
    groups: dict[float | None, list[DatedRow]] = {}
    for row in rows:
        groups.setdefault(row.max_kwc, []).append(row)
    for group in groups.values():
        group.sort(key=lambda r: r.valid_from)
        for before, after in itertools.pairwise(group):
            if after.valid_from != before.valid_to + dt.timedelta(days=1):
                raise ValueError(
                    f"{path}: [[{name}]] rows {before.valid_to} and {after.valid_from} "
                    "must follow each other without gap or overlap"
                )
    return tuple(sorted(rows, key=lambda r: (r.valid_from, r.max_kwc or 0.0)))


def rows_in_force(
    rows: tuple[DatedRow, ...], date: dt.date, name: str
) -> tuple[list[DatedRow], bool]:
    """Rows in force at ``date``, or on the table's last day when ``date`` is later."""
    first = min(r.valid_from for r in rows)
    last = max(r.valid_to for r in rows)
    if date < first:
        raise InputError(
            f"{date} is before the first {name} row of the tariff table ({first})",
            source="tariff_date",
        )
    stale = date > last
    day = last if stale else date
    return [r for r in rows if r.valid_from <= day <= r.valid_to], stale


def band_of(rows: Sequence[Mapping[str, Any]] | Sequence[DatedRow], kwc: float) -> Any:
    """The row of the smallest size band that holds ``kwc``; None when none does. [kWc]"""

    def bound(row: Any) -> float:
        return float(row["max_kwc"] if isinstance(row, Mapping) else row.max_kwc)

    fitting = [r for r in rows if kwc <= bound(r) + 1e-9]
    return min(fitting, key=bound) if fitting else None


@dataclass(frozen=True)
class TariffTable:
    """The dated tariff table; build it with :meth:`load`.

    Attributes
    ----------
    path : pathlib.Path
        File it was read from.
    assumptions : Mapping
        The ``[assumptions]`` section.
    """

    path: Path
    assumptions: Mapping[str, Any]
    _rows: Mapping[str, tuple[DatedRow, ...]] = field(repr=False)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> TariffTable:
        """Read and check a tariff table (``solar/data/tariffs.toml`` by default).

        Raises
        ------
        ValueError
            A row without ``valid_from``, ``valid_to`` or ``source``, dates out of order,
            or rows of one table (and size band) that leave a gap or overlap.
        """
        path = Path(path)
        with path.open("rb") as f:
            raw = tomllib.load(f)
        rows = {name: parse_rows(name, raw.get(name, []), path) for name in TABLES}
        for name, table_rows in rows.items():
            if not table_rows:
                raise ValueError(f"{path}: no [[{name}]] rows")
        assumptions = raw.get("assumptions", {})
        missing = [key for key in _ASSUMPTIONS if key not in assumptions]
        if missing:
            raise ValueError(f"{path}: [assumptions] lacks {missing}")
        return cls(path=path, assumptions=assumptions, _rows=rows)

    @property
    def max_kwc(self) -> float:
        """Largest size with a surplus tariff. [kWc]"""
        return max(float(b["max_kwc"]) for r in self._rows["oa_surplus"] for b in r.values["bands"])

    @property
    def last_date(self) -> dt.date:
        """Last day of the last S21 tariff quarter in the table."""
        return max(r.valid_to for r in self._rows["oa_surplus"])

    def at(
        self,
        date: dt.date,
        kwc: float,
        *,
        reduced_vat_eligible: bool = True,
        battery_kwh: float = 0.0,
    ) -> Tariffs:
        """The tariffs in force at ``date`` for an installation of ``kwc``.

        Each table is looked up separately: the row whose ``[valid_from, valid_to]``
        (inclusive) holds the date, and within it the smallest size band that holds
        ``kwc``. A date after a table's last row uses that last row and names the table
        in :attr:`Tariffs.stale`. The rows used are in :attr:`Tariffs.rows`, so that a
        caller can say which quarter and which sources the figures come from.

        Parameters
        ----------
        date : datetime.date
            Date of the complete connection request (a datetime is cut to its date).
        kwc : float
            Installation size, > 0 and up to :attr:`max_kwc`. [kWc]
        reduced_vat_eligible : bool
            Whether the project meets the conditions of the reduced VAT rate (5.5 % up to
            9 kWc from 1 October 2025: low-carbon modules and an energy-management
            system; see the table). True by default, the case the measure was made for.
        battery_kwh : float
            Capacity of a home battery whose cost is added to the capex. [kWh]

        Raises
        ------
        solar.errors.InputError
            A date before the table's first row (``source="tariff_date"``), or a size out
            of the S21 bands (``source="kwc"``).
        """
        if isinstance(date, dt.datetime):
            date = date.date()
        if not (np.isfinite(kwc) and 0 < kwc <= self.max_kwc + 1e-9):
            raise InputError(
                f"must be > 0 and <= {self.max_kwc:g} kWc (the S21 surplus bands), got {kwc!r}",
                source="kwc",
            )
        stale: list[str] = []

        def rows(name: str) -> list[DatedRow]:
            found, is_stale = rows_in_force(self._rows[name], date, name)
            if is_stale:
                stale.append(name)
            return found

        (oa,) = rows("oa_surplus")
        band = band_of(oa.values["bands"], kwc)
        schedule = band_of(rows("prime_schedule"), kwc)
        (price,) = rows("electricity")
        cost = band_of(rows("installed_cost"), kwc)
        (battery,) = rows("battery_cost")
        (co2,) = rows("co2")
        if not (np.isfinite(battery_kwh) and battery_kwh >= 0):
            raise InputError(f"must be >= 0, got {battery_kwh!r}", source="battery_kwh")
        vat_rows = [
            r
            for r in rows("vat")
            if kwc <= float(r.max_kwc or 0) + 1e-9
            and (reduced_vat_eligible or not r.values.get("requires_conditions", False))
        ]
        vat = min(vat_rows, key=lambda r: float(r.values["rate"]))
        used = (oa, schedule, price, cost, co2, vat, *([battery] if battery_kwh else []))
        a = self.assumptions
        return Tariffs(
            date=date,
            kwc=float(kwc),
            band_max_kwc=float(band["max_kwc"]),
            surplus_eur_kwh=float(band["surplus_eur_kwh"]),
            prime_eur_kwc=float(band["prime_eur_kwc"]),
            prime_schedule=tuple(float(x) for x in schedule.values["fractions"]),
            electricity_eur_kwh=float(price.values["price_eur_kwh"]),
            electricity_drift=float(a["electricity_price_drift"]),
            vat_rate=float(vat.values["rate"]),
            installed_cost_eur_per_wc=float(cost.values["eur_per_wc"]),
            inverter_replacement_eur_per_wc=float(cost.values["inverter_replacement_eur_per_wc"]),
            inverter_replacement_year=int(a["inverter_replacement_year"]),
            degradation_per_year=float(a["degradation_per_year"]),
            contract_years=int(a["contract_years"]),
            om_eur_per_kwc_year=float(a["om_eur_per_kwc_year"]),
            battery_kwh=float(battery_kwh),
            battery_eur_per_kwh=float(battery.values["eur_per_kwh"]),
            discount_rate=float(a["discount_rate"]),
            grid_co2_kg_per_kwh=float(co2.values["grid_kg_per_kwh"]),
            pv_co2_kg_per_kwh=float(co2.values["pv_lifecycle_kg_per_kwh"]),
            stale=tuple(dict.fromkeys(stale)),
            rows=tuple(row.tariff_row for row in used),
        )


# --------------------------------------------------------------------------- finance


def npv(cash_flows: np.ndarray, rate: float) -> np.ndarray:
    """Net present value of yearly cash flows, year 0 first.

    Parameters
    ----------
    cash_flows : array_like
        (..., N + 1) cash flows of years 0..N. [€]
    rate : float
        Discount rate. [yr-1]

    Returns
    -------
    numpy.ndarray
        (...) ``sum_t CF_t / (1 + rate)^t``. [€]

    Examples
    --------
    >>> round(float(npv([-100.0, 300.0, 400.0], 0.25)), 6)  # -100 + 300/1.25 + 400/1.5625
    396.0
    """
    flows = np.asarray(cash_flows, dtype=np.float64)
    factors = (1.0 + rate) ** -np.arange(flows.shape[-1])
    return np.asarray(flows @ factors)


def irr(cash_flows: Sequence[float] | np.ndarray) -> float | None:
    """Internal rate of return of one series of yearly cash flows, year 0 first.

    The root of :func:`npv` in ``]-0.99, 10]``, found by Brent's method. With an
    investment followed by positive flows the root is unique; when the NPV has the same
    sign at both ends (the outlay is never recovered even at -99 %, or nothing is
    invested) the IRR is undefined and None is returned.

    Examples
    --------
    >>> round(irr([-100.0, 60.0, 60.0]), 6)  # 100 (1 + r)^2 = 60 (1 + r) + 60
    0.130662
    """
    flows = np.asarray(cash_flows, dtype=np.float64)
    low, high = -0.99, 10.0
    f_low, f_high = float(npv(flows, low)), float(npv(flows, high))
    if f_low == 0.0:
        return low
    if np.sign(f_low) == np.sign(f_high):
        return None
    return float(brentq(lambda r: float(npv(flows, r)), low, high, xtol=1e-12))


def payback(cash_flows: np.ndarray) -> np.ndarray:
    """Simple (undiscounted) payback time of yearly cash flows, year 0 first.

    The first time the cumulative cash flow turns non-negative, interpolated linearly
    within that year: if the cumulative sum is ``S_{t-1} < 0`` at the end of year t-1 and
    ``S_t >= 0``, the payback is ``t - 1 + (-S_{t-1}) / CF_t``. (A later outlay, such as
    the inverter, could make the sum negative again; the first crossing is reported.)

    Parameters
    ----------
    cash_flows : array_like
        (..., N + 1) yearly cash flows, year 0 first. [€]

    Returns
    -------
    numpy.ndarray
        (...) payback time [yr], NaN when the cumulative sum stays negative over the
        N years.

    Examples
    --------
    >>> float(payback([-100.0, 40.0, 40.0, 40.0]))
    2.5
    """
    flows = np.asarray(cash_flows, dtype=np.float64)
    cumulative = np.cumsum(flows, axis=-1)
    reached = cumulative >= 0
    reached[..., 0] = flows[..., 0] >= 0
    any_reached = reached.any(axis=-1)
    t = np.argmax(reached, axis=-1)
    before = np.take_along_axis(cumulative, np.maximum(t - 1, 0)[..., None], axis=-1)[..., 0]
    flow_t = np.take_along_axis(flows, t[..., None], axis=-1)[..., 0]
    fraction = np.divide(-before, flow_t, out=np.zeros_like(before), where=flow_t > 0)
    years = np.where(t == 0, 0.0, t - 1 + fraction)
    return np.where(any_reached, years, np.nan)


def cash_flows(
    kwc: float,
    self_supplied_kwh: float | np.ndarray,
    surplus_kwh: float | np.ndarray,
    tariffs: Tariffs,
    years: int,
) -> np.ndarray:
    """Yearly cash flows of the installation, year 0 (the investment) first.

    Parameters
    ----------
    kwc : float
        Installation size. [kWc] Must match ``tariffs.kwc`` for the costs.
    self_supplied_kwh, surplus_kwh : float or array_like
        Year-1 energies (broadcast together: pass arrays to get one series per sample).
        [kWh]
    tariffs : Tariffs
    years : int
        Horizon N. [yr]

    Returns
    -------
    numpy.ndarray
        (..., N + 1) cash flows. [€] See the module docstring for the model.
    """
    if years < 1:
        raise InputError(f"must be >= 1, got {years}", source="years")
    t = np.arange(1, years + 1)
    production_factor = (1.0 - tariffs.degradation_per_year) ** (t - 1)
    price = tariffs.electricity_eur_kwh * (1.0 + tariffs.electricity_drift) ** (t - 1)
    in_contract = t <= tariffs.contract_years
    schedule = np.zeros(years)
    n = min(years, len(tariffs.prime_schedule))
    schedule[:n] = tariffs.prime_schedule[:n]
    fixed = (
        tariffs.prime_eur * schedule
        - tariffs.om_eur_per_kwc_year * kwc
        - np.where(t == tariffs.inverter_replacement_year, tariffs.inverter_replacement_eur, 0.0)
    )
    supplied = np.asarray(self_supplied_kwh, dtype=np.float64)[..., None]
    surplus = np.asarray(surplus_kwh, dtype=np.float64)[..., None]
    yearly = (
        supplied * production_factor * price
        + surplus * production_factor * tariffs.surplus_eur_kwh * in_contract
        + fixed
    )
    capex = np.broadcast_to(-tariffs.capex_eur, yearly.shape[:-1])[..., None]
    return np.concatenate([capex, yearly], axis=-1)


@dataclass(frozen=True)
class Economics:
    """Economic result of one installation over one horizon.

    Attributes
    ----------
    kwc : float
        [kWc]
    years : int
        Horizon. [yr]
    capex_eur : float
        Installation cost TTC. [€]
    prime_eur : float
        Self-consumption prime, all instalments. [€]
    annual_savings_eur : float
        Year-1 saving on the bill: self-supplied kWh x Tarif Bleu price. [€ yr-1]
    surplus_revenue_eur_yr : float
        Year-1 sale of the surplus. [€ yr-1]
    payback_years : float or None
        Simple payback, drift and degradation included; None if not within ``years``.
        [yr]
    npv_eur : float
        Net present value at ``discount_rate``. [€]
    irr : float or None
        Internal rate of return; None when undefined. [yr-1]
    lcoe_eur_kwh : float
        Levelised cost of the energy produced, net of the prime:
        (capex - PV(prime) + PV(O&M and inverter)) / PV(production). [€ kWh-1]
    co2_avoided_kg_yr : float
        Year-1 production x (grid factor - PV life-cycle factor); negative if PV's life
        cycle emits more per kWh than the grid mix. [kg yr-1]
    discount_rate : float
        [yr-1]
    cash_flows_eur : tuple of float
        Years 0..N. [€]
    tariffs : Tariffs
        What the figures were computed with, including the staleness flags.
    """

    kwc: float
    years: int
    capex_eur: float
    prime_eur: float
    annual_savings_eur: float
    surplus_revenue_eur_yr: float
    payback_years: float | None
    npv_eur: float
    irr: float | None
    lcoe_eur_kwh: float
    co2_avoided_kg_yr: float
    discount_rate: float
    cash_flows_eur: tuple[float, ...]
    tariffs: Tariffs


def net_present_value(
    kwc: float,
    energy: AnnualEnergyLike,
    tariffs: Tariffs,
    *,
    years: int = 20,
    discount_rate: float | None = None,
) -> float:
    """NPV only, for sizing loops: the ``npv_eur`` of :func:`evaluate`. [€]"""
    rate = tariffs.discount_rate if discount_rate is None else discount_rate
    flows = cash_flows(kwc, energy.self_supplied_kwh, energy.surplus_kwh, tariffs, years)
    return float(npv(flows, rate))


def evaluate(
    kwc: float,
    balance: AnnualEnergyLike,
    tariffs: Tariffs,
    *,
    years: int = 20,
    discount_rate: float | None = None,
) -> Economics:
    """Capex, savings, payback, NPV, IRR, LCOE and CO2 avoided of an installation.

    Parameters
    ----------
    kwc : float
        Installation size. [kWc]
    balance : Balance or AnnualEnergy
        Year-1 energies (:func:`solar.household.selfconsumption.simulate`).
    tariffs : Tariffs
        From :meth:`TariffTable.at` for the same ``kwc``.
    years : int
        Horizon: 20 (the purchase contract) or 25 (a module warranty) for instance. [yr]
    discount_rate : float, optional
        Nominal. [yr-1] The table's assumption by default.

    Returns
    -------
    Economics
    """
    if abs(kwc - tariffs.kwc) > 1e-9:
        raise InputError(
            f"the tariffs were looked up for {tariffs.kwc:g} kWc, not {kwc:g}", source="kwc"
        )
    rate = tariffs.discount_rate if discount_rate is None else discount_rate
    flows = cash_flows(kwc, balance.self_supplied_kwh, balance.surplus_kwh, tariffs, years)
    t = np.arange(1, years + 1)
    discount = (1.0 + rate) ** -t
    schedule = np.zeros(years)
    n = min(years, len(tariffs.prime_schedule))
    schedule[:n] = tariffs.prime_schedule[:n]
    costs = tariffs.om_eur_per_kwc_year * kwc + np.where(
        t == tariffs.inverter_replacement_year, tariffs.inverter_replacement_eur, 0.0
    )
    net_cost = tariffs.capex_eur + float(((costs - tariffs.prime_eur * schedule) * discount).sum())
    production = balance.production_kwh * (1.0 - tariffs.degradation_per_year) ** (t - 1)
    discounted_kwh = float((production * discount).sum())
    back = float(payback(flows))
    return Economics(
        kwc=kwc,
        years=years,
        capex_eur=tariffs.capex_eur,
        prime_eur=tariffs.prime_eur,
        annual_savings_eur=balance.self_supplied_kwh * tariffs.electricity_eur_kwh,
        surplus_revenue_eur_yr=balance.surplus_kwh * tariffs.surplus_eur_kwh,
        payback_years=None if np.isnan(back) else back,
        npv_eur=float(npv(flows, rate)),
        irr=irr(flows),
        lcoe_eur_kwh=net_cost / discounted_kwh if discounted_kwh > 0 else float("inf"),
        co2_avoided_kg_yr=balance.production_kwh
        * (tariffs.grid_co2_kg_per_kwh - tariffs.pv_co2_kg_per_kwh),
        discount_rate=rate,
        cash_flows_eur=tuple(float(x) for x in flows),
        tariffs=tariffs,
    )
