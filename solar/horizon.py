"""Horizons over a surface model and the shading quantities derived from them.

The horizon of a pixel toward an azimuth is the highest elevation angle under which the
surface is seen along that azimuth, from an observer standing on the pixel's own surface
height (or ``observer_height`` above it). Once every roof pixel knows its horizon in
``n_sectors`` azimuths, shading needs no shadow casting per hour: the sun at (azimuth,
elevation) reaches a pixel when it stands above the horizon at its azimuth, and the sky view
factors are integrals over the horizon line.

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
being the exact distance between the two crossings. :func:`horizon_angles_reference`
computes exactly this by brute force.

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
splits the tilted plane's view into the sky above the horizontal (isotropic sky, weight
``(1 + cos tilt) / 2``; horizon band) and the ground below it (albedo, weight
``(1 - cos tilt) / 2``). A roof edge looking down on a street sees more ground, not less sky,
and the ground term already counts the ground. So only obstructions above the horizontal
matter, and clipping at 0 keeps each term's geometry separate. It also lets the angles be
stored unsigned.

References
----------
.. [1] J. Dozier and J. Frew, "Rapid calculation of terrain parameters for radiation
   modeling from digital elevation data", IEEE Transactions on Geoscience and Remote
   Sensing 28(5), 963-969, 1990. :doi:`10.1109/36.58986`
.. [2] R. Perez, R. Stewart, C. Arbogast, R. Seals and J. Scott, "An anisotropic hourly
   diffuse radiation model for sloping surfaces: description, performance validation,
   site dependency evaluation", Solar Energy 36(6), 481-497, 1986.
   :doi:`10.1016/0038-092X(86)90013-7`
.. [3] R. Perez, R. Seals, P. Ineichen, R. Stewart and D. Menicucci, "A new simplified
   version of the Perez diffuse irradiance model for tilted surfaces", Solar Energy 39(3),
   221-231, 1987. :doi:`10.1016/S0038-092X(87)80031-2`
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

# Angles are stored as unsigned hundredths of a degree: 0..9000 fits in uint16 with a
# rounding error of 0.005°, twenty times finer than the 0.1° the horizons are held to.
# float16 would be coarser near 90° (spacing 0.0625° above 64°).
ANGLE_SCALE = 100.0

# Width of the horizon brightening band of the original Perez model [2]_; the simplified
# model [3]_ shrinks it to an infinitesimal band at the horizon, whose irradiance on the
# plane is ``F2 * dhi * sin(tilt)``.
HORIZON_BAND_DEG = 6.5

# Steepest plane whose neighbouring pixels are always blended along a ray (see "Sampling of
# a ray"): the default ``max_blend_step`` is ``resolution * tan(BLEND_SLOPE_DEG)``, 1.07 m at
# 0.5 m. roofs.segment_roofs fits faces up to 70°; the bound stays lower so that more of
# the real steps (eaves, parapets) keep out of the blend, at the cost of planes between 65°
# and 70° being blended only in the directions whose step across the minor axis is small.
BLEND_SLOPE_DEG = 65.0

# Sectors per parallel region and per copy into the (n_pixels, n_sectors) array.
_SECTOR_BLOCK = 8

# Pixels per parallel task of pixel_lit_sums: enough to amortise selecting the task's hours.
_TASK_PIXELS = 4096


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


def _sector_lines(
    azimuth: float, shape: tuple[int, int]
) -> tuple[bool, bool, bool, np.ndarray, np.ndarray, float]:
    """The lines of one sector: major axis, mirrorings, minor offsets and fractions, spacing.

    Returns ``(major_is_row, flip_major, flip_minor, offsets, fractions, spacing)``: the ray
    advances by one major index per sample, backward along the axis when ``flip_major``;
    after ``k`` samples it has moved ``k * t = offsets[k] + fractions[k]`` across the minor
    axis, backward when ``flip_minor``, with ``offsets[k] = round(k * t)`` and
    ``fractions[k]`` in [-0.5, 0.5); ``spacing = sqrt(1 + t**2)`` is the distance between
    samples in pixels.
    """
    d_row, d_col = -math.cos(math.radians(azimuth)), math.sin(math.radians(azimuth))
    major_is_row = abs(d_row) >= abs(d_col)
    d_major, d_minor = (d_row, d_col) if major_is_row else (d_col, d_row)
    n_major = shape[0] if major_is_row else shape[1]
    t = abs(d_minor) / abs(d_major)
    exact = np.arange(n_major) * t
    offsets = np.floor(exact + 0.5)
    return (
        major_is_row,
        d_major < 0,
        d_minor < 0,
        offsets.astype(np.int64),
        exact - offsets,
        math.hypot(1.0, t),
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
    built left to right (Andrew's monotone chain) and the tangent from ``i`` is found by
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


@njit(parallel=True, cache=True)
def _sweep_sectors(
    z_by_row: np.ndarray,
    index_by_row: np.ndarray,
    z_by_col: np.ndarray,
    index_by_col: np.ndarray,
    n_rows: int,
    n_cols: int,
    major_is_row: np.ndarray,
    flip_major: np.ndarray,
    flip_minor: np.ndarray,
    offsets: np.ndarray,
    fractions: np.ndarray,
    max_blend_step: float,
    step: np.ndarray,
    window: np.ndarray,
    line_start: np.ndarray,
    lift: float,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Horizons of a few sectors for the stored pixels, one line per parallel task.

    Sector j of the block writes row ``out[j]``, indexed by stored pixel. Its lines are the
    tasks ``line_start[j]:line_start[j + 1]``; one parallel region serves the whole block,
    which spares the threads a meeting per sector. The grid's heights and stored indices
    (-1 where not stored) come in two layouts, flattened from (rows, cols) for the sectors
    whose major axis is the columns and from (cols, rows) for the others, so that a line
    reads memory nearly in order. ``offsets[j]`` and ``fractions[j]`` hold the minor offsets
    and fractions of the sector's lines (see :func:`_sector_lines`); each sample blends the
    pixel at the offset with its neighbour toward the fraction as the module docstring says.
    """
    for task in prange(line_start[-1]):
        j = np.searchsorted(line_start, task, side="right") - 1
        if major_is_row[j]:
            z, index, n_major, n_minor = z_by_col, index_by_col, n_rows, n_cols
        else:
            z, index, n_major, n_minor = z_by_row, index_by_row, n_cols, n_rows
        sector_offsets = offsets[j, :n_major]
        sector_fractions = fractions[j, :n_major]
        # The neighbour one step forward across the minor axis, in the flattened layout.
        forward = -n_major if flip_minor[j] else n_major
        shift = sector_offsets[n_major - 1]
        c0 = task - line_start[j] - shift
        k_lo = np.searchsorted(sector_offsets, -c0)
        k_hi = np.searchsorted(sector_offsets, n_minor - 1 - c0, side="right")
        n = k_hi - k_lo
        zl = np.empty(n)
        stored = np.empty(n, np.int32)
        first = n
        for i in range(n - 1, -1, -1):
            k = k_lo + i
            major = n_major - 1 - k if flip_major[j] else k
            u = c0 + sector_offsets[k]
            minor = n_minor - 1 - u if flip_minor[j] else u
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
            _line_horizons(zl, stored, first, window[j], lift, step[j], out[j])


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
    sampled as the module docstring describes, and the result equals
    :func:`horizon_angles_reference` up to the 0.005° rounding of the storage.

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
    # The grid in both layouts, so that every sector walks its lines along contiguous rows.
    layouts = (
        np.ascontiguousarray(z, dtype=np.float32).ravel(),
        index.ravel(),
        np.ascontiguousarray(z.T, dtype=np.float32).ravel(),
        np.ascontiguousarray(index.T).ravel(),
    )
    # Sectors go by blocks through a buffer with one row per sector: a kernel writing a
    # column of ``angles`` would touch a cache line per pixel.
    block = np.empty((_SECTOR_BLOCK, rows.size), dtype=np.uint16)
    for first in range(0, n_sectors, _SECTOR_BLOCK):
        sectors = range(first, min(first + _SECTOR_BLOCK, n_sectors))
        lines = [_sector_lines(s * 360.0 / n_sectors, z.shape) for s in sectors]
        offsets = np.zeros((len(lines), max(z.shape)), dtype=np.int64)
        fractions = np.zeros((len(lines), max(z.shape)))
        step = np.empty(len(lines))
        window = np.empty(len(lines), dtype=np.int64)
        n_lines = np.empty(len(lines), dtype=np.int64)
        for j, (major_is_row, _, _, sector_offsets, sector_fractions, spacing) in enumerate(lines):
            offsets[j, : sector_offsets.size] = sector_offsets
            fractions[j, : sector_fractions.size] = sector_fractions
            step[j] = resolution * spacing
            window[j] = sector_offsets.size
            if max_distance is not None:
                window[j] = min(window[j], math.floor(max_distance / step[j] + 1e-9))
            # Every stored pixel lies on one line, so its row of ``block`` gets written,
            # except in a sector whose window holds no sample at all.
            n_minor = z.shape[1] if major_is_row else z.shape[0]
            n_lines[j] = (n_minor + sector_offsets[-1]) if window[j] >= 1 else 0
            if window[j] < 1:
                block[j] = 0
        _sweep_sectors(
            *layouts,
            z.shape[0],
            z.shape[1],
            np.array([line[0] for line in lines]),
            np.array([line[1] for line in lines]),
            np.array([line[2] for line in lines]),
            offsets,
            fractions,
            blend_step,
            step,
            window,
            np.concatenate([[0], np.cumsum(n_lines)]),
            float(observer_height),
            block,
        )
        angles[:, sectors.start : sectors.stop] = block[: len(lines)].T
    return Horizons(
        rows=rows.astype(np.int32),
        cols=cols.astype(np.int32),
        angles=angles,
        n_sectors=n_sectors,
        shape=(int(z.shape[0]), int(z.shape[1])),
        resolution=float(resolution),
    )


def _reference_heights(
    z_ray: np.ndarray, k: np.ndarray, c0: np.ndarray, t: float, max_blend_step: float
) -> np.ndarray:
    """Samples of the lines ``c0`` at the major indices ``k``, NaN off the grid. [m]

    ``z_ray`` is the grid seen in the ray's frame: ``z_ray[k, u]`` with both indices counted
    in the direction of the ray. The rule is the module docstring's, written directly.
    """
    n_along, n_across = z_ray.shape
    exact = k * t
    nearest = np.floor(exact + 0.5)
    d = exact - nearest
    u = c0 + nearest.astype(np.int64)
    heights = np.full(k.shape, np.nan)
    inside = (k < n_along) & (u >= 0) & (u < n_across)
    k, u, d = k[inside], u[inside], d[inside]
    near = z_ray[k, u]
    v = u + np.where(d > 0, 1, -1)
    blend = (d != 0) & (v >= 0) & (v < n_across)
    far = z_ray[k, np.clip(v, 0, n_across - 1)]
    blend &= np.abs(far - near) <= max_blend_step
    weight = np.where(blend, np.abs(d), 0.0)
    heights[inside] = (1.0 - weight) * near + weight * far
    return heights


def horizon_angles_reference(
    elevation: np.ndarray,
    resolution: float,
    n_sectors: int,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    max_distance: float | None = None,
    observer_height: float = 0.0,
    max_blend_step: float | None = None,
) -> np.ndarray:
    """Brute-force horizons of a few pixels: the maximum angle over every sample of the ray.

    Slow and plain, for tests: for each sector and each step ``m`` along the ray, it looks
    at the sample ``m`` steps ahead of every requested pixel's own sample, as the module
    docstring defines the samples, and keeps the largest elevation angle.

    Parameters
    ----------
    elevation : numpy.ndarray
        Surface heights, shape (rows, cols), north up. [m]
    resolution : float
        Pixel size. [m]
    n_sectors : int
        Number of azimuth sectors.
    rows, cols : numpy.ndarray
        Grid indices of the pixels to compute.
    max_distance : float, optional
        Only samples within this distance along the ray count. [m]
    observer_height : float, default 0
        Height of the observer above the pixel's own sample. [m]
    max_blend_step : float, optional
        Largest step blended across, as in :func:`horizon_angles`. [m]

    Returns
    -------
    numpy.ndarray
        Horizon angles, float64, shape (n_pixels, n_sectors), clipped below at 0. [°]
    """
    z = np.asarray(elevation, dtype=np.float64)
    blend_step = _blend_step(resolution, max_blend_step)
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    out = np.zeros((rows.size, n_sectors))
    for sector in range(n_sectors):
        azimuth = math.radians(sector * 360.0 / n_sectors)
        d_row, d_col = -math.cos(azimuth), math.sin(azimuth)
        if abs(d_row) >= abs(d_col):
            z_ray, along, across = z, rows, cols
            d_along, d_across = d_row, d_col
        else:
            z_ray, along, across = z.T, cols, rows
            d_along, d_across = d_col, d_row
        t = abs(d_across) / abs(d_along)
        # The grid and the pixels with both axes counted in the ray's direction.
        n_along, n_across = z_ray.shape
        if d_along < 0:
            z_ray, along = z_ray[::-1], n_along - 1 - along
        if d_across < 0:
            z_ray, across = z_ray[:, ::-1], n_across - 1 - across
        c0 = across - np.floor(along * t + 0.5).astype(np.int64)
        z_p = _reference_heights(z_ray, along, c0, t, blend_step) + observer_height
        step = resolution * math.hypot(1.0, t)
        for m in range(1, n_along):
            if max_distance is not None and m * step > max_distance * (1 + 1e-12):
                break
            heights = _reference_heights(z_ray, along + m, c0, t, blend_step)
            inside = ~np.isnan(heights)
            if not inside.any():
                break
            angle = np.degrees(np.arctan((heights[inside] - z_p[inside]) / (m * step)))
            out[inside, sector] = np.maximum(out[inside, sector], angle)
    return out


def _sector_view(
    lower: np.ndarray,
    upper: np.ndarray | float,
    cos_tilt: np.ndarray,
    sin_tilt_cos_rel: np.ndarray,
    width: float,
) -> np.ndarray:
    """π times the view factor from a plane to the sky between two elevations in a sector.

    ``lower`` and ``upper`` in radians (``lower`` is raised to ``upper`` when above it),
    ``sin_tilt_cos_rel = sin(tilt) * cos(sector azimuth - surface_azimuth)``, ``width`` the
    sector's width in radians. See :func:`sky_view` for the derivation.
    """
    lower = np.minimum(lower, upper)
    return width * cos_tilt * (np.sin(upper) ** 2 - np.sin(lower) ** 2) / 2 + 2 * math.sin(
        width / 2
    ) * sin_tilt_cos_rel * ((upper - lower) / 2 + (np.sin(2 * upper) - np.sin(2 * lower)) / 4)


def _plane_geometry(
    n_sectors: int, surface_tilt: np.ndarray | float, surface_azimuth: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per plane and sector: cos(tilt), sin(tilt) cos(relative azimuth), and the elevation
    of the plane's own edge, below which the sky lies behind the plane. [rad]"""
    psi = np.radians(np.arange(n_sectors) * (360.0 / n_sectors))
    beta = np.radians(np.asarray(surface_tilt, dtype=np.float64))[..., None]
    gamma = np.radians(np.asarray(surface_azimuth, dtype=np.float64))[..., None]
    cos_rel = np.cos(psi - gamma)
    # The plane's trace toward azimuth psi rises at atan(-tan(tilt) cos(psi - azimuth)).
    edge = np.arctan(-np.tan(beta) * cos_rel)
    cos_tilt = np.broadcast_to(np.cos(beta), edge.shape)
    return cos_tilt, np.sin(beta) * cos_rel, edge


def sky_view(
    angles_deg: np.ndarray, surface_tilt: np.ndarray | float, surface_azimuth: np.ndarray | float
) -> np.ndarray:
    """Share of a tilted plane's unobstructed isotropic sky view left by its horizon.

    With the plane's unit normal at tilt β and azimuth γ, a sky direction at elevation e and
    azimuth ψ meets it under ``cos θ = cos β sin e + sin β cos e cos(ψ - γ)``. The
    cosine-weighted view factor of a sky region Ω is ``F = (1/π) ∫_Ω max(0, cos θ) dΩ``
    with ``dΩ = cos e de dψ``. In sector k (centre ψ_k, width Δ) the visible sky starts at
    ``L_k = max(h_k, e_k)``: the horizon h_k (≥ 0), or the plane's own edge
    ``e_k = atan(-tan β cos(ψ_k - γ))`` below which the sky lies behind the plane, taken at
    the sector centre. Over elevation, with L fixed,

    ``∫_L^{π/2} cos θ cos e de = cos β cos²L / 2 + sin β cos(ψ - γ) (π/4 - L/2 - sin 2L / 4)``

    and over the sector ``∫ cos(ψ - γ) dψ = 2 sin(Δ/2) cos(ψ_k - γ)``, so that

    ``π F = Σ_k [Δ cos β cos²L_k / 2 + 2 sin(Δ/2) sin β cos(ψ_k - γ)
    (π/4 - L_k/2 - sin(2 L_k)/4)]``.

    The result is F divided by the same sum with no horizon (``L_k = max(0, e_k)``), which
    equals the isotropic ``(1 + cos β) / 2`` within 0.1 % at 72 sectors and makes an
    unobstructed plane exactly 1. Horizontal plane under a uniform horizon a: ``cos² a``.

    Parameters
    ----------
    angles_deg : numpy.ndarray
        Horizon angles, shape (n, n_sectors), sector k toward ``k * 360 / n_sectors``. [°]
    surface_tilt : float or numpy.ndarray
        Tilt of the plane, scalar or shape (n,). [°]
    surface_azimuth : float or numpy.ndarray
        Azimuth the plane faces, clockwise from north, scalar or shape (n,). [°]

    Returns
    -------
    numpy.ndarray
        Shape (n,), in [0, 1]. Multiplies the isotropic diffuse on the plane.
    """
    h = np.radians(np.clip(np.asarray(angles_deg, dtype=np.float64), 0.0, 90.0))
    n_sectors = h.shape[-1]
    width = 2 * math.pi / n_sectors
    cos_tilt, sin_cos, edge = _plane_geometry(n_sectors, surface_tilt, surface_azimuth)
    up = math.pi / 2
    seen = _sector_view(np.maximum(h, edge), up, cos_tilt, sin_cos, width).sum(axis=-1)
    open_sky = _sector_view(np.maximum(0.0, edge), up, cos_tilt, sin_cos, width).sum(axis=-1)
    return seen / open_sky


def horizon_band_open(
    angles_deg: np.ndarray,
    surface_tilt: np.ndarray | float,
    surface_azimuth: np.ndarray | float,
    band_deg: float = HORIZON_BAND_DEG,
) -> np.ndarray:
    """Open share of the horizon brightening band, as the plane sees it.

    The band is the sky between the horizontal and ``band_deg``: 6.5°, the band of the
    original Perez model [2]_, whose simplified successor [3]_ (pvlib's ``perez``) keeps its
    irradiance ``F2 * dhi * sin(tilt)`` but shrinks its width to nothing. The share is the
    band's cosine-weighted view factor above the horizon over the same with no horizon, with
    the closed form of :func:`sky_view` between ``max(h_k, e_k)`` and ``band_deg``. The
    sectors the plane faces weigh most, the sectors behind it nothing.

    Parameters
    ----------
    angles_deg : numpy.ndarray
        Horizon angles, shape (n, n_sectors). [°]
    surface_tilt, surface_azimuth : float or numpy.ndarray
        Orientation of the plane, scalar or shape (n,). [°]
    band_deg : float, default 6.5
        Height of the band above the horizontal. [°]

    Returns
    -------
    numpy.ndarray
        Shape (n,), in [0, 1]; 1 for a plane that sees none of the band (facing down).
        Multiplies the horizon brightening on the plane.
    """
    h = np.radians(np.clip(np.asarray(angles_deg, dtype=np.float64), 0.0, 90.0))
    n_sectors = h.shape[-1]
    width = 2 * math.pi / n_sectors
    top = math.radians(band_deg)
    cos_tilt, sin_cos, edge = _plane_geometry(n_sectors, surface_tilt, surface_azimuth)
    seen = _sector_view(np.maximum(h, edge), top, cos_tilt, sin_cos, width).sum(axis=-1)
    band = _sector_view(np.maximum(0.0, edge), top, cos_tilt, sin_cos, width).sum(axis=-1)
    return np.divide(seen, band, out=np.ones_like(seen), where=band > 0)


@dataclass(frozen=True, eq=False)
class _SunSamples:
    """The hours with the sun up, grouped by the sector pair the sun lies between.

    Within group k (``starts[k]:starts[k + 1]``) the sun's azimuth lies between sectors k
    and k + 1, and the hours are sorted by rising elevation, so that a pixel's shaded hours
    in the group are found among the first ones, up to its higher horizon of the two sectors.
    """

    hour: np.ndarray  # index into the hourly arrays, int64
    azimuth: np.ndarray  # solar azimuth [°]
    elevation: np.ndarray  # solar elevation, in the horizons' unit [0.01°], float64
    fraction: np.ndarray  # position of the azimuth between sector k (0) and k + 1 (1)
    starts: np.ndarray  # group offsets, int64, shape (n_sectors + 1,)


def _sun_samples(
    solar_azimuth: np.ndarray,
    solar_elevation: np.ndarray,
    n_sectors: int,
    hour_mask: np.ndarray | None = None,
) -> _SunSamples:
    azimuth = np.asarray(solar_azimuth, dtype=np.float64)
    elevation = np.asarray(solar_elevation, dtype=np.float64)
    if azimuth.shape != elevation.shape or azimuth.ndim != 1:
        raise ValueError(
            f"solar_azimuth {azimuth.shape} and solar_elevation {elevation.shape} must be "
            "1-D arrays of the same length"
        )
    up = elevation > 0.0
    if hour_mask is not None:
        if np.shape(hour_mask) != up.shape:
            raise ValueError(f"hour_mask must have shape {up.shape}")
        up &= np.asarray(hour_mask, dtype=bool)
    hour = np.flatnonzero(up)
    position = np.mod(azimuth[hour], 360.0) * (n_sectors / 360.0)
    sector = np.floor(position).astype(np.int64) % n_sectors
    fraction = position - np.floor(position)
    order = np.lexsort((elevation[hour], sector))
    starts = np.searchsorted(sector[order], np.arange(n_sectors + 1))
    return _SunSamples(
        hour=hour[order],
        azimuth=azimuth[hour][order],
        elevation=elevation[hour][order] * ANGLE_SCALE,
        fraction=fraction[order],
        starts=starts.astype(np.int64),
    )


@njit(cache=True)
def _shaded_samples(
    angles: np.ndarray,
    starts: np.ndarray,
    elevation: np.ndarray,
    fraction: np.ndarray,
    found: np.ndarray,
) -> int:  # pragma: no cover - numba
    """Write into ``found`` the sun samples one pixel does not see; return their count.

    A sample is seen when the horizon toward the sun's azimuth, interpolated linearly
    between the two neighbouring sectors, lies strictly below the sun's elevation. Samples
    above both sectors' horizons are seen whatever the interpolation, so each group is
    scanned only up to the higher of the two.
    """
    n_sectors = angles.size
    count = 0
    for k in range(n_sectors):
        a0 = float(angles[k])
        a1 = float(angles[(k + 1) % n_sectors])
        higher = max(a0, a1)
        for s in range(starts[k], starts[k + 1]):
            if elevation[s] > higher:
                break
            if a0 + fraction[s] * (a1 - a0) >= elevation[s]:
                found[count] = s
                count += 1
    return count


@njit(cache=True, inline="always")
def _pixel_views(
    angles: np.ndarray,
    table_sin2: np.ndarray,
    table_q: np.ndarray,
    a: float,
    b: np.ndarray,
    edge: np.ndarray,
    edge_sin2: np.ndarray,
    edge_q: np.ndarray,
    band: float,
    band_sin2: float,
    band_q: float,
) -> tuple[float, float]:  # pragma: no cover - numba
    """π times the view factors of the sky and of the band above one pixel's horizon.

    The closed form of :func:`sky_view`, ``a (sin²U - sin²L) + b_k (q(U) - q(L))`` with
    ``q(x) = x/2 + sin(2x)/4``, read from tables indexed by the stored angle, since the
    horizons only take the values 0, 0.01, ..., 90 degrees.
    """
    sky = 0.0
    band_view = 0.0
    for k in range(angles.size):
        h = angles[k]
        if h >= edge[k]:
            s2 = table_sin2[h]
            q = table_q[h]
            lower = h / ANGLE_SCALE
        else:
            s2 = edge_sin2[k]
            q = edge_q[k]
            lower = edge[k] / ANGLE_SCALE
        sky += a * (1.0 - s2) + b[k] * (0.25 * math.pi - q)
        if lower < band:
            band_view += a * (band_sin2 - s2) + b[k] * (band_q - q)
    return sky, band_view


class _ViewTerms:
    """Per plane and sector, the coefficients :func:`_pixel_views` needs, and the
    unobstructed sums that normalise the view factors."""

    def __init__(
        self,
        n_sectors: int,
        surface_tilt: np.ndarray,
        surface_azimuth: np.ndarray,
        band_deg: float,
    ):
        width = 2 * math.pi / n_sectors
        cos_tilt, sin_cos, edge = _plane_geometry(n_sectors, surface_tilt, surface_azimuth)
        self.a = np.ascontiguousarray(width * cos_tilt[:, 0] / 2)
        self.b = np.ascontiguousarray(2 * math.sin(width / 2) * sin_cos)
        self.edge = np.ascontiguousarray(np.degrees(edge) * ANGLE_SCALE)
        self.edge_sin2 = np.ascontiguousarray(np.sin(edge) ** 2)
        self.edge_q = np.ascontiguousarray(edge / 2 + np.sin(2 * edge) / 4)
        top = math.radians(band_deg)
        self.band = band_deg
        self.band_sin2 = math.sin(top) ** 2
        self.band_q = top / 2 + math.sin(2 * top) / 4
        floor = np.maximum(0.0, edge)
        self.open_sky = _sector_view(floor, math.pi / 2, cos_tilt, sin_cos, width).sum(axis=-1)
        self.open_band = _sector_view(floor, top, cos_tilt, sin_cos, width).sum(axis=-1)
        lower = np.radians(np.arange(int(90 * ANGLE_SCALE) + 1) / ANGLE_SCALE)
        self.table_sin2 = np.sin(lower) ** 2
        self.table_q = lower / 2 + np.sin(2 * lower) / 4


def _plane_arrays(
    surface_tilt: np.ndarray | float, surface_azimuth: np.ndarray | float, n: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    tilt = np.broadcast_to(np.asarray(surface_tilt, dtype=np.float64), (n,))
    azimuth = np.broadcast_to(np.asarray(surface_azimuth, dtype=np.float64), (n,))
    if not ((tilt >= 0) & (tilt <= 90)).all():
        raise ValueError(f"surface_tilt of the {name} must lie in [0, 90] degrees")
    return tilt, azimuth


@njit(cache=True)
def _select_samples(
    keep: np.ndarray,
    starts: np.ndarray,
    elevation: np.ndarray,
    fraction: np.ndarray,
    hour: np.ndarray,
    sel_starts: np.ndarray,
    sel_elevation: np.ndarray,
    sel_fraction: np.ndarray,
    sel_hour: np.ndarray,
) -> int:  # pragma: no cover - numba
    """Copy the sun samples where ``keep`` holds into the ``sel_`` buffers, group by group,
    keeping their order; return how many."""
    n = 0
    for k in range(starts.size - 1):
        sel_starts[k] = n
        for s in range(starts[k], starts[k + 1]):
            if keep[s]:
                sel_elevation[n] = elevation[s]
                sel_fraction[n] = fraction[s]
                sel_hour[n] = hour[s]
                n += 1
    sel_starts[starts.size - 1] = n
    return n


@njit(parallel=True, cache=True)
def _face_kernel(
    angles: np.ndarray,
    face_start: np.ndarray,
    face_pixels: np.ndarray,
    normal: np.ndarray,
    starts: np.ndarray,
    elevation: np.ndarray,
    fraction: np.ndarray,
    sun_hour: np.ndarray,
    sun_vector: np.ndarray,
    lit: np.ndarray,
    sky: np.ndarray,
    band_view: np.ndarray,
    table_sin2: np.ndarray,
    table_q: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    edge: np.ndarray,
    edge_sin2: np.ndarray,
    edge_q: np.ndarray,
    band: float,
    band_sin2: float,
    band_q: float,
) -> None:  # pragma: no cover - numba
    """Per face: lit fraction per hour, and summed sky and band views of its pixels.

    Only the hours with the sun in front of the face's plane are tested: behind it the
    face is unlit whatever the horizon, and on a steep face those hours are most of the
    shaded ones. Faces are dealt round-robin to the parallel tasks, so that big and small
    faces mix.
    """
    n_faces = face_start.size - 1
    n_samples = elevation.size
    n_tasks = min(n_faces, 256)
    for task in prange(n_tasks):
        keep = np.empty(n_samples, np.bool_)
        sel_starts = np.empty(starts.size, np.int64)
        sel_elevation = np.empty(n_samples)
        sel_fraction = np.empty(n_samples)
        sel_hour = np.empty(n_samples, np.int64)
        found = np.empty(n_samples, np.int64)
        shaded = np.zeros(lit.shape[1])
        for f in range(task, n_faces, n_tasks):
            for s in range(n_samples):
                keep[s] = (
                    sun_vector[s, 0] * normal[f, 0]
                    + sun_vector[s, 1] * normal[f, 1]
                    + sun_vector[s, 2] * normal[f, 2]
                ) > 0.0
            n_sel = _select_samples(
                keep,
                starts,
                elevation,
                fraction,
                sun_hour,
                sel_starts,
                sel_elevation,
                sel_fraction,
                sel_hour,
            )
            for j in range(face_start[f], face_start[f + 1]):
                row = angles[face_pixels[j]]
                count = _shaded_samples(row, sel_starts, sel_elevation, sel_fraction, found)
                for c in range(count):
                    shaded[sel_hour[found[c]]] += 1.0
                s_view, b_view = _pixel_views(
                    row,
                    table_sin2,
                    table_q,
                    a[f],
                    b[f],
                    edge[f],
                    edge_sin2[f],
                    edge_q[f],
                    band,
                    band_sin2,
                    band_q,
                )
                sky[f] += s_view
                band_view[f] += b_view
            size = face_start[f + 1] - face_start[f]
            for s in range(n_sel):
                hour = sel_hour[s]
                lit[f, hour] = 1.0 - shaded[hour] / size
                shaded[hour] = 0.0


def _unit_vectors(azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """East, north and up components of directions, shape (n, 3). Angles in degrees."""
    az, el = np.radians(azimuth), np.radians(elevation)
    return np.stack([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)], axis=-1)


def face_shading(
    horizons: Horizons,
    face_pixel_index: Sequence[np.ndarray],
    solar_azimuth: np.ndarray,
    solar_elevation: np.ndarray,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    *,
    band_deg: float = HORIZON_BAND_DEG,
    hour_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hourly lit fraction, sky view and open horizon band of each roof face.

    Parameters
    ----------
    horizons : Horizons
        Horizons of the roof pixels.
    face_pixel_index : sequence of numpy.ndarray
        For each face, the indices of its pixels into ``horizons`` (its rows of
        ``horizons.angles``); not empty.
    solar_azimuth : numpy.ndarray
        Sun azimuth per hour, clockwise from north, shape (n_hours,). [°]
    solar_elevation : numpy.ndarray
        Sun elevation per hour (apparent), shape (n_hours,). [°]
    surface_tilt, surface_azimuth : numpy.ndarray
        Orientation of each face, shape (n_faces,). [°]
    band_deg : float, default 6.5
        Height of the horizon brightening band, see :func:`horizon_band_open`. [°]
    hour_mask : numpy.ndarray, optional
        Boolean, shape (n_hours,): the only hours to test, for example the hours with the
        sun up. Not ``dni > 0``: the lit fraction also scales the circumsolar diffuse, which
        Perez gives in hours without beam. All hours when None.

    Returns
    -------
    lit_fraction : numpy.ndarray
        float32, shape (n_faces, n_hours): the share of the face's pixels whose horizon
        toward the sun's azimuth (interpolated linearly between sectors) lies below the
        sun's elevation; 0 when the sun is not above the horizontal, not in front of the
        face's plane (angle of incidence of 90° or more, where the beam on the face is 0
        anyway), or outside ``hour_mask``. Multiplies beam and circumsolar irradiance.
    sky_view : numpy.ndarray
        Shape (n_faces,): the mean over the face's pixels of :func:`sky_view`.
    horizon_band_open : numpy.ndarray
        Shape (n_faces,): the mean over the face's pixels of :func:`horizon_band_open`.
    """
    n_faces = len(face_pixel_index)
    sizes = np.array([np.size(ix) for ix in face_pixel_index], dtype=np.int64)
    if n_faces == 0:
        raise ValueError("face_pixel_index holds no face")
    if (sizes == 0).any():
        raise ValueError(f"face {int(np.argmin(sizes))} has no pixel")
    face_pixels = np.concatenate([np.asarray(ix, dtype=np.int64) for ix in face_pixel_index])
    if face_pixels.min() < 0 or face_pixels.max() >= horizons.n_pixels:
        raise ValueError(f"pixel indices must lie in [0, {horizons.n_pixels})")
    face_start = np.concatenate([[0], np.cumsum(sizes)])
    tilt, azimuth = _plane_arrays(surface_tilt, surface_azimuth, n_faces, "faces")
    sun = _sun_samples(solar_azimuth, solar_elevation, horizons.n_sectors, hour_mask)
    terms = _ViewTerms(horizons.n_sectors, tilt, azimuth, band_deg)
    lit = np.zeros((n_faces, np.size(solar_azimuth)), dtype=np.float32)
    sky = np.zeros(n_faces)
    band_view = np.zeros(n_faces)
    _face_kernel(
        horizons.angles,
        face_start,
        face_pixels,
        _unit_vectors(azimuth, 90.0 - tilt),
        sun.starts,
        sun.elevation,
        sun.fraction,
        sun.hour,
        _unit_vectors(sun.azimuth, sun.elevation / ANGLE_SCALE),
        lit,
        sky,
        band_view,
        terms.table_sin2,
        terms.table_q,
        terms.a,
        terms.b,
        terms.edge,
        terms.edge_sin2,
        terms.edge_q,
        terms.band,
        terms.band_sin2,
        terms.band_q,
    )
    # clip: with no horizon above any sector's plane edge the ratios round to 1 + 2e-16
    sky_view = np.clip(sky / sizes / terms.open_sky, 0.0, 1.0)
    band_open = np.clip(band_view / sizes / terms.open_band, 0.0, 1.0)
    return lit, sky_view, band_open


@njit(parallel=True, cache=True)
def _pixel_view_kernel(
    angles: np.ndarray,
    plane: np.ndarray,
    sky: np.ndarray,
    band_view: np.ndarray,
    table_sin2: np.ndarray,
    table_q: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    edge: np.ndarray,
    edge_sin2: np.ndarray,
    edge_q: np.ndarray,
    band: float,
    band_sin2: float,
    band_q: float,
) -> None:  # pragma: no cover - numba
    for p in prange(plane.size):
        f = plane[p]
        if f < 0:
            sky[p] = np.nan
            band_view[p] = np.nan
            continue
        sky[p], band_view[p] = _pixel_views(
            angles[p],
            table_sin2,
            table_q,
            a[f],
            b[f],
            edge[f],
            edge_sin2[f],
            edge_q[f],
            band,
            band_sin2,
            band_q,
        )


def pixel_sky_view(
    horizons: Horizons,
    pixel_plane: np.ndarray,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    *,
    band_deg: float = HORIZON_BAND_DEG,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sky_view` and :func:`horizon_band_open` of every stored pixel, fast.

    Parameters
    ----------
    horizons : Horizons
        Horizons of the roof pixels.
    pixel_plane : numpy.ndarray
        For each stored pixel, the index of its plane (its face) into ``surface_tilt`` and
        ``surface_azimuth``, or -1 for a pixel on no plane. Shape (n_pixels,).
    surface_tilt, surface_azimuth : numpy.ndarray
        Orientation of each plane, shape (n_planes,). [°]
    band_deg : float, default 6.5
        Height of the horizon brightening band. [°]

    Returns
    -------
    sky_view, horizon_band_open : numpy.ndarray
        Shape (n_pixels,), NaN where ``pixel_plane`` is -1.
    """
    plane = np.asarray(pixel_plane, dtype=np.int64)
    if plane.shape != (horizons.n_pixels,):
        raise ValueError(f"pixel_plane must have shape ({horizons.n_pixels},), got {plane.shape}")
    n_planes = np.size(surface_tilt)
    if plane.max(initial=-1) >= n_planes:
        raise ValueError(f"pixel_plane refers to plane {plane.max()} of {n_planes}")
    tilt, azimuth = _plane_arrays(surface_tilt, surface_azimuth, n_planes, "planes")
    terms = _ViewTerms(horizons.n_sectors, tilt, azimuth, band_deg)
    sky = np.empty(plane.size)
    band_view = np.empty(plane.size)
    _pixel_view_kernel(
        horizons.angles,
        plane,
        sky,
        band_view,
        terms.table_sin2,
        terms.table_q,
        terms.a,
        terms.b,
        terms.edge,
        terms.edge_sin2,
        terms.edge_q,
        terms.band,
        terms.band_sin2,
        terms.band_q,
    )
    on_plane = plane >= 0
    sky[on_plane] /= terms.open_sky[plane[on_plane]]
    band_view[on_plane] /= terms.open_band[plane[on_plane]]
    # clip: ratios of equal sums can round to 1 + 2e-16; NaN (no plane) stays NaN
    return np.clip(sky, 0.0, 1.0), np.clip(band_view, 0.0, 1.0)


@njit(parallel=True, cache=True)
def _lit_sums_kernel(
    angles: np.ndarray,
    task_group: np.ndarray,
    task_start: np.ndarray,
    pixels: np.ndarray,
    weight: np.ndarray,
    month: np.ndarray,
    starts: np.ndarray,
    elevation: np.ndarray,
    fraction: np.ndarray,
    sun_hour: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Lit sums as the group's totals less the weights of the shaded hours.

    A task is a run of pixels of one group; only the hours of non-zero weight are tested
    (with beam weights, the hours of no direct sun and those with the sun behind the face).
    """
    n_tasks = task_group.size
    n_samples = elevation.size
    n_workers = min(n_tasks, 256)
    for worker in prange(n_workers):
        keep = np.empty(n_samples, np.bool_)
        sel_starts = np.empty(starts.size, np.int64)
        sel_elevation = np.empty(n_samples)
        sel_fraction = np.empty(n_samples)
        sel_hour = np.empty(n_samples, np.int64)
        found = np.empty(n_samples, np.int64)
        sel_weight = np.empty(n_samples)
        sel_month = np.empty(n_samples, np.int64)
        total = np.empty(out.shape[1])
        sums = np.empty(out.shape[1])
        for task in range(worker, n_tasks, n_workers):
            g = task_group[task]
            for s in range(n_samples):
                keep[s] = weight[g, sun_hour[s]] != 0.0
            n_sel = _select_samples(
                keep,
                starts,
                elevation,
                fraction,
                sun_hour,
                sel_starts,
                sel_elevation,
                sel_fraction,
                sel_hour,
            )
            total[:] = 0.0
            for s in range(n_sel):
                sel_weight[s] = weight[g, sel_hour[s]]
                sel_month[s] = month[sel_hour[s]]
                total[0] += sel_weight[s]
                total[sel_month[s]] += sel_weight[s]
            for j in range(task_start[task], task_start[task + 1]):
                p = pixels[j]
                sums[:] = total
                count = _shaded_samples(angles[p], sel_starts, sel_elevation, sel_fraction, found)
                for c in range(count):
                    s = found[c]
                    sums[0] -= sel_weight[s]
                    sums[sel_month[s]] -= sel_weight[s]
                out[p, :] = sums


def pixel_lit_sums(
    horizons: Horizons,
    solar_azimuth: np.ndarray,
    solar_elevation: np.ndarray,
    hourly_weight: np.ndarray,
    month_of_hour: np.ndarray,
    pixel_group: np.ndarray | None = None,
) -> np.ndarray:
    """Sum of an hourly weight over the hours each pixel sees the sun, yearly and monthly.

    Built for per-pixel irradiation maps: pass as ``hourly_weight`` the beam and
    circumsolar irradiation on each face, per hour, with no shading [Wh m-2], and as
    ``pixel_group`` the face of each pixel. The result is each pixel's shaded beam
    irradiation. Add the diffuse terms, which do not depend on the hour's sun but on the
    pixel's view (:func:`pixel_sky_view`): ``sky_view * isotropic + band_open * horizon``
    summed over the period, plus the ground-reflected term.

    A pixel sees the sun when the sun is above the horizontal and above the pixel's horizon
    toward it, interpolated between sectors, as in :func:`face_shading`. Hours of zero
    weight are skipped, which with beam weights makes the cost follow the sunny hours in
    front of each face.

    Parameters
    ----------
    horizons : Horizons
        Horizons of the roof pixels.
    solar_azimuth, solar_elevation : numpy.ndarray
        Sun position per hour, shape (n_hours,). [°]
    hourly_weight : numpy.ndarray
        Weight per hour, shape (n_hours,) shared by all pixels, or (n_groups, n_hours)
        with ``pixel_group`` saying which row each pixel uses.
    month_of_hour : numpy.ndarray
        Month of each hour, 1 to 12, shape (n_hours,).
    pixel_group : numpy.ndarray, optional
        Row of ``hourly_weight`` for each stored pixel, -1 for none; shape (n_pixels,).
        Required when ``hourly_weight`` is 2-D.

    Returns
    -------
    numpy.ndarray
        float64, shape (n_pixels, 13): column 0 sums over the year, columns 1 to 12 over
        each month. NaN rows where ``pixel_group`` is -1.
    """
    weight = np.asarray(hourly_weight, dtype=np.float64)
    n_hours = np.size(solar_azimuth)
    if weight.ndim == 1:
        weight = weight[None, :]
        group = np.zeros(horizons.n_pixels, dtype=np.int64)
    elif pixel_group is None:
        raise ValueError("pixel_group is required with a 2-D hourly_weight")
    else:
        group = np.asarray(pixel_group, dtype=np.int64)
    if weight.shape[1] != n_hours:
        raise ValueError(f"hourly_weight has {weight.shape[1]} hours, the sun {n_hours}")
    if group.shape != (horizons.n_pixels,) or group.max(initial=-1) >= weight.shape[0]:
        raise ValueError(
            f"pixel_group must have shape ({horizons.n_pixels},) and index rows of "
            f"hourly_weight (0 to {weight.shape[0] - 1}, or -1)"
        )
    month = np.asarray(month_of_hour, dtype=np.int64)
    if month.shape != (n_hours,) or month.min() < 1 or month.max() > 12:
        raise ValueError("month_of_hour must hold one month, 1 to 12, per hour")
    sun = _sun_samples(solar_azimuth, solar_elevation, horizons.n_sectors)
    # Tasks: runs of at most _TASK_PIXELS pixels of one group, so that one shared weight
    # row still spreads over the cores.
    pixels = np.flatnonzero(group >= 0)
    pixels = pixels[np.argsort(group[pixels], kind="stable")]
    group_of = group[pixels]
    new_task = np.ones(pixels.size, dtype=bool)
    new_task[1:] = group_of[1:] != group_of[:-1]
    run_start = np.flatnonzero(new_task)
    position = np.arange(pixels.size) - np.repeat(run_start, np.diff([*run_start, pixels.size]))
    new_task |= position % _TASK_PIXELS == 0
    task_start = np.append(np.flatnonzero(new_task), pixels.size)
    out = np.full((horizons.n_pixels, 13), np.nan)
    _lit_sums_kernel(
        horizons.angles,
        group_of[task_start[:-1]],
        task_start,
        pixels,
        np.ascontiguousarray(weight),
        month,
        sun.starts,
        sun.elevation,
        sun.fraction,
        sun.hour,
        out,
    )
    return out
