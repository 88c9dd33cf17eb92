"""The recommended system on a communal roof."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from solar.communes.economics import (
    CommuneTariffTable,
    evaluate_self_consumption,
    evaluate_total_sale,
)
from solar.communes.loadshapes import building_load
from solar.communes.sizing import candidate_sizes, recommend
from solar.household.selfconsumption import AnnualEnergy
from tests.communes.synthetic import MODULE_KWC, daylight_profile

DATE = dt.date(2026, 1, 15)


@pytest.fixture(scope="module")
def table() -> CommuneTariffTable:
    return CommuneTariffTable.load()


def test_without_load_a_mid_size_roof_sells_everything(table: CommuneTariffTable) -> None:
    result = recommend(table, DATE, kwc=20.0, production_kwh=19_000.0, module_kwc=0.4)
    assert result.scheme == "vente_totale"
    expected = evaluate_total_sale(table, DATE, 20.0, 19_000.0)
    assert expected is not None and result.economics is not None
    assert result.economics.npv_eur == pytest.approx(expected.npv_eur)
    assert result.investment_eur == pytest.approx(20_000 * 1.40)  # HT: VAT deducted
    assert result.self_consumption_rate is None


def test_a_large_roof_goes_to_tender(table: CommuneTariffTable) -> None:
    result = recommend(table, DATE, kwc=150.0, production_kwh=140_000.0, module_kwc=0.5)
    assert result.scheme == "appel_d_offres"
    assert result.economics is None
    assert result.investment_eur == pytest.approx(150_000 * 0.90)
    # grid 73 g and PV 44 g per kWh (tariffs.toml, [[co2]] 2022 - 2026)
    assert result.co2_avoided_kg_yr == pytest.approx(140_000 * (0.073 - 0.044))


def test_a_small_roof_without_load_asks_for_the_consumption(table: CommuneTariffTable) -> None:
    result = recommend(table, DATE, kwc=6.0, production_kwh=5_500.0, module_kwc=0.5)
    assert result.scheme == "autoconsommation"
    assert result.economics is None
    assert "consommation" in result.note


def test_a_school_self_consumes_its_best_size(table: CommuneTariffTable) -> None:
    # 30 modules on a south face (1,000 kWh/kWc) and 10 on a north face (700 kWh/kWc).
    south, north = 30 * MODULE_KWC, 10 * MODULE_KWC
    profiles = np.stack([daylight_profile(1000.0) * south, daylight_profile(700.0) * north])
    load = building_load("ecole", 60_000.0)
    assert load is not None
    result = recommend(
        table,
        DATE,
        kwc=south + north,
        production_kwh=float(profiles.sum()),
        module_kwc=MODULE_KWC,
        face_profiles_kwh=profiles,
        face_modules=np.array([30, 10]),
        load_kwh=load.hourly_kwh,
    )
    assert result.scheme == "autoconsommation"
    assert result.economics is not None
    # The chosen size, placed by hand: the south face first, one module at a time.
    n = result.n_modules
    per_module = [profiles[0] / 30] * 30 + [profiles[1] / 10] * 10
    production = np.sum(per_module[:n], axis=0)
    used = np.minimum(production, load.hourly_kwh).sum()
    assert result.production_kwh == pytest.approx(production.sum())
    assert result.self_consumption_rate == pytest.approx(used / production.sum())
    assert result.self_sufficiency_rate == pytest.approx(used / 60_000.0)
    # It is worth at least the whole roof self-consuming, and total sale.
    whole = profiles.sum(axis=0)
    whole_used = float(np.minimum(whole, load.hourly_kwh).sum())
    energy = AnnualEnergy(
        float(whole.sum()), 60_000.0, whole_used, whole_used, float(whole.sum()) - whole_used
    )
    whole_roof = evaluate_self_consumption(table, DATE, 40 * MODULE_KWC, energy)
    assert result.economics.npv_eur >= whole_roof.npv_eur - 1e-6
    sold = evaluate_total_sale(table, DATE, 40 * MODULE_KWC, float(whole.sum()))
    assert sold is not None
    assert result.economics.npv_eur >= sold.npv_eur


def test_candidate_sizes_hold_the_band_edges() -> None:
    sizes = candidate_sizes(300, 0.425, 100.0)
    assert sizes[0] == 1 and sizes[-1] == 235  # 235 x 425 Wc = 99.9 kWc, the 100 kWc cap
    assert {21, 84} <= set(sizes.tolist())  # the largest sizes within 9 and 36 kWc
    assert candidate_sizes(0, 0.425, 100.0).size == 0
