"""``cadastre keys create | list | revoke`` and ``cadastre serve --db``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.communes.store import Store

runner = CliRunner()


def _invoke(*args: str) -> Any:
    return runner.invoke(cli, list(args), env={"COLUMNS": "200", "CADASTRE_DB": ""})


def test_a_key_is_printed_once_on_the_last_line(tmp_path: Path) -> None:
    db = str(tmp_path / "communes.sqlite")
    result = _invoke(
        "keys",
        "create",
        "--db",
        db,
        "--commune",
        "62498",
        "--commune",
        "62510",
        "--label",
        "Mairie de Lens",
    )
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    store = Store(db)
    scope = store.authenticate(key)
    store.close()
    assert scope is not None
    assert scope.communes == frozenset({"62498", "62510"})
    listed = _invoke("keys", "list", "--db", db)
    assert listed.exit_code == 0
    assert "Mairie de Lens" in listed.output and "62498,62510" in listed.output
    assert key not in listed.output


def test_a_territory_key_and_revocation(tmp_path: Path) -> None:
    db = str(tmp_path / "communes.sqlite")
    result = _invoke("keys", "create", "--db", db, "--territory", "--label", "PMA énergie")
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    revoked = _invoke("keys", "revoke", "--db", db, "PMA énergie")
    assert revoked.exit_code == 0, revoked.output
    store = Store(db)
    assert store.authenticate(key) is None
    store.close()
    assert "revoked" in _invoke("keys", "list", "--db", db).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--label", "Lens"), "--commune INSEE"),
        (("--label", "Lens", "--commune", "62498", "--territory"), "--commune INSEE"),
        (("--label", "Lens", "--commune", "lens"), "not an INSEE"),
        (("--label", " ", "--territory"), "label"),
    ],
)
def test_bad_key_requests_are_one_error_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = _invoke("keys", "create", "--db", str(tmp_path / "c.sqlite"), *args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]


def test_revoking_an_unknown_key_is_one_error_line(tmp_path: Path) -> None:
    result = _invoke("keys", "revoke", "--db", str(tmp_path / "c.sqlite"), "42")
    assert result.exit_code == 2
    assert result.output.strip().startswith("error:") and "42" in result.output


def test_an_unsupported_database_is_one_error_line() -> None:
    result = _invoke("keys", "list", "--db", "mysql://host/db")
    assert result.exit_code == 2
    assert "unsupported database" in result.output


def test_serve_opens_the_store_it_is_given(
    cadastre_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # serve passes --db to the server's settings through the environment: undone after
    monkeypatch.delenv("CADASTRE_DB", raising=False)
    served: list[tuple[Any, ...]] = []
    monkeypatch.setattr("app.main.serve", lambda *args, **kwargs: served.append(args))
    db = tmp_path / "store" / "communes.sqlite"
    result = runner.invoke(cli, ["serve", "--cadastre", str(cadastre_path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert served and db.is_file()
    result = runner.invoke(
        cli, ["serve", "--cadastre", str(cadastre_path), "--db", "mysql://host/db"]
    )
    assert result.exit_code == 2 and "unsupported database" in result.output
