"""Modules on the best faces first, and the installation sizes worth proposing.

A roof's faces differ in yield: a module on the south face produces more than one on the
east face. Modules are therefore always placed on the faces of highest annual yield per
module first (:func:`rank_faces`), each face filled before the next, and a face partly
used produces pro rata of its modules (:func:`place_modules`).

The sizing functions walk the sizes 0, 1, 2, ... modules in that order and keep the one
that answers their question: the highest NPV with surplus sale (:func:`size_for_npv`),
the fewest modules that cover a share of the load (:func:`size_for_self_sufficiency`), or
the most modules that still use a share of their production at home
(:func:`size_for_self_consumption`). :func:`advise` answers the three questions from one
walk, the hourly balances being most of the cost. See
:mod:`solar.household.selfconsumption` for the two rates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from solar.calendar import HOURS_PER_YEAR
from solar.errors import InputError
from solar.household import economics
from solar.household.selfconsumption import AnnualEnergy, Battery, annual_energy, hourly_series


class FaceRanking(NamedTuple):
    """The faces that hold modules, best annual yield per module first.

    Attributes
    ----------
    faces : numpy.ndarray
        (k,) int64 indices of the faces in the input, best first; faces without a module
        are left out.
    per_module : numpy.ndarray
        (k, 8760) hourly AC production of one module on each of those faces. [kWh]
    modules : numpy.ndarray
        (k,) int64 modules each of those faces holds.
    """

    faces: np.ndarray
    per_module: np.ndarray
    modules: np.ndarray


def rank_faces(face_profiles_kwh: np.ndarray, face_modules: np.ndarray) -> FaceRanking:
    """Rank the faces that hold modules by annual production per module, best first.

    Ties keep the input order.

    Parameters
    ----------
    face_profiles_kwh : array_like
        (n_faces, 8760) hourly AC production of each face with all its modules. [kWh]
    face_modules : array_like
        (n_faces,) modules the layout puts on each face.

    Returns
    -------
    FaceRanking

    Examples
    --------
    >>> import numpy as np
    >>> profiles = np.stack([np.full(8760, 0.1), np.full(8760, 0.3), np.zeros(8760)])
    >>> rank_faces(profiles, [2, 2, 0]).faces.tolist()
    [1, 0]
    """
    profiles = np.asarray(face_profiles_kwh, dtype=np.float64)
    modules = np.asarray(face_modules)
    if profiles.ndim != 2 or profiles.shape[1] != HOURS_PER_YEAR:
        raise InputError(
            f"expected (n_faces, 8760) profiles, got {profiles.shape}", source="face_profiles"
        )
    if modules.shape != (profiles.shape[0],) or (modules < 0).any():
        raise InputError("expected one module count >= 0 per face", source="face_modules")
    if not np.all(np.isfinite(profiles)) or (profiles < 0).any():
        raise InputError("values must be finite and >= 0", source="face_profiles")
    usable = np.flatnonzero(modules > 0)
    per_module = profiles[usable] / modules[usable, None]
    order = np.argsort(-per_module.sum(axis=1), kind="stable")
    return FaceRanking(
        usable[order].astype(np.int64), per_module[order], modules[usable][order].astype(np.int64)
    )


@dataclass(frozen=True, eq=False)
class Placement:
    """``n_modules`` modules placed on the best faces first.

    Attributes
    ----------
    faces : numpy.ndarray
        (m,) int64 indices of the faces that got at least one module, best first.
    modules : numpy.ndarray
        (m,) int64 modules on each of those faces.
    face_production_kwh : numpy.ndarray
        (m,) annual AC production of the modules on each of those faces. [kWh yr-1]
    production_kwh : numpy.ndarray
        (8760,) hourly AC production of all the modules placed. [kWh]
    """

    faces: np.ndarray
    modules: np.ndarray
    face_production_kwh: np.ndarray
    production_kwh: np.ndarray

    @property
    def n_modules(self) -> int:
        """Modules placed, on all the faces."""
        return int(self.modules.sum())


def place_modules(
    face_profiles_kwh: np.ndarray, face_modules: np.ndarray, n_modules: int
) -> Placement:
    """Place ``n_modules`` modules on the faces of :func:`rank_faces`, best first.

    Each face is filled before the next, and a face partly used produces pro rata of its
    modules.

    Parameters
    ----------
    face_profiles_kwh, face_modules
        As for :func:`rank_faces`.
    n_modules : int
        Modules to place, from 0 to the total of ``face_modules``.

    Returns
    -------
    Placement

    Examples
    --------
    >>> import numpy as np
    >>> profiles = np.stack([np.full(8760, 0.1), np.full(8760, 0.3)])
    >>> placement = place_modules(profiles, [2, 2], 3)
    >>> placement.faces.tolist(), placement.modules.tolist()
    ([1, 0], [2, 1])
    >>> round(float(placement.production_kwh.sum()), 6)  # 0.3 + 0.05 kWh each hour
    3066.0
    """
    ranking = rank_faces(face_profiles_kwh, face_modules)
    total = int(ranking.modules.sum())
    if not 0 <= n_modules <= total:
        raise InputError(f"must be between 0 and {total}, got {n_modules}", source="n_modules")
    taken = np.clip(n_modules - (np.cumsum(ranking.modules) - ranking.modules), 0, ranking.modules)
    used = taken > 0
    return Placement(
        faces=ranking.faces[used],
        modules=taken[used],
        face_production_kwh=taken[used] * ranking.per_module[used].sum(axis=1),
        production_kwh=np.ascontiguousarray(taken @ ranking.per_module),
    )


def max_modules(max_kwc: float, module_kwc: float) -> int:
    """The most whole modules of ``module_kwc`` whose total stays within ``max_kwc``.

    Examples
    --------
    >>> max_modules(100.0, 0.425)  # 235 x 425 Wc = 99.875 kWc
    235
    """
    return int(np.floor(max_kwc / module_kwc + 1e-9))


@dataclass(frozen=True)
class SizingResult:
    """One installation size and its balance.

    Attributes
    ----------
    n_modules : int
        Modules on the best faces.
    kwc : float
        Peak power. [kWc]
    production_kwh : float
        [kWh yr-1]
    self_consumption_rate, self_sufficiency_rate : float
        [-]
    npv_eur : float or None
        Net present value at that size, when the sizing was economic. [€]
    """

    n_modules: int
    kwc: float
    production_kwh: float
    self_consumption_rate: float
    self_sufficiency_rate: float
    npv_eur: float | None = None


def _result(n: int, module_kwc: float, energy: AnnualEnergy, npv: float | None) -> SizingResult:
    return SizingResult(
        n_modules=n,
        kwc=n * module_kwc,
        production_kwh=energy.production_kwh,
        self_consumption_rate=energy.self_consumption_rate,
        self_sufficiency_rate=energy.self_sufficiency_rate,
        npv_eur=npv,
    )


def _check_target(target_rate: float) -> None:
    if not 0 < target_rate <= 1:
        raise InputError(f"must be in ]0, 1], got {target_rate!r}", source="target_rate")


def _sizes(
    face_profiles_kwh: np.ndarray,
    face_modules: np.ndarray,
    load_kwh: np.ndarray,
    *,
    module_kwc: float,
    battery: Battery | None,
    max_kwc: float | None = None,
) -> Iterator[tuple[int, AnnualEnergy]]:
    """The yearly energies of 0, 1, 2, ... modules placed best faces first.

    Up to every module of the faces, or the most that stay within ``max_kwc``. The
    inputs are checked before the first size is yielded.
    """
    if not (np.isfinite(module_kwc) and module_kwc > 0):
        raise InputError(f"must be > 0, got {module_kwc!r}", source="module_kwc")
    load = hourly_series(load_kwh, "load_kwh")
    ranking = rank_faces(face_profiles_kwh, face_modules)
    face_of_module = np.repeat(np.arange(ranking.modules.size), ranking.modules)
    if max_kwc is not None:
        face_of_module = face_of_module[: max_modules(max_kwc, module_kwc)]
    return _energies(ranking.per_module, face_of_module, load, battery)


def _energies(
    per_module: np.ndarray, face_of_module: np.ndarray, load: np.ndarray, battery: Battery | None
) -> Iterator[tuple[int, AnnualEnergy]]:
    # No production: nothing exported, nothing stored, the whole load imported.
    nothing = AnnualEnergy(
        production_kwh=0.0,
        consumption_kwh=float(load.sum()),
        self_consumed_kwh=0.0,
        self_supplied_kwh=0.0,
        surplus_kwh=0.0,
    )
    yield 0, nothing
    production = np.zeros(HOURS_PER_YEAR)
    for n, face in enumerate(face_of_module, start=1):
        production = production + per_module[face]
        yield n, annual_energy(production, load, battery)


def _best_npv(
    sizes: Iterable[tuple[int, AnnualEnergy]],
    *,
    module_kwc: float,
    table: economics.TariffTable,
    date: dt.date,
    battery: Battery | None,
    years: int,
    discount_rate: float | None,
    reduced_vat_eligible: bool,
) -> SizingResult:
    """The size of highest NPV; ``sizes`` starts with 0 modules, worth an NPV of 0."""
    walk = iter(sizes)
    _, nothing = next(walk)
    best = _result(0, module_kwc, nothing, 0.0)
    for n, energy in walk:
        tariffs = table.at(
            date,
            n * module_kwc,
            reduced_vat_eligible=reduced_vat_eligible,
            battery_kwh=battery.capacity_kwh if battery else 0.0,
        )
        npv = economics.net_present_value(
            n * module_kwc, energy, tariffs, years=years, discount_rate=discount_rate
        )
        if npv > (best.npv_eur or 0.0):
            best = _result(n, module_kwc, energy, npv)
    return best


def _smallest_reaching(
    sizes: Iterable[tuple[int, AnnualEnergy]], module_kwc: float, target_rate: float
) -> SizingResult | None:
    for n, energy in sizes:
        if energy.self_sufficiency_rate >= target_rate:
            return _result(n, module_kwc, energy, None)
    return None


def _largest_keeping(
    sizes: Iterable[tuple[int, AnnualEnergy]], module_kwc: float, target_rate: float
) -> SizingResult | None:
    best: SizingResult | None = None
    for n, energy in sizes:
        if energy.self_consumption_rate >= target_rate:
            best = _result(n, module_kwc, energy, None)
    return best


def size_for_npv(
    face_profiles_kwh: np.ndarray,
    face_modules: np.ndarray,
    load_kwh: np.ndarray,
    *,
    module_kwc: float,
    table: economics.TariffTable,
    date: dt.date,
    battery: Battery | None = None,
    years: int = 20,
    discount_rate: float | None = None,
    reduced_vat_eligible: bool = True,
) -> SizingResult:
    """The number of modules, best faces first, that maximises the NPV with surplus sale.

    Every size from 0 modules to the roof's capacity is evaluated, capped at the
    largest kWc the tariff table covers (100 kWc for the S21 surplus tariff). The tariff
    band follows the size, and a battery's cost is in every candidate's capex. Zero
    modules (no installation, NPV 0) is a candidate, so a roof where no size pays back
    gets ``n_modules == 0``.

    Parameters
    ----------
    face_profiles_kwh, face_modules
        As for :func:`rank_faces`.
    load_kwh : array_like
        (8760,) hourly consumption. [kWh]
    module_kwc : float
        Peak power of one module. [kWc]
    table : solar.household.economics.TariffTable
    date : datetime.date
        Date of the connection request, which sets the tariffs.
    battery : solar.household.selfconsumption.Battery, optional
    years : int
        Horizon. [yr]
    discount_rate : float, optional
        [yr-1] The table's assumption by default.
    reduced_vat_eligible : bool
        See :meth:`solar.household.economics.TariffTable.at`.

    Returns
    -------
    SizingResult
        With ``npv_eur`` set.
    """
    sizes = _sizes(
        face_profiles_kwh,
        face_modules,
        load_kwh,
        module_kwc=module_kwc,
        battery=battery,
        max_kwc=table.max_kwc,
    )
    return _best_npv(
        sizes,
        module_kwc=module_kwc,
        table=table,
        date=date,
        battery=battery,
        years=years,
        discount_rate=discount_rate,
        reduced_vat_eligible=reduced_vat_eligible,
    )


def size_for_self_sufficiency(
    face_profiles_kwh: np.ndarray,
    face_modules: np.ndarray,
    load_kwh: np.ndarray,
    *,
    module_kwc: float,
    target_rate: float,
    battery: Battery | None = None,
) -> SizingResult | None:
    """The fewest modules, best faces first, that cover ``target_rate`` of the load.

    Parameters
    ----------
    face_profiles_kwh, face_modules, load_kwh, module_kwc, battery
        As for :func:`size_for_npv`.
    target_rate : float
        Self-sufficiency ("taux d'autoproduction") to reach, in ]0, 1]. [-]

    Returns
    -------
    SizingResult or None
        None when even the whole roof does not reach the target.
    """
    _check_target(target_rate)
    sizes = _sizes(
        face_profiles_kwh, face_modules, load_kwh, module_kwc=module_kwc, battery=battery
    )
    return _smallest_reaching(sizes, module_kwc, target_rate)


def size_for_self_consumption(
    face_profiles_kwh: np.ndarray,
    face_modules: np.ndarray,
    load_kwh: np.ndarray,
    *,
    module_kwc: float,
    target_rate: float,
    battery: Battery | None = None,
) -> SizingResult | None:
    """The most modules, best faces first, whose self-consumption rate stays >= target.

    The self-consumption rate ("taux d'autoconsommation", share of the production used
    on site) falls as the installation grows: one module is almost wholly self-consumed.
    So the meaningful size for a target rate is the largest one that still meets it;
    the smallest size that reaches a share of the *load* is
    :func:`size_for_self_sufficiency`.

    Parameters
    ----------
    face_profiles_kwh, face_modules, load_kwh, module_kwc, battery
        As for :func:`size_for_npv`.
    target_rate : float
        Self-consumption rate to keep, in ]0, 1]. [-]

    Returns
    -------
    SizingResult or None
        None when even one module falls below the target (no consumption at all, say).
    """
    _check_target(target_rate)
    sizes = _sizes(
        face_profiles_kwh, face_modules, load_kwh, module_kwc=module_kwc, battery=battery
    )
    return _largest_keeping(sizes, module_kwc, target_rate)


@dataclass(frozen=True)
class SizingAdvice:
    """Sizes worth considering, on one set of faces, load and battery.

    Attributes
    ----------
    best_npv : SizingResult
        The number of modules of highest NPV over the horizon; 0 modules when no size
        pays back.
    largest_mostly_self_consumed : SizingResult or None
        The most modules whose self-consumption rate stays at or above
        ``self_consumption_target``; None when even one module falls below.
    smallest_for_self_sufficiency : SizingResult or None
        The fewest modules that cover ``self_sufficiency_target`` of the load; None when
        the whole roof does not.
    self_consumption_target, self_sufficiency_target : float
        [-]
    """

    best_npv: SizingResult
    largest_mostly_self_consumed: SizingResult | None
    smallest_for_self_sufficiency: SizingResult | None
    self_consumption_target: float
    self_sufficiency_target: float


def advise(
    face_profiles_kwh: np.ndarray,
    face_modules: np.ndarray,
    load_kwh: np.ndarray,
    *,
    module_kwc: float,
    table: economics.TariffTable,
    date: dt.date,
    self_consumption_target: float,
    self_sufficiency_target: float,
    battery: Battery | None = None,
    years: int = 20,
) -> SizingAdvice:
    """:func:`size_for_npv`, :func:`size_for_self_consumption` and
    :func:`size_for_self_sufficiency` at once, from one walk through the sizes.

    Parameters
    ----------
    face_profiles_kwh, face_modules, load_kwh, module_kwc, table, date, battery, years
        As for :func:`size_for_npv`.
    self_consumption_target, self_sufficiency_target : float
        The ``target_rate`` of :func:`size_for_self_consumption` and of
        :func:`size_for_self_sufficiency`. [-]

    Returns
    -------
    SizingAdvice
    """
    _check_target(self_consumption_target)
    _check_target(self_sufficiency_target)
    sizes: Sequence[tuple[int, AnnualEnergy]] = list(
        _sizes(face_profiles_kwh, face_modules, load_kwh, module_kwc=module_kwc, battery=battery)
    )
    within_tariffs = sizes[: max_modules(table.max_kwc, module_kwc) + 1]
    return SizingAdvice(
        best_npv=_best_npv(
            within_tariffs,
            module_kwc=module_kwc,
            table=table,
            date=date,
            battery=battery,
            years=years,
            discount_rate=None,
            reduced_vat_eligible=True,
        ),
        largest_mostly_self_consumed=_largest_keeping(sizes, module_kwc, self_consumption_target),
        smallest_for_self_sufficiency=_smallest_reaching(
            sizes, module_kwc, self_sufficiency_target
        ),
        self_consumption_target=self_consumption_target,
        self_sufficiency_target=self_sufficiency_target,
    )
