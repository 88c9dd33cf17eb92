"""Inputs as IGN and the State ship them: several DSM tiles after one ``--dsm`` (files,
a folder, a pattern), IGN LiDAR HD tile names and dates in the provenance, and the BD TOPO
``batiment`` attributes on the buildings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import rasterio
import shapely
from typer.testing import CliRunner

from app.cli import cli
from solar import build
from solar.cadastre import Cadastre
from solar.footprints import Attributes, read_footprints
from solar.surface import Surface
from tests import scenes
from tests.rasters import write_window

runner = CliRunner()

DATES = ("2021:06:14 10:00:00", "2021:06:15 10:00:00", "2022:03:01 09:30:00", None)
"""The TIFFTAG_DATETIME of each quarter; the last carries none."""


def _quarters(folder: Path, surface: Surface) -> list[Path]:
    """The scene in four DSM files named as IGN names its MNS LiDAR HD tiles."""
    rows, cols = surface.shape
    corners = [(0, 0), (0, cols // 2), (rows // 2, 0), (rows // 2, cols // 2)]
    return [
        write_window(
            folder / f"LHD_FXX_{686 + k % 2:04d}_{7032 + k // 2:04d}_MNS_O_0M50_LAMB93_IGN69.tif",
            surface,
            slice(r0, r0 + rows // 2),
            slice(c0, c0 + cols // 2),
            tags={"TIFFTAG_DATETIME": DATES[k]} if DATES[k] else None,
        )
        for k, (r0, c0) in enumerate(corners)
    ]


def _footprints(path: Path, scene: scenes.Scene) -> Path:
    """The scene's footprint as a BD TOPO ``batiment`` layer, and a shed without values."""
    shed = shapely.box(
        *(np.array(scene.surface.bounds[:2]) + 1.0), *(np.array(scene.surface.bounds[:2]) + 4.0)
    )
    pyogrio.raw.write(
        path,
        shapely.to_wkb([scene.footprint.geometry, shed]),
        [
            np.array(["BATIMENT0000000001", "BATIMENT0000000002"], dtype=object),
            np.array(["Résidentiel", None], dtype=object),
            np.array(["Indifférenciée", None], dtype=object),
            np.array([7.5, np.nan]),
            np.array([2.0, np.nan]),
        ],
        ["cleabs", "usage_1", "nature", "hauteur", "nombre_de_logements"],
        driver="GPKG",
        geometry_type="MultiPolygon",
        promote_to_multi=True,
        crs="EPSG:2154",
    )
    return path


@pytest.fixture()
def gable() -> scenes.Scene:
    return scenes.gable(tilt=35.0, azimuth=180.0)


@pytest.mark.parametrize("given", ["files", "folder", "pattern"])
def test_several_files_after_one_dsm_build_one_grid(
    tmp_path: Path, gable: scenes.Scene, given: str
) -> None:
    tiles = tmp_path / "mns"
    tiles.mkdir()
    quarters = _quarters(tiles, gable.surface)
    words = {
        "files": [str(p) for p in quarters],
        "folder": [str(tiles)],
        "pattern": [str(tiles / "LHD_*.tif")],
    }[given]
    out = tmp_path / "out.gpkg"
    footprints = _footprints(tmp_path / "batiment.gpkg", gable)
    result = runner.invoke(
        cli, ["build", "--dsm", *words, "--buildings", str(footprints), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with rasterio.open(out.with_suffix(".irradiation.tif")) as raster:
        assert raster.shape == gable.surface.shape
        assert raster.transform == gable.surface.transform
    cadastre = Cadastre(out)
    try:
        files = cadastre.provenance()["surface_files"]
    finally:
        cadastre.close()
    # one entry per file, whatever order the folder or the pattern gave them in
    assert {f["lidar_hd_tile"]: f["date"] for f in files} == {
        "0686_7032": "2021-06-14T10:00:00",
        "0687_7032": "2021-06-15T10:00:00",
        "0686_7033": "2022-03-01T09:30:00",
        "0687_7033": None,
    }


def test_bd_topo_attributes_reach_the_buildings_layer(tmp_path: Path, gable: scenes.Scene) -> None:
    dsm = _quarters(tmp_path, gable.surface)
    footprints = _footprints(tmp_path / "batiment.gpkg", gable)
    read = read_footprints(footprints, target_crs="EPSG:2154").footprints
    assert read[0].attributes == Attributes("Résidentiel", "Indifférenciée", 7.5, 2.0)
    assert read[1].attributes == Attributes()

    out = tmp_path / "out.gpkg"
    build.build_cadastre(build.BuildInputs(dsm=dsm, buildings=footprints), out=out)
    with sqlite3.connect(out) as con:
        rows = con.execute(
            "SELECT building_id, usage_1, nature, hauteur, nombre_de_logements FROM buildings"
            " ORDER BY building_id"
        ).fetchall()
    assert rows == [
        ("BATIMENT0000000001", "Résidentiel", "Indifférenciée", 7.5, 2.0),
        ("BATIMENT0000000002", None, None, None, None),
    ]
    cadastre = Cadastre(out)
    try:
        assert cadastre.building("BATIMENT0000000001").usage_1 == "Résidentiel"
    finally:
        cadastre.close()
