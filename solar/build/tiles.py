"""Planning the tiles: square cores, each building owned by exactly one tile, haloed windows."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from solar.footprints import Footprint


@dataclass(frozen=True, eq=False)
class Tile:
    """One unit of work: a core square, the buildings it owns, and the window to read.

    Attributes
    ----------
    index : int
        Position in the plan, row by row from the south-west.
    core : tuple of float
        (xmin, ymin, xmax, ymax) of the square. [m]
    window : tuple of float
        The surface read for the tile: the core and its buildings, widened by the halo. [m]
    footprints : tuple of Footprint
        The buildings whose representative point lies in the core.
    neighbours : tuple of Footprint
        The other tiles' buildings that reach into the window.
    """

    index: int
    core: tuple[float, float, float, float]
    window: tuple[float, float, float, float]
    footprints: tuple[Footprint, ...]
    neighbours: tuple[Footprint, ...] = ()


def plan_tiles(
    bounds: tuple[float, float, float, float],
    footprints: Sequence[Footprint],
    *,
    tile_size: float,
    halo: float,
) -> list[Tile]:
    """Cut ``bounds`` into square tiles and give each footprint to exactly one of them.

    Every tile of the grid is planned, those without a footprint too: a house built since
    the footprints were drawn, on a new estate, is found there
    (:func:`solar.reconcile.unclaimed_buildings`), and a tile with no raised pixel costs
    little more than reading its window. A tile's window covers its core and its buildings'
    footprints, widened by ``halo`` and clipped to ``bounds``.

    Examples
    --------
    A building that crosses its tile's edge widens the tile's window:

    >>> west = Footprint("w", shapely.box(10.0, 10.0, 20.0, 20.0))
    >>> east = Footprint("e", shapely.box(90.0, 10.0, 105.0, 20.0))
    >>> bounds = (0.0, 0.0, 200.0, 100.0)
    >>> [t.window for t in plan_tiles(bounds, [west, east], tile_size=100.0, halo=5.0)]
    [(0.0, 0.0, 110.0, 100.0), (95.0, 0.0, 200.0, 100.0)]
    >>> [len(t.footprints) for t in plan_tiles(bounds, [west, east], tile_size=50.0, halo=5.0)]
    [1, 1, 0, 0, 0, 0, 0, 0]
    >>> plan_tiles(bounds, [west, east], tile_size=50.0, halo=5.0)[1].window
    (45.0, 0.0, 110.0, 55.0)

    With a wider halo, the east tile's window reaches the west building:

    >>> wide = plan_tiles(bounds, [west, east], tile_size=50.0, halo=40.0)
    >>> [f.building_id for f in wide[1].neighbours]
    ['w']
    """
    xmin, ymin, xmax, ymax = bounds
    n_cols = max(int(np.ceil((xmax - xmin) / tile_size)), 1)
    n_rows = max(int(np.ceil((ymax - ymin) / tile_size)), 1)
    geometries = [f.geometry for f in footprints]
    tree = shapely.STRtree(geometries)
    points = shapely.point_on_surface(geometries)
    px, py = shapely.get_x(points), shapely.get_y(points)
    tile_col = np.clip(((px - xmin) // tile_size).astype(int), 0, n_cols - 1)
    tile_row = np.clip(((py - ymin) // tile_size).astype(int), 0, n_rows - 1)
    tiles: list[Tile] = []
    for key in itertools.product(range(n_rows), range(n_cols)):
        members = np.flatnonzero((tile_row == key[0]) & (tile_col == key[1]))
        core = (
            xmin + key[1] * tile_size,
            ymin + key[0] * tile_size,
            min(xmin + (key[1] + 1) * tile_size, xmax),
            min(ymin + (key[0] + 1) * tile_size, ymax),
        )
        owned = tuple(footprints[int(i)] for i in members)
        fx0, fy0, fx1, fy1 = (
            map(float, shapely.total_bounds([f.geometry for f in owned])) if owned else core
        )
        window = (
            max(min(core[0], fx0) - halo, xmin),
            max(min(core[1], fy0) - halo, ymin),
            min(max(core[2], fx1) + halo, xmax),
            min(max(core[3], fy1) + halo, ymax),
        )
        reaching = tree.query(shapely.box(*window), predicate="intersects")
        neighbours = tuple(footprints[int(i)] for i in np.setdiff1d(reaching, members))
        tiles.append(Tile(len(tiles), core, window, owned, neighbours))
    return tiles
