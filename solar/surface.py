"""The surface model: a DSM on a regular north-up grid, in a projected CRS, in metres."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import laspy
import lazrs
import numpy as np
import pyproj
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import CRSError, RasterioIOError
from rasterio.fill import fillnodata
from rasterio.io import DatasetReader
from rasterio.merge import merge
from rasterio.windows import Window, from_bounds
from rasterio.windows import transform as window_transform
from scipy import ndimage, sparse
from scipy.sparse.linalg import spsolve

from solar.errors import InputError


@dataclass(frozen=True, eq=False)
class Surface:
    """A digital surface model on a regular north-up grid.

    Attributes
    ----------
    elevation : numpy.ndarray
        Heights of the highest surface, float32, shape (rows, cols), no NaN once
        holes are filled. [m]
    transform : affine.Affine
        Maps (col, row) pixel corners to (x, y) in ``crs``. Square pixels, north up.
    crs : rasterio.crs.CRS
        A projected CRS whose unit is the metre (EPSG:2154 in France).
    filled_cells : int
        How many nodata cells were filled by interpolation.
    ground, vegetation, building : numpy.ndarray or None
        Boolean masks of the LAS classes 2, 3/4/5 and 6, same shape as ``elevation``;
        None when the source carries no classes (a DSM GeoTIFF).
    sources : tuple of str
        The files the grid was read from.
    """

    elevation: np.ndarray
    transform: Affine
    crs: CRS
    filled_cells: int = 0
    ground: np.ndarray | None = None
    vegetation: np.ndarray | None = None
    building: np.ndarray | None = None
    sources: tuple[str, ...] = ()

    @property
    def resolution(self) -> float:
        """Pixel size. [m]"""
        return float(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.elevation.shape[0]), int(self.elevation.shape[1]))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the grid. [m]"""
        rows, cols = self.shape
        xmin, ymax = self.transform @ (0, 0)
        xmax, ymin = self.transform @ (cols, rows)
        return (float(xmin), float(ymin), float(xmax), float(ymax))


PathLike = str | os.PathLike[str]

HARMONIC_MAX_CELLS = 100_000
"""Largest hole filled by solving Laplace's equation: 2.5 ha at 0.5 m. Larger holes are
water or missing strips, not roofs, and get the cheaper inverse-distance fill. [cells]"""

FILL_MAX_SEARCH_DISTANCE = 100.0
"""How far GDAL's inverse-distance fill of large holes looks for valid cells (50 m at 0.5 m).
Cells farther from any valid cell take the value of the nearest valid cell instead. [px]"""

LAZ_CHUNK_POINTS = 1_000_000
"""Points decompressed at a time when rasterising a LAS/LAZ file: about 50 MB of arrays,
whatever the size of the tile."""

LAS_DROPPED_CLASSES = (7, 18, 65)
"""LAS classes left out of the top surface: low noise (7) and high noise (18) from the ASPRS
LAS 1.4 R15 specification, table 17, and IGN's artefact class (65) from the LiDAR HD
classification (IGN, "Descriptif de contenu des nuages de points LiDAR HD", 2022)."""

NODATA_BELOW = -1000.0
"""Elevations below this are fill values, nodata whatever the file's metadata says: the
lowest land on Earth is the Dead Sea shore at -430 m, and GIS exports write -9999,
-99999, -32768 or the float32 minimum (-3.4028235e38) in cells without data. [m]"""

SQUARE_TOLERANCE = 1e-3
"""Largest relative difference between a pixel's width and height that is taken as square.
Such grids (often 0.5 m pixels written with a rounded transform) are resampled by nearest
neighbour onto square pixels of the mean size: cells move by at most half a pixel. [unitless]"""

LAS_GROUND_CLASSES = (2,)
LAS_VEGETATION_CLASSES = (3, 4, 5)
LAS_BUILDING_CLASSES = (6,)


def check_projected(crs: CRS | None, source: str) -> CRS:
    """Return ``crs`` when it is a projected CRS in metres, else raise an InputError.

    Parameters
    ----------
    crs : rasterio.crs.CRS or None
        The CRS read from ``source``.
    source : str
        The file the CRS comes from, named in the error.

    Returns
    -------
    rasterio.crs.CRS

    Raises
    ------
    InputError
        No CRS, a geographic CRS or a projected CRS in another unit than the metre.
    """
    if not crs:
        raise InputError(
            "no coordinate reference system: a projected CRS in metres is needed "
            "(EPSG:2154 Lambert-93 in France)",
            source=source,
        )
    if crs.is_geographic:
        raise InputError(
            f"geographic CRS {crs.to_string()} (degrees): a projected CRS in metres is needed "
            "(EPSG:2154 Lambert-93 in France); reproject the file first",
            source=source,
        )
    unit, factor = crs.linear_units_factor
    if not crs.is_projected or factor != 1.0:
        raise InputError(
            f"CRS {crs.to_string()} is in {unit}: a projected CRS in metres is needed "
            "(EPSG:2154 Lambert-93 in France)",
            source=source,
        )
    return crs


def fill_nodata(elevation: np.ndarray) -> tuple[np.ndarray, int]:
    """Fill the NaN cells of a grid from their valid neighbours.

    Holes of up to ``HARMONIC_MAX_CELLS`` cells get the harmonic (membrane) interpolation
    of their rim: the solution of the discrete Laplace equation, each filled cell the mean
    of its four neighbours, as MATLAB's ``regionfill`` does. It reproduces a plane exactly,
    so a hole in a roof face does not become an obstacle; GDAL's inverse-distance fill is
    off by about 0.4 of the per-pixel height step on a single missing cell of a plane.
    Larger holes get GDAL's inverse-distance fill (``rasterio.fill.fillnodata``) within
    ``FILL_MAX_SEARCH_DISTANCE`` pixels, then the value of the nearest valid cell, so that no
    hole survives, however large. A hole on the grid's edge uses only the neighbours inside
    the grid.

    Parameters
    ----------
    elevation : numpy.ndarray
        float32 grid, NaN where there is no data. [m]

    Returns
    -------
    filled : numpy.ndarray
        float32 grid without NaN. [m]
    filled_cells : int
        How many cells were NaN.

    Raises
    ------
    ValueError
        Every cell is NaN: there is nothing to fill from.

    Examples
    --------
    >>> grid = np.array([[1.0, 2.0, 3.0], [2.0, np.nan, 4.0], [3.0, 4.0, 5.0]], np.float32)
    >>> filled, n = fill_nodata(grid)
    >>> float(filled[1, 1]), n
    (3.0, 1)
    """
    holes = ~np.isfinite(elevation)
    count = int(np.count_nonzero(holes))
    if count == 0:
        return elevation, 0
    if count == holes.size:
        raise ValueError("no valid cell to fill from")
    filled = elevation.astype(np.float32, copy=True)
    labels, _ = ndimage.label(holes)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    small = sizes[labels] <= HARMONIC_MAX_CELLS
    small &= holes
    if small.any():
        filled[small] = _harmonic_fill(filled, small)
    large = holes & ~small
    if large.any():
        filled = fillnodata(
            filled, mask=(~large).astype(np.uint8), max_search_distance=FILL_MAX_SEARCH_DISTANCE
        )
        left = ~np.isfinite(filled)
        if left.any():
            nearest = ndimage.distance_transform_edt(
                left, return_distances=False, return_indices=True
            )
            filled = filled[tuple(nearest)]
    return filled.astype(np.float32, copy=False), count


def _harmonic_fill(grid: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """Values of the ``holes`` cells solving the 5-point Laplace equation, rim held fixed.

    Each hole's 4-neighbours are valid cells or cells of the same hole (holes are labelled
    4-connected), so one sparse system covers every hole at once.
    """
    rows, cols = grid.shape
    index = np.full(grid.shape, -1, dtype=np.int64)
    n = int(np.count_nonzero(holes))
    index[holes] = np.arange(n)
    r, c = np.nonzero(holes)
    degree = np.zeros(n)
    rhs = np.zeros(n)
    coupled_rows, coupled_cols = [], []
    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        rr, cc = r + dr, c + dc
        inside = (rr >= 0) & (rr < rows) & (cc >= 0) & (cc < cols)
        degree += inside
        cell = np.flatnonzero(inside)
        neighbour = index[rr[inside], cc[inside]]
        unknown = neighbour >= 0
        coupled_rows.append(cell[unknown])
        coupled_cols.append(neighbour[unknown])
        known = ~unknown
        np.add.at(rhs, cell[known], grid[rr[inside][known], cc[inside][known]])
    i = np.concatenate(coupled_rows)
    j = np.concatenate(coupled_cols)
    laplacian = sparse.csc_matrix(
        (
            np.concatenate([degree, -np.ones(i.size)]),
            (np.concatenate([np.arange(n), i]), np.concatenate([np.arange(n), j])),
        ),
        shape=(n, n),
    )
    return np.asarray(spsolve(laplacian, rhs), dtype=np.float32)


def read_dsm(
    paths: Sequence[PathLike],
    *,
    fill_holes: bool = True,
    bounds: tuple[float, float, float, float] | None = None,
) -> Surface:
    """Read one or several DSM GeoTIFFs into one grid.

    Files are merged with ``rasterio.merge.merge`` on the grid of the first file (nearest
    neighbour, the first file wins where files overlap). The main case is IGN's "MNS LiDAR HD"
    at 0.5 m in EPSG:2154.

    Nodata cells are those of each file's mask (its nodata value, the float32 minimum
    included), NaN, and any value below :data:`NODATA_BELOW` (fill values written without
    metadata).

    Parameters
    ----------
    paths : sequence of path-like
        One or more single-band rasters readable by GDAL, in one projected CRS in metres,
        with square (within :data:`SQUARE_TOLERANCE`), north-up pixels of one size.
    fill_holes : bool, default True
        Fill the nodata cells with :func:`fill_nodata`. When False they stay NaN.
    bounds : tuple of float, optional
        (xmin, ymin, xmax, ymax) to read, in the files' CRS, snapped outward to the first
        file's grid: a build tile reads its own window of a mosaic of IGN tiles, never the
        whole territory. Files outside it are not read. [m]

    Returns
    -------
    Surface
        ``elevation`` float32 [m], the CRS of the files, ``filled_cells`` the number of
        nodata cells of the merged grid (0 when ``fill_holes`` is False), no class masks.

    Raises
    ------
    InputError
        With ``source`` the file at fault: unreadable or truncated, no CRS, a geographic CRS
        or a unit other than the metre, rotated or non-square pixels, a CRS or a pixel size
        that differs from the first file's, or no valid cell at all.
    """
    sources = tuple(str(p) for p in paths)
    if not sources:
        raise InputError("no DSM file given")
    with ExitStack() as stack:
        datasets = [stack.enter_context(_open_raster(source)) for source in sources]
        first = datasets[0]
        crs = _check_mosaic(sources, datasets)
        window = None
        if bounds is not None:
            window = _snap(bounds, first.transform)
            datasets = [d for d in datasets if _overlaps(d.bounds, window)]
            sources = tuple(d.name for d in datasets) or sources
            if not datasets:
                raise InputError(f"no DSM file covers {window}", source=", ".join(sources))
        pixel = _pixel_size(first)
        try:
            # nodata=NaN: with the files' own nodata, merge() cannot represent the float32
            # minimum and fills the whole grid with zeros; each file's mask still applies.
            merged, transform = merge(
                datasets,
                bounds=window,
                res=(pixel, pixel),
                indexes=[1],
                dtype="float32",
                masked=True,
                nodata=np.nan,
            )
        except RasterioIOError as exc:
            # merge() does not say which file failed: read each again to find it.
            for source, dataset in zip(sources, datasets, strict=True):
                _check_readable(dataset, source)
            raise InputError(f"cannot merge the rasters: {exc}", source=", ".join(sources)) from exc
    band = np.ma.getdata(merged[0]).astype(np.float32, copy=True)
    with np.errstate(invalid="ignore"):
        band[np.ma.getmaskarray(merged[0]) | ~(band >= NODATA_BELOW)] = np.nan
    if not np.isfinite(band).any():
        raise InputError("every cell is nodata", source=", ".join(sources))
    filled_cells = 0
    if fill_holes:
        band, filled_cells = fill_nodata(band)
    return Surface(
        elevation=band,
        transform=transform,
        crs=crs,
        filled_cells=filled_cells,
        sources=sources,
    )


def dsm_extent(
    paths: Sequence[PathLike],
) -> tuple[CRS, tuple[float, float, float, float], float]:
    """CRS, union of the bounds and pixel size of DSM files, from their headers only.

    The files are checked as :func:`read_dsm` checks them.

    Returns
    -------
    crs : rasterio.crs.CRS
    bounds : tuple of float
        (xmin, ymin, xmax, ymax). [m]
    resolution : float
        [m]
    """
    sources = tuple(str(p) for p in paths)
    if not sources:
        raise InputError("no DSM file given")
    with ExitStack() as stack:
        datasets = [stack.enter_context(_open_raster(source)) for source in sources]
        crs = _check_mosaic(sources, datasets)
        boxes = np.array([tuple(d.bounds) for d in datasets])
        resolution = _pixel_size(datasets[0])
    bounds = (
        float(boxes[:, 0].min()),
        float(boxes[:, 1].min()),
        float(boxes[:, 2].max()),
        float(boxes[:, 3].max()),
    )
    return crs, bounds, resolution


def _check_mosaic(sources: Sequence[str], datasets: Sequence[DatasetReader]) -> CRS:
    """The files' common CRS, once each is a north-up grid of the first one's CRS and size."""
    first = datasets[0]
    crs = check_projected(first.crs, sources[0])
    for source, dataset in zip(sources, datasets, strict=True):
        _check_grid(dataset, source)
        if dataset.crs != crs:
            raise InputError(
                f"CRS {dataset.crs.to_string()} differs from {crs.to_string()} "
                f"of {sources[0]}: reproject the files to one CRS",
                source=source,
            )
        if not math.isclose(_pixel_size(dataset), _pixel_size(first), rel_tol=1e-9):
            raise InputError(
                f"pixel size {_pixel_size(dataset)} m differs from {_pixel_size(first)} m "
                f"of {sources[0]}: resample the files to one resolution",
                source=source,
            )
    return crs


def _pixel_size(dataset: DatasetReader) -> float:
    """The mean of the pixel's width and height, square within :data:`SQUARE_TOLERANCE`. [m]"""
    return float((dataset.transform.a - dataset.transform.e) / 2.0)


def _snap(
    bounds: tuple[float, float, float, float], transform: Affine
) -> tuple[float, float, float, float]:
    """``bounds`` widened to whole pixels of the grid of ``transform``."""
    res_x, res_y = transform.a, -transform.e
    x0, y0 = transform.c, transform.f
    xmin = x0 + math.floor((bounds[0] - x0) / res_x) * res_x
    xmax = x0 + math.ceil((bounds[2] - x0) / res_x) * res_x
    ymax = y0 - math.floor((y0 - bounds[3]) / res_y) * res_y
    ymin = y0 - math.ceil((y0 - bounds[1]) / res_y) * res_y
    return (xmin, ymin, xmax, ymax)


def _overlaps(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@contextmanager
def _open_raster(source: str) -> Iterator[DatasetReader]:
    try:
        dataset = rasterio.open(source)
    except RasterioIOError as exc:
        raise InputError(f"cannot read the raster: {exc}", source=source) from exc
    with dataset:
        yield dataset


def _check_grid(dataset: DatasetReader, source: str) -> None:
    t = dataset.transform
    if t.b != 0.0 or t.d != 0.0 or t.a <= 0.0 or t.e >= 0.0:
        raise InputError(
            f"rotated or flipped grid (transform {tuple(t)[:6]}): a north-up grid is needed",
            source=source,
        )
    if not math.isclose(t.a, -t.e, rel_tol=SQUARE_TOLERANCE):
        raise InputError(
            f"non-square pixels ({t.a} m × {-t.e} m): square pixels (within "
            f"{SQUARE_TOLERANCE:.1%}) are needed",
            source=source,
        )


def _check_readable(dataset: DatasetReader, source: str) -> None:
    try:
        for _, window in dataset.block_windows(1):
            dataset.read(1, window=window)
    except RasterioIOError as exc:
        raise InputError(
            f"cannot read the raster data (truncated or corrupt file?): {exc}", source=source
        ) from exc


def rasterize_laz(
    paths: Sequence[PathLike],
    *,
    resolution: float = 0.5,
    crs: str | CRS | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> Surface:
    """Rasterise classified LAS/LAZ point clouds to a DSM: the highest return per cell.

    The grid covers the union of the files' header bounds, its edges on multiples of
    ``resolution``, so that tiles on a kilometre grid give grids that abut. A cell holds
    the points with ``x0 <= x < x0 + resolution``, except that points on the east and south
    edges of the grid join the last column and row rather than opening a new one.
    Withheld points and the classes of ``LAS_DROPPED_CLASSES`` (noise, artefacts) are left
    out. Points are read ``LAZ_CHUNK_POINTS`` at a time, so memory stays bounded by the grid,
    not by the tile.

    Class masks follow the highest kept point of each cell: a cell is ``building`` when
    that point is class 6, ``vegetation`` for 3/4/5 and ``ground`` for 2. So a roof under an
    overhanging tree is vegetation, as the sun sees it. Cells without points are filled
    from their neighbours (counted in ``filled_cells``) and are False in every mask.

    Parameters
    ----------
    paths : sequence of path-like
        One or more LAS or LAZ files (LAZ through lazrs), merged into one grid.
    resolution : float, default 0.5
        Cell size. [m]
    crs : str or rasterio.crs.CRS, optional
        CRS of files whose header carries none (the ``--laz-crs`` option); a file's own CRS
        wins. The Delft AHN3 samples need "EPSG:28992".
    bounds : tuple of float, optional
        (xmin, ymin, xmax, ymax) to rasterise, snapped outward to multiples of
        ``resolution``: a build tile reads only its window of a mosaic of point clouds.
        Files whose header bounds miss it are not read. [m]

    Returns
    -------
    Surface
        ``elevation`` float32 [m] and the ``ground``, ``vegetation`` and ``building`` masks.

    Raises
    ------
    InputError
        With ``source`` the file at fault: unreadable, no CRS and ``crs`` not given, a
        geographic CRS, a CRS that differs from the first file's, or no point kept.
    """
    sources = tuple(str(p) for p in paths)
    if not sources:
        raise InputError("no LAS/LAZ file given")
    if not (math.isfinite(resolution) and resolution > 0):
        raise InputError(
            f"must be a positive number of metres, got {resolution}", source="resolution"
        )
    headers, grid_crs = _checked_headers(sources, crs)
    extent = _las_extent(headers)
    if bounds is not None:
        extent = (
            max(extent[0], bounds[0]),
            max(extent[1], bounds[1]),
            min(extent[2], bounds[2]),
            min(extent[3], bounds[3]),
        )
        wanted = [
            i
            for i, h in enumerate(headers)
            if h.mins[0] < extent[2]
            and extent[0] < h.maxs[0]
            and h.mins[1] < extent[3]
            and extent[1] < h.maxs[1]
        ]
        if not wanted or extent[0] >= extent[2] or extent[1] >= extent[3]:
            raise InputError(f"no point cloud covers {bounds}", source=", ".join(sources))
        sources = tuple(sources[i] for i in wanted)
    xmin = math.floor(extent[0] / resolution) * resolution
    ymax = math.ceil(extent[3] / resolution) * resolution
    cols = max(1, math.ceil((extent[2] - xmin) / resolution))
    rows = max(1, math.ceil((ymax - extent[1]) / resolution))
    top = np.full(rows * cols, -np.inf, dtype=np.float32)
    top_class = np.zeros(rows * cols, dtype=np.uint8)
    for source in sources:
        _burn_highest(source, top, top_class, xmin, ymax, resolution, cols)
    has_points = np.isfinite(top)
    if not has_points.any():
        raise InputError("no point left once noise and artefacts are dropped", source=sources[0])
    elevation = np.where(has_points, top, np.float32(np.nan)).reshape(rows, cols)
    elevation, filled_cells = fill_nodata(elevation)
    class_grid = top_class.reshape(rows, cols)
    point_grid = has_points.reshape(rows, cols)
    return Surface(
        elevation=elevation,
        transform=Affine(resolution, 0.0, xmin, 0.0, -resolution, ymax),
        crs=grid_crs,
        filled_cells=filled_cells,
        ground=point_grid & np.isin(class_grid, LAS_GROUND_CLASSES),
        vegetation=point_grid & np.isin(class_grid, LAS_VEGETATION_CLASSES),
        building=point_grid & np.isin(class_grid, LAS_BUILDING_CLASSES),
        sources=sources,
    )


def _las_extent(headers: Sequence[laspy.LasHeader]) -> tuple[float, float, float, float]:
    """Union of the header bounds of point clouds: (xmin, ymin, xmax, ymax). [m]"""
    return (
        float(min(h.mins[0] for h in headers)),
        float(min(h.mins[1] for h in headers)),
        float(max(h.maxs[0] for h in headers)),
        float(max(h.maxs[1] for h in headers)),
    )


def laz_extent(
    paths: Sequence[PathLike], *, crs: str | CRS | None = None
) -> tuple[CRS, tuple[float, float, float, float]]:
    """CRS and union of the bounds of point clouds, from their headers only.

    The files are checked as :func:`rasterize_laz` checks them.
    """
    sources = tuple(str(p) for p in paths)
    if not sources:
        raise InputError("no LAS/LAZ file given")
    headers, grid_crs = _checked_headers(sources, crs)
    return grid_crs, _las_extent(headers)


def _checked_headers(
    sources: Sequence[str], crs: str | CRS | None
) -> tuple[list[laspy.LasHeader], CRS]:
    """The files' headers and their common projected CRS (``crs`` for files without one)."""
    try:
        default_crs = CRS.from_user_input(crs) if crs is not None else None
    except CRSError as exc:
        raise InputError(f"not a known CRS: {crs!r} ({exc})", source="--laz-crs") from exc
    headers = [_read_las_header(source) for source in sources]
    grid_crs = _las_crs(headers[0], sources[0], default_crs)
    for source, header in zip(sources[1:], headers[1:], strict=True):
        other = _las_crs(header, source, default_crs)
        if other != grid_crs:
            raise InputError(
                f"CRS {other.to_string()} differs from {grid_crs.to_string()} "
                f"of {sources[0]}: the files must share one CRS",
                source=source,
            )
    return headers, grid_crs


_LAS_ERRORS = (laspy.LaspyException, lazrs.LazrsError, OSError, ValueError, EOFError)


def _read_las_header(source: str) -> laspy.LasHeader:
    try:
        with laspy.open(source) as reader:
            return reader.header
    except _LAS_ERRORS as exc:
        raise InputError(f"cannot read the LAS/LAZ file: {exc}", source=source) from exc


def _las_crs(header: laspy.LasHeader, source: str, default: CRS | None) -> CRS:
    try:
        parsed = header.parse_crs()
    except pyproj.exceptions.CRSError as exc:
        raise InputError(f"unreadable CRS in the LAS header: {exc}", source=source) from exc
    if parsed is None:
        if default is None:
            raise InputError(
                "the LAS header has no CRS: pass it with --laz-crs "
                "(for example --laz-crs EPSG:28992 for the Dutch AHN)",
                source=source,
            )
        return check_projected(default, source)
    if parsed.is_compound:
        # IGN writes Lambert-93 + IGN69 heights; the grid only needs the horizontal part.
        parsed = parsed.sub_crs_list[0]
    epsg = parsed.to_epsg()
    horizontal = CRS.from_epsg(epsg) if epsg is not None else CRS.from_wkt(parsed.to_wkt())
    return check_projected(horizontal, source)


def _burn_highest(
    source: str,
    top: np.ndarray,
    top_class: np.ndarray,
    xmin: float,
    ymax: float,
    resolution: float,
    cols: int,
) -> None:
    """Raise ``top`` (flat grid) to the highest kept point of ``source`` and set its class."""
    rows = top.size // cols
    try:
        with laspy.open(source) as reader:
            for points in reader.chunk_iterator(LAZ_CHUNK_POINTS):
                classification = np.asarray(points.classification, dtype=np.uint8)
                x = np.asarray(points.x)
                y = np.asarray(points.y)
                col = np.floor((x - xmin) / resolution).astype(np.int64)
                row = np.floor((ymax - y) / resolution).astype(np.int64)
                # Points on the east or south edge of the grid belong to its last cell; points
                # beyond the header bounds (a stale header) are left out, not clipped in.
                tolerance = 1e-3 * resolution
                keep = (
                    ~np.isin(classification, LAS_DROPPED_CLASSES)
                    & ~np.asarray(points.withheld, dtype=bool)
                    & (col >= 0)
                    & (x <= xmin + cols * resolution + tolerance)
                    & (row >= 0)
                    & (y >= ymax - rows * resolution - tolerance)
                )
                np.minimum(col, cols - 1, out=col)
                np.minimum(row, rows - 1, out=row)
                cell = row[keep] * cols + col[keep]
                z = np.asarray(points.z, dtype=np.float32)[keep]
                np.maximum.at(top, cell, z)
                # The points that reach the new top of their cell give it its class; ties
                # between classes at one height go to the later point.
                wins = z == top[cell]
                top_class[cell[wins]] = classification[keep][wins]
    except _LAS_ERRORS as exc:
        raise InputError(f"cannot read the LAS/LAZ points: {exc}", source=source) from exc


def crop(surface: Surface, bounds: tuple[float, float, float, float]) -> Surface:
    """The part of ``surface`` inside ``bounds`` (snapped outward to whole pixels).

    The class masks are cut alike; ``filled_cells`` is 0, the holes having been filled
    when the whole surface was read.

    >>> transform = Affine(0.5, 0.0, 0.0, 0.0, -0.5, 2.0)
    >>> grid = Surface(np.zeros((4, 4), np.float32), transform, CRS.from_epsg(2154))
    >>> crop(grid, (0.2, 0.0, 1.0, 1.1)).shape
    (3, 2)
    """
    rows, cols = surface.shape
    win = from_bounds(*bounds, transform=surface.transform)
    row0 = max(int(np.floor(win.row_off)), 0)
    col0 = max(int(np.floor(win.col_off)), 0)
    row1 = min(int(np.ceil(win.row_off + win.height)), rows)
    col1 = min(int(np.ceil(win.col_off + win.width)), cols)
    window = Window(col0, row0, col1 - col0, row1 - row0)
    sl = (slice(row0, row1), slice(col0, col1))

    def cut(mask: np.ndarray | None) -> np.ndarray | None:
        return None if mask is None else mask[sl]

    return Surface(
        elevation=surface.elevation[sl],
        transform=window_transform(window, surface.transform),
        crs=surface.crs,
        filled_cells=0,
        ground=cut(surface.ground),
        vegetation=cut(surface.vegetation),
        building=cut(surface.building),
        sources=surface.sources,
    )


@dataclass(frozen=True)
class DsmSource:
    """DSM files read window by window: a build never holds more than one tile's window.

    Picklable (paths and header facts only), so a Dask worker reads its own window.

    Attributes
    ----------
    paths : tuple of str
    crs : rasterio.crs.CRS
    bounds : tuple of float
        Union of the files' bounds. [m]
    resolution : float
        [m]
    """

    paths: tuple[str, ...]
    crs: CRS
    bounds: tuple[float, float, float, float]
    resolution: float

    @classmethod
    def open(cls, paths: Sequence[str | os.PathLike[str]]) -> DsmSource:
        """Check the files and read their extent from the headers."""
        crs, bounds, resolution = dsm_extent(paths)
        return cls(tuple(str(p) for p in paths), crs, bounds, resolution)

    def read(self, bounds: tuple[float, float, float, float]) -> Surface:
        """The merged, hole-filled surface inside ``bounds``."""
        return read_dsm(self.paths, bounds=bounds)

    def check_covers(self, xy: np.ndarray) -> None:
        """Raise unless the files hold an elevation at one of the points at least.

        A build whose footprints all lie on nodata would end with no roof and no error.
        The points are the footprints' interior points, one per footprint; each is read
        alone (one pixel), so that checking a territory costs no more than a few thousand
        reads.

        Parameters
        ----------
        xy : numpy.ndarray
            (n, 2) points in the files' CRS. [m]

        Raises
        ------
        InputError
            With ``source`` the files under the points: no point falls on a valid cell
            (the files' nodata, NaN, or below :data:`NODATA_BELOW`).
        """
        points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if not len(points):
            return
        under: list[str] = []
        for source in self.paths:
            with _open_raster(source) as dataset:
                left, bottom, right, top = dataset.bounds
                inside = points[
                    (points[:, 0] >= left)
                    & (points[:, 0] < right)
                    & (points[:, 1] > bottom)
                    & (points[:, 1] <= top)
                ]
                if not len(inside):
                    continue
                under.append(source)
                values = np.ma.concatenate(list(dataset.sample(inside, indexes=1, masked=True)))
                data = np.ma.getdata(values).astype(np.float64)
                with np.errstate(invalid="ignore"):
                    valid = ~np.ma.getmaskarray(values) & (data >= NODATA_BELOW)
                if valid.any():
                    return
        raise InputError(
            f"no elevation where the footprints lie: all {len(points)} footprints fall on "
            "nodata cells (the file's nodata value, NaN or fill values below "
            f"{NODATA_BELOW:g} m)",
            source=", ".join(under or self.paths),
        )


@dataclass(frozen=True)
class LazSource:
    """Classified point clouds rasterised window by window, as :class:`DsmSource` reads DSMs.

    Attributes
    ----------
    paths : tuple of str
    crs : rasterio.crs.CRS
    bounds : tuple of float
        Union of the files' header bounds. [m]
    resolution : float
        Cell size of the rasterisation. [m]
    """

    paths: tuple[str, ...]
    crs: CRS
    bounds: tuple[float, float, float, float]
    resolution: float

    @classmethod
    def open(
        cls, paths: Sequence[str | os.PathLike[str]], *, resolution: float, crs: str | None
    ) -> LazSource:
        """Check the files and read their extent from the headers."""
        grid_crs, bounds = laz_extent(paths, crs=crs)
        return cls(tuple(str(p) for p in paths), grid_crs, bounds, resolution)

    def read(self, bounds: tuple[float, float, float, float]) -> Surface:
        """The highest return per cell inside ``bounds``, with the class masks."""
        # the files' CRS was settled by open(): pass it for the files without one
        return rasterize_laz(self.paths, resolution=self.resolution, crs=self.crs, bounds=bounds)


SurfaceInput = Surface | DsmSource | LazSource
"""What a build reads its tiles from: a surface in memory, or files read window by window."""


def read_window(source: SurfaceInput, bounds: tuple[float, float, float, float]) -> Surface:
    """The surface inside ``bounds``: cut from memory, or read from the source's files."""
    return crop(source, bounds) if isinstance(source, Surface) else source.read(bounds)


def source_grid(source: SurfaceInput) -> tuple[Affine, tuple[int, int]]:
    """Transform and shape of the source's whole area, on its pixel grid.

    Returns
    -------
    transform : affine.Affine
    shape : tuple of int
        (rows, cols).
    """
    if isinstance(source, Surface):
        return source.transform, source.shape
    xmin, ymin, xmax, ymax = source.bounds
    res = source.resolution
    if isinstance(source, LazSource):
        # point clouds are rasterised on multiples of the resolution (rasterize_laz)
        xmin, ymax = math.floor(xmin / res) * res, math.ceil(ymax / res) * res
        shape = (math.ceil((ymax - ymin) / res), math.ceil((xmax - xmin) / res))
    else:
        shape = (round((ymax - ymin) / res), round((xmax - xmin) / res))
    return Affine(res, 0.0, xmin, 0.0, -res, ymax), shape
