"""Footprints reconciled with the surface model: moved onto their roofs, or found absent.

Footprints (BD TOPO, BGT) and the surface model (LiDAR) come from different surveys and
disagree: a polygon sits a metre off its roof, a demolished house leaves a polygon over
bare ground. :func:`check_footprints` compares each footprint with the raised pixels of
the surface, those at least :data:`solar.roofs.MIN_ROOF_HEIGHT` above the ground:

1. Co-registration. The footprint's pixel mask is shifted by whole pixels within
   ±:data:`MAX_SHIFT` and the shift that covers the most raised pixels wins, counting
   only those no other footprint holds: a footprint does not slide onto its neighbour's
   roof. Among equal shifts the shortest wins, so that a footprint smaller than its roof
   (walls inside the eaves) stays put, and a winner on the rim of the search, which may
   lie farther still, is no winner. The shift is then refined
   to a quarter of a pixel around the winner, on a grid four times finer: a footprint
   mask at the surface's pixels moves by whole pixels only, whatever its edges' offset.
   It is applied when it is longer than :data:`MIN_SHIFT` and covers at least
   :data:`MIN_GAIN` of the footprint's pixels more than the footprint in place: the
   surface model then clearly holds the roof elsewhere.
2. Bare ground. A footprint whose pixels (after the shift) are mostly, more than
   :data:`ABSENT_SHARE`, within :data:`LOW_HEIGHT` of the ground stands over nothing: a
   demolished building, or one not yet in the survey. It keeps its record but gets no
   face.

The ground comes from the LAS ground class when the surface has it: each cell takes the
height of the nearest ground-class cell. With a DSM alone it is estimated by a
morphological opening (a minimum then a maximum filter) over a square of
:data:`GROUND_WINDOW`, on the whole tile window, halo included: every building narrower
than the square disappears from it. Its limits: a building wider than the square in both
directions (a hall, a shopping centre) stays in the estimated ground, so its footprint is
found over bare ground; to guard against that, a footprint is only absent when its own
pixels are also no higher than the low percentile of its surroundings
(:data:`RING_WIDTH` around it). A steady slope comes through the opening unchanged, but
a hilltop narrower than the square is shaved off, and a LiDAR pit lowers the ground around
it: the buildings there seem higher, and an absent one may be missed.

Vegetation-class pixels are never raised. With a DSM alone a crown beside a house is, and
may draw the house's footprint towards it when the crown is free of other footprints;
the gain and bracketing conditions above keep the footprints that already lie on their
roofs in place.

3. Buildings with no footprint. :func:`unclaimed_buildings` finds the roofs that no
   footprint holds: a house built since the footprints were drawn. Its candidates are the
   pixels at least :data:`UNCLAIMED_MIN_HEIGHT` above the ground, of the LAS building
   class when the surface has it, else neither vegetation nor rough like a crown
   (:func:`solar.roofs.canopy`), and farther than :data:`CLAIM_MARGIN` from every
   footprint of the window (:data:`MAX_SHIFT` from those of other tiles, which were not
   co-registered here). An opening by :data:`OPENING_WIDTH` cuts walls, fences and hedges
   from them; the connected regions of at least :data:`UNCLAIMED_MIN_AREA` become
   footprints, traced from their pixels, and those that their roof faces do not cover
   with a few large planes are dropped (:func:`planar_enough`): a crown too smooth for
   the texture test. A region is kept by the tile whose core holds its
   centre, so that tiles sharing it in their halos add it once; one that reaches the edge
   of the window, wider than the halo, is left out. Its id, ``LIDAR-<x>-<y>``, is the
   region's centre rounded to the metre in the surface's CRS: the same survey gives the
   same id at every build.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import shapely
from affine import Affine
from numba import njit, prange
from rasterio.features import rasterize, shapes
from scipy import ndimage

from solar.footprints import Footprint
from solar.geometry import polygonal_part
from solar.roofs import MIN_ROOF_HEIGHT, RoofFace, canopy
from solar.surface import Surface

LOW_HEIGHT = 1.0
"""A pixel within this height of the ground is bare ground (or a car, a hedge). [m]"""
ABSENT_SHARE = 0.5
"""Share of a footprint's pixels on the ground above which the building is absent. [-]"""
MAX_SHIFT = 2.0
"""Largest footprint offset searched, along each axis. [m]"""
MIN_SHIFT = 0.25
"""Shortest offset applied: half a pixel at 0.5 m, below which the rasterised masks cannot
tell. [m]"""
MIN_GAIN = 0.03
"""Share of a footprint's pixels the shift must cover more than the footprint in place:
a 0.5 m offset of a 10 m × 10 m house uncovers 5 % of it. [-]"""
GROUND_WINDOW = 50.0
"""Side of the square of the ground's morphological opening, wider than a house. [m]"""
RING_WIDTH = 3.0
"""Width of the surroundings of a footprint compared with it before calling it absent. [m]"""
UNCLAIMED_MIN_HEIGHT = 2.5
"""Height above the ground of a roof that no footprint holds, above garden sheds and
hedges. [m]"""
UNCLAIMED_MIN_AREA = 20.0
"""Smallest plan area of a building found without a footprint. [m²]"""
CLAIM_MARGIN = 1.0
"""Distance from a footprint within which raised pixels are its own: eaves overhang the
walls that footprints trace. [m]"""
UNCLAIMED_MIN_PLANAR_SHARE = 0.6
"""Share of a building found without a footprint that its roof faces must cover: a roof is
a few planes, a crown too smooth for the texture test a dome that no plane covers. [-]"""
UNCLAIMED_MIN_MEAN_FACE = 8.0
"""Mean plan area of the faces of a building found without a footprint: a dome is cut into
many small facets (a 6 m crown into five of 4 m²), a roof into a few large planes. [m²]"""
OPENING_WIDTH = 1.5
"""Side of the square opening that cuts walls, fences and hedges from the raised pixels. [m]"""
_SLOPED_DEG = 10.0  # steeper pixels are those of pitched roofs (or crowns)
_FLAT_SHARE = 0.3  # fewer sloped pixels than this share: a flat roof
_ASPECT_BINS = 12  # directions of 30°
_ASPECT_BINS_KEPT = 4  # a hip roof's four
_ASPECT_SHARE = 0.7  # of the sloped pixels in those: a dome spreads them over all twelve
_RING_PERCENTILE = 5.0  # streets and gardens are the lowest pixels around a building
_MIN_GROUND_CELLS = 10  # fewer ground-class cells and the class is not trusted
_SUBSTEPS = 4  # the sub-pixel search steps by a quarter pixel, 0.125 m at 0.5 m
_SHIFT_BANDS = 4  # most threads that count the shifts' pixels at once

STATUSES = ("ok", "shifted", "absent", "lidar_only")
"""What :func:`check_footprints` says of a footprint."""


@dataclass(frozen=True)
class FootprintCheck:
    """How a footprint agrees with the surface model.

    Attributes
    ----------
    building_id : str
    status : str
        ``ok``, ``shifted`` (moved onto its roof by ``shift``), ``absent`` (over bare
        ground: no face) or ``lidar_only`` (found by :func:`unclaimed_buildings`, with no
        footprint in the source).
    shift : tuple of float
        (dx, dy) applied to the footprint, east and north; (0, 0) unless shifted. [m]
    """

    building_id: str
    status: str
    shift: tuple[float, float] = (0.0, 0.0)

    @property
    def shift_m(self) -> float | None:
        """Length of the shift, None unless shifted. [m]"""
        return math.hypot(*self.shift) if self.status == "shifted" else None


def ground_height(surface: Surface) -> np.ndarray:
    """Height of the ground under every cell: from the LAS ground class, else estimated.

    Parameters
    ----------
    surface : Surface

    Returns
    -------
    numpy.ndarray
        float32, the shape of the surface. [m]

    Examples
    --------
    >>> from affine import Affine
    >>> from rasterio.crs import CRS
    >>> z = np.full((200, 200), 30.0, np.float32)
    >>> z[90:110, 90:110] = 38.0  # a 10 m house at 0.5 m
    >>> s = Surface(z, Affine(0.5, 0, 0, 0, -0.5, 100.0), CRS.from_epsg(2154))
    >>> float(ground_height(s)[100, 100])
    30.0
    """
    z = surface.elevation
    if surface.ground is not None and np.count_nonzero(surface.ground) >= _MIN_GROUND_CELLS:
        nearest = ndimage.distance_transform_edt(
            ~surface.ground, return_distances=False, return_indices=True
        )
        return z[tuple(nearest)]
    size = max(3, round(GROUND_WINDOW / surface.resolution) | 1)
    return ndimage.maximum_filter(ndimage.minimum_filter(z, size=size), size=size)


def check_footprints(
    surface: Surface, footprints: Sequence[Footprint], *, ground: np.ndarray | None = None
) -> list[FootprintCheck]:
    """Co-register each footprint with the surface model and tell those over bare ground.

    See the module docstring for the method. The footprints are rasterised together, each
    pixel to the last footprint that holds its centre, so a footprint wholly under later
    ones, or off the grid, has no pixel and is ``ok``.

    Parameters
    ----------
    surface : Surface
        The tile's window, halo included.
    footprints : sequence of Footprint
        In the surface's CRS.
    ground : numpy.ndarray, optional
        :func:`ground_height` of the surface, when already known. [m]

    Returns
    -------
    list of FootprintCheck
        One per footprint, in order.
    """
    if not footprints:
        return []
    res = surface.resolution
    height = surface.elevation - (ground_height(surface) if ground is None else ground)
    raised = height >= MIN_ROOF_HEIGHT
    if surface.vegetation is not None:
        raised &= ~surface.vegetation
    low = height < LOW_HEIGHT
    labels = rasterize(
        ((fp.geometry, k + 1) for k, fp in enumerate(footprints)),
        out_shape=surface.shape,
        transform=surface.transform,
        dtype="int32",
    )
    reach = round(MAX_SHIFT / res)
    padded = np.pad(raised, reach)
    claimed = np.pad(labels, reach)
    covered, grounded, pixels = _shift_scores(
        labels,
        claimed,
        padded,
        np.pad(low, reach),
        len(footprints),
        reach,
        # each band holds its own counts, 1.3 kB a footprint
        min(numba.get_num_threads(), _SHIFT_BANDS),
    )
    ring = math.ceil(RING_WIDTH / res)
    checks = []
    for k, fp in enumerate(footprints, start=1):
        n = int(pixels[k])
        if n == 0:
            checks.append(FootprintCheck(fp.building_id, "ok"))
            continue
        whole = _best_shift(covered[k], n, reach)
        di, dj = whole or (0, 0)
        if grounded[k, di + reach, dj + reach] > ABSENT_SHARE * n and _stands_low(
            surface.elevation, labels, k, ring
        ):
            checks.append(FootprintCheck(fp.building_id, "absent"))
            continue
        shift = (0.0, 0.0)
        if whole is not None:
            rows_down, cols_east = _refined_shift(
                fp.geometry, padded, surface.transform, reach, whole, claimed, k
            )
            shift = (cols_east * res, -rows_down * res)
        if math.hypot(*shift) > MIN_SHIFT:
            checks.append(FootprintCheck(fp.building_id, "shifted", shift))
        else:
            checks.append(FootprintCheck(fp.building_id, "ok"))
    return checks


def reconciled(
    footprints: Sequence[Footprint], checks: Sequence[FootprintCheck]
) -> list[Footprint]:
    """The footprints to segment: shifted ones moved onto their roofs, absent ones left out.

    Examples
    --------
    >>> fps = [Footprint("a", shapely.box(0, 0, 10, 10)), Footprint("b", shapely.box(20, 0, 29, 9))]
    >>> checks = [FootprintCheck("a", "shifted", (0.5, -1.0)), FootprintCheck("b", "absent")]
    >>> [(f.building_id, f.geometry.bounds) for f in reconciled(fps, checks)]
    [('a', (0.5, -1.0, 10.5, 9.0))]
    """
    out = []
    for fp, check in zip(footprints, checks, strict=True):
        if check.status == "absent":
            continue
        if check.status == "shifted":
            dx, dy = check.shift
            fp = dataclasses.replace(
                fp,
                geometry=shapely.affinity.translate(fp.geometry, dx, dy),
                parts=tuple(
                    dataclasses.replace(p, geometry=shapely.affinity.translate(p.geometry, dx, dy))
                    for p in fp.parts
                ),
            )
        out.append(fp)
    return out


def unclaimed_buildings(
    surface: Surface,
    footprints: Sequence[Footprint],
    core: tuple[float, float, float, float],
    *,
    neighbours: Sequence[Footprint] = (),
    ground: np.ndarray | None = None,
) -> list[Footprint]:
    """Buildings of the surface model that no footprint holds, as traced footprints.

    See the module docstring (3.) for the method.

    Parameters
    ----------
    surface : Surface
        The tile's window, halo included.
    footprints : sequence of Footprint
        The tile's own footprints, reconciled (:func:`reconciled`).
    core : tuple of float
        (xmin, ymin, xmax, ymax) of the tile's core: a region is kept when its centre lies
        in it, west and south edges included. [m]
    neighbours : sequence of Footprint
        Footprints of other tiles that reach into the window.
    ground : numpy.ndarray, optional
        :func:`ground_height` of the surface, when already known. [m]

    Returns
    -------
    list of Footprint
        Ids ``LIDAR-<x>-<y>``, by increasing id.

    Examples
    --------
    A 6 m × 5 m house 6 m high, and no footprint:

    >>> from affine import Affine
    >>> from rasterio.crs import CRS
    >>> z = np.full((120, 120), 30.0, np.float32)
    >>> z[50:60, 40:52] += 6.0
    >>> s = Surface(z, Affine(0.5, 0, 1000.0, 0, -0.5, 2060.0), CRS.from_epsg(2154))
    >>> (found,) = unclaimed_buildings(s, [], s.bounds)
    >>> found.building_id, found.geometry.area
    ('LIDAR-1023-2032', 30.0)
    >>> unclaimed_buildings(s, [found], s.bounds)
    []
    """
    claimed = claimed_cells(surface, footprints, neighbours)
    return traced_buildings(surface, unclaimed_regions(surface, claimed, ground=ground), core)


@dataclass(frozen=True, eq=False)
class UnclaimedRegions:
    """The regions that :func:`unclaimed_buildings` traces: ``labels`` numbers the cells
    of regions 1..n, of which ``index`` holds those that pass the tests, with their
    ``centres`` (row, column) and their ``boxes`` (``scipy.ndimage.find_objects``)."""

    labels: np.ndarray
    index: np.ndarray
    centres: list[tuple[float, float]]
    boxes: list[tuple[slice, slice] | None]


def claimed_cells(
    surface: Surface, footprints: Sequence[Footprint], neighbours: Sequence[Footprint]
) -> np.ndarray:
    """The cells that footprints hold, for :func:`unclaimed_buildings`: within
    :data:`CLAIM_MARGIN` of the tile's own footprints, :data:`MAX_SHIFT` of the others."""
    return _near(surface, footprints, CLAIM_MARGIN) | _near(surface, neighbours, MAX_SHIFT)


def unclaimed_regions(
    surface: Surface, claimed: np.ndarray, *, ground: np.ndarray | None = None
) -> UnclaimedRegions:
    """The raised regions off ``claimed`` (:func:`claimed_cells`) that may be buildings.

    The part of :func:`unclaimed_buildings` that calls no GDAL function: it may run on a
    thread beside GDAL's calls on another, rasterio's environments being per thread.
    """
    res = surface.resolution
    z = surface.elevation
    height = z - (ground_height(surface) if ground is None else ground)
    candidates = (height >= UNCLAIMED_MIN_HEIGHT) & ~claimed
    if surface.building is not None and surface.building.any():
        candidates &= surface.building
    elif surface.vegetation is not None:
        candidates &= ~surface.vegetation
    elif candidates.any():
        # the texture of the unclaimed pixels only: the footprints' roofs are most of a town
        candidates &= ~canopy(z.astype(np.float64), candidates, res)
    width = max(3, math.ceil(OPENING_WIDTH / res))
    candidates = ndimage.binary_opening(candidates, structure=np.ones((width, width), bool))
    labels, n = ndimage.label(candidates)
    if n == 0:
        return UnclaimedRegions(labels, np.zeros(0, np.int64), [], [])
    counts = np.bincount(labels.ravel(), minlength=n + 1)
    # with a DSM alone, texture is the only sign of a crown, and a smooth one passes it
    classified = surface.building is not None or surface.vegetation is not None
    few_planes = np.ones(n + 1, bool) if classified else _few_planes(z, labels, n, res)
    edge = np.zeros(n + 1, bool)
    for border in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        edge[border] = True
    # Most regions of a town are crowns that fail these tests: only the others are placed.
    index = np.flatnonzero(
        (counts * res * res >= UNCLAIMED_MIN_AREA) & ~edge & few_planes & (np.arange(n + 1) > 0)
    )
    if index.size == 0:
        return UnclaimedRegions(labels, index, [], [])
    centres = ndimage.center_of_mass(candidates, labels, index)
    return UnclaimedRegions(labels, index, centres, ndimage.find_objects(labels))


def traced_buildings(
    surface: Surface, regions: UnclaimedRegions, core: tuple[float, float, float, float]
) -> list[Footprint]:
    """The footprints of the ``regions`` whose centre lies in ``core``, for
    :func:`unclaimed_buildings`: traced, simplified, by increasing id."""
    res = surface.resolution
    labels = regions.labels
    found = []
    x0, y0, x1, y1 = core
    for k, (row, col) in zip(regions.index, regions.centres, strict=True):
        box = regions.boxes[k - 1]
        assert box is not None  # every label up to n has cells
        x, y = surface.transform * (col + 0.5, row + 0.5)
        if not (x0 <= x < x1 and y0 <= y < y1):
            continue
        # traced within the region's own box, not over the whole tile
        mask = labels[box] == k
        box_transform = surface.transform * Affine.translation(box[1].start, box[0].start)
        outline = shapely.union_all(
            [
                shapely.geometry.shape(geometry)
                for geometry, _ in shapes(mask.astype(np.uint8), mask, transform=box_transform)
            ]
        )
        polygon = polygonal_part(shapely.make_valid(shapely.simplify(outline, res / 2)))
        if polygon.area >= UNCLAIMED_MIN_AREA:
            found.append(Footprint(f"LIDAR-{x:.0f}-{y:.0f}", polygon))
    return sorted(found, key=lambda f: f.building_id)


def planar_enough(found: Sequence[Footprint], faces: Sequence[RoofFace]) -> list[Footprint]:
    """The buildings found without a footprint whose faces cover enough of them.

    At least :data:`UNCLAIMED_MIN_PLANAR_SHARE` of each footprint's plan area must lie in
    its faces (:func:`solar.roofs.segment_roofs`), and their mean plan area must reach
    :data:`UNCLAIMED_MIN_MEAN_FACE`; the others are crowns or rubble.

    Examples
    --------
    >>> from solar.roofs import RoofFace
    >>> house = Footprint("LIDAR-1-1", shapely.box(0, 0, 10, 8))
    >>> half = shapely.box(0, 0, 10, 4)
    >>> face = RoofFace("LIDAR-1-1", "LIDAR-1-1-1", 35.0, 180.0, False, (0, 0, 0),
    ...                 np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), half, half,
    ...                 48.8, 40.0, 0.02)
    >>> [f.building_id for f in planar_enough([house], [face])]
    []
    >>> [f.building_id for f in planar_enough([house], [face, face])]
    ['LIDAR-1-1']
    """
    covered: dict[str, float] = {}
    count: dict[str, int] = {}
    for face in faces:
        covered[face.building_id] = covered.get(face.building_id, 0.0) + face.polygon.area
        count[face.building_id] = count.get(face.building_id, 0) + 1
    return [
        fp
        for fp in found
        if covered.get(fp.building_id, 0.0) >= UNCLAIMED_MIN_PLANAR_SHARE * fp.geometry.area
        and covered[fp.building_id] >= UNCLAIMED_MIN_MEAN_FACE * count[fp.building_id]
    ]


def _few_planes(z: np.ndarray, labels: np.ndarray, n: int, res: float) -> np.ndarray:
    """Whether each labelled region slopes towards a few directions, as roof planes do.

    The sloped pixels (over :data:`_SLOPED_DEG`) of a roof face a few directions (two for
    a gable, four for a hip); those of a dome, a smooth crown, face all around. A region
    passes when its sloped pixels are few (a flat roof) or when :data:`_ASPECT_BINS_KEPT`
    of the :data:`_ASPECT_BINS` directions hold :data:`_ASPECT_SHARE` of them. A cheap test
    before :func:`planar_enough`, which needs the segmentation. It serves with a DSM alone:
    the LAS classes tell crowns from roofs, and a roof of many directions could fail it.
    """
    rows, cols = np.nonzero(labels)
    region = labels[rows, cols]
    # rows run south: the gradient along them is the slope towards the south
    dz_south = _gradient_at(z, rows, cols, res, axis=0)
    dz_east = _gradient_at(z, rows, cols, res, axis=1)
    sloped = np.hypot(dz_east, dz_south) > math.tan(math.radians(_SLOPED_DEG))
    # downhill, clockwise from north
    aspect = np.degrees(np.arctan2(-dz_east[sloped], dz_south[sloped])) % 360.0
    bins = np.minimum((aspect / (360.0 / _ASPECT_BINS)).astype(np.int64), _ASPECT_BINS - 1)
    histogram = np.bincount(
        region[sloped] * _ASPECT_BINS + bins, minlength=(n + 1) * _ASPECT_BINS
    ).reshape(n + 1, _ASPECT_BINS)
    total = histogram.sum(axis=1)
    top = np.sort(histogram, axis=1)[:, -_ASPECT_BINS_KEPT:].sum(axis=1)
    sizes = np.bincount(region, minlength=n + 1)
    return (total < _FLAT_SHARE * sizes) | (top >= _ASPECT_SHARE * np.maximum(total, 1))


def _gradient_at(
    z: np.ndarray, rows: np.ndarray, cols: np.ndarray, res: float, *, axis: int
) -> np.ndarray:
    """:func:`numpy.gradient` of ``z`` along ``axis`` at the pixels (rows, cols) only, to
    the bit: central differences inside, one-sided ones on the first and last lines.

    Most of a tile lies outside the regions tested: the whole gradient would cost ten
    times more.
    """
    at = rows if axis == 0 else cols
    last = z.shape[axis] - 1
    before = np.maximum(at - 1, 0)
    after = np.minimum(at + 1, last)
    if axis == 0:
        high, low = z[after, cols], z[before, cols]
    else:
        high, low = z[rows, after], z[rows, before]
    high, low = high.astype(np.float64), low.astype(np.float64)
    inner = (at > 0) & (at < last)
    return np.where(inner, (high - low) / (2.0 * res), (high - low) / res)


def _near(surface: Surface, footprints: Sequence[Footprint], margin: float) -> np.ndarray:
    """The cells within ``margin`` of any of the footprints."""
    if not footprints:
        return np.zeros(surface.shape, bool)
    inside = rasterize(
        (fp.geometry for fp in footprints),
        out_shape=surface.shape,
        transform=surface.transform,
        dtype="uint8",
        all_touched=True,
    ).view(bool)
    reach = math.ceil(margin / surface.resolution)
    return ndimage.binary_dilation(inside, iterations=reach) if reach else inside


def shift_summary(checks: Sequence[FootprintCheck]) -> dict[str, float | int]:
    """Counts of each status, and the median offset of the shifted footprints. [m]

    Examples
    --------
    >>> shift_summary([FootprintCheck("a", "shifted", (0.5, -1.0)), FootprintCheck("b", "ok")])
    {'ok': 1, 'shifted': 1, 'absent': 0, 'lidar_only': 0, 'median_dx_m': 0.5, 'median_dy_m': -1.0}
    """
    summary: dict[str, float | int] = {s: sum(c.status == s for c in checks) for s in STATUSES}
    shifts = np.array([c.shift for c in checks if c.status == "shifted"]).reshape(-1, 2)
    if len(shifts):
        summary["median_dx_m"] = round(float(np.median(shifts[:, 0])), 2)
        summary["median_dy_m"] = round(float(np.median(shifts[:, 1])), 2)
    return summary


def _best_shift(covered: np.ndarray, n: int, reach: int) -> tuple[int, int] | None:
    """The winning whole-pixel shift (di rows down, dj columns east), None when none wins.

    ``covered[reach + di, reach + dj]`` counts the raised pixels under the footprint
    moved by (di, dj).
    """
    best = covered.max()
    if best - covered[reach, reach] < MIN_GAIN * n:
        return None
    ties = np.argwhere(covered == best) - reach
    di, dj = ties[np.argmin((ties**2).sum(axis=1))]
    if max(abs(di), abs(dj)) == reach:
        return None  # the best shift is not bracketed: the roof is not in reach
    return int(di), int(dj)


def _refined_shift(
    geometry: shapely.Geometry,
    raised: np.ndarray,
    transform: Affine,
    reach: int,
    whole: tuple[int, int],
    claimed: np.ndarray,
    label: int,
) -> tuple[float, float]:
    """The shift to a fraction of a pixel, within one pixel of the whole-pixel one. [px]

    The footprint is rasterised on a grid :data:`_SUBSTEPS` times finer, each raised pixel
    split alike, and the finer shifts around ``whole`` are scored as the whole ones were:
    a footprint mask at the surface's pixels moves by whole pixels only, whatever the
    offset of its edges. ``raised`` and ``claimed`` (the footprints' labels) are padded by
    ``reach``; the raised pixels of the other labels do not count.

    Returns
    -------
    tuple of float
        (rows down, columns east). [px]
    """
    di, dj = whole
    xmin, ymin, xmax, ymax = geometry.bounds
    col_a, row_a = ~transform @ (xmin, ymax)
    col_b, row_b = ~transform @ (xmax, ymin)
    r0, c0 = math.floor(row_a), math.floor(col_a)
    r1, c1 = math.ceil(row_b), math.ceil(col_b)
    top, left = r0 + di + reach - 1, c0 + dj + reach - 1
    bottom, right = r1 + di + reach + 1, c1 + dj + reach + 1
    if top < 0 or left < 0 or bottom > raised.shape[0] or right > raised.shape[1]:
        return float(di), float(dj)
    step = _SUBSTEPS
    fine = rasterize(
        [geometry],
        out_shape=((r1 - r0) * step, (c1 - c0) * step),
        transform=transform * Affine.translation(c0, r0) * Affine.scale(1 / step),
        dtype="uint8",
    ).view(bool)
    owner = claimed[top:bottom, left:right]
    free = raised[top:bottom, left:right] & ((owner == 0) | (owner == label))
    split = np.repeat(np.repeat(free, step, 0), step, 1)
    h, w = fine.shape
    offsets = range(-step, step + 1)
    scores = np.array(
        [
            [
                np.count_nonzero(fine & split[step + a : step + a + h, step + b : step + b + w])
                for b in offsets
            ]
            for a in offsets
        ]
    )
    ties = np.argwhere(scores == scores.max()) - step
    a, b = ties[np.argmin((ties**2).sum(axis=1))]
    return di + float(a) / step, dj + float(b) / step


def _stands_low(elevation: np.ndarray, labels: np.ndarray, k: int, ring: int) -> bool:
    """Whether footprint ``k`` stands no higher than the low ground around it."""
    rows, cols = np.nonzero(labels == k)
    r0, r1 = max(rows.min() - ring, 0), rows.max() + ring + 1
    c0, c1 = max(cols.min() - ring, 0), cols.max() + ring + 1
    inside = labels[r0:r1, c0:c1] == k
    around = ndimage.binary_dilation(inside, iterations=ring) & ~inside
    z = elevation[r0:r1, c0:c1]
    if not around.any():
        return True
    base = np.percentile(z[around], _RING_PERCENTILE)
    return bool(np.median(z[inside]) < base + LOW_HEIGHT)


@njit(cache=True, parallel=True)
def _shift_scores(labels, claimed, raised, low, n_labels, reach, bands):  # pragma: no cover
    """For each label and shift, the raised and low pixels under its shifted mask.

    ``claimed``, ``raised`` and ``low`` are padded by ``reach`` on every side; ``claimed``
    is ``labels`` padded, and a raised pixel of another label does not count. Returns
    ``covered`` and ``grounded`` (n_labels + 1, 2 reach + 1, 2 reach + 1) and each label's
    pixel count. The rows are split into ``bands``, one per thread, each counted apart.
    """
    span = 2 * reach + 1
    rows, cols = labels.shape
    covered = np.zeros((bands, n_labels + 1, span, span), np.int64)
    grounded = np.zeros((bands, n_labels + 1, span, span), np.int64)
    pixels = np.zeros((bands, n_labels + 1), np.int64)
    for band in prange(bands):
        for r in range(band * rows // bands, (band + 1) * rows // bands):
            for c in range(cols):
                k = labels[r, c]
                if k == 0:
                    continue
                pixels[band, k] += 1
                for i in range(span):
                    for j in range(span):
                        owner = claimed[r + i, c + j]
                        if raised[r + i, c + j] and (owner == 0 or owner == k):
                            covered[band, k, i, j] += 1
                        if low[r + i, c + j]:
                            grounded[band, k, i, j] += 1
    return covered.sum(axis=0), grounded.sum(axis=0), pixels.sum(axis=0)
