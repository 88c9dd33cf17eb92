"""Benchmark of the self-consumption chain.

    python scripts/bench_selfconsumption.py             # with the package installed (./dev)
    PYTHONPATH=. python scripts/bench_selfconsumption.py --runs 1000

Times the median of many runs of each step on the real data of the repository: a 6 kWc
south roof at 35° on the PVGIS typical year near Lens, the Enedis RES1 profile at
4,500 kWh/yr, a 5 kWh battery. numba compiles the battery kernel before timing starts.
The design target is 15 ms per simulation with a battery; the other rows have no target
but show what a request costs. The relative irradiation of tilted planes that the Monte
Carlo reads is computed on its first use in a process; that one-off cost is printed first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import pvlib

from solar.calendar import hourly_index
from solar.household.economics import TariffTable
from solar.household.loadcurves import read_linky, standard_profile
from solar.household.selfconsumption import Battery, annual_energy, simulate
from solar.household.sizing import size_for_npv
from solar.household.uncertainty import monte_carlo, orientation_factors
from solar.resources import DEFAULT_WEATHER, LINKY_EXAMPLE

TARGET_MS = 15.0


def roof_production(kwc: float = 6.0) -> np.ndarray:
    """Hourly AC production of a south roof at 35°, Perez sky, 75 % performance ratio."""
    weather = pd.read_csv(DEFAULT_WEATHER)
    times = hourly_index()
    sun = pvlib.solarposition.get_solarposition(times + pd.Timedelta("30min"), 50.811, 3.310)
    zenith = sun["apparent_zenith"].to_numpy()
    poa = pvlib.irradiance.get_total_irradiance(
        35.0,
        180.0,
        zenith,
        sun["azimuth"].to_numpy(),
        weather["Gb(n)"].to_numpy(),
        weather["G(h)"].to_numpy(),
        weather["Gd(h)"].to_numpy(),
        dni_extra=pvlib.irradiance.get_extra_radiation(np.asarray(times.day_of_year)),
        airmass=pvlib.atmosphere.get_relative_airmass(zenith),
        model="perez",
    )
    return np.nan_to_num(np.asarray(poa["poa_global"])) / 1000.0 * kwc * 0.75


def median_ms(function: Callable[[], object], runs: int) -> float:
    function()  # warm-up: numba compilation, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="runs of each fast step")
    args = parser.parse_args()

    production = roof_production()
    load = standard_profile("RES1", 4500.0)
    battery = Battery.from_capacity(5.0)
    table = TariffTable.load()
    date = dt.date(2026, 2, 15)
    tariffs = table.at(date, 6.0, battery_kwh=5.0)
    faces = np.stack([production * 0.6, production * 0.4 * 0.8])
    modules = np.array([9, 6])
    linky = LINKY_EXAMPLE.read_bytes()
    start = time.perf_counter()
    orientation_factors()
    first_call_ms = 1000.0 * (time.perf_counter() - start)

    rows = [
        ("simulate, 5 kWh battery", lambda: simulate(production, load, battery), args.runs, True),
        ("simulate, no battery", lambda: simulate(production, load), args.runs, True),
        (
            "annual_energy, 5 kWh battery",
            lambda: annual_energy(production, load, battery),
            args.runs,
            False,
        ),
        (
            "monte_carlo, 2000 samples, battery",
            lambda: monte_carlo(
                production,
                load,
                kwc=6.0,
                tariffs=tariffs,
                surface_tilt=35.0,
                surface_azimuth=180.0,
                battery=battery,
            ),
            max(args.runs // 15, 5),
            False,
        ),
        (
            "monte_carlo, 2000 samples, no battery",
            lambda: monte_carlo(
                production,
                load,
                kwc=6.0,
                tariffs=table.at(date, 6.0),
                surface_tilt=35.0,
                surface_azimuth=180.0,
            ),
            max(args.runs // 15, 5),
            False,
        ),
        ("read_linky, Enedis example (17,520 rows)", lambda: read_linky(linky), 10, False),
        (
            "size_for_npv, 15 modules on 2 faces",
            lambda: size_for_npv(faces, modules, load, module_kwc=0.4, table=table, date=date),
            10,
            False,
        ),
    ]
    balance = simulate(production, load, battery)
    print(
        f"6 kWc: {balance.production_kwh:,.0f} kWh/yr, load {balance.consumption_kwh:,.0f} kWh/yr,"
        f" self-consumption {balance.self_consumption_rate:.1%} with a 5 kWh battery"
    )
    print(f"orientation_factors, first call (once per process): {first_call_ms:.0f} ms")
    print(f"{'step':<42} {'median ms':>10} {'target ms':>10} {'ratio':>7}")
    for name, function, runs, has_target in rows:
        ms = median_ms(function, runs)
        target = f"{TARGET_MS:>10.1f}" if has_target else f"{'-':>10}"
        ratio = f"{ms / TARGET_MS:>7.3f}" if has_target else f"{'-':>7}"
        print(f"{name:<42} {ms:>10.3f} {target} {ratio}")


if __name__ == "__main__":
    main()
