"""Polygon parts: what overlays and repairs leave beside the polygons is dropped."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from solar.geometry import polygonal_part, polygonal_parts
from tests import geometries as g


def test_polygons_are_returned_as_they_are() -> None:
    for geometry in (g.square, g.polygon_with_hole, g.multi_polygon):
        assert polygonal_part(geometry) is geometry


def test_collection_keeps_its_polygons_of_positive_area() -> None:
    sliver = shapely.Polygon([(20.0, 0.0), (30.0, 0.0), (25.0, 0.0)])
    mixed = shapely.GeometryCollection([g.square, sliver, g.point, shapely.box(20, 20, 22, 21)])
    part = polygonal_part(mixed)
    assert part.geom_type == "MultiPolygon"
    assert part.area == pytest.approx(102.0)


def test_nested_collection_of_a_repair() -> None:
    repaired = shapely.make_valid(g.bowtie_beside_a_collapsed_ring)
    part = polygonal_part(repaired)
    assert part.geom_type == "MultiPolygon"
    assert part.is_valid
    assert part.area == pytest.approx(50.0)


@pytest.mark.parametrize(
    "geometry", [None, g.empty_polygon, shapely.MultiPolygon(), g.point, g.collapsed_polygon]
)
def test_nothing_polygonal_gives_an_empty_polygon(geometry: shapely.Geometry | None) -> None:
    part = polygonal_part(geometry)
    assert part.geom_type == "Polygon"
    assert part.is_empty


def test_polygonal_parts_is_polygonal_part_of_each() -> None:
    mixed = shapely.GeometryCollection([g.square, g.point])
    geometries = np.array(
        [g.multi_polygon, mixed, None, shapely.make_valid(g.bowtie), g.point], dtype=object
    )
    parts = polygonal_parts(geometries)
    assert parts.shape == geometries.shape
    assert parts[0] is g.multi_polygon
    assert shapely.area(parts).tolist() == pytest.approx([32.0, 100.0, 0.0, 50.0, 0.0])
    assert set(shapely.get_type_id(parts)) <= {3, 6}
