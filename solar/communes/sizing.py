"""The system to recommend on a communal roof: self-consumption, total sale or tender.

For each building, two ways of using the roof are compared at the tariff date:

- **Self-consumption with surplus sale** for the building's own load, when the load is
  known (:mod:`solar.communes.loadshapes`): modules on the best faces first
  (:func:`solar.household.sizing.rank_faces`), sizes from one module to the roof's
  capacity capped at the largest surplus band (100 kWc), the size of highest NPV kept.
  The sizes walked are :data:`SIZE_STEPS` evenly spaced counts plus the largest sizes of
  the 9 and 36 kWc bands, where the tariff steps: the NPV of a commune's roof is flat near
  its optimum, and walking every module of a 100 kWc roof would cost 235 hourly balances.
- **Total sale** of the whole roof at the S21 total-sale tariff of its band, where one
  exists (above 9 kWc).

The higher NPV wins. A roof larger than the surplus bands (100 kWc) whose band has no
total-sale tariff goes to a call for tender, with no economics (the tender sets the
price). A roof without known load is recommended for total sale where its band has a
tariff, for tender where the band is tendered, and otherwise for self-consumption without
figures: the commune must enter the consumption.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from solar.cadastre import FaceRecord
from solar.communes.economics import (
    CommuneEconomics,
    CommuneTariffTable,
    Scheme,
    evaluate_self_consumption,
    evaluate_total_sale,
    self_consumption_npv,
)
from solar.household.selfconsumption import AnnualEnergy, annual_energy, hourly_series
from solar.household.sizing import max_modules, rank_faces
from solar.pv import WORTH_EQUIPPING

#: Evenly spaced module counts walked for self-consumption (see the module docstring).
SIZE_STEPS = 24


class RoofSource(Protocol):
    """What is read of the cadastre (:class:`solar.cadastre.Cadastre` has it)."""

    @property
    def crs(self) -> Any: ...

    def faces(self, building_id: str) -> list[FaceRecord]: ...

    def profiles(self, face_ids: Sequence[str]) -> dict[str, np.ndarray]: ...


@dataclass(frozen=True, eq=False)
class Roof:
    """A building's roof as the sizing reads it.

    Attributes
    ----------
    faces : tuple of FaceRecord
        Every face of the building.
    profiles : numpy.ndarray
        (k, 8760) hourly production of each face worth equipping with all its modules
        (the faces of the building's totals). [kWh]
    modules : numpy.ndarray
        (k,) modules of those faces.
    module_kwc : float
        Peak power of one module; 0 without a module. [kWc]
    """

    faces: tuple[FaceRecord, ...]
    profiles: np.ndarray
    modules: np.ndarray
    module_kwc: float


def read_roof(cadastre: RoofSource, building_id: str) -> Roof:
    """The faces of a building and the hourly production of those worth equipping."""
    faces = tuple(cadastre.faces(building_id))
    usable = [f for f in faces if (f.panels or 0) > 0 and f.suitability in WORTH_EQUIPPING]
    per_kwc = cadastre.profiles([f.face_id for f in usable])
    usable = [f for f in usable if f.face_id in per_kwc]
    profiles = np.array([per_kwc[f.face_id] * float(f.kwc) for f in usable]).reshape(-1, 8760)
    modules = np.array([int(f.panels) for f in usable], dtype=np.int64)
    module_kwc = float(usable[0].kwc) / int(usable[0].panels) if usable else 0.0
    return Roof(faces, profiles, modules, module_kwc)


@dataclass(frozen=True)
class Recommendation:
    """The recommended system on one roof.

    Attributes
    ----------
    scheme : str
        ``autoconsommation``, ``vente_totale``, ``appel_d_offres`` or ``aucun`` (no module).
    n_modules : int
        Modules of the recommended system.
    kwc : float
        Its peak power. [kWc]
    production_kwh : float
        Its annual production. [kWh yr-1]
    self_consumption_rate : float or None
        Share of the production used in the building; None without a known load. [-]
    self_sufficiency_rate : float or None
        Share of the load covered; None without a known load. [-]
    economics : solar.communes.economics.CommuneEconomics or None
        With the commune's rules; None for a tender, or without a load on a small roof.
    investment_eur : float
        What the commune pays: the capex of ``economics`` (HT for total sale, TTC less the
        FCTVA for self-consumption), or the HT investment for a tender. [€]
    co2_avoided_kg_yr : float
        Production x (grid - PV life-cycle factor) of the tariff table. [kg yr-1]
    note : str
        Why, in French, for the reports.
    """

    scheme: Scheme
    n_modules: int
    kwc: float
    production_kwh: float
    self_consumption_rate: float | None
    self_sufficiency_rate: float | None
    economics: CommuneEconomics | None
    investment_eur: float
    co2_avoided_kg_yr: float
    note: str


def candidate_sizes(total_modules: int, module_kwc: float, max_kwc: float) -> np.ndarray:
    """Module counts walked for self-consumption: evenly spaced, plus the band edges.

    >>> candidate_sizes(100, 0.425, 100.0).tolist()[:4]
    [1, 5, 10, 14]
    >>> 21 in candidate_sizes(100, 0.425, 100.0)  # 21 x 425 Wc = 8.9 kWc, the 9 kWc band
    True
    """
    cap = min(total_modules, max_modules(max_kwc, module_kwc))
    if cap < 1:
        return np.zeros(0, dtype=np.int64)
    evenly = np.rint(np.linspace(1, cap, min(SIZE_STEPS, cap))).astype(np.int64)
    edges = [max_modules(band, module_kwc) for band in (9.0, 36.0)]
    sizes = np.concatenate([evenly, [e for e in edges if 1 <= e <= cap]])
    return np.unique(sizes)


def _best_self_consumption(
    table: CommuneTariffTable,
    date: dt.date,
    face_profiles_kwh: np.ndarray,
    face_modules: np.ndarray,
    module_kwc: float,
    load: np.ndarray,
    years: int,
) -> tuple[int, CommuneEconomics, AnnualEnergy] | None:
    ranking = rank_faces(face_profiles_kwh, face_modules)
    sizes = candidate_sizes(int(ranking.modules.sum()), module_kwc, table.surplus_max_kwc)
    best: tuple[int, AnnualEnergy] | None = None
    best_npv = -np.inf
    before = np.cumsum(ranking.modules) - ranking.modules
    for n in sizes:
        # n modules on the best faces first, each face filled before the next
        taken = np.clip(n - before, 0, ranking.modules)
        production = np.ascontiguousarray(taken @ ranking.per_module)
        energy = annual_energy(production, load)
        npv = self_consumption_npv(table, date, int(n) * module_kwc, energy, years=years)
        if npv > best_npv:
            best_npv, best = npv, (int(n), energy)
    if best is None:
        return None
    n, energy = best
    return n, evaluate_self_consumption(table, date, n * module_kwc, energy, years=years), energy


def recommend(
    table: CommuneTariffTable,
    date: dt.date,
    *,
    kwc: float,
    production_kwh: float,
    module_kwc: float,
    face_profiles_kwh: np.ndarray | None = None,
    face_modules: np.ndarray | None = None,
    load_kwh: np.ndarray | None = None,
    years: int = 20,
) -> Recommendation:
    """The system to recommend on a roof (see the module docstring).

    Parameters
    ----------
    table : CommuneTariffTable
    date : datetime.date
        Date of the connection request, which sets the tariffs.
    kwc, production_kwh : float
        The whole roof's modules and their annual production (the building's totals).
        [kWc], [kWh yr-1]
    module_kwc : float
        Peak power of one module. [kWc]
    face_profiles_kwh, face_modules : numpy.ndarray, optional
        (n_faces, 8760) hourly production of each face with all its modules [kWh], and
        their modules; needed with ``load_kwh``.
    load_kwh : numpy.ndarray, optional
        (8760,) hourly load of the building [kWh]; None when unknown.
    years : int
        Horizon of the economics. [yr]

    Returns
    -------
    Recommendation
    """
    total_modules = round(kwc / module_kwc) if module_kwc > 0 else 0
    if total_modules < 1:
        return Recommendation("aucun", 0, 0.0, 0.0, None, None, None, 0.0, 0.0, "Aucun module.")
    total_sale = evaluate_total_sale(table, date, kwc, production_kwh, years=years)
    own_use = None
    if load_kwh is not None and face_profiles_kwh is not None and face_modules is not None:
        own_use = _best_self_consumption(
            table,
            date,
            face_profiles_kwh,
            np.asarray(face_modules),
            module_kwc,
            hourly_series(load_kwh, "load_kwh"),
            years,
        )
    whole_roof_co2 = production_kwh * table.co2_factor_kg_per_kwh(date)
    if kwc > table.surplus_max_kwc and total_sale is None:
        return Recommendation(
            "appel_d_offres",
            total_modules,
            kwc,
            production_kwh,
            None,
            None,
            None,
            table.investment_ht_eur(date, kwc),
            whole_roof_co2,
            f"Toiture de {kwc:.0f} kWc : au-delà des tarifs d'achat, le prix est fixé par "
            "appel d'offres.",
        )
    if own_use is not None and (total_sale is None or own_use[1].npv_eur >= total_sale.npv_eur):
        n, money, energy = own_use
        return Recommendation(
            "autoconsommation",
            n,
            money.kwc,
            energy.production_kwh,
            energy.self_consumption_rate,
            energy.self_sufficiency_rate,
            money,
            money.capex_eur,
            money.co2_avoided_kg_yr,
            "Autoconsommation de la consommation du bâtiment, surplus vendu (S21).",
        )
    if total_sale is not None:
        return Recommendation(
            "vente_totale",
            total_modules,
            kwc,
            production_kwh,
            None,
            None,
            total_sale,
            total_sale.capex_eur,
            total_sale.co2_avoided_kg_yr,
            "Vente totale de la production au tarif S21 de sa tranche."
            if own_use is None
            else "La vente totale rapporte plus que l'autoconsommation.",
        )
    return Recommendation(
        "autoconsommation",
        total_modules,
        kwc,
        production_kwh,
        None,
        None,
        None,
        0.0,
        whole_roof_co2,
        "Pas de vente totale à cette puissance : renseigner la consommation du bâtiment "
        "pour chiffrer l'autoconsommation.",
    )
