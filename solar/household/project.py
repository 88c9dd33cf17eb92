"""A resident's project on one building, simulated at serve time from the cadastre.

The cadastre holds each face's 8760-hour AC production per kWc (``face_profiles``), so a
project is simulated without rerunning the chain. :func:`simulate_project` orchestrates
the domain modules, in this order:

1. **Faces.** The faces asked for, which must belong to the building; by default the
   building's faces worth equipping (suitability excellent, good or fair, with modules),
   the same faces as the building's totals in the cadastre.
2. **Modules.** ``n_modules`` (or ``kwc``, rounded to whole modules) placed on the best
   faces first, those of highest annual yield per module
   (:func:`solar.household.sizing.place_modules`). By default every module of those faces,
   up to the largest size with a surplus tariff (100 kWc, S21).
3. **Balance**, hour by hour against the household's load, with an optional battery
   (:meth:`solar.household.selfconsumption.Battery.from_capacity`): see
   :mod:`solar.household.selfconsumption` for the identities.
4. **Economics** at the tariff date (:mod:`solar.household.economics`), with the rows of
   the tariff table they used. No module means no installation: capex, prime, savings and
   revenue are 0, payback, IRR and LCOE undefined.
5. **Uncertainty**: P10 / P50 / P90 by the seeded Monte Carlo of
   :mod:`solar.household.uncertainty`.
6. **Sizing advice** on the same faces, load and battery (:mod:`solar.household.sizing`):
   the size of highest NPV, the largest size that still uses at least
   :data:`SELF_CONSUMPTION_TARGET` of its production at home, and the smallest that covers
   :data:`SELF_SUFFICIENCY_TARGET` of the load.
7. **Solar water heater** (CESI) for the household on the building's best face
   (:mod:`solar.household.solarthermal`), as French cadastres show both options.

What the resident asks is one :class:`ProjectInputs`; what every request on a cadastre
shares (tariffs, climate) is its :class:`Site`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from solar import pv
from solar.cadastre import Cadastre, FaceRecord
from solar.calendar import HOURS_PER_YEAR, MONTH_DAYS, monthly_sums
from solar.errors import InputError
from solar.household import economics, selfconsumption, sizing, solarthermal, uncertainty
from solar.household.economics import TariffRow
from solar.pv import WORTH_EQUIPPING
from solar.resources import DEFAULT_WEATHER, WEATHER_DIR
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


@lru_cache(maxsize=4)
def monthly_temp_air(weather_path: Path) -> tuple[float, ...]:
    """Mean air temperature of each month of a weather file, January first. [°C]"""
    temp = read_weather(weather_path).data["temp_air"].to_numpy(np.float64)
    return tuple(float(t) for t in monthly_sums(temp) / (24 * MONTH_DAYS))


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
        cadastre) is read from ``solar/data/weather``; when it is not there, the default Artois
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


@dataclass(frozen=True, eq=False)
class ProjectInputs:
    """What a resident asks: an installation on one building, for one household.

    Attributes
    ----------
    building_id : str
    load_kwh : numpy.ndarray
        (8760,) float64 hourly load of the household on the weather calendar. [kWh]
    face_ids : tuple of str or None
        Faces to equip; None for the building's faces worth equipping.
    n_modules : int or None
        Modules to place on the best of those faces; None with ``kwc``, or for all.
    kwc : float or None
        Peak power to place, rounded to whole modules; None with ``n_modules``, or for
        all. [kWc]
    battery_kwh : float
        Usable capacity of a home battery, 0 for none. [kWh]
    tariff_date : datetime.date
        Date of the connection request, which sets the tariffs.
    years : int
        Horizon of the economics. [yr]
    persons : int
        Household size, for the solar water heater.
    spreads : solar.household.uncertainty.Spreads
        Uncertain inputs of the Monte Carlo.
    n_samples, seed : int
        Monte Carlo samples and seed.
    """

    building_id: str
    load_kwh: np.ndarray
    face_ids: tuple[str, ...] | None = None
    n_modules: int | None = None
    kwc: float | None = None
    battery_kwh: float = 0.0
    tariff_date: dt.date = field(default_factory=dt.date.today)
    years: int = 20
    persons: int = DEFAULT_PERSONS
    spreads: uncertainty.Spreads = field(default_factory=uncertainty.Spreads)
    n_samples: int = N_SAMPLES
    seed: int = SEED

    def __post_init__(self) -> None:
        if self.n_modules is not None and self.kwc is not None:
            raise InputError("give n_modules or kwc, not both", source="kwc")
        if self.kwc is not None and not (np.isfinite(self.kwc) and self.kwc >= 0):
            raise InputError(f"must be a number >= 0, got {self.kwc!r}", source="kwc")
        if self.n_modules is not None and self.n_modules < 0:
            raise InputError(f"must be >= 0, got {self.n_modules}", source="n_modules")
        if not (np.isfinite(self.battery_kwh) and self.battery_kwh >= 0):
            raise InputError(
                f"must be a number >= 0, got {self.battery_kwh!r}", source="battery_kwh"
            )

    @property
    def battery(self) -> selfconsumption.Battery | None:
        """The home battery, None without one."""
        if self.battery_kwh > 0:
            return selfconsumption.Battery.from_capacity(self.battery_kwh)
        return None


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
    surplus_period : solar.household.economics.TariffRow
        The OA surplus row used, which names the S21 quarter.
    tariffs_stale : bool
        The tariff date is after the end of a table used: the last known values were
        taken.
    tariffs_message : str or None
        Says so in plain words when ``tariffs_stale``.
    uncertainty : solar.household.uncertainty.Uncertainty
    sizing : solar.household.sizing.SizingAdvice
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
    surplus_period: TariffRow
    tariffs_stale: bool
    tariffs_message: str | None
    uncertainty: uncertainty.Uncertainty
    sizing: sizing.SizingAdvice
    water_heater: solarthermal.SolarWaterHeater | None
    water_heater_face_id: str | None
    warnings: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class _Roof:
    """The building's faces, and those a project may equip with their production.

    Attributes
    ----------
    faces : tuple of FaceRecord
        Every face of the building.
    candidates : tuple of FaceRecord
        The faces asked for (or worth equipping) that have a production profile.
    profiles : numpy.ndarray
        (n_candidates, 8760) hourly AC production of each candidate with all its
        modules. [kWh]
    modules : numpy.ndarray
        (n_candidates,) int64 modules each candidate holds.
    module_kwc : float
        Peak power of one module. [kWc]
    """

    faces: tuple[FaceRecord, ...]
    candidates: tuple[FaceRecord, ...]
    profiles: np.ndarray
    modules: np.ndarray
    module_kwc: float


def _roof(cadastre: Cadastre, inputs: ProjectInputs) -> _Roof:
    """The faces of ``inputs.building_id`` and the production of those to equip."""
    building_id = inputs.building_id
    cadastre.building(building_id)
    faces = cadastre.faces(building_id)
    asked = _candidate_faces(faces, inputs.face_ids, building_id)
    profiles_per_kwc = cadastre.profiles([f.face_id for f in asked])
    candidates = tuple(f for f in asked if f.face_id in profiles_per_kwc)
    profiles = np.zeros((len(candidates), HOURS_PER_YEAR))
    for i, face in enumerate(candidates):
        profiles[i] = profiles_per_kwc[face.face_id] * float(face.kwc or 0.0)
    return _Roof(
        faces=tuple(faces),
        candidates=candidates,
        profiles=profiles,
        modules=np.array([int(f.panels or 0) for f in candidates], dtype=np.int64),
        module_kwc=_module_kwc(faces),
    )


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


def _module_count(
    n_modules: int | None,
    kwc: float | None,
    *,
    total: int,
    module_kwc: float,
    max_kwc: float,
    warnings: list[str],
) -> int:
    """Modules to place, checked against the roof and the tariff bands.

    ``n_modules`` and ``kwc`` are those of a :class:`ProjectInputs`, which checked them on
    their own; a warning is appended to ``warnings`` when a size is rounded or capped.
    """
    cap = sizing.max_modules(max_kwc, module_kwc)
    holds = f"the chosen faces hold {total} modules ({total * module_kwc:.2f} kWc)"
    if kwc is not None:
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


def _economics(
    roof: _Roof,
    placement: sizing.Placement,
    balance: selfconsumption.Balance,
    inputs: ProjectInputs,
    site: Site,
) -> tuple[economics.Economics, uncertainty.Uncertainty]:
    """The economics of the modules placed at the tariff date, and their P10-P90 bands."""
    table = site.tariffs
    if placement.n_modules == 0:
        # no installation: the prices of the smallest band, for the record
        tariffs = table.at(inputs.tariff_date, roof.module_kwc)
        return _no_installation(inputs.years, tariffs), _no_uncertainty(inputs)
    kwc = placement.n_modules * roof.module_kwc
    tariffs = table.at(inputs.tariff_date, kwc, battery_kwh=inputs.battery_kwh)
    money = economics.evaluate(kwc, balance, tariffs, years=inputs.years)
    # The Monte Carlo draws the deviations of the faces column by column: the faces go in
    # the cadastre's order, so that each keeps its draws whatever the yields' ranking.
    order = np.argsort(placement.faces)
    faces = [roof.candidates[i] for i in placement.faces[order]]
    planes = np.array([pv.module_plane(f.tilt_deg, f.azimuth_deg) for f in faces])
    weights = placement.face_production_kwh[order]
    bands = uncertainty.monte_carlo(
        placement.production_kwh,
        inputs.load_kwh,
        kwc=kwc,
        tariffs=tariffs,
        surface_tilt=planes[:, 0],
        surface_azimuth=planes[:, 1],
        face_weights=weights if weights.sum() > 0 else None,
        battery=inputs.battery,
        spreads=inputs.spreads,
        nominal_losses=site.system_losses,
        years=inputs.years,
        n_samples=inputs.n_samples,
        seed=inputs.seed,
    )
    return money, bands


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


def _no_uncertainty(inputs: ProjectInputs) -> uncertainty.Uncertainty:
    zero = uncertainty.Band(0.0, 0.0, 0.0)
    return uncertainty.Uncertainty(
        production_kwh_yr=zero,
        annual_savings_eur=zero,
        payback_years=uncertainty.Band(None, None, None),
        self_consumption_rate=zero,
        n_samples=0,
        seed=inputs.seed,
        spreads=inputs.spreads,
    )


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
        (:func:`solar.household.loadcurves.standard_profile` or a
        :class:`~solar.household.loadcurves.LinkyCurve`'s ``hourly``). [kWh]
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
        Uncertain inputs; :class:`~solar.household.uncertainty.Spreads` defaults (use
        :meth:`~solar.household.uncertainty.Spreads.for_measured_load` with a Linky curve).
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
    inputs = ProjectInputs(
        building_id=building_id,
        load_kwh=np.ascontiguousarray(load_kwh, dtype=np.float64),
        face_ids=None if face_ids is None else tuple(face_ids),
        n_modules=n_modules,
        kwc=kwc,
        battery_kwh=battery_kwh,
        tariff_date=tariff_date or dt.date.today(),
        years=years,
        persons=persons,
        spreads=spreads or uncertainty.Spreads(),
        n_samples=n_samples,
        seed=seed,
    )
    roof = _roof(cadastre, inputs)
    warnings: list[str] = []
    n = _module_count(
        inputs.n_modules,
        inputs.kwc,
        total=int(roof.modules.sum()),
        module_kwc=roof.module_kwc,
        max_kwc=site.tariffs.max_kwc,
        warnings=warnings,
    )
    placement = sizing.place_modules(roof.profiles, roof.modules, n)
    balance = selfconsumption.simulate(placement.production_kwh, inputs.load_kwh, inputs.battery)
    money, bands = _economics(roof, placement, balance, inputs, site)
    heater, heater_face = _water_heater(roof.faces, site.temp_air_monthly, inputs.persons)
    used = [roof.candidates[i].face_id for i in placement.faces]
    return ProjectResult(
        building_id=building_id,
        face_ids=tuple(used),
        modules_per_face=dict(zip(used, (int(m) for m in placement.modules), strict=True)),
        n_modules=n,
        kwc=n * roof.module_kwc,
        module_kwc=roof.module_kwc,
        balance=balance,
        economics=money,
        surplus_period=money.tariffs.surplus_row,
        tariffs_stale=bool(money.tariffs.stale),
        tariffs_message=money.tariffs.stale_message,
        uncertainty=bands,
        sizing=sizing.advise(
            roof.profiles,
            roof.modules,
            inputs.load_kwh,
            module_kwc=roof.module_kwc,
            table=site.tariffs,
            date=inputs.tariff_date,
            battery=inputs.battery,
            years=inputs.years,
            self_consumption_target=SELF_CONSUMPTION_TARGET,
            self_sufficiency_target=SELF_SUFFICIENCY_TARGET,
        ),
        water_heater=heater,
        water_heater_face_id=heater_face,
        warnings=tuple(warnings),
    )
