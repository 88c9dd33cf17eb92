"""Shared test geometries, in the manner of shapely's ``tests/common.py``.

Coordinates are metres in a local frame; :func:`translated` places a geometry elsewhere. The
areas in the comments are worked out by hand, so tests can use them as reference values.
"""

from __future__ import annotations

import numpy as np
import shapely

square = shapely.box(0.0, 0.0, 10.0, 10.0)
"""Valid 10 m × 10 m square: 100 m²."""

polygon_with_hole = shapely.Polygon(
    [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)],
    holes=[[(2.0, 2.0), (2.0, 4.0), (4.0, 4.0), (4.0, 2.0)]],
)
"""A 10 m square with a 2 m square courtyard: 100 - 4 = 96 m²."""

multi_polygon = shapely.MultiPolygon(
    [shapely.box(0.0, 0.0, 4.0, 4.0), shapely.box(6.0, 6.0, 10.0, 10.0)]
)
"""Two disjoint 4 m squares: 32 m²."""

bowtie = shapely.Polygon([(0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0)])
"""Invalid: the ring crosses itself at (5, 5). Repaired, two triangles of 25 m² each: 50 m²."""

collapsed_polygon = shapely.Polygon([(0.0, 0.0), (5.0, 5.0), (10.0, 10.0), (0.0, 0.0)])
"""Invalid: a ring with no area, which repairs to a line only."""

bowtie_beside_a_collapsed_ring = shapely.MultiPolygon(
    [bowtie, shapely.Polygon([(20.0, 0.0), (25.0, 5.0), (30.0, 10.0), (20.0, 0.0)])]
)
"""Invalid: the bowtie and a ring with no area. Repaired, a collection of the two triangles
(a MultiPolygon, 50 m²) and a line."""

empty_polygon = shapely.Polygon()
"""Empty."""

polygon_z = shapely.Polygon(
    [(0.0, 0.0, 5.0), (10.0, 0.0, 6.0), (10.0, 10.0, 7.0), (0.0, 10.0, 8.0)]
)
"""3-D square, 100 m² once flattened."""

point = shapely.Point(2.0, 3.0)
"""Not a polygon."""


def translated(geometry: shapely.Geometry, dx: float, dy: float) -> shapely.Geometry:
    """``geometry`` moved by (dx, dy), keeping any Z. [m]"""
    return shapely.transform(
        geometry, lambda coords: coords + np.array([dx, dy, 0.0][: coords.shape[1]]), include_z=None
    )
