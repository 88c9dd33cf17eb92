"""Specific yield of an unshaded south roof in the Artois: this project against PVGIS's method.

    python scripts/compare_yield.py             # with the package installed (./dev)
    PYTHONPATH=. python scripts/compare_yield.py --tilts 30 35 40

On the Artois typical year (:data:`solar.resources.DEFAULT_WEATHER`), for each tilt facing
south, with the plane-of-array irradiance of :func:`solar.irradiance.poa_irradiance`
(Perez) for every row, it prints the annual AC energy per kWc:

- ``before``: the open-rack model this project used until modules close to a roof were
  modelled (Faiman with pvlib's open-rack defaults fed the 10 m wind, PVWatts DC without
  low-light loss, 14 % losses including 2.5 % of reflection, PVWatts inverter);
- the steps from there to the current chain, one change at a time;
- ``this project``: :func:`solar.pv.production` with :func:`solar.pv.incidence_modifier`,
  the build's own code path;
- PVGIS's method, reproduced with pvlib on the same irradiance: Martin-Ruiz reflection
  (a_r = 0.16, its analytic diffuse formulas), Faiman module temperature fed the 10 m wind
  with PVGIS's crystalline-silicon coefficients (free-standing U0 = 26.9, U1 = 6.2;
  building-integrated U0 = 20.0, U1 = 3.2), Huld's model with the PVGIS 5 coefficients,
  and 14 % system losses (which include the inverter); without its spectral correction,
  and on Perez rather than its own transposition;
- the measured plant near Lens that the project compares with (about 978 kWh/kWc).

Nothing here is timed; one run takes a few seconds.
"""

from __future__ import annotations

import argparse

import numpy as np
import pvlib

from solar import pv
from solar.irradiance import poa_irradiance
from solar.resources import DEFAULT_WEATHER
from solar.weather import Weather, read_weather, solar_position

MEASURED_NEAR_LENS = 978.0
"""Specific yield of the measured residential plant near Lens. [kWh/kWc]"""

BEFORE_LOSSES = 0.14
"""The single loss factor of the open-rack model, reflection included. [unitless]"""

PVGIS_LOSSES = 0.14
"""PVGIS's default system loss, inverter included. [unitless]"""

PVGIS_MOUNTINGS = {"free-standing": (26.9, 6.2), "building-integrated": (20.0, 3.2)}
"""PVGIS's Faiman coefficients of crystalline silicon (U0 [W m-2 K-1], U1 [W m-3 s K-1]),
for the 10 m wind."""


def _ac(pdc: np.ndarray) -> float:
    """Annual AC energy of 1 kWc through the PVWatts inverter at DC/AC 1.1. [kWh]"""
    pdc0 = 1000.0 / 1.1 / pv.INVERTER_EFFICIENCY
    pac = pvlib.inverter.pvwatts(pdc, pdc0, eta_inv_nom=pv.INVERTER_EFFICIENCY)
    return float(np.sum(pac)) / 1000.0


def _huld(effective: np.ndarray, temp_module: np.ndarray, k: tuple[float, ...]) -> np.ndarray:
    """Relative DC power of 1 kW by Huld's model, never negative. [W]"""
    return np.maximum(1000.0 * pvlib.pvarray.huld(effective, temp_module, 1.0, k=k), 0.0)


def yields(weather: Weather, tilt: float) -> dict[str, float]:
    """The rows of the table for one south-facing tilt. [kWh/kWc]"""
    solpos = solar_position(weather)
    plane = poa_irradiance(weather, solpos, [tilt], [180.0], iam=pv.incidence_modifier([tilt]))
    assert plane.poa_effective is not None
    poa = plane.poa_global[0].astype(np.float64)
    effective = plane.poa_effective[0].astype(np.float64)
    temp = weather.data["temp_air"].to_numpy()
    wind10 = weather.data["wind_speed"].to_numpy()
    module = pv.load_module()
    gamma = module.gamma_pdc
    k_ours = (pv.HULD_K[0], pv.HULD_K[1], gamma, *pv.HULD_K[3:])
    kept = 1.0 - pv.SYSTEM_LOSSES

    open_rack = pvlib.temperature.faiman(poa, temp, wind10, 25.0, 6.84)
    roof = pvlib.temperature.faiman(
        poa, temp, pv.wind_at_module_height(wind10), pv.ROOF_U0, pv.ROOF_U1
    )
    rows = {
        "before: open rack, 10 m wind, no low light, 14 %": _ac(
            pvlib.pvsystem.pvwatts_dc(poa, open_rack, 1000.0, gamma) * (1 - BEFORE_LOSSES)
        ),
        "  + close roof mount, wind at the modules": _ac(
            pvlib.pvsystem.pvwatts_dc(poa, roof, 1000.0, gamma) * (1 - BEFORE_LOSSES)
        ),
        "  + Martin-Ruiz reflection, 2.5 % out of the losses": _ac(
            pvlib.pvsystem.pvwatts_dc(effective, roof, 1000.0, gamma)
            * (1 - BEFORE_LOSSES)
            / (1 - 0.025)
        ),
        "  + Huld low-light loss": _ac(
            _huld(effective, roof, k_ours) * (1 - BEFORE_LOSSES) / (1 - 0.025)
        ),
        "  + itemised losses (11.4 %, first year 1 %)": _ac(_huld(effective, roof, k_ours) * kept),
    }
    rows["this project (solar.pv.production)"] = float(
        pv.production(
            plane.poa_global,
            temp,
            wind10,
            [1.0],
            module=module,
            effective_irradiance=plane.poa_effective,
        ).sum()
    )

    # PVGIS: Martin-Ruiz on the beam and circumsolar, its analytic diffuse modifiers on the
    # rest (the ground's share from the plane's view of it, albedo 0.2).
    aoi = pvlib.irradiance.aoi(tilt, 180.0, solpos["apparent_zenith"], solpos["azimuth"])
    direct = plane.poa_direct[0].astype(np.float64)
    ground = pvlib.irradiance.get_ground_diffuse(tilt, weather.data["ghi"], albedo=0.2)
    ground = ground.to_numpy()
    sky = poa - direct - ground
    diffuse = pvlib.iam.martin_ruiz_diffuse(tilt, a_r=0.16)
    pvgis_effective = (
        pvlib.iam.martin_ruiz(np.clip(aoi.to_numpy(), 0.0, 90.0), a_r=0.16) * direct
        + diffuse["sky"] * sky
        + diffuse["ground"] * ground
    )
    k_pvgis5 = pvlib.pvarray._infer_k_huld("csi", 1.0, "pvgis5")
    for mounting, (u0, u1) in PVGIS_MOUNTINGS.items():
        temp_module = pvlib.temperature.faiman(poa, temp, wind10, u0, u1)
        dc = _huld(pvgis_effective, temp_module, k_pvgis5)
        rows[f"PVGIS's method, {mounting}, 14 %"] = float(np.sum(dc * (1 - PVGIS_LOSSES))) / 1000
    rows["measured plant near Lens"] = MEASURED_NEAR_LENS
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tilts", type=float, nargs="+", default=[35.0, 40.0])
    args = parser.parse_args()
    weather = read_weather(DEFAULT_WEATHER)
    table = {tilt: yields(weather, tilt) for tilt in args.tilts}
    names = list(next(iter(table.values())))
    width = max(map(len, names))
    print(f"Unshaded south roof, {DEFAULT_WEATHER.name}: AC energy per kWc [kWh/kWc]")
    print(" " * width + "".join(f"{f'{tilt:g}°':>9}" for tilt in args.tilts))
    for name in names:
        print(f"{name:<{width}}" + "".join(f"{table[tilt][name]:9.0f}" for tilt in args.tilts))


if __name__ == "__main__":
    main()
