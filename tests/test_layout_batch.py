"""Module layout of many faces at once (:func:`solar.pv.layout_faces`) against the per-face
rule written here in plain Python: rows along the contour lines at 8 offsets, the free
stretches of each row from the polygon's edges, as many modules as fit in each, centred;
the offset and orientation that hold the most modules win, portrait on a tie."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.affinity
from numpy.testing import assert_allclose

from solar import pv, roofs
from solar.geometry import polygonal_part

MODULE = pv.load_module()
SLACK = 1e-7
"""The rule's slack on its comparisons. [m]"""

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


# --- the per-face rule ---------------------------------------------------------------------


def _free_stretches(
    edges: list[tuple[float, float, float, float]], bottom: float, depth: float, width: float
) -> list[tuple[float, float]]:
    """Stretches of the strip ``[bottom, bottom + depth]`` at least ``width`` long that no
    edge crosses: between the edges' shadows on the row axis, merged in order."""
    s0, s1 = bottom + SLACK, bottom + depth - SLACK
    shadows = []
    for u1, v1, u2, v2 in edges:
        a, b = max(min(v1, v2), s0), min(max(v1, v2), s1)
        if a > b:
            continue
        if v2 != v1:
            slope = (u2 - u1) / (v2 - v1)
            ua, ub = u1 + (a - v1) * slope, u1 + (b - v1) * slope
        else:
            ua, ub = min(u1, u2), max(u1, u2)
        shadows.append((min(ua, ub), max(ua, ub)))
    shadows.sort(key=lambda shadow: shadow[0])
    stretches = []
    if shadows:
        reach = shadows[0][1]
        for lo, hi in shadows[1:]:
            if lo - reach >= width - SLACK:
                stretches.append((reach, lo))
            reach = max(reach, hi)
    return stretches


def reference_layout(
    usable: shapely.Geometry, tilt: float, azimuth: float | None
) -> tuple[int, str, list[list[tuple[float, float]]]]:
    """Count, orientation and the modules' corners in plan, one face alone."""
    flat = azimuth is None or math.isnan(azimuth)
    tilt, azimuth = pv.module_plane(tilt, azimuth)
    usable = polygonal_part(usable)
    if usable.is_empty:
        return 0, "portrait", []
    gamma = math.radians(azimuth)
    along = (-math.cos(gamma), math.sin(gamma))
    up = (-math.sin(gamma), -math.cos(gamma))
    cos_tilt = math.cos(math.radians(tilt))
    edges = []
    for ring in shapely.get_rings(shapely.get_parts(usable)):
        xy = shapely.get_coordinates(ring).tolist()
        uv = [(x * along[0] + y * along[1], x * up[0] + y * up[1]) for x, y in xy]
        edges += [(*uv[i], *uv[i + 1]) for i in range(len(uv) - 1)]
    v_min = min(min(e[1], e[3]) for e in edges)
    v_max = max(max(e[1], e[3]) for e in edges)

    best: tuple[int, str, list[tuple[float, float, float, float]]] = (0, "portrait", [])
    for orientation, width, slope_size in (
        ("portrait", MODULE.width, MODULE.length),
        ("landscape", MODULE.length, MODULE.width),
    ):
        depth = slope_size * cos_tilt
        pitch = pv.flat_row_pitch(slope_size, tilt) if flat else depth + pv.MODULE_GAP * cos_tilt
        n_rows = math.floor((v_max - v_min - depth) / pitch + SLACK) + 1
        for k in range(8):
            count, boxes = 0, []
            for r in range(max(n_rows, 0)):
                bottom = v_min + k * pitch / 8 + pitch * r
                if bottom + depth > v_max + SLACK:
                    continue
                for lo, hi in _free_stretches(edges, bottom, depth, width):
                    mid_u, mid_v = (lo + hi) / 2.0, bottom + depth / 2.0
                    x = mid_u * along[0] + mid_v * up[0]
                    y = mid_u * along[1] + mid_v * up[1]
                    if not shapely.contains_xy(usable, x, y):
                        continue
                    n = math.floor((hi - lo + pv.MODULE_GAP) / (width + pv.MODULE_GAP) + SLACK)
                    start = lo + (hi - lo - (n * width + (n - 1) * pv.MODULE_GAP)) / 2.0
                    for i in range(n):
                        u = start + i * (width + pv.MODULE_GAP)
                        boxes.append((u, bottom, u + width, bottom + depth))
                    count += n
            if count > best[0]:
                best = (count, orientation, boxes)
    count, orientation, boxes = best
    corners = [
        [
            (u * along[0] + v * up[0], u * along[1] + v * up[1])
            for u, v in ((u0, v0), (u1, v0), (u1, v1), (u0, v1))
        ]
        for u0, v0, u1, v1 in boxes
    ]
    return count, orientation, corners


def assert_same_layouts(
    usable: list[shapely.Geometry], tilts: list[float], azimuths: list[float | None]
) -> None:
    """The batch lays each face as the per-face rule does, and as the face alone."""
    nan_azimuths = [math.nan if a is None else a for a in azimuths]
    batch = pv.layout_faces(usable, MODULE, tilts, nan_azimuths)
    assert len(batch) == len(usable)
    for layout, geometry, tilt, azimuth in zip(batch, usable, tilts, azimuths, strict=True):
        count, orientation, corners = reference_layout(geometry, tilt, azimuth)
        assert (layout.n_modules, layout.orientation) == (count, orientation)
        assert layout.kwc == pytest.approx(count * MODULE.pdc0 / 1000.0)
        assert (layout.module_tilt, layout.module_azimuth) == pv.module_plane(tilt, azimuth)
        parts = shapely.get_parts(layout.modules)
        assert len(parts) == count
        if count:
            laid = shapely.get_coordinates(parts).reshape(count, 5, 2)[:, :4]
            assert_allclose(laid, np.array(corners), rtol=0, atol=1e-6)
        alone = pv.layout_modules(geometry, MODULE, tilt, azimuth)
        assert (alone.n_modules, alone.orientation) == (layout.n_modules, layout.orientation)
        assert shapely.equals_exact(alone.modules, layout.modules, tolerance=0.0)


# --- shapes --------------------------------------------------------------------------------


def _shapes() -> tuple[list[shapely.Geometry], list[float], list[float | None]]:
    """Rectangles turned to many azimuths, an L, holes, parts, leftovers of a difference, a
    comb, nothing, too little, and flat roofs."""
    usable: list[shapely.Geometry] = []
    tilts: list[float] = []
    azimuths: list[float | None] = []
    rectangle = shapely.box(0.0, 0.0, 10.0, 5.0)
    for azimuth in (0.0, 37.5, 90.0, 135.0, 180.0, 222.0, 270.0, 333.0):
        for tilt in (5.0, 35.0, 50.0):
            # turned so that its long side runs along the contour lines
            usable.append(shapely.affinity.rotate(rectangle, 180.0 - azimuth, origin=(0, 0)))
            tilts.append(tilt)
            azimuths.append(azimuth)
    l_shape = shapely.Polygon([(0, 0), (10, 0), (10, 4), (4, 4), (4, 10), (0, 10)])
    holed = rectangle.difference(shapely.box(4.5, 2.0, 5.5, 3.0))
    two = shapely.MultiPolygon([shapely.box(0, 0, 10, 5), shapely.box(20, 0, 30, 5)])
    mixed = shapely.GeometryCollection([rectangle, shapely.LineString([(0, 6), (10, 6)])])
    triangle = shapely.Polygon([(0, 0), (12, 0), (6, 5)])
    strip = shapely.box(0.0, 0.0, 20.0, 1.3)
    # a comb of 12 slots: 13 free stretches in every row
    slots = [shapely.box(3.3 * k + 3.0, 0.2, 3.3 * k + 3.2, 2.3) for k in range(12)]
    comb = shapely.box(0.0, 0.0, 40.0, 2.5).difference(shapely.union_all(slots))
    others = [
        l_shape,
        holed,
        two,
        mixed,
        triangle,
        strip,
        comb,
        shapely.Polygon(),
        shapely.box(0, 0, 1, 1),
    ]
    for geometry in others:
        usable += [geometry, geometry]
        tilts += [30.0, 0.0]
        azimuths += [200.0, None]
    return usable, tilts, azimuths


def test_shapes_are_laid_as_one_face_alone() -> None:
    usable, tilts, azimuths = _shapes()
    assert_same_layouts(usable, tilts, azimuths)
    # and the faces are laid out, not all of them left empty
    nan_azimuths = [math.nan if a is None else a for a in azimuths]
    counts = [layout.n_modules for layout in pv.layout_faces(usable, MODULE, tilts, nan_azimuths)]
    assert sum(c > 0 for c in counts) > len(counts) // 2


def test_no_face_and_mismatched_lengths() -> None:
    assert pv.layout_faces([], MODULE, [], []) == []
    with pytest.raises(ValueError, match="2 outlines"):
        pv.layout_faces([shapely.box(0, 0, 5, 5)] * 2, MODULE, [30.0], [180.0, 180.0])


# --- corons faces --------------------------------------------------------------------------


def _corons_faces() -> list[roofs.RoofFace]:
    """The roof faces of a 150 m square of the build benchmark's corons district."""
    spec = importlib.util.spec_from_file_location("synthetic", SCRIPTS / "synthetic.py")
    assert spec is not None and spec.loader is not None
    synthetic = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synthetic)
    surface, footprints = synthetic.corons_surface(0, size_m=150.0)
    return roofs.segment_roofs(surface, footprints)


def test_corons_faces_are_laid_as_one_face_alone() -> None:
    faces = _corons_faces()
    assert len(faces) > 100
    usable = [f.usable_polygon for f in faces]
    # Dark pixels cut out of every third face, as the build cuts out the shaded ones.
    rng = np.random.default_rng(5)
    for i in range(0, len(usable), 3):
        x0, y0, x1, y1 = usable[i].bounds
        x, y = rng.uniform(x0, x1, 4), rng.uniform(y0, y1, 4)
        usable[i] = usable[i].difference(shapely.union_all(shapely.box(x, y, x + 0.5, y + 0.5)))
    assert_same_layouts(usable, [f.surface_tilt for f in faces], [f.surface_azimuth for f in faces])
