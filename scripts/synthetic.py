"""Seeded synthetic urban districts: surface models with their building footprints.

Shared by the benchmarks (``bench_shading.py``, ``bench_build.py``). Two districts:

- :func:`synthetic_district` mimics a mixed mining-basin town of the Artois: a street grid
  whose blocks hold terraced houses with gable roofs (the corons), detached houses with
  gable or hip roofs in gardens, flat-roofed apartment blocks, a few towers, and street and
  garden trees (about 225 buildings per km²).
- :func:`corons_district` is the dense case: nothing but corons, rows of two-storey
  terraced houses along the streets, back to back across their gardens, with garden
  trees and 3 cm of LiDAR-like noise (about 3,900 houses per km²).

The ground undulates gently under both.

Frame: x to the east, y to the north, in metres, origin at the south-west corner. The grid
is north up: row 0 is the northern edge, pixel (row, col) covers
``x in [col, col + 1) * resolution`` and ``y in [size_m - (row + 1) * resolution,
size_m - row * resolution)``. :func:`synthetic_surface` and :func:`corons_surface` place
a district in Lambert-93 (EPSG:2154), as a :class:`solar.surface.Surface` with its
footprints, ready to build.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import Polygon

if TYPE_CHECKING:
    from solar.footprints import Footprint
    from solar.surface import Surface

GROUND_M = 35.0  # typical ground height of the Lens basin above the IGN69 datum [m]
DSM_NOISE_M = 0.02  # vertical noise of an IGN LiDAR HD DSM on hard surfaces [m]
# South-west corner of the district in Lambert-93: the mining basin, near Lens. [m]
LAMBERT93_ORIGIN = (685000.0, 7031000.0)


def synthetic_district(
    seed: int = 0, size_m: float = 1000.0, resolution: float = 0.5
) -> tuple[np.ndarray, list[Polygon]]:
    """Generate a district's surface model and the footprints of its buildings.

    Parameters
    ----------
    seed : int, default 0
        Seed of the random generator; the same seed gives the same district.
    size_m : float, default 1000
        Side of the square district. [m]
    resolution : float, default 0.5
        Pixel size. [m]

    Returns
    -------
    elevation : numpy.ndarray
        Surface heights, float32, shape (n, n) with ``n = round(size_m / resolution)``,
        north up. [m]
    footprints : list of shapely.Polygon
        One rectangle per building, in the local frame described in the module docstring.
        Trees have none.
    """
    rng = np.random.default_rng(seed)
    n = round(size_m / resolution)
    x, y, z = _terrain(rng, n, size_m, resolution)
    ground = z.copy()
    footprints: list[Polygon] = []

    def ground_at(px: float, py: float) -> float:
        col = min(max(int(px / resolution), 0), n - 1)
        row = min(max(int((size_m - py) / resolution), 0), n - 1)
        return float(ground[row, col])

    def window(x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
        c0, c1 = max(int(x0 / resolution), 0), min(math.ceil(x1 / resolution), n)
        r0 = max(int((size_m - y1) / resolution), 0)
        r1 = min(math.ceil((size_m - y0) / resolution), n)
        return slice(r0, r1), slice(c0, c1)

    def building(
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        eave: float,
        roof: str,
        pitch_deg: float,
        ridge_along_x: bool | None = None,
    ) -> None:
        """Raise a rectangular building; a gable ridge runs along the longer side unless
        ``ridge_along_x`` says otherwise."""
        rows, cols = window(x0, y0, x1, y1)
        if rows.start >= rows.stop or cols.start >= cols.stop:
            return
        px = x[:, cols]
        py = y[rows, :]
        inside = (px >= x0) & (px < x1) & (py >= y0) & (py < y1)
        base = ground_at((x0 + x1) / 2, (y0 + y1) / 2)
        half_x, half_y = (x1 - x0) / 2, (y1 - y0) / 2
        dx = half_x - np.abs(px - (x0 + x1) / 2)
        dy = half_y - np.abs(py - (y0 + y1) / 2)
        rise = math.tan(math.radians(pitch_deg))
        if roof == "gable":
            along_x = half_x >= half_y if ridge_along_x is None else ridge_along_x
            height = eave + (dy if along_x else dx) * rise
        elif roof == "hip":
            height = eave + np.minimum(dx, dy) * rise
        else:
            # Flat roof with a 0.6 m parapet on its outer 0.5 m.
            height = eave + 0.6 * (np.minimum(dx, dy) < 0.5)
        roof_z = (base + height).astype(np.float32)
        zone = z[rows, cols]
        z[rows, cols] = np.where(inside, np.maximum(zone, roof_z), zone)
        footprints.append(shapely.box(x0, y0, x1, y1))
        if roof in ("gable", "hip") and rng.random() < 0.4:
            # A chimney near the middle, 1 m above the highest roof point around it.
            cx = (x0 + x1) / 2 + rng.uniform(-0.3, 0.3) * (x1 - x0)
            cy = (y0 + y1) / 2 + rng.uniform(-0.3, 0.3) * (y1 - y0)
            crows, ccols = window(cx - 0.4, cy - 0.4, cx + 0.4, cy + 0.4)
            z[crows, ccols] = z[crows, ccols].max() + 1.0

    def tree(cx: float, cy: float) -> None:
        """A crown as the cap of an ellipsoid over a trunk."""
        radius = rng.uniform(2.5, 6.0)
        top = rng.uniform(8.0, 18.0)
        rows, cols = window(cx - radius, cy - radius, cx + radius, cy + radius)
        if rows.start >= rows.stop or cols.start >= cols.stop:
            return
        r2 = ((x[:, cols] - cx) ** 2 + (y[rows, :] - cy) ** 2) / radius**2
        depth = 0.6 * top
        crown = ground_at(cx, cy) + top - depth * (1 - np.sqrt(np.clip(1 - r2, 0, 1)))
        z[rows, cols] = np.where(r2 < 1, np.maximum(z[rows, cols], crown), z[rows, cols])

    def terraced_row(
        x0: float, y0: float, x1: float, y1: float, along_x: bool, far_side: bool
    ) -> None:
        """Corons: a row of narrow houses sharing walls, ridges along the street.

        The row runs along x (or y) and hugs the block's y0 (or x0) edge, or its y1 (or
        x1) edge when ``far_side``.
        """
        depth = rng.uniform(8.0, 11.0)
        eave = rng.uniform(5.0, 7.0)
        pitch = rng.uniform(30.0, 45.0)
        start, stop = (x0, x1) if along_x else (y0, y1)
        pos = start
        while pos + 5.0 <= stop:
            end = min(pos + rng.uniform(5.0, 8.0), stop)
            if along_x:
                r0 = y1 - depth if far_side else y0
                building(pos, r0, end, r0 + depth, eave, "gable", pitch, ridge_along_x=True)
            else:
                c0 = x1 - depth if far_side else x0
                building(c0, pos, c0 + depth, end, eave, "gable", pitch, ridge_along_x=False)
            # Now and then a passage between two houses.
            pos = end + (rng.uniform(2.0, 4.0) if rng.random() < 0.1 else 0.0)

    # Street grid: blocks of 60-120 m between streets of 10-18 m.
    edges_x = _street_edges(rng, size_m)
    edges_y = _street_edges(rng, size_m)
    for bx0, bx1 in edges_x:
        for by0, by1 in edges_y:
            kind = rng.choice(
                ["terraced", "detached", "apartments", "tower", "park"],
                p=[0.35, 0.35, 0.18, 0.04, 0.08],
            )
            if kind == "terraced":
                terraced_row(bx0, by0, bx1, by1, along_x=True, far_side=False)
                terraced_row(bx0, by0, bx1, by1, along_x=True, far_side=True)
                # Side rows stop short of the corner houses of the long rows.
                terraced_row(bx0, by0 + 12.0, bx1, by1 - 12.0, along_x=False, far_side=False)
                terraced_row(bx0, by0 + 12.0, bx1, by1 - 12.0, along_x=False, far_side=True)
                for _ in range(int((bx1 - bx0) * (by1 - by0) / 600)):
                    tree(rng.uniform(bx0, bx1), rng.uniform(by0 + 14.0, by1 - 14.0))
            elif kind == "detached":
                step_x, step_y = rng.uniform(16.0, 24.0), rng.uniform(20.0, 28.0)
                for hx in np.arange(bx0 + 2.0, bx1 - 10.0, step_x):
                    for hy in np.arange(by0 + 2.0, by1 - 10.0, step_y):
                        w, d = rng.uniform(8.0, 12.0), rng.uniform(8.0, 13.0)
                        roof = "hip" if rng.random() < 0.3 else "gable"
                        building(
                            hx,
                            hy,
                            min(hx + w, bx1),
                            min(hy + d, by1),
                            rng.uniform(3.0, 6.5),
                            roof,
                            rng.uniform(25.0, 45.0),
                        )
                        if rng.random() < 0.5:
                            tree(hx + w + rng.uniform(1.0, 4.0), hy + rng.uniform(0.0, d))
            elif kind == "apartments":
                depth = rng.uniform(12.0, 16.0)
                for ay in np.arange(by0 + 3.0, by1 - depth, depth + rng.uniform(15.0, 25.0)):
                    roof = "flat" if rng.random() < 0.7 else "hip"
                    building(
                        bx0 + 3.0,
                        ay,
                        bx1 - 3.0,
                        ay + depth,
                        rng.uniform(9.0, 18.0),
                        roof,
                        rng.uniform(20.0, 30.0),
                    )
            elif kind == "tower":
                side = rng.uniform(18.0, 26.0)
                cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
                building(
                    cx - side / 2,
                    cy - side / 2,
                    cx + side / 2,
                    cy + side / 2,
                    rng.uniform(35.0, 60.0),
                    "flat",
                    0.0,
                )
            else:
                for _ in range(int((bx1 - bx0) * (by1 - by0) / 150)):
                    tree(rng.uniform(bx0, bx1), rng.uniform(by0, by1))
    # Street trees down the middle of the east-west streets.
    for (_, y_end), (y_next, _) in itertools.pairwise(edges_y):
        for tx in np.arange(rng.uniform(0.0, 12.0), size_m, rng.uniform(10.0, 16.0)):
            if rng.random() < 0.6:
                tree(tx, (y_end + y_next) / 2)
    z += rng.normal(0.0, DSM_NOISE_M, z.shape).astype(np.float32)
    return z, footprints


def synthetic_surface(
    seed: int = 0,
    size_m: float = 1000.0,
    resolution: float = 0.5,
    origin: tuple[float, float] = LAMBERT93_ORIGIN,
) -> tuple[Surface, list[Footprint]]:
    """The district of :func:`synthetic_district`, placed in Lambert-93 near Lens.

    Parameters
    ----------
    seed : int, default 0
        Seed of the random generator; the same seed gives the same district.
    size_m : float, default 1000
        Side of the square district. [m]
    resolution : float, default 0.5
        Pixel size. [m]
    origin : tuple of float, default ``LAMBERT93_ORIGIN``
        (x, y) of the district's south-west corner in EPSG:2154. [m]

    Returns
    -------
    surface : solar.surface.Surface
        The surface model in EPSG:2154, its south-west corner at ``origin``; no LAS
        classes, as from a DSM GeoTIFF.
    footprints : list of solar.footprints.Footprint
        One per building, ids ``b0``, ``b1``, … in the district's order, in EPSG:2154.
    """
    elevation, polygons = synthetic_district(seed, size_m, resolution)
    source = f"synthetic_district(seed={seed}, size_m={size_m}, resolution={resolution})"
    return _in_lambert93(elevation, polygons, resolution, origin, source, "b")


CORONS_NOISE_M = 0.03
"""Vertical noise of the dense corons district: LiDAR HD's 2-3 cm on hard surfaces, at its
upper end. [m]"""


def corons_district(
    seed: int = 0, size_m: float = 1000.0, resolution: float = 0.5
) -> tuple[np.ndarray, list[Polygon]]:
    """Generate a dense district of corons: its surface model and its houses' footprints.

    The district is cut into four quarters; in two of them the rows run east-west (roof
    faces to the north and south), in the other two north-south (faces to the east and
    west). In a quarter, blocks of about 75 m lie between parallel streets of 9-12 m, cut
    every 90-140 m by cross streets of 8-12 m. A block holds two rows of houses back to
    back: each row along its street, its 17-23 m back gardens meeting those of the other
    row. A row is a run of terraces (barreaux) of 4-10 houses, 5-6.8 m wide and 8.5-10 m
    deep, separated by passages of 1.5-3 m; the houses of a terrace share one gable roof,
    ridge along the row, eaves at 5.2-6.2 m (two storeys) and a 35-45° pitch, and half of
    them have a chimney on a party wall. Every footprint is one house, as BD TOPO draws
    them; trees, a crown in about half of the gardens, have none.

    Parameters
    ----------
    seed : int, default 0
        Seed of the random generator; the same seed gives the same district.
    size_m : float, default 1000
        Side of the square district: about 3,900 houses per km². [m]
    resolution : float, default 0.5
        Pixel size. [m]

    Returns
    -------
    elevation : numpy.ndarray
        Surface heights, float32, shape (n, n) with ``n = round(size_m / resolution)``,
        north up, with gaussian noise of :data:`CORONS_NOISE_M`. [m]
    footprints : list of shapely.Polygon
        One rectangle per house, in the local frame of the module docstring.

    Examples
    --------
    >>> elevation, houses = corons_district(seed=1, size_m=200.0)
    >>> elevation.shape, 100 < len(houses) < 220
    ((400, 400), True)
    """
    rng = np.random.default_rng(seed)
    n = round(size_m / resolution)
    x, y, z = _terrain(rng, n, size_m, resolution)
    ground = z.copy()
    footprints: list[Polygon] = []
    trees: list[tuple[float, float]] = []
    half = size_m / 2
    quarters = [(0.0, 0.0, half, half), (half, 0.0, size_m, half)]
    quarters += [(0.0, half, half, size_m), (half, half, size_m, size_m)]
    for k, (qx0, qy0, qx1, qy1) in enumerate(quarters):
        # Rows along x in the south-west and north-east quarters, along y in the others.
        along_x = k in (0, 3)
        span_along = (qx0, qx1) if along_x else (qy0, qy1)
        span_across = (qy0, qy1) if along_x else (qx0, qx1)
        for a0, a1, c0, depth in _coron_rows(rng, span_along, span_across):
            trees += _coron_row(
                rng, z, ground, (x, y), footprints, (a0, a1), c0, depth, along_x, size_m
            )
    # Crowns after the houses: a tree over a garden wall hangs over nothing lower.
    for cx, cy in trees:
        _crown(rng, z, ground, x, y, cx, cy, size_m)
    z += rng.normal(0.0, CORONS_NOISE_M, z.shape).astype(np.float32)
    return z, footprints


def corons_surface(
    seed: int = 0,
    size_m: float = 1000.0,
    resolution: float = 0.5,
    origin: tuple[float, float] = LAMBERT93_ORIGIN,
) -> tuple[Surface, list[Footprint]]:
    """The district of :func:`corons_district`, placed in Lambert-93 as
    :func:`synthetic_surface` places its own (same parameters, same returns); footprint ids
    ``c0``, ``c1``, … in the district's order, one per house."""
    elevation, polygons = corons_district(seed, size_m, resolution)
    source = f"corons_district(seed={seed}, size_m={size_m}, resolution={resolution})"
    return _in_lambert93(elevation, polygons, resolution, origin, source, "c")


def _in_lambert93(
    elevation: np.ndarray,
    polygons: list[Polygon],
    resolution: float,
    origin: tuple[float, float],
    source: str,
    id_prefix: str,
) -> tuple[Surface, list[Footprint]]:
    """A district of the local frame as a Lambert-93 surface and footprints."""
    # Imported here: the benchmarks' parent processes import this module, and a child's
    # ru_maxrss starts at its parent's peak, so they stay light (about 140 MB less).
    from affine import Affine
    from rasterio.crs import CRS

    from solar.footprints import Footprint
    from solar.surface import Surface

    x0, y0 = origin
    size_m = elevation.shape[0] * resolution
    surface = Surface(
        elevation=elevation,
        transform=Affine(resolution, 0.0, x0, 0.0, -resolution, y0 + size_m),
        crs=CRS.from_epsg(2154),
        sources=(source,),
    )
    footprints = [
        Footprint(f"{id_prefix}{i}", shapely.affinity.translate(p, x0, y0))
        for i, p in enumerate(polygons)
    ]
    return surface, footprints


def _terrain(
    rng: np.random.Generator, n: int, size_m: float, resolution: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (x as a row, y as a column) and the bare ground. [m]"""
    centres = (np.arange(n) + 0.5) * resolution
    x = centres[None, :]
    y = size_m - centres[:, None]
    # A gentle tilt and long waves, as on the chalk plateau: a few metres over a kilometre.
    wave_x = np.sin(2 * math.pi * x / 730.0 + rng.uniform(0, 2 * math.pi))
    wave_y = np.cos(2 * math.pi * y / 910.0 + rng.uniform(0, 2 * math.pi))
    z = (GROUND_M + 0.004 * x + 0.002 * y + 1.2 * wave_x * wave_y).astype(np.float32)
    return x, y, z


def _window(
    shape: tuple[int, ...], size_m: float, x0: float, y0: float, x1: float, y1: float
) -> tuple[slice, slice]:
    """Rows and columns of the grid covering the box [x0, x1] × [y0, y1], clipped."""
    resolution = size_m / shape[1]
    c0, c1 = max(int(x0 / resolution), 0), min(math.ceil(x1 / resolution), shape[1])
    r0 = max(int((size_m - y1) / resolution), 0)
    r1 = min(math.ceil((size_m - y0) / resolution), shape[0])
    return slice(r0, r1), slice(c0, c1)


def _coron_rows(
    rng: np.random.Generator, span_along: tuple[float, float], span_across: tuple[float, float]
) -> list[tuple[float, float, float, float]]:
    """The rows of houses of a quarter: (start, stop along, front edge across, depth).

    ``depth`` is negative for a row whose front lies on its block's far street: the houses
    then reach back from ``front`` towards smaller coordinates.
    """
    segments = []
    pos = span_along[0] + rng.uniform(4.0, 6.0)
    while pos + 30.0 <= span_along[1]:
        stop = min(pos + rng.uniform(90.0, 140.0), span_along[1] - 4.0)
        segments.append((pos, stop))
        pos = stop + rng.uniform(8.0, 12.0)
    rows = []
    across = span_across[0] + rng.uniform(4.5, 6.0)  # half a street on the quarter's edge
    while True:
        near_depth, far_depth = rng.uniform(8.5, 10.0, 2)
        gardens = rng.uniform(17.0, 23.0, 2).sum()
        far_front = across + near_depth + gardens + far_depth
        if far_front + 4.5 > span_across[1]:
            break
        for a0, a1 in segments:
            rows.append((a0, a1, across, near_depth))
            rows.append((a0, a1, far_front, -far_depth))
        across = far_front + rng.uniform(9.0, 12.0)
    return rows


def _coron_row(
    rng: np.random.Generator,
    z: np.ndarray,
    ground: np.ndarray,
    xy: tuple[np.ndarray, np.ndarray],
    footprints: list[Polygon],
    span: tuple[float, float],
    front: float,
    depth: float,
    along_x: bool,
    size_m: float,
) -> list[tuple[float, float]]:
    """Raise one row of terraces (see :func:`_coron_rows`) and add its houses' footprints.

    Returns the centres of the trees of the row's gardens, behind about half the houses.
    """
    x, y = xy
    a0, a1 = span
    back = front + depth
    c0, c1 = min(front, back), max(front, back)
    trees = []
    pos = a0
    while True:
        widths = rng.uniform(5.0, 6.8, rng.integers(4, 11))
        stops = pos + np.cumsum(widths)
        stops = stops[stops <= a1]
        if stops.size == 0:
            return trees
        box = (pos, c0, stops[-1], c1) if along_x else (c0, pos, c1, stops[-1])
        eave, pitch = rng.uniform(5.2, 6.2), rng.uniform(35.0, 45.0)
        _gable(z, ground, x, y, box, eave, pitch, along_x, size_m)
        for w0, w1 in itertools.pairwise(np.concatenate([[pos], stops])):
            house = (w0, c0, w1, c1) if along_x else (c0, w0, c1, w1)
            footprints.append(shapely.box(*house))
            if rng.random() < 0.5:
                # On a party wall, a metre from the ridge on the street side.
                wall = w0 if rng.random() < 0.5 else w1
                middle = (c0 + c1) / 2 - math.copysign(1.0, depth)
                cx, cy = (wall, middle) if along_x else (middle, wall)
                rows, cols = _window(z.shape, size_m, cx - 0.4, cy - 0.4, cx + 0.4, cy + 0.4)
                z[rows, cols] = z[rows, cols].max() + 1.0
            if rng.random() < 0.5:
                along = rng.uniform(w0 + 1.0, w1 - 1.0)
                across = back + math.copysign(rng.uniform(4.0, 16.0), depth)
                trees.append((along, across) if along_x else (across, along))
        pos = stops[-1] + rng.uniform(1.5, 3.0)


def _gable(
    z: np.ndarray,
    ground: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    box: tuple[float, float, float, float],
    eave: float,
    pitch_deg: float,
    along_x: bool,
    size_m: float,
) -> None:
    """Raise a block under one gable roof whose ridge runs along x (or y)."""
    x0, y0, x1, y1 = box
    rows, cols = _window(z.shape, size_m, x0, y0, x1, y1)
    if rows.start >= rows.stop or cols.start >= cols.stop:
        return
    px, py = x[:, cols], y[rows, :]
    inside = (px >= x0) & (px < x1) & (py >= y0) & (py < y1)
    centre = _window(z.shape, size_m, *(2 * [(x0 + x1) / 2]), *(2 * [(y0 + y1) / 2]))
    base = float(ground[centre[0].start, centre[1].start])
    rise = math.tan(math.radians(pitch_deg))
    if along_x:
        height = eave + ((y1 - y0) / 2 - np.abs(py - (y0 + y1) / 2)) * rise
    else:
        height = eave + ((x1 - x0) / 2 - np.abs(px - (x0 + x1) / 2)) * rise
    zone = z[rows, cols]
    z[rows, cols] = np.where(inside, np.maximum(zone, (base + height).astype(np.float32)), zone)


def _crown(
    rng: np.random.Generator,
    z: np.ndarray,
    ground: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    cx: float,
    cy: float,
    size_m: float,
) -> None:
    """A garden tree: the cap of an ellipsoid, 1.5-3.5 m wide, 4-10 m high."""
    radius, top = rng.uniform(1.5, 3.5), rng.uniform(4.0, 10.0)
    rows, cols = _window(z.shape, size_m, cx - radius, cy - radius, cx + radius, cy + radius)
    if rows.start >= rows.stop or cols.start >= cols.stop:
        return
    r2 = ((x[:, cols] - cx) ** 2 + (y[rows, :] - cy) ** 2) / radius**2
    base = float(ground[rows.start, cols.start])
    crown = base + top - 0.6 * top * (1 - np.sqrt(np.clip(1 - r2, 0, 1)))
    z[rows, cols] = np.where(r2 < 1, np.maximum(z[rows, cols], crown), z[rows, cols])


def _street_edges(rng: np.random.Generator, size_m: float) -> list[tuple[float, float]]:
    """Spans (start, end) of the blocks along one axis, separated by streets."""
    edges = []
    pos = rng.uniform(0.0, 10.0)
    while True:
        length = rng.uniform(60.0, 120.0)
        if pos + length > size_m:
            break
        edges.append((pos, pos + length))
        pos += length + rng.uniform(10.0, 18.0)
    return edges
