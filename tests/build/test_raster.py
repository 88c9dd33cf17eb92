"""The irradiation raster: the annual band by default, the months when asked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from typer.testing import CliRunner

from app.cli import cli
from solar import build
from solar.build.raster import ANNUAL_STEP, NODATA
from solar.cadastre import Cadastre
from tests import scenes
from tests.rasters import write_window


@pytest.fixture(scope="module")
def gable() -> scenes.Scene:
    return scenes.gable(tilt=35.0, azimuth=180.0)


def _build(scene: scenes.Scene, out: Path, **options: bool) -> Path:
    summary = build.build_from_surface(
        build.Territory(scene.surface, [scene.footprint], communes=None),
        out=out,
        options=build.BuildOptions(**options),
    )
    assert summary.raster_path is not None
    return summary.raster_path


def test_the_raster_holds_the_annual_band_alone_by_default(
    gable: scenes.Scene, tmp_path: Path
) -> None:
    raster = _build(gable, tmp_path / "annual.gpkg")
    with rasterio.open(raster) as src:
        assert src.count == 1
        assert src.dtypes == ("float32",)
        assert src.nodata == NODATA
        assert src.descriptions[0].startswith("annual irradiation on the modules' plane")
        assert src.compression is not None
        annual = src.read(1, masked=True).compressed()
    assert annual.size > 100
    # whole kWh/m²: the low bits left empty compress
    assert np.array_equal(annual, np.round(annual / ANNUAL_STEP) * ANNUAL_STEP)
    # the faces' figures are area means of the same pixels
    faces = Cadastre(tmp_path / "annual.gpkg").faces(gable.footprint.building_id)
    south = max(faces, key=lambda f: f.irradiation_kwh_m2_yr)
    assert annual.max() == pytest.approx(south.irradiation_kwh_m2_yr, rel=0.05)


def test_the_months_are_bands_2_to_13_when_asked(gable: scenes.Scene, tmp_path: Path) -> None:
    raster = _build(gable, tmp_path / "monthly.gpkg", monthly_raster=True)
    with rasterio.open(raster) as src:
        assert src.count == 13
        assert src.descriptions[12].startswith("irradiation of month 12")
        bands = src.read(masked=True)
    months = bands[1:].sum(axis=0).compressed()
    # twelve months rounded to 0.1 and a year rounded to 1 kWh/m²
    np.testing.assert_allclose(months, bands[0].compressed(), atol=12 * 0.05 + 0.5)


def test_the_command_asks_for_the_months(gable: scenes.Scene, tmp_path: Path) -> None:
    dsm = write_window(tmp_path / "gable.tif", gable.surface)
    footprints = tmp_path / "gable.geojson"
    footprints.write_text(
        '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": '
        '"urn:ogc:def:crs:EPSG::2154"}}, "features": [{"type": "Feature", "properties": '
        '{"id": "g1"}, "geometry": ' + shapely.to_geojson(gable.footprint.geometry) + "}]}",
        encoding="utf-8",
    )
    out = tmp_path / "out.gpkg"
    command = ["build", "--dsm", str(dsm), "--buildings", str(footprints), "--out", str(out)]
    result = CliRunner().invoke(cli, [*command, "--monthly-raster"])
    assert result.exit_code == 0, result.output
    with rasterio.open(out.with_suffix(".irradiation.tif")) as src:
        assert src.count == 13
