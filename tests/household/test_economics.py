"""Dated tariff table and finance."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib

import numpy as np
import pytest

from solar.errors import InputError
from solar.household.economics import (
    DEFAULT_PATH,
    Tariffs,
    TariffTable,
    evaluate,
    irr,
    net_present_value,
    npv,
    payback,
)
from solar.household.selfconsumption import AnnualEnergy

TABLE = TariffTable.load()
D = dt.date


# --------------------------------------------------------------------------- the table


def test_every_row_has_dates_and_a_source():
    raw = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    rows = [row for name, value in raw.items() if isinstance(value, list) for row in value]
    assert len(rows) >= 20
    for row in rows:
        assert isinstance(row["valid_from"], dt.date)
        assert isinstance(row["valid_to"], dt.date)
        assert row["valid_from"] <= row["valid_to"]
        assert len(row["source"]) > 20
        assert isinstance(row["verified"], bool)
        if not row["verified"]:
            assert row.get("note"), "an unverified row says what was not checked"


def test_the_s21_table_covers_2024_q4_to_2026_q1():
    assert TABLE.at(D(2024, 11, 1), 6.0).stale == ()
    assert TABLE.last_date == D(2026, 3, 31)
    assert TABLE.max_kwc == 100


# The published values, and each quarter boundary: the day before and the day of.
@pytest.mark.parametrize(
    ("date", "kwc", "surplus", "prime"),
    [
        (D(2024, 11, 1), 3.0, 0.1269, 220),
        (D(2024, 11, 1), 3.01, 0.1269, 160),
        (D(2025, 1, 31), 2.0, 0.1269, 220),
        (D(2025, 2, 1), 2.0, 0.1269, 210),
        (D(2025, 3, 27), 6.0, 0.1269, 160),
        (D(2025, 3, 28), 6.0, 0.0400, 80),
        (D(2025, 3, 28), 2.0, 0.0400, 80),
        (D(2025, 3, 31), 20.0, 0.0761, 190),
        (D(2025, 4, 1), 9.0, 0.0400, 80),
        (D(2025, 4, 1), 20.0, 0.0761, 190),
        (D(2025, 6, 30), 20.0, 0.0761, 190),
        (D(2025, 7, 1), 20.0, 0.0731, 180),
        (D(2025, 7, 1), 50.0, 0.0731, 90),
        (D(2025, 9, 30), 36.0, 0.0731, 180),
        (D(2025, 10, 1), 36.0, 0.0617, 160),
        (D(2025, 10, 1), 36.01, 0.0617, 80),
        (D(2025, 12, 31), 9.01, 0.0617, 160),
        (D(2026, 1, 1), 9.01, 0.0536, 140),
        (D(2026, 1, 1), 100.0, 0.0536, 70),
        (D(2026, 3, 31), 6.0, 0.0400, 80),
    ],
)
def test_lookup_picks_the_row_of_the_date_and_the_band_of_the_size(date, kwc, surplus, prime):
    tariffs = TABLE.at(date, kwc)
    assert tariffs.surplus_eur_kwh == pytest.approx(surplus, abs=1e-9)
    assert tariffs.prime_eur_kwc == pytest.approx(prime, abs=1e-9)
    assert tariffs.stale == ()


def test_a_date_before_the_table_is_an_error():
    with pytest.raises(InputError) as error:
        TABLE.at(D(2024, 10, 31), 6.0)
    assert error.value.source == "tariff_date"


def test_a_date_after_the_table_uses_the_last_rows_and_says_so():
    late = TABLE.at(D(2026, 11, 26), 6.0)
    assert late.surplus_eur_kwh == 0.04
    assert late.electricity_eur_kwh == 0.1940
    assert "oa_surplus" in late.stale
    assert "electricity" in late.stale
    assert late.stale_message is not None
    assert "2026-11-26" in late.stale_message
    assert "surplus purchase tariff" in late.stale_message
    fresh = TABLE.at(dt.datetime(2026, 2, 2, 12, 0), 6.0)
    assert fresh.stale == ()
    assert fresh.stale_message is None


@pytest.mark.parametrize(
    ("date", "valid_from", "valid_to", "quarter"),
    [
        # each side of the quarter boundaries of the S21 table (CRE): Feb-Apr quarters
        # until March 2025, the four days of the arrêté of 26 March 2025, then calendar
        # quarters; after the table, its last row
        (D(2025, 1, 31), D(2024, 11, 1), D(2025, 1, 31), "2024-Q4"),
        (D(2025, 2, 1), D(2025, 2, 1), D(2025, 3, 27), "1 Feb - 27 Mar 2025"),
        (D(2025, 3, 27), D(2025, 2, 1), D(2025, 3, 27), "1 Feb - 27 Mar 2025"),
        (D(2025, 3, 28), D(2025, 3, 28), D(2025, 3, 31), "28 - 31 Mar 2025"),
        (D(2025, 3, 31), D(2025, 3, 28), D(2025, 3, 31), "28 - 31 Mar 2025"),
        (D(2025, 4, 1), D(2025, 4, 1), D(2025, 6, 30), "2025-Q2"),
        (D(2026, 3, 31), D(2026, 1, 1), D(2026, 3, 31), "2026-Q1"),
        (D(2030, 1, 1), D(2026, 1, 1), D(2026, 3, 31), "2026-Q1"),
    ],
)
def test_the_surplus_row_used_is_the_one_in_force(date, valid_from, valid_to, quarter):
    for kwc in (3.0, 50.0):  # the row holds every size band
        row = TABLE.at(date, kwc).surplus_row
        assert (row.table, row.valid_from, row.valid_to) == ("oa_surplus", valid_from, valid_to)
        assert quarter in row.period
        assert row.source


def test_the_rows_used_are_one_per_table_with_their_sources():
    # the Tarif Bleu changed on 1 February 2025
    before, after = TABLE.at(D(2025, 1, 31), 6.0), TABLE.at(D(2025, 2, 1), 6.0)
    assert before.row("electricity").valid_to == D(2025, 1, 31)
    assert after.row("electricity").valid_from == D(2025, 2, 1)
    assert before.row("electricity").source != after.row("electricity").source
    tables = [row.table for row in after.rows]
    assert tables == ["oa_surplus", "prime_schedule", "electricity", "installed_cost", "co2", "vat"]
    assert after.sources == tuple(dict.fromkeys(row.source for row in after.rows))
    with_battery = TABLE.at(D(2025, 2, 1), 6.0, battery_kwh=5.0)
    assert with_battery.rows[-1].table == "battery_cost"
    with pytest.raises(KeyError):
        after.row("battery_cost")


@pytest.mark.parametrize("kwc", [0.0, -1.0, 100.5, float("nan")])
def test_sizes_outside_the_s21_bands_are_errors(kwc):
    with pytest.raises(InputError) as error:
        TABLE.at(D(2025, 5, 1), kwc)
    assert error.value.source == "kwc"


@pytest.mark.parametrize(
    ("date", "kwc", "eligible", "vat"),
    [
        (D(2025, 9, 30), 2.5, True, 0.10),
        (D(2025, 9, 30), 6.0, True, 0.20),
        (D(2025, 10, 1), 6.0, True, 0.055),
        (D(2025, 10, 1), 6.0, False, 0.20),
        (D(2025, 12, 31), 2.5, False, 0.10),
        (D(2026, 1, 1), 2.5, False, 0.20),
        (D(2026, 1, 1), 2.5, True, 0.055),
        (D(2026, 1, 1), 12.0, True, 0.20),
    ],
)
def test_vat_by_size_date_and_conditions(date, kwc, eligible, vat):
    assert TABLE.at(date, kwc, reduced_vat_eligible=eligible).vat_rate == vat


@pytest.mark.parametrize(
    ("date", "price"),
    [
        (D(2025, 1, 31), 0.2516),
        (D(2025, 2, 1), 0.2016),
        (D(2026, 1, 31), 0.1952),
        (D(2026, 2, 1), 0.1940),
    ],
)
def test_tarif_bleu_by_date(date, price):
    assert TABLE.at(date, 6.0).electricity_eur_kwh == price


def test_prime_schedule_depends_on_size():
    assert TABLE.at(D(2025, 5, 1), 9.0).prime_schedule == (1.0,)
    assert TABLE.at(D(2025, 5, 1), 20.0).prime_schedule == (0.8, 0.05, 0.05, 0.05, 0.05)


def test_capex_includes_vat_and_the_battery():
    plain = TABLE.at(D(2026, 2, 1), 6.0)
    with_battery = TABLE.at(D(2026, 2, 1), 6.0, battery_kwh=5.0)
    assert plain.capex_eur == pytest.approx(6000 * plain.installed_cost_eur_per_wc * 1.055)
    assert with_battery.capex_eur - plain.capex_eur == pytest.approx(
        5.0 * plain.battery_eur_per_kwh
    )


def test_a_broken_table_is_refused(tmp_path):
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    overlapping = text.replace("valid_from = 2025-04-01", "valid_from = 2025-03-30", 1)
    (tmp_path / "overlap.toml").write_text(overlapping, encoding="utf-8")
    with pytest.raises(ValueError, match="without gap or overlap"):
        TariffTable.load(tmp_path / "overlap.toml")
    unsourced = text.replace('source = "photovoltaique.info FAQ 87', 'origin = "x', 1)
    (tmp_path / "unsourced.toml").write_text(unsourced, encoding="utf-8")
    with pytest.raises(ValueError, match="missing 'source'"):
        TariffTable.load(tmp_path / "unsourced.toml")


# --------------------------------------------------------------------------- finance


def test_npv_by_hand():
    # -1000 + 300/1.05 + 400/1.05^2 + 500/1.05^3
    expected = -1000 + 300 / 1.05 + 400 / 1.05**2 + 500 / 1.05**3
    assert float(npv([-1000, 300, 400, 500], 0.05)) == pytest.approx(expected, rel=1e-12)
    assert float(npv([-100, 110], 0.10)) == pytest.approx(0.0, abs=1e-12)


def test_irr_closed_forms():
    # Two equal flows: 100 x^2 = 60 x + 60 with x = 1 + r.
    x = (60 + math.sqrt(60**2 + 4 * 100 * 60)) / (2 * 100)
    assert irr([-100, 60, 60]) == pytest.approx(x - 1, abs=1e-10)
    # One flow after two years: (1 + r)^2 = 121 / 100.
    assert irr([-100, 0, 121]) == pytest.approx(0.10, abs=1e-10)
    # A level annuity whose rate is known: 1000 at 7 % over 10 years.
    annuity = 1000 * 0.07 / (1 - 1.07**-10)
    assert irr([-1000] + [annuity] * 10) == pytest.approx(0.07, abs=1e-10)
    # Money lost even at -99 %: recovered nothing, IRR below the search range.
    assert irr([-100, -10]) is None
    assert irr([100, 10]) is None


def test_payback_by_hand():
    assert float(payback([-100, 40, 40, 40])) == pytest.approx(2.5)
    assert float(payback([-100, 100, 5])) == pytest.approx(1.0)
    assert np.isnan(payback([-100, 10, 10]))
    many = payback(np.array([[-100, 40, 40, 40], [-100, 10, 10, 10]]))
    assert many[0] == pytest.approx(2.5)
    assert np.isnan(many[1])


def hand_tariffs(**changes) -> Tariffs:
    base = Tariffs(
        date=D(2026, 2, 1),
        kwc=2.0,
        band_max_kwc=3.0,
        surplus_eur_kwh=0.10,
        prime_eur_kwc=100.0,
        prime_schedule=(1.0,),
        electricity_eur_kwh=0.20,
        electricity_drift=0.02,
        vat_rate=0.10,
        installed_cost_eur_per_wc=1.0,
        inverter_replacement_eur_per_wc=0.05,
        inverter_replacement_year=2,
        degradation_per_year=0.005,
        contract_years=20,
        om_eur_per_kwc_year=10.0,
        battery_kwh=0.0,
        battery_eur_per_kwh=700.0,
        discount_rate=0.05,
        grid_co2_kg_per_kwh=0.060,
        pv_co2_kg_per_kwh=0.040,
    )
    return dataclasses.replace(base, **changes)


ENERGY = AnnualEnergy(
    production_kwh=1500.0,
    consumption_kwh=4000.0,
    self_consumed_kwh=1000.0,
    self_supplied_kwh=1000.0,
    surplus_kwh=500.0,
)


def test_three_year_case_by_hand():
    tariffs = hand_tariffs()
    result = evaluate(2.0, ENERGY, tariffs, years=3)
    capex = 2000 * 1.0 * 1.10  # 2 kWc at 1 €/Wc HT, 10 % VAT
    inverter = 2000 * 0.05 * 1.10  # year 2
    y1 = 1000 * 0.20 + 500 * 0.10 + 200 - 20  # savings, sales, prime, O&M = 430
    y2 = 1000 * 0.995 * 0.204 + 500 * 0.995 * 0.10 - 20 - inverter
    y3 = 1000 * 0.995**2 * 0.20808 + 500 * 0.995**2 * 0.10 - 20
    assert result.cash_flows_eur == pytest.approx((-capex, y1, y2, y3), rel=1e-12)
    assert y1 == pytest.approx(430.0)
    assert result.capex_eur == pytest.approx(2200.0)
    assert result.prime_eur == pytest.approx(200.0)
    assert result.annual_savings_eur == pytest.approx(200.0)
    assert result.surplus_revenue_eur_yr == pytest.approx(50.0)
    assert result.npv_eur == pytest.approx(-capex + y1 / 1.05 + y2 / 1.05**2 + y3 / 1.05**3)
    assert result.payback_years is None  # 2,200 € is not recovered in three years
    assert result.irr is not None
    assert float(npv(result.cash_flows_eur, result.irr)) == pytest.approx(0.0, abs=1e-6)
    discounted_costs = capex - 200 / 1.05 + 20 / 1.05 + (20 + inverter) / 1.05**2 + 20 / 1.05**3
    discounted_kwh = 1500 / 1.05 + 1500 * 0.995 / 1.05**2 + 1500 * 0.995**2 / 1.05**3
    assert result.lcoe_eur_kwh == pytest.approx(discounted_costs / discounted_kwh, rel=1e-12)
    assert result.co2_avoided_kg_yr == pytest.approx(1500 * (0.060 - 0.040))


def test_payback_within_the_first_year_by_hand():
    tariffs = hand_tariffs(installed_cost_eur_per_wc=0.1)  # capex 220 €
    result = evaluate(2.0, ENERGY, tariffs, years=3)
    assert result.payback_years == pytest.approx(220 / 430)


def test_contract_end_and_horizon():
    tariffs = TABLE.at(D(2026, 2, 1), 6.0)
    energy = AnnualEnergy(5700.0, 4500.0, 2400.0, 2400.0, 3300.0)
    twenty = evaluate(6.0, energy, tariffs, years=20)
    twenty_five = evaluate(6.0, energy, tariffs, years=25)
    flows = np.asarray(twenty_five.cash_flows_eur)
    # Year 21 has savings but no surplus sale: the step down is the year-20 sale.
    sale_20 = 3300 * 0.995**19 * 0.04
    savings_ratio = 1.02 * 0.995
    assert flows[21] == pytest.approx((flows[20] - sale_20) * savings_ratio, rel=1e-9)
    assert twenty_five.npv_eur > twenty.npv_eur
    assert twenty_five.irr is not None and twenty.irr is not None
    assert twenty_five.irr > twenty.irr
    assert twenty.cash_flows_eur == pytest.approx(twenty_five.cash_flows_eur[:21])
    assert net_present_value(6.0, energy, tariffs) == pytest.approx(twenty.npv_eur)


def test_evaluate_refuses_tariffs_of_another_size():
    with pytest.raises(InputError):
        evaluate(3.0, ENERGY, TABLE.at(D(2026, 2, 1), 6.0))
