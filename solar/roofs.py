"""Roof faces: plane segmentation of a surface model inside building footprints.

The chain per building, on a window around its footprint:

1. Normals from Horn (1981) gradients of the 3×3-smoothed surface, computed once for the
   whole grid.
2. Region growing from the most planar pixels, on the angle between a pixel's normal and
   its region's least-squares plane and on the pixel's distance to that plane.
3. Regions that share a plane are merged, so that a chimney or a dormer that cuts a face in
   two leaves one face; regions smaller than ``min_face_area`` or steeper than
   ``max_tilt`` are dropped.
4. Every roof pixel goes to the nearby plane it fits best, then the planes are refitted by
   least squares: the face tilt comes from a plane over hundreds of pixels (about 0.5° at
   0.5 m), never from per-pixel slopes (about 5° of noise each).
5. Pixels of the roof that fit no plane and that faces enclose are the obstacles of the
   nearest face (chimneys, dormers, skylights, overhanging trees); such pixels that reach
   the edge of the roof are cut out of the outline instead.
6. Outlines are polygonised from the pixels, clipped to the footprint, and unfolded into
   the roof plane to take the edge setback and the clearance around obstacles in true
   roof metres and to measure sloped areas.

References
----------
Horn, B. K. P. (1981). Hill shading and the reflectance map. Proceedings of the IEEE,
69(1), 14-47. https://doi.org/10.1109/PROC.1981.11918

Rabbani, T., van den Heuvel, F. A., Vosselman, G. (2006). Segmentation of point clouds
using smoothness constraint. ISPRS Archives, 36(5), 248-253.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from numba import njit
from rasterio.features import rasterize, shapes
from scipy import ndimage
from shapely import MultiPolygon, Polygon

from solar.footprints import Footprint
from solar.surface import Surface

FLAT_TILT = 5.0
"""A face under this tilt is flat and has no azimuth (issue 2). [°]"""

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
# Regions merge when one plane fits both within this share of obstacle_tolerance (rms): half
# the tolerance is 10 cm by default, about twice the LiDAR HD height noise (IGN, 2023).
_MERGE_RMSE_SHARE = 0.5


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


def horn_gradient(elevation: np.ndarray, resolution: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of a north-up grid by Horn's 3×3 operator after a 3×3 mean.

    Parameters
    ----------
    elevation : numpy.ndarray
        Heights on a north-up grid, shape (rows, cols). [m]
    resolution : float
        Pixel size. [m]

    Returns
    -------
    dz_dx, dz_dy : numpy.ndarray
        float32 slopes towards the east (columns) and towards the north (against the rows).
        [m m-1]

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
    # The 3×3 mean before Horn brings the per-pixel slope noise of 0.5 m LiDAR from about
    # 5° to under 2°, enough to grow regions; the reported tilt comes from plane fits.
    z = ndimage.uniform_filter(elevation.astype(np.float32), size=3, mode="nearest")
    p = np.pad(z, 1, mode="edge")
    west = p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2]
    east = p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]
    north = p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:]
    south = p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]
    scale = np.float32(8 * resolution)
    return (east - west) / scale, (north - south) / scale


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
    max_tilt: float = 70.0,
    angle_tolerance: float = 10.0,
    min_height: float = 2.0,
) -> list[RoofFace]:
    """Roof faces of each footprint, from the surface model.

    Parameters
    ----------
    surface : Surface
        The surface model, in a projected CRS in metres.
    footprints : sequence of Footprint
        Building footprints in the surface's CRS. Those off the grid get no face.
    min_face_area : float, default 2.0
        Smallest sloped area of a face; a smaller plane becomes an obstacle of the face
        around it. [m²]
    setback : float, default 0.4
        Clearance kept free of panels along a face's edges and around its obstacles,
        measured in the roof plane. [m]
    obstacle_tolerance : float, default 0.2
        Largest vertical distance between a pixel and a face's plane for the pixel to
        belong to the face; farther pixels inside the face are obstacles. [m]
    max_tilt : float, default 70.0
        Steepest roof: steeper pixels never seed or grow a face, and steeper planes are
        walls, not faces. [°]
    angle_tolerance : float, default 10.0
        Largest angle between a pixel's normal and its region's plane normal for the pixel
        to join the region, and between two planes for them to merge. [°]
    min_height : float, default 2.0
        Smallest height above the local ground for a pixel to be roof; lower pixels inside
        a footprint (courtyards, ground seen past the eaves) are not roof. [m]

    Returns
    -------
    list of RoofFace
        Grouped by building in the order of ``footprints``, by decreasing area within a
        building.

    Notes
    -----
    Each building is handled on its own window, so the cost grows with the number of
    buildings and their size, and buildings can be shared between workers.

    Examples
    --------
    >>> from affine import Affine
    >>> from rasterio.crs import CRS
    >>> yy, xx = np.mgrid[0:40, 0:40] * 0.5
    >>> z = np.where((xx > 5) & (xx < 15) & (yy > 5) & (yy < 15), 8.0 + 0.7 * yy, 0.0)
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
    if not 0 < max_tilt < 90 or not 0 < angle_tolerance < 90:
        raise ValueError("max_tilt and angle_tolerance must lie strictly between 0° and 90°")
    if not footprints:
        return []
    params = _Params(
        min_face_area=min_face_area,
        obstacle_tolerance=obstacle_tolerance,
        max_tilt=max_tilt,
        angle_tolerance=angle_tolerance,
        min_height=min_height,
    )
    grid = _Grid.around(surface, footprints)
    drafts: list[_Draft] = []
    for footprint in footprints:
        drafts.extend(_building_drafts(grid, footprint, params))
    return _finish(drafts, setback)


@dataclass(frozen=True)
class _Params:
    min_face_area: float
    obstacle_tolerance: float
    max_tilt: float
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


@dataclass(frozen=True, eq=False)
class _Grid:
    """The surface and its gradients on the part of the grid that the footprints cover."""

    surface: Surface
    row0: int
    col0: int
    dz_dx: np.ndarray
    dz_dy: np.ndarray
    roughness: np.ndarray

    @classmethod
    def around(cls, surface: Surface, footprints: Sequence[Footprint]) -> _Grid:
        bounds = shapely.bounds([f.geometry for f in footprints])
        xmin, ymin = bounds[:, 0].min(), bounds[:, 1].min()
        xmax, ymax = bounds[:, 2].max(), bounds[:, 3].max()
        # Two more pixels than the windows so that the smoothing sees past their edges.
        (r0, c0), (r1, c1) = _pixel_span(surface, (xmin, ymin, xmax, ymax), _MARGIN, pad=2)
        z = surface.elevation[r0:r1, c0:c1]
        dz_dx, dz_dy = horn_gradient(z, surface.resolution)
        # Local spread of the gradient: low on planes, high on ridges, edges and trees; the
        # flattest pixels seed the regions first.
        roughness = np.zeros(z.shape, np.float32)
        for g in (dz_dx, dz_dy):
            mean = ndimage.uniform_filter(g, size=3, mode="nearest")
            roughness += ndimage.uniform_filter(g * g, size=3, mode="nearest") - mean * mean
        return cls(surface, r0, c0, dz_dx, dz_dy, roughness)


def _pixel_span(
    surface: Surface, bounds: tuple[float, float, float, float], margin: float, pad: int = 0
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rows and columns [start, stop) of the grid covering ``bounds`` plus ``margin``."""
    xmin, ymin, xmax, ymax = bounds
    inverse = ~surface.transform
    col_a, row_a = inverse * (xmin - margin, ymax + margin)
    col_b, row_b = inverse * (xmax + margin, ymin - margin)
    rows, cols = surface.shape
    r0 = min(max(math.floor(row_a) - pad, 0), rows)
    c0 = min(max(math.floor(col_a) - pad, 0), cols)
    r1 = min(max(math.ceil(row_b) + pad, 0), rows)
    c1 = min(max(math.ceil(col_b) + pad, 0), cols)
    return (r0, c0), (r1, c1)


def _building_drafts(grid: _Grid, footprint: Footprint, params: _Params) -> list[_Draft]:
    surface = grid.surface
    res = surface.resolution
    (r0, c0), (r1, c1) = _pixel_span(surface, footprint.geometry.bounds, _MARGIN)
    if r1 <= r0 or c1 <= c0:
        return []
    window = (slice(r0, r1), slice(c0, c1))
    transform = surface.transform * Affine.translation(c0, r0)
    inside = rasterize(
        [footprint.geometry], out_shape=(r1 - r0, c1 - c0), transform=transform, dtype="uint8"
    ).view(bool)
    if not inside.any():
        return []
    z = surface.elevation[window].astype(np.float64)
    ground = surface.ground[window] if surface.ground is not None else None
    territory = inside & (z >= _ground_level(z, inside, ground) + params.min_height)
    if ground is not None:
        territory &= ~ground
    if not territory.any():
        return []
    eligible = territory.copy()
    if surface.vegetation is not None:
        eligible &= ~surface.vegetation[window]
    if surface.building is not None:
        # The classification knows roofs from roof furniture and from trees that AHN3
        # leaves unclassified: only building pixels may lie in a face.
        eligible &= surface.building[window]

    gwin = (slice(r0 - grid.row0, r1 - grid.row0), slice(c0 - grid.col0, c1 - grid.col0))
    dz_dx = grid.dz_dx[gwin].astype(np.float64)
    dz_dy = grid.dz_dy[gwin].astype(np.float64)
    steep = dz_dx**2 + dz_dy**2 > math.tan(math.radians(params.max_tilt)) ** 2
    seeds = np.flatnonzero(eligible & ~steep)
    seeds = seeds[np.argsort(grid.roughness[gwin].ravel()[seeds], kind="stable")]

    zref = float(np.median(z[territory]))
    zl = z - zref
    tol = params.obstacle_tolerance
    cos_tol = math.cos(math.radians(params.angle_tolerance))
    labels = _grow(zl, dz_dx, dz_dy, seeds, eligible & ~steep, res, cos_tol, tol)
    labels = _merge_and_filter(labels, zl, res, cos_tol, params)
    for _ in range(2):
        planes, _, _ = _planes(_moments(labels, zl, res, int(labels.max())))
        labels = _assign(zl, eligible, labels, planes, res, _ASSIGN_RADIUS, tol)
    labels = _drop_small_faces(labels, zl, res, params)
    n_faces = int(labels.max())
    if n_faces == 0:
        return []
    planes, sse, counts = _planes(_moments(labels, zl, res, n_faces))

    owner, obstacle = _outlines(labels, territory, eligible)
    # Let every outline run one pixel past the footprint so that clipping with the
    # footprint, not the pixel grid, draws the outer edges.
    dist, (ir, ic) = ndimage.distance_transform_edt(owner == 0, return_indices=True)
    extended = np.where(~inside & (dist < 1.5), owner[ir, ic], owner).astype(np.int32)
    outlines = _polygons(extended, transform, n_faces)
    obstacle_geoms = _polygons(obstacle, transform, n_faces)
    outlines = shapely.intersection(
        shapely.coverage_simplify(outlines, res, simplify_boundary=False), footprint.geometry
    )

    x0, y0 = transform.c, transform.f
    drafts = []
    for k in range(1, n_faces + 1):
        a, b, c = planes[k]
        rr, cc = np.nonzero(labels == k)
        orr, occ = np.nonzero(obstacle == k)
        drafts.append(
            _Draft(
                building_id=footprint.building_id,
                plane=(float(a), float(b), float(c + zref - a * x0 - b * y0)),
                rmse=math.sqrt(max(sse[k], 0.0) / counts[k]),
                rows=(rr + r0).astype(np.int32),
                cols=(cc + c0).astype(np.int32),
                obstacle_rows=(orr + r0).astype(np.int32),
                obstacle_cols=(occ + c0).astype(np.int32),
                outline=outlines[k - 1],
                obstacles=obstacle_geoms[k - 1],
            )
        )
    return drafts


def _ground_level(z: np.ndarray, inside: np.ndarray, ground: np.ndarray | None) -> float:
    """Local ground height around a footprint. [m]"""
    if ground is not None and np.count_nonzero(ground) >= _MIN_GROUND_PIXELS:
        return float(np.median(z[ground]))
    around = z[~inside]
    if around.size:
        return float(np.percentile(around, _GROUND_PERCENTILE))
    return float(z.min())


def _merge_and_filter(
    labels: np.ndarray, zl: np.ndarray, res: float, cos_tol: float, params: _Params
) -> np.ndarray:
    """Merge coplanar regions, drop small or steep ones, and number the rest 1..n."""
    n_regions = int(labels.max())
    if n_regions == 0:
        return labels
    moments = _moments(labels, zl, res, n_regions)
    counts = moments[:, 0]
    big = np.flatnonzero(counts >= _MIN_REGION_PIXELS)
    big = big[np.argsort(-counts[big], kind="stable")]
    merge_rmse = _MERGE_RMSE_SHARE * params.obstacle_tolerance
    parent = _merge(moments[big], cos_tol, merge_rmse)
    merged = np.zeros(n_regions + 1, np.int64)
    merged[big] = big[parent]
    merged_moments = _moments(merged[labels], zl, res, n_regions)
    return _drop_small_faces(merged[labels], zl, res, params, merged_moments)


def _drop_small_faces(
    labels: np.ndarray,
    zl: np.ndarray,
    res: float,
    params: _Params,
    moments: np.ndarray | None = None,
) -> np.ndarray:
    """Keep the regions that are large and gentle enough to be faces, numbered 1..n."""
    if moments is None:
        moments = _moments(labels, zl, res, int(labels.max()))
    planes, _, _ = _planes(moments)
    slope = np.hypot(planes[:, 0], planes[:, 1])
    sloped_area = moments[:, 0] * res * res * np.sqrt(1.0 + slope**2)
    keep = (
        (moments[:, 0] >= _MIN_REGION_PIXELS)
        & (sloped_area >= params.min_face_area)
        & (slope <= math.tan(math.radians(params.max_tilt)))
    )
    keep[0] = False
    renumber = np.zeros(len(keep), np.int32)
    renumber[keep] = np.arange(1, np.count_nonzero(keep) + 1)
    return renumber[labels]


def _outlines(
    labels: np.ndarray, territory: np.ndarray, eligible: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which face owns each roof pixel, and which pixels are its obstacles.

    Roof pixels that fit no face form patches; a patch that faces enclose belongs to the
    nearest face as obstacles, a patch that reaches the roof's edge is cut out of the
    outlines (a chimney on the eave, a tree over the gutter, a parapet).
    """
    unfit = territory & (labels == 0)
    patches, _ = ndimage.label(unfit, structure=np.ones((3, 3), bool))
    edge = ndimage.binary_dilation(~territory, structure=np.ones((3, 3), bool), border_value=1)
    open_patches = np.unique(patches[edge & unfit])
    enclosed = unfit & ~np.isin(patches, open_patches)
    obstacle = np.zeros(labels.shape, np.int32)
    if enclosed.any():
        _, (ir, ic) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
        obstacle[enclosed] = labels[ir[enclosed], ic[enclosed]]
    return np.where(enclosed, obstacle, labels).astype(np.int32), obstacle


def _polygons(labels: np.ndarray, transform: Affine, n: int) -> np.ndarray:
    """One (multi)polygon per label 1..n, empty when the label has no pixel."""
    parts: list[list[Polygon]] = [[] for _ in range(n)]
    for geom, value in shapes(labels, mask=labels > 0, transform=transform):
        parts[int(value) - 1].append(shapely.geometry.shape(geom))
    out = np.empty(n, dtype=object)
    for k, polys in enumerate(parts):
        if not polys:
            out[k] = Polygon()
        elif len(polys) == 1:
            out[k] = polys[0]
        else:
            out[k] = MultiPolygon(polys)
    return out


def _finish(drafts: list[_Draft], setback: float) -> list[RoofFace]:
    """Measure every face in its own plane, all faces at once, and number them."""
    if not drafts:
        return []
    a = np.array([d.plane[0] for d in drafts])
    b = np.array([d.plane[1] for d in drafts])
    outlines = np.array([d.outline for d in drafts], dtype=object)
    obstacles = np.array([d.obstacles for d in drafts], dtype=object)
    flat_outlines = _unfold(outlines, a, b)
    flat_obstacles = _unfold(obstacles, a, b)
    usable = shapely.difference(
        shapely.buffer(flat_outlines, -setback, join_style="mitre"),
        shapely.buffer(flat_obstacles, setback, join_style="mitre"),
    )
    area = shapely.area(flat_outlines)
    usable_area = shapely.area(usable)
    usable_plan = _unfold(usable, a, b, fold=True)

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
                )
            )
    return faces


def _unfold(
    geoms: np.ndarray, a: np.ndarray, b: np.ndarray, *, fold: bool = False
) -> np.ndarray:
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


@njit(cache=True)
def _grow(zl, dz_dx, dz_dy, seeds, grow_mask, res, cos_tol, tol):  # type: ignore[no-untyped-def]
    """Region growing from planar seeds (8-connected).

    A pixel joins when its normal is within the angle of the region's plane normal and its
    height within ``tol`` of that plane; the plane is refitted by least squares as the
    region grows by a quarter.
    """
    nrows, ncols = zl.shape
    labels = np.zeros((nrows, ncols), np.int32)
    queue = np.empty(nrows * ncols, np.int64)
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
        c = zl[r0, c0] - a * u0 - b * v0
        n = 1.0
        su, sv, sz = u0, v0, zl[r0, c0]
        suu, suv, svv, suz, svz = u0 * u0, u0 * v0, v0 * v0, u0 * zl[r0, c0], v0 * zl[r0, c0]
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
                    if abs(z - (a * u + b * v + c)) > tol:
                        continue
                    gx = dz_dx[r, cc]
                    gy = dz_dy[r, cc]
                    cos = (1.0 + a * gx + b * gy) / math.sqrt(
                        (1.0 + a * a + b * b) * (1.0 + gx * gx + gy * gy)
                    )
                    if cos < cos_tol:
                        continue
                    labels[r, cc] = region
                    queue[tail] = r * ncols + cc
                    tail += 1
                    n += 1.0
                    su += u
                    sv += v
                    sz += z
                    suu += u * u
                    suv += u * v
                    svv += v * v
                    suz += u * z
                    svz += v * z
                    if n >= refit_at:
                        refit_at = n * 1.25
                        mu, mv, mz = su / n, sv / n, sz / n
                        cuu = suu - n * mu * mu
                        cuv = suv - n * mu * mv
                        cvv = svv - n * mv * mv
                        cuz = suz - n * mu * mz
                        cvz = svz - n * mv * mz
                        det = cuu * cvv - cuv * cuv
                        # Pixels still in a line leave the plane's cross-slope undefined.
                        if det > 1e-9 * (cuu + cvv) ** 2:
                            a = (cuz * cvv - cvz * cuv) / det
                            b = (cvz * cuu - cuz * cuv) / det
                            c = mz - a * mu - b * mv
    return labels


@njit(cache=True)
def _moments(labels, zl, res, n_labels):  # type: ignore[no-untyped-def]
    """Least-squares sums per label: n, Σu, Σv, Σz, Σuu, Σuv, Σvv, Σuz, Σvz, Σzz."""
    m = np.zeros((n_labels + 1, 10))
    nrows, ncols = labels.shape
    for r in range(nrows):
        v = -(r + 0.5) * res
        for cc in range(ncols):
            k = labels[r, cc]
            if k <= 0:
                continue
            u = (cc + 0.5) * res
            z = zl[r, cc]
            m[k, 0] += 1.0
            m[k, 1] += u
            m[k, 2] += v
            m[k, 3] += z
            m[k, 4] += u * u
            m[k, 5] += u * v
            m[k, 6] += v * v
            m[k, 7] += u * z
            m[k, 8] += v * z
            m[k, 9] += z * z
    return m


@njit(cache=True)
def _fit(m):  # type: ignore[no-untyped-def]
    """Plane (a, b, c) and residual sum of squares from one row of moments."""
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


@njit(cache=True)
def _planes(moments):  # type: ignore[no-untyped-def]
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


@njit(cache=True)
def _merge(moments, cos_tol, rmse_tol):  # type: ignore[no-untyped-def]
    """Greedy merge of regions (largest first) that one plane fits within ``rmse_tol``.

    Returns the index of the region each one ends in.
    """
    k = moments.shape[0]
    m = moments.copy()
    parent = np.arange(k)
    alive = np.ones(k, np.bool_)
    changed = True
    while changed:
        changed = False
        for i in range(k):
            if not alive[i]:
                continue
            ai, bi, _, _ = _fit(m[i])
            for j in range(i + 1, k):
                if not alive[j]:
                    continue
                aj, bj, _, _ = _fit(m[j])
                cos = (1.0 + ai * aj + bi * bj) / math.sqrt(
                    (1.0 + ai * ai + bi * bi) * (1.0 + aj * aj + bj * bj)
                )
                if cos < cos_tol:
                    continue
                both = m[i] + m[j]
                _, _, _, sse = _fit(both)
                if sse > rmse_tol * rmse_tol * both[0]:
                    continue
                m[i] = both
                alive[j] = False
                parent[j] = i
                changed = True
                ai, bi, _, _ = _fit(m[i])
    for j in range(k):
        root = j
        while parent[root] != root:
            root = parent[root]
        parent[j] = root
    return parent


@njit(cache=True)
def _assign(zl, eligible, labels, planes, res, radius, tol):  # type: ignore[no-untyped-def]
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
