"""The map's tile sources beside a cadastre: the roofs' PMTiles archive and the irradiation
rasters, opened once per cadastre file and rendered per request.

A cadastre served without its archive still serves: its roof tiles answer 404 naming the
missing file and the command that writes it (``cadastre tiles``). Making tiles on request
from the GeoPackage was measured too slow for a map (``scripts/bench_tiles.py``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import Transformer
from rio_tiler.errors import EmptyMosaicError, TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.models import ImageData
from rio_tiler.mosaic import mosaic_reader
from rio_tiler.utils import render

from solar.build.raster import irradiation_rasters
from solar.suitability import irradiation_colours
from solar.vectortiles import RoofArchive, archive_path

IRRADIATION_MIN_ZOOM = 12
"""Below this the roofs are a few pixels wide and the raster says nothing."""
IRRADIATION_MAX_ZOOM = 20
"""The 0.5 m cells are about 4 screen pixels wide here."""
TILE_SIZE = 256


@dataclass(frozen=True)
class MapSources:
    """What the map reads beside one cadastre file.

    Attributes
    ----------
    archive : RoofArchive or None
        The roofs' vector tiles; None when the file is missing.
    archive_path : pathlib.Path
        Where the archive is, or would be.
    rasters : tuple of pathlib.Path
        The irradiation COGs.
    raster_bounds : tuple of float or None
        (west, south, east, north) of all rasters in WGS84 [°]; None without raster.
    """

    archive: RoofArchive | None
    archive_path: Path
    rasters: tuple[Path, ...]
    raster_bounds: tuple[float, float, float, float] | None


_lock = threading.Lock()
_opened: dict[tuple[tuple[str, int, int] | None, ...], MapSources] = {}


def _identity(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def map_sources(cadastre_path: Path) -> MapSources:
    """The sources of a cadastre file, opened on first use and kept while the cadastre
    and its archive are the same files (path, size, modification time): a swapped
    cadastre, or an archive written while the service runs, is opened anew."""
    key = (_identity(cadastre_path), _identity(archive_path(cadastre_path)))
    with _lock:
        sources = _opened.get(key)
        if sources is None:
            sources = _open(cadastre_path)
            # a request may still read the old archive: it closes when collected
            _opened.clear()
            _opened[key] = sources
        return sources


def _open(cadastre_path: Path) -> MapSources:
    path = archive_path(cadastre_path)
    archive = RoofArchive(path) if path.is_file() else None
    rasters = tuple(irradiation_rasters(cadastre_path))
    return MapSources(archive, path, rasters, _wgs84_bounds(rasters))


def _wgs84_bounds(rasters: tuple[Path, ...]) -> tuple[float, float, float, float] | None:
    boxes = []
    for path in rasters:
        with Reader(str(path)) as src:
            to_wgs84 = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
            left, bottom, right, top = src.bounds
            boxes.append(to_wgs84.transform_bounds(left, bottom, right, top, densify_pts=21))
    if not boxes:
        return None
    b = np.array(boxes)
    return (
        float(b[:, 0].min()),
        float(b[:, 1].min()),
        float(b[:, 2].max()),
        float(b[:, 3].max()),
    )


def _read_tile(path: str, x: int, y: int, z: int) -> ImageData:
    # a dataset per request and per thread: rasterio handles are not shared across threads
    with Reader(path) as src:
        return src.tile(x, y, z, tilesize=TILE_SIZE, indexes=1)


def irradiation_png(rasters: tuple[Path, ...], z: int, x: int, y: int) -> bytes | None:
    """The annual irradiation of a tile as an RGBA PNG in the legend's colours; None
    when no raster has a roof cell in it.

    Rasters in several CRSs are reprojected by rio-tiler and the first with data wins
    where they overlap.
    """
    if not rasters:
        return None
    try:
        image, _ = mosaic_reader([str(p) for p in rasters], _read_tile, x, y, z, threads=0)
    except (EmptyMosaicError, TileOutsideBounds):
        return None
    valid = image.mask > 0
    if not valid.any():
        return None
    rgb = np.moveaxis(irradiation_colours(np.asarray(image.data[0], dtype=np.float64)), -1, 0)
    return render(rgb, mask=np.where(valid, 255, 0).astype(np.uint8), img_format="PNG")


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header allows gzip (and does not refuse it with q=0).

    >>> accepts_gzip("gzip, deflate, br"), accepts_gzip("br;q=1, gzip;q=0"), accepts_gzip(None)
    (True, False, False)
    """
    for item in (accept_encoding or "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=")
            try:
                return not params or float(quality) > 0
            except ValueError:
                return True
    return False
