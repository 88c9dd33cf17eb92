"""Horizon angles over a surface model: how high the surroundings rise around each pixel.

The horizon of a pixel toward an azimuth is the highest elevation angle [°] under which the
surface is seen along that azimuth, from an observer standing on the pixel's own surface
height (or ``observer_height`` above it) [m]. :func:`horizon_angles` computes it for every
stored pixel toward ``n_sectors`` azimuths, clockwise from north, with the upper-hull line
sweep of Dozier and Frew [1]_: every pixel of the grid casts, and each line of a sector is
walked once, in O(n) per line. The result, :class:`Horizons`, stores the angles in
hundredths of a degree. :mod:`solar.shading` turns them into sky views and sunlit hours.

Sampling of a ray
-----------------
Sector ``k`` looks toward the azimuth ``k * 360 / n_sectors`` degrees, clockwise from north,
on a north-up grid (row 0 is north). Of the two grid axes, the *major* one is the axis the
direction is closer to (rows for azimuths within 45° of north or south). The rays of one
sector are straight lines of the sector's azimuth, translates of one another by whole
pixels across the minor axis, so that every pixel is the pixel of exactly one of them (as
defined below). Let ``t = |tan|`` of the angle between the direction and the major axis
(``0 <= t <= 1``). Counting both axes in the direction of the ray, the line ``c0`` crosses
the major index ``k`` at the minor coordinate ``c0 + k * t``, between the pixels ``c0 + o``
and ``c0 + o + s``, where ``o = round(k * t)`` (``round(x) = floor(x + 0.5)``), the
fraction ``d = k * t - o`` lies in [-0.5, 0.5) and ``s`` is the sign of ``d`` (no
neighbour is read when ``d`` is 0). The line's sample at ``k`` is the height interpolated
linearly across the minor axis at that crossing,
``(1 - |d|) * z[c0 + o] + |d| * z[c0 + o + s]``, unless the neighbour ``c0 + o + s`` lies
off the grid or the two heights differ by more than ``max_blend_step``: then it is the
nearest pixel's height ``z[c0 + o]``. The pixel ``c0 + o`` at ``k`` is the pixel of the
line at ``k``; its observer is the line's own sample at ``k`` (plus ``observer_height``),
and its horizon is the maximum of ``atan(dz / (m * resolution * sqrt(1 + t**2)))`` over the
samples ``m = 1, 2, ...`` that follow it on the line, ``m * resolution * sqrt(1 + t**2)``
being the exact distance between the two crossings. The tests hold the sweep to a
brute-force computation of exactly this definition.

Why interpolate: a plane is then sampled on an exact straight line in 3-D, so that it sees
itself under its true slope in every direction, and an open face has a sky view of 1. The
nearest pixel, up to half a pixel off the line, made sloped faces shade themselves: looking
along the contour lines of a 35° face at 0.5 m, the next row of the same plane, 0.35 m
higher, was sampled 0.5 m away, and some pixels got a horizon of 35° where the plane's edge
stands at 3.5°. The observer's height is interpolated too, so that it stands on the same
line as the samples it looks at.

Why not across a step higher than ``max_blend_step``: at a roof's edge, blending an eave
pixel with the ground a few metres below would lower the observer into the air beside the
wall, from which its own roof's next samples along the edge would rise as a horizon that
does not exist; likewise a ground sample blended with the wall would stand halfway up it.
The default, ``resolution * tan(65°)``, is the largest step between two neighbouring pixels
of a plane of 65°: roof planes up to that slope are blended in every direction, while eaves
and walls (2.5 m or more) keep their nearest pixel, the raster placing them no better than
to half a pixel anyway. Steeper planes are blended in the directions whose step across the
minor axis stays under the bound; a step under the bound that is not a plane, such as a
low parapet, is blended like one. Where a face's sample keeps its nearest pixel at such an
edge, it keeps its error of up to half a pixel across the face's slope: on the staircase
edges of a footprint turned off the grid axes, some edge pixels see a horizon of a few
degrees above their plane, which costs an open gable's faces under 0.1 % of sky view.

Because the samples lie on the line, the distances along it add up
(``d(p, r) = d(p, q) + d(q, r)``), as the upper-hull sweep needs; the sweep is unchanged by
the interpolation, which only sets the heights it walks over.

Why horizons below the horizontal are stored as 0: the Perez decomposition used downstream
(:mod:`solar.shading`, :mod:`solar.irradiance`) splits the tilted plane's view into the sky
above the horizontal (isotropic sky, weight ``(1 + cos tilt) / 2``; horizon band) and the
ground below it (albedo, weight ``(1 - cos tilt) / 2``). A roof edge looking down on a street
sees more ground, not less sky, and the ground term already counts the ground. So only
obstructions above the horizontal matter, and clipping at 0 keeps each term's geometry
separate. It also lets the angles be stored unsigned.

References
----------
.. [1] J. Dozier and J. Frew, "Rapid calculation of terrain parameters for radiation
   modeling from digital elevation data", IEEE Transactions on Geoscience and Remote
   Sensing 28(5), 963-969, 1990. :doi:`10.1109/36.58986`
.. [2] A. M. Andrew, "Another efficient algorithm for convex hulls in two dimensions",
   Information Processing Letters 9(5), 216-219, 1979.
   :doi:`10.1016/0020-0190(79)90072-3`
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

# Angles are stored as unsigned hundredths of a degree: 0..9000 fits in uint16 with a
# rounding error of 0.005°, twenty times finer than the 0.1° the horizons are held to.
# float16 would be coarser near 90° (spacing 0.0625° above 64°).
ANGLE_SCALE = 100.0

# Steepest plane whose neighbouring pixels are always blended along a ray (see "Sampling of
# a ray"): the default ``max_blend_step`` is ``resolution * tan(BLEND_SLOPE_DEG)``, 1.07 m at
# 0.5 m. roofs.segment_roofs fits faces up to 70°; the bound stays lower so that more of
# the real steps (eaves, parapets) keep out of the blend, at the cost of planes between 65°
# and 70° being blended only in the directions whose step across the minor axis is small.
BLEND_SLOPE_DEG = 65.0

# Sectors per parallel region and per copy into the (n_pixels, n_sectors) array.
_SECTOR_BLOCK = 8


@dataclass(frozen=True, eq=False)
class Horizons:
    """Horizon angles of selected pixels of a grid, stored compactly.

    Attributes
    ----------
    rows, cols : numpy.ndarray
        Grid indices of the stored pixels, int32, shape (n_pixels,), in row-major order.
    angles : numpy.ndarray
        Horizon elevation angle of each stored pixel toward each sector, uint16 hundredths
        of a degree, shape (n_pixels, n_sectors); 0 where the horizon lies below the
        horizontal. [0.01°]
    n_sectors : int
        Number of azimuth sectors; sector ``k`` looks toward ``k * 360 / n_sectors``.
    shape : tuple of int
        Shape (rows, cols) of the grid the pixels belong to.
    resolution : float
        Pixel size of the grid. [m]
    """

    rows: np.ndarray
    cols: np.ndarray
    angles: np.ndarray
    n_sectors: int
    shape: tuple[int, int]
    resolution: float

    @property
    def sector_azimuths(self) -> np.ndarray:
        """Azimuth each sector looks toward, clockwise from north. [°]"""
        return np.arange(self.n_sectors) * (360.0 / self.n_sectors)

    @property
    def n_pixels(self) -> int:
        """Number of stored pixels."""
        return int(self.rows.size)

    def angles_deg(self) -> np.ndarray:
        """Horizon angles as float32, shape (n_pixels, n_sectors). [°]"""
        return self.angles.astype(np.float32) / np.float32(ANGLE_SCALE)

    def index_grid(self) -> np.ndarray:
        """Index of each grid pixel into the stored pixels, -1 where none is stored.

        Returns
        -------
        numpy.ndarray
            int32, shape ``self.shape``.
        """
        grid = np.full(self.shape, -1, dtype=np.int32)
        grid[self.rows, self.cols] = np.arange(self.n_pixels, dtype=np.int32)
        return grid


class _SectorLines(NamedTuple):
    """The lines of one sector, from :func:`_sector_lines`."""

    major_is_row: bool
    flip_major: bool
    flip_minor: bool
    offsets: np.ndarray  # int64
    fractions: np.ndarray
    spacing: float


def _sector_lines(azimuth: float, shape: tuple[int, int]) -> _SectorLines:
    """The lines of one sector: major axis, mirrorings, minor offsets and fractions, spacing.

    The ray advances by one major index per sample, backward along the axis when
    ``flip_major``; after ``k`` samples it has moved ``k * t = offsets[k] + fractions[k]``
    across the minor axis, backward when ``flip_minor``, with ``offsets[k] = round(k * t)``
    and ``fractions[k]`` in [-0.5, 0.5); ``spacing = sqrt(1 + t**2)`` is the distance between
    samples in pixels.
    """
    d_row, d_col = -math.cos(math.radians(azimuth)), math.sin(math.radians(azimuth))
    major_is_row = abs(d_row) >= abs(d_col)
    d_major, d_minor = (d_row, d_col) if major_is_row else (d_col, d_row)
    n_major = shape[0] if major_is_row else shape[1]
    t = abs(d_minor) / abs(d_major)
    exact = np.arange(n_major) * t
    offsets = np.floor(exact + 0.5)
    return _SectorLines(
        major_is_row=major_is_row,
        flip_major=d_major < 0,
        flip_minor=d_minor < 0,
        offsets=offsets.astype(np.int64),
        fractions=exact - offsets,
        spacing=math.hypot(1.0, t),
    )


# Coefficients of the minimax polynomial atan(x) = x * P(x**2) on [0, 1], with an absolute
# error below 2e-8 rad (Abramowitz and Stegun, Handbook of Mathematical Functions, 4.4.49).
_ATAN_COEFFS = (
    -0.3333314528,
    0.1999355085,
    -0.1420889944,
    0.1065626393,
    -0.0752896400,
    0.0429096138,
    -0.0161657367,
    0.0028662257,
)


@njit(cache=True, inline="always")
def _atan_centidegrees(x: float) -> np.uint16:  # pragma: no cover - numba
    """``atan(x)`` for ``x >= 0`` in rounded hundredths of a degree.

    A polynomial rather than ``math.atan``: it runs once per stored pixel and sector, and
    its 2e-8 rad error is far below the 0.005° rounding of the storage.
    """
    inverted = x > 1.0
    if inverted:
        x = 1.0 / x
    x2 = x * x
    poly = _ATAN_COEFFS[7]
    for c in (
        _ATAN_COEFFS[6],
        _ATAN_COEFFS[5],
        _ATAN_COEFFS[4],
        _ATAN_COEFFS[3],
        _ATAN_COEFFS[2],
        _ATAN_COEFFS[1],
        _ATAN_COEFFS[0],
        1.0,
    ):
        poly = poly * x2 + c
    angle = x * poly
    if inverted:
        angle = 0.5 * math.pi - angle
    return np.uint16(angle * (180.0 * ANGLE_SCALE / math.pi) + 0.5)


@njit(cache=True)
def _line_horizons(
    z: np.ndarray,
    stored: np.ndarray,
    first: int,
    window: int,
    lift: float,
    step: float,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Horizons of the stored points of one line, written to ``out[stored[i]]``.

    The horizon of point i is ``atan(max((z[j] - z[i] - lift) / ((j - i) * step)))`` over
    ``i < j <= i + window``, clipped below at 0; ``stored[i]`` is -1 for points that only
    cast, and no point before ``first`` is stored. Exact, in O(n) when ``window >= n`` and
    ``lift`` is 0, O(n log window) otherwise.

    Pass 1 walks the line backward and keeps the upper convex hull of the points ahead as a
    stack (nearest on top): the hull vertex that follows a new point on the hull is the one
    it sees under the largest slope (Dozier and Frew [1]_). With a window the line is cut
    into blocks of ``window`` samples and the stack restarts at each block end, so pass 1
    covers the rest of a point's own block. Pass 2 covers the start of the next block, up to
    ``i + window``: that prefix grows by one point as ``i`` advances, so its upper hull is
    built left to right (Andrew's monotone chain [2]_) and the tangent from ``i`` is found by
    binary search, the slope to the hull vertices being unimodal.

    A lifted observer sees its tangent at or beyond the ground point's, on the same hull
    (a vertex dropped for lying under a chord from the ground point lies under it from
    higher up too), so pass 1 walks on from the ground point's tangent.
    """
    n = z.size
    windowed = window < n
    best = np.zeros(n if windowed else 0)
    # The stack holds the vertices' positions and heights side by side, to spare the
    # indirect loads in the innermost loop.
    size = min(n, window)
    stack_x = np.empty(size)
    stack_z = np.empty(size)
    top = -1
    for i in range(n - 1, first - 1, -1):
        if windowed and (i + 1) % window == 0:
            top = -1
        xi = float(i)
        zi = z[i]
        # Drop the top vertex while it lies on or below the chord from i to the next one.
        while top >= 1:
            rise_next = (stack_z[top - 1] - zi) * (stack_x[top] - xi)
            if rise_next < (stack_z[top] - zi) * (stack_x[top - 1] - xi):
                break
            top -= 1
        if stored[i] >= 0:
            slope = 0.0
            if top >= 0:
                j = top
                zo = zi + lift
                while lift > 0.0 and j >= 1:
                    rise_next = (stack_z[j - 1] - zo) * (stack_x[j] - xi)
                    if rise_next < (stack_z[j] - zo) * (stack_x[j - 1] - xi):
                        break
                    j -= 1
                slope = max(0.0, (stack_z[j] - zo) / (stack_x[j] - xi))
            if windowed:
                best[i] = slope
            else:
                out[stored[i]] = _atan_centidegrees(slope / step)
        top += 1
        stack_x[top] = xi
        stack_z[top] = zi
    if not windowed:
        return
    hull = np.empty(window, np.int64)
    for start in range(first - first % window, n, window):
        # The prefix hull is built lazily, up to ``added``: most points are settled by the
        # bound on the prefix's highest point and never need it.
        h = 0
        added = start + window
        top_z = -np.inf
        for i in range(start, min(start + window, n)):
            reach = min(i + window, n - 1)
            if reach >= start + window:
                top_z = max(top_z, z[reach])
            if stored[i] < 0:
                continue
            zi = z[i] + lift
            if reach >= start + window and (top_z - zi) > best[i] * (start + window - i):
                while added <= reach:
                    zq = z[added]
                    while h >= 2:
                        a = hull[h - 2]
                        b = hull[h - 1]
                        if (z[b] - z[a]) * (added - a) <= (zq - z[a]) * (b - a):
                            h -= 1
                        else:
                            break
                    hull[h] = added
                    h += 1
                    added += 1
                lo = 0
                hi = h - 1
                while lo < hi:
                    mid = (lo + hi) // 2
                    v1 = hull[mid]
                    v2 = hull[mid + 1]
                    if (z[v1] - zi) * (v2 - i) < (z[v2] - zi) * (v1 - i):
                        lo = mid + 1
                    else:
                        hi = mid
                v = hull[lo]
                best[i] = max(best[i], (z[v] - zi) / (v - i))
            out[stored[i]] = _atan_centidegrees(best[i] / step)


class _Grid(NamedTuple):
    """The grid in two layouts, so that every sector walks its lines along contiguous memory.

    The ``_by_row`` arrays are flattened from (rows, cols), for the sectors whose major axis
    is the columns; the ``_by_col`` arrays from (cols, rows), for the others.
    """

    z_by_row: np.ndarray  # surface heights, float32 [m]
    index_by_row: np.ndarray  # index of the stored pixel, -1 where none is stored, int32
    z_by_col: np.ndarray
    index_by_col: np.ndarray
    n_rows: int
    n_cols: int


class _SectorBlock(NamedTuple):
    """The lines of a block of sectors, one entry (row) per sector; see :func:`_sector_lines`.

    Sector j's lines are the parallel tasks ``line_start[j]:line_start[j + 1]``.
    """

    major_is_row: np.ndarray  # bool
    flip_major: np.ndarray  # bool
    flip_minor: np.ndarray  # bool
    offsets: np.ndarray  # minor offsets per major step, int64, (n, max(rows, cols))
    fractions: np.ndarray  # minor fractions per major step, (n, max(rows, cols))
    step: np.ndarray  # distance between samples [m]
    window: np.ndarray  # samples within reach, int64
    line_start: np.ndarray  # first task of each sector, int64, (n + 1,)


@njit(parallel=True, cache=True)
def _sweep_sectors(
    grid: _Grid,
    sectors: _SectorBlock,
    max_blend_step: float,
    lift: float,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Horizons of a block of sectors for the stored pixels, one line per parallel task.

    Sector j of the block writes row ``out[j]``, indexed by stored pixel. One parallel region
    serves the whole block, which spares the threads a meeting per sector. Each sample
    blends the pixel at the line's minor offset with its neighbour toward the fraction, as
    the module docstring says.
    """
    for task in prange(sectors.line_start[-1]):
        j = np.searchsorted(sectors.line_start, task, side="right") - 1
        if sectors.major_is_row[j]:
            z, index, n_major, n_minor = grid.z_by_col, grid.index_by_col, grid.n_rows, grid.n_cols
        else:
            z, index, n_major, n_minor = grid.z_by_row, grid.index_by_row, grid.n_cols, grid.n_rows
        sector_offsets = sectors.offsets[j, :n_major]
        sector_fractions = sectors.fractions[j, :n_major]
        flip_major = sectors.flip_major[j]
        flip_minor = sectors.flip_minor[j]
        # The neighbour one step forward across the minor axis, in the flattened layout.
        forward = -n_major if flip_minor else n_major
        shift = sector_offsets[n_major - 1]
        c0 = task - sectors.line_start[j] - shift
        k_lo = np.searchsorted(sector_offsets, -c0)
        k_hi = np.searchsorted(sector_offsets, n_minor - 1 - c0, side="right")
        n = k_hi - k_lo
        zl = np.empty(n)
        stored = np.empty(n, np.int32)
        first = n
        for i in range(n - 1, -1, -1):
            k = k_lo + i
            major = n_major - 1 - k if flip_major else k
            u = c0 + sector_offsets[k]
            minor = n_minor - 1 - u if flip_minor else u
            p = minor * n_major + major
            height = float(z[p])
            d = sector_fractions[k]
            if d > 0.0 and u + 1 < n_minor:
                neighbour = float(z[p + forward])
                if abs(neighbour - height) <= max_blend_step:
                    height = (1.0 - d) * height + d * neighbour
            elif d < 0.0 and u >= 1:
                neighbour = float(z[p - forward])
                if abs(neighbour - height) <= max_blend_step:
                    height = (1.0 + d) * height - d * neighbour
            zl[i] = height
            stored[i] = index[p]
            if stored[i] >= 0:
                first = i
        # Samples before the first stored pixel only cast, and casting looks forward.
        if first < n:
            _line_horizons(zl, stored, first, sectors.window[j], lift, sectors.step[j], out[j])


def _sector_block(
    sectors: range,
    n_sectors: int,
    shape: tuple[int, int],
    resolution: float,
    max_distance: float | None,
) -> _SectorBlock:
    """The lines of the given sectors, for :func:`_sweep_sectors`."""
    lines = [_sector_lines(s * 360.0 / n_sectors, shape) for s in sectors]
    offsets = np.zeros((len(lines), max(shape)), dtype=np.int64)
    fractions = np.zeros((len(lines), max(shape)))
    step = np.empty(len(lines))
    window = np.empty(len(lines), dtype=np.int64)
    n_lines = np.empty(len(lines), dtype=np.int64)
    for j, line in enumerate(lines):
        offsets[j, : line.offsets.size] = line.offsets
        fractions[j, : line.fractions.size] = line.fractions
        step[j] = resolution * line.spacing
        window[j] = line.offsets.size
        if max_distance is not None:
            window[j] = min(window[j], math.floor(max_distance / step[j] + 1e-9))
        n_minor = shape[1] if line.major_is_row else shape[0]
        n_lines[j] = (n_minor + line.offsets[-1]) if window[j] >= 1 else 0
    return _SectorBlock(
        major_is_row=np.array([line.major_is_row for line in lines]),
        flip_major=np.array([line.flip_major for line in lines]),
        flip_minor=np.array([line.flip_minor for line in lines]),
        offsets=offsets,
        fractions=fractions,
        step=step,
        window=window,
        line_start=np.concatenate([[0], np.cumsum(n_lines)]).astype(np.int64),
    )


def _blend_step(resolution: float, max_blend_step: float | None) -> float:
    """``max_blend_step``, or its default for ``resolution``, checked. [m]"""
    if max_blend_step is None:
        return resolution * math.tan(math.radians(BLEND_SLOPE_DEG))
    if not max_blend_step >= 0:
        raise ValueError(f"max_blend_step must be 0 or more, got {max_blend_step}")
    return float(max_blend_step)


def horizon_angles(
    elevation: np.ndarray,
    resolution: float,
    *,
    n_sectors: int = 72,
    mask: np.ndarray | None = None,
    max_distance: float | None = None,
    observer_height: float = 0.0,
    max_blend_step: float | None = None,
) -> Horizons:
    """Horizon elevation angle of each pixel toward ``n_sectors`` azimuths.

    Every pixel of ``elevation`` casts; only the pixels of ``mask`` are stored. The rays are
    sampled as the module docstring describes, and the result is exact up to the 0.005°
    rounding of the storage.

    Parameters
    ----------
    elevation : numpy.ndarray
        Surface heights, shape (rows, cols), north up, square pixels, finite. The caller
        includes a halo around the area of interest so that casters beyond it count. [m]
    resolution : float
        Pixel size. [m]
    n_sectors : int, default 72
        Number of azimuth sectors (72 = every 5°).
    mask : numpy.ndarray, optional
        Boolean, same shape: the pixels whose horizons are stored (roof pixels). All
        pixels when None.
    max_distance : float, optional
        Only samples within this distance along the ray count. [m] None searches the
        whole grid. With tiles, a bound no larger than the halo gives every pixel the same
        reach, so that horizons do not jump at tile edges.
    observer_height : float, default 0
        Height of the observer above the pixel's surface. [m] Modules on rails stand
        about 0.1-0.15 m above the roof covering; a lift of that order also keeps the
        DSM's noise (σ of 2-5 cm for IGN LiDAR HD) from giving every roof pixel a
        horizon of a few degrees from its immediate neighbours.
    max_blend_step : float, optional
        Largest height difference between two neighbouring pixels across which a ray's
        sample is interpolated; across a larger step it takes the nearest pixel. [m] None
        means ``resolution * tan(BLEND_SLOPE_DEG)`` (1.07 m at 0.5 m), which blends every
        roof plane up to 65° but no eave or wall. See the module docstring.

    Returns
    -------
    Horizons

    Raises
    ------
    ValueError
        If the grid is not 2-D, holds non-finite heights, or a parameter is out of range.

    References
    ----------
    .. [1] J. Dozier and J. Frew, 1990. :doi:`10.1109/36.58986`
    """
    z = np.asarray(elevation)
    if z.ndim != 2 or z.size == 0:
        raise ValueError(f"elevation must be a non-empty 2-D grid, got shape {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("elevation holds NaN or infinite heights: fill the holes first")
    if not resolution > 0:
        raise ValueError(f"resolution must be positive, got {resolution}")
    if n_sectors < 1:
        raise ValueError(f"n_sectors must be at least 1, got {n_sectors}")
    if max_distance is not None and not max_distance > 0:
        raise ValueError(f"max_distance must be positive, got {max_distance}")
    if not observer_height >= 0:
        raise ValueError(f"observer_height must be 0 or more, got {observer_height}")
    blend_step = _blend_step(resolution, max_blend_step)
    if mask is None:
        mask = np.ones(z.shape, dtype=bool)
    elif mask.shape != z.shape:
        raise ValueError(f"mask shape {mask.shape} differs from elevation shape {z.shape}")
    rows, cols = np.nonzero(mask)
    index = np.full(z.shape, -1, dtype=np.int32)
    index[rows, cols] = np.arange(rows.size, dtype=np.int32)
    angles = np.empty((rows.size, n_sectors), dtype=np.uint16)
    grid = _Grid(
        z_by_row=np.ascontiguousarray(z, dtype=np.float32).ravel(),
        index_by_row=index.ravel(),
        z_by_col=np.ascontiguousarray(z.T, dtype=np.float32).ravel(),
        index_by_col=np.ascontiguousarray(index.T).ravel(),
        n_rows=int(z.shape[0]),
        n_cols=int(z.shape[1]),
    )
    # Sectors go by blocks through a buffer with one row per sector: a kernel writing a
    # column of ``angles`` would touch a cache line per pixel.
    block = np.empty((_SECTOR_BLOCK, rows.size), dtype=np.uint16)
    for first in range(0, n_sectors, _SECTOR_BLOCK):
        sectors = range(first, min(first + _SECTOR_BLOCK, n_sectors))
        lines = _sector_block(sectors, n_sectors, z.shape, resolution, max_distance)
        # Every stored pixel lies on one line, so its row of ``block`` gets written, except
        # in a sector whose window holds no sample at all.
        block[: len(sectors)][lines.window < 1] = 0
        _sweep_sectors(grid, lines, blend_step, float(observer_height), block)
        angles[:, sectors.start : sectors.stop] = block[: len(sectors)].T
    return Horizons(
        rows=rows.astype(np.int32),
        cols=cols.astype(np.int32),
        angles=angles,
        n_sectors=n_sectors,
        shape=(int(z.shape[0]), int(z.shape[1])),
        resolution=float(resolution),
    )
