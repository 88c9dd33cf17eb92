"""Reference material of the horizon tests: a brute-force oracle and test surfaces.

:func:`horizon_angles_reference` computes what :func:`solar.horizon.horizon_angles` does,
but shares no code with it. It follows the definition in the module docstring of
:mod:`solar.horizon` ("Sampling of a ray") directly, in plain numpy: for each sector, each
requested pixel's own sample is the observer, every sample ``m = 1, 2, ...`` steps further
along its line is looked at, and the largest elevation angle is the horizon. It is slow:
the tests run it on small grids.
"""

from __future__ import annotations

import math

import numpy as np

BLEND_SLOPE_DEG = 65.0
"""Steepest plane blended in every direction by default, as documented: the default largest
step blended across is the step between two neighbouring pixels of such a plane. [°]"""


def _blend_step(resolution: float, max_blend_step: float | None) -> float:
    """The largest height difference blended across, its documented default when None. [m]"""
    if max_blend_step is None:
        return resolution * math.tan(math.radians(BLEND_SLOPE_DEG))
    return max_blend_step


def _reference_heights(
    z_ray: np.ndarray, k: np.ndarray, c0: np.ndarray, t: float, max_blend_step: float
) -> np.ndarray:
    """Samples of the lines ``c0`` at the major indices ``k``, NaN off the grid. [m]

    ``z_ray`` is the grid seen in the ray's frame: ``z_ray[k, u]`` with both indices counted
    in the direction of the ray.
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

    Parameters
    ----------
    elevation : numpy.ndarray
        Surface heights, shape (rows, cols), north up. [m]
    resolution : float
        Pixel size. [m]
    n_sectors : int
        Number of azimuth sectors; sector k looks toward ``k * 360 / n_sectors``.
    rows, cols : numpy.ndarray
        Grid indices of the pixels to compute.
    max_distance : float, optional
        Only samples within this distance along the ray count. [m]
    observer_height : float, default 0
        Height of the observer above the pixel's own sample. [m]
    max_blend_step : float, optional
        Largest height difference between neighbouring pixels blended across; None means
        the step of a plane of :data:`BLEND_SLOPE_DEG`. [m]

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


def random_surface(seed: int, kind: str, shape: tuple[int, int] = (37, 53)) -> np.ndarray:
    """Random test surfaces at 30 m: smooth hills, white noise, or flat ground with tall
    spikes (``kind`` "smooth", "rough" or "spikes"). [m]"""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    if kind == "smooth":
        z = 3 * np.sin(rows / 5.0 + seed) * np.cos(cols / 7.0) + rng.normal(0, 0.05, shape)
    elif kind == "rough":
        z = rng.uniform(0, 8, shape)
    else:
        z = rng.normal(0, 0.1, shape)
        spikes = rng.random(shape) < 0.01
        z[spikes] += rng.uniform(10, 40, spikes.sum())
    return (30.0 + z).astype(np.float32)


def wall_scene(height: float = 10.0) -> tuple[np.ndarray, int]:
    """Flat ground, 100 x 100 pixels, with a one-pixel wall of ``height`` m along row 80;
    returns the heights and the wall's row. [m]"""
    z = np.zeros((100, 100), dtype=np.float32)
    z[80, :] = height
    return z, 80
