"""The ``cadastre`` command line as a newcomer meets it: options, help and bad input."""

from __future__ import annotations

import dataclasses
import errno
import importlib
import os
import pwd
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
import typer
from affine import Affine
from typer.testing import CliRunner

import solar.build
from app import cli as cli_module
from app.cli import cli
from solar.build import BuildOptions
from solar.cadastre import Cadastre
from solar.surface import Surface
from tests import scenes

runner = CliRunner()
README = Path(__file__).resolve().parents[2] / "README.md"


class _Called(Exception):
    """Raised by the stand-in of build_cadastre once it has recorded its arguments."""


@pytest.fixture()
def build_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The arguments each ``cadastre build`` passes to build_cadastre, which does not run."""
    calls: list[dict[str, Any]] = []

    def record(inputs: Any, **kwargs: Any) -> None:
        calls.append({"inputs": inputs, **kwargs})
        raise _Called

    monkeypatch.setattr(cli_module, "build_cadastre", record)
    return calls


def _touch(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in names]
    for path in paths:
        path.write_bytes(b"")
    return paths


def _build_args(tmp_path: Path, *args: str) -> list[str]:
    return ["build", *args, "--buildings", str(README), "--out", str(tmp_path / "out.gpkg")]


def _error_line(result: Any) -> str:
    """The one line the command printed on stderr, checked to be an error without traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return lines[0]


# --- several files after one --dsm or --laz ------------------------------------------------


def test_several_files_follow_one_dsm(tmp_path: Path, build_calls: list[dict[str, Any]]) -> None:
    a, b = _touch(tmp_path, "a.tif", "b.tif")
    result = runner.invoke(cli, _build_args(tmp_path, "--dsm", str(b), str(a)))
    assert isinstance(result.exception, _Called), result.output
    assert list(build_calls[0]["inputs"].dsm) == [b, a]
    assert list(build_calls[0]["inputs"].laz) == []


def test_a_folder_gives_its_geotiffs_sorted(
    tmp_path: Path, build_calls: list[dict[str, Any]]
) -> None:
    tiles = tmp_path / "tiles"
    expected = _touch(tiles, "0_1.tif", "0_2.TIF", "1_1.tiff")
    _touch(tiles, "notes.txt", "0_1.tif.aux.xml")
    (tiles / "sub.tif").mkdir()
    result = runner.invoke(cli, _build_args(tmp_path, "--dsm", f"{tiles}/"))
    assert isinstance(result.exception, _Called), result.output
    assert list(build_calls[0]["inputs"].dsm) == expected


def test_a_quoted_glob_is_expanded_and_a_file_named_twice_read_once(
    tmp_path: Path, build_calls: list[dict[str, Any]]
) -> None:
    tiles = _touch(tmp_path / "tiles", "b.tif", "a.tif", "c.tiff")
    extra = _touch(tmp_path, "extra.tif")
    pattern = str(tmp_path / "tiles" / "*.tif")
    args = _build_args(tmp_path, "--dsm", pattern, str(tiles[1]), "--dsm", str(extra[0]))
    result = runner.invoke(cli, args)
    assert isinstance(result.exception, _Called), result.output
    assert list(build_calls[0]["inputs"].dsm) == [tiles[1], tiles[0], extra[0]]


def test_laz_takes_files_folders_and_globs(
    tmp_path: Path, build_calls: list[dict[str, Any]]
) -> None:
    folder = _touch(tmp_path / "clouds", "n.laz", "m.LAS")
    _touch(tmp_path / "clouds", "n.tif")
    single = _touch(tmp_path / "more", "z.laz", "y.laz")
    args = ["--laz", str(tmp_path / "clouds"), str(tmp_path / "more" / "?.laz")]
    result = runner.invoke(cli, [*_build_args(tmp_path, *args), "--laz-crs", "EPSG:2154"])
    assert isinstance(result.exception, _Called), result.output
    assert list(build_calls[0]["inputs"].laz) == [folder[1], folder[0], single[1], single[0]]
    assert build_calls[0]["inputs"].laz_crs == "EPSG:2154"
    assert list(build_calls[0]["inputs"].dsm) == []


@pytest.mark.parametrize(
    ("option", "word", "named"),
    [
        ("--dsm", "tiles/*.tif", "tiles/*.tif"),
        ("--laz", "clouds/*.laz", "clouds/*.laz"),
        ("--dsm", "empty", "empty"),
        ("--dsm", "missing.tif", "missing.tif"),
    ],
)
def test_a_word_that_gives_no_file_is_an_error_naming_it(
    tmp_path: Path, build_calls: list[dict[str, Any]], option: str, word: str, named: str
) -> None:
    (tmp_path / "empty").mkdir()
    _touch(tmp_path / "tiles", "a.tiff.txt")
    result = runner.invoke(cli, _build_args(tmp_path, option, str(tmp_path / word)))
    assert str(tmp_path / named) in _error_line(result)
    assert build_calls == []


# --- help ---------------------------------------------------------------------------------


def test_build_help_shows_units_and_explains_dsm_and_laz() -> None:
    result = runner.invoke(cli, ["build", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Build tile side [m]." in result.output
    assert "Edge setback [m]." in result.output
    text = " ".join(result.output.split())  # help lines wrap at the terminal width
    for option in ("--dsm", "--laz"):
        # the option, its value, then a sentence rather than the next option
        assert re.search(rf"{option} PATH\.\.\. [A-Z][A-Za-z]", text), text
        assert re.search(rf"{option} PATH\.\.\. [^-]*folders[^-]*glob", text), text


# --- defaults -----------------------------------------------------------------------------


def _build_defaults() -> dict[str, Any]:
    """The build command's defaults, by BuildOptions field."""
    command = typer.main.get_command(cli_module.cli)
    params = command.commands["build"].params  # type: ignore[attr-defined]
    field_of = {"sectors": "n_sectors"}
    return {
        field_of.get(p.name, p.name): p.default
        for p in params
        if field_of.get(p.name, p.name) in BuildOptions.__dataclass_fields__
    }


def test_the_build_defaults_are_those_of_build_options(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = _build_defaults()
    assert set(defaults) >= {"tile_size", "halo", "n_sectors", "setback", "system_losses"}
    assert defaults == {name: getattr(BuildOptions(), name) for name in defaults}
    # defined once: other BuildOptions defaults give other command-line defaults
    shifted = dataclasses.make_dataclass(
        "Shifted",
        [
            (f.name, f.type, dataclasses.field(default=f.default * 2 + 1))
            for f in dataclasses.fields(BuildOptions)
            if isinstance(f.default, int | float)
        ],
        bases=(BuildOptions,),
        frozen=True,
    )
    monkeypatch.setattr(solar.build, "BuildOptions", shifted)
    try:
        importlib.reload(cli_module)
        changed = _build_defaults()
    finally:
        monkeypatch.undo()
        importlib.reload(cli_module)
    assert changed == {name: getattr(shifted(), name) for name in defaults}
    assert changed != defaults


# --- bad input never gives a traceback ----------------------------------------------------


@pytest.fixture()
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the server started")

    monkeypatch.setattr("app.main.serve", refuse)


@pytest.mark.usefixtures("no_server")
def test_serving_a_file_that_is_not_a_cadastre_is_one_error_line() -> None:
    result = runner.invoke(cli, ["serve", "--cadastre", str(README)])
    line = _error_line(result)
    assert str(README) in line and "not a cadastre" in line


@pytest.mark.usefixtures("no_server")
def test_serving_a_missing_file_is_one_error_line(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["serve", "--cadastre", str(tmp_path / "missing.gpkg")])
    assert str(tmp_path / "missing.gpkg") in _error_line(result)


@contextmanager
def _unprivileged() -> Iterator[None]:
    """Run as nobody while inside, when the tests run as root (who may write anywhere)."""
    if os.geteuid() != 0:
        yield
        return
    nobody = pwd.getpwnam("nobody")
    groups = os.getgroups()
    os.setgroups([])
    os.setegid(nobody.pw_gid)
    os.seteuid(nobody.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(groups)


def test_a_read_only_output_folder_stops_the_build_before_it_starts(
    build_calls: list[dict[str, Any]],
) -> None:
    # outside pytest's tmp folder, which only its owner may enter
    root = Path(tempfile.mkdtemp())
    try:
        root.chmod(0o755)
        dsm = _touch(root, "a.tif")[0]
        locked = root / "locked"
        locked.mkdir(mode=0o555)
        locked.chmod(0o555)
        args = ["build", "--dsm", str(dsm), "--out", str(locked / "sub" / "out.gpkg")]
        with _unprivileged():
            result = runner.invoke(cli, args)
        line = _error_line(result)
        assert str(locked) in line and "cannot write" in line
        assert build_calls == []
        assert list(locked.iterdir()) == []
    finally:
        shutil.rmtree(root)


def _write_geotiff(path: Path, surface: Surface, columns: slice) -> Path:
    """Write the columns of ``surface`` as a GeoTIFF in Lambert-93."""
    elevation = surface.elevation[:, columns].astype(np.float32)
    transform = surface.transform * Affine.translation(columns.start or 0, 0)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=elevation.shape[0],
        width=elevation.shape[1],
        count=1,
        dtype="float32",
        crs="EPSG:2154",
        transform=transform,
        nodata=-9999,
    ) as dst:
        dst.write(elevation, 1)
    return path


@pytest.fixture()
def gable_inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of two DSM tiles (the west and east halves of a gable-roofed house) and its
    footprint as GeoJSON."""
    scene = scenes.gable(tilt=35.0, azimuth=180.0)
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    half = scene.surface.elevation.shape[1] // 2
    _write_geotiff(tiles / "west.tif", scene.surface, slice(0, half))
    _write_geotiff(tiles / "east.tif", scene.surface, slice(half, None))
    footprints = tmp_path / "gable.geojson"
    footprints.write_text(
        '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": '
        '"urn:ogc:def:crs:EPSG::2154"}}, "features": [{"type": "Feature", '
        '"properties": {"id": "g1"}, "geometry": '
        f"{shapely.to_geojson(scene.footprint.geometry)}}}]}}"
    )
    return tiles, footprints


def test_a_folder_of_dsm_tiles_builds_one_cadastre(
    tmp_path: Path, gable_inputs: tuple[Path, Path]
) -> None:
    tiles, footprints = gable_inputs
    out = tmp_path / "out" / "gable.gpkg"
    result = runner.invoke(
        cli, ["build", "--dsm", str(tiles), "--buildings", str(footprints), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sum(line.startswith("built") for line in result.stdout.splitlines()) == 1
    store = Cadastre(out)
    assert [s["file"] for s in store.provenance()["sources"]][:2] == ["east.tif", "west.tif"]
    assert store.building("g1").kwc > 0


def test_a_full_disk_is_one_error_line_and_leaves_no_file(
    tmp_path: Path, gable_inputs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tiles, footprints = gable_inputs
    write = pyogrio.raw.write

    def write_then_fill_the_disk(path: str, *args: Any, **kwargs: Any) -> None:
        write(path, *args, **kwargs)  # a part of the file is on disk when the disk fills
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pyogrio.raw, "write", write_then_fill_the_disk)
    out = tmp_path / "out" / "gable.gpkg"
    result = runner.invoke(
        cli, ["build", "--dsm", str(tiles), "--buildings", str(footprints), "--out", str(out)]
    )
    line = _error_line(result)
    assert str(out) in line and os.strerror(errno.ENOSPC) in line
    assert list((tmp_path / "out").iterdir()) == []
