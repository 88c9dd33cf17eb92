"""Horizons over a surface model and the shading quantities derived from them.

The horizon of a pixel toward an azimuth is the highest elevation angle under which the
surface is seen along that azimuth, from an observer standing on the pixel's own surface
height. Once every roof pixel knows its horizon in ``n_sectors`` azimuths, shading needs no
shadow casting per hour: the sun at (azimuth, elevation) reaches a pixel when it stands above
the horizon at its azimuth, and the sky view factors are integrals over the horizon line.

Sampling of a ray
-----------------
Sector ``k`` looks toward the azimuth ``k * 360 / n_sectors`` degrees, clockwise from north,
on a north-up grid (row 0 is north). Of the two grid axes, the *major* one is the axis the
direction is closer to (rows for azimuths within 45° of north or south). The rays of one
sector are digital lines, all translates of one another so that every pixel lies on exactly
one of them: the line holds one sample per major index ``k`` (counted along the direction of
the ray), at the minor index ``c0 + round(k * t)``, where ``t = |tan|`` of the angle between
the direction and the major axis (``0 <= t <= 1``) and ``round(x) = floor(x + 0.5)``. The
horizon of a pixel is the maximum of ``atan(dz / (m * resolution * sqrt(1 + t**2)))`` over the
samples ``m = 1, 2, ...`` that follow it on its line: the exact distance along a line of the
sector's azimuth that passes within half a pixel of the pixel's centre, with the surface
sampled at the nearest pixel (nearest-neighbour interpolation) at each crossing of the major
axis. :func:`horizon_angles_reference` computes exactly this by brute force.

Why the distance is taken along the line rather than between pixel centres: the upper-hull
sweep needs distances that add up along the line (``d(p, r) = d(p, q) + d(q, r)``), which the
Euclidean distances between the staircase's pixel centres do not; the two differ by less
than half a pixel, the lateral offset of a sample from the exact line.

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


def _sector_lines(azimuth: float, shape: tuple[int, int]) -> tuple[bool, bool, bool, np.ndarray]:
    """The digital lines of one sector: major axis, mirrorings and minor offsets.

    Returns ``(major_is_row, flip_major, flip_minor, offsets)``: the ray advances by one
    major index per sample, backward along the axis when ``flip_major``; ``offsets[k]`` is
    ``round(k * t)``, the minor displacement after ``k`` samples, backward along the minor
    axis when ``flip_minor``.
    """
    d_row, d_col = -math.cos(math.radians(azimuth)), math.sin(math.radians(azimuth))
    major_is_row = abs(d_row) >= abs(d_col)
    d_major, d_minor = (d_row, d_col) if major_is_row else (d_col, d_row)
    n_major = shape[0] if major_is_row else shape[1]
    t = abs(d_minor) / abs(d_major)
    offsets = np.floor(np.arange(n_major) * t + 0.5).astype(np.int64)
    return major_is_row, d_major < 0, d_minor < 0, offsets


@njit(cache=True)
def _line_max_slope(z: np.ndarray, window: int) -> np.ndarray:  # pragma: no cover - numba
    """Largest rise per sample, ``max((z[j] - z[i]) / (j - i))`` over ``i < j <= i + window``.

    Clipped below at 0. Exact, in O(n) when ``window >= n`` and O(n log window) otherwise.

    Pass 1 walks the line backward and keeps the upper convex hull of the points ahead as a
    stack (nearest on top): the hull vertex that follows a new point on the hull is the one
    it sees under the largest slope (Dozier and Frew [1]_). With a window the line is cut
    into blocks of ``window`` samples and the stack restarts at each block end, so pass 1
    covers the rest of a point's own block. Pass 2 covers the start of the next block, up to
    ``i + window``: that prefix grows by one point as ``i`` advances, so its upper hull is
    built left to right (Andrew's monotone chain) and the tangent from ``i`` is found by
    binary search, the slope to the hull vertices being unimodal.
    """
    n = z.size
    best = np.zeros(n)
    stack = np.empty(min(n, window), np.int64)
    top = -1
    for i in range(n - 1, -1, -1):
        if i == n - 1 or (i + 1) % window == 0:
            top = -1
        zi = z[i]
        # Drop the top vertex while it lies on or below the chord from i to the next one.
        while top >= 1:
            a = stack[top]
            b = stack[top - 1]
            if (z[b] - zi) * (a - i) >= (z[a] - zi) * (b - i):
                top -= 1
            else:
                break
        if top >= 0:
            a = stack[top]
            slope = (z[a] - zi) / (a - i)
            if slope > 0.0:
                best[i] = slope
        top += 1
        stack[top] = i
    if window < n:
        hull = np.empty(window, np.int64)
        for start in range(0, n, window):
            h = 0
            for i in range(start, min(start + window, n)):
                q = i + window
                if q < n:
                    zq = z[q]
                    while h >= 2:
                        a = hull[h - 2]
                        b = hull[h - 1]
                        if (z[b] - z[a]) * (q - a) <= (zq - z[a]) * (b - a):
                            h -= 1
                        else:
                            break
                    hull[h] = q
                    h += 1
                if h == 0:
                    break
                zi = z[i]
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
                slope = (z[v] - zi) / (v - i)
                if slope > best[i]:
                    best[i] = slope
    return best


@njit(parallel=True, cache=True)
def _sweep_sector(
    z: np.ndarray,
    n_rows: int,
    n_cols: int,
    index: np.ndarray,
    out: np.ndarray,
    sector: int,
    major_is_row: bool,
    flip_major: bool,
    flip_minor: bool,
    offsets: np.ndarray,
    step: float,
    window: int,
) -> None:  # pragma: no cover - numba
    """Horizons of one sector for the stored pixels, one digital line per parallel task."""
    n_major = n_rows if major_is_row else n_cols
    n_minor = n_cols if major_is_row else n_rows
    shift = offsets[n_major - 1]
    for line in prange(n_minor + shift):
        c0 = line - shift
        k_lo = np.searchsorted(offsets, -c0)
        k_hi = np.searchsorted(offsets, n_minor - 1 - c0, side="right")
        n = k_hi - k_lo
        pixels = np.empty(n, np.int64)
        stored = False
        for i in range(n):
            k = k_lo + i
            major = n_major - 1 - k if flip_major else k
            minor = c0 + offsets[k]
            if flip_minor:
                minor = n_minor - 1 - minor
            p = major * n_cols + minor if major_is_row else minor * n_cols + major
            pixels[i] = p
            stored = stored or index[p] >= 0
        if not stored:
            continue
        zl = np.empty(n)
        for i in range(n):
            zl[i] = z[pixels[i]]
        best = _line_max_slope(zl, window)
        for i in range(n):
            idx = index[pixels[i]]
            if idx >= 0:
                angle = math.degrees(math.atan(best[i] / step))
                out[idx, sector] = np.uint16(angle * ANGLE_SCALE + 0.5)


def horizon_angles(
    elevation: np.ndarray,
    resolution: float,
    *,
    n_sectors: int = 72,
    mask: np.ndarray | None = None,
    max_distance: float | None = None,
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
    if mask is None:
        mask = np.ones(z.shape, dtype=bool)
    elif mask.shape != z.shape:
        raise ValueError(f"mask shape {mask.shape} differs from elevation shape {z.shape}")
    rows, cols = np.nonzero(mask)
    index = np.full(z.size, -1, dtype=np.int64)
    index[rows * z.shape[1] + cols] = np.arange(rows.size)
    angles = np.zeros((rows.size, n_sectors), dtype=np.uint16)
    z_flat = np.ascontiguousarray(z, dtype=np.float64).ravel()
    for sector in range(n_sectors):
        azimuth = sector * 360.0 / n_sectors
        major_is_row, flip_major, flip_minor, offsets = _sector_lines(azimuth, z.shape)
        spacing = _sample_spacing(azimuth)
        n_major = offsets.size
        window = n_major
        if max_distance is not None:
            window = min(n_major, int(math.floor(max_distance / (resolution * spacing) + 1e-9)))
        if window < 1:
            continue
        _sweep_sector(
            z_flat,
            z.shape[0],
            z.shape[1],
            index,
            angles,
            sector,
            major_is_row,
            flip_major,
            flip_minor,
            offsets,
            resolution * spacing,
            window,
        )
    return Horizons(
        rows=rows.astype(np.int32),
        cols=cols.astype(np.int32),
        angles=angles,
        n_sectors=n_sectors,
        shape=(int(z.shape[0]), int(z.shape[1])),
        resolution=float(resolution),
    )


def _sample_spacing(azimuth: float) -> float:
    """Distance between successive samples of a ray, in pixels: ``sqrt(1 + t**2)``."""
    d_row, d_col = abs(math.cos(math.radians(azimuth))), abs(math.sin(math.radians(azimuth)))
    return math.hypot(1.0, min(d_row, d_col) / max(d_row, d_col))


def horizon_angles_reference(
    elevation: np.ndarray,
    resolution: float,
    n_sectors: int,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    max_distance: float | None = None,
) -> np.ndarray:
    """Brute-force horizons of a few pixels: the maximum angle over every sample of the ray.

    Slow and plain, for tests: for each sector and each step ``m`` along the ray, it looks
    at the sample ``m`` steps ahead of every requested pixel, as the module docstring
    defines the samples, and keeps the largest elevation angle.

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

    Returns
    -------
    numpy.ndarray
        Horizon angles, float64, shape (n_pixels, n_sectors), clipped below at 0. [°]
    """
    z = np.asarray(elevation, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    out = np.zeros((rows.size, n_sectors))
    z_p = z[rows, cols]
    for sector in range(n_sectors):
        azimuth = math.radians(sector * 360.0 / n_sectors)
        d_row, d_col = -math.cos(azimuth), math.sin(azimuth)
        if abs(d_row) >= abs(d_col):
            along, across, n_along, n_across = rows, cols, z.shape[0], z.shape[1]
            d_along, d_across = d_row, d_col
        else:
            along, across, n_along, n_across = cols, rows, z.shape[1], z.shape[0]
            d_along, d_across = d_col, d_row
        t = abs(d_across) / abs(d_along)
        # Coordinates counted in the ray's direction on both axes.
        k_p = along if d_along > 0 else n_along - 1 - along
        u_p = across if d_across >= 0 else n_across - 1 - across
        c0 = u_p - np.floor(k_p * t + 0.5).astype(np.int64)
        step = resolution * math.hypot(1.0, t)
        for m in range(1, n_along):
            if max_distance is not None and m * step > max_distance * (1 + 1e-12):
                break
            k = k_p + m
            u = c0 + np.floor(k * t + 0.5).astype(np.int64)
            inside = (k < n_along) & (u >= 0) & (u < n_across)
            if not inside.any():
                break
            k, u = k[inside], u[inside]
            a = k if d_along > 0 else n_along - 1 - k
            b = u if d_across >= 0 else n_across - 1 - u
            r, c = (a, b) if abs(d_row) >= abs(d_col) else (b, a)
            angle = np.degrees(np.arctan((z[r, c] - z_p[inside]) / (m * step)))
            out[inside, sector] = np.maximum(out[inside, sector], angle)
    return out
