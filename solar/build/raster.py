"""The irradiation raster: every roof pixel's annual and monthly irradiation, as a COG."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.shutil import copy as raster_copy
from rasterio.windows import Window

from solar import pv
from solar.surface import SurfaceInput, source_grid

from .tile import TileResult

NODATA = -9999.0
"""Value of the cells off the roofs."""

RASTER_SUFFIX = ".irradiation.tif"
"""A cadastre's raster is ``<name>.irradiation.tif`` beside it; a cadastre merged from
parts in other CRSs (the demo) keeps one per part, ``<name>.irradiation-<part>.tif``."""


def irradiation_rasters(cadastre_path: str | os.PathLike[str]) -> list[Path]:
    """The irradiation rasters of a cadastre, found beside it by name; [] when none.

    >>> irradiation_rasters("no/such/folder/artois.gpkg")
    []
    """
    path = Path(cadastre_path)
    whole = path.with_suffix(RASTER_SUFFIX)
    parts = sorted(path.parent.glob(f"{glob.escape(path.stem)}.irradiation-*.tif"))
    return [whole, *parts] if whole.is_file() else parts


def write_irradiation_raster(
    path: Path, source: SurfaceInput, results: Sequence[TileResult]
) -> None:
    """Write the roofs' annual and monthly irradiation as a Cloud-Optimized GeoTIFF.

    Band 1 is the annual irradiation, bands 2 to 13 the months, all in kWh m-2, shading
    included; :data:`NODATA` off the roofs. Tiles are written one window at a time into a
    sparse staging GeoTIFF (blocks never written take no disk), which GDAL then copies into
    a COG compressed with ZSTD: memory holds one tile's window, never the whole area.
    ``path`` is written whole or not at all: the caller renames it into place with the
    GeoPackage.
    """
    transform, (height, width) = source_grid(source)
    profile = {
        "driver": "GTiff",
        "height": height,
        "width": width,
        "count": 13,
        "dtype": "float32",
        "crs": source.crs,
        "transform": transform,
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "sparse_ok": True,
        "bigtiff": "IF_SAFER",
    }
    inverse = ~transform
    staging = path.with_name(f"{path.name}.staging.tif")
    try:
        with rasterio.open(staging, "w+", **profile) as dst:
            plane = "on the modules' plane, shading included"
            dst.descriptions = (
                f"annual irradiation {plane}",
                *(f"irradiation of month {m:02d} {plane}" for m in range(1, 13)),
            )
            dst.update_tags(
                units="kWh m-2",
                content="roof irradiation, shading included",
                plane="the modules' plane of each face: the roof's own, but racks tilted "
                f"{pv.FLAT_MODULE_TILT:g}° facing azimuth {pv.FLAT_MODULE_AZIMUTH:g}° on flat "
                "roofs",
            )
            for result in results:
                if len(result.pixel_x) == 0:
                    continue
                cols, rows = inverse @ (result.pixel_x, result.pixel_y)
                rows, cols = np.floor(rows).astype(int), np.floor(cols).astype(int)
                window = Window(
                    int(cols.min()),
                    int(rows.min()),
                    int(cols.max() - cols.min() + 1),
                    int(rows.max() - rows.min() + 1),
                )
                # tiles' windows overlap where footprints reach past a tile's core
                block = dst.read(window=window)
                block[:, rows - window.row_off, cols - window.col_off] = result.pixel_irradiation.T
                dst.write(block, window=window)
        # overviews (averages of the roof cells, nodata left out) let a map read a
        # zoomed-out tile from a few blocks instead of the full-resolution raster
        raster_copy(
            staging,
            path,
            driver="COG",
            compress="ZSTD",
            level=1,
            overviews="AUTO",
            overview_resampling="AVERAGE",
        )
    finally:
        if staging.exists():
            staging.unlink()
