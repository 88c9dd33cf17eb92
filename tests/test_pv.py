"""PV: module catalogue, layout counts worked by hand, production, suitability."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from solar import pv
from solar.calendar import HOURS_PER_YEAR
from solar.errors import InputError
from solar.irradiance import poa_irradiance
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
    assert (module.u0, module.u1) == (25.0, 6.84)  # pvlib's Faiman defaults
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


def test_system_losses_add_up_to_14_percent() -> None:
    kept = np.prod([1.0 - loss for loss in pv.SYSTEM_LOSS_BREAKDOWN.values()])
    assert 1.0 - kept == pytest.approx(pv.SYSTEM_LOSSES, abs=0.001)


# --- production --------------------------------------------------------------------------


def test_yield_of_an_unshaded_35_south_face(weather: Weather, south_35: np.ndarray) -> None:
    # A roof-mounted south face at 35° in the Artois yields 1,000 to 1,150 kWh/kWc; measured 1076.2.
    specific = _produce(weather, south_35, module=pv.load_module())
    assert 1000.0 <= specific <= 1150.0


def test_one_hour_by_hand() -> None:
    # 1000 W/m2, 25 °C, 1 m/s, 1 kWc, γ = -0.3 %/°C, 14 % losses, DC/AC 1.1:
    # T_cell = 25 + 1000 / (25 + 6.84) = 56.407 °C
    # P_dc = 1000 · (1 - 0.003 · 31.407) · 0.86 = 778.97 W
    # inverter: P_ac0 = 1000 / 1.1 = 909.09 W, P_dc0 = 909.09 / 0.96 = 946.97 W,
    # ζ = 0.82259, η = 0.96 / 0.9637 · (-0.0162 ζ - 0.0059 / ζ + 0.9858) = 0.961595
    # P_ac = 749.05 W → 0.74905 kWh.
    out = pv.production([[1000.0]], [25.0], [1.0], [1.0], module=MODULE)
    assert out.dtype == np.float32
    assert out[0, 0] == pytest.approx(0.74905, abs=5e-5)


def test_inverter_clips_at_its_ac_rating() -> None:
    # 1100 W/m2 at -10 °C and 10 m/s: P_dc = 1011.9 W is more than the 909.09 W AC rating
    # (1 kWc / 1.1) allows: the output is 0.90909 kWh.
    out = pv.production([[1100.0]], [-10.0], [10.0], [1.0], module=MODULE)
    assert out[0, 0] == pytest.approx(1.0 / 1.1, abs=1e-5)


def test_every_parameter_counts(weather: Weather, south_35: np.ndarray) -> None:
    base = _produce(weather, south_35)
    assert _produce(weather, south_35, system_losses=0.20) == pytest.approx(
        base * 0.80 / 0.86, rel=0.01
    )
    assert _produce(weather, south_35, dc_ac_ratio=1.6) < base - 5.0
    # Open-rack Faiman with 10 m winds keeps the energy-weighted cell temperature near
    # 28 °C, so γ from -0.3 to -0.5 %/°C costs only about 0.5 %.
    steeper = pv.Module("hot", 1.722, 1.134, 425.0, gamma_pdc=-0.005)
    assert _produce(weather, south_35, module=steeper) < base - 3.0
    warmer = weather.data["temp_air"].to_numpy() + 5.0
    assert _produce(weather, south_35, temp_air=warmer) < base - 10.0
    still = pv.Module("close-mounted", 1.722, 1.134, 425.0, -0.003, u0=15.0, u1=0.0)
    assert _produce(weather, south_35, module=still) < base - 10.0


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
