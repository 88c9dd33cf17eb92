"""The cadastre's queries behind a commune's listing, against the file read with sqlite3."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from solar.cadastre import COMMUNE_SORT_KEYS, Cadastre
from solar.errors import InputError
from tests.app.communes.conftest import LENS, LOUHANS


@pytest.fixture(scope="module")
def cadastre(cadastre_path: Path) -> Iterator[Cadastre]:
    opened = Cadastre(cadastre_path)
    yield opened
    opened.close()


def _rows(path: Path, insee: str) -> list[sqlite3.Row]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT * FROM buildings WHERE commune_insee = ?", (insee,)).fetchall()
    finally:
        con.close()


def _walk(cadastre: Cadastre, insee: str, **options: Any) -> list[str]:
    ids: list[str] = []
    after = None
    for _ in range(1000):
        page, after = cadastre.buildings_in_commune(insee, after=after, **options)
        ids += [r.building_id for r in page]
        if after is None:
            return ids
    raise AssertionError("endless pages")


@pytest.mark.parametrize("sort", COMMUNE_SORT_KEYS)
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("insee", [LENS, LOUHANS])
def test_pages_of_one_hold_every_building_once_in_order(
    cadastre: Cadastre, cadastre_path: Path, insee: str, sort: str, descending: bool
) -> None:
    rows = _rows(cadastre_path, insee)
    assert rows, f"no building in {insee}"

    def key(row: sqlite3.Row) -> tuple[Any, str]:
        value = row[sort] if row[sort] is not None else 0
        if sort == "building_id":
            return (row["building_id"], "")
        return (-value if descending else value, row["building_id"])

    if sort == "building_id" and descending:
        expected = sorted((r["building_id"] for r in rows), reverse=True)
    else:
        expected = [r["building_id"] for r in sorted(rows, key=key)]
    assert _walk(cadastre, insee, limit=1, sort=sort, descending=descending) == expected
    assert _walk(cadastre, insee, limit=3, sort=sort, descending=descending) == expected


def test_filters(cadastre: Cadastre, cadastre_path: Path) -> None:
    rows = _rows(cadastre_path, LOUHANS)
    some = sorted(r["building_id"] for r in rows)[:2]
    assert sorted(_walk(cadastre, LOUHANS, building_ids=some)) == some
    assert cadastre.buildings_in_commune(LOUHANS, building_ids=[]) == ([], None)
    classes = {r["suitability"] for r in rows}
    for suitability in classes:
        listed = _walk(cadastre, LOUHANS, suitability=[suitability])
        assert sorted(listed) == sorted(
            r["building_id"] for r in rows if r["suitability"] == suitability
        )
    assert _walk(cadastre, LOUHANS, min_kwc=1e6) == []
    with pytest.raises(InputError, match="sort"):
        cadastre.buildings_in_commune(LOUHANS, sort="geometry")


def test_communes_and_their_names(cadastre: Cadastre) -> None:
    communes = cadastre.communes()
    assert communes == sorted(set(communes))
    assert {LENS, LOUHANS} <= set(communes)
    assert cadastre.has_commune(LENS) and not cadastre.has_commune("59350")
    assert cadastre.commune_names()[LENS] == "Lens"
    assert cadastre.commune_names()[LOUHANS] == "Louhans"


def test_address_labels_take_the_first_address(cadastre: Cadastre) -> None:
    labels = cadastre.address_labels(["BAT_GABLE_B", "BAT_FLAT_C", "NO_SUCH"])
    # B has two addresses: the first of the BAN file wins
    assert labels == {
        "BAT_GABLE_B": "12 bis Rue Jean Jaurès 62300 Lens",
        "BAT_FLAT_C": "120 Rue Jean Jaurès 62300 Lens",
    }
    assert cadastre.address_labels([]) == {}


def test_long_id_lists_are_read_in_chunks(cadastre: Cadastre) -> None:
    many = [f"UNKNOWN_{i}" for i in range(1200)] + ["BAT_FLAT_C"]
    assert cadastre.address_labels(many) == {"BAT_FLAT_C": "120 Rue Jean Jaurès 62300 Lens"}
