"""Small geometry helpers shared by the readers, the roof faces and the module layout.

>>> import shapely
>>> line = shapely.LineString([(3, 0), (4, 0)])
>>> mixed = shapely.GeometryCollection([shapely.box(0, 0, 2, 1), line])
>>> polygonal_part(mixed).area
2.0
>>> polygonal_part(shapely.Point(0, 0)).is_empty
True
>>> [g.geom_type for g in polygonal_parts([mixed, shapely.box(0, 0, 1, 1), line])]
['Polygon', 'Polygon', 'Polygon']
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely import GeometryType, MultiPolygon, Polygon

_MULTIPART = (
    GeometryType.MULTIPOINT,
    GeometryType.MULTILINESTRING,
    GeometryType.MULTIPOLYGON,
    GeometryType.GEOMETRYCOLLECTION,
)


def polygonal_part(geometry: shapely.Geometry | None) -> Polygon | MultiPolygon:
    """The polygons of a geometry, without the points and lines that overlays leave.

    A clip, difference or repair of touching polygons can return a collection holding
    slivers of zero area, lines and points beside the polygons, possibly nested (a
    repair returns a MultiPolygon and a MultiLineString in one collection): only polygons
    of positive area are kept, as one Polygon or MultiPolygon. A Polygon or MultiPolygon of
    positive area is returned as it is; None, an empty geometry or one without any polygon
    of positive area gives an empty Polygon.

    >>> bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> collapsed = shapely.Polygon([(5, 5), (6, 6), (7, 7)])
    >>> nested = shapely.make_valid(shapely.MultiPolygon([bowtie, collapsed]))
    >>> [g.geom_type for g in nested.geoms]
    ['MultiPolygon', 'MultiLineString']
    >>> polygonal_part(nested).geom_type, polygonal_part(nested).area
    ('MultiPolygon', 2.0)
    """
    if isinstance(geometry, Polygon | MultiPolygon) and geometry.area > 0.0:
        return geometry
    parts = shapely.get_parts(geometry)
    while np.isin(shapely.get_type_id(parts), _MULTIPART).any():
        parts = shapely.get_parts(parts)
    polygons = parts[
        (shapely.get_type_id(parts) == GeometryType.POLYGON) & (shapely.area(parts) > 0.0)
    ]
    if polygons.size == 0:
        return Polygon()
    return polygons[0] if polygons.size == 1 else shapely.multipolygons(polygons)


def polygonal_parts(geometries: ArrayLike) -> np.ndarray:
    """:func:`polygonal_part` of every geometry of an array.

    Parameters
    ----------
    geometries : array_like of shapely geometries

    Returns
    -------
    numpy.ndarray
        Object array of the same shape, of Polygons and MultiPolygons.
    """
    geoms = np.asarray(geometries, dtype=object)
    out = geoms.copy()
    # Most geometries are already polygonal: only the others leave the vectorised path.
    type_id = shapely.get_type_id(geoms)
    other = ~np.isin(type_id, (GeometryType.POLYGON, GeometryType.MULTIPOLYGON))
    other |= ~(shapely.area(geoms) > 0.0)
    for index in zip(*np.nonzero(other), strict=True):
        out[index] = polygonal_part(geoms[index])
    return out
