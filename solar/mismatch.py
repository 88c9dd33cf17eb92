"""Module-level shading: the modules placed on a face, their bypass-diode blocks and strings.

A shadow over part of a module costs more than its area share. The cells of a crystalline
module are wired in series in blocks, each protected by a bypass diode: a shaded cell
limits the current of its whole block, whose diode then takes it out of the string. The
experimental model of Martinez-Moreno et al. [1]_ (:func:`pvlib.shading.direct_martinez`)
puts this in one factor on the beam and circumsolar irradiance of a string:

``1 - F_ES = (1 - F_GS) (1 - N_SB / (N_TB + 1))``

with ``F_GS`` the shaded share of the string's area, ``N_SB`` the number of its blocks
with any shade on them and ``N_TB`` the number of its blocks. The isotropic sky, the
horizon band and the ground reflection are not touched.

The assumptions, stated once:

- **Blocks.** :data:`BLOCKS_PER_MODULE` blocks per module, running along its long side
  and side by side across its short side, as in the usual 60- or 72-cell (or 120/144
  half-cell) modules with three bypass diodes in one junction box. A shadow strip along
  the bottom of a portrait module crosses all three blocks; along the bottom of a
  landscape module, one.
- **Strings.** The modules of a face are wired in series in the order they are laid (row
  by row from the bottom, along each row), in as few strings as the string length
  :data:`STRING_MODULES` allows, of as equal lengths as possible; each string has its
  own maximum power point tracker. A face's modules never share a string with another
  face's.
- **Light on a module.** Each point of a module has the light of the roof pixel under it:
  the sun reaches it at an hour when it reaches that pixel
  (:func:`solar.shading.module_lit_fraction`). ``F_GS`` is the share of the string's area
  over pixels in shade, from the exact overlaps of each block (a rectangle in plan) with
  each pixel (a square), and a block is shaded when any pixel in shade overlaps it by more
  than :data:`OVERLAP_EPS`. Parts of a module over pixels of no face of the roof (it
  should have none: modules keep clear of the face's edges and obstacles) do not count.

The face's factor on its beam and circumsolar irradiance at each hour is the mean of its
strings' ``1 - F_ES``, each weighted by its number of modules: 1 with the sun in front of
the face and nothing in the way, 0 with the sun behind it or below the horizontal, as the
area-weighted lit fraction of :func:`solar.shading.face_shading` is.

References
----------
.. [1] F. Martinez-Moreno, J. Munoz and E. Lorenzo, "Experimental model to estimate
   shading losses on PV arrays", Solar Energy Materials and Solar Cells 94(12),
   2298-2303, 2010. :doi:`10.1016/j.solmat.2010.07.029`
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import shapely
from affine import Affine
from numba import njit, prange

BLOCKS_PER_MODULE = 3
"""Bypass-diode blocks per module: three diodes, the common crystalline module (the
catalogue's 108 half-cell modules included, whose two halves in parallel make three
blocks of the module's full length)."""

STRING_MODULES = 14
"""Most modules in one string: a 600 V single-phase residential inverter input over the
open-circuit voltage of a 425 W TOPCon module at -10 °C (about 41 V: 37.5 V at 25 °C, a
coefficient of -0.25 %/K). [modules]"""

OVERLAP_EPS = 1e-6
"""Smallest overlap of a block and a pixel that counts: a square millimetre, far above
the rounding of the clipping, far below any shadow a pixel stands for. [m²]"""


class ModuleStrings(NamedTuple):
    """The modules of a block of faces as the shading kernel reads them, all concatenated.

    Face ``f`` holds strings ``string_start[f]:string_start[f + 1]``, string ``s`` holds
    modules ``module_start[s]:module_start[s + 1]``, module ``m`` holds the entries
    ``entry_start[m]:entry_start[m + 1]``: one per distinct pixel under it.
    """

    string_start: np.ndarray  # int64, (n_faces + 1,)
    module_start: np.ndarray  # int64, (n_strings + 1,)
    entry_start: np.ndarray  # int64, (n_modules + 1,)
    pixel: np.ndarray  # the entry's pixel, index into the horizons, int64
    blocks: np.ndarray  # bit b set when the pixel overlaps block b of the module, int64
    weight: np.ndarray  # the pixel's share of the module's area, float64

    @property
    def n_faces(self) -> int:
        return self.string_start.size - 1


def string_lengths(n_modules: int, max_length: int = STRING_MODULES) -> np.ndarray:
    """Lengths of the strings of a face's modules: as few as ``max_length`` allows, equal
    within one module, the longer ones first.

    >>> string_lengths(30).tolist()
    [10, 10, 10]
    >>> string_lengths(16).tolist()
    [8, 8]
    >>> string_lengths(0).tolist()
    []
    """
    return _strings(np.array([n_modules], dtype=np.int64), max_length)[1]


def _strings(n_modules: np.ndarray, max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`string_lengths` of many faces: the number of strings of each face, and the
    lengths of all their strings, face after face."""
    n_strings = -(-n_modules // max_length)
    face = np.repeat(np.arange(n_modules.size), n_strings)
    first = np.cumsum(n_strings) - n_strings
    base, extra = np.divmod(n_modules[face], n_strings[face])
    lengths = base + (np.arange(face.size) - first[face] < extra)
    return n_strings, lengths.astype(np.int64)


def module_strings(
    footprints: Sequence[shapely.MultiPolygon],
    orientations: Sequence[str],
    face_pixels: Sequence[np.ndarray],
    pixel_index: np.ndarray,
    transform: Affine,
) -> ModuleStrings:
    """The strings, modules and pixels under them of a block of faces.

    Parameters
    ----------
    footprints : sequence of shapely.MultiPolygon
        Each face's module footprints in plan (:attr:`solar.pv.Layout.modules`): rectangles
        whose first edge runs along the rows and last up the slope, in the order they were
        laid; empty for a face without modules.
    orientations : sequence of str
        Each face's ``"portrait"`` or ``"landscape"`` (:attr:`solar.pv.Layout.orientation`).
    face_pixels : sequence of numpy.ndarray
        Each face's pixels, as indices into the horizons.
    pixel_index : numpy.ndarray
        The grid of the horizons' pixel index, -1 where no pixel is stored.
    transform : affine.Affine
        The grid's north-up transform, square pixels.

    Returns
    -------
    ModuleStrings
    """
    n_faces = len(footprints)
    faces = np.empty(n_faces, dtype=object)
    faces[:] = list(footprints)
    counts = shapely.get_num_geometries(faces).astype(np.int64)
    n_strings, lengths = _strings(counts, STRING_MODULES)
    string_start = np.concatenate([[0], np.cumsum(n_strings)]).astype(np.int64)
    module_start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    n_modules = int(counts.sum())
    if n_modules == 0:
        empty = np.zeros(0, dtype=np.int64)
        return ModuleStrings(
            string_start, module_start, np.zeros(1, np.int64), empty, empty, np.zeros(0)
        )
    # the parts' rings one after the other, with no Polygon object per module in between
    corners = shapely.get_coordinates(faces).reshape(n_modules, 5, 2)
    # In the grid's frame: x east of its west edge, y south of its north edge. [m]
    local = corners[:, :4] - np.array([transform.c, transform.f])
    local[..., 1] *= -1.0
    origin = local[:, 0]
    along = local[:, 1] - origin  # along the rows
    up = local[:, 3] - origin  # up the slope, in plan
    portrait = np.repeat(np.array([o == "portrait" for o in orientations], dtype=bool), counts)
    # The blocks lie side by side across the module's short side: along the rows in
    # portrait, up the slope in landscape.
    short = np.where(portrait[:, None], along, up)
    long = np.where(portrait[:, None], up, along)

    resolution = abs(transform.a)
    first_col = np.floor(local[..., 0].min(axis=1) / resolution).astype(np.int64)
    last_col = np.floor(local[..., 0].max(axis=1) / resolution).astype(np.int64)
    first_row = np.floor(local[..., 1].min(axis=1) / resolution).astype(np.int64)
    last_row = np.floor(local[..., 1].max(axis=1) / resolution).astype(np.int64)
    # Each module's entries are written from room_start[m] on: at most one per cell of its
    # outline's box of grid cells.
    room = (last_col - first_col + 1) * (last_row - first_row + 1)
    room_start = np.concatenate([[0], np.cumsum(room)]).astype(np.int64)
    pixel_face = np.full(int(pixel_index.max()) + 1, -1, dtype=np.int64)
    pixel_face[np.concatenate(face_pixels)] = np.repeat(
        np.arange(n_faces), [p.size for p in face_pixels]
    )
    pixel = np.empty(room_start[-1], dtype=np.int64)
    blocks = np.empty(room_start[-1], dtype=np.int64)
    weight = np.empty(room_start[-1])
    n_entries = np.zeros(n_modules, dtype=np.int64)
    _overlap_entries(
        _Rectangles(
            origin,
            short,
            long,
            np.repeat(np.arange(n_faces), counts),
            first_row,
            last_row,
            first_col,
            last_col,
        ),
        pixel_face,
        pixel_index,
        resolution,
        room_start,
        pixel,
        blocks,
        weight,
        n_entries,
    )
    entry_start = np.concatenate([[0], np.cumsum(n_entries)]).astype(np.int64)
    written = np.repeat(room_start[:-1] - entry_start[:-1], n_entries) + np.arange(entry_start[-1])
    return ModuleStrings(
        string_start=string_start,
        module_start=module_start,
        entry_start=entry_start,
        pixel=pixel[written],
        blocks=blocks[written],
        weight=weight[written],
    )


class _Rectangles(NamedTuple):
    """The modules in the grid's frame (x east, y south, from its north-west corner) [m],
    and the range of grid rows and columns their outline covers."""

    origin: np.ndarray  # (n, 2) a corner
    short: np.ndarray  # (n, 2) the side across the blocks
    long: np.ndarray  # (n, 2) the side along the blocks
    face: np.ndarray  # (n,) the face of each module
    first_row: np.ndarray
    last_row: np.ndarray
    first_col: np.ndarray
    last_col: np.ndarray


@njit(parallel=True, cache=True)
def _overlap_entries(
    modules: _Rectangles,
    pixel_face: np.ndarray,
    pixel_index: np.ndarray,
    resolution: float,
    room_start: np.ndarray,
    pixel: np.ndarray,
    blocks: np.ndarray,
    weight: np.ndarray,
    n_entries: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Per module, each pixel of its face that it overlaps: the blocks it touches and its
    share of the module's area over the face, written from ``room_start[m]`` on, and their
    number in ``n_entries[m]``."""
    n_rows, n_cols = pixel_index.shape
    n_modules = modules.origin.shape[0]
    n_tasks = min(n_modules, 64)
    for task in prange(n_tasks):
        # Each block's corners and box; then the work room of the clipping: a
        # quadrilateral cut by the four sides of a square keeps at most eight corners.
        block_x, block_y = np.empty((BLOCKS_PER_MODULE, 4)), np.empty((BLOCKS_PER_MODULE, 4))
        low_x, high_x = np.empty(BLOCKS_PER_MODULE), np.empty(BLOCKS_PER_MODULE)
        low_y, high_y = np.empty(BLOCKS_PER_MODULE), np.empty(BLOCKS_PER_MODULE)
        ax, ay, bx, by = np.empty(12), np.empty(12), np.empty(12), np.empty(12)
        for m in range(task * n_modules // n_tasks, (task + 1) * n_modules // n_tasks):
            ox, oy = modules.origin[m, 0], modules.origin[m, 1]
            sx = modules.short[m, 0] / BLOCKS_PER_MODULE
            sy = modules.short[m, 1] / BLOCKS_PER_MODULE
            lx, ly = modules.long[m, 0], modules.long[m, 1]
            for k in range(BLOCKS_PER_MODULE):
                qx, qy = block_x[k], block_y[k]
                qx[0], qy[0] = ox + k * sx, oy + k * sy
                qx[1], qy[1] = qx[0] + sx, qy[0] + sy
                qx[2], qy[2] = qx[1] + lx, qy[1] + ly
                qx[3], qy[3] = qx[0] + lx, qy[0] + ly
                low_x[k], high_x[k] = qx.min(), qx.max()
                low_y[k], high_y[k] = qy.min(), qy.max()
            first = n = room_start[m]
            total = 0.0
            for r in range(max(modules.first_row[m], 0), min(modules.last_row[m] + 1, n_rows)):
                y0 = r * resolution
                for c in range(max(modules.first_col[m], 0), min(modules.last_col[m] + 1, n_cols)):
                    p = pixel_index[r, c]
                    if p < 0 or pixel_face[p] != modules.face[m]:
                        continue
                    x0 = c * resolution
                    bits = 0
                    area = 0.0
                    for k in range(BLOCKS_PER_MODULE):
                        # A block wholly beside the pixel keeps no corner when clipped.
                        if (
                            high_x[k] < x0
                            or low_x[k] > x0 + resolution
                            or high_y[k] < y0
                            or low_y[k] > y0 + resolution
                        ):
                            continue
                        a = _overlap(block_x[k], block_y[k], x0, y0, resolution, ax, ay, bx, by)
                        if a > OVERLAP_EPS:
                            bits |= 1 << k
                            area += a
                    if bits:
                        pixel[n] = p
                        blocks[n] = bits
                        weight[n] = area
                        total += area
                        n += 1
            for e in range(first, n):
                weight[e] /= total
            n_entries[m] = n - first


@njit(cache=True)
def _overlap(
    qx: np.ndarray,
    qy: np.ndarray,
    x0: float,
    y0: float,
    size: float,
    ax: np.ndarray,
    ay: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
) -> float:  # pragma: no cover - numba
    """Area of a convex quadrilateral inside the square ``[x0, x0 + size] × [y0, y0 + size]``,
    clipped by each of its sides in turn (Sutherland and Hodgman 1974), then the shoelace."""
    n = 4
    for i in range(4):
        ax[i], ay[i] = qx[i], qy[i]
    n = _clip(ax, ay, n, bx, by, 0, x0, 1.0)
    n = _clip(bx, by, n, ax, ay, 0, x0 + size, -1.0)
    n = _clip(ax, ay, n, bx, by, 1, y0, 1.0)
    n = _clip(bx, by, n, ax, ay, 1, y0 + size, -1.0)
    twice = 0.0
    for i in range(n):
        j = (i + 1) % n
        twice += ax[i] * ay[j] - ax[j] * ay[i]
    return abs(twice) / 2.0


@njit(cache=True)
def _clip(
    x: np.ndarray,
    y: np.ndarray,
    n: int,
    out_x: np.ndarray,
    out_y: np.ndarray,
    axis: int,
    bound: float,
    sign: float,
) -> int:  # pragma: no cover - numba
    """Keep the part of a convex polygon where ``sign * (coordinate - bound) >= 0``."""
    m = 0
    for i in range(n):
        j = (i + 1) % n
        da = sign * ((x[i] if axis == 0 else y[i]) - bound)
        db = sign * ((x[j] if axis == 0 else y[j]) - bound)
        if da >= 0.0:
            out_x[m], out_y[m] = x[i], y[i]
            m += 1
        if (da >= 0.0) != (db >= 0.0):
            t = da / (da - db)
            out_x[m] = x[i] + t * (x[j] - x[i])
            out_y[m] = y[i] + t * (y[j] - y[i])
            m += 1
    return m
