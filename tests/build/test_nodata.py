"""A DSM that holds no elevation where the footprints lie stops the build, naming it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from solar.build import BuildInputs, build_cadastre
from solar.errors import InputError

X0, Y0 = 686_000.0, 7_032_040.0  # Lens, Lambert-93 [m]
FLOAT32_MIN = float(np.finfo(np.float32).min)  # a common GIS export's nodata


def _dsm(path: Path) -> Path:
    """40 m × 40 m at 0.5 m: the west half nodata, the east half ground at 35 m."""
    z = np.full((80, 80), 35.0, np.float32)
    z[:, :40] = FLOAT32_MIN
    profile = {
        "driver": "GTiff",
        "width": 80,
        "height": 80,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:2154",
        "transform": Affine(0.5, 0, X0, 0, -0.5, Y0),
        "nodata": FLOAT32_MIN,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)
    return path


def _footprints(path: Path, x: float) -> Path:
    square = [[x, Y0 - 25], [x + 10, Y0 - 25], [x + 10, Y0 - 15], [x, Y0 - 15], [x, Y0 - 25]]
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"cleabs": "BATIMENT01"},
                        "geometry": {"type": "Polygon", "coordinates": [square]},
                    }
                ],
            }
        )
    )
    return path


def test_footprints_all_on_nodata_are_a_clear_error(tmp_path: Path) -> None:
    dsm = _dsm(tmp_path / "dsm.tif")
    west = _footprints(tmp_path / "west.geojson", X0 + 5)
    with pytest.raises(InputError, match="no elevation where the footprints lie") as error:
        build_cadastre(
            BuildInputs(dsm=[dsm], buildings=west, communes=None), out=tmp_path / "c.gpkg"
        )
    assert str(dsm) in str(error.value)
    assert not (tmp_path / "c.gpkg").exists()
