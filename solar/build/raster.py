"""The irradiation raster: every roof pixel's annual (and, if asked, monthly) irradiation,
as a COG."""

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

ANNUAL_STEP = 1.0
"""The annual band is rounded to this step: a whole kWh/m² per year (0.1% of a roof's
irradiation) leaves the low bits of float32 empty, which halves the compressed raster
(about 250 bytes a roof face with its overviews). [kWh m-2]"""

MONTHLY_STEP = 0.1
"""The monthly bands, a tenth of the annual figures, are rounded to this step. [kWh m-2]"""

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
    path: Path, source: SurfaceInput, results: Sequence[TileResult], *, monthly: bool = False
) -> None:
    """Write the roofs' annual irradiation, and with ``monthly`` each month's, as a
    Cloud-Optimized GeoTIFF.

    Band 1 is the annual irradiation (rounded to :data:`ANNUAL_STEP`), bands 2 to 13 when
    asked the months (rounded to :data:`MONTHLY_STEP`), all in kWh m-2, shading included;
    :data:`NODATA` off the roofs. Tiles are written one window at a time into a sparse
    staging GeoTIFF (blocks never written take no disk), which GDAL then copies into a COG
    compressed with ZSTD and the floating-point predictor: memory holds one tile's window,
    never the whole area. ``path`` is written whole or not at all: the caller renames it
    into place with the GeoPackage.
    """
    transform, (height, width) = source_grid(source)
    count = 13 if monthly else 1
    steps = np.array([ANNUAL_STEP] + [MONTHLY_STEP] * 12)[:count, None]
    profile = {
        "driver": "GTiff",
        "height": height,
        "width": width,
        "count": count,
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
            )[:count]
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
                values = result.pixel_irradiation[:, :count].T
                on_face = ~np.isnan(values[0])
                block[:, rows[on_face] - window.row_off, cols[on_face] - window.col_off] = (
                    np.round(values[:, on_face] / steps) * steps
                )
                dst.write(block, window=window)
        # overviews (averages of the roof cells, nodata left out) let a map read a
        # zoomed-out tile from a few blocks instead of the full-resolution raster
        raster_copy(
            staging,
            path,
            driver="COG",
            compress="ZSTD",
            level=9,
            predictor=3,
            overviews="AUTO",
            overview_resampling="AVERAGE",
        )
    finally:
        if staging.exists():
            staging.unlink()
