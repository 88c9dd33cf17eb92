"""Economics of a commune's rooftop: self-consumption with surplus sale, total sale, tender.

A commune is not a household, and the same dated tariff table (``solar/data/tariffs.toml``)
is read with its rules (the ``[commune]`` section, with sources):

- **VAT.** Communal buildings are not dwellings: only the standard rate applies. A
  self-consumption installation is an investment of the general budget, whose VAT the
  FCTVA refunds at ``fctva_rate`` of the TTC amount (CGCT art. L1615-6), so its capex is
  ``HT x (1 + VAT) x (1 - fctva_rate)``, about HT. A total-sale installation is a VAT-liable
  activity kept in a budget annexe: VAT is deducted, the capex and the revenue are HT.
- **Self-consumption with surplus sale** (S21, up to 100 kWc): the S21 surplus tariff and
  prime of the size band (above 9, 36 kWc) and the Tarif Bleu price TTC for the
  kWh no longer bought; everything else as for a household
  (:func:`solar.household.economics.cash_flows`).
- **Total sale** (S21 tariff Ta, table ``[[oa_total]]``): none up to 9 kWc since 28 March
  2025, then per band (above 9, 36, 100 kWc); the 100 - 500 kWc band left the open window
  for simplified calls for tender on 22 September 2025.
- **Calls for tender** above ``tender_above_kwc`` (500 kWc), and in any band the table
  marks ``tender``: the price is set by the tender, so no economics is computed; the
  investment still is.

The cash-flow model, the horizon and the assumptions are those of
:mod:`solar.household.economics` (its :func:`~solar.household.economics.cash_flows`,
:func:`~solar.household.economics.npv` and :func:`~solar.household.economics.payback`).
A commune's report needs no IRR or LCOE: :class:`CommuneEconomics` leaves them out, which
keeps a 1,000-building report within its time (Brent's root finding was a third of it).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from solar.errors import InputError
from solar.household import economics
from solar.household.economics import (
    TariffRow,
    Tariffs,
    TariffTable,
    band_of,
    parse_rows,
    rows_in_force,
)
from solar.household.selfconsumption import AnnualEnergy

Scheme = Literal["autoconsommation", "vente_totale", "appel_d_offres", "aucun"]
#: How an installation sells its energy, with the French names of the reports.
SCHEME_LABELS: dict[str, str] = {
    "autoconsommation": "Autoconsommation avec vente du surplus",
    "vente_totale": "Vente totale",
    "appel_d_offres": "Appel d'offres",
    "aucun": "Aucun",
}


@dataclass(frozen=True)
class TotalSaleBand:
    """The total-sale terms of one size band at one date.

    Attributes
    ----------
    max_kwc : float
        Upper bound of the band. [kWc]
    eur_kwh : float or None
        The S21 total-sale tariff, HT; None when the band has none. [€ kWh-1]
    tender : bool
        True when the band goes through a call for tender instead.
    row : TariffRow
        The dated row it comes from.
    stale : bool
        The date is after the table's last row, whose terms were used.
    """

    max_kwc: float
    eur_kwh: float | None
    tender: bool
    row: TariffRow
    stale: bool


@dataclass(frozen=True)
class CommuneTariffTable:
    """The household tariff table read with a commune's rules; build it with :meth:`load`.

    Attributes
    ----------
    household : solar.household.economics.TariffTable
        The dated table the surplus tariffs, prices and costs come from.
    vat_rate : float
        Standard VAT rate. [-]
    fctva_rate : float
        Share of a TTC investment the FCTVA refunds. [-]
    tender_above_kwc : float
        Size above which every installation goes through a call for tender. [kWc]
    sources : tuple of str
        The sources of the ``[commune]`` section (VAT, FCTVA, tender, electricity price).
    """

    household: TariffTable
    vat_rate: float
    fctva_rate: float
    tender_above_kwc: float
    sources: tuple[str, ...]
    _total: tuple[Any, ...]
    _large_costs: tuple[Any, ...]
    _bounds: tuple[float, ...]
    _cache: dict[tuple[dt.date, float], Tariffs] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def load(cls, path: str | Path = economics.DEFAULT_PATH) -> CommuneTariffTable:
        """Read the tariff file's household tables, ``[[oa_total]]`` and ``[commune]``."""
        path = Path(path)
        with path.open("rb") as f:
            raw = tomllib.load(f)
        if "commune" not in raw or not raw.get("oa_total"):
            raise ValueError(f"{path}: no [commune] section or no [[oa_total]] rows")
        terms: Mapping[str, Any] = raw["commune"]
        costs = parse_rows("installed_cost", raw["installed_cost"], path)
        # Every size band of the household tables: two sizes within the same bounds get
        # the same rows, so a lookup is made once per band and date.
        sized = [b for r in raw["oa_surplus"] for b in r["bands"]]
        sized += [r for name in ("prime_schedule", "vat", "installed_cost") for r in raw[name]]
        bounds = tuple(sorted({float(b["max_kwc"]) for b in sized if "max_kwc" in b}))
        return cls(
            household=TariffTable.load(path),
            vat_rate=float(terms["vat_rate"]),
            fctva_rate=float(terms["fctva_rate"]),
            tender_above_kwc=float(terms["tender_above_kwc"]),
            sources=tuple(str(v) for k, v in terms.items() if k.endswith("_source")),
            _total=parse_rows("oa_total", raw["oa_total"], path),
            _large_costs=costs,
            _bounds=bounds,
        )

    def household_at(self, date: dt.date, kwc: float) -> Tariffs:
        """:meth:`TariffTable.at` with the standard VAT, looked up once per size band.

        The result is that of the size band's first lookup with ``kwc`` put in: every row
        used depends on the band, not on the size within it.
        """
        bound = next((b for b in self._bounds if kwc <= b + 1e-9), self._bounds[-1])
        key = (date, bound)
        if key not in self._cache:
            self._cache[key] = self.household.at(date, kwc, reduced_vat_eligible=False)
        return replace(self._cache[key], kwc=float(kwc))

    def co2_factor_kg_per_kwh(self, date: dt.date) -> float:
        """Grid factor less the PV life-cycle factor of the ``[[co2]]`` row of ``date``.
        [kg kWh-1]"""
        tariffs = self.household_at(date, 1.0)
        return tariffs.grid_co2_kg_per_kwh - tariffs.pv_co2_kg_per_kwh

    @property
    def surplus_max_kwc(self) -> float:
        """Largest size with a surplus tariff (S21). [kWc]"""
        return self.household.max_kwc

    def total_sale(self, date: dt.date, kwc: float) -> TotalSaleBand | None:
        """The total-sale band of ``kwc`` at ``date``; None above every band of the table."""
        rows, stale = rows_in_force(self._total, date, "oa_total")
        (row,) = rows
        band = band_of(row.values["bands"], kwc)
        if band is None or kwc > self.tender_above_kwc:
            return None
        price = band.get("eur_kwh")
        return TotalSaleBand(
            max_kwc=float(band["max_kwc"]),
            eur_kwh=None if price is None else float(price),
            tender=bool(band.get("tender", False)),
            row=row.tariff_row,
            stale=stale,
        )

    def installed_cost_eur_per_wc(self, date: dt.date, kwc: float) -> tuple[float, float]:
        """Turnkey cost and inverter replacement cost HT of ``kwc``; the largest band's
        above it. [€ Wc-1]"""
        rows, _ = rows_in_force(self._large_costs, date, "installed_cost")
        band = band_of(rows, kwc) or max(rows, key=lambda r: float(r.max_kwc or 0.0))
        return float(band.values["eur_per_wc"]), float(
            band.values["inverter_replacement_eur_per_wc"]
        )

    def investment_ht_eur(self, date: dt.date, kwc: float) -> float:
        """Turnkey investment HT, the figure of a group purchase. [€]"""
        return kwc * 1000.0 * self.installed_cost_eur_per_wc(date, kwc)[0]

    def scheme(self, date: dt.date, kwc: float) -> Scheme:
        """How an installation of ``kwc`` with no use for its energy would sell it.

        ``vente_totale`` where the band has a total-sale tariff, ``appel_d_offres`` where a
        tender sets the price (and above :attr:`tender_above_kwc`), ``aucun`` where
        neither exists (up to 9 kWc, where only self-consumption is supported).
        """
        band = self.total_sale(date, kwc)
        if band is None or band.tender:
            return "appel_d_offres"
        return "vente_totale" if band.eur_kwh is not None else "aucun"

    def surplus_tariffs(self, date: dt.date, kwc: float) -> Tariffs:
        """Tariffs of self-consumption with surplus sale for a commune (up to 100 kWc).

        The household row of the size band, with the capex TTC less the FCTVA: the
        ``vat_rate`` of the result is the effective rate ``(1 + VAT)(1 - FCTVA) - 1``.
        """
        tariffs = self.household_at(date, kwc)
        effective = (1.0 + self.vat_rate) * (1.0 - self.fctva_rate) - 1.0
        return replace(tariffs, vat_rate=effective)

    def total_sale_tariffs(self, date: dt.date, kwc: float) -> Tariffs | None:
        """Tariffs of total sale for a commune; None where the band has no tariff.

        The total-sale tariff takes the place of the surplus tariff (and there is no
        prime); capex and revenue are HT; the installed cost is the size band's, up to
        500 kWc.
        """
        band = self.total_sale(date, kwc)
        if band is None or band.eur_kwh is None:
            return None
        base = self.household_at(date, min(kwc, self.surplus_max_kwc))
        cost, inverter = self.installed_cost_eur_per_wc(date, kwc)
        stale = (*base.stale, *(("oa_total",) if band.stale else ()))
        rows = tuple(r for r in base.rows if r.table not in ("oa_surplus", "prime_schedule", "vat"))
        return replace(
            base,
            kwc=float(kwc),
            band_max_kwc=band.max_kwc,
            surplus_eur_kwh=band.eur_kwh,
            prime_eur_kwc=0.0,
            prime_schedule=(),
            vat_rate=0.0,
            installed_cost_eur_per_wc=cost,
            inverter_replacement_eur_per_wc=inverter,
            stale=tuple(dict.fromkeys(stale)),
            rows=(band.row, *rows),
        )


@dataclass(frozen=True)
class CommuneEconomics:
    """The economics of one installation of a commune over its horizon.

    Attributes
    ----------
    kwc : float
        [kWc]
    years : int
        Horizon. [yr]
    capex_eur : float
        What the commune pays: HT for total sale, TTC less the FCTVA for
        self-consumption. [€]
    prime_eur : float
        Self-consumption prime, all instalments. [€]
    annual_savings_eur : float
        Year-1 saving on the bill: self-supplied kWh x Tarif Bleu price TTC. [€ yr-1]
    surplus_revenue_eur_yr : float
        Year-1 sale: the surplus, or the whole production for total sale. [€ yr-1]
    payback_years : float or None
        Simple payback; None if not within ``years``. [yr]
    npv_eur : float
        Net present value at the table's discount rate. [€]
    production_kwh : float
        Year-1 production. [kWh yr-1]
    co2_avoided_kg_yr : float
        Year-1 production x (grid - PV life-cycle factor). [kg yr-1]
    tariffs : solar.household.economics.Tariffs
        What the figures were computed with.
    """

    kwc: float
    years: int
    capex_eur: float
    prime_eur: float
    annual_savings_eur: float
    surplus_revenue_eur_yr: float
    payback_years: float | None
    npv_eur: float
    production_kwh: float
    co2_avoided_kg_yr: float
    tariffs: Tariffs


def _economics(
    kwc: float, energy: economics.AnnualEnergyLike, tariffs: Tariffs, years: int
) -> CommuneEconomics:
    flows = economics.cash_flows(kwc, energy.self_supplied_kwh, energy.surplus_kwh, tariffs, years)
    back = float(economics.payback(flows))
    return CommuneEconomics(
        kwc=kwc,
        years=years,
        capex_eur=tariffs.capex_eur,
        prime_eur=tariffs.prime_eur,
        annual_savings_eur=energy.self_supplied_kwh * tariffs.electricity_eur_kwh,
        surplus_revenue_eur_yr=energy.surplus_kwh * tariffs.surplus_eur_kwh,
        payback_years=None if np.isnan(back) else back,
        npv_eur=float(economics.npv(flows, tariffs.discount_rate)),
        production_kwh=energy.production_kwh,
        co2_avoided_kg_yr=energy.production_kwh
        * (tariffs.grid_co2_kg_per_kwh - tariffs.pv_co2_kg_per_kwh),
        tariffs=tariffs,
    )


def self_consumption_npv(
    table: CommuneTariffTable,
    date: dt.date,
    kwc: float,
    energy: economics.AnnualEnergyLike,
    *,
    years: int = 20,
) -> float:
    """The NPV alone of :func:`evaluate_self_consumption`, for sizing loops. [€]"""
    return economics.net_present_value(kwc, energy, table.surplus_tariffs(date, kwc), years=years)


def evaluate_self_consumption(
    table: CommuneTariffTable,
    date: dt.date,
    kwc: float,
    energy: economics.AnnualEnergyLike,
    *,
    years: int = 20,
) -> CommuneEconomics:
    """Economics of self-consumption with surplus sale for a commune (``kwc`` <= 100)."""
    return _economics(kwc, energy, table.surplus_tariffs(date, kwc), years)


def evaluate_total_sale(
    table: CommuneTariffTable,
    date: dt.date,
    kwc: float,
    production_kwh: float,
    *,
    years: int = 20,
) -> CommuneEconomics | None:
    """Economics of total sale for a commune; None where no total-sale tariff exists.

    Every kWh produced is sold: nothing is self-supplied.
    """
    if not (np.isfinite(production_kwh) and production_kwh >= 0):
        raise InputError(f"must be >= 0, got {production_kwh!r}", source="production_kwh")
    tariffs = table.total_sale_tariffs(date, kwc)
    if tariffs is None:
        return None
    sold = AnnualEnergy(
        production_kwh=production_kwh,
        consumption_kwh=0.0,
        self_consumed_kwh=0.0,
        self_supplied_kwh=0.0,
        surplus_kwh=production_kwh,
    )
    return _economics(kwc, sold, tariffs, years)
