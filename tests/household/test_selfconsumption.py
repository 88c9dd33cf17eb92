"""Self-consumption balance, battery, modules on the best faces, and sizing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pvlib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solar.errors import InputError
from solar.household import economics
from solar.household.loadcurves import HouseholdOptions, standard_profile
from solar.household.selfconsumption import Battery, annual_energy, simulate
from solar.household.sizing import (
    advise,
    place_modules,
    size_for_npv,
    size_for_self_consumption,
    size_for_self_sufficiency,
)

CALENDAR = pd.date_range("2023-01-01", periods=8760, freq="h", tz="UTC")


def pv_profile(kwc: float = 1.0, specific_yield: float = 950.0) -> np.ndarray:
    """A PV-like hourly profile: sine of the sun's elevation at Lens, scaled to a yield."""
    position = pvlib.solarposition.get_solarposition(CALENDAR + pd.Timedelta("30min"), 50.43, 2.83)
    shape = np.clip(np.sin(np.radians(position["apparent_elevation"].to_numpy())), 0, None)
    return shape / shape.sum() * kwc * specific_yield


PV = pv_profile()
LOAD = standard_profile("RES1", 4500.0)


def random_series(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    production = PV * rng.uniform(0.5, 8.0) * rng.uniform(0.3, 1.0, 8760)
    load = LOAD * rng.uniform(0.3, 3.0) * rng.uniform(0.5, 1.5, 8760)
    return production, load


# --------------------------------------------------------------------------- balance


@pytest.mark.parametrize(
    "battery",
    [None, Battery(5.0, 2.5), Battery(10.0, 3.0, 0.85, 0.1, 0.9)],
    ids=["none", "5kWh", "10kWh-bounded"],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_energy_balance_closes_exactly(battery, seed):
    production, load = random_series(seed)
    b = simulate(production, load, battery)
    assert b.self_consumed_kwh + b.surplus_kwh == pytest.approx(b.production_kwh, rel=1e-12)
    assert b.self_supplied_kwh + b.grid_import_kwh == pytest.approx(b.consumption_kwh, rel=1e-12)
    assert b.self_consumed_kwh == pytest.approx(
        b.self_supplied_kwh + b.battery_losses_kwh + b.battery_stored_kwh, rel=1e-12
    )
    np.testing.assert_allclose(b.hourly_self_consumed + b.hourly_surplus, production, atol=1e-12)
    np.testing.assert_allclose(b.hourly_self_supplied + b.hourly_grid_import, load, atol=1e-12)
    assert b.production_kwh == pytest.approx(production.sum(), rel=1e-12)
    assert b.consumption_kwh == pytest.approx(load.sum(), rel=1e-12)
    assert 0 <= b.self_consumption_rate <= 1
    assert 0 <= b.self_sufficiency_rate <= 1
    if battery is None:
        assert b.self_consumed_kwh == b.self_supplied_kwh
        assert b.battery_losses_kwh == 0
    else:
        eta = battery.round_trip_efficiency
        # Every kWh that went through the battery lost 1 - sqrt(eta) twice.
        assert b.battery_losses_kwh > 0
        assert b.battery_discharge_kwh <= eta * b.battery_charge_kwh + 1e-9


def test_monthly_rows_add_up_to_the_year():
    b = simulate(PV * 4, LOAD, Battery(5.0, 2.5))
    assert [m.month for m in b.monthly] == list(range(1, 13))
    for name in ("production", "consumption", "self_consumed", "surplus", "grid_import"):
        total = sum(getattr(m, f"{name}_kwh") for m in b.monthly)
        assert total == pytest.approx(getattr(b, f"{name}_kwh"), rel=1e-12)
    # January is 744 hours: its production is the sum of the first 744 values.
    assert b.monthly[0].production_kwh == pytest.approx((PV * 4)[:744].sum(), rel=1e-12)


def test_no_production_means_no_self_consumption():
    for battery in (None, Battery(5.0, 2.5)):
        b = simulate(np.zeros(8760), LOAD, battery)
        assert b.self_consumed_kwh == 0
        assert b.self_supplied_kwh == 0
        assert b.self_consumption_rate == 0
        assert b.self_sufficiency_rate == 0
        assert b.grid_import_kwh == pytest.approx(LOAD.sum(), rel=1e-12)


def test_hand_computed_battery_day():
    # 2 kWh surplus at hour 0, 1.5 kWh deficit at hours 1 and 2; 1 kWh/h power limit,
    # 3 kWh usable, 81 % round trip (0.9 each way).
    production = np.zeros(8760)
    load = np.zeros(8760)
    production[0] = 2.0
    load[1] = load[2] = 1.5
    b = simulate(production, load, Battery(3.0, 1.0, round_trip_efficiency=0.81))
    # Hour 0: charge limited to 1 kWh AC, 0.9 kWh stored; 1 kWh exported.
    # Hour 1: discharge limited to 1 kWh AC, needs 1/0.9 = 1.111 stored: only 0.9 stored,
    # so 0.9 x 0.9 = 0.81 kWh delivered and the battery is empty.
    assert b.battery_charge_kwh == pytest.approx(1.0)
    assert b.surplus_kwh == pytest.approx(1.0)
    assert b.battery_discharge_kwh == pytest.approx(0.81)
    assert b.self_supplied_kwh == pytest.approx(0.81)
    assert b.grid_import_kwh == pytest.approx(3.0 - 0.81)
    assert b.battery_losses_kwh == pytest.approx(0.19)
    assert b.battery_stored_kwh == pytest.approx(0.0, abs=1e-12)
    assert b.hourly_state_of_charge is not None
    assert b.hourly_state_of_charge[0] == pytest.approx(0.9)


def reference_battery(production, load, battery):
    """Plain-Python dispatch, written independently of the numba kernel."""
    eta = battery.round_trip_efficiency**0.5
    low = battery.soc_min * battery.capacity_kwh
    high = battery.soc_max * battery.capacity_kwh
    stored = low
    supplied = exported = 0.0
    for p, load_h in zip(production.tolist(), load.tolist(), strict=True):
        if p >= load_h:
            room = (high - stored) / eta
            charge = min(p - load_h, battery.power_kw, room)
            stored += charge * eta
            exported += p - load_h - charge
            supplied += load_h
        else:
            available = (stored - low) * eta
            out = min(load_h - p, battery.power_kw, available)
            stored -= out / eta
            supplied += p + out
    return supplied, exported


@pytest.mark.parametrize("seed", [3, 4])
def test_numba_kernel_matches_a_plain_python_reference(seed):
    production, load = random_series(seed)
    battery = Battery(7.0, 3.0, 0.88, 0.05, 0.95)
    supplied, exported = reference_battery(production, load, battery)
    b = simulate(production, load, battery)
    assert b.self_supplied_kwh == pytest.approx(supplied, rel=1e-9)
    assert b.surplus_kwh == pytest.approx(exported, rel=1e-9)


@settings(max_examples=25, deadline=None, database=None)
@given(
    small=st.floats(0.5, 15.0),
    extra=st.floats(0.0, 15.0),
    power=st.floats(0.5, 5.0),
    seed=st.integers(0, 50),
)
def test_a_larger_battery_never_lowers_self_consumption(small, extra, power, seed):
    production, load = random_series(seed)
    smaller = simulate(production, load, Battery(small, power))
    larger = simulate(production, load, Battery(small + extra, power))
    none = simulate(production, load)
    assert larger.self_consumption_rate >= smaller.self_consumption_rate - 1e-12
    assert larger.self_sufficiency_rate >= smaller.self_sufficiency_rate - 1e-12
    assert smaller.self_consumption_rate >= none.self_consumption_rate - 1e-12


def test_more_daytime_consumption_raises_self_consumption():
    production = PV * 3
    at_work = simulate(production, standard_profile("RES1", 4500.0))
    at_home = simulate(
        production, standard_profile("RES1", 4500.0, HouseholdOptions(daytime_presence=True))
    )
    night_ev = simulate(
        production, standard_profile("RES1", 4500.0, HouseholdOptions(electric_vehicle="night"))
    )
    day_ev = simulate(
        production, standard_profile("RES1", 4500.0, HouseholdOptions(electric_vehicle="day"))
    )
    assert at_home.self_consumption_rate > at_work.self_consumption_rate + 0.005
    assert day_ev.self_consumption_rate > night_ev.self_consumption_rate + 0.05


def test_annual_energy_matches_simulate():
    for battery in (None, Battery(5.0, 2.5)):
        full = simulate(PV * 5, LOAD, battery)
        fast = annual_energy(PV * 5, LOAD, battery)
        assert fast.self_consumed_kwh == pytest.approx(full.self_consumed_kwh, rel=1e-12)
        assert fast.self_supplied_kwh == pytest.approx(full.self_supplied_kwh, rel=1e-12)
        assert fast.surplus_kwh == pytest.approx(full.surplus_kwh, rel=1e-12)
        assert fast.self_consumption_rate == pytest.approx(full.self_consumption_rate)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"capacity_kwh": 0.0, "power_kw": 1.0}, "battery.capacity_kwh"),
        ({"capacity_kwh": 5.0, "power_kw": -1.0}, "battery.power_kw"),
        (
            {"capacity_kwh": 5.0, "power_kw": 1.0, "round_trip_efficiency": 1.2},
            "battery.round_trip_efficiency",
        ),
        ({"capacity_kwh": 5.0, "power_kw": 1.0, "soc_min": 0.6, "soc_max": 0.5}, "battery.soc_max"),
    ],
)
def test_bad_battery_is_rejected(kwargs, field):
    with pytest.raises(InputError) as error:
        Battery(**kwargs)
    assert error.value.source == field


def test_bad_series_are_rejected():
    with pytest.raises(InputError, match="8760"):
        simulate(np.zeros(8759), LOAD)
    bad = LOAD.copy()
    bad[5] = -1
    with pytest.raises(InputError) as error:
        simulate(PV, bad)
    assert error.value.source == "load_kwh"


def test_battery_from_capacity_is_c_over_2():
    assert Battery.from_capacity(5.0) == Battery(5.0, 2.5)


# --------------------------------------------------------------------------- modules

# Three faces: a south face of 10 modules (100 kWh/module/yr), an east face of 4 modules
# (80 kWh/module), a north face of 6 modules (40 kWh/module), and an unusable face.
FACE_SHAPES = np.stack([PV, np.roll(PV, -2), np.roll(PV, 1), PV]) / PV.sum()
FACE_PROFILES = FACE_SHAPES * np.array([[1000.0], [320.0], [240.0], [0.0]])
FACE_MODULES = np.array([10, 4, 6, 0])


def test_modules_go_to_the_best_faces_first():
    np.testing.assert_allclose(place_modules(FACE_PROFILES, FACE_MODULES, 0).production_kwh, 0.0)
    seven = place_modules(FACE_PROFILES, FACE_MODULES, 7).production_kwh
    np.testing.assert_allclose(seven, FACE_PROFILES[0] * 0.7, rtol=1e-12)
    twelve = place_modules(FACE_PROFILES, FACE_MODULES, 12).production_kwh
    np.testing.assert_allclose(twelve, FACE_PROFILES[0] + FACE_PROFILES[1] / 2, rtol=1e-12)
    everything = place_modules(FACE_PROFILES, FACE_MODULES, 20).production_kwh
    np.testing.assert_allclose(everything, FACE_PROFILES.sum(axis=0), rtol=1e-12)
    assert twelve.sum() == pytest.approx(1000 + 160)


def test_placement_names_the_faces_in_ranking_order():
    # the same faces listed north, unusable, south, east
    shuffled = [2, 3, 0, 1]
    placement = place_modules(FACE_PROFILES[shuffled], FACE_MODULES[shuffled], 16)
    assert placement.faces.tolist() == [2, 3, 0]
    assert placement.modules.tolist() == [10, 4, 2]
    assert placement.n_modules == 16
    # 100, 80 and 40 kWh per module and year
    np.testing.assert_allclose(placement.face_production_kwh, [1000.0, 320.0, 80.0], rtol=1e-12)
    np.testing.assert_allclose(placement.production_kwh.sum(), 1400.0, rtol=1e-12)


def test_modules_beyond_the_roof_are_rejected():
    with pytest.raises(InputError) as error:
        place_modules(FACE_PROFILES, FACE_MODULES, 21)
    assert error.value.source == "n_modules"
    with pytest.raises(InputError):
        place_modules(FACE_PROFILES[:, :100], FACE_MODULES, 1)


# --------------------------------------------------------------------------- sizing

TABLE = economics.TariffTable.load()
DATE = dt.date(2026, 2, 15)
ROOF = np.stack([PV * 0.425 * 24, pv_profile(0.425 * 10, 700.0)])  # 24 good + 10 poor modules
ROOF_MODULES = np.array([24, 10])


@pytest.mark.parametrize("battery", [None, Battery(5.0, 2.5)])
def test_size_for_npv_is_the_brute_force_maximum(battery):
    best = size_for_npv(
        ROOF, ROOF_MODULES, LOAD, module_kwc=0.425, table=TABLE, date=DATE, battery=battery
    )
    npvs = [0.0]
    for n in range(1, 35):
        production = place_modules(ROOF, ROOF_MODULES, n).production_kwh
        tariffs = TABLE.at(DATE, n * 0.425, battery_kwh=battery.capacity_kwh if battery else 0)
        balance = simulate(production, LOAD, battery)
        npvs.append(economics.evaluate(n * 0.425, balance, tariffs).npv_eur)
    assert best.n_modules == int(np.argmax(npvs))
    assert best.npv_eur == pytest.approx(max(npvs), rel=1e-9)
    assert best.kwc == pytest.approx(best.n_modules * 0.425)


def test_size_for_npv_says_zero_when_nothing_pays():
    tiny_load = LOAD * 0.01
    poor_roof = ROOF * 0.05
    best = size_for_npv(
        poor_roof, ROOF_MODULES, tiny_load, module_kwc=0.425, table=TABLE, date=DATE
    )
    assert best.n_modules == 0
    assert best.npv_eur == 0.0


def test_size_for_self_sufficiency_is_the_smallest_reaching_the_target():
    result = size_for_self_sufficiency(ROOF, ROOF_MODULES, LOAD, module_kwc=0.425, target_rate=0.30)
    assert result is not None
    assert result.self_sufficiency_rate >= 0.30
    before = simulate(place_modules(ROOF, ROOF_MODULES, result.n_modules - 1).production_kwh, LOAD)
    assert before.self_sufficiency_rate < 0.30
    assert (
        size_for_self_sufficiency(ROOF, ROOF_MODULES, LOAD, module_kwc=0.425, target_rate=0.95)
        is None
    )


def test_size_for_self_consumption_is_the_largest_keeping_the_rate():
    result = size_for_self_consumption(ROOF, ROOF_MODULES, LOAD, module_kwc=0.425, target_rate=0.6)
    assert result is not None
    assert result.self_consumption_rate >= 0.6
    after = simulate(place_modules(ROOF, ROOF_MODULES, result.n_modules + 1).production_kwh, LOAD)
    assert after.self_consumption_rate < 0.6
    nobody = np.zeros(8760)
    assert (
        size_for_self_consumption(ROOF, ROOF_MODULES, nobody, module_kwc=0.425, target_rate=0.1)
        is None
    )


@pytest.mark.parametrize(
    ("module_kwc", "battery"),
    [(0.425, None), (0.425, Battery(5.0, 2.5)), (4.0, None)],  # 4 kWc modules: 25 fit the bands
)
def test_advise_answers_the_three_questions_as_each_function(module_kwc, battery):
    common = {"module_kwc": module_kwc, "battery": battery}
    advice = advise(
        ROOF,
        ROOF_MODULES,
        LOAD,
        table=TABLE,
        date=DATE,
        self_consumption_target=0.6,
        self_sufficiency_target=0.3,
        **common,
    )
    assert advice.best_npv == size_for_npv(
        ROOF, ROOF_MODULES, LOAD, table=TABLE, date=DATE, **common
    )
    assert advice.largest_mostly_self_consumed == size_for_self_consumption(
        ROOF, ROOF_MODULES, LOAD, target_rate=0.6, **common
    )
    assert advice.smallest_for_self_sufficiency == size_for_self_sufficiency(
        ROOF, ROOF_MODULES, LOAD, target_rate=0.3, **common
    )
    assert (advice.self_consumption_target, advice.self_sufficiency_target) == (0.6, 0.3)
    assert advice.best_npv.kwc <= TABLE.max_kwc
