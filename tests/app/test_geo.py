"""Reprojection between Lambert-93 and WGS84."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import affinity
from shapely.geometry import shape

from app.geo import Projector


def test_lambert93_origin_maps_to_its_definition() -> None:
    # EPSG:2154 puts (700000, 6600000) at the projection origin, 3° E and 46.5° N
    projector = Projector("EPSG:2154")
    lon, lat = projector.points_to_wgs84(np.array([700_000.0]), np.array([6_600_000.0]))
    assert lon[0] == pytest.approx(3.0, abs=1e-6)
    assert lat[0] == pytest.approx(46.5, abs=1e-6)
    x, y = projector.point_from_wgs84(3.0, 46.5)
    assert (x, y) == pytest.approx((700_000.0, 6_600_000.0), abs=1e-3)


def test_central_meridian_keeps_its_longitude() -> None:
    # every point of the 3° E meridian has x = 700000 in Lambert-93
    lon, _ = Projector("EPSG:2154").points_to_wgs84(
        np.array([700_000.0, 700_000.0]), np.array([6_100_000.0, 7_100_000.0])
    )
    np.testing.assert_allclose(lon, [3.0, 3.0], atol=1e-6)


def test_geojson_is_counter_clockwise_and_polygonal() -> None:
    projector = Projector("EPSG:2154")
    clockwise = shapely.Polygon([(0, 0), (0, 10), (10, 10), (10, 0)])
    moved = affinity.translate(clockwise, 686_000, 7_032_000)
    collection = shapely.GeometryCollection(
        [moved, shapely.LineString([(686_000, 7_032_000), (686_001, 7_032_001)])]
    )
    polygon, multi = projector.geojson([moved, collection])
    assert polygon["type"] == "Polygon"
    assert shape(polygon).exterior.is_ccw
    assert multi["type"] == "MultiPolygon"
    assert len(multi["coordinates"]) == 1
