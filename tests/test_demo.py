"""The demo territory: the three real samples, built, merged and served by ``cadastre demo``."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from app.settings import Settings
from solar import demo
from solar.cadastre import Cadastre
from solar.errors import InputError
from solar.pv import WORTH_EQUIPPING

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo built by ``cadastre demo --build-only`` from an empty working folder.

    Returns the data folder and what the command printed.
    """
    data_dir = tmp_path_factory.mktemp("data") / "demo"
    cwd = tmp_path_factory.mktemp("cwd")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        result = runner.invoke(cli, ["demo", "--build-only", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert list(cwd.iterdir()) == []  # nothing is written where the command runs
    return data_dir, result.stdout


@pytest.fixture(scope="module")
def demo_cadastre(demo_build: tuple[Path, str]) -> Path:
    return demo_build[0] / demo.CADASTRE_FILE


def test_demo_holds_every_sample_in_lambert93(demo_cadastre: Path) -> None:
    store = Cadastre(demo_cadastre)
    assert store.crs.to_epsg() == 2154
    parts = [p["part"] for p in store.provenance()["parts"]]
    assert parts == [f"{s.name}.gpkg" for s in demo.SAMPLES]
    summary = store.summary()
    assert summary["buildings"] >= 160 + 6 + 1  # Delft, Burgundy in the LAZ, Montpellier
    assert summary["kwc"] > 0


def test_the_demo_build_prints_one_total(demo_build: tuple[Path, str]) -> None:
    data_dir, output = demo_build
    built = [line for line in output.splitlines() if line.startswith("built")]
    assert len(built) == 1, output
    with sqlite3.connect(data_dir / demo.CADASTRE_FILE) as con:
        buildings = con.execute("SELECT count(*) FROM buildings").fetchone()[0]
        faces = con.execute("SELECT count(*) FROM roof_faces").fetchone()[0]
    assert f" {buildings} buildings, {faces} roof faces," in built[0]
    assert re.search(r"kWc, [\d,.]+ MWh/yr, in [\d.]+ s \(3 samples\)", built[0]), built[0]


def test_every_demo_address_stands_on_its_building(demo_cadastre: Path) -> None:
    with sqlite3.connect(demo_cadastre) as con:
        rows = con.execute(
            "SELECT nom_commune, count(*), count(building_id) FROM addresses GROUP BY 1"
        ).fetchall()
    assert {r[0] for r in rows} == {s.nom_commune for s in demo.SAMPLES}
    for commune, n, linked in rows:
        assert n == linked, commune
        assert commune.endswith("(démo)")


def _serve_demo(
    monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str | None]
) -> tuple[Path, str]:
    """Run ``cadastre demo`` with the server replaced; the cadastre it served, its output."""
    served: list[Path] = []

    def serve(path: Path, **kwargs: Any) -> None:
        served.append(Path(path))

    monkeypatch.setattr("app.main.serve", serve)
    result = runner.invoke(cli, ["demo", *args], env=env)
    assert result.exit_code == 0, result.output
    assert len(served) == 1
    return served[0], result.stdout


def test_the_banner_example_leads_to_a_roof_worth_equipping(
    demo_build: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, _ = demo_build
    served, banner = _serve_demo(
        monkeypatch, ["--data-dir", str(data_dir), "--port", "8123"], env={}
    )
    assert served == data_dir / demo.CADASTRE_FILE
    urls = re.findall(r"http://127\.0\.0\.1:8123(/api/v1/addresses\S*)", banner)
    search, solar = (urlsplit(url) for url in urls)
    with TestClient(create_app(Settings(path=served))) as client:
        hits = client.get(f"{search.path}?{search.query}").json()["results"]
        answer = client.get(solar.path)
    address_id = unquote(solar.path.split("/")[-2])
    assert hits[0]["address_id"] == address_id
    assert answer.status_code == 200
    building = answer.json()["building"]
    assert building["kwc"] > 0
    assert building["suitability"] in WORTH_EQUIPPING
    assert building["building_id"] == Cadastre(served).address(address_id).building_id


@pytest.mark.parametrize("source", ["option", "environment", "xdg", "home"])
def test_the_data_folder_is_chosen_by_the_user_or_per_user(
    demo_cadastre: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    chosen = tmp_path / "chosen"
    env: dict[str, str | None] = {
        "CADASTRE_DATA_DIR": None,
        "XDG_DATA_HOME": None,
        "HOME": str(tmp_path / "home"),
    }
    args: list[str] = []
    if source == "option":
        args = ["--data-dir", str(chosen)]
    elif source == "environment":
        env["CADASTRE_DATA_DIR"] = str(chosen)
    elif source == "xdg":
        env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
        chosen = tmp_path / "xdg" / "artois-cadastre"
    else:
        chosen = tmp_path / "home" / ".local" / "share" / "artois-cadastre"
    chosen.mkdir(parents=True)
    shutil.copy(demo_cadastre, chosen / demo.CADASTRE_FILE)
    served, _ = _serve_demo(monkeypatch, args, env)
    assert served == chosen / demo.CADASTRE_FILE
    assert os.listdir(chosen) == [demo.CADASTRE_FILE]  # found, not built again


def test_a_demo_cadastre_this_version_cannot_read_is_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / demo.CADASTRE_FILE).write_bytes(b"a cadastre of an older version")
    calls: list[Path] = []

    def build_demo(folder: Path, progress: object = None) -> None:
        calls.append(folder)
        raise InputError("stopped here by the test")

    monkeypatch.setattr(demo, "build_demo", build_demo)
    result = runner.invoke(cli, ["demo", "--build-only", "--data-dir", str(data_dir)])
    assert calls == [data_dir]
    assert result.exit_code == 2
    assert "stopped here by the test" in result.output
