"""A resident's project on one building, simulated at serve time from the cadastre.

The cadastre holds each face's 8760-hour AC production per kWc (``face_profiles``), so a
project is simulated without rerunning the chain. :func:`simulate_project` orchestrates
the domain modules, in this order:

1. **Faces.** The faces asked for, which must belong to the building; by default the
   building's faces worth equipping (suitability excellent, good or fair, with modules),
   the same faces as the building's totals in the cadastre.
2. **Modules.** ``n_modules`` (or ``kwc``, rounded to whole modules) placed on the best
   faces first, those of highest annual yield per module
   (:func:`solar.household.selfconsumption.production_for_modules`). By default every module of
   those faces, up to the largest size with a surplus tariff (100 kWc, S21).
3. **Balance**, hour by hour against the household's load, with an optional battery
   (:meth:`solar.household.selfconsumption.Battery.from_capacity`): see
   :mod:`solar.household.selfconsumption` for the identities.
4. **Economics** at the tariff date (:mod:`solar.household.economics`). No module means no
   installation: capex, prime, savings and revenue are 0, payback, IRR and LCOE undefined.
5. **Uncertainty**: P10 / P50 / P90 by the seeded Monte Carlo of
   :mod:`solar.household.uncertainty`.
6. **Sizing advice** on the same faces, load and battery: the size of highest NPV, the
   largest size that still uses at least :data:`SELF_CONSUMPTION_TARGET` of its production
   at home, and the smallest that covers :data:`SELF_SUFFICIENCY_TARGET` of the load.
7. **Solar water heater** (CESI) for the household on the building's best face
   (:mod:`solar.household.solarthermal`), as French cadastres show both options.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solar import pv
from solar.cadastre import Cadastre, FaceRecord
from solar.calendar import HOURS_PER_YEAR
from solar.errors import InputError
from solar.household import economics, selfconsumption, solarthermal, uncertainty
from solar.pv import WORTH_EQUIPPING
from solar.resources import DEFAULT_WEATHER
from solar.weather import read_weather

#: Self-consumption rate the "largest mostly self-consumed" size keeps. [-] Beyond it,
#: most of each added kWh is sold at the surplus tariff (4 c€/kWh up to 9 kWc since
#: 2025-Q2) instead of saving the Tarif Bleu price (about 19 c€/kWh): the point past which
#: a larger installation mostly feeds the grid.
SELF_CONSUMPTION_TARGET = 0.5
#: Self-sufficiency the "smallest for self-sufficiency" size reaches. [-] A household
#: without a battery uses about half its electricity at night, so half of the load is out
#: of reach of any roof; 30 % is what 2 to 3 kWc on a south roof give a 4,500 kWh/yr
#: household here, a target most roofs can meet.
SELF_SUFFICIENCY_TARGET = 0.3
#: Monte Carlo samples per simulation. [-] The cost of :func:`uncertainty.monte_carlo` is
#: its grid of hourly balances, not the samples; 1,000 samples put the P10 and P90 within
#: about one percentile point of their values (binomial standard error
#: sqrt(0.1 x 0.9 / 1000) = 0.9 %).
N_SAMPLES = 1000
#: Seed of the Monte Carlo: the same request always gets the same bands.
SEED = 0
#: Household size of the solar water heater when none is given: 4,500 kWh/yr on RES1 is
#: the consumption of a family of three to four without electric heating.
DEFAULT_PERSONS = 3
#: Where the weather files named in a cadastre's provenance are looked for.
WEATHER_DIR = DEFAULT_WEATHER.parent


@lru_cache(maxsize=4)
def monthly_temp_air(weather_path: Path) -> tuple[float, ...]:
    """Mean air temperature of each month of a weather file, January first. [°C]"""
    weather = read_weather(weather_path)
    temp = weather.data["temp_air"]
    month = pd.DatetimeIndex(temp.index).month
    return tuple(float(t) for t in temp.groupby(month).mean())


@dataclass(frozen=True, eq=False)
class Site:
    """What every simulation on one cadastre shares; build it once with :meth:`for_cadastre`.

    Attributes
    ----------
    tariffs : solar.household.economics.TariffTable
    temp_air_monthly : tuple of float
        (12,) mean air temperature of the cadastre's weather. [°C]
    system_losses : float
        System losses the cadastre's production was computed with. [-]
    weather_file : str
        Name of the weather file read for ``temp_air_monthly``.
    """

    tariffs: economics.TariffTable
    temp_air_monthly: tuple[float, ...]
    system_losses: float
    weather_file: str

    @classmethod
    def for_cadastre(cls, cadastre: Cadastre, tariffs: economics.TariffTable | None = None) -> Site:
        """The site of a cadastre, from its provenance.

        The weather file named in the provenance (the first part's, for a merged
        cadastre) is read from ``data/weather``; when it is not there, the default Artois
        weather is used. The system losses are the build options', by default
        :data:`solar.pv.SYSTEM_LOSSES`.
        """
        build = _build_provenance(cadastre.provenance())
        name = Path(str(build.get("weather_file") or DEFAULT_WEATHER.name)).name
        path = WEATHER_DIR / name if (WEATHER_DIR / name).is_file() else DEFAULT_WEATHER
        options = build.get("options") or {}
        return cls(
            tariffs=tariffs or economics.TariffTable.load(),
            temp_air_monthly=monthly_temp_air(path),
            system_losses=float(options.get("system_losses", pv.SYSTEM_LOSSES)),
            weather_file=path.name,
        )


def _build_provenance(provenance: Mapping[str, Any]) -> Mapping[str, Any]:
    """The build's own entries: the top level, or the first part of a merged cadastre."""
    parts = provenance.get("parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], Mapping):
        return parts[0]
    return provenance


#: Plain names of the tables of :class:`solar.household.economics.TariffTable`, for messages.
_TABLE_NAMES = {
    "oa_surplus": "surplus purchase tariff",
    "prime_schedule": "payment of the self-consumption prime",
    "electricity": "electricity price",
    "vat": "VAT rates",
    "installed_cost": "installation costs",
    "battery_cost": "battery cost",
    "co2": "emission factors",
}


@dataclass(frozen=True)
class SurplusPeriod:
    """The row of the OA surplus table the economics used.

    Attributes
    ----------
    period : str
        Its name in the table, e.g. ``"2025-Q2 (1 Apr - 30 Jun 2025)"``.
    valid_from, valid_to : datetime.date
        Inclusive.
    source : str
    """

    period: str
    valid_from: dt.date
    valid_to: dt.date
    source: str


@lru_cache(maxsize=4)
def _surplus_periods(path: Path) -> tuple[SurplusPeriod, ...]:
    with path.open("rb") as f:
        rows = tomllib.load(f)["oa_surplus"]
    periods = (
        SurplusPeriod(str(r.get("period", "")), r["valid_from"], r["valid_to"], str(r["source"]))
        for r in rows
    )
    return tuple(sorted(periods, key=lambda p: p.valid_from))


def surplus_period(table: economics.TariffTable, date: dt.date) -> SurplusPeriod:
    """The OA surplus row in force at ``date``, or the last one when ``date`` is later.

    The same rule as :meth:`solar.household.economics.TariffTable.at`, which does not say which
    row it used.
    """
    periods = _surplus_periods(table.path)
    day = min(date, periods[-1].valid_to)
    for period in periods:
        if period.valid_from <= day <= period.valid_to:
            return period
    raise InputError(f"{date} is before the first tariff row", source="tariff_date")


@dataclass(frozen=True)
class SizingAdvice:
    """Sizes worth considering, on the project's faces, load and battery.

    Attributes
    ----------
    best_npv : solar.household.selfconsumption.SizingResult
        The number of modules of highest NPV over the project's horizon; 0 modules when
        no size pays back.
    largest_mostly_self_consumed : SizingResult or None
        The most modules whose self-consumption rate stays at or above
        ``self_consumption_target``; None when even one module falls below.
    smallest_for_self_sufficiency : SizingResult or None
        The fewest modules that cover ``self_sufficiency_target`` of the load; None when
        the whole roof does not.
    self_consumption_target, self_sufficiency_target : float
        [-]
    """

    best_npv: selfconsumption.SizingResult
    largest_mostly_self_consumed: selfconsumption.SizingResult | None
    smallest_for_self_sufficiency: selfconsumption.SizingResult | None
    self_consumption_target: float
    self_sufficiency_target: float


@dataclass(frozen=True, eq=False)
class ProjectResult:
    """One simulated project; see the module docstring for each step.

    Attributes
    ----------
    building_id : str
    face_ids : tuple of str
        Faces that got at least one module, best first.
    modules_per_face : Mapping[str, int]
        Modules on each of ``face_ids``.
    n_modules : int
    kwc : float
        Peak power installed. [kWc]
    module_kwc : float
        Peak power of one module. [kWc]
    balance : solar.household.selfconsumption.Balance
        The year-1 hourly balance.
    economics : solar.household.economics.Economics
        Over ``years``; all zero without a module.
    surplus_period : SurplusPeriod
        The OA surplus row used.
    tariffs_stale : bool
        The tariff date is after the end of a table used: the last known values were
        taken.
    tariffs_message : str or None
        Says so in plain words when ``tariffs_stale``.
    uncertainty : solar.household.uncertainty.Uncertainty
    sizing : SizingAdvice
    water_heater : solar.household.solarthermal.SolarWaterHeater or None
        None when the building has no face.
    water_heater_face_id : str or None
        The face the collector was placed on.
    warnings : tuple of str
        Plain messages for the resident: a size rounded or capped.
    """

    building_id: str
    face_ids: tuple[str, ...]
    modules_per_face: Mapping[str, int]
    n_modules: int
    kwc: float
    module_kwc: float
    balance: selfconsumption.Balance
    economics: economics.Economics
    surplus_period: SurplusPeriod
    tariffs_stale: bool
    tariffs_message: str | None
    uncertainty: uncertainty.Uncertainty
    sizing: SizingAdvice
    water_heater: solarthermal.SolarWaterHeater | None
    water_heater_face_id: str | None
    warnings: tuple[str, ...]


def _candidate_faces(
    faces: Sequence[FaceRecord], face_ids: Sequence[str] | None, building_id: str
) -> list[FaceRecord]:
    if face_ids is None:
        return [f for f in faces if (f.panels or 0) > 0 and f.suitability in WORTH_EQUIPPING]
    by_id = {f.face_id: f for f in faces}
    chosen = []
    for face_id in dict.fromkeys(face_ids):
        if face_id not in by_id:
            raise InputError(
                f"{face_id!r} is not a roof face of building {building_id!r}", source="face_ids"
            )
        chosen.append(by_id[face_id])
    return chosen


def _module_kwc(faces: Sequence[FaceRecord]) -> float:
    """Peak power of one module, from the faces that hold some; else the default module's."""
    for face in faces:
        if (face.panels or 0) > 0 and (face.kwc or 0) > 0:
            return float(face.kwc) / int(face.panels)
    return pv.load_module().pdc0 / 1000.0


def _allocation(
    profiles: np.ndarray, modules: np.ndarray, n_modules: int
) -> tuple[np.ndarray, np.ndarray]:
    """Modules per face when ``n_modules`` fill the best faces first, and the ranking.

    The rule of :func:`solar.household.selfconsumption.production_for_modules`, which returns only
    the production: faces with modules ranked by annual yield per module, stable on ties.
    """
    taken = np.zeros(modules.size, dtype=np.int64)
    usable = np.flatnonzero(modules > 0)
    per_module = (profiles[usable] / modules[usable, None]).sum(axis=1)
    order = usable[np.argsort(-per_module, kind="stable")]
    ordered = modules[order]
    taken[order] = np.clip(n_modules - (np.cumsum(ordered) - ordered), 0, ordered)
    return taken, order


def _module_count(
    n_modules: int | None,
    kwc: float | None,
    *,
    total: int,
    module_kwc: float,
    max_kwc: float,
    warnings: list[str],
) -> int:
    """Modules to place, checked against the roof and the tariff bands."""
    if n_modules is not None and kwc is not None:
        raise InputError("give n_modules or kwc, not both", source="kwc")
    cap = int(np.floor(max_kwc / module_kwc + 1e-9))
    holds = f"the chosen faces hold {total} modules ({total * module_kwc:.2f} kWc)"
    if kwc is not None:
        if not (np.isfinite(kwc) and kwc >= 0):
            raise InputError(f"must be a number >= 0, got {kwc!r}", source="kwc")
        n = round(kwc / module_kwc)
        if n > total:
            raise InputError(f"{holds}, fewer than {kwc:g} kWc", source="kwc")
        if n > cap:
            raise InputError(
                f"{kwc:g} kWc is above {max_kwc:g} kWc, the largest size with a surplus tariff",
                source="kwc",
            )
        if abs(n * module_kwc - kwc) > 1e-6:
            warnings.append(
                f"{kwc:g} kWc rounded to {n} modules of {module_kwc * 1000:.0f} Wc "
                f"({n * module_kwc:.3f} kWc)."
            )
        return n
    if n_modules is not None:
        if n_modules < 0:
            raise InputError(f"must be >= 0, got {n_modules}", source="n_modules")
        if n_modules > total:
            raise InputError(f"{holds}, fewer than {n_modules}", source="n_modules")
        if n_modules > cap:
            raise InputError(
                f"{n_modules} modules make {n_modules * module_kwc:.2f} kWc, above "
                f"{max_kwc:g} kWc, the largest size with a surplus tariff",
                source="n_modules",
            )
        return n_modules
    if total > cap:
        warnings.append(
            f"The roof holds {total * module_kwc:.1f} kWc; the project keeps the best {cap} "
            f"modules ({cap * module_kwc:.1f} kWc), as {max_kwc:g} kWc is the largest size "
            "with a surplus tariff."
        )
    return min(total, cap)


def _no_installation(years: int, tariffs: economics.Tariffs) -> economics.Economics:
    return economics.Economics(
        kwc=0.0,
        years=years,
        capex_eur=0.0,
        prime_eur=0.0,
        annual_savings_eur=0.0,
        surplus_revenue_eur_yr=0.0,
        payback_years=None,
        npv_eur=0.0,
        irr=None,
        lcoe_eur_kwh=float("inf"),
        co2_avoided_kg_yr=0.0,
        discount_rate=tariffs.discount_rate,
        cash_flows_eur=(0.0,) * (years + 1),
        tariffs=tariffs,
    )


def _no_uncertainty(spreads: uncertainty.Spreads, seed: int) -> uncertainty.Uncertainty:
    zero = uncertainty.Band(0.0, 0.0, 0.0)
    return uncertainty.Uncertainty(
        production_kwh_yr=zero,
        annual_savings_eur=zero,
        payback_years=uncertainty.Band(None, None, None),
        self_consumption_rate=zero,
        n_samples=0,
        seed=seed,
        spreads=spreads,
    )


def _orientation(face: FaceRecord) -> tuple[float, float]:
    """Module tilt and azimuth of a face: flat roofs carry modules at 10° facing south."""
    if face.is_flat or face.azimuth_deg is None:
        return pv.FLAT_MODULE_TILT, 180.0
    return float(face.tilt_deg), float(face.azimuth_deg)


def _water_heater(
    faces: Sequence[FaceRecord], temp_air_monthly: Sequence[float], persons: int
) -> tuple[solarthermal.SolarWaterHeater | None, str | None]:
    """The CESI on the face of highest irradiation that fits its collector."""
    if not faces:
        return None, None
    area, _ = solarthermal.size_cesi(persons)
    fitting = [f for f in faces if (f.usable_area_m2 or 0.0) >= area] or list(faces)
    best = max(fitting, key=lambda f: f.irradiation_kwh_m2_yr or 0.0)
    heater = solarthermal.simulate_cesi(
        np.asarray(best.irradiation_monthly_kwh_m2, dtype=np.float64),
        np.asarray(temp_air_monthly, dtype=np.float64),
        persons,
    )
    return heater, str(best.face_id)


def simulate_project(
    cadastre: Cadastre,
    building_id: str,
    load_kwh: np.ndarray,
    *,
    site: Site,
    face_ids: Sequence[str] | None = None,
    n_modules: int | None = None,
    kwc: float | None = None,
    battery_kwh: float = 0.0,
    tariff_date: dt.date | None = None,
    years: int = 20,
    persons: int = DEFAULT_PERSONS,
    spreads: uncertainty.Spreads | None = None,
    n_samples: int = N_SAMPLES,
    seed: int = SEED,
) -> ProjectResult:
    """Simulate a PV project on one building of the cadastre for one household.

    Parameters
    ----------
    cadastre : Cadastre
    building_id : str
    load_kwh : array_like
        (8760,) the household's hourly load on the weather calendar
        (:func:`solar.household.loadcurves.standard_profile` or a :class:`LinkyCurve`'s ``hourly``).
        [kWh]
    site : Site
        Tariffs and climate of the cadastre.
    face_ids : sequence of str, optional
        Faces to equip, all of the building; by default its faces worth equipping.
    n_modules : int, optional
        Modules to place on the best of those faces. At most one of ``n_modules`` and
        ``kwc``; by default every module of the faces.
    kwc : float, optional
        Peak power to place, rounded to the nearest whole number of modules. [kWc]
    battery_kwh : float
        Usable capacity of a home battery, 0 for none. [kWh]
    tariff_date : datetime.date, optional
        Date of the connection request that sets the tariffs; today by default.
    years : int
        Horizon of the economics. [yr]
    persons : int
        Household size, for the solar water heater.
    spreads : solar.household.uncertainty.Spreads, optional
        Uncertain inputs; :class:`Spreads` defaults (use
        :meth:`Spreads.for_measured_load` with a Linky curve).
    n_samples, seed : int
        Monte Carlo samples and seed.

    Returns
    -------
    ProjectResult

    Raises
    ------
    solar.errors.NotFound
        An unknown building.
    solar.errors.InputError
        Naming the field: a face not of the building (``face_ids``), more modules than
        the faces hold or than the largest tariff band (``n_modules``, ``kwc``), both of
        them, a negative battery, a tariff date before the table, a bad load or horizon.
    """
    cadastre.building(building_id)
    faces = cadastre.faces(building_id)
    candidates = _candidate_faces(faces, face_ids, building_id)
    module_kwc = _module_kwc(faces)
    profiles_per_kwc = cadastre.profiles([f.face_id for f in candidates])
    candidates = [f for f in candidates if f.face_id in profiles_per_kwc]
    profiles = np.zeros((len(candidates), HOURS_PER_YEAR))
    for i, face in enumerate(candidates):
        profiles[i] = profiles_per_kwc[face.face_id] * float(face.kwc or 0.0)
    modules = np.array([int(f.panels or 0) for f in candidates], dtype=np.int64)

    warnings: list[str] = []
    table = site.tariffs
    n = _module_count(
        n_modules,
        kwc,
        total=int(modules.sum()),
        module_kwc=module_kwc,
        max_kwc=table.max_kwc,
        warnings=warnings,
    )
    if not (np.isfinite(battery_kwh) and battery_kwh >= 0):
        raise InputError(f"must be a number >= 0, got {battery_kwh!r}", source="battery_kwh")
    battery = selfconsumption.Battery.from_capacity(battery_kwh) if battery_kwh > 0 else None
    load = np.ascontiguousarray(load_kwh, dtype=np.float64)
    production = selfconsumption.production_for_modules(profiles, modules, n)
    balance = selfconsumption.simulate(production, load, battery)

    date = tariff_date or dt.date.today()
    installed_kwc = n * module_kwc
    spreads = spreads or uncertainty.Spreads()
    taken, ranking = _allocation(profiles, modules, n)
    if n > 0:
        tariffs = table.at(date, installed_kwc, battery_kwh=battery_kwh)
        result = economics.evaluate(installed_kwc, balance, tariffs, years=years)
        used = np.flatnonzero(taken)
        orientation = np.array([_orientation(candidates[i]) for i in used])
        weights = taken[used] * profiles[used].sum(axis=1) / modules[used]
        bands = uncertainty.monte_carlo(
            production,
            load,
            kwc=installed_kwc,
            tariffs=tariffs,
            surface_tilt=orientation[:, 0],
            surface_azimuth=orientation[:, 1],
            face_weights=weights if weights.sum() > 0 else None,
            battery=battery,
            spreads=spreads,
            nominal_losses=site.system_losses,
            years=years,
            n_samples=n_samples,
            seed=seed,
        )
    else:
        # no installation: the prices of the smallest band, for the record
        tariffs = table.at(date, module_kwc)
        result = _no_installation(years, tariffs)
        bands = _no_uncertainty(spreads, seed)
    message = None
    if tariffs.stale:
        names = ", ".join(_TABLE_NAMES.get(name, name) for name in tariffs.stale)
        message = (
            f"The tariff table does not reach {date} for the {names}: the last known values "
            "are used, and may have changed since."
        )

    sizing = SizingAdvice(
        best_npv=selfconsumption.size_for_npv(
            profiles,
            modules,
            load,
            module_kwc=module_kwc,
            table=table,
            date=date,
            battery=battery,
            years=years,
        ),
        largest_mostly_self_consumed=selfconsumption.size_for_self_consumption(
            profiles,
            modules,
            load,
            module_kwc=module_kwc,
            target_rate=SELF_CONSUMPTION_TARGET,
            battery=battery,
        ),
        smallest_for_self_sufficiency=selfconsumption.size_for_self_sufficiency(
            profiles,
            modules,
            load,
            module_kwc=module_kwc,
            target_rate=SELF_SUFFICIENCY_TARGET,
            battery=battery,
        ),
        self_consumption_target=SELF_CONSUMPTION_TARGET,
        self_sufficiency_target=SELF_SUFFICIENCY_TARGET,
    )
    heater, heater_face = _water_heater(faces, site.temp_air_monthly, persons)
    used_ranked = [int(i) for i in ranking if taken[i] > 0]
    return ProjectResult(
        building_id=building_id,
        face_ids=tuple(candidates[i].face_id for i in used_ranked),
        modules_per_face={candidates[i].face_id: int(taken[i]) for i in used_ranked},
        n_modules=n,
        kwc=installed_kwc,
        module_kwc=module_kwc,
        balance=balance,
        economics=result,
        surplus_period=surplus_period(table, date),
        tariffs_stale=bool(tariffs.stale),
        tariffs_message=message,
        uncertainty=bands,
        sizing=sizing,
        water_heater=heater,
        water_heater_face_id=heater_face,
        warnings=tuple(warnings),
    )
