"""Small geometry helpers shared by the readers, the roof faces and the module layout.

>>> import shapely
>>> line = shapely.LineString([(3, 0), (4, 0)])
>>> mixed = shapely.GeometryCollection([shapely.box(0, 0, 2, 1), line])
>>> polygonal_part(mixed).area
2.0
>>> polygonal_part(shapely.Point(0, 0)).is_empty
True
"""

from __future__ import annotations

import shapely
from shapely import MultiPolygon, Polygon


def polygonal_part(geometry: shapely.Geometry) -> Polygon | MultiPolygon:
    """The polygons of a geometry, without the points and lines that overlays leave.

    A clip, difference or repair of touching polygons can return a collection holding
    slivers of zero area, lines and points beside the polygons: only polygons of positive
    area are kept, as one Polygon or MultiPolygon (an empty Polygon when none is left).
    """
    if isinstance(geometry, Polygon | MultiPolygon) and not geometry.is_empty:
        return geometry
    parts = shapely.get_parts(geometry)
    polygons = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0.0)]
    if polygons.size == 0:
        return Polygon()
    return polygons[0] if polygons.size == 1 else shapely.multipolygons(polygons)
