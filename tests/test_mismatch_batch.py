"""The modules of a block of faces over the roof pixels (:func:`solar.mismatch.module_strings`):
each module's pixels, blocks and shares against exact overlaps from shapely, on modules
turned to any azimuth, and a block of faces read as each face alone."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import shapely.affinity
from affine import Affine
from numpy.testing import assert_allclose, assert_array_equal

from solar import mismatch, pv

MODULE = pv.load_module()
GRID = Affine(0.5, 0.0, 100.0, 0.0, -0.5, 220.0)
"""A 60 × 60 grid of 0.5 m pixels over [100, 130] × [190, 220] m, north up."""


def _grid_faces(n_faces: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The grid's pixel index, and its pixels shared out between faces in vertical bands."""
    index = np.arange(3600).reshape(60, 60)
    bands = np.array_split(np.arange(60), n_faces)
    return index, [index[:, band].ravel() for band in bands]


def _laid(azimuths: list[float], tilt: float = 30.0) -> list[pv.Layout]:
    """Modules laid on an 8 m × 6 m outline in the middle of each band of the grid, turned
    to each azimuth."""
    n_faces = len(azimuths)
    width = 30.0 / n_faces
    outlines = []
    for k, azimuth in enumerate(azimuths):
        cx, cy = 100.0 + width * (k + 0.5), 205.0
        outline = shapely.box(cx - 4.0, cy - 3.0, cx + 4.0, cy + 3.0)
        turned = shapely.affinity.rotate(outline, 180.0 - azimuth, origin=(cx, cy))
        # kept inside its band, so that every module lies over its own face's pixels
        band = shapely.box(100.0 + width * k, 190.0, 100.0 + width * (k + 1), 220.0)
        outlines.append(turned.intersection(band))
    return pv.layout_faces(outlines, MODULE, [tilt] * n_faces, azimuths)


def _reference_entries(
    module: shapely.Polygon, orientation: str, pixels: np.ndarray
) -> dict[int, tuple[int, float]]:
    """Pixel → (block bits, overlap area [m²]) of one module over a face's pixels."""
    c = shapely.get_coordinates(module)
    origin, along, up = c[0], c[1] - c[0], c[3] - c[0]
    short, long = (along, up) if orientation == "portrait" else (up, along)
    rows, cols = np.divmod(pixels, 60)
    x0, y0 = GRID.c + cols * GRID.a, GRID.f + rows * GRID.e
    squares = shapely.box(x0, y0 + GRID.e, x0 + GRID.a, y0)
    entries: dict[int, tuple[int, float]] = {}
    for k in range(3):
        block = shapely.Polygon(
            [
                origin + short * k / 3,
                origin + short * (k + 1) / 3,
                origin + short * (k + 1) / 3 + long,
                origin + short * k / 3 + long,
            ]
        )
        overlap = shapely.area(shapely.intersection(block, squares))
        for p, a in zip(pixels[overlap > 1e-6], overlap[overlap > 1e-6], strict=True):
            bits, area = entries.get(int(p), (0, 0.0))
            entries[int(p)] = (bits | 1 << k, area + float(a))
    return entries


def test_entries_are_the_exact_overlaps_of_turned_modules() -> None:
    azimuths = [180.0, 222.0, 301.5]
    layouts = _laid(azimuths)
    index, face_pixels = _grid_faces(len(azimuths))
    strings = mismatch.module_strings(
        [layout.modules for layout in layouts],
        [layout.orientation for layout in layouts],
        face_pixels,
        index,
        GRID,
    )
    modules = [
        (module, layout.orientation, pixels)
        for layout, pixels in zip(layouts, face_pixels, strict=True)
        for module in shapely.get_parts(layout.modules)
    ]
    assert len(modules) == strings.entry_start.size - 1 > 3 * 6
    for m, (module, orientation, pixels) in enumerate(modules):
        reference = _reference_entries(module, orientation, pixels)
        entries = slice(strings.entry_start[m], strings.entry_start[m + 1])
        assert sorted(strings.pixel[entries].tolist()) == sorted(reference)
        total = sum(area for _, area in reference.values())
        for p, bits, weight in zip(
            strings.pixel[entries], strings.blocks[entries], strings.weight[entries], strict=True
        ):
            assert bits == reference[int(p)][0]
            assert weight == pytest.approx(reference[int(p)][1] / total, abs=1e-9)


def test_a_block_of_faces_reads_as_each_face_alone() -> None:
    azimuths = [180.0, 90.0, 0.0, 222.0, 135.0]
    layouts = _laid(azimuths)
    # a face without modules among them
    layouts[2] = pv.layout_faces([shapely.Polygon()], MODULE, [30.0], [0.0])[0]
    index, face_pixels = _grid_faces(len(azimuths))
    footprints = [layout.modules for layout in layouts]
    orientations = [layout.orientation for layout in layouts]
    block = mismatch.module_strings(footprints, orientations, face_pixels, index, GRID)
    assert block.n_faces == len(azimuths)
    for f in range(len(azimuths)):
        alone = mismatch.module_strings(
            footprints[f : f + 1], orientations[f : f + 1], face_pixels[f : f + 1], index, GRID
        )
        strings = slice(block.string_start[f], block.string_start[f + 1] + 1)
        first_module = block.module_start[block.string_start[f]]
        modules = slice(first_module, block.module_start[block.string_start[f + 1]] + 1)
        first_entry = block.entry_start[first_module]
        assert_array_equal(block.module_start[strings] - first_module, alone.module_start)
        assert_array_equal(block.entry_start[modules] - first_entry, alone.entry_start)
        entries = slice(first_entry, first_entry + alone.pixel.size)
        assert_array_equal(block.pixel[entries], alone.pixel)
        assert_array_equal(block.blocks[entries], alone.blocks)
        assert_array_equal(block.weight[entries], alone.weight)
        assert_array_equal(
            np.diff(alone.module_start), mismatch.string_lengths(len(footprints[f].geoms))
        )
    # each module's shares add up to one
    sums = np.add.reduceat(block.weight, block.entry_start[:-1])
    assert_allclose(sums[np.diff(block.entry_start) > 0], 1.0, rtol=1e-12)
