"""Roof faces: plane segmentation of a surface model inside building footprints.

The chain per building, on a window around its footprint:

1. Roof pixels: inside the footprint, at least ``min_height`` above the local ground, not
   ground-class; vegetation-class pixels are roof that no face may claim, and so are,
   on a surface without classes, rough patches (tree crowns, see :func:`_canopy`).
2. Normals from Horn's (1981) operator, a least-squares plane through the 3×3 neighbours
   weighted 1-2-1, fitted through roof pixels only so that eaves ignore the ground below
   them. No further smoothing: the faces of Dutch or northern French row houses are often
   5 pixels wide at 0.5 m, and a wider kernel blends them with their neighbours.
3. Region growing from the most planar pixels. A pixel joins a region when it lies within
   half of ``obstacle_tolerance`` of the region's least-squares plane, or within the whole
   tolerance with its normal within ``angle_tolerance`` of the plane's.
4. Neighbouring regions that share a plane merge, and so do distant ones when both are
   wide: a chimney, a dormer or a tree that cuts a face in two leaves one face.
5. Every roof pixel goes to the nearby plane it fits best, the planes are refitted by least
   squares, twice, and bands without a 3×3 core along a real face (the slivers of ridges)
   are dropped. The tilt comes from a plane over hundreds of pixels (about 0.5° at 0.5 m),
   never from per-pixel slopes (5° to 10° of noise each).
6. Roof pixels that fit no plane and that faces enclose are the obstacles of the nearest
   face (chimneys, dormers, skylights, overhanging trees); such pixels that reach the
   edge of the roof are cut out of the outline instead.
7. Outlines are polygonised from the pixels, clipped to the footprint, and unfolded into
   the roof plane, where the edge setback and the clearance around obstacles are taken
   in true roof metres and the sloped areas are measured.

References
----------
Horn, B. K. P. (1981). Hill shading and the reflectance map. Proceedings of the IEEE,
69(1), 14-47. https://doi.org/10.1109/PROC.1981.11918

Rabbani, T., van den Heuvel, F. A., Vosselman, G. (2006). Segmentation of point clouds
using smoothness constraint. ISPRS Archives, 36(5), 248-253.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import rasterio
import shapely
from affine import Affine
from numba import njit
from rasterio.features import rasterize, shapes
from shapely import MultiPolygon, Polygon

from solar.footprints import Footprint, Part
from solar.geometry import polygonal_part, polygonal_parts
from solar.surface import Surface
from solar.threads import threaded_map

FLAT_TILT = 5.0
"""A face under this tilt is flat: its azimuth is undefined and its modules are racked. [°]"""

FACE_GRID = 1e-8
"""Grid of the snap-rounding that clips the faces to their footprint. A plain overlay
leaves edges 1e-11 m apart where an outline runs along the footprint: valid, but the
rounding of a reprojection crosses them (11 of the demo's faces). Snap-rounded, Delft's
faces keep at least 0.17 mm between non-adjacent edges, and their areas to 1e-8; a grid
this fine moves the footprint's own vertices by 5 nm at most, so faces stay inside it.
[m]"""

# Room around a footprint for the local ground level and the clipping margin. [m]
_MARGIN = 3.0
# Fewer ground-class pixels than this in a window and the ground level falls back to a low
# percentile of the pixels around the footprint.
_MIN_GROUND_PIXELS = 10
# Streets and gardens around a building are its lowest pixels; 5 % ignores LiDAR pits.
_GROUND_PERCENTILE = 5.0
# A region of fewer pixels is noise: too few points to fit a plane worth merging.
_MIN_REGION_PIXELS = 4
# A pixel is offered to the planes of the faces within this many pixels of it.
_ASSIGN_RADIUS = 2
# An enclosed patch off the plane is an obstacle from two pixels up (0.5 m² at 0.5 m): a
# lone pixel is most often a stray return (on the Delft sample, 196 of 264 patches), and its
# clearance would cost 1.7 m² of modules. It stays inside the face's outline.
MIN_OBSTACLE_PIXELS = 2

MIN_ROOF_HEIGHT = 2.0
"""Smallest height above the local ground for a pixel to be roof: a garden wall or a car
is lower. [m]"""

CANOPY_RMS = 0.15
"""Residual of a pixel's 3×3 plane above which, on a surface without classes, it may lie
on a tree crown: a 35° ridge across the window leaves 0.18 m, but along a line only. [m]"""
CANOPY_MIN_WIDTH = 2.5
"""Side of the square a patch of rough pixels must hold to be a crown. [m]"""

# Regions merge when one plane for both adds less than this share of obstacle_tolerance
# (rms) to their own residuals: 5 cm by default, the scale of LiDAR height noise.
_MERGE_RMSE_SHARE = 0.25


@dataclass(frozen=True, eq=False)
class RoofFace:
    """One plane of a roof.

    Attributes
    ----------
    building_id : str
        The footprint's id.
    face_id : str
        ``f"{building_id}-{k}"``, k = 1, 2, ... by decreasing ``area_m2``.
    surface_tilt : float
        Tilt of the fitted plane from horizontal. [°]
    surface_azimuth : float or None
        Downslope direction of the plane, clockwise from north (180 = south); None when
        the face is flat. [°]
    is_flat : bool
        ``surface_tilt < FLAT_TILT``.
    plane : tuple of float
        (a, b, c) with z = a·x + b·y + c, x east and y north in the surface CRS. [m m-1],
        [m m-1], [m]
    rows, cols : numpy.ndarray
        int32 grid indices of the pixels that lie in the plane.
    obstacle_rows, obstacle_cols : numpy.ndarray
        int32 grid indices of the pixels inside the outline that are not in the plane:
        more than ``obstacle_tolerance`` off it, or under vegetation.
    polygon : shapely.Polygon or shapely.MultiPolygon
        Plan outline of the face in the surface CRS, obstacles included. [m]
    usable_polygon : shapely.Polygon or shapely.MultiPolygon
        ``polygon`` less the edge setback and less the obstacles with the same clearance,
        in plan in the surface CRS (possibly empty). [m]
    area_m2 : float
        True sloped area of ``polygon``: plan area / cos(tilt). [m²]
    usable_area_m2 : float
        True sloped area of ``usable_polygon``. [m²]
    rmse_m : float
        Root-mean-square distance of the in-plane pixels to the plane. [m]
    part_id : str or None
        The dwelling whose part of a shared footprint holds the face
        (:mod:`solar.dwellings`); None when the building is whole.
    """

    building_id: str
    face_id: str
    surface_tilt: float
    surface_azimuth: float | None
    is_flat: bool
    plane: tuple[float, float, float]
    rows: np.ndarray
    cols: np.ndarray
    obstacle_rows: np.ndarray
    obstacle_cols: np.ndarray
    polygon: Polygon | MultiPolygon
    usable_polygon: Polygon | MultiPolygon
    area_m2: float
    usable_area_m2: float
    rmse_m: float
    part_id: str | None = None


def horn_gradient(
    elevation: np.ndarray, resolution: float, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of a north-up grid by Horn's 3×3 operator, optionally within a mask.

    Horn's operator is the least-squares plane through the 3×3 neighbourhood with weights
    1-2-1 ⊗ 1-2-1. With a mask, the same weighted plane is fitted through the neighbours
    inside the mask only, so that a roof's gradient near its edge ignores the ground and
    the walls beyond it.

    Parameters
    ----------
    elevation : numpy.ndarray
        Heights on a north-up grid, shape (rows, cols). [m]
    resolution : float
        Pixel size. [m]
    mask : numpy.ndarray, optional
        Boolean, same shape: the pixels to use. Default all.

    Returns
    -------
    dz_dx, dz_dy : numpy.ndarray
        float64 slopes towards the east (columns) and towards the north (against the rows);
        NaN where the mask leaves no plane (off the mask, or neighbours in a line). [m m-1]

    References
    ----------
    Horn, B. K. P. (1981). https://doi.org/10.1109/PROC.1981.11918

    Examples
    --------
    >>> x = np.arange(6) * 0.5
    >>> z = np.tile(0.7 * x, (5, 1))
    >>> dz_dx, dz_dy = horn_gradient(z, 0.5)
    >>> round(float(dz_dx[2, 2]), 3), round(float(dz_dy[2, 2]), 3)
    (0.7, 0.0)
    """
    if mask is None:
        mask = np.ones(elevation.shape, bool)
    dz_dx, dz_dy, _ = _local_planes(elevation.astype(np.float64), mask, resolution)
    return dz_dx, dz_dy


def plane_orientation(a: float, b: float) -> tuple[float, float]:
    """Tilt and downslope azimuth of the plane z = a·x + b·y + c (x east, y north).

    Parameters
    ----------
    a, b : float
        Slopes towards the east and towards the north. [m m-1]

    Returns
    -------
    surface_tilt, surface_azimuth : float
        Tilt from horizontal, and azimuth of the downslope direction clockwise from north
        in [0, 360), pvlib's convention. [°]

    Examples
    --------
    >>> plane_orientation(0.0, 0.7)  # rises to the north, so it faces south
    (34.99202019855866, 180.0)
    """
    tilt = math.degrees(math.atan(math.hypot(a, b)))
    azimuth = math.degrees(math.atan2(-a, -b)) % 360.0
    return tilt, azimuth


def segment_roofs(
    surface: Surface,
    footprints: Sequence[Footprint],
    *,
    min_face_area: float = 2.0,
    setback: float = 0.4,
    obstacle_tolerance: float = 0.2,
    max_roof_tilt: float = 70.0,
    angle_tolerance: float = 10.0,
    min_height: float = MIN_ROOF_HEIGHT,
) -> list[RoofFace]:
    """Roof faces of each footprint, from the surface model.

    Parameters
    ----------
    surface : Surface
        The surface model, in a projected CRS in metres.
    footprints : sequence of Footprint
        Building footprints in the surface's CRS. Those off the grid get no face.
    min_face_area : float, default 2.0
        Smallest true area of a face in its own plane (sloped, like ``RoofFace.area_m2``,
        not in plan), counted on the pixels that lie in the plane: on each region as it
        grew from its seeds, and again once every roof pixel has gone to the plane it fits
        best. A smaller plane becomes an obstacle of the face around it, or is cut out of
        the outlines at the roof's edge. [m²]
    setback : float, default 0.4
        Clearance kept free of panels along a face's edges and around its obstacles,
        measured in the roof plane. [m]
    obstacle_tolerance : float, default 0.2
        Largest vertical distance between a pixel and a face's plane for the pixel to
        belong to the face; farther pixels inside the face are obstacles. [m]
    max_roof_tilt : float, default 70.0
        Steepest roof, where walls begin: steeper pixels never seed or grow a face, and
        steeper planes are walls, not faces. Whether a face is too steep for modules is
        decided later, by the build's suitability limit. [°]
    angle_tolerance : float, default 10.0
        Largest angle between a pixel's normal and its growing region's plane normal for a
        pixel more than half of ``obstacle_tolerance`` off the plane to join the region,
        and between two planes for them to merge: the bending a face may take. [°]
    min_height : float, default :data:`MIN_ROOF_HEIGHT`
        Smallest height above the local ground for a pixel to be roof; lower pixels inside
        a footprint (courtyards, ground seen past the eaves) are not roof. [m]

    Returns
    -------
    list of RoofFace
        Grouped by building in the order of ``footprints``, by decreasing area within a
        building.

    Notes
    -----
    Each building is segmented on its own window, so the cost grows with the number of
    buildings and their size, and buildings can be shared between workers; the result
    does not depend on which buildings are segmented together. The windows are packed
    side by side into one raster (:class:`_Atlas`) to be rasterised and polygonised
    together, the buildings are segmented on as many threads as numba's kernels use, and
    the outlines are simplified, straightened and clipped for all buildings at once: no
    GDAL or GEOS call is made per building.

    Of the surface's class masks, ground pixels are never roof, and vegetation pixels are
    roof that no face may claim: a crown over a face is an obstacle of it, or is cut out
    of its outline at the edge. Without classes (a DSM alone), the rough patches that
    :func:`_canopy` takes for crowns are treated as vegetation. The building mask is not
    used: in AHN3 the cells filled between points and some roof furniture carry no class,
    yet lie on roofs.

    Examples
    --------
    >>> from affine import Affine
    >>> from rasterio.crs import CRS
    >>> south, east = (np.mgrid[0:40, 0:40] + 0.5) * 0.5  # pixel centres from the corner
    >>> house = (east > 5) & (east < 15) & (south > 5) & (south < 15)
    >>> z = np.where(house, 8.0 + 0.7 * south, 0.0)  # rises southwards: faces north
    >>> surface = Surface(z.astype(np.float32), Affine(0.5, 0, 0, 0, -0.5, 20.0),
    ...                   CRS.from_epsg(2154))
    >>> house = Footprint("b1", shapely.box(5, 5, 15, 15))
    >>> [face] = segment_roofs(surface, [house])
    >>> face.face_id, round(face.surface_tilt, 1), round(face.surface_azimuth)
    ('b1-1', 35.0, 0)
    """
    if min_face_area < 0 or setback < 0 or min_height < 0:
        raise ValueError("min_face_area, setback and min_height must not be negative")
    if obstacle_tolerance <= 0:
        raise ValueError("obstacle_tolerance must be positive")
    if not 0 < max_roof_tilt < 90 or not 0 < angle_tolerance < 90:
        raise ValueError("max_roof_tilt and angle_tolerance must lie strictly between 0° and 90°")
    if not footprints:
        return []
    params = _Params(
        min_face_area=min_face_area,
        obstacle_tolerance=obstacle_tolerance,
        max_roof_tilt=max_roof_tilt,
        angle_tolerance=angle_tolerance,
        min_height=min_height,
    )
    windows = [_pixel_span(surface, f.geometry.bounds, _MARGIN) for f in footprints]
    # One GDAL environment, one rasterize and two polygonize calls for the whole surface:
    # per building, their set-up cost more than the work.
    with rasterio.Env():
        insides = _footprint_masks(surface, footprints, windows)
        jobs = list(zip(footprints, windows, insides, strict=True))
        # A few dozen buildings per task: a task costs the pool tens of microseconds.
        labelled = list(
            itertools.chain.from_iterable(
                threaded_map(
                    lambda chunk: [_label_faces(surface, *job, params) for job in chunk],
                    [jobs[k : k + _LABEL_BUILDINGS] for k in range(0, len(jobs), _LABEL_BUILDINGS)],
                )
            )
        )
        traced = _trace(surface, [b for b in labelled if b is not None])
    drafts: list[_Draft] = []
    for footprint, building in zip(footprints, labelled, strict=True):
        if building is None:
            continue
        whole = traced[id(building)]
        drafts.extend(_split(whole, footprint.parts, surface) if footprint.parts else whole)
    return _finish(drafts, setback)


@dataclass(frozen=True)
class _Params:
    min_face_area: float
    obstacle_tolerance: float
    max_roof_tilt: float
    angle_tolerance: float
    min_height: float


@dataclass(frozen=True, eq=False)
class _Draft:
    """A face before its areas are measured."""

    building_id: str
    plane: tuple[float, float, float]
    rmse: float
    rows: np.ndarray
    cols: np.ndarray
    obstacle_rows: np.ndarray
    obstacle_cols: np.ndarray
    outline: Polygon | MultiPolygon
    obstacles: Polygon | MultiPolygon
    part_id: str | None = None


#: A face's piece in a dwelling's part smaller than this is left out: a sliver along the
#: party wall that holds no module. [m²]
_MIN_PIECE_AREA = 1.0


def _split(drafts: list[_Draft], parts: Sequence[Part], surface: Surface) -> list[_Draft]:
    """Cut a building's faces along its dwellings' parts: each piece keeps its plane.

    A pixel goes to the part that holds its centre, and the outline and obstacles are cut
    by the part's polygon.
    """
    t = surface.transform  # north-up: x from the column, y from the row

    def centres(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e

    pieces = []
    for d in drafts:
        x, y = centres(d.rows, d.cols)
        ox, oy = centres(d.obstacle_rows, d.obstacle_cols)
        for part in parts:
            outline = polygonal_part(shapely.intersection(d.outline, part.geometry))
            inside = shapely.contains_xy(part.geometry, x, y)
            if outline.area < _MIN_PIECE_AREA or not inside.any():
                continue
            blocked = shapely.contains_xy(part.geometry, ox, oy)
            pieces.append(
                dataclasses.replace(
                    d,
                    rows=d.rows[inside],
                    cols=d.cols[inside],
                    obstacle_rows=d.obstacle_rows[blocked],
                    obstacle_cols=d.obstacle_cols[blocked],
                    outline=outline,
                    obstacles=polygonal_part(shapely.intersection(d.obstacles, part.geometry)),
                    part_id=part.part_id,
                )
            )
    return pieces


def _pixel_span(
    surface: Surface, bounds: tuple[float, float, float, float], margin: float
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rows and columns [start, stop) of the grid covering ``bounds`` plus ``margin``."""
    xmin, ymin, xmax, ymax = bounds
    inverse = ~surface.transform
    col_a, row_a = inverse @ (xmin - margin, ymax + margin)
    col_b, row_b = inverse @ (xmax + margin, ymin - margin)
    rows, cols = surface.shape
    r0 = min(max(math.floor(row_a), 0), rows)
    c0 = min(max(math.floor(col_a), 0), cols)
    r1 = min(max(math.ceil(row_b), 0), rows)
    c1 = min(max(math.ceil(col_b), 0), cols)
    return (r0, c0), (r1, c1)


@dataclass(frozen=True, eq=False)
class _Labelled:
    """One building's faces as pixel labels on its window, before their outlines.

    ``extended`` numbers the outlines' pixels of faces 1..n (obstacles enclosed, one pixel
    past the footprint), ``obstacle`` each face's obstacle pixels; ``planes`` (n + 1, 3)
    are in the surface's CRS, row 0 unused, and ``centres`` (n + 1, 2) the centroids of
    the faces' pixels. [m] ``pixels`` and ``obstacle_pixels`` list the grid rows and
    columns of each face's in-plane and obstacle pixels (:class:`_PixelLists`).
    """

    footprint: Footprint
    origin: tuple[int, int]
    extended: np.ndarray
    obstacle: np.ndarray
    planes: np.ndarray
    sse: np.ndarray
    counts: np.ndarray
    centres: np.ndarray
    pixels: _PixelLists
    obstacle_pixels: _PixelLists

    @property
    def n_faces(self) -> int:
        return len(self.planes) - 1


class _PixelLists(NamedTuple):
    """The int32 grid rows and columns of the pixels of labels 1..n, in raster order
    within a label: label k's are ``rows[bounds[k - 1]:bounds[k]]``."""

    rows: np.ndarray
    cols: np.ndarray
    bounds: np.ndarray

    def of(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows and columns of label ``k``."""
        start, stop = self.bounds[k - 1], self.bounds[k]
        return self.rows[start:stop], self.cols[start:stop]


class _LabelParams(NamedTuple):
    """The settings of :func:`_label_window`, as numbers numba can take."""

    res: float  # pixel size [m]
    min_height: float  # [m]
    tol: float  # obstacle_tolerance [m]
    cos_tol: float  # cosine of angle_tolerance
    min_face_area: float  # [m²]
    max_slope: float  # tangent of max_roof_tilt
    canopy_rms: float  # CANOPY_RMS, read at each call [m]
    canopy_width: int  # side of the crown test's square [px]


def _footprint_masks(
    surface: Surface,
    footprints: Sequence[Footprint],
    windows: Sequence[tuple[tuple[int, int], tuple[int, int]]],
) -> list[np.ndarray | None]:
    """Each footprint's pixels (centre inside) on its window; None when it has none.

    The footprints are rasterised together, each on its own slot of an :class:`_Atlas`, so
    that overlapping footprints each keep all their pixels, as if rasterised alone.
    """
    shapes_ = [(r1 - r0, c1 - c0) for (r0, c0), (r1, c1) in windows]
    atlas = _Atlas(shapes_)
    t = surface.transform
    geoms = np.array([f.geometry for f in footprints], dtype=object)
    empty = np.array([h <= 0 or w <= 0 for h, w in shapes_])
    origin = np.array([(r0, c0) for (r0, c0), _ in windows], dtype=np.float64)
    sizes = np.array(shapes_, dtype=np.float64)
    # Footprints that run off the grid are cut to their window first, not to spill over
    # into their neighbours' slots.
    xmin = t.c + origin[:, 1] * t.a
    ymax = t.f + origin[:, 0] * t.e
    xmax = xmin + sizes[:, 1] * t.a
    ymin = ymax + sizes[:, 0] * t.e
    bounds = shapely.bounds(geoms)
    spill = ~empty & (
        (bounds[:, 0] < xmin)
        | (bounds[:, 1] < ymin)
        | (bounds[:, 2] > xmax)
        | (bounds[:, 3] > ymax)
    )
    if spill.any():
        geoms[spill] = shapely.intersection(
            geoms[spill],
            shapely.box(xmin[spill], ymin[spill], xmax[spill], ymax[spill]),
        )
    # Into atlas pixels, each window's corner on its slot's: columns east, and rows north
    # as the surface's. A pixel centre that lies on an edge (footprints traced from a point
    # cloud on the surface's own grid run through them) is burnt or not by a rule of GDAL
    # that depends on the axes' direction: they stay those of the surface.
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    col = (coords[:, 0] - t.c) / t.a - origin[index, 1] + atlas.cols[index]
    row = (coords[:, 1] - t.f) / t.e - origin[index, 0] + atlas.rows[index]
    geoms = shapely.set_coordinates(geoms.copy(), np.column_stack([col, -row]))
    burn = [(g, k + 1) for k, g in enumerate(geoms) if not empty[k] and not g.is_empty]
    if burn:
        raster = rasterize(burn, out_shape=atlas.shape, transform=_NORTH_UP, dtype="int32")
    else:
        raster = np.zeros(atlas.shape, np.int32)
    masks: list[np.ndarray | None] = []
    for k in range(len(footprints)):
        inside = atlas.slot(raster, k) == k + 1 if not empty[k] else None
        masks.append(inside if inside is not None and inside.any() else None)
    return masks


_EMPTY = Polygon()  # shared: shapely builds every empty polygon from its WKT

# Buildings labelled in one task of the thread pool, buildings whose outlines are
# simplified together, and faces clipped together.
_LABEL_BUILDINGS = 32
_SIMPLIFY_BUILDINGS = 32
_CLIP_BLOCK = 256
# Faces measured together (_finish).
_MEASURE_BLOCK = 1024

# The atlas in pixel units: outlines are traced with rows downwards, as the grid's run;
# footprints are rasterised with rows upwards, as the surface's y (see _footprint_masks).
_ATLAS_TRANSFORM = Affine.identity()
_NORTH_UP = Affine(1.0, 0.0, 0.0, 0.0, -1.0, 0.0)


class _Atlas:
    """Windows of different sizes packed side by side into one raster, on shelves.

    A pixel gap separates the slots, so that nothing traced in one touches another.
    """

    _WIDTH = 4096  # [px]

    def __init__(self, shapes: Sequence[tuple[int, int]]) -> None:
        width = max([self._WIDTH, *(w + 1 for _, w in shapes)])
        rows, cols = np.zeros(len(shapes), np.int64), np.zeros(len(shapes), np.int64)
        top = left = shelf = 0
        for k, (h, w) in enumerate(shapes):
            h, w = max(h, 0), max(w, 0)
            if left + w + 1 > width:
                top, left, shelf = top + shelf + 1, 0, 0
            rows[k], cols[k] = top, left
            left += w + 1
            shelf = max(shelf, h)
        self.rows, self.cols = rows, cols
        self.sizes = [(max(h, 0), max(w, 0)) for h, w in shapes]
        self.shape = (max(top + shelf, 1), width)

    def slot(self, raster: np.ndarray, k: int) -> np.ndarray:
        """The view of ``raster`` on slot ``k``."""
        h, w = self.sizes[k]
        r, c = self.rows[k], self.cols[k]
        return raster[r : r + h, c : c + w]


def _label_faces(
    surface: Surface,
    footprint: Footprint,
    window: tuple[tuple[int, int], tuple[int, int]],
    inside: np.ndarray | None,
    params: _Params,
) -> _Labelled | None:
    """Segment one building on its window (steps 1 to 6 of the module docstring).

    The work is one numba call, :func:`_label_window`, which releases the GIL: the
    buildings of a tile run on every thread of :func:`solar.threads.threaded_map`.
    """
    if inside is None:
        return None
    res = surface.resolution
    (r0, c0), (r1, c1) = window
    rows_cols = (slice(r0, r1), slice(c0, c1))
    # Contiguous copies, a few kilobytes: one signature of the kernel to compile, whatever
    # the windows and the classes.
    contiguous = np.ascontiguousarray
    no_class = np.zeros((0, 0), bool)
    kernel_params = _LabelParams(
        res=res,
        min_height=params.min_height,
        tol=params.obstacle_tolerance,
        cos_tol=math.cos(math.radians(params.angle_tolerance)),
        min_face_area=params.min_face_area,
        max_slope=math.tan(math.radians(params.max_roof_tilt)),
        canopy_rms=CANOPY_RMS,
        canopy_width=max(3, math.ceil(CANOPY_MIN_WIDTH / res)),
    )
    (extended, obstacle, moments, planes, sse, counts, zref, pixels, obstacle_pixels) = (
        _label_window(
            contiguous(surface.elevation[rows_cols]),
            inside,
            no_class if surface.ground is None else contiguous(surface.ground[rows_cols]),
            no_class if surface.vegetation is None else contiguous(surface.vegetation[rows_cols]),
            (r0, c0),
            kernel_params,
        )
    )
    if len(planes) <= 1:
        return None
    t = surface.transform  # the window's corner, as surface.transform @ translation(c0, r0)
    x0, y0 = t.a * c0 + t.b * r0 + t.c, t.d * c0 + t.e * r0 + t.f
    # Planes in the CRS: z = a·x + b·y + c, from the window's local u = x - x0, v = y - y0.
    planes[:, 2] += zref - planes[:, 0] * x0 - planes[:, 1] * y0
    n = np.maximum(counts, 1.0)
    centres = np.column_stack([x0 + moments[:, 1] / n, y0 + moments[:, 2] / n])
    return _Labelled(
        footprint,
        (r0, c0),
        extended,
        obstacle,
        planes,
        sse,
        counts,
        centres,
        _PixelLists(*pixels),
        _PixelLists(*obstacle_pixels),
    )


@njit(cache=True, nogil=True)
def _label_window(elevation, inside, ground, vegetation, origin, params):
    """Steps 1 to 6 of the module docstring on one building's window.

    ``ground`` and ``vegetation`` are the class masks of the window, or (0, 0) arrays when
    the surface has none. Returns the outlines' labels (``extended`` of
    :class:`_Labelled`), the obstacles' labels, the faces' moments, planes, residual sums
    of squares and counts (planes in window coordinates, heights less ``zref``), ``zref``,
    and the pixel lists (rows, columns, bounds) of the faces and of their obstacles;
    planes of a single row (label 0 only) when the building has no face.
    """
    res = params.res
    z = elevation.astype(np.float64)
    has_ground = ground.shape == z.shape
    has_vegetation = vegetation.shape == z.shape
    territory = inside & (z >= _ground_level(z, inside, ground, has_ground) + params.min_height)
    if has_ground:
        territory &= ~ground
    empty = np.zeros((0, 0), np.int32)
    no_pixels = (np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(1, np.int64))
    if not territory.any():
        return (
            empty, empty, np.zeros((1, _N_MOMENTS)), np.zeros((1, 3)), np.zeros(1),
            np.zeros(1), 0.0, no_pixels, no_pixels,
        )  # fmt: skip
    eligible = territory.copy()
    if has_vegetation:
        eligible &= ~vegetation

    dz_dx, dz_dy, spread = _local_planes(z, eligible, res)
    if not has_vegetation:
        eligible &= ~_rough_patches(spread, params.canopy_rms, params.canopy_width)
    growable = eligible & (dz_dx**2 + dz_dy**2 <= params.max_slope**2)
    # The flattest pixels seed first: the residual of their local plane is lowest.
    seeds = np.flatnonzero(growable)
    seeds = seeds[np.argsort(spread.ravel()[seeds], kind="mergesort")]  # stable

    zref = _median(z.ravel()[territory.ravel()])
    zl = z - zref
    tol = params.tol
    labels = _grow(zl, dz_dx, dz_dy, seeds, growable, res, params.cos_tol, tol)
    labels = _faces_from_regions(
        labels, zl, eligible, res, params.cos_tol, tol, params.min_face_area, params.max_slope
    )
    n_faces = labels.max()
    if n_faces == 0:
        return (
            empty, empty, np.zeros((1, _N_MOMENTS)), np.zeros((1, 3)), np.zeros(1),
            np.zeros(1), zref, no_pixels, no_pixels,
        )  # fmt: skip
    moments = _moments(labels, zl, res, n_faces)
    planes, sse, counts = _planes(moments)

    owner, obstacle = _outlines(labels, territory)
    # Let every outline run one pixel past the footprint so that clipping with the
    # footprint, not the pixel grid, draws the outer edges.
    nearest_row, nearest_col = _feature_transform(owner != 0)
    extended = owner.copy()
    nrows, ncols = owner.shape
    for r in range(nrows):
        for c in range(ncols):
            dr = nearest_row[r, c] - r
            dc = nearest_col[r, c] - c
            # within 1.5 pixels, scipy's distance_transform_edt(...) < 1.5
            if not inside[r, c] and dr * dr + dc * dc < 2.25:
                extended[r, c] = owner[nearest_row[r, c], nearest_col[r, c]]
    return (
        extended,
        obstacle,
        moments,
        planes,
        sse,
        counts,
        zref,
        _pixel_lists(labels, origin, n_faces),
        _pixel_lists(obstacle, origin, n_faces),
    )


@njit(cache=True, nogil=True)
def _median(values):
    """numpy's median to the bit: the mean of the two middle values of an even count."""
    ordered = np.sort(values)
    n = ordered.size
    if n % 2 == 1:
        return ordered[n // 2]
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2.0


@njit(cache=True, nogil=True)
def _pixel_lists(labels, origin, n):
    """Rows, columns and bounds (:class:`_PixelLists`) of the pixels of labels 1..n, by a
    counting sort that keeps the raster order within a label; ``origin`` is the window's
    (row, column) on the grid."""
    bounds = np.zeros(n + 1, np.int64)
    nrows, ncols = labels.shape
    for r in range(nrows):
        for c in range(ncols):
            if labels[r, c] > 0:
                bounds[labels[r, c]] += 1
    bounds = np.cumsum(bounds)
    cursor = bounds.copy()
    cursor[1:] = bounds[:-1]
    rows = np.empty(bounds[-1], np.int32)
    cols = np.empty(bounds[-1], np.int32)
    for r in range(nrows):
        for c in range(ncols):
            k = labels[r, c]
            if k > 0:
                rows[cursor[k]] = r + origin[0]
                cols[cursor[k]] = c + origin[1]
                cursor[k] += 1
    return rows, cols, bounds


def _trace(surface: Surface, buildings: Sequence[_Labelled]) -> dict[int, list[_Draft]]:
    """The faces of every labelled building, outlines and obstacles traced (step 7).

    Returns the drafts of each building, keyed by ``id`` of its :class:`_Labelled`.
    """
    if not buildings:
        return {}
    atlas = _Atlas([b.extended.shape for b in buildings])
    n_faces = np.array([b.n_faces for b in buildings])
    first = np.concatenate([[0], np.cumsum(n_faces)[:-1]])  # each building's first face
    outline_ids = np.zeros(atlas.shape, np.int32)
    obstacle_ids = np.zeros(atlas.shape, np.int32)
    for k, b in enumerate(buildings):
        offset = np.int32(first[k])
        atlas.slot(outline_ids, k)[:] = np.where(b.extended > 0, b.extended + offset, 0)
        atlas.slot(obstacle_ids, k)[:] = np.where(b.obstacle > 0, b.obstacle + offset, 0)
    total = int(n_faces.sum())
    building = np.repeat(np.arange(len(buildings)), n_faces)  # of each face
    # Outlines are traced in pixel units, where every corner is a whole number, and cut at
    # every pixel corner: the faces then share their vertices exactly (a coverage), as
    # coverage simplification and _straighten need, which GDAL's merged edges do not. The
    # slots' gaps keep each building's faces a coverage of their own.
    pixel_outlines = shapely.segmentize(_polygons(outline_ids, _ATLAS_TRANSFORM, total), 1.0)
    # GEOS simplifies a coverage in a time that grows as the square of its size: a few
    # dozen buildings at a time.
    chunks = list(itertools.pairwise([*first[::_SIMPLIFY_BUILDINGS], total]))
    simplified = np.concatenate(
        threaded_map(
            lambda chunk: shapely.coverage_simplify(
                pixel_outlines[chunk[0] : chunk[1]], 1.0, simplify_boundary=False
            ),
            chunks,
        )
    )
    t = surface.transform
    origin = np.array([b.origin for b in buildings], dtype=np.float64)
    # Each window's own transform, surface.transform @ Affine.translation(c0, r0).
    window_c = t.a * origin[:, 1] + t.b * origin[:, 0] + t.c
    window_f = t.d * origin[:, 1] + t.e * origin[:, 0] + t.f

    def to_crs(geoms: np.ndarray) -> np.ndarray:
        coords, face = shapely.get_coordinates(geoms, return_index=True)
        k = building[face]
        col, row = coords[:, 0] - atlas.cols[k], coords[:, 1] - atlas.rows[k]
        x = t.a * col + t.b * row + window_c[k]
        y = t.d * col + t.e * row + window_f[k]
        return shapely.set_coordinates(geoms.copy(), np.column_stack([x, y]))

    planes = np.concatenate([b.planes[1:] for b in buildings])
    centres = np.concatenate([b.centres[1:] for b in buildings])
    outlines = _straighten(to_crs(simplified), planes, centres, surface.resolution, building)
    footprints = np.array([b.footprint.geometry for b in buildings], dtype=object)
    outlines = _polygonal(_clip(outlines, footprints[building]))
    obstacle_geoms = to_crs(_polygons(obstacle_ids, _ATLAS_TRANSFORM, total))

    drafts: dict[int, list[_Draft]] = {}
    for k, b in enumerate(buildings):
        drafts[id(b)] = [
            _Draft(
                b.footprint.building_id,
                (float(b.planes[j, 0]), float(b.planes[j, 1]), float(b.planes[j, 2])),
                math.sqrt(max(b.sse[j], 0.0) / b.counts[j]),
                *b.pixels.of(j),
                *b.obstacle_pixels.of(j),
                outlines[first[k] + j - 1],
                obstacle_geoms[first[k] + j - 1],
            )
            for j in range(1, b.n_faces + 1)
        ]
    return drafts


def _clip(outlines: np.ndarray, footprints: np.ndarray) -> np.ndarray:
    """The outlines cut by their footprints, snap-rounded on :data:`FACE_GRID`.

    Straightening (:func:`_straighten`) can leave a face's ring running back along itself
    a nanometre away (a notch beside a chimney under the ridge line): valid, but
    snap-rounding it on :data:`FACE_GRID` then fails ("Ring edge missing", one house of the
    dense corons district). Such a face alone is cut on a grid ten times coarser, which
    still moves the footprint's vertices by 50 nm at most.
    """
    # In blocks, so that a face that fails costs its block's faces one by one, not all.
    blocks = [slice(k, k + _CLIP_BLOCK) for k in range(0, len(outlines), _CLIP_BLOCK)]
    clipped = threaded_map(lambda block: _clip_block(outlines[block], footprints[block]), blocks)
    return np.concatenate([np.empty(0, dtype=object), *clipped])


def _clip_block(outlines: np.ndarray, footprints: np.ndarray) -> np.ndarray:
    """:func:`_clip` of a block of faces."""
    try:
        return shapely.intersection(outlines, footprints, grid_size=FACE_GRID)
    except shapely.errors.GEOSException:
        pass
    clipped = np.empty(len(outlines), dtype=object)
    for k, (outline, footprint) in enumerate(zip(outlines, footprints, strict=True)):
        try:
            clipped[k] = shapely.intersection(outline, footprint, grid_size=FACE_GRID)
        except shapely.errors.GEOSException:
            clipped[k] = shapely.intersection(outline, footprint, grid_size=10 * FACE_GRID)
    return clipped


def canopy(z: np.ndarray, mask: np.ndarray, res: float) -> np.ndarray:
    """Pixels of ``mask`` that look like tree crowns, on a surface without classes.

    The test of :func:`_canopy`, on the residuals of each masked pixel's 3×3 plane.

    Parameters
    ----------
    z : numpy.ndarray
        float64 heights. [m]
    mask : numpy.ndarray
        Boolean, the pixels to test.
    res : float
        Pixel size. [m]

    Returns
    -------
    numpy.ndarray
        Boolean, same shape.
    """
    _, _, spread = _local_planes(z, mask, res)
    return _canopy(spread, res)


def _canopy(spread: np.ndarray, res: float) -> np.ndarray:
    """Rough pixels of a surface without classes: tree crowns, as far as texture tells.

    A LiDAR surface over foliage jumps between leaves and gaps from one pixel to the next,
    tens of centimetres off any plane; a roof stays within its few centimetres of noise.
    The rms residual of each pixel's 3×3 plane is smoothed by a 3×3 median, thresholded at
    :data:`CANOPY_RMS`, and opened by a square of :data:`CANOPY_MIN_WIDTH`: a ridge, a hip
    or a roof's edge is rough along a line one or two pixels wide, a crown over a patch.
    The patch then loses its rim, the roof pixels that only see the crown in their window.
    Its limits: a crown too dense or too smooth at the resolution passes for a roof, as
    does a crown narrower than the square; rough roof furniture wider than the square
    (solar thermal racks, rubble) is cut out like a crown.

    Parameters
    ----------
    spread : numpy.ndarray
        The rms residual of each pixel's 3×3 plane, NaN off the roof. [m]
    res : float
        Pixel size. [m]

    Returns
    -------
    numpy.ndarray
        Boolean, same shape.
    """
    return _rough_patches(spread, CANOPY_RMS, max(3, math.ceil(CANOPY_MIN_WIDTH / res)))


@njit(cache=True, nogil=True)
def _rough_patches(spread, threshold, width):
    """The mask of :func:`_canopy`: ``spread`` over ``threshold`` in 5 of each 3×3 window
    (edges mirrored), opened by a ``width`` square, then eroded by a 3×3 one.

    The morphology follows scipy.ndimage's (``binary_opening``, ``binary_erosion``): the
    outside counts as false, and an even square reaches one pixel further before its
    centre than after it when eroding, the other way round when dilating.
    """
    nrows, ncols = spread.shape
    # The 3×3 median exceeds the threshold exactly when 5 of the 9 pixels do: a count
    # gives the same mask ten times faster than a median filter.
    rough = np.zeros((nrows, ncols), np.bool_)
    for r in range(nrows):
        for c in range(ncols):
            count = 0
            for dr in range(-1, 2):
                rr = _mirror(r + dr, nrows)
                for dc in range(-1, 2):
                    if spread[rr, _mirror(c + dc, ncols)] > threshold:  # NaN compares False
                        count += 1
            rough[r, c] = count >= 5
    lo = width // 2
    hi = width - 1 - lo
    patches = _dilate(_erode(rough, lo, hi), hi, lo)
    # The roof pixels along a crown see it in their 3×3 window and are rough too: the
    # ring goes back to the roof, where the pixels off every plane become obstacles.
    return _erode(patches, 1, 1)


@njit(cache=True, inline="always")
def _mirror(i, n):
    """Index ``i`` mirrored into [0, n) about the edges, as scipy's ``reflect`` mode."""
    if i < 0:
        return -i - 1
    if i >= n:
        return 2 * n - i - 1
    return i


@njit(cache=True, nogil=True)
def _erode(mask, before, after):
    """Erosion by the square reaching ``before`` pixels up and left and ``after`` down and
    right, the outside false: separable, rows then columns."""
    nrows, ncols = mask.shape
    rows = np.zeros((nrows, ncols), np.bool_)
    for r in range(nrows):
        for c in range(before, ncols - after):
            rows[r, c] = mask[r, c - before : c + after + 1].all()
    out = np.zeros((nrows, ncols), np.bool_)
    for r in range(before, nrows - after):
        for c in range(ncols):
            out[r, c] = rows[r - before : r + after + 1, c].all()
    return out


@njit(cache=True, nogil=True)
def _dilate(mask, before, after):
    """Dilation by the square reaching ``before`` pixels up and left and ``after`` down and
    right: separable, rows then columns."""
    nrows, ncols = mask.shape
    rows = np.zeros((nrows, ncols), np.bool_)
    for r in range(nrows):
        for c in range(ncols):
            rows[r, c] = mask[r, max(c - before, 0) : c + after + 1].any()
    out = np.zeros((nrows, ncols), np.bool_)
    for r in range(nrows):
        for c in range(ncols):
            out[r, c] = rows[max(r - before, 0) : r + after + 1, c].any()
    return out


@njit(cache=True, nogil=True)
def _ground_level(z, inside, ground, has_ground):
    """Local ground height around a footprint: the median of the ground-class pixels when
    ``has_ground`` and there are enough, else a low percentile of the pixels around. [m]"""
    if has_ground and np.count_nonzero(ground) >= _MIN_GROUND_PIXELS:
        return _median(z.ravel()[ground.ravel()])
    return _percentile_outside(z, inside, _GROUND_PERCENTILE)


@njit(cache=True, nogil=True)
def _percentile_outside(z, inside, q):
    """The ``q`` percentile [%] of the heights off ``inside``, the lowest height when there
    are none.

    numpy's default percentile (linear interpolation), to the bit: its sample index
    (n - 1)·q/100, and its interpolation from the upper value above half way.
    """
    values = np.sort(z.ravel()[~inside.ravel()])
    n = values.size
    if n == 0:
        return z.min()
    position = (n - 1) * (q / 100.0)
    if position >= n - 1:
        return values[n - 1]
    below = math.floor(position)
    t = position - below
    low, high = values[below], values[below + 1]
    if t >= 0.5:
        return high - (high - low) * (1.0 - t)
    return low + (high - low) * t


@njit(cache=True, nogil=True)
def _faces_from_regions(labels, zl, eligible, res, cos_tol, tol, min_face_area, max_slope):
    """Steps 4 and 5 of the module docstring on grown regions: faces numbered 1..n.

    Neighbouring coplanar regions merge and small or steep ones go
    (:func:`_merge_and_filter`); then every roof pixel goes to the plane it fits best and
    the planes are refitted, twice, and bands without a core are dropped.
    """
    labels = _merge_and_filter(labels, zl, res, cos_tol, tol, min_face_area, max_slope)
    for core in (False, False, True):
        planes, _, _ = _planes(_moments(labels, zl, res, labels.max()))
        labels = _assign(zl, eligible, labels, planes, res, _ASSIGN_RADIUS, tol)
        labels = _drop_small_faces(labels, zl, res, min_face_area, max_slope, core)
    return labels


@njit(cache=True, nogil=True)
def _merge_and_filter(labels, zl, res, cos_tol, tol, min_face_area, max_slope):
    """Merge neighbouring coplanar regions, drop small or steep ones, number the rest 1..n."""
    n_regions = labels.max()
    if n_regions == 0:
        return labels
    moments = _moments(labels, zl, res, n_regions)
    counts = moments[:, 0]
    big = np.flatnonzero(counts >= _MIN_REGION_PIXELS)
    big = big[np.argsort(-counts[big], kind="mergesort")]  # stable
    # Regions merge when they neighbour each other, or when both have a core: a chimney, a
    # dormer or a tree may cut a face in two, but the one- or two-pixel bands along eaves
    # and ridges, which can share a plane across the roof (the eaves of a hip roof do), have
    # no core and only join what they touch.
    cores = _core_counts(labels, n_regions)
    around = _neighbours(labels, n_regions)
    near = np.empty((big.size, big.size), np.bool_)
    for i in range(big.size):
        for j in range(big.size):
            both_cored = cores[big[i]] > 0 and cores[big[j]] > 0
            near[i, j] = around[big[i], big[j]] or both_cored
    parent = _merge(moments[big], near, cos_tol, _MERGE_RMSE_SHARE * tol)
    merged = np.zeros(n_regions + 1, np.int32)
    merged[big] = big[parent]
    out = np.empty_like(labels)
    for r in range(labels.shape[0]):
        for c in range(labels.shape[1]):
            out[r, c] = merged[labels[r, c]]
    return _drop_small_faces(out, zl, res, min_face_area, max_slope, False)


@njit(cache=True, nogil=True)
def _neighbours(labels, n_labels):
    """Which labels come within two pixels of each other: (n+1, n+1) booleans.

    Two pixels of reach bridge the single pixels that noise leaves out of both regions.
    """
    near = np.zeros((n_labels + 1, n_labels + 1), np.bool_)
    nrows, ncols = labels.shape
    for r in range(nrows):
        for c in range(ncols):
            k = labels[r, c]
            if k <= 0:
                continue
            for rr in range(max(r - 2, 0), min(r + 3, nrows)):
                for cc in range(max(c - 2, 0), min(c + 3, ncols)):
                    j = labels[rr, cc]
                    if j > 0 and j != k:
                        near[k, j] = True
    return near


@njit(cache=True, nogil=True)
def _drop_small_faces(labels, zl, res, min_face_area, max_slope, core):
    """Keep the regions large and gentle enough to be faces, numbered 1..n.

    With ``core``, a face must also hold a 3×3 block of its own pixels.
    """
    n = labels.max()
    moments = _moments(labels, zl, res, n)
    planes, _, _ = _planes(moments)
    keep = np.zeros(n + 1, np.bool_)
    for k in range(1, n + 1):
        slope = math.hypot(planes[k, 0], planes[k, 1])
        # min_face_area is a true area in the roof plane, as RoofFace.area_m2: plan/cos(tilt).
        sloped_area = moments[k, 0] * res * res * math.sqrt(1.0 + slope * slope)
        keep[k] = (
            moments[k, 0] >= _MIN_REGION_PIXELS
            and sloped_area >= min_face_area
            and slope <= max_slope
        )
    if core:
        # A band without a core along a face that has one is a sliver of ridge or eave; a
        # region without a core and with no such neighbour is a small roof of its own.
        cores = _core_counts(labels, n)
        near = _neighbours(labels, n)
        cored = keep & (cores > 0)
        for k in range(1, n + 1):
            if keep[k] and not cored[k]:
                for j in range(1, n + 1):
                    if cored[j] and near[k, j]:
                        keep[k] = False
                        break
    renumber = np.zeros(n + 1, np.int32)
    count = 0
    for k in range(1, n + 1):
        if keep[k]:
            count += 1
            renumber[k] = count
    out = np.empty_like(labels)
    for r in range(labels.shape[0]):
        for c in range(labels.shape[1]):
            out[r, c] = renumber[labels[r, c]]
    return out


@njit(cache=True, nogil=True)
def _core_counts(labels, n_labels):
    """How many pixels of each label have their eight neighbours in the same label."""
    counts = np.zeros(n_labels + 1, np.int64)
    nrows, ncols = labels.shape
    for r in range(1, nrows - 1):
        for c in range(1, ncols - 1):
            k = labels[r, c]
            if k <= 0:
                continue
            whole = True
            for rr in range(r - 1, r + 2):
                for cc in range(c - 1, c + 2):
                    if labels[rr, cc] != k:
                        whole = False
            if whole:
                counts[k] += 1
    return counts


@njit(cache=True, nogil=True)
def _outlines(labels, territory):
    """Which face owns each roof pixel, and which pixels are its obstacles.

    Roof pixels that fit no face form patches; a patch that faces enclose belongs to the
    nearest face as obstacles, a patch that reaches the roof's edge is cut out of the
    outlines (a chimney on the eave, a tree over the gutter, a parapet).
    """
    patches, is_open, sizes = _unfit_patches(labels, territory)
    owner = labels.copy()
    obstacle = np.zeros(labels.shape, np.int32)
    nrows, ncols = labels.shape
    enclosed = False
    for r in range(nrows):
        for c in range(ncols):
            if patches[r, c] > 0 and not is_open[patches[r, c]]:
                enclosed = True
    if not enclosed:
        return owner, obstacle
    nearest_row, nearest_col = _feature_transform(labels != 0)
    for r in range(nrows):
        for c in range(ncols):
            patch = patches[r, c]
            if patch > 0 and not is_open[patch]:
                owner[r, c] = labels[nearest_row[r, c], nearest_col[r, c]]
                if sizes[patch] >= MIN_OBSTACLE_PIXELS:
                    obstacle[r, c] = owner[r, c]
    return owner, obstacle


@njit(cache=True, nogil=True)
def _feature_transform(feature):
    """The nearest ``feature`` pixel of every pixel, as scipy's
    ``distance_transform_edt(~feature, return_indices=True)`` finds it, ties included.

    Maurer, Qi and Raghavan's (2003) algorithm as scipy.ndimage implements it: each
    column's nearest feature, then along each row the lower envelope of the columns'
    parabolas. Returns the rows and the columns of the nearest features; with no feature
    at all, rows of -1 and columns of 0, as scipy's.

    References
    ----------
    Maurer, C. R., Qi, R., Raghavan, V. (2003). A linear time algorithm for computing
    exact Euclidean distance transforms of binary images in arbitrary dimensions. IEEE
    TPAMI, 25(2), 265-270. https://doi.org/10.1109/TPAMI.2003.1177156
    """
    nrows, ncols = feature.shape
    nearest_row = np.full((nrows, ncols), -1, np.int64)
    nearest_col = np.zeros((nrows, ncols), np.int64)
    size = max(nrows, ncols)
    along = np.empty(size, np.int64)
    across = np.empty(size, np.int64)
    envelope = np.empty(size, np.int64)
    for c in range(ncols):
        for r in range(nrows):
            if feature[r, c]:
                nearest_row[r, c] = r
                nearest_col[r, c] = c
        _voronoi_line(nearest_row[:, c], nearest_col[:, c], True, c, along, across, envelope)
    for r in range(nrows):
        _voronoi_line(nearest_row[r], nearest_col[r], False, r, along, across, envelope)
    return nearest_row, nearest_col


@njit(cache=True, nogil=True)
def _voronoi_line(rows, cols, down, fixed, along, across, envelope):
    """One line of :func:`_feature_transform`, in place: a column (``down``, its column
    ``fixed``) or a row (its row ``fixed``). Candidates are the positions whose row is not
    -1; the arithmetic is scipy's (exact in integers)."""
    n = rows.size
    for i in range(n):
        along[i] = rows[i] if down else cols[i]
        across[i] = cols[i] if down else rows[i]
    top = -1
    for i in range(n):
        if rows[i] < 0:
            continue
        w = (across[i] - fixed) ** 2
        while top >= 1:
            v_index = envelope[top]
            u_index = envelope[top - 1]
            a = along[v_index] - along[u_index]
            b = along[i] - along[v_index]
            c = a + b
            u = (across[u_index] - fixed) ** 2
            v = (across[v_index] - fixed) ** 2
            if c * v - b * u - a * w - a * b * c <= 0:
                break
            top -= 1
        top += 1
        envelope[top] = i
    if top < 0:
        return
    last = top
    k = 0
    for i in range(n):
        best = (along[envelope[k]] - i) ** 2 + (across[envelope[k]] - fixed) ** 2
        while k < last:
            other = (along[envelope[k + 1]] - i) ** 2 + (across[envelope[k + 1]] - fixed) ** 2
            if best <= other:
                break
            best = other
            k += 1
        j = envelope[k]
        if down:
            rows[i] = along[j]
            cols[i] = across[j]
        else:
            rows[i] = across[j]
            cols[i] = along[j]


@njit(cache=True, nogil=True)
def _unfit_patches(labels, territory):
    """The 8-connected patches of roof pixels that fit no face.

    Returns each pixel's patch (1..n, 0 off the patches), whether each patch reaches the
    roof's edge (a pixel of it has a neighbour off the territory or off the grid), and each
    patch's size in pixels; index 0 of both is for no patch.
    """
    nrows, ncols = labels.shape
    patches = np.zeros((nrows, ncols), np.int32)
    queue = np.empty(nrows * ncols, np.int64)
    is_open = [False]
    sizes = [0]
    n = 0
    for r0 in range(nrows):
        for c0 in range(ncols):
            if patches[r0, c0] != 0 or not territory[r0, c0] or labels[r0, c0] != 0:
                continue
            n += 1
            patches[r0, c0] = n
            queue[0] = r0 * ncols + c0
            head, tail = 0, 1
            reaches_edge = False
            while head < tail:
                r = queue[head] // ncols
                c = queue[head] % ncols
                head += 1
                for rr in range(r - 1, r + 2):
                    for cc in range(c - 1, c + 2):
                        if rr < 0 or rr >= nrows or cc < 0 or cc >= ncols:
                            reaches_edge = True
                            continue
                        if not territory[rr, cc]:
                            reaches_edge = True
                        elif labels[rr, cc] == 0 and patches[rr, cc] == 0:
                            patches[rr, cc] = n
                            queue[tail] = rr * ncols + cc
                            tail += 1
            is_open.append(reaches_edge)
            sizes.append(tail)
    return patches, np.array(is_open), np.array(sizes)


def _polygons(labels: np.ndarray, transform: Affine, n: int) -> np.ndarray:
    """One (multi)polygon per label 1..n, empty when the label has no pixel.

    GDAL's polygons, holes and parts in its order, built by three vectorised calls rather
    than one per polygon.
    """
    out = np.full(n, _EMPTY, dtype=object)
    mask = labels > 0
    if not mask.any():
        return out
    points: list[tuple[float, float]] = []
    ring_sizes: list[int] = []
    ring_counts: list[int] = []
    owner: list[int] = []
    for geom, value in shapes(labels, mask=mask, transform=transform):
        for ring in geom["coordinates"]:
            points += ring
            ring_sizes.append(len(ring))
        ring_counts.append(len(geom["coordinates"]))
        owner.append(int(value) - 1)
    rings = shapely.linearrings(
        np.array(points), indices=np.repeat(np.arange(len(ring_sizes)), ring_sizes)
    )
    # the first ring of each polygon is its shell, the others its holes
    polygons = shapely.polygons(rings, indices=np.repeat(np.arange(len(ring_counts)), ring_counts))
    label = np.array(owner)
    parts = np.bincount(label, minlength=n)
    single = parts[label] == 1
    out[label[single]] = polygons[single]
    several = np.flatnonzero(~single)
    if several.size:
        several = several[np.argsort(label[several], kind="stable")]
        multi = np.empty(n, dtype=object)
        shapely.multipolygons(polygons[several], indices=label[several], out=multi)
        out[parts > 1] = multi[parts > 1]
    return out


def _straighten(
    outlines: np.ndarray,
    planes: np.ndarray,
    centres: np.ndarray,
    res: float,
    building: np.ndarray | None = None,
) -> np.ndarray:
    """Move the vertices between faces onto their planes' intersection lines.

    Pixels on a ridge or a hip lie as far from one plane as from the other, so the pixel
    edge between two faces wanders by a pixel, and a hip's small end faces would gain or
    lose a tenth of their area. A vertex that two faces share moves onto the line where
    their planes meet, and one that three faces share onto the point where the three
    planes meet (the top of a hip), when that is within a pixel and a half. Shared vertices
    move alike in every face, so the outlines stay a coverage. Faces whose planes do not
    meet between them (a step down to a lower roof) keep their pixel edge.

    Parameters
    ----------
    outlines : numpy.ndarray of shapely geometries
        Plan outlines of buildings' faces, each building's a coverage with shared
        vertices. [m]
    planes : numpy.ndarray
        (n, 3) planes z = a·x + b·y + c in the same CRS.
    centres : numpy.ndarray
        (n, 2) centroids of each face's in-plane pixels. [m]
    res : float
        Pixel size. [m]
    building : numpy.ndarray, optional
        (n,) the building of each face, the faces of a building next to each other:
        only faces of one building share vertices. All of one building by default.
    """
    coords, face = shapely.get_coordinates(outlines, return_index=True)
    if len(outlines) < 2 or len(coords) == 0:
        return outlines
    group = np.zeros(len(outlines), np.int64) if building is None else building
    # Shared vertices are bit-identical in a coverage; a micrometre grid finds them. One
    # stable sort on a single key, the grid cell, groups them: a tile's cells fit in an
    # int64, and faces come by building, so equal cells stay in building order.
    cell = np.round(coords * 1e6).astype(np.int64)
    cell -= cell.min(axis=0)
    width = int(cell[:, 0].max()) + 1
    if int(cell[:, 1].max()) < np.iinfo(np.int64).max // width:
        order = np.argsort(cell[:, 1] * width + cell[:, 0], kind="stable")
    else:
        order = np.lexsort((cell[:, 0], cell[:, 1]))
    owner = group[face][order]
    step = np.zeros(len(order), bool)
    for key in (cell[order, 0], cell[order, 1], owner):
        step[1:] |= key[1:] != key[:-1]
    vertex = np.empty(len(order), np.int64)
    vertex[order] = np.cumsum(step)
    # In that order the faces of a vertex come in increasing order: each (vertex, face)
    # pair once is each change of either.
    sorted_vertex, sorted_face = vertex[order], face[order]
    change = np.ones(len(order), bool)
    change[1:] = (sorted_vertex[1:] != sorted_vertex[:-1]) | (sorted_face[1:] != sorted_face[:-1])
    members = np.column_stack([sorted_vertex[change], sorted_face[change]])
    n_faces = np.bincount(members[:, 0])
    first = np.searchsorted(members[:, 0], np.arange(len(n_faces)))
    moved = np.zeros((len(n_faces), 2))
    moved[vertex] = coords
    reach = 1.5 * res

    two = np.flatnonzero(n_faces == 2)
    i, j = members[first[two], 1], members[first[two] + 1, 1]
    d = planes[i] - planes[j]
    slope = np.hypot(d[:, 0], d[:, 1])
    side_i = np.einsum("kl,kl->k", d[:, :2], centres[i]) + d[:, 2]
    side_j = np.einsum("kl,kl->k", d[:, :2], centres[j]) + d[:, 2]
    p = moved[two]
    with np.errstate(invalid="ignore", divide="ignore"):
        offset = (np.einsum("kl,kl->k", d[:, :2], p) + d[:, 2]) / slope
    ok = (slope > 1e-3) & (side_i * side_j < 0) & (np.abs(offset) <= reach)
    normal = d[ok, :2] / slope[ok, None]
    moved[two[ok]] = p[ok] - offset[ok, None] * normal

    three = np.flatnonzero(n_faces == 3)
    if len(three):
        i = members[first[three], 1]
        j = members[first[three] + 1, 1]
        k = members[first[three] + 2, 1]
        d1, d2 = planes[i] - planes[j], planes[i] - planes[k]
        det = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            x = (-d1[:, 2] * d2[:, 1] + d2[:, 2] * d1[:, 1]) / det
            y = (-d2[:, 2] * d1[:, 0] + d1[:, 2] * d2[:, 0]) / det
        apex = np.column_stack([x, y])
        near = np.isfinite(apex).all(axis=1) & (np.hypot(*(apex - moved[three]).T) <= reach)
        moved[three[near]] = apex[near]

    out = shapely.set_coordinates(outlines.copy(), moved[vertex])
    # A move that folds an outline over itself is undone for that face.
    return np.where(shapely.is_valid(out), out, outlines)


def _finish(drafts: list[_Draft], setback: float) -> list[RoofFace]:
    """Measure every face in its own plane, all faces at once, and number them."""
    if not drafts:
        return []
    a = np.array([d.plane[0] for d in drafts])
    b = np.array([d.plane[1] for d in drafts])
    outlines = np.array([d.outline for d in drafts], dtype=object)
    obstacles = np.array([d.obstacles for d in drafts], dtype=object)
    # Each face is measured alone: in blocks, on every thread (GEOS releases the GIL).
    blocks = [slice(k, k + _MEASURE_BLOCK) for k in range(0, len(drafts), _MEASURE_BLOCK)]
    measured = threaded_map(
        lambda block: _measure(outlines[block], obstacles[block], a[block], b[block], setback),
        blocks,
    )
    area, usable_area, usable_plan = (np.concatenate(p) for p in zip(*measured, strict=True))

    faces: list[RoofFace] = []
    by_building: dict[str, list[int]] = {}
    for i, d in enumerate(drafts):
        by_building.setdefault(d.building_id, []).append(i)
    for building_id, members in by_building.items():
        ranked = sorted((i for i in members if area[i] > 0.0), key=lambda i: -area[i])
        for k, i in enumerate(ranked, start=1):
            d = drafts[i]
            tilt, azimuth = plane_orientation(a[i], b[i])
            flat = tilt < FLAT_TILT
            faces.append(
                RoofFace(
                    building_id=building_id,
                    face_id=f"{building_id}-{k}",
                    surface_tilt=tilt,
                    surface_azimuth=None if flat else azimuth,
                    is_flat=flat,
                    plane=d.plane,
                    rows=d.rows,
                    cols=d.cols,
                    obstacle_rows=d.obstacle_rows,
                    obstacle_cols=d.obstacle_cols,
                    polygon=outlines[i],
                    usable_polygon=usable_plan[i],
                    area_m2=float(area[i]),
                    usable_area_m2=float(usable_area[i]),
                    rmse_m=d.rmse,
                    part_id=d.part_id,
                )
            )
    return faces


def _measure(
    outlines: np.ndarray, obstacles: np.ndarray, a: np.ndarray, b: np.ndarray, setback: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True areas of the faces and of their usable parts, and the usable parts in plan, of
    the faces on the planes z = a·x + b·y + c."""
    flat_outlines = _unfold(outlines, a, b)
    flat_obstacles = _unfold(obstacles, a, b)
    # Mitred buffers of traced outlines can come out slightly invalid; repair them and
    # overlay on a 1 mm grid, whose snap-rounding cannot fail on near-coincident edges.
    inner = shapely.make_valid(shapely.buffer(flat_outlines, -setback, join_style="mitre"))
    cleared = shapely.make_valid(shapely.buffer(flat_obstacles, setback, join_style="mitre"))
    usable = shapely.difference(_polygonal(inner), _polygonal(cleared), grid_size=1e-3)
    return shapely.area(flat_outlines), shapely.area(usable), _unfold(usable, a, b, fold=True)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """:func:`solar.geometry.polygonal_parts`, empty geometries left as they are (most
    faces have no obstacle): that function takes them one by one."""
    out = geoms.copy()
    full = ~shapely.is_empty(geoms)
    out[full] = polygonal_parts(geoms[full])
    out[~full] = _EMPTY
    return out


def _unfold(geoms: np.ndarray, a: np.ndarray, b: np.ndarray, *, fold: bool = False) -> np.ndarray:
    """Map plan geometries into their roof plane (or back): true lengths and areas.

    The plane z = a·x + b·y + c stretches plan distances along its gradient by
    sqrt(1 + a² + b²) and leaves the direction along the contour lines as it is.
    """
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) == 0:
        return geoms.copy()
    slope = np.hypot(a, b)
    stretch = np.sqrt(1.0 + slope**2)
    if fold:
        stretch = 1.0 / stretch
    with np.errstate(invalid="ignore", divide="ignore"):
        ux = np.where(slope > 0, a / slope, 1.0)
        uy = np.where(slope > 0, b / slope, 0.0)
    ux, uy, k = ux[index], uy[index], stretch[index] - 1.0
    # Coordinates relative to each geometry's first point keep the stretch small numbers.
    first = np.zeros(len(geoms), np.int64)
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    first[index[starts]] = starts
    origin = coords[first[index]]
    rel = coords - origin
    along = rel[:, 0] * ux + rel[:, 1] * uy
    rel[:, 0] += k * along * ux
    rel[:, 1] += k * along * uy
    return shapely.set_coordinates(geoms.copy(), rel + origin)


_N_MOMENTS = 10
"""Length of a row of plane moments: Σw, Σwu, Σwv, Σwz, Σwuu, Σwuv, Σwvv, Σwuz, Σwvz, Σwzz."""


@njit(cache=True, inline="always")
def _add_point(m, w, u, v, z):
    """Add the point (u, v, z) with weight w to the plane moments ``m``, in place."""
    m[0] += w
    m[1] += w * u
    m[2] += w * v
    m[3] += w * z
    m[4] += w * u * u
    m[5] += w * u * v
    m[6] += w * v * v
    m[7] += w * u * z
    m[8] += w * v * z
    m[9] += w * z * z


@njit(cache=True, nogil=True)
def _moments(labels, zl, res, n_labels):
    """Plane moments of each label's pixels (see :data:`_N_MOMENTS`), weight 1 each."""
    m = np.zeros((n_labels + 1, _N_MOMENTS))
    nrows, ncols = labels.shape
    for r in range(nrows):
        v = -(r + 0.5) * res
        for cc in range(ncols):
            k = labels[r, cc]
            if k > 0:
                _add_point(m[k], 1.0, (cc + 0.5) * res, v, zl[r, cc])
    return m


@njit(cache=True, nogil=True)
def _fit(m):
    """Weighted least-squares plane z = a·u + b·v + c from one row of moments.

    The one plane solve of the segmentation: the normal equations centred on the weighted
    mean, solved by Cramer's rule. Returns (a, b, c, sse), sse the weighted residual sum of
    squares; sse is infinite when the weights sum under 3 or the points lie in a line (no
    plane), and then a = b = 0 and c is the mean height.
    """
    n = m[0]
    if n < 3.0:
        return 0.0, 0.0, 0.0, np.inf
    mu, mv, mz = m[1] / n, m[2] / n, m[3] / n
    cuu = m[4] - n * mu * mu
    cuv = m[5] - n * mu * mv
    cvv = m[6] - n * mv * mv
    cuz = m[7] - n * mu * mz
    cvz = m[8] - n * mv * mz
    czz = m[9] - n * mz * mz
    det = cuu * cvv - cuv * cuv
    if det <= 1e-9 * (cuu + cvv) ** 2:
        return 0.0, 0.0, mz, np.inf
    a = (cuz * cvv - cvz * cuv) / det
    b = (cvz * cuu - cuz * cuv) / det
    return a, b, mz - a * mu - b * mv, czz - a * cuz - b * cvz


@njit(cache=True, nogil=True)
def _local_planes(z, mask, res):
    """Weighted least-squares plane through each masked pixel's masked 3×3 neighbours.

    Returns the slopes east and north (Horn's operator where the whole neighbourhood is in
    the mask) and the weighted rms residual; NaN where fewer than four pixels or pixels in
    a line leave no plane.
    """
    nrows, ncols = z.shape
    dz_dx = np.full((nrows, ncols), np.nan)
    dz_dy = np.full((nrows, ncols), np.nan)
    spread = np.full((nrows, ncols), np.nan)
    m = np.empty(_N_MOMENTS)
    for r in range(nrows):
        for c in range(ncols):
            if not mask[r, c]:
                continue
            m[:] = 0.0
            count = 0
            for dr in range(-1, 2):
                rr = r + dr
                if rr < 0 or rr >= nrows:
                    continue
                for dc in range(-1, 2):
                    cc = c + dc
                    if cc < 0 or cc >= ncols or not mask[rr, cc]:
                        continue
                    # Offsets from the centre pixel keep the sums small numbers.
                    weight = float((2 - abs(dr)) * (2 - abs(dc)))
                    _add_point(m, weight, dc * res, -dr * res, z[rr, cc] - z[r, c])
                    count += 1
            if count < 4:
                continue
            a, b, _, sse = _fit(m)
            if not np.isfinite(sse):
                continue
            dz_dx[r, c] = a
            dz_dy[r, c] = b
            spread[r, c] = math.sqrt(max(sse, 0.0) / m[0])
    return dz_dx, dz_dy, spread


@njit(cache=True, nogil=True)
def _grow(zl, dz_dx, dz_dy, seeds, grow_mask, res, cos_tol, tol):
    """Region growing from planar seeds (8-connected).

    A pixel joins when its height lies within ``tol / 2`` of the region's plane, or within
    ``tol`` with its normal within the angle of the plane's; the plane is refitted by
    least squares each time the region grows by a quarter.
    """
    nrows, ncols = zl.shape
    labels = np.zeros((nrows, ncols), np.int32)
    queue = np.empty(nrows * ncols, np.int64)
    m = np.empty(_N_MOMENTS)
    region = 0
    for seed in seeds:
        r0 = seed // ncols
        c0 = seed % ncols
        if labels[r0, c0] != 0:
            continue
        region += 1
        labels[r0, c0] = region
        a = dz_dx[r0, c0]
        b = dz_dy[r0, c0]
        u0 = (c0 + 0.5) * res
        v0 = -(r0 + 0.5) * res
        # The plane starts through the 3×3 mean, not the seed's own noisy height.
        z_mean = 0.0
        k = 0
        for r in range(max(r0 - 1, 0), min(r0 + 2, nrows)):
            for cc in range(max(c0 - 1, 0), min(c0 + 2, ncols)):
                z_mean += zl[r, cc]
                k += 1
        c = z_mean / k - a * u0 - b * v0
        m[:] = 0.0
        _add_point(m, 1.0, u0, v0, zl[r0, c0])
        refit_at = 6.0
        head = 0
        tail = 1
        queue[0] = seed
        while head < tail:
            p = queue[head]
            head += 1
            pr = p // ncols
            pc = p % ncols
            for dr in range(-1, 2):
                for dc in range(-1, 2):
                    r = pr + dr
                    cc = pc + dc
                    if r < 0 or r >= nrows or cc < 0 or cc >= ncols:
                        continue
                    if labels[r, cc] != 0 or not grow_mask[r, cc]:
                        continue
                    u = (cc + 0.5) * res
                    v = -(r + 0.5) * res
                    z = zl[r, cc]
                    off = abs(z - (a * u + b * v + c))
                    if off > tol:
                        continue
                    gx = dz_dx[r, cc]
                    gy = dz_dy[r, cc]
                    cos = (1.0 + a * gx + b * gy) / math.sqrt(
                        (1.0 + a * a + b * b) * (1.0 + gx * gx + gy * gy)
                    )
                    # Within half the tolerance the plane vouches for the pixel, whatever its
                    # normal: on steep roofs the highest return per 0.5 m cell scatters
                    # per-pixel normals by about 10°, and only the residual stays sharp.
                    if cos < cos_tol and off > 0.5 * tol:
                        continue
                    labels[r, cc] = region
                    queue[tail] = r * ncols + cc
                    tail += 1
                    _add_point(m, 1.0, u, v, z)
                    if m[0] >= refit_at:
                        refit_at = m[0] * 1.25
                        fit_a, fit_b, fit_c, sse = _fit(m)
                        # Pixels still in a line leave the plane's cross-slope undefined.
                        if np.isfinite(sse):
                            a, b, c = fit_a, fit_b, fit_c
    return labels


@njit(cache=True, nogil=True)
def _planes(moments):
    """Planes (k, 3), residual sums of squares and counts of each row of moments."""
    k = moments.shape[0]
    planes = np.zeros((k, 3))
    sse = np.full(k, np.inf)
    for i in range(k):
        a, b, c, s = _fit(moments[i])
        planes[i, 0] = a
        planes[i, 1] = b
        planes[i, 2] = c
        sse[i] = s
    return planes, sse, moments[:, 0].copy()


@njit(cache=True, nogil=True)
def _merge(moments, near, cos_tol, rmse_tol):
    """Greedy merge of neighbouring regions, largest first, that one plane fits.

    Two regions merge when their planes lie within the angle and one plane for both adds
    less than ``rmse_tol`` (rms) to the residuals of their own planes. Returns the index
    of the region each one ends in.
    """
    k = moments.shape[0]
    m = moments.copy()
    near = near.copy()
    parent = np.arange(k)
    alive = np.ones(k, np.bool_)
    sse = np.empty(k)
    for i in range(k):
        sse[i] = _fit(m[i])[3]
    changed = True
    while changed:
        changed = False
        for i in range(k):
            if not alive[i]:
                continue
            ai, bi, _, _ = _fit(m[i])
            for j in range(i + 1, k):
                if not alive[j] or not near[i, j]:
                    continue
                aj, bj, _, _ = _fit(m[j])
                cos = (1.0 + ai * aj + bi * bj) / math.sqrt(
                    (1.0 + ai * ai + bi * bi) * (1.0 + aj * aj + bj * bj)
                )
                if cos < cos_tol:
                    continue
                both = m[i] + m[j]
                _, _, _, sse_both = _fit(both)
                # A region whose pixels lie in a line has no plane of its own (inf): count
                # the whole residual of the common plane against the merge.
                own = (sse[i] if np.isfinite(sse[i]) else 0.0) + (
                    sse[j] if np.isfinite(sse[j]) else 0.0
                )
                if sse_both - own > rmse_tol * rmse_tol * both[0]:
                    continue
                m[i] = both
                sse[i] = sse_both
                alive[j] = False
                parent[j] = i
                near[i, :] |= near[j, :]
                near[:, i] |= near[:, j]
                changed = True
                ai, bi, _, _ = _fit(m[i])
    for j in range(k):
        root = j
        while parent[root] != root:
            root = parent[root]
        parent[j] = root
    return parent


@njit(cache=True, nogil=True)
def _assign(zl, eligible, labels, planes, res, radius, tol):
    """Give each eligible pixel to the plane it fits best among the faces within
    ``radius`` pixels, if within ``tol``."""
    nrows, ncols = zl.shape
    out = np.zeros((nrows, ncols), np.int32)
    for r in range(nrows):
        v = -(r + 0.5) * res
        for cc in range(ncols):
            if not eligible[r, cc]:
                continue
            u = (cc + 0.5) * res
            z = zl[r, cc]
            best = 0
            best_dist = tol
            for rr in range(max(r - radius, 0), min(r + radius + 1, nrows)):
                for c2 in range(max(cc - radius, 0), min(cc + radius + 1, ncols)):
                    k = labels[rr, c2]
                    if k <= 0:
                        continue
                    d = abs(z - (planes[k, 0] * u + planes[k, 1] * v + planes[k, 2]))
                    if d <= best_dist:
                        best = k
                        best_dist = d
            out[r, cc] = best
    return out
