"""``cadastre build`` on the command line: a summary on success, the problem named on bad
input, and nothing written then."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.transform import from_origin
from typer.testing import CliRunner

from app.cli import cli
from solar.cadastre import Cadastre
from tests import scenes

runner = CliRunner()


def _write_dsm(path: Path, crs: str, data: np.ndarray | None = None) -> Path:
    data = np.full((40, 40), 30.0, dtype=np.float32) if data is None else data
    transform = (
        from_origin(2.8, 50.43, 1e-5, 1e-5)
        if crs == "EPSG:4326"
        else from_origin(686000, 7032020, 0.5, 0.5)
    )
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=data.shape[0],
        width=data.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=-9999,
    ) as dst:
        dst.write(data, 1)
    return path


def _write_geojson(path: Path, features: str) -> Path:
    path.write_text(
        '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": '
        f'"urn:ogc:def:crs:EPSG::2154"}}}}, "features": [{features}]}}'
    )
    return path


def _square_feature(x: float, y: float, size: float = 8.0, fid: str = "a") -> str:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return (
        f'{{"type": "Feature", "properties": {{"id": "{fid}"}}, '
        f'"geometry": {{"type": "Polygon", "coordinates": [{ring}]}}}}'
    )


def _run(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["build", *args, "--out", str(tmp_path / "out.gpkg")])
    return result.exit_code, result.output


@pytest.fixture()
def good_footprints(tmp_path: Path) -> Path:
    return _write_geojson(tmp_path / "fp.geojson", _square_feature(686005, 7032000))


def test_cli_builds_and_prints_a_summary(tmp_path: Path, good_footprints: Path) -> None:
    scene = scenes.gable(tilt=35.0, azimuth=180.0)
    surface, footprint = scene.surface, scene.footprint
    dsm = _write_dsm(tmp_path / "gable.tif", "EPSG:2154", surface.elevation)
    with rasterio.open(dsm, "r+") as dst:
        dst.transform = surface.transform
    fp = _write_geojson(
        tmp_path / "gable.geojson",
        '{"type": "Feature", "properties": {"id": "g1"}, "geometry": '
        + shapely.to_geojson(footprint.geometry)
        + "}",
    )
    code, output = _run(tmp_path, "--dsm", str(dsm), "--buildings", str(fp))
    assert code == 0, output
    text = " ".join(output.split())  # rich wraps at the terminal width
    assert "1 buildings" in text and "kWc" in text and "MWh/yr" in text
    assert (tmp_path / "out.gpkg").is_file()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("geographic", "projected"),
        ("truncated", "gable.tif"),
        ("no_overlap", "no footprint overlaps"),
        ("empty", "fp.geojson"),
    ],
)
def test_cli_bad_input_names_the_problem_and_writes_nothing(
    tmp_path: Path, good_footprints: Path, case: str, message: str
) -> None:
    dsm = _write_dsm(tmp_path / "gable.tif", "EPSG:2154")
    footprints = good_footprints
    if case == "geographic":
        dsm = _write_dsm(tmp_path / "gable.tif", "EPSG:4326")
    elif case == "truncated":
        dsm.write_bytes(dsm.read_bytes()[:300])
    elif case == "no_overlap":
        footprints = _write_geojson(tmp_path / "fp.geojson", _square_feature(600000, 7000000))
    elif case == "empty":
        footprints = _write_geojson(tmp_path / "fp.geojson", "")
    code, output = _run(tmp_path, "--dsm", str(dsm), "--buildings", str(footprints))
    assert code == 2
    text = " ".join(output.split())
    assert "error:" in text and message in text
    assert not list(tmp_path.glob("out*"))
    assert not list(tmp_path.glob(".out*"))


def test_cli_repairs_a_self_intersecting_footprint_and_says_so(tmp_path: Path) -> None:
    scene = scenes.gable(tilt=35.0, azimuth=180.0)
    surface, footprint = scene.surface, scene.footprint
    dsm = _write_dsm(tmp_path / "gable.tif", "EPSG:2154", surface.elevation)
    with rasterio.open(dsm, "r+") as dst:
        dst.transform = surface.transform
    xmin, ymin, xmax, ymax = footprint.geometry.bounds
    bowtie = [[xmin, ymin], [xmax, ymax], [xmax, ymin], [xmin, ymax], [xmin, ymin]]
    fp = _write_geojson(
        tmp_path / "bowtie.geojson",
        '{"type": "Feature", "properties": {"id": "bow"}, '
        f'"geometry": {{"type": "Polygon", "coordinates": [{bowtie}]}}}}',
    )
    code, output = _run(tmp_path, "--dsm", str(dsm), "--buildings", str(fp))
    assert code == 0, output
    assert "1 invalid geometries repaired" in " ".join(output.split())
    assert Cadastre(tmp_path / "out.gpkg").provenance()["footprints_repaired"] == 1


def test_cli_needs_one_surface_source(tmp_path: Path, good_footprints: Path) -> None:
    code, output = _run(tmp_path, "--buildings", str(good_footprints))
    assert code == 2 and "--dsm/--laz" in output


def test_cli_reads_a_dsm_mosaic_in_tiles(tmp_path: Path) -> None:
    """Two halves of a DSM as two --dsm files read as one grid, in tiles smaller than it."""
    scene = scenes.gable(tilt=35.0, azimuth=180.0)
    surface, footprint = scene.surface, scene.footprint
    half = surface.shape[1] // 2
    halves = []
    for name, cols in (("west", slice(0, half)), ("east", slice(half, None))):
        dsm = _write_dsm(tmp_path / f"{name}.tif", "EPSG:2154", surface.elevation[:, cols])
        with rasterio.open(dsm, "r+") as dst:
            dst.transform = surface.transform * Affine.translation(cols.start or 0, 0)
        halves.append(dsm)
    fp = _write_geojson(
        tmp_path / "gable.geojson",
        '{"type": "Feature", "properties": {"id": "g1"}, "geometry": '
        + shapely.to_geojson(footprint.geometry)
        + "}",
    )
    args = [arg for dsm in halves for arg in ("--dsm", str(dsm))]
    code, output = _run(tmp_path, *args, "--buildings", str(fp), "--tile-size", "10")
    assert code == 0, output
    assert "1 buildings" in " ".join(output.split())
    # one grid over both files: the raster spans the whole scene
    with rasterio.open(tmp_path / "out.irradiation.tif") as raster:
        assert raster.shape == surface.shape
        assert raster.transform == surface.transform
