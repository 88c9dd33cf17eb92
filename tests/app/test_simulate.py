"""POST /api/v1/simulate and /api/v1/simulate/linky on the session cadastre."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.models import HouseholdOptionsIn
from app.settings import Settings
from app.uploads import FORM_OVERHEAD_BYTES, capped
from solar.cadastre import Cadastre
from solar.errors import PayloadTooLarge
from solar.household.loadcurves import HouseholdOptions
from solar.pv import WORTH_EQUIPPING
from solar.resources import DATA_DIR
from tests.app.conftest import NO_BUILDING_ADDRESS

LINKY = DATA_DIR / "load" / "linky_example" / "consoexemple.csv"
#: The example's own figure (data/load/README.md): 7,303 kWh over its year.
LINKY_KWH = 7303.0
#: One rounding step of the response's energies. [kWh]
ROUNDING = 0.1


def simulate(client: TestClient, **body: Any) -> dict[str, Any]:
    body.setdefault("building_id", "BAT_GABLE_A")
    response = client.post("/api/v1/simulate", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def upload(client: TestClient, data: bytes, **fields: Any) -> tuple[int, dict[str, Any]]:
    fields.setdefault("building_id", "BAT_GABLE_A")
    response = client.post(
        "/api/v1/simulate/linky",
        files={"file": ("consommation.csv", data, "text/csv")},
        data={k: str(v) for k, v in fields.items()},
    )
    return response.status_code, response.json()


def assert_balance_closes(result: dict[str, Any]) -> None:
    """The identities of the energy balance, within the rounding of each figure."""
    tol = 2 * ROUNDING
    assert result["self_consumed_kwh_yr"] + result["surplus_kwh_yr"] == pytest.approx(
        result["production_kwh_yr"], abs=tol
    )
    assert result["self_supplied_kwh_yr"] + result["grid_import_kwh_yr"] == pytest.approx(
        result["consumption_kwh_yr"], abs=tol
    )
    assert result["self_supplied_kwh_yr"] + result["battery_losses_kwh_yr"] + result[
        "battery_stored_kwh_yr"
    ] == pytest.approx(result["self_consumed_kwh_yr"], abs=1.5 * tol)
    for month in result["monthly"]:
        assert month["self_consumed_kwh"] + month["surplus_kwh"] == pytest.approx(
            month["production_kwh"], abs=tol
        )
        assert month["self_supplied_kwh"] + month["grid_import_kwh"] == pytest.approx(
            month["consumption_kwh"], abs=tol
        )
    for key in ("production", "consumption", "self_consumed", "surplus", "grid_import"):
        months = sum(m[f"{key}_kwh"] for m in result["monthly"])
        assert months == pytest.approx(result[f"{key}_kwh_yr"], abs=12 * ROUNDING)
    if result["production_kwh_yr"] > 0:
        assert result["self_consumption_rate"] == pytest.approx(
            result["self_consumed_kwh_yr"] / result["production_kwh_yr"], abs=1e-3
        )
    assert result["self_sufficiency_rate"] == pytest.approx(
        result["self_supplied_kwh_yr"] / result["consumption_kwh_yr"], abs=1e-3
    )


def test_request_options_are_the_household_options() -> None:
    names = {f.name for f in dataclasses.fields(HouseholdOptions)}
    assert set(HouseholdOptionsIn.model_fields) == names
    defaults = HouseholdOptions()
    for name in names:
        assert HouseholdOptionsIn.model_fields[name].default == getattr(defaults, name), name


def test_default_project_is_the_building_of_the_cadastre(
    client: TestClient, cadastre_path: Path
) -> None:
    """No faces and no size: every module of the faces worth equipping, 4,500 kWh on RES1."""
    result = simulate(client)
    assert_balance_closes(result)
    cadastre = Cadastre(cadastre_path)
    building = cadastre.building("BAT_GABLE_A")
    faces = cadastre.faces("BAT_GABLE_A")
    worth = [f for f in faces if f.suitability in WORTH_EQUIPPING and f.panels > 0]
    assert sorted(result["face_ids"]) == sorted(f.face_id for f in worth)
    assert result["n_modules"] == building.panels
    assert result["kwc"] == pytest.approx(building.kwc, abs=1e-3)
    # the stored hourly profiles add up to the build's annual figure (uint16 rounding)
    assert result["production_kwh_yr"] == pytest.approx(building.production_kwh_yr, rel=5e-3)
    assert result["consumption_kwh_yr"] == pytest.approx(4500.0, abs=ROUNDING)
    assert result["battery_kwh"] == 0.0
    assert result["battery_losses_kwh_yr"] == 0.0
    assert result["self_consumed_kwh_yr"] == result["self_supplied_kwh_yr"]
    assert 0.0 < result["self_consumption_rate"] < 1.0
    assert 0.0 < result["self_sufficiency_rate"] < 1.0
    assert [m["month"] for m in result["monthly"]] == list(range(1, 13))
    assert result["linky"] is None


def test_energy_balance_closes_with_a_battery(client: TestClient) -> None:
    result = simulate(client, battery_kwh=5.0)
    assert_balance_closes(result)
    # 90 % round trip: some energy is lost, and self-consumed exceeds self-supplied
    assert result["battery_losses_kwh_yr"] > 0.0
    assert result["self_consumed_kwh_yr"] > result["self_supplied_kwh_yr"]


def test_a_larger_battery_never_lowers_self_consumption(client: TestClient) -> None:
    rates = [
        simulate(client, battery_kwh=kwh)["self_consumption_rate"]
        for kwh in (0.0, 2.0, 5.0, 10.0, 20.0)
    ]
    assert rates == sorted(rates)
    assert rates[-1] > rates[0]


def test_zero_modules_is_no_installation(client: TestClient) -> None:
    result = simulate(client, n_modules=0)
    assert_balance_closes(result)
    assert result["face_ids"] == []
    assert result["kwc"] == 0.0
    assert result["production_kwh_yr"] == 0.0
    assert result["self_consumed_kwh_yr"] == 0.0
    assert result["self_consumption_rate"] == 0.0
    assert result["grid_import_kwh_yr"] == pytest.approx(4500.0, abs=ROUNDING)
    money = result["economics"]
    assert money["capex_eur"] == 0.0
    assert money["prime_eur"] == 0.0
    assert money["npv_eur"] == 0.0
    assert money["payback_years"] is None
    assert money["lcoe_eur_kwh"] is None
    assert result["uncertainty"]["production_kwh_yr"] == {"p10": 0.0, "p50": 0.0, "p90": 0.0}


def test_daytime_presence_raises_self_consumption(client: TestClient) -> None:
    away = simulate(client, consumption={"options": {"daytime_presence": False}})
    home = simulate(client, consumption={"options": {"daytime_presence": True}})
    # the same energy, moved into the sunny hours
    assert home["consumption_kwh_yr"] == pytest.approx(away["consumption_kwh_yr"], abs=ROUNDING)
    assert home["self_consumption_rate"] > away["self_consumption_rate"]


def test_household_options_add_their_energy(client: TestClient) -> None:
    result = simulate(
        client,
        consumption={
            "annual_kwh": 3000,
            "profile": "RES2",
            "options": {"heat_pump_kwh": 2500, "electric_vehicle": "day"},
        },
    )
    # 3,000 + 2,500 + the EV's default 2,000 kWh (12,000 km at 17 kWh/100 km)
    assert result["consumption_kwh_yr"] == pytest.approx(7500.0, abs=ROUNDING)
    assert_balance_closes(result)


def test_uncertainty_percentiles_are_ordered(client: TestClient) -> None:
    bands = simulate(client, battery_kwh=5.0)["uncertainty"]
    for name in ("production_kwh_yr", "annual_savings_eur", "self_consumption_rate"):
        band = bands[name]
        assert band["p10"] <= band["p50"] <= band["p90"], name
        assert band["p10"] < band["p90"], name
    payback = [v for v in bands["payback_years"].values() if v is not None]
    assert payback == sorted(payback)
    assert bands["n_samples"] > 0
    assert bands["consumption_sd"] > 0


#: Arrêté S21 as published by the CRE, ≤ 9 kWc: surplus tariff [€/kWh] and prime [€/kWc]
#: of 2024-Q4 (1 Nov 2024 - 31 Jan 2025) and of 2025-Q2; Tarif Bleu Base TTC [€/kWh]
#: from 1 Aug 2024 and from 1 Feb 2025.
S21 = {
    "2025-01-15": (0.1269, 160.0, 0.2516, "2024-11-01", "2025-01-31"),
    "2025-06-15": (0.0400, 80.0, 0.2016, "2025-04-01", "2025-06-30"),
}


@pytest.mark.parametrize("tariff_date", sorted(S21))
def test_tariff_date_sets_the_economics(client: TestClient, tariff_date: str) -> None:
    surplus_price, prime, electricity, valid_from, valid_to = S21[tariff_date]
    result = simulate(client, tariff_date=tariff_date)
    assert result["kwc"] <= 9.0
    money = result["economics"]
    assert money["tariffs"]["tariff_date"] == tariff_date
    assert money["tariffs"]["valid_from"] == valid_from
    assert money["tariffs"]["valid_to"] == valid_to
    assert money["tariffs"]["source"]
    assert money["tariffs_stale"] is False
    assert money["tariffs_message"] is None
    assert money["prime_eur"] == pytest.approx(prime * result["kwc"], abs=0.01)
    assert money["surplus_revenue_eur_yr"] == pytest.approx(
        surplus_price * result["surplus_kwh_yr"], abs=0.05
    )
    assert money["annual_savings_eur"] == pytest.approx(
        electricity * result["self_supplied_kwh_yr"], abs=0.05
    )


def test_tariff_date_changes_the_economics(client: TestClient) -> None:
    winter = simulate(client, tariff_date="2025-01-15")["economics"]
    summer = simulate(client, tariff_date="2025-06-15")["economics"]
    assert winter["surplus_revenue_eur_yr"] > 3 * summer["surplus_revenue_eur_yr"]
    assert winter["prime_eur"] == pytest.approx(2 * summer["prime_eur"], abs=0.01)
    assert winter["npv_eur"] != summer["npv_eur"]


def test_a_date_past_the_table_is_flagged_stale(client: TestClient) -> None:
    money = simulate(client, tariff_date="2031-05-01")["economics"]
    assert money["tariffs_stale"] is True
    assert "2031-05-01" in money["tariffs_message"]
    assert "surplus purchase tariff" in money["tariffs_message"]
    assert "oa_surplus" in money["tariffs"]["stale"]


def test_chosen_faces(client: TestClient, cadastre_path: Path) -> None:
    faces = Cadastre(cadastre_path).faces("BAT_GABLE_B")
    east = max(faces, key=lambda f: f.production_kwh_yr / max(f.panels, 1))
    result = simulate(client, building_id="BAT_GABLE_B", face_ids=[east.face_id])
    assert result["face_ids"] == [east.face_id]
    assert result["n_modules"] == east.panels
    assert result["production_kwh_yr"] == pytest.approx(east.production_kwh_yr, rel=5e-3)


def test_modules_fill_the_best_faces_first(client: TestClient, cadastre_path: Path) -> None:
    faces = Cadastre(cadastre_path).faces("BAT_HIP_D")
    worth = [f for f in faces if f.suitability in WORTH_EQUIPPING and f.panels > 0]
    ranked = sorted(worth, key=lambda f: -f.specific_yield_kwh_kwc)
    best = ranked[0]
    result = simulate(client, building_id="BAT_HIP_D", n_modules=best.panels)
    assert result["face_ids"] == [best.face_id]
    assert result["production_kwh_yr"] == pytest.approx(best.production_kwh_yr, rel=5e-3)
    more = simulate(client, building_id="BAT_HIP_D", n_modules=best.panels + 1)
    assert more["face_ids"] == [best.face_id, ranked[1].face_id]
    assert more["modules_per_face"] == {best.face_id: best.panels, ranked[1].face_id: 1}


def test_kwc_is_rounded_to_whole_modules(client: TestClient) -> None:
    # 425 Wc modules (data/modules.toml): 3 kWc is 7.06 modules, so 7 of them
    result = simulate(client, kwc=3.0)
    assert result["n_modules"] == 7
    assert result["kwc"] == pytest.approx(2.975)
    assert any("rounded to 7 modules" in w for w in result["warnings"])


def test_address_gives_the_building_under_it(client: TestClient) -> None:
    by_address = simulate(client, building_id=None, address_id="62498_0541_00003")
    assert by_address == simulate(client, building_id="BAT_GABLE_B")


def test_sizing_advice_meets_its_targets(client: TestClient) -> None:
    sizing = simulate(client, tariff_date="2025-06-15")["sizing"]
    best = sizing["best_npv"]
    assert 0 <= best["n_modules"] <= 18
    assert best["npv_eur"] is not None
    mostly = sizing["largest_mostly_self_consumed"]
    assert mostly["self_consumption_rate"] >= sizing["self_consumption_target"] == 0.5
    smallest = sizing["smallest_for_self_sufficiency"]
    assert smallest["self_sufficiency_rate"] >= sizing["self_sufficiency_target"] == 0.3
    # each size, simulated on its own, gives the same rates
    for option in (mostly, smallest):
        again = simulate(client, n_modules=option["n_modules"])
        assert again["self_consumption_rate"] == pytest.approx(
            option["self_consumption_rate"], abs=1e-4
        )
        assert again["production_kwh_yr"] == pytest.approx(option["production_kwh_yr"], abs=0.2)
    one_more = simulate(client, n_modules=mostly["n_modules"] + 1)
    assert one_more["self_consumption_rate"] < 0.5
    one_less = simulate(client, n_modules=smallest["n_modules"] - 1)
    assert one_less["self_sufficiency_rate"] < 0.3


def test_solar_water_heater_on_the_best_face(client: TestClient, cadastre_path: Path) -> None:
    heater = simulate(client, persons=4)["solar_water_heater"]
    faces = Cadastre(cadastre_path).faces("BAT_GABLE_A")
    assert heater["face_id"] == max(faces, key=lambda f: f.irradiation_kwh_m2_yr).face_id
    # 50 L per person and day, one day of storage, 1 m² per 50 L (solar.household.solarthermal)
    assert heater["collector_area_m2"] == 4.0
    assert heater["tank_l"] == 200.0
    assert 0.3 < heater["solar_fraction"] < 0.9
    assert heater["heat_saved_kwh_yr"] == pytest.approx(
        heater["solar_fraction"] * heater["annual_load_kwh"], rel=1e-3
    )
    assert len(heater["monthly_solar_fraction"]) == 12
    # the sun covers more of July than of December
    assert heater["monthly_solar_fraction"][6] > heater["monthly_solar_fraction"][11]


def test_real_sample_building(client: TestClient) -> None:
    result = simulate(client, building_id=None, address_id="71263_0210_00014")
    assert result["building_id"] == "gadd79213a626d9cc"  # feature 16 of the BD UNI file
    assert result["n_modules"] > 0
    assert_balance_closes(result)


def test_unknown_building_is_a_404(client: TestClient) -> None:
    response = client.post("/api/v1/simulate", json={"building_id": "NOPE"})
    assert response.status_code == 404
    assert response.json() == {"detail": "no building with id 'NOPE'", "code": "not_found"}
    unknown_address = client.post("/api/v1/simulate", json={"address_id": "62498_9999_00001"})
    assert unknown_address.status_code == 404
    assert unknown_address.json()["code"] == "not_found"


def test_address_without_building_is_a_distinct_404(client: TestClient) -> None:
    response = client.post("/api/v1/simulate", json={"address_id": NO_BUILDING_ADDRESS})
    assert response.status_code == 404
    assert response.json() == {
        "detail": "no building at this address",
        "code": "no_building_at_address",
    }
    linky = client.post(
        "/api/v1/simulate/linky",
        files={"file": ("c.csv", LINKY.read_bytes(), "text/csv")},
        data={"address_id": NO_BUILDING_ADDRESS},
    )
    assert linky.status_code == 404
    assert linky.json()["code"] == "no_building_at_address"


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({}, "building_id"),
        ({"building_id": "BAT_GABLE_A", "address_id": "62498_0540_00012"}, "building_id"),
        ({"building_id": "BAT_GABLE_A", "face_ids": ["BAT_GABLE_B-1"]}, "face_ids"),
        ({"building_id": "BAT_GABLE_A", "face_ids": []}, "face_ids"),
        ({"building_id": "BAT_GABLE_A", "n_modules": 1000}, "n_modules"),
        ({"building_id": "BAT_GABLE_A", "n_modules": -1}, "n_modules"),
        ({"building_id": "BAT_GABLE_A", "kwc": 50.0}, "kwc"),
        ({"building_id": "BAT_GABLE_A", "kwc": 3.0, "n_modules": 7}, "kwc"),
        ({"building_id": "BAT_GABLE_A", "battery_kwh": -1}, "battery_kwh"),
        ({"building_id": "BAT_GABLE_A", "tariff_date": "2020-01-01"}, "tariff_date"),
        ({"building_id": "BAT_GABLE_A", "tariff_date": "15/06/2025"}, "tariff_date"),
        ({"building_id": "BAT_GABLE_A", "years": 40}, "years"),
        ({"building_id": "BAT_GABLE_A", "consumption": {"profile": "RES9"}}, "consumption.profile"),
        (
            {"building_id": "BAT_GABLE_A", "consumption": {"annual_kwh": -5}},
            "consumption.annual_kwh",
        ),
        (
            {"building_id": "BAT_GABLE_A", "consumption": {"options": {"electric_vehicle": "x"}}},
            "consumption.options.electric_vehicle",
        ),
        ({"building_id": "BAT_GABLE_A", "batery_kwh": 5}, "batery_kwh"),
    ],
)
def test_bad_fields_are_422_naming_them(
    client: TestClient, body: dict[str, Any], name: str
) -> None:
    response = client.post("/api/v1/simulate", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_parameter"
    assert response.json()["detail"].startswith(f"{name}: ")


def test_foreign_face_is_named(client: TestClient) -> None:
    response = client.post(
        "/api/v1/simulate", json={"building_id": "BAT_GABLE_A", "face_ids": ["BAT_HIP_D-1"]}
    )
    assert "BAT_HIP_D-1" in response.json()["detail"]


# --------------------------------------------------------------------------- Linky


def test_linky_example_gives_its_consumption(client: TestClient) -> None:
    status, result = upload(client, LINKY.read_bytes())
    assert status == 200, result
    assert result["consumption_kwh_yr"] == pytest.approx(LINKY_KWH, rel=0.005)
    assert result["linky"]["measured_hours"] == 8760
    assert result["linky"]["filled_hours"] == 0
    assert result["linky"]["unit"] == "W"
    assert result["linky"]["step_minutes"] == 30
    assert result["uncertainty"]["consumption_sd"] == 0.0
    assert_balance_closes(result)


def test_linky_takes_the_same_fields(client: TestClient, cadastre_path: Path) -> None:
    faces = Cadastre(cadastre_path).faces("BAT_GABLE_B")
    ids = [f.face_id for f in faces]
    status, result = upload(
        client,
        LINKY.read_bytes(),
        building_id="BAT_GABLE_B",
        face_ids=",".join(ids),
        n_modules=5,
        battery_kwh=3,
        tariff_date="2025-06-15",
        years=25,
    )
    assert status == 200, result
    assert result["n_modules"] == 5
    assert set(result["face_ids"]) <= set(ids)
    assert result["battery_kwh"] == 3.0
    assert result["economics"]["years"] == 25
    assert result["economics"]["tariffs"]["tariff_date"] == "2025-06-15"
    # the same project with the JSON endpoint differs only by the load
    json_result = simulate(
        client,
        building_id="BAT_GABLE_B",
        face_ids=ids,
        n_modules=5,
        battery_kwh=3,
        tariff_date="2025-06-15",
        years=25,
    )
    assert json_result["production_kwh_yr"] == result["production_kwh_yr"]
    assert json_result["consumption_kwh_yr"] != result["consumption_kwh_yr"]


def test_linky_short_curve_is_filled_and_said(client: TestClient) -> None:
    lines = LINKY.read_bytes().splitlines()
    month = b"\n".join(lines[: 3 + 30 * 48])  # the header and 30 days
    status, result = upload(client, month)
    assert status == 200, result
    assert result["linky"]["filled_hours"] > 8000
    assert any("filled from the Enedis RES1 profile" in w for w in result["warnings"])


def test_malformed_linky_names_the_line(client: TestClient) -> None:
    lines = LINKY.read_bytes().splitlines()
    assert lines[9] == b"2022-07-29T03:30:00+02:00;334"  # line 10
    lines[9] = b"2022-07-29T03:30:00+02:00;33x4"
    status, body = upload(client, b"\n".join(lines))
    assert status == 422
    assert body["code"] == "invalid_parameter"
    assert body["detail"].startswith("file: line 10: ")


@pytest.mark.parametrize(
    ("data", "fields", "name"),
    [
        (b"\x8d\x81\x00\xff binary", {}, "file"),
        (b"", {}, "file"),
        (LINKY.read_bytes(), {"n_modules": "many"}, "n_modules"),
        (LINKY.read_bytes(), {"tariff_date": "soon"}, "tariff_date"),
        (LINKY.read_bytes(), {"face_ids": "BAT_GABLE_B-1"}, "face_ids"),
        (LINKY.read_bytes(), {"years": "99"}, "years"),
        (LINKY.read_bytes(), {"colour": "red"}, "colour"),
    ],
)
def test_linky_bad_fields_are_422_naming_them(
    client: TestClient, data: bytes, fields: dict[str, str], name: str
) -> None:
    status, body = upload(client, data, **fields)
    assert status == 422, body
    assert body["detail"].startswith(f"{name}: ")


def test_linky_needs_a_file(client: TestClient) -> None:
    response = client.post(
        "/api/v1/simulate/linky",
        files={"other": ("x.txt", b"x", "text/plain")},
        data={"building_id": "BAT_GABLE_A"},
    )
    assert response.status_code == 422
    no_form = client.post("/api/v1/simulate/linky", json={"building_id": "BAT_GABLE_A"})
    assert no_form.status_code == 422
    assert no_form.json()["detail"].startswith("file: ")
    without_boundary = client.post(
        "/api/v1/simulate/linky",
        content=b"--x\r\n",
        headers={"content-type": "multipart/form-data"},
    )
    assert without_boundary.status_code == 422


@pytest.fixture(scope="module")
def small_upload_client(cadastre_path: Path) -> Iterator[TestClient]:
    settings = Settings(path=cadastre_path, upload_limit_bytes=100_000)
    with TestClient(create_app(settings)) as client:
        yield client


def test_oversize_upload_is_a_413(small_upload_client: TestClient) -> None:
    data = LINKY.read_bytes()
    assert len(data) > 100_000
    status, body = upload(small_upload_client, data)
    assert status == 413
    assert body["code"] == "payload_too_large"
    assert body["detail"].startswith("file: ")
    # just under the limit is read (and fails on its truncated last line, not on size)
    status, body = upload(small_upload_client, data[:100_000])
    assert status != 413


def test_upload_without_content_length_is_cut_off(small_upload_client: TestClient) -> None:
    """A chunked body carries no Content-Length: the stream itself is capped."""
    boundary = "limit-test"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Any:
        yield head
        data = LINKY.read_bytes()
        for start in range(0, len(data), 10_000):
            yield data[start : start + 10_000]
        yield tail

    response = small_upload_client.post(
        "/api/v1/simulate/linky",
        params={},
        content=chunks(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413


def test_the_cap_stops_reading() -> None:
    """No chunk past the one that crosses the cap is read."""
    read: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for i in range(100):
            read.append(i)
            yield b"x" * 1000

    async def consume() -> None:
        async for _ in capped(body(), cap=5_500, limit=5_000):
            pass

    with pytest.raises(PayloadTooLarge, match="larger than 5000 bytes"):
        asyncio.run(consume())
    assert read == list(range(6))
    assert FORM_OVERHEAD_BYTES < 1_000_000


def _two_year_curve() -> bytes:
    """A valid Linky export of two years at 30 min: over 1 MB, Starlette's disk spool."""
    stamps = pd.date_range("2021-07-29 00:30", "2023-07-29 00:00", freq="30min", tz="Europe/Paris")
    values = (300 + 100 * (stamps.hour >= 18)).astype(str)
    rows = [f"{t.isoformat()};{v}" for t, v in zip(stamps, values, strict=True)]
    header = LINKY.read_bytes().decode("utf-8-sig").splitlines()[:3]
    return "\n".join([*header, *rows]).encode()


def test_upload_never_touches_the_disk(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _two_year_curve()
    assert len(data) > 1024 * 1024

    def no_disk(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the upload was about to be written to disk")

    for name in ("TemporaryFile", "NamedTemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, no_disk)
    status, result = upload(client, data)
    assert status == 200, result
    assert result["linky"]["measured_hours"] == 8760
    assert any("longer than a year" in w for w in result["warnings"])


def test_upload_is_never_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """Neither the file's content nor the uploaded values reach any log, even on errors."""
    lines = LINKY.read_bytes().splitlines()
    secret_prm = b"98765432109876"
    lines[1] = lines[1].replace(b"1111111111111", secret_prm)
    good = b"\n".join(lines)
    lines[9] = b"2022-07-29T03:30:00+02:00;4242x"
    bad = b"\n".join(lines)
    with caplog.at_level(logging.DEBUG):
        assert upload(client, good, battery_kwh=7.25)[0] == 200
        status, body = upload(client, bad)
        assert status == 422
        assert "4242x" in body["detail"]  # the resident is told what is wrong…
        mangled = client.post(
            "/api/v1/simulate/linky",
            content=b"--b\r\nX" + good,
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
        assert mangled.status_code == 422
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    # …but nothing of the upload is logged
    for needle in ("4242x", secret_prm.decode(), "2022-07-29T03:30", "7.25", ";364"):
        assert needle not in logged, needle
