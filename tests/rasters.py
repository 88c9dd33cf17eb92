"""Surfaces written as DSM GeoTIFFs, for the tests that read files."""

from __future__ import annotations

from pathlib import Path

import rasterio
from affine import Affine

from solar.surface import Surface


def write_window(
    path: Path,
    surface: Surface,
    rows: slice = slice(None),
    cols: slice = slice(None),
    tags: dict[str, str] | None = None,
) -> Path:
    """The surface's ``rows`` × ``cols`` window as a float32 GeoTIFF on the surface's grid.

    ``tags`` are written as the file's GDAL metadata (``TIFFTAG_DATETIME``, …).
    """
    data = surface.elevation[rows, cols]
    offset = Affine.translation(cols.start or 0, rows.start or 0)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=data.shape[0],
        width=data.shape[1],
        count=1,
        dtype="float32",
        crs=surface.crs,
        transform=surface.transform * offset,
    ) as dst:
        dst.write(data, 1)
        if tags:
            dst.update_tags(**tags)
    return path
