"""Builds that stop and start again: resume after a crash or ``kill -9``, refresh after a
changed input, the checks made before any computation.

A build that stops leaves its finished tiles in ``<out>.work/``; the same build run again
computes only the others and writes the same cadastre as a build that never stopped. The
comparison covers every column of every table of the GeoPackage but the provenance (which
dates the run) and every cell of the raster.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from solar import build
from solar.build import run
from solar.build.climate import site_climate
from solar.build.tiles import plan_tiles
from solar.cadastre import Cadastre
from solar.errors import InputError
from solar.footprints import Footprint, FootprintSet, select_within
from solar.resources import DEFAULT_WEATHER
from solar.surface import DsmSource, Surface, crop
from solar.weather import read_weather
from tests import scenes
from tests.conftest import DELFT_CRS, DELFT_FOOTPRINTS, DELFT_LAZ
from tests.rasters import write_window

REPOSITORY = Path(__file__).resolve().parents[2]

SMALL_TILES = build.BuildOptions(tile_size=25.0, halo=8.0)
"""A part of Delft in about ten tiles, each seeing little past its neighbours."""


class _Crash(Exception):
    """Stands for the end of a process in the middle of a build."""


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    """Every table of a cadastre but the GeoPackage's own and the provenance, sorted."""
    with sqlite3.connect(path) as con:
        names = [
            row[0]
            for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not row[0].startswith(("gpkg_", "rtree_", "sqlite_")) and row[0] != "provenance"
        ]
        return {name: pd.read_sql(f'SELECT * FROM "{name}"', con) for name in sorted(names)}


def assert_same_cadastre(a: Path, b: Path) -> None:
    """Same rows in every table, same cells in every band of the raster."""
    tables_a, tables_b = _tables(a), _tables(b)
    assert list(tables_a) == list(tables_b)
    assert {"buildings", "roof_faces"} <= set(tables_a)
    for name, frame in tables_a.items():
        pd.testing.assert_frame_equal(frame, tables_b[name], obj=name)
    raster = ".irradiation.tif"
    with rasterio.open(a.with_suffix(raster)) as ra, rasterio.open(b.with_suffix(raster)) as rb:
        assert ra.transform == rb.transform
        np.testing.assert_array_equal(ra.read(), rb.read())


def _crash_after(tiles: int) -> Callable[[str, int, int], None]:
    """A progress callback that stops the build once ``tiles`` tiles are done."""

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "tiles" and done >= tiles and done < total:
            raise _Crash

    return progress


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the tiles computed from now on."""
    computed: list[int] = []
    original = run.process_tile

    def process_tile(*args: Any, **kwargs: Any) -> Any:
        computed.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(run, "process_tile", process_tile)
    return computed


def _provenance(path: Path) -> dict[str, Any]:
    cadastre = Cadastre(path)
    try:
        return cadastre.provenance()
    finally:
        cadastre.close()


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _leftovers(folder: Path) -> set[str]:
    """Work folders, hidden files and staging files in ``folder``."""
    return {
        name
        for name in _files(folder)
        if name.startswith(".") or name.endswith(run.WORK_SUFFIX) or "staging" in name
    }


def _outputs(reference: Path, stem: str) -> set[str]:
    """The names of the files beside the finished cadastre ``reference``, for a cadastre
    named ``stem``: the GeoPackage, its raster, and whatever else a build writes beside
    them."""
    return {
        name.replace(reference.stem, stem, 1)
        for name in _files(reference.parent)
        if name.startswith(reference.stem + ".")
    }


def part_of_delft(delft_surface: tuple[Surface, tuple[Footprint, ...]]) -> build.Territory:
    """The south-west of Delft, 130 m × 115 m, and the footprints on it."""
    surface, footprints = delft_surface
    x0, y0, _, _ = surface.bounds
    part = crop(surface, (x0, y0, x0 + 130.0, y0 + 115.0))
    inside, _ = select_within(FootprintSet(footprints, 0, (), "delft"), part.bounds)
    return build.Territory(part, inside, communes=None)


@pytest.fixture(scope="module")
def delft_part(delft_surface: tuple[Surface, tuple[Footprint, ...]]) -> build.Territory:
    """The south-west of Delft in about ten small tiles."""
    return part_of_delft(delft_surface)


@pytest.fixture(scope="module")
def delft_part_built(
    tmp_path_factory: pytest.TempPathFactory, delft_part: build.Territory
) -> build.BuildSummary:
    """The part built in small tiles, without stopping."""
    out = tmp_path_factory.mktemp("uninterrupted") / "whole.gpkg"
    return build.build_from_surface(delft_part, out=out, options=SMALL_TILES)


def test_a_stopped_build_resumes_to_the_same_cadastre(
    tmp_path: Path,
    delft_part: build.Territory,
    delft_part_built: build.BuildSummary,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "resumed.gpkg"
    total = delft_part_built.tiles
    assert total >= 6
    with pytest.raises(_Crash):
        build.build_from_surface(delft_part, out=out, options=SMALL_TILES, progress=_crash_after(3))
    work = tmp_path / "resumed.gpkg.work"
    assert len([name for name in _files(work) if name.endswith(".pkl")]) == 3
    assert not out.exists()
    # what a process killed while writing the cadastre leaves beside it
    for leftover in (".resumed.x1y2.tmp.gpkg", ".resumed.x1y2.tmp.gpkg-journal"):
        (tmp_path / leftover).write_bytes(b"partial")
    (work / "resumed.irradiation.tif.staging.tif").write_bytes(b"partial")

    computed = _counting(monkeypatch)
    resumed = build.build_from_surface(delft_part, out=out, options=SMALL_TILES)
    assert resumed.tiles_resumed == 3
    assert len(computed) == total - 3
    assert_same_cadastre(resumed.path, delft_part_built.path)
    # the files a build that never stopped leaves, and nothing else
    assert _files(tmp_path) == _outputs(delft_part_built.path, "resumed")
    provenance = _provenance(out)
    assert provenance["tiles_reused"] == 3
    assert len(provenance["tiles_recomputed"]) == total - 3


def test_a_finished_build_leaves_no_work_folder_and_computes_every_tile_again(
    tmp_path: Path, delft_part: build.Territory, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "twice.gpkg"
    first = build.build_from_surface(delft_part, out=out, options=SMALL_TILES)
    assert {"twice.gpkg", "twice.irradiation.tif"} <= _files(tmp_path)
    assert _leftovers(tmp_path) == set()
    computed = _counting(monkeypatch)
    again = build.build_from_surface(delft_part, out=out, options=SMALL_TILES)
    assert again.tiles_resumed == 0 and len(computed) == first.tiles


def test_a_changed_tile_recomputes_only_its_neighbourhood(
    tmp_path: Path, delft_part: build.Territory, monkeypatch: pytest.MonkeyPatch
) -> None:
    surface, footprints = delft_part.surface, delft_part.footprints
    assert isinstance(surface, Surface)
    out = tmp_path / "refreshed.gpkg"
    keep = build.Execution(keep_tiles=True)
    first = build.build_from_surface(delft_part, out=out, options=SMALL_TILES, execution=keep)
    assert "refreshed.gpkg.tiles" in _files(tmp_path)
    assert _leftovers(tmp_path) == set()

    # a mast of 1.5 m × 1.5 m appears in the middle of a tile
    tiles = plan_tiles(
        surface.bounds, footprints, tile_size=SMALL_TILES.tile_size, halo=SMALL_TILES.halo
    )
    cx0, cy0, cx1, cy1 = tiles[len(tiles) // 2].core
    row, col = rasterio.transform.rowcol(surface.transform, (cx0 + cx1) / 2, (cy0 + cy1) / 2)
    elevation = surface.elevation.copy()
    elevation[row - 1 : row + 2, col - 1 : col + 2] += 5.0
    changed = dataclasses.replace(surface, elevation=elevation)
    mast = shapely.box(
        *rasterio.transform.xy(surface.transform, row + 1, col - 1, offset="ll"),
        *rasterio.transform.xy(surface.transform, row - 1, col + 1, offset="ur"),
    )
    expected = {run.tile_name(t) for t in tiles if shapely.box(*t.window).intersects(mast)}
    assert 1 <= len(expected) < len(tiles)

    computed = _counting(monkeypatch)
    refreshed = build.build_from_surface(
        build.Territory(changed, footprints, communes=None),
        out=out,
        options=SMALL_TILES,
        execution=keep,
    )
    assert len(computed) == len(expected)
    assert refreshed.tiles_resumed == first.tiles - len(expected)
    assert set(_provenance(out)["tiles_recomputed"]) == expected
    # the cache holds this build's tiles, one file each
    assert len(_files(tmp_path / "refreshed.gpkg.tiles")) == first.tiles


def test_a_changed_file_changes_the_keys_of_the_tiles_it_reaches(tmp_path: Path) -> None:
    """DSM files are hashed whole: a new west file changes the keys of the tiles whose
    window reaches into it, and no other."""
    scene = scenes.gable(tilt=35.0, azimuth=180.0)
    surface = scene.surface
    half = surface.shape[1] // 2
    west, east = tmp_path / "west.tif", tmp_path / "east.tif"
    write_window(west, surface, cols=slice(0, half))
    write_window(east, surface, cols=slice(half, None))
    source = DsmSource.open([west, east])
    # four footprints, one in each corner of the 40 m scene cut into 10 m tiles
    x0, y0, x1, y1 = surface.bounds
    corners = [
        Footprint(f"b{i}", shapely.box(x, y, x + 4.0, y + 4.0))
        for i, (x, y) in enumerate(
            [(x0 + 1, y0 + 1), (x1 - 5, y0 + 1), (x0 + 1, y1 - 5), (x1 - 5, y1 - 5)]
        )
    ]
    tiles = plan_tiles(source.bounds, corners, tile_size=10.0, halo=2.0)
    assert len(tiles) == 16
    climate = site_climate(read_weather(DEFAULT_WEATHER), None)
    options = build.BuildOptions(tile_size=10.0, halo=2.0)
    before = run.tile_keys(source, tiles, climate, options)
    assert before == run.tile_keys(source, tiles, climate, options)

    raised = surface.elevation.copy()
    raised[:4, :4] += 1.0
    write_window(west, Surface(raised, surface.transform, surface.crs), cols=slice(0, half))
    after = run.tile_keys(DsmSource.open([west, east]), tiles, climate, options)
    west_edge = surface.bounds[0] + half * surface.resolution
    reaches_west = [t.window[0] < west_edge for t in tiles]
    assert [a != b for a, b in zip(before, after, strict=True)] == reaches_west
    assert 0 < sum(reaches_west) < len(tiles)


def test_an_output_that_cannot_be_written_stops_the_build_before_any_tile(
    tmp_path: Path, delft_part: build.Territory, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed = _counting(monkeypatch)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.raises(InputError) as raised:
        build.build_from_surface(delft_part, out=not_a_folder / "out.gpkg", options=SMALL_TILES)
    assert raised.value.source == str(not_a_folder)
    folder = tmp_path / "out.gpkg"
    folder.mkdir()
    with pytest.raises(InputError, match="is a folder"):
        build.build_from_surface(delft_part, out=folder, options=SMALL_TILES)
    assert computed == []


def test_a_full_disk_stops_the_build_before_any_tile(
    tmp_path: Path, delft_part: build.Territory, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed = _counting(monkeypatch)
    real = run.shutil.disk_usage

    def nearly_full(path: str | os.PathLike[str]) -> Any:
        return real(path)._replace(free=1000)

    monkeypatch.setattr(run.shutil, "disk_usage", nearly_full)
    with pytest.raises(InputError, match="not enough disk space") as raised:
        build.build_from_surface(delft_part, out=tmp_path / "o.gpkg", options=SMALL_TILES)
    assert raised.value.source == str(tmp_path)
    assert computed == []


def test_the_disk_estimate_covers_what_a_build_writes(
    tmp_path: Path, delft_part: build.Territory
) -> None:
    out = tmp_path / "sized.gpkg"
    build.build_from_surface(
        delft_part, out=out, options=SMALL_TILES, execution=build.Execution(keep_tiles=True)
    )
    written = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    needed = run.needed_bytes(delft_part.surface, delft_part.footprints)
    assert written <= needed <= 20 * written


def test_two_builds_into_one_output_do_not_mix(tmp_path: Path) -> None:
    out = tmp_path / "busy.gpkg"
    first = run.TileStore.open(out)
    try:
        code = (
            "import sys; from solar.build.run import TileStore\n"
            "from solar.errors import InputError\n"
            "try:\n    TileStore.open(sys.argv[1])\n"
            "except InputError as exc:\n    print(exc); sys.exit(3)\n"
        )
        other = subprocess.run(
            [sys.executable, "-c", code, str(out)],
            capture_output=True,
            text=True,
            cwd=REPOSITORY,
            check=False,
        )
        assert other.returncode == 3, other.stderr
        assert "another build" in other.stdout
    finally:
        first.close()


@pytest.mark.slow
def test_a_killed_build_resumes_to_the_same_cadastre(tmp_path: Path) -> None:
    """``cadastre build`` killed with SIGKILL after some tiles, then run again."""
    args = [
        sys.executable,
        "-m",
        "app.cli",
        "build",
        "--laz",
        *map(str, DELFT_LAZ),
        "--laz-crs",
        DELFT_CRS,
        "--buildings",
        str(DELFT_FOOTPRINTS),
        "--tile-size",
        "40",
        "--halo",
        "20",
    ]
    env = {**os.environ, "COLUMNS": "200"}
    code = run.code_digest.__wrapped__()
    killed_out = tmp_path / "killed" / "delft.gpkg"
    killed_out.parent.mkdir()
    work = killed_out.with_name("delft.gpkg.work")
    process = subprocess.Popen(
        [*args, "--out", str(killed_out)],
        cwd=REPOSITORY,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if work.is_dir() and sum(p.suffix == ".pkl" for p in work.iterdir()) >= 3:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the build ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = sum(p.suffix == ".pkl" for p in work.iterdir())
    assert done_before >= 3 and not killed_out.exists()

    again = subprocess.run(
        [*args, "--out", str(killed_out)],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    total = int(_provenance(killed_out)["tiles"])
    said = " ".join(again.stdout.split())
    # every key holds the code's digest: code edited meanwhile rightly computes all again
    assert run.code_digest.__wrapped__() == code, "the package's code changed during the test"
    assert f"resumed {done_before} of {total} tiles" in said, said

    whole_out = tmp_path / "whole" / "delft.gpkg"
    whole = subprocess.run(
        [*args, "--out", str(whole_out)], cwd=REPOSITORY, env=env, capture_output=True, check=False
    )
    assert whole.returncode == 0
    assert_same_cadastre(killed_out, whole_out)
    assert _files(killed_out.parent) == _files(whole_out.parent)


@pytest.mark.parametrize(("error", "kept"), [(errno.ENOSPC, False), (errno.EIO, True)])
def test_a_full_disk_gives_back_the_space_of_the_finished_tiles(
    tmp_path: Path,
    delft_part: build.Territory,
    monkeypatch: pytest.MonkeyPatch,
    error: int,
    kept: bool,
) -> None:
    """A failed build keeps its finished tiles for the next run, but on a full disk."""
    save = run.TileStore.save
    saved: list[int] = []

    def save_then_fail(self: run.TileStore, *args: Any) -> None:
        if len(saved) == 2:
            raise OSError(error, os.strerror(error))
        save(self, *args)
        saved.append(1)

    monkeypatch.setattr(run.TileStore, "save", save_then_fail)
    with pytest.raises(OSError):
        build.build_from_surface(delft_part, out=tmp_path / "full.gpkg", options=SMALL_TILES)
    assert (tmp_path / "full.gpkg.work").exists() == kept
    assert not (tmp_path / "full.gpkg").exists()
