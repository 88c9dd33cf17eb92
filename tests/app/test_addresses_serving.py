"""Opening a cadastre reads no address or building row; the search reads its hits only."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from app import dependencies, views
from app.dependencies import FileKey, Services, verified_path, verify_once
from app.geo import Projector
from app.settings import Settings
from solar.addresses import AddressIndex
from solar.cadastre import Cadastre, checksum_path
from solar.errors import InputError
from tests.app.conftest import ADDRESS_ROWS, N_ADDRESSES

#: A statement that reads rows of a layer one by one, not through an index or a count.
_WHOLE_LAYER = re.compile(r"FROM (addresses|buildings|roof_faces)\b(?!.*\bWHERE\b)", re.S)


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement the cadastres opened from now on run."""
    seen: list[str] = []
    opened = Cadastre._open

    def traced(self: Cadastre) -> sqlite3.Connection:
        con = opened(self)
        con.set_trace_callback(seen.append)
        return con

    monkeypatch.setattr(Cadastre, "_open", traced)
    return seen


def test_opening_reads_no_address_or_building_row(
    cadastre_path: Path, statements: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a territory holds is counted at start-up, never read row by row: the search
    index is built after, in a thread (held back here)."""
    monkeypatch.setattr(dependencies, "_warm_up", lambda index: None)
    services = Services.open(Settings(path=cadastre_path))
    try:
        row_reads = [s for s in statements if _WHOLE_LAYER.search(s) and "count(" not in s]
        assert [s for s in row_reads if "sum(" not in s] == []
        assert len(services.address_index) == N_ADDRESSES
        # the first search builds the index, from the label and number columns alone
        before = len(statements)
        hits = services.address_index.search("jaures", limit=3)
        assert len(hits) == 3
        built = statements[before:]
        assert any("SELECT fid, label, numero FROM addresses" in s for s in built)
        assert not any(s.startswith("SELECT * FROM addresses ORDER BY") for s in built)
    finally:
        services.close()


def test_an_address_is_read_by_its_id(cadastre_path: Path, statements: list[str]) -> None:
    services = Services.open(Settings(path=cadastre_path))
    try:
        address_id = ADDRESS_ROWS[0][0]
        before = len(statements)
        address, building_id = services.address(address_id)
        assert address.address_id == address_id and building_id
        assert any("FROM addresses WHERE address_id =" in s for s in statements[before:])
    finally:
        services.close()


@pytest.mark.parametrize(
    "q", ["jaures", "12 rue jean jaures", "3 av foch", "lievi", "grande rue louhans", "zzzz"]
)
@pytest.mark.parametrize("limit", [1, 10, 50])
def test_the_search_finds_what_an_index_of_records_finds(
    cadastre_path: Path, q: str, limit: int
) -> None:
    """Hits read from the cadastre by feature id: the records, positions included, of an
    index built from every record in memory."""
    cadastre = Cadastre(cadastre_path)
    projector = Projector(cadastre.crs)
    try:
        in_memory = AddressIndex(views.address_records(cadastre, projector))
        served = dependencies.address_index(cadastre, projector, N_ADDRESSES)
        expected = [(h.address, h.score) for h in in_memory.search(q, limit=limit)]
        assert [(dict(h.address), h.score) for h in served.search(q, limit=limit)] == expected
        assert served.get(ADDRESS_ROWS[0][0]) == in_memory.get(ADDRESS_ROWS[0][0])
        assert served.get("nope") is None
    finally:
        cadastre.close()


@pytest.fixture
def copied(cadastre_path: Path, tmp_path: Path) -> Path:
    """A copy of the session cadastre with its checksum, in a folder of its own."""
    target = tmp_path / cadastre_path.name
    shutil.copy2(cadastre_path, target)
    shutil.copy2(checksum_path(cadastre_path), checksum_path(target))
    return target


def _verify(path: Path) -> tuple[str, bool]:
    fd = os.open(path, os.O_RDONLY)
    try:
        return verify_once(path, fd, FileKey.of(os.fstat(fd)))
    finally:
        os.close(fd)


def test_a_file_is_hashed_once(copied: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[Path] = []
    verify = dependencies.verify_checksum

    def counted(path: Path, *, fd: int | None = None) -> tuple[str, bool]:
        hashed.append(path)
        return verify(path, fd=fd)

    monkeypatch.setattr(dependencies, "verify_checksum", counted)
    first = _verify(copied)
    assert first[1] and verified_path(copied).is_file()
    assert _verify(copied) == first
    assert len(hashed) == 1


def test_a_damaged_file_is_hashed_again_and_refused(copied: Path) -> None:
    _verify(copied)
    size = copied.stat().st_size
    with open(copied, "r+b") as stream:
        stream.seek(size // 2)
        byte = stream.read(1)
        stream.seek(size // 2)
        stream.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(InputError, match="damaged"):
        _verify(copied)


def test_a_note_of_another_file_is_ignored(copied: Path, tmp_path: Path) -> None:
    """A copy carries its original's note: its key differs, so it is hashed, and a
    wrong digest in the note changes nothing."""
    _verify(copied)
    note = verified_path(copied)
    note.write_text(note.read_text().replace('"sha256": "', '"sha256": "0'), encoding="utf-8")
    other = tmp_path / "other" / copied.name
    other.parent.mkdir()
    for source in (copied, checksum_path(copied), note):
        shutil.copy2(source, other.parent / source.name)
    sha256, verified = _verify(other)
    assert verified and not sha256.startswith("0" * 2) and len(sha256) == 64
