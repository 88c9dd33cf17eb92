"""The dense corons district of the build benchmark: seeded, as dense as the mining towns'
streets, one footprint per house, and gable roofs that the segmentation finds as drawn."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
import shapely
from synthetic import corons_district, corons_surface

from solar.roofs import segment_roofs


def test_a_seed_gives_one_district() -> None:
    first, houses = corons_district(3, size_m=200.0)
    again, same_houses = corons_district(3, size_m=200.0)
    other, _ = corons_district(4, size_m=200.0)
    np.testing.assert_array_equal(first, again)
    assert [h.wkb for h in houses] == [h.wkb for h in same_houses]
    assert not np.array_equal(first, other)


def test_a_square_kilometre_holds_about_3900_terraced_houses() -> None:
    elevation, houses = corons_district(0)
    assert elevation.shape == (2000, 2000) and elevation.dtype == np.float32
    assert 3_600 <= len(houses) <= 4_300
    geoms = np.array(houses, dtype=object)
    # one footprint per house, sharing walls but never overlapping
    assert shapely.union_all(geoms).area == pytest.approx(shapely.area(geoms).sum(), rel=1e-9)
    xmin, ymin, xmax, ymax = shapely.bounds(geoms).T
    short = np.minimum(xmax - xmin, ymax - ymin)
    long = np.maximum(xmax - xmin, ymax - ymin)
    assert short.min() >= 5.0 - 1e-9 and short.max() <= 6.8 + 1e-9
    assert long.min() >= 8.5 - 1e-9 and long.max() <= 10.0 + 1e-9
    assert xmin.min() >= 0.0 and ymin.min() >= 0.0 and max(xmax.max(), ymax.max()) <= 1000.0


def test_the_houses_roofs_are_gables_along_their_rows() -> None:
    """Two faces a house, pitched 35-45° as drawn, facing across the row (north and south
    in the rows along x, east and west in the others)."""
    surface, houses = corons_surface(2, size_m=200.0, origin=(690_000.0, 7_030_000.0))
    assert surface.bounds == (690_000.0, 7_030_000.0, 690_200.0, 7_030_200.0)
    faces = segment_roofs(surface, houses)
    by_house: dict[str, list] = {}
    for face in faces:
        by_house.setdefault(face.building_id, []).append(face)
    gables = 0
    for house in houses:
        xmin, ymin, xmax, ymax = house.geometry.bounds
        across = (0.0, 180.0) if xmax - xmin < ymax - ymin else (90.0, 270.0)
        two = sorted(by_house.get(house.building_id, []), key=lambda f: -f.area_m2)[:2]
        if len(two) == 2 and all(
            33.0 <= f.surface_tilt <= 47.0
            and f.surface_azimuth is not None
            and min(abs((f.surface_azimuth - a + 180.0) % 360.0 - 180.0) for a in across) <= 2.0
            for f in two
        ):
            gables += 1
    assert gables >= 0.9 * len(houses)
    # the two slopes hold most of the footprint
    plan = statistics.median(
        sum(f.polygon.area for f in by_house.get(h.building_id, [])) / h.geometry.area
        for h in houses
    )
    assert plan >= 0.85
