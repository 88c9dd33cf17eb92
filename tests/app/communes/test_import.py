"""Importing a commune's list of buildings: the per-row report, all or nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from app.communes.store import Store
from app.main import create_app
from app.settings import Settings
from tests.app.communes.conftest import LENS, Keys
from tests.app.conftest import ADDRESS_BUILDING, burgundy_addresses, lens_addresses

URL = f"/api/v1/communes/{LENS}/portfolio/import"


@pytest.fixture(scope="module")
def client_and_key(
    cadastre_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, str]]:
    """An app with a store of its own, and a key of Lens."""
    db = tmp_path_factory.mktemp("imports") / "communes.sqlite"
    store = Store(db)
    _, key = store.create_key("Mairie de Lens", [LENS])
    store.close()
    with TestClient(create_app(Settings(path=cadastre_path, db=str(db)))) as client:
        yield client, key


def _post(
    client_and_key: tuple[TestClient, str], data: bytes, name: str = "liste.csv", **params: str
) -> tuple[int, dict]:
    client, key = client_and_key
    response = client.post(
        URL, files={"file": (name, data)}, params=params, headers=Keys.bearer(key)
    )
    return response.status_code, response.json()


def _portfolio(client_and_key: tuple[TestClient, str]) -> dict[str, dict]:
    client, key = client_and_key
    items = client.get(f"/api/v1/communes/{LENS}/portfolio", headers=Keys.bearer(key)).json()
    return {i["building_id"]: i for i in items["items"]}


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_import_by_id_address_and_position(client_and_key: tuple[TestClient, str]) -> None:
    by_id = (
        "Bâtiment;Statut;Usage;Consommation (kWh);Note\n"
        "BAT_FLAT_C;Retenu;Salle de sport;38 000,5;Gymnase Basly\n"
    )
    status, report = _post(client_and_key, by_id.encode("utf-8-sig"))
    assert status == 200, report
    assert report["imported"] == 1
    assert report["rows"] == [
        {
            "row": 2,
            "matched": True,
            "building_id": "BAT_FLAT_C",
            "address": None,
            "action": "created",
            "reason": None,
        }
    ]
    # the addresses as a town hall's Excel saves them: Windows-1252, commas
    by_address = (
        'adresse,statut,motif\n"12 Rue Jean Jaurès, Lens",écarté,ABF\n7 rue Saint-Éloi,à étudier,\n'
    )
    status, report = _post(client_and_key, by_address.encode("cp1252"))
    assert status == 200, report
    assert [r["building_id"] for r in report["rows"]] == ["BAT_GABLE_A", "BAT_HIP_D"]
    assert report["rows"][0]["address"].startswith("12 Rue Jean Jaurès")
    address = next(a for a in lens_addresses() if a.address_id == "62498_0541_00003")
    workbook = _xlsx([["Longitude", "Latitude", "Usage"], [address.lon, address.lat, "Mairie"]])
    status, report = _post(client_and_key, workbook, "liste.xlsx")
    assert status == 200, report
    assert report["rows"][0]["building_id"] == ADDRESS_BUILDING["62498_0541_00003"]
    portfolio = _portfolio(client_and_key)
    assert portfolio["BAT_FLAT_C"]["annual_consumption_kwh"] == 38_000.5
    assert portfolio["BAT_FLAT_C"]["usage"] == "salle_de_sport"
    assert (portfolio["BAT_GABLE_A"]["status"], portfolio["BAT_GABLE_A"]["reason"]) == (
        "ecarte",
        "patrimoine_abf",
    )
    assert portfolio["BAT_HIP_D"]["status"] == "a_etudier"
    assert portfolio["BAT_GABLE_B"]["usage"] == "mairie"
    # imported again: the entries are updated, not refused
    status, report = _post(client_and_key, by_id.encode("utf-8"))
    assert (status, report["rows"][0]["action"]) == (200, "updated")


def test_a_dry_run_writes_nothing(client_and_key: tuple[TestClient, str]) -> None:
    before = _portfolio(client_and_key)
    status, report = _post(client_and_key, b"batiment;statut\nBAT_HIP_D;retenu\n", dry_run="true")
    assert (status, report["dry_run"], report["imported"]) == (200, True, 0)
    assert report["rows"][0]["matched"] is True
    assert _portfolio(client_and_key) == before


@pytest.mark.parametrize(
    ("rows", "refused"),
    [
        ("batiment\nBAT_HIP_D\nNO_SUCH\n", {3: "inconnu"}),
        ("batiment\nBAT_HIP_D\nBAT_FLAT_C\nBAT_HIP_D\n", {4: "ligne 2"}),
        ("longitude;latitude\n200;50.4\n2,83;abc\n", {2: "hors bornes", 3: "illisible"}),
        ("longitude;latitude\n4.9;52.0\n", {2: "aucun bâtiment"}),
        ("adresse\n12 rue inconnue de nulle part\n", {2: "introuvable"}),
        ("adresse\n5 Boulevard Émile Basly\n", {2: "aucun bâtiment sous"}),
        ("batiment;statut\nBAT_HIP_D;valide\n", {2: "statut inconnu"}),
        ("batiment;statut;motif\nBAT_HIP_D;retenu;ombrage\n", {2: "écarté"}),
        ("batiment;consommation\nBAT_HIP_D;-5\n", {2: "hors bornes"}),
        ("batiment;adresse;note\n;;une note\n", {2: "ni bâtiment"}),
    ],
)
def test_refused_rows_import_nothing(
    client_and_key: tuple[TestClient, str], rows: str, refused: dict[int, str]
) -> None:
    before = _portfolio(client_and_key)
    status, body = _post(client_and_key, rows.encode())
    assert status == 422, body
    assert body["code"] == "import_refused"
    assert {
        r["row"]: r["reason"] for r in body["rows"] if not r["matched"]
    }.keys() == refused.keys()
    for row in body["rows"]:
        if not row["matched"]:
            assert refused[row["row"]] in row["reason"]
    assert _portfolio(client_and_key) == before


def test_a_building_of_another_commune_is_refused(client_and_key: tuple[TestClient, str]) -> None:
    address = burgundy_addresses()[0]  # on a building of Louhans
    status, body = _post(client_and_key, f"lon,lat\n{address.lon},{address.lat}\n".encode())
    assert status == 422
    assert "hors de la commune" in body["rows"][0]["reason"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"batiment;statut\n", "no row"),
        (b"nom;surface\nEcole;120\n", "no column gives the building"),
        (b"batiment;batiment\nA;B\n", "several columns"),
        ("batiment\nBAT_HIP_D\n".encode("utf-16-le"), "not a text file"),
        (b"\x00\x01\x02binary", "not a text file"),
        (b"PK\x03\x04 not really a workbook", "XLSX"),
    ],
)
def test_unreadable_files_get_a_422(
    client_and_key: tuple[TestClient, str], data: bytes, message: str
) -> None:
    status, body = _post(client_and_key, data)
    assert status == 422, body
    assert message in body["detail"]


def test_an_oversize_file_gets_a_413(client_and_key: tuple[TestClient, str]) -> None:
    row = b"BAT_HIP_D;retenu;" + b"x" * 100 + b"\n"
    data = b"batiment;statut;note\n" + row * (10 * 1024 * 1024 // len(row) + 10)
    status, body = _post(client_and_key, data)
    assert status == 413, body


def test_an_import_needs_a_file(client_and_key: tuple[TestClient, str]) -> None:
    client, key = client_and_key
    response = client.post(URL, data={"other": "x"}, headers=Keys.bearer(key))
    assert response.status_code == 422


def test_a_file_larger_than_a_linky_upload_is_read(client_and_key: tuple[TestClient, str]) -> None:
    # 7.5 MB: above the 5 MB of the other uploads, within the 10 MB of an import
    row = "BAT_HIP_D;retenu;" + "n" * 1500 + "\n"
    status, body = _post(client_and_key, ("batiment;statut;note\n" + row * 5000).encode())
    assert status == 422, body
    assert body["code"] == "import_refused"
    assert sum(not r["matched"] for r in body["rows"]) == 4999
