"""PV: module catalogue, layout counts worked by hand, production, suitability."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from solar import pv
from solar.calendar import HOURS_PER_YEAR
from solar.errors import InputError
from solar.irradiance import Shading, poa_irradiance
from solar.resources import DEFAULT_WEATHER, MODULES
from solar.weather import Weather, read_weather, solar_position

MODULE = pv.Module("test", length=1.722, width=1.134, pdc0=425.0, gamma_pdc=-0.003)
COS35 = math.cos(math.radians(35.0))  # 0.819152


@pytest.fixture(scope="module")
def weather() -> Weather:
    return read_weather(DEFAULT_WEATHER)


@pytest.fixture(scope="module")
def south_35(weather: Weather) -> np.ndarray:
    """Unshaded hourly irradiance on a 35° south face, (1, 8760)."""
    return poa_irradiance(weather, solar_position(weather), [35.0], [180.0]).poa_global


def _produce(weather: Weather, poa: np.ndarray, **kwargs: object) -> float:
    """Annual AC energy per kWc."""
    params: dict = {"module": MODULE, **kwargs}
    temp = params.pop("temp_air", weather.data["temp_air"].to_numpy())
    energy = pv.production(poa, temp, weather.data["wind_speed"].to_numpy(), [1.0], **params)
    return float(energy.sum())


# --- catalogue ---------------------------------------------------------------------------


def test_default_module() -> None:
    module = pv.load_module()
    assert (module.length, module.width, module.pdc0) == (1.722, 1.134, 425.0)
    assert -0.004 < module.gamma_pdc < -0.0025
    assert (module.u0, module.u1) == (pv.ROOF_U0, pv.ROOF_U1)  # mounted close to a roof
    assert pv.load_module("generic-perc-410").pdc0 == 410.0


def test_unknown_module(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown module 'nope'") as err:
        pv.load_module("nope")
    assert err.value.source == str(MODULES)
    bad = tmp_path / "modules.toml"
    bad.write_text("[modules.x]\nlength = 1.7\n")
    with pytest.raises(InputError, match="missing or bad field"):
        pv.load_module("x", path=bad)
    bad.write_text("modules = [")
    with pytest.raises(InputError, match="bad TOML") as err:
        pv.load_module(path=bad)
    assert err.value.source == str(bad)
    with pytest.raises(InputError, match="cannot read"):
        pv.load_module(path=tmp_path / "absent.toml")


# --- losses ------------------------------------------------------------------------------


def test_loss_table_has_a_source_for_each_loss() -> None:
    with open(pv.LOSSES, "rb") as f:
        table = tomllib.load(f)
    assert set(table["system"]) == set(pv.SYSTEM_LOSS_BREAKDOWN)
    for name, entry in table["system"].items():
        assert len(entry["source"]) > 20, name
        assert pv.SYSTEM_LOSS_BREAKDOWN[name] == entry["loss"]
    assert pv.INVERTER_EFFICIENCY == table["inverter"]["nominal_efficiency"] == 0.96
    # Shading, reflection, temperature and low light are computed hour by hour.
    assert not {"shading", "reflection", "temperature", "low_light"} & set(table["system"])


def test_system_losses_combine_multiplicatively() -> None:
    # 0.98 · 0.98 · 0.98 · 0.995 · 0.99 · 0.99 · 0.97 · 0.995 = 0.885863: 11.41 % lost.
    assert pytest.approx(0.1141, abs=5e-5) == pv.SYSTEM_LOSSES


def test_bad_loss_tables(tmp_path: Path) -> None:
    table = tmp_path / "losses.toml"
    inverter = '[inverter]\nnominal_efficiency = 0.96\nsource = "PVWatts"\n'
    table.write_text('[system.soiling]\nloss = 0.02\nsource = "PVWatts"\n' + inverter)
    assert pv.load_losses(table) == ({"soiling": 0.02}, 0.96)
    cases = {
        "[system.soiling]\nloss = 0.02\n" + inverter: "system.soiling: missing source",
        '[system.soiling]\nsource = "x"\n' + inverter: "missing or bad field",
        '[system.soiling]\nloss = 1.5\nsource = "x"\n' + inverter: "out of range",
        '[system.soiling]\nloss = 0.02\nsource = "x"\n': "inverter: missing source",
        "[system": "bad TOML",
    }
    for text, message in cases.items():
        table.write_text(text)
        with pytest.raises(InputError, match=message) as err:
            pv.load_losses(table)
        assert err.value.source == str(table)
    with pytest.raises(InputError, match="cannot read"):
        pv.load_losses(tmp_path / "absent.toml")


# --- the model's pieces, against pvlib ---------------------------------------------------


def test_roof_thermal_coefficients_translate_the_sandia_close_mount() -> None:
    # Sandia "close roof mount, glass/cell/glass" (a = -2.98, b = -0.0471) in Faiman's form
    # (Driesse et al. 2022), for the default module (425 W on 1.722 × 1.134 m, 21.76 %).
    model = pvlib.temperature.GenericLinearModel(
        module_efficiency=425.0 / (1.722 * 1.134 * 1000.0), absorptance=0.9
    )
    sapm = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["close_mount_glass_glass"]
    faiman = model.use_sapm(sapm["a"], sapm["b"]).to_faiman()
    assert (faiman["u0"], faiman["u1"]) == pytest.approx((19.504, 1.0900), abs=1e-3)
    assert pytest.approx(faiman["u0"], abs=0.01) == pv.ROOF_U0
    # u1 is per m/s of 10 m wind at Sandia; per m/s of wind at its 1 m racks over open
    # ground it is larger by 1 / 0.1^0.16 = 1 / 0.69183.
    test_rack = pvlib.atmosphere.windspeed_powerlaw(
        1.0, 10.0, 1.0, surface_type="neutral_air_above_flat_open_coast"
    )
    assert test_rack == pytest.approx(0.69183, abs=1e-5)
    assert pytest.approx(faiman["u1"] / test_rack, abs=0.01) == pv.ROOF_U1


def test_wind_is_brought_down_to_the_modules() -> None:
    reference = pvlib.atmosphere.windspeed_powerlaw(
        np.array([0.0, 1.0, 5.0]),
        10.0,
        6.0,
        surface_type="neutral_air_above_human_inhabited_areas",
    )
    # 0.6^0.34 = 0.840565
    assert_allclose(reference, [0.0, 0.840565, 4.202826], atol=1e-6)
    assert_allclose(pv.wind_at_module_height([0.0, 1.0, 5.0]), reference, atol=1e-9)


def test_incidence_modifier_is_martin_ruiz() -> None:
    iam = pv.incidence_modifier([35.0, 10.0, 35.0])
    cos_aoi = np.linspace(0.0, 1.0, 37)
    # Martin and Ruiz (2001), a_r = 0.16: (1 - exp(-cos θ / a_r)) / (1 - exp(-1 / a_r)).
    by_hand = (1.0 - np.exp(-cos_aoi / 0.16)) / (1.0 - np.exp(-1.0 / 0.16))
    beam = np.interp(cos_aoi, np.linspace(0.0, 1.0, iam.beam.size), iam.beam)
    assert_allclose(beam, by_hand, atol=2e-5)
    assert_allclose(beam, pvlib.iam.martin_ruiz(np.degrees(np.arccos(cos_aoi))), atol=2e-5)
    # pvlib.iam.marion_diffuse("martin_ruiz", [35, 10])
    assert_allclose(iam.sky, [0.964283, 0.955247, 0.964283], atol=1e-5)
    assert_allclose(iam.horizon, [0.912309, 0.569052, 0.912309], atol=1e-5)
    assert_allclose(iam.ground, [0.821276, 0.441720, 0.821276], atol=1e-5)
    # Between the tilts of its table, within 3e-4 of pvlib's integral.
    between = pv.incidence_modifier([23.3, 47.81])
    direct = pvlib.iam.marion_diffuse("martin_ruiz", np.array([23.3, 47.81]))
    for name in ("sky", "horizon", "ground"):
        assert_allclose(getattr(between, name), direct[name], atol=3e-4)


def test_incidence_modifier_per_component(weather: Weather) -> None:
    """An open 35° south plane: the cells' irradiance, component by component from pvlib."""
    solpos = solar_position(weather)
    plane = poa_irradiance(weather, solpos, [35.0], [180.0], iam=pv.incidence_modifier([35.0]))
    assert plane.poa_effective is not None
    data = weather.data
    zenith, azimuth = solpos["apparent_zenith"], solpos["azimuth"]
    sky = pvlib.irradiance.perez(
        35.0,
        180.0,
        data["dhi"],
        data["dni"],
        pvlib.irradiance.get_extra_radiation(data.index.day_of_year),
        zenith,
        azimuth,
        pvlib.atmosphere.get_relative_airmass(zenith),
        return_components=True,
    ).fillna(0.0)
    aoi = pvlib.irradiance.aoi(35.0, 180.0, zenith, azimuth)
    beam = np.clip(data["dni"] * np.cos(np.radians(aoi)), 0.0, None)
    ground = pvlib.irradiance.get_ground_diffuse(35.0, data["ghi"], albedo=0.2)
    modifier = pvlib.iam.martin_ruiz(aoi.clip(upper=90.0))
    diffuse = pvlib.iam.marion_diffuse("martin_ruiz", 35.0)
    reference = (
        modifier * (beam + sky["poa_circumsolar"])
        + diffuse["sky"] * sky["poa_isotropic"]
        + diffuse["horizon"] * sky["poa_horizon"]
        + diffuse["ground"] * ground
    ).to_numpy()
    assert_allclose(plane.poa_effective[0], reference, atol=0.1)
    # 2.7 % of the year's irradiance is reflected away; the plane's own figures do not move.
    kept = reference.sum() / plane.poa_global[0].sum(dtype=np.float64)
    assert kept == pytest.approx(0.9734, abs=0.002)
    plain = poa_irradiance(weather, solpos, [35.0], [180.0])
    assert_allclose(plane.poa_global, plain.poa_global)
    assert plain.poa_effective is None


def test_incidence_modifier_keeps_shading(weather: Weather) -> None:
    """Half the beam lost to shade: the cells lose half of the beam's transmitted part."""
    solpos = solar_position(weather)
    iam = pv.incidence_modifier([35.0])
    lit = np.full((1, HOURS_PER_YEAR), 0.5)
    shaded = poa_irradiance(
        weather, solpos, [35.0], [180.0], iam=iam, shading=Shading(lit, [1.0], [1.0])
    )
    open_sky = poa_irradiance(weather, solpos, [35.0], [180.0], iam=iam)
    assert shaded.poa_effective is not None and open_sky.poa_effective is not None
    plain = poa_irradiance(weather, solpos, [35.0], [180.0], shading=Shading(lit, [1.0], [1.0]))
    assert_allclose(shaded.poa_global, plain.poa_global)
    lost_light = open_sky.poa_global - shaded.poa_global
    lost_cells = open_sky.poa_effective - shaded.poa_effective
    # What the shade takes reaches the cells at the beam modifier (≤ 1), never more.
    assert (lost_cells <= lost_light + 0.05).all()
    assert lost_cells.sum() == pytest.approx(0.5 * open_sky.poa_direct.sum() * 0.97, rel=0.02)


def test_iam_shapes(weather: Weather) -> None:
    solpos = solar_position(weather)
    iam = pv.incidence_modifier([35.0, 20.0])
    with pytest.raises(ValueError, match=r"IncidenceModifier\.sky"):
        poa_irradiance(weather, solpos, [35.0], [180.0], iam=iam)


def test_low_light_is_huld_with_recent_coefficients() -> None:
    # A module whose γ is pvgis6's own k3: dc_power is pvlib's Huld, pvgis6 c-Si, exactly.
    module = pv.Module("pvgis6", 1.722, 1.134, 425.0, gamma_pdc=-0.003015)
    irradiance = np.array([50.0, 200.0, 500.0, 1000.0, 1100.0])
    temp = np.array([10.0, 25.0, 40.0, 25.0, 60.0])
    reference = pvlib.pvarray.huld(irradiance, temp, 425.0, cell_type="csi", k_version="pvgis6")
    assert_allclose(pv.dc_power(irradiance, temp, 425.0, module), reference, rtol=1e-12)
    # By hand at 25 °C: G' = 0.2, ln G' = -1.609438; 1 - 0.006756 ln G' - 0.016444 ln² G'
    # = 1 + 0.010873 - 0.042595 = 0.968278.
    assert pv.dc_power(200.0, 25.0, 1.0, module) == pytest.approx(0.2 * 0.968278, abs=1e-6)
    # Below about 0.3 W m-2 the fit turns negative: nothing is produced.
    assert pv.dc_power([0.1, 0.0], [10.0, 10.0], 425.0, module).tolist() == [0.0, 0.0]


# --- production --------------------------------------------------------------------------


@pytest.mark.parametrize("tilt", [35.0, 40.0])
def test_yield_of_an_unshaded_south_roof(weather: Weather, tilt: float) -> None:
    """What the build computes for a roof face, without its shade."""
    solpos = solar_position(weather)
    plane = poa_irradiance(weather, solpos, [tilt], [180.0], iam=pv.incidence_modifier([tilt]))
    specific = pv.production(
        plane.poa_global,
        weather.data["temp_air"].to_numpy(),
        weather.data["wind_speed"].to_numpy(),
        [1.0],
        module=pv.load_module(),
        effective_irradiance=plane.poa_effective,
    ).sum()
    # Modules close to a roof in the Artois: 960 to 1,040 kWh/kWc (PVGIS's method gives
    # 1,000 to 1,030 on the same weather, a measured plant near Lens about 978).
    assert 960.0 <= specific <= 1040.0


def test_one_hour_by_hand() -> None:
    # 1000 W/m2 reaching the cells, 25 °C, 1 m/s at 10 m, 1 kWc, γ = -0.3 %/°C:
    # wind at 6 m: 0.6^0.34 = 0.840565 m/s;
    # T_module = 25 + 1000 / (19.5 + 1.58 · 0.840565) = 73.0121 °C;
    # Huld at G' = 1 (ln G' = 0): P_dc = 1000 · (1 - 0.003 · 48.0121) = 855.964 W;
    # 11.41 % losses: 758.298 W;
    # inverter: P_ac0 = 1000 / 1.1 = 909.09 W, P_dc0 = 909.09 / 0.96 = 946.97 W,
    # ζ = 0.800763, η = 0.96 / 0.9637 · (-0.0162 ζ - 0.0059 / ζ + 0.9858) = 0.961753;
    # P_ac = 729.296 W.
    out = pv.production([[1000.0]], [25.0], [1.0], [1.0], module=MODULE)
    assert out.dtype == np.float32
    assert out[0, 0] == pytest.approx(0.729296, abs=5e-5)
    # A tenth of the light reflected away heats the module as much: with ln 0.9 = -0.105361,
    # P_dc = 900 · (1 + 0.000712 - 0.000183 + 48.0121 · (-0.003 + 0.000004)) = 771.03 W,
    # 683.05 W after losses; ζ = 0.721305, η = 0.962227: P_ac = 657.25 W.
    reflected = pv.production(
        [[1000.0]], [25.0], [1.0], [1.0], module=MODULE, effective_irradiance=[[900.0]]
    )
    assert reflected[0, 0] == pytest.approx(0.65725, abs=5e-5)


def test_inverter_clips_at_its_ac_rating() -> None:
    # 1200 W/m2 at -10 °C and 10 m/s: T_module = -10 + 1200 / (19.5 + 1.58 · 8.40565) = 26.6 °C,
    # P_dc = 1200 · (1 + k1 ln 1.2 + k2 ln² 1.2 ...) · 0.8859 ≈ 1056 W, more than the
    # 909.09 W AC rating (1 kWc / 1.1) allows: the output is 0.90909 kWh.
    out = pv.production([[1200.0]], [-10.0], [10.0], [1.0], module=MODULE)
    assert out[0, 0] == pytest.approx(1.0 / 1.1, abs=1e-5)


def test_every_parameter_counts(weather: Weather, south_35: np.ndarray) -> None:
    base = _produce(weather, south_35)
    assert _produce(weather, south_35, system_losses=0.20) == pytest.approx(
        base * 0.80 / (1.0 - pv.SYSTEM_LOSSES), rel=0.01
    )
    assert _produce(weather, south_35, dc_ac_ratio=1.6) < base - 5.0
    # Close to a roof, the energy-weighted module temperature is near 40 °C: γ from -0.3
    # to -0.5 %/°C costs about 1.5 %.
    steeper = pv.Module("hot", 1.722, 1.134, 425.0, gamma_pdc=-0.005)
    assert _produce(weather, south_35, module=steeper) < base - 10.0
    warmer = weather.data["temp_air"].to_numpy() + 5.0
    assert _produce(weather, south_35, temp_air=warmer) < base - 10.0
    open_rack = pv.Module("open rack", 1.722, 1.134, 425.0, -0.003, u0=25.0, u1=6.84)
    assert _produce(weather, south_35, module=open_rack) > base + 10.0


def test_production_scales_with_kwc(weather: Weather, south_35: np.ndarray) -> None:
    poa = np.vstack([south_35, south_35, south_35])
    energy = pv.production(
        poa,
        weather.data["temp_air"].to_numpy(),
        weather.data["wind_speed"].to_numpy(),
        [1.0, 2.5, 0.0],
        module=MODULE,
    )
    assert energy.shape == (3, HOURS_PER_YEAR)
    assert_allclose(energy[1], 2.5 * energy[0], rtol=1e-5, atol=1e-6)
    assert not energy[2].any()
    assert (energy >= 0).all()


def test_production_shapes() -> None:
    with pytest.raises(ValueError, match="kwc"):
        pv.production(np.ones((2, 3)), np.ones(3), np.ones(3), [1.0], module=MODULE)
    with pytest.raises(ValueError, match="hours"):
        pv.production(np.ones((1, 3)), np.ones(4), np.ones(3), [1.0], module=MODULE)
    with pytest.raises(ValueError, match="effective_irradiance"):
        pv.production(
            np.ones((1, 3)),
            np.ones(3),
            np.ones(3),
            [1.0],
            module=MODULE,
            effective_irradiance=np.ones((1, 4)),
        )
    with pytest.raises(ValueError, match="system_losses"):
        pv.production(
            np.ones((1, 3)), np.ones(3), np.ones(3), [1.0], module=MODULE, system_losses=1
        )


# --- suitability -------------------------------------------------------------------------


def test_suitability_classes() -> None:
    cases = {0.99: "excellent", 0.90: "excellent", 0.8999: "good", 0.80: "good", 0.75: "fair"}
    cases |= {0.70: "fair", 0.6999: "poor", 0.0: "poor", float("nan"): "poor"}
    for value, expected in cases.items():
        assert pv.suitability(value) == expected
    assert pv.suitability_array(list(cases)).tolist() == list(cases.values())
    assert [name for name, _ in pv.SUITABILITY_CLASSES] == ["excellent", "good", "fair", "poor"]


# --- layout ------------------------------------------------------------------------------


def _check_placement(layout: pv.Layout, usable: shapely.Geometry) -> None:
    """Modules lie inside the usable outline and do not overlap."""
    parts = shapely.get_parts(layout.modules)
    assert len(parts) == layout.n_modules
    if not layout.n_modules:
        assert layout.modules.is_empty
        return
    assert shapely.contains(shapely.buffer(usable, 1e-6), layout.modules)
    overlap = shapely.area(parts).sum() - shapely.area(shapely.union_all(parts))
    assert overlap == pytest.approx(0.0, abs=1e-6)


def test_rectangle_lying_flat() -> None:
    # 10 m × 5 m, tilt 0 facing south: footprints are the modules themselves, 2 cm apart.
    # Portrait (1.134 wide, 1.722 deep): rows start every 1.742 m; 0 + 1.722 and
    #   1.742 + 1.722 = 3.464 fit, 3.484 + 1.722 = 5.206 does not: 2 rows;
    #   per row (10 + 0.02) // 1.154 = 8: 16 modules.
    # Landscape (1.722 wide, 1.134 deep): rows every 1.154 m; (5 - 1.134) // 1.154 + 1 = 4
    #   rows of (10 + 0.02) // 1.742 = 5: 20 modules. Landscape wins.
    usable = shapely.box(0.0, 0.0, 10.0, 5.0)
    layout = pv.layout_modules(usable, MODULE, 0.0, 180.0)
    assert (layout.n_modules, layout.orientation) == (20, "landscape")
    assert layout.kwc == pytest.approx(20 * 0.425)
    assert (layout.module_tilt, layout.module_azimuth) == (0.0, 180.0)
    _check_placement(layout, usable)


def test_rectangle_on_a_35_degree_face() -> None:
    # 8 m along the contour × 5 m in plan up the slope, 35° facing south; cos 35° = 0.819152.
    # Portrait: depth 1.722 · 0.819152 = 1.41058, pitch 1.41058 + 0.02 · 0.819152 = 1.42696;
    #   (5 - 1.41058) // 1.42696 + 1 = 3 rows of (8 + 0.02) // 1.154 = 6: 18.
    # Landscape: depth 1.134 · 0.819152 = 0.92892, pitch 0.94530;
    #   (5 - 0.92892) // 0.94530 + 1 = 5 rows of (8 + 0.02) // 1.742 = 4: 20. Landscape.
    usable = shapely.box(0.0, 0.0, 8.0, 5.0)
    layout = pv.layout_modules(usable, MODULE, 35.0, 180.0)
    assert (layout.n_modules, layout.orientation) == (20, "landscape")
    # Footprints in plan are the modules foreshortened by cos 35°.
    assert shapely.area(layout.modules) == pytest.approx(20 * 1.722 * 1.134 * COS35, rel=1e-9)
    _check_placement(layout, usable)
    # The same face turned to face south-east (azimuth 135°), rows still along the contour.
    turned = shapely.affinity.rotate(usable, 45.0, origin=(0.0, 0.0))
    layout = pv.layout_modules(turned, MODULE, 35.0, 135.0)
    assert (layout.n_modules, layout.orientation) == (20, "landscape")
    _check_placement(layout, turned)


def test_flat_roof_racks_face_south_with_row_spacing() -> None:
    # Racked at 10° facing south; noon sun on the winter solstice at Lens:
    # α = 90 - 50.45 - 23.44 = 16.11°, tan α = 0.288824. pitch = L (cos 10° + sin 10° / tan α)
    # = L · (0.984808 + 0.601229) = 1.586037 L.
    # Landscape: depth 1.134 · 0.984808 = 1.11677, pitch 1.79856;
    #   (6 - 1.11677) // 1.79856 + 1 = 3 rows of 5: 15.
    # Portrait: depth 1.69584, pitch 2.73115; (6 - 1.69584) // 2.73115 + 1 = 2 rows of 8: 16.
    assert pv.flat_row_pitch(1.134) == pytest.approx(1.134 * 1.586037, rel=1e-5)
    usable = shapely.box(0.0, 0.0, 10.0, 6.0)
    layout = pv.layout_modules(usable, MODULE, 0.0, None)
    assert (layout.n_modules, layout.orientation) == (16, "portrait")
    flat_plane = (pv.FLAT_MODULE_TILT, pv.FLAT_MODULE_AZIMUTH)
    assert (layout.module_tilt, layout.module_azimuth) == flat_plane
    _check_placement(layout, usable)
    nan_azimuth = pv.layout_modules(usable, MODULE, 0.0, float("nan"))
    assert nan_azimuth.n_modules == 16


@pytest.mark.parametrize(
    ("depth", "expected"),
    [
        # Plan depth 1.3 m at 30°: portrait needs 1.722 · cos 30° = 1.491 m, landscape
        # 0.982 m: one landscape row of (20 + 0.02) // 1.742 = 11.
        (1.3, (11, "landscape")),
        # 1.6 m: one portrait row of (20 + 0.02) // 1.154 = 17 beats 11 landscape.
        (1.6, (17, "portrait")),
    ],
)
def test_narrow_strip_picks_the_orientation_that_fits(
    depth: float, expected: tuple[int, str]
) -> None:
    usable = shapely.box(0.0, 0.0, 20.0, depth)
    layout = pv.layout_modules(usable, MODULE, 30.0, 180.0)
    assert (layout.n_modules, layout.orientation) == expected
    _check_placement(layout, usable)


def test_l_shape() -> None:
    # Two 10 m × 4 m arms at right angles (64 m2), lying flat. With rows from the bottom
    # (offset 0), landscape gives 3 full rows of 5 in the horizontal arm (tops at 1.134,
    # 2.288, 3.442) then 5 rows of (4 + 0.02) // 1.742 = 2 in the vertical arm: 25.
    # No layout holds more than 64 / (1.722 · 1.134) = 32.8 modules.
    usable = shapely.Polygon([(0, 0), (10, 0), (10, 4), (4, 4), (4, 10), (0, 10)])
    layout = pv.layout_modules(usable, MODULE, 0.0, 180.0)
    assert 25 <= layout.n_modules <= 32
    _check_placement(layout, usable)


def test_holes_and_parts() -> None:
    # A chimney (1 m square) in the middle of the 10 m × 5 m flat face of the first test.
    holed = shapely.box(0.0, 0.0, 10.0, 5.0).difference(shapely.box(4.5, 2.0, 5.5, 3.0))
    layout = pv.layout_modules(holed, MODULE, 0.0, 180.0)
    assert 0 < layout.n_modules < 20
    _check_placement(layout, holed)
    # Two copies side by side hold twice as many as one.
    two = shapely.MultiPolygon([shapely.box(0, 0, 10, 5), shapely.box(20, 0, 30, 5)])
    assert pv.layout_modules(two, MODULE, 0.0, 180.0).n_modules == 40


def test_collection_keeps_its_polygons() -> None:
    # What a difference can leave: the 10 m × 5 m face of the first test and a stray line.
    mixed = shapely.GeometryCollection(
        [shapely.box(0, 0, 10, 5), shapely.LineString([(20, 0), (30, 0)])]
    )
    assert pv.layout_modules(mixed, MODULE, 0.0, 180.0).n_modules == 20


def test_empty_and_tiny_polygons() -> None:
    nothing = (shapely.Polygon(), shapely.box(0, 0, 1, 1), shapely.MultiPolygon())
    for usable in (*nothing, shapely.LineString([(0, 0), (5, 5)])):
        layout = pv.layout_modules(usable, MODULE, 35.0, 180.0)
        assert layout.n_modules == 0
        assert layout.kwc == 0.0
        assert layout.modules.is_empty


@settings(max_examples=40, deadline=None)
@given(
    corners=st.lists(
        st.tuples(st.floats(0, 15, allow_nan=False), st.floats(0, 15, allow_nan=False)),
        min_size=3,
        max_size=8,
    ),
    tilt=st.floats(0, 60),
    azimuth=st.one_of(st.none(), st.floats(0, 359.9)),
)
def test_any_layout_is_a_valid_placement(
    corners: list[tuple[float, float]], tilt: float, azimuth: float | None
) -> None:
    usable = shapely.convex_hull(shapely.MultiPoint(corners))
    if not isinstance(usable, shapely.Polygon):
        usable = shapely.Polygon()
    layout = pv.layout_modules(usable, MODULE, tilt, azimuth)
    _check_placement(layout, usable)
    module_tilt = layout.module_tilt
    footprint = 1.722 * 1.134 * math.cos(math.radians(module_tilt))
    assert layout.n_modules * footprint <= shapely.area(usable) + 1e-6


def test_layout_frame_pandas_free() -> None:
    # Layout outputs are plain Python and shapely types, ready for the GeoPackage writer.
    layout = pv.layout_modules(shapely.box(0, 0, 10, 5), MODULE, 0.0, 180.0)
    assert isinstance(layout.n_modules, int)
    assert isinstance(layout.modules, shapely.MultiPolygon)
    assert not isinstance(layout.kwc, pd.Series)


def test_the_shipped_diffuse_modifiers_are_pvlibs() -> None:
    # pvlib's own integration over the same tilts, value for value
    grid = np.arange(0.0, 90.0 + pv.DIFFUSE_IAM_STEP / 2, pv.DIFFUSE_IAM_STEP)
    expected = pvlib.iam.marion_diffuse("martin_ruiz", grid, a_r=pv.MARTIN_RUIZ_AR)
    tilt, sky, horizon, ground = pv._diffuse_modifiers()
    np.testing.assert_array_equal(tilt, grid)
    np.testing.assert_array_equal(sky, expected["sky"])
    np.testing.assert_array_equal(horizon, expected["horizon"])
    np.testing.assert_array_equal(ground, expected["ground"])


def test_the_shipped_diffuse_table_is_what_its_writer_writes(tmp_path: Path) -> None:
    pv.write_diffuse_modifier_table(tmp_path / "table.csv")
    assert (tmp_path / "table.csv").read_bytes() == pv.DIFFUSE_IAM_TABLE.read_bytes()


def test_monthly_production_sums_the_served_hours(weather: Weather) -> None:
    # the build's monthly sums against the hours specific_production serves, shaded planes
    # of every kind: pitched, steep, north, and a flat roof's racked modules
    rng = np.random.default_rng(12)
    planes = [(35.0, 180.0), (60.0, 95.0), (20.0, 0.0), pv.module_plane(2.0, None)]
    tilt, azimuth = (np.array(v) for v in zip(*planes, strict=True))
    n = len(planes)
    lit = rng.uniform(0, 1, (n, HOURS_PER_YEAR)) * (rng.random((n, HOURS_PER_YEAR)) < 0.8)
    shading = Shading(lit.astype(np.float32), rng.uniform(0.3, 1, n), rng.uniform(0, 1, n))
    solpos = solar_position(weather)
    kwargs: dict = {"module": MODULE, "albedo": 0.3, "system_losses": 0.12}
    hours = pv.specific_production(weather, solpos, tilt, azimuth, shading, **kwargs)
    monthly = pv.monthly_specific_production(weather, solpos, tilt, azimuth, shading, **kwargs)
    expected = np.stack(
        [
            hours[:, pd.DatetimeIndex(weather.data.index).month == m].sum(axis=1, dtype=np.float64)
            for m in range(1, 13)
        ],
        axis=1,
    )
    assert_allclose(monthly, expected, rtol=1e-12)
    assert (monthly[:, 5] > monthly[:, 11]).all()
    with pytest.raises(ValueError, match="system_losses"):
        pv.monthly_specific_production(
            weather, solpos, tilt, azimuth, shading, module=MODULE, system_losses=1.0
        )
