"""A seeded synthetic urban district: a surface model with its building footprints.

Shared by the benchmarks (``bench_shading.py``, ``bench_build.py``). The district mimics a
mining-basin town of the Artois: a street grid whose blocks hold terraced houses with gable
roofs (the corons), detached houses with gable or hip roofs in gardens, flat-roofed
apartment blocks, a few towers, and street and garden trees. The ground undulates gently.

Frame: x to the east, y to the north, in metres, origin at the south-west corner. The grid
is north up: row 0 is the northern edge, pixel (row, col) covers
``x in [col, col + 1) * resolution`` and ``y in [size_m - (row + 1) * resolution,
size_m - row * resolution)``. :func:`synthetic_surface` places the district in Lambert-93
(EPSG:2154), as a :class:`solar.surface.Surface` with its footprints, ready to build.
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
    centres = (np.arange(n) + 0.5) * resolution
    x = centres[None, :]
    y = size_m - centres[:, None]
    # A gentle tilt and long waves, as on the chalk plateau: a few metres over a kilometre.
    wave_x = np.sin(2 * math.pi * x / 730.0 + rng.uniform(0, 2 * math.pi))
    wave_y = np.cos(2 * math.pi * y / 910.0 + rng.uniform(0, 2 * math.pi))
    z = (GROUND_M + 0.004 * x + 0.002 * y + 1.2 * wave_x * wave_y).astype(np.float32)
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
    seed: int = 0, size_m: float = 1000.0, resolution: float = 0.5
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

    Returns
    -------
    surface : solar.surface.Surface
        The surface model in EPSG:2154, its south-west corner at ``LAMBERT93_ORIGIN``; no
        LAS classes, as from a DSM GeoTIFF.
    footprints : list of solar.footprints.Footprint
        One per building, ids ``b0``, ``b1``, … in the district's order, in EPSG:2154.
    """
    # Imported here: the benchmarks' parent processes import this module, and a child's
    # ru_maxrss starts at its parent's peak, so they stay light (about 140 MB less).
    from affine import Affine
    from rasterio.crs import CRS

    from solar.footprints import Footprint
    from solar.surface import Surface

    elevation, polygons = synthetic_district(seed, size_m, resolution)
    x0, y0 = LAMBERT93_ORIGIN
    surface = Surface(
        elevation=elevation,
        transform=Affine(resolution, 0.0, x0, 0.0, -resolution, y0 + size_m),
        crs=CRS.from_epsg(2154),
        sources=(f"synthetic_district(seed={seed}, size_m={size_m}, resolution={resolution})",),
    )
    footprints = [
        Footprint(f"b{i}", shapely.affinity.translate(p, x0, y0)) for i, p in enumerate(polygons)
    ]
    return surface, footprints


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
