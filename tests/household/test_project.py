"""simulate_project on a hip roof built from an analytic scene."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from solar.build import Territory, build_from_surface
from solar.cadastre import Cadastre, FaceRecord
from solar.errors import InputError, NotFound
from solar.household import economics
from solar.household import project as simulation
from solar.household.loadcurves import standard_profile
from solar.household.uncertainty import Spreads
from solar.pv import SYSTEM_LOSSES, WORTH_EQUIPPING
from solar.resources import DEFAULT_WEATHER
from tests import scenes

LOAD = standard_profile("RES1", 4500.0)


@pytest.fixture(scope="module")
def cadastre(tmp_path_factory: pytest.TempPathFactory) -> Cadastre:
    scene = scenes.hip(30.0, 180.0)
    summary = build_from_surface(
        Territory(scene.surface, [scene.footprint], communes=None),
        out=tmp_path_factory.mktemp("hip") / "hip.gpkg",
    )
    return Cadastre(summary.path)


@pytest.fixture(scope="module")
def site(cadastre: Cadastre) -> simulation.Site:
    return simulation.Site.for_cadastre(cadastre)


@pytest.fixture(scope="module")
def faces(cadastre: Cadastre) -> list[FaceRecord]:
    return cadastre.faces("scene")


def worth(faces: list[FaceRecord]) -> list[FaceRecord]:
    """Faces worth equipping, best specific yield first, from the cadastre's own fields."""
    chosen = [f for f in faces if f.suitability in WORTH_EQUIPPING and f.panels > 0]
    return sorted(chosen, key=lambda f: -f.specific_yield_kwh_kwc)


def run(cadastre: Cadastre, site: simulation.Site, **kwargs: Any) -> simulation.ProjectResult:
    kwargs.setdefault("tariff_date", dt.date(2025, 6, 15))
    return simulation.simulate_project(cadastre, "scene", LOAD, site=site, **kwargs)


def test_site_comes_from_the_provenance(cadastre: Cadastre, site: simulation.Site) -> None:
    assert site.weather_file == cadastre.provenance()["weather_file"] == DEFAULT_WEATHER.name
    assert site.system_losses == SYSTEM_LOSSES  # what the build used
    assert len(site.temp_air_monthly) == 12
    # northern France: July is warmer than January by well over 10 °C
    assert site.temp_air_monthly[6] - site.temp_air_monthly[0] > 10.0


def test_merged_provenance_uses_the_first_part() -> None:
    merged = {"parts": [{"part": "a.gpkg", "weather_file": "x.csv"}, {"part": "b.gpkg"}]}
    assert simulation._build_provenance(merged)["weather_file"] == "x.csv"
    assert simulation._build_provenance({"weather_file": "y.csv"})["weather_file"] == "y.csv"


def test_default_is_every_module_worth_equipping(
    cadastre: Cadastre, site: simulation.Site, faces: list[FaceRecord]
) -> None:
    result = run(cadastre, site)
    building = cadastre.building("scene")
    assert set(result.face_ids) == {f.face_id for f in worth(faces)}
    assert result.n_modules == building.panels
    assert result.kwc == pytest.approx(building.kwc, abs=1e-6)
    # the hourly profiles (uint16 per kWc) against the build's own annual figures
    assert result.balance.production_kwh == pytest.approx(building.production_kwh_yr, rel=5e-3)
    assert result.warnings == ()


def test_modules_fill_the_best_faces_first(
    cadastre: Cadastre, site: simulation.Site, faces: list[FaceRecord]
) -> None:
    ranked = worth(faces)
    assert len(ranked) >= 2
    total = sum(f.panels for f in ranked)
    for n in (1, ranked[0].panels, ranked[0].panels + 2, total):
        result = run(cadastre, site, n_modules=n)
        assert sum(result.modules_per_face.values()) == n
        expected, left = {}, n
        for face in ranked:
            take = min(left, face.panels)
            if take:
                expected[face.face_id] = take
            left -= take
        assert result.modules_per_face == expected
        assert list(result.face_ids) == list(expected)
        # a face partly used produces pro rata of its modules
        production = sum(
            take / f.panels * f.production_kwh_yr
            for f in ranked
            if (take := expected.get(f.face_id, 0))
        )
        assert result.balance.production_kwh == pytest.approx(production, rel=5e-3)


def test_balance_identities_are_exact(cadastre: Cadastre, site: simulation.Site) -> None:
    for battery_kwh in (0.0, 5.0):
        balance = run(cadastre, site, battery_kwh=battery_kwh).balance
        assert balance.self_consumed_kwh + balance.surplus_kwh == pytest.approx(
            balance.production_kwh, rel=1e-12
        )
        assert balance.self_supplied_kwh + balance.grid_import_kwh == pytest.approx(
            balance.consumption_kwh, rel=1e-12
        )
        assert balance.self_supplied_kwh + balance.battery_losses_kwh + (
            balance.battery_stored_kwh
        ) == pytest.approx(balance.self_consumed_kwh, rel=1e-9)


def test_zero_modules_is_no_installation(cadastre: Cadastre, site: simulation.Site) -> None:
    result = run(cadastre, site, n_modules=0, battery_kwh=5.0)
    assert result.face_ids == ()
    assert result.balance.production_kwh == 0.0
    assert result.balance.self_consumed_kwh == 0.0
    money = result.economics
    assert (money.capex_eur, money.prime_eur, money.npv_eur) == (0.0, 0.0, 0.0)
    assert money.payback_years is None
    assert money.irr is None
    assert not np.isfinite(money.lcoe_eur_kwh)
    assert result.uncertainty.production_kwh_yr.p90 == 0.0
    assert result.uncertainty.n_samples == 0


def test_kwc_is_rounded_and_said(cadastre: Cadastre, site: simulation.Site) -> None:
    result = run(cadastre, site, kwc=2.0)
    # 425 Wc modules (data/modules.toml): 2 kWc is 4.7 modules
    assert result.n_modules == 5
    assert result.module_kwc == pytest.approx(0.425)
    assert result.warnings == ("2 kWc rounded to 5 modules of 425 Wc (2.125 kWc).",)


def test_module_count_is_capped_by_the_largest_tariff_band() -> None:
    warnings: list[str] = []
    n = simulation._module_count(
        None, None, total=300, module_kwc=0.425, max_kwc=100.0, warnings=warnings
    )
    assert n == 235  # 235 x 425 Wc = 99.875 kWc
    assert "keeps the best 235 modules" in warnings[0]
    assert "100 kWc is the largest size" in warnings[0]
    with pytest.raises(InputError, match=r"n_modules: .*above 100 kWc"):
        simulation._module_count(240, None, total=300, module_kwc=0.425, max_kwc=100.0, warnings=[])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_modules": 1000}, r"^n_modules: the chosen faces hold"),
        ({"kwc": 1000.0}, r"^kwc: the chosen faces hold"),
        ({"n_modules": 2, "kwc": 1.0}, r"^kwc: give n_modules or kwc, not both"),
        ({"face_ids": ["scene-1", "elsewhere-1"]}, r"^face_ids: 'elsewhere-1' is not"),
        ({"battery_kwh": -1.0}, r"^battery_kwh: "),
        ({"tariff_date": dt.date(2024, 10, 31)}, r"^tariff_date: "),
    ],
)
def test_bad_input_names_the_field(
    cadastre: Cadastre, site: simulation.Site, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        run(cadastre, site, **kwargs)


def test_unknown_building(cadastre: Cadastre, site: simulation.Site) -> None:
    with pytest.raises(NotFound):
        simulation.simulate_project(cadastre, "nope", LOAD, site=site)


def test_the_project_takes_the_tariff_rows_from_the_table_object(
    cadastre: Cadastre, tmp_path: Path
) -> None:
    copy = tmp_path / "tariffs.toml"
    copy.write_bytes(economics.DEFAULT_PATH.read_bytes())
    table = economics.TariffTable.load(copy)
    copy.unlink()  # the table object is now the only source of the rows
    site = simulation.Site.for_cadastre(cadastre, tariffs=table)
    for date in (dt.date(2025, 3, 31), dt.date(2025, 4, 1)):
        result = run(cadastre, site, tariff_date=date)
        assert result.surplus_period == table.at(date, result.kwc).surplus_row
        assert result.surplus_period.valid_from <= date <= result.surplus_period.valid_to
        assert result.economics.tariffs.sources


def test_stale_tariffs_are_said(cadastre: Cadastre, site: simulation.Site) -> None:
    fresh = run(cadastre, site)
    assert not fresh.tariffs_stale
    assert fresh.tariffs_message is None
    stale = run(cadastre, site, tariff_date=dt.date(2030, 1, 1))
    assert stale.tariffs_stale
    assert stale.tariffs_message is not None
    assert "surplus purchase tariff" in stale.tariffs_message


def test_uncertainty_is_seeded_and_takes_the_spreads(
    cadastre: Cadastre, site: simulation.Site
) -> None:
    first = run(cadastre, site).uncertainty
    assert first == run(cadastre, site).uncertainty
    measured = run(cadastre, site, spreads=Spreads.for_measured_load()).uncertainty
    assert measured.spreads.consumption_sd == 0.0

    def width(band: Any) -> float:
        return float(band.p90 - band.p10)

    # a measured load removes the consumption's share of the savings' spread
    assert width(measured.annual_savings_eur) < width(first.annual_savings_eur)


def test_water_heater_goes_on_the_best_face(
    cadastre: Cadastre, site: simulation.Site, faces: list[FaceRecord]
) -> None:
    result = run(cadastre, site, persons=2)
    best = max(faces, key=lambda f: f.irradiation_kwh_m2_yr)
    assert result.water_heater_face_id == best.face_id
    assert result.water_heater is not None
    assert result.water_heater.persons == 2
    assert simulation._water_heater([], site.temp_air_monthly, 2) == (None, None)


def test_sizing_advice(cadastre: Cadastre, site: simulation.Site) -> None:
    sizing = run(cadastre, site).sizing
    assert sizing.best_npv.npv_eur is not None
    mostly = sizing.largest_mostly_self_consumed
    assert mostly is not None
    assert mostly.self_consumption_rate >= simulation.SELF_CONSUMPTION_TARGET
    smallest = sizing.smallest_for_self_sufficiency
    assert smallest is not None
    assert smallest.self_sufficiency_rate >= simulation.SELF_SUFFICIENCY_TARGET
    below = run(cadastre, site, n_modules=smallest.n_modules - 1).balance
    assert below.self_sufficiency_rate < simulation.SELF_SUFFICIENCY_TARGET
