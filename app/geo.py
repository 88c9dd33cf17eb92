"""Reprojection between the cadastre's projected CRS and WGS84 (RFC 7946 GeoJSON).

pyproj transformers are not thread-safe, and endpoints run in a thread pool: each thread
gets its own pair, created on first use and kept for the thread's life.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import mapping

WGS84 = "EPSG:4326"
#: 7 decimals of a degree are about 1 cm: finer than any roof outline from a 0.5 m grid.
DECIMALS = 7


class Projector:
    """Projects geometries and points between ``crs`` and WGS84 (lon, lat order).

    Parameters
    ----------
    crs : str, rasterio.crs.CRS or pyproj.CRS
        The cadastre's projected CRS.
    """

    def __init__(self, crs: Any):
        self.crs = pyproj.CRS.from_user_input(crs)
        self._local = threading.local()

    def _transformers(self) -> tuple[pyproj.Transformer, pyproj.Transformer]:
        pair = getattr(self._local, "pair", None)
        if pair is None:
            pair = (
                pyproj.Transformer.from_crs(self.crs, WGS84, always_xy=True),
                pyproj.Transformer.from_crs(WGS84, self.crs, always_xy=True),
            )
            self._local.pair = pair
        return pair

    def points_to_wgs84(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Projected coordinates [m] to longitudes and latitudes [°]."""
        lon, lat = self._transformers()[0].transform(np.asarray(x), np.asarray(y))
        return np.round(lon, DECIMALS), np.round(lat, DECIMALS)

    def point_from_wgs84(self, lon: float, lat: float) -> tuple[float, float]:
        """A longitude and latitude [°] to projected coordinates [m] (inf when out of reach)."""
        x, y = self._transformers()[1].transform(lon, lat)
        return float(x), float(y)

    def bounds_from_wgs84(
        self, bbox: tuple[float, float, float, float]
    ) -> tuple[float, float, float, float]:
        """The projected box that holds the WGS84 box, edges densified (they curve)."""
        return tuple(self._transformers()[1].transform_bounds(*bbox, densify_pts=21))  # type: ignore[return-value]

    def bounds_to_wgs84(
        self, bounds: tuple[float, float, float, float]
    ) -> tuple[float, float, float, float]:
        """The WGS84 box that holds the projected box."""
        box = self._transformers()[0].transform_bounds(*bounds, densify_pts=21)
        return tuple(round(float(v), DECIMALS) for v in box)  # type: ignore[return-value]

    def geojson(self, geometries: Sequence[shapely.Geometry]) -> list[dict[str, Any]]:
        """RFC 7946 geometries: WGS84, exterior rings counter-clockwise, holes clockwise.

        All geometries go through pyproj in one call. A GeometryCollection (left by a
        clip or a repair) keeps its polygonal parts, so the output is always a Polygon
        or a MultiPolygon.
        """
        if not geometries:
            return []
        forward = self._transformers()[0]

        def project(xy: np.ndarray) -> np.ndarray:
            lon, lat = forward.transform(xy[:, 0], xy[:, 1])
            return np.round(np.column_stack((lon, lat)), DECIMALS)

        polygonal = [_polygonal(g) for g in geometries]
        projected = shapely.transform(np.asarray(polygonal, dtype=object), project)
        oriented = shapely.orient_polygons(projected, exterior_cw=False)
        return [mapping(g) for g in oriented]


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    if isinstance(geometry, shapely.GeometryCollection) and not isinstance(
        geometry, shapely.MultiPolygon
    ):
        parts = [
            p
            for g in geometry.geoms
            for p in (g.geoms if isinstance(g, shapely.MultiPolygon) else [g])
            if isinstance(p, shapely.Polygon)
        ]
        return shapely.MultiPolygon(parts)
    return geometry
