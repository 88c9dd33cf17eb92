"""A commune's economics: VAT and FCTVA, total-sale bands, tenders."""

from __future__ import annotations

import datetime as dt

import pytest

from solar.communes.economics import (
    CommuneTariffTable,
    evaluate_self_consumption,
    evaluate_total_sale,
)
from solar.household.selfconsumption import AnnualEnergy

WINTER_2026 = dt.date(2026, 1, 15)
SUMMER_2025 = dt.date(2025, 8, 1)


@pytest.fixture(scope="module")
def table() -> CommuneTariffTable:
    return CommuneTariffTable.load()


@pytest.mark.parametrize(
    ("date", "kwc", "scheme", "price"),
    [
        (WINTER_2026, 6.0, "aucun", None),  # no total sale up to 9 kWc since 28 Mar 2025
        (WINTER_2026, 20.0, "vente_totale", 0.0911),
        (WINTER_2026, 80.0, "vente_totale", 0.0792),
        (WINTER_2026, 150.0, "appel_d_offres", None),  # simplified tender since 22 Sep 2025
        (SUMMER_2025, 150.0, "vente_totale", 0.0886),
        (SUMMER_2025, 600.0, "appel_d_offres", None),  # above 500 kWc, always
    ],
)
def test_schemes_and_total_sale_bands(
    table: CommuneTariffTable, date: dt.date, kwc: float, scheme: str, price: float | None
) -> None:
    assert table.scheme(date, kwc) == scheme
    tariffs = table.total_sale_tariffs(date, kwc)
    assert (tariffs.surplus_eur_kwh if tariffs else None) == price


def test_total_sale_by_hand(table: CommuneTariffTable) -> None:
    # 50 kWc, 45,000 kWh in year 1, 2026-Q1: 7.92 c€/kWh for 20 years, capex HT
    # 50,000 Wc x 1.10 €/Wc, inverter 50,000 x 0.10 € HT in year 12, 0.5 %/yr degradation,
    # discounted at 3 %/yr; no prime, no VAT (deducted).
    money = evaluate_total_sale(table, WINTER_2026, 50.0, 45_000.0)
    assert money is not None
    npv = -55_000.0
    for year in range(1, 21):
        flow = 45_000.0 * 0.995 ** (year - 1) * 0.0792 - (5_000.0 if year == 12 else 0.0)
        npv += flow / 1.03**year
    assert money.capex_eur == pytest.approx(55_000.0)
    assert money.prime_eur == 0.0
    assert money.annual_savings_eur == 0.0
    assert money.surplus_revenue_eur_yr == pytest.approx(45_000 * 0.0792)
    assert money.npv_eur == pytest.approx(npv, abs=0.01)
    assert table.investment_ht_eur(WINTER_2026, 300.0) == pytest.approx(300_000 * 0.90)


def test_self_consumption_pays_the_vat_less_the_fctva(table: CommuneTariffTable) -> None:
    # 30 kWc at 1.40 € HT/Wc: TTC at 20 %, less 16.404 % of it refunded by the FCTVA.
    energy = AnnualEnergy(28_000.0, 40_000.0, 20_000.0, 20_000.0, 8_000.0)
    money = evaluate_self_consumption(table, WINTER_2026, 30.0, energy)
    assert money.capex_eur == pytest.approx(30_000 * 1.40 * 1.20 * (1 - 0.16404))
    assert money.tariffs.surplus_eur_kwh == pytest.approx(0.0536)
    assert money.prime_eur == pytest.approx(30 * 140)
    assert money.annual_savings_eur == pytest.approx(20_000 * 0.1952)


def test_no_total_sale_where_the_band_has_none(table: CommuneTariffTable) -> None:
    assert evaluate_total_sale(table, WINTER_2026, 6.0, 5_000.0) is None
    assert evaluate_total_sale(table, WINTER_2026, 150.0, 140_000.0) is None
