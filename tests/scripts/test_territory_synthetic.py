"""The mixed-density territory of the territory benchmark: each kind of cell holds what it
says, neighbouring cells meet on one ground, and a small territory builds through the
command's path from several DSM tiles and a BD TOPO-like footprint file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from scipy import ndimage
from territory_synthetic import KINDS, territory_cell, write_territory

from solar.build import BuildInputs, BuildOptions, build_cadastre


def _sides(polygon: shapely.Polygon) -> tuple[float, float]:
    """(shorter, longer) side of a rectangle. [m]"""
    x0, y0, x1, y1 = polygon.bounds
    return min(x1 - x0, y1 - y0), max(x1 - x0, y1 - y0)


def test_a_seed_gives_one_territory() -> None:
    first = territory_cell("S", 3, (0.0, 0.0), 200.0, 0.5)
    again = territory_cell("S", 3, (0.0, 0.0), 200.0, 0.5)
    other = territory_cell("S", 4, (0.0, 0.0), 200.0, 0.5)
    np.testing.assert_array_equal(first.z, again.z)
    assert [b.polygon.wkt for b in first.buildings] == [b.polygon.wkt for b in again.buildings]
    assert not np.array_equal(first.z, other.z)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_neighbouring_cells_meet_without_a_step(kind: str) -> None:
    west = territory_cell(kind, 0, (0.0, 0.0), 200.0, 0.5)
    east = territory_cell("F", 0, (200.0, 0.0), 200.0, 0.5)
    # half a metre apart across the edge: the same ground, within the DSM's noise, wherever
    # neither side stands on a building or under a tree
    step = west.z[:, -1] - east.z[:, 0]
    on_ground = np.abs(step) < 0.15
    assert on_ground.mean() > 0.3
    assert abs(float(np.median(step[on_ground]))) < 0.05


def test_industrial_cells_hold_large_warehouses() -> None:
    cell = territory_cell("I", 0, (0.0, 0.0), 500.0, 0.5)
    assert len(cell.buildings) >= 3
    for building in cell.buildings:
        shorter, longer = _sides(building.polygon)
        assert shorter >= 50.0 and longer <= 200.0
        assert building.usage == "Industriel"
    covered = sum(b.polygon.area for b in cell.buildings) / 500.0**2
    assert 0.2 < covered < 0.7


def test_suburbs_hold_detached_houses_in_gardens() -> None:
    cell = territory_cell("S", 0, (0.0, 0.0), 500.0, 0.5)
    polygons = [b.polygon for b in cell.buildings]
    # suburbs of 8-20 houses per hectare
    assert 200 <= len(polygons) <= 500
    assert all(_sides(p)[1] <= 12.0 for p in polygons)
    tree = shapely.STRtree(polygons)
    pairs = tree.query(polygons, predicate="intersects")
    assert (pairs[0] == pairs[1]).all(), "two houses touch"


def test_fields_are_bare_but_for_hedges_and_a_farm() -> None:
    cell = territory_cell("F", 0, (0.0, 0.0), 500.0, 0.5)
    assert len(cell.buildings) <= 3
    raised = cell.z - ndimage.minimum_filter(cell.z, size=81)
    assert (raised > 2.0).mean() < 0.05


def test_a_small_mixed_territory_builds_from_its_tiles(tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    files = write_territory(folder, ["CS", "IF"], seed=1, cell_m=150.0)
    assert [p.name for p in files.dsm] == [
        "MNS_685000_7031300.tif",
        "MNS_685150_7031300.tif",
        "MNS_685000_7031150.tif",
        "MNS_685150_7031150.tif",
    ]
    with rasterio.open(files.dsm[3]) as dataset:
        assert dataset.bounds == (685150.0, 7031000.0, 685300.0, 7031150.0)
        assert dataset.crs.to_epsg() == 2154
    written = [p.stat().st_mtime_ns for p in (*files.dsm, files.footprints)]
    again = write_territory(folder, ["CS", "IF"], seed=1, cell_m=150.0)
    assert [p.stat().st_mtime_ns for p in (*again.dsm, again.footprints)] == written

    out = tmp_path / "territory.gpkg"
    summary = build_cadastre(
        BuildInputs(dsm=files.dsm, buildings=files.footprints, id_field="cleabs"),
        out=out,
        options=BuildOptions(tile_size=150.0),
    )
    assert summary.tiles == 4
    assert summary.buildings >= sum(c.buildings for c in files.cells)
    with sqlite3.connect(out) as con:
        usages = dict(
            con.execute(
                "SELECT b.usage_1, count(f.face_id) FROM buildings b "
                "JOIN roof_faces f ON f.building_id = b.building_id GROUP BY b.usage_1"
            ).fetchall()
        )
    # roof faces on the corons and suburbs, and on the warehouses
    assert usages.get("Résidentiel", 0) > 50
    assert usages.get("Industriel", 0) >= 1
