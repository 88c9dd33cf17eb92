"""The service brings its cadastre into the page cache when it opens it."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from app import dependencies
from app.dependencies import Services
from app.pagecache import evict, read_ahead, resident_fraction
from app.settings import Settings


def _evicted(path: Path) -> Path:
    """``path``, its pages written to disk and dropped from the page cache."""
    evict(path)
    if resident_fraction(path) > 0.5:
        pytest.skip("this file system keeps its files in memory (tmpfs): nothing to read ahead")
    return path


def _resident_within(path: Path, seconds: float) -> float:
    deadline = time.monotonic() + seconds
    while (fraction := resident_fraction(path)) < 0.99 and time.monotonic() < deadline:
        time.sleep(0.05)
    return fraction


def test_read_ahead_brings_a_whole_file_into_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "large.bin"
    # larger than one read-ahead window, so that one request alone would not do
    path.write_bytes(os.urandom(48 << 20))
    _evicted(path)
    read_ahead(path)
    assert _resident_within(path, 20.0) >= 0.99


def test_resident_fraction_sees_a_file_read_in_part(tmp_path: Path) -> None:
    path = tmp_path / "part.bin"
    path.write_bytes(os.urandom(16 << 20))
    _evicted(path)
    with open(path, "rb") as file:
        file.read(4 << 20)
    # the kernel may read a little past what was asked, never the whole file
    assert 0.2 <= resident_fraction(path) < 0.9


def test_opening_the_services_reads_the_cadastre_ahead(
    tmp_path: Path, cadastre_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A territory's requests read a few pages of a large file; the test cadastre is small
    # enough for its opening to read nearly all of it, so 40 MB that only the read-ahead
    # reads are added.
    path = tmp_path / cadastre_path.name
    shutil.copy(cadastre_path, path)
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE bulk (data BLOB)")
        connection.executemany("INSERT INTO bulk VALUES (?)", [(os.urandom(1 << 20),)] * 40)
    settings = Settings(path=path)
    Services.open(settings).close()  # hashes the file once, as a first start does

    monkeypatch.setattr(dependencies, "read_ahead", lambda path: None)
    _evicted(path)
    services = Services.open(settings)
    try:
        time.sleep(1.0)
        assert resident_fraction(path) < 0.5
    finally:
        services.close()

    monkeypatch.undo()
    _evicted(path)
    services = Services.open(settings)
    try:
        assert _resident_within(path, 20.0) >= 0.99
    finally:
        services.close()


def test_a_missing_file_is_left_to_the_opening(tmp_path: Path) -> None:
    read_ahead(tmp_path / "missing.gpkg")
