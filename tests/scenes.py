"""Analytic roof scenes built in memory, shared by the tests.

Each builder renders one building on a 0.5 m north-up grid in EPSG:2154 near Lens
(x ≈ 686,000 m, y ≈ 7,032,000 m), on flat ground at 35 m, with seeded Gaussian height
noise of a few centimetres as in LiDAR HD (IGN quotes about 10 cm of vertical accuracy
for the point cloud, most of it a bias that a plane absorbs). It returns the surface, the
footprint and the true faces: their tilt and azimuth, their sloped area inside the
footprint, and a plan point inside each face to match it with a detected face.

A pixel takes the height of its centre: the roof inside the footprint, the ground outside.
Axis-aligned scenes sit on whole metres, so pixel edges fall on the footprint's edges.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from rasterio.crs import CRS
from shapely import Polygon

from solar.footprints import Footprint
from solar.surface import Surface

RESOLUTION = 0.5
"""Pixel size of every scene, as IGN's MNS LiDAR HD. [m]"""
CENTRE = (686_020.0, 7_031_980.0)
"""Plan centre of the building, Lambert-93, in Lens. [m]"""
GROUND = 35.0
"""Ground height around the building. [m]"""
NOISE = 0.04
"""Standard deviation of the height noise. [m]"""

_HALF_SIZE = 20.0  # the grid spans 40 m × 40 m around CENTRE

Roof = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class TrueFace:
    """One face as built.

    Attributes
    ----------
    surface_tilt : float
        [°]
    surface_azimuth : float or None
        Downslope direction clockwise from north; None for a flat face. [°]
    area_m2 : float
        Sloped area of the face inside the footprint (inside the parapet for a flat roof
        with one). [m²]
    point : tuple of float
        A plan point well inside the face. [m]
    """

    surface_tilt: float
    surface_azimuth: float | None
    area_m2: float
    point: tuple[float, float]


@dataclass(frozen=True, eq=False)
class Scene:
    surface: Surface
    footprint: Footprint
    faces: tuple[TrueFace, ...]


@dataclass(frozen=True)
class _Frame:
    """Local axes of a building: s along the ridge, t down the first face's slope."""

    azimuth: float

    @property
    def t_axis(self) -> tuple[float, float]:
        az = math.radians(self.azimuth)
        return (math.sin(az), math.cos(az))

    @property
    def s_axis(self) -> tuple[float, float]:
        tx, ty = self.t_axis
        return (ty, -tx)

    def local(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = x - CENTRE[0], y - CENTRE[1]
        (sx, sy), (tx, ty) = self.s_axis, self.t_axis
        return dx * sx + dy * sy, dx * tx + dy * ty

    def world(self, s: float, t: float) -> tuple[float, float]:
        (sx, sy), (tx, ty) = self.s_axis, self.t_axis
        return (CENTRE[0] + s * sx + t * tx, CENTRE[1] + s * sy + t * ty)

    def rectangle(self, s0: float, s1: float, t0: float, t1: float) -> Polygon:
        return Polygon([self.world(s, t) for s, t in ((s0, t0), (s1, t0), (s1, t1), (s0, t1))])


def _azimuth_of(vector: tuple[float, float]) -> float:
    return math.degrees(math.atan2(vector[0], vector[1])) % 360.0


def _render(
    footprint: Polygon,
    roof: Roof,
    *,
    noise: float,
    seed: int,
    classes: bool,
    building_id: str = "scene",
) -> tuple[Surface, Footprint]:
    """Sample ``roof`` (heights above ground and a vegetation flag) at pixel centres."""
    n = int(2 * _HALF_SIZE / RESOLUTION)
    x0, y0 = CENTRE[0] - _HALF_SIZE, CENTRE[1] + _HALF_SIZE
    transform = Affine(RESOLUTION, 0.0, x0, 0.0, -RESOLUTION, y0)
    cols, rows = np.meshgrid(np.arange(n), np.arange(n))
    x = x0 + (cols + 0.5) * RESOLUTION
    y = y0 - (rows + 0.5) * RESOLUTION
    inside = shapely.contains_xy(footprint, x, y)
    height, vegetation = roof(x, y)
    height = np.where(inside | vegetation, height, 0.0)
    rng = np.random.default_rng(seed)
    elevation = (GROUND + height + rng.normal(0.0, noise, height.shape)).astype(np.float32)
    surface = Surface(
        elevation=elevation,
        transform=transform,
        crs=CRS.from_epsg(2154),
        ground=~inside & ~vegetation if classes else None,
        vegetation=vegetation if classes else None,
        building=inside & ~vegetation if classes else None,
    )
    return surface, Footprint(building_id, footprint)


def _with_boxes(
    roof: Callable[[np.ndarray, np.ndarray], np.ndarray],
    frame: _Frame,
    boxes: list[tuple[Polygon, float]],
) -> Roof:
    """Add flat-topped boxes (a footprint and a top height above ground) to a roof."""

    def height(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = roof(x, y)
        for box, top in boxes:
            z = np.where(shapely.contains_xy(box, x, y), np.maximum(z, top), z)
        return z, np.zeros(z.shape, bool)

    return height


def gable(
    tilt: float = 35.0,
    azimuth: float = 180.0,
    *,
    length: float = 12.0,
    width: float = 8.0,
    eave_height: float = 6.0,
    chimney: tuple[float, float] | None = None,
    dormer: tuple[float, float] | None = None,
    tree: tuple[float, float] | None = None,
    leaves: float = 0.0,
    classes: bool = False,
    noise: float = NOISE,
    seed: int = 1,
) -> Scene:
    """A gable roof; its first face slopes down towards ``azimuth``.

    Parameters
    ----------
    tilt, azimuth : float
        Slope of both faces, and downslope direction of the first one. [°]
    length, width : float
        Along and across the ridge. [m]
    eave_height : float
        Above the ground. [m]
    chimney : (size, height), optional
        A square box of side ``size`` rising ``height`` above the roof at the middle of
        the first face. [m]
    dormer : (size, depth), optional
        A flat-roofed box dormer on the first face: ``size`` along the ridge, ``depth``
        down the slope from 1 m below the ridge, its roof level with the main roof at its
        back. [m]
    tree : (radius, rise), optional
        A crown centred over the first face 1.5 m inside its eave: a dome of ``radius``
        whose top stands ``rise`` above the ridge and drops by 1.5 m at its rim. Its
        pixels are vegetation. [m]
    leaves : float
        Standard deviation of the crown's texture: a LiDAR surface over foliage jumps
        between leaves and gaps by tens of centimetres from one pixel to the next, where
        a roof stays within its few centimetres of noise. [m]
    classes : bool
        Give the surface ground, building and vegetation masks, as a classified LAZ does.
    """
    frame = _Frame(azimuth)
    slope = math.tan(math.radians(tilt))
    half = width / 2
    ridge = eave_height + half * slope

    def roof(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        _, t = frame.local(x, y)
        return eave_height + (half - np.abs(t)) * slope

    boxes: list[tuple[Polygon, float]] = []
    if chimney is not None:
        size, rise = chimney
        t_mid = half / 2
        boxes.append(
            (
                frame.rectangle(-size / 2, size / 2, t_mid - size / 2, t_mid + size / 2),
                eave_height + (half - t_mid) * slope + rise,
            )
        )
    if dormer is not None:
        size, depth = dormer
        back = 1.0
        boxes.append(
            (
                frame.rectangle(-size / 2, size / 2, back, back + depth),
                eave_height + (half - back) * slope,
            )
        )
    shaped = _with_boxes(roof, frame, boxes)
    if tree is not None:
        shaped = _with_tree(shaped, frame.world(0.0, half - 1.5), tree, ridge, leaves)

    footprint = frame.rectangle(-length / 2, length / 2, -half, half)
    surface, fp = _render(footprint, shaped, noise=noise, seed=seed, classes=classes)
    area = length * half / math.cos(math.radians(tilt))
    faces = (
        TrueFace(tilt, azimuth % 360.0, area, frame.world(length / 4, half / 2)),
        TrueFace(tilt, (azimuth + 180.0) % 360.0, area, frame.world(length / 4, -half / 2)),
    )
    return Scene(surface, fp, faces)


def _with_tree(
    roof: Roof,
    centre: tuple[float, float],
    tree: tuple[float, float],
    ridge: float,
    leaves: float = 0.0,
) -> Roof:
    radius, rise = tree
    top = ridge + rise

    def height(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z, _ = roof(x, y)
        r2 = ((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / radius**2
        crown = top - 1.5 * r2 + np.random.default_rng(7).normal(0.0, leaves, x.shape)
        vegetation = (r2 < 1.0) & (crown > z)
        return np.where(vegetation, crown, z), vegetation

    return height


def hip(
    tilt: float = 30.0,
    azimuth: float = 180.0,
    *,
    length: float = 14.0,
    width: float = 8.0,
    eave_height: float = 6.0,
    noise: float = NOISE,
    seed: int = 2,
) -> Scene:
    """A hip roof, all four faces at ``tilt``; the first long face looks to ``azimuth``.

    The ridge runs ``length - width`` long, the end faces are triangles of plan area
    width²/4 and the long faces trapezoids of plan area (2·length - width)·width/4.
    """
    frame = _Frame(azimuth)
    slope = math.tan(math.radians(tilt))
    half_l, half_w = length / 2, width / 2

    def roof(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s, t = frame.local(x, y)
        z = eave_height + np.minimum(half_l - np.abs(s), half_w - np.abs(t)) * slope
        return z, np.zeros(z.shape, bool)

    footprint = frame.rectangle(-half_l, half_l, -half_w, half_w)
    surface, fp = _render(footprint, roof, noise=noise, seed=seed, classes=False)
    cos = math.cos(math.radians(tilt))
    long_area = (2 * length - width) * width / 4 / cos
    end_area = width * width / 4 / cos
    s_az = _azimuth_of(frame.s_axis)
    faces = (
        TrueFace(tilt, azimuth % 360.0, long_area, frame.world(0.0, half_w / 2)),
        TrueFace(tilt, (azimuth + 180.0) % 360.0, long_area, frame.world(0.0, -half_w / 2)),
        TrueFace(tilt, s_az, end_area, frame.world(half_l - half_w / 3, 0.0)),
        TrueFace(tilt, (s_az + 180.0) % 360.0, end_area, frame.world(-half_l + half_w / 3, 0.0)),
    )
    return Scene(surface, fp, faces)


def shed(
    tilt: float = 20.0,
    azimuth: float = 180.0,
    *,
    length: float = 10.0,
    width: float = 6.0,
    eave_height: float = 4.0,
    noise: float = NOISE,
    seed: int = 3,
) -> Scene:
    """A single-pitch roof sloping down towards ``azimuth``, its low eave at ``eave_height``."""
    frame = _Frame(azimuth)
    slope = math.tan(math.radians(tilt))
    half_l, half_w = length / 2, width / 2

    def roof(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, t = frame.local(x, y)
        z = eave_height + (half_w - t) * slope
        return z, np.zeros(z.shape, bool)

    footprint = frame.rectangle(-half_l, half_l, -half_w, half_w)
    surface, fp = _render(footprint, roof, noise=noise, seed=seed, classes=False)
    area = length * width / math.cos(math.radians(tilt))
    return Scene(surface, fp, (TrueFace(tilt, azimuth % 360.0, area, CENTRE),))


def rotated_gable(
    tilt: float = 40.0, azimuth: float = 210.0, *, noise: float = NOISE, seed: int = 4
) -> Scene:
    """A gable whose ridge runs 30° off the grid axes (first face to the south-south-west)."""
    return gable(tilt, azimuth, noise=noise, seed=seed)


def flat(
    *,
    length: float = 12.0,
    width: float = 10.0,
    height: float = 8.0,
    parapet_width: float = 0.5,
    parapet_height: float = 0.8,
    noise: float = NOISE,
    seed: int = 5,
) -> Scene:
    """A flat roof behind a parapet along the whole footprint edge.

    The true face is the roof inside the parapet:
    (length - 2·parapet_width) × (width - 2·parapet_width).
    """
    frame = _Frame(180.0)
    half_l, half_w = length / 2, width / 2

    def roof(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s, t = frame.local(x, y)
        edge = np.minimum(half_l - np.abs(s), half_w - np.abs(t))
        z = np.where(edge < parapet_width, height + parapet_height, height)
        return z, np.zeros(z.shape, bool)

    footprint = frame.rectangle(-half_l, half_l, -half_w, half_w)
    surface, fp = _render(footprint, roof, noise=noise, seed=seed, classes=False)
    area = (length - 2 * parapet_width) * (width - 2 * parapet_width)
    return Scene(surface, fp, (TrueFace(0.0, None, area, CENTRE),))


def vault(
    *,
    radius: float = 8.0,
    length: float = 12.0,
    width: float = 10.0,
    eave_height: float = 6.0,
    noise: float = NOISE,
    seed: int = 6,
) -> Scene:
    """A barrel vault: a cylinder of ``radius`` whose axis runs east-west.

    It has no true planes, so the number of faces found depends on how much bending a face
    may take; ``faces`` is empty.
    """
    frame = _Frame(180.0)
    half_l, half_w = length / 2, width / 2
    rim = math.sqrt(radius**2 - half_w**2)

    def roof(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, t = frame.local(x, y)
        z = eave_height + np.sqrt(np.maximum(radius**2 - t**2, 0.0)) - rim
        return z, np.zeros(z.shape, bool)

    footprint = frame.rectangle(-half_l, half_l, -half_w, half_w)
    surface, fp = _render(footprint, roof, noise=noise, seed=seed, classes=False)
    return Scene(surface, fp, ())


def gable_with_casters(
    tilt: float = 35.0,
    *,
    length: float = 12.0,
    width: float = 8.0,
    eave_height: float = 6.0,
    block: tuple[float, float, float, float] | None = None,
    crown: tuple[float, float, float] | None = None,
    half_size: float = 40.0,
    classes: bool = False,
    noise: float = NOISE,
    seed: int = 7,
) -> Scene:
    """A gable with its ridge running east-west, and casters south of it, off its footprint.

    The first face looks south. The casters stand on the ground outside the footprint, so
    that no footprint claims them: they only cast shade. Their edges sit on whole metres
    when the arguments do, so pixel edges fall on them.

    Parameters
    ----------
    tilt : float
        Slope of both faces. [°]
    length, width : float
        Along (east-west) and across the ridge. [m]
    eave_height : float
        Above the ground. [m]
    block : (gap, length, depth, height), optional
        A flat-topped block centred east-west on the gable, its north wall ``gap`` south
        of the south eave, ``length`` east-west, ``depth`` north-south and ``height``
        above the ground. Building class when ``classes``. [m]
    crown : (gap, radius, top), optional
        A tree crown: a dome of ``radius`` centred east-west on the gable, its rim ``gap``
        south of the south eave, ``top`` above the ground at its centre and 1.5 m lower at
        its rim, standing on nothing the DSM sees (the trunk is under the crown).
        Vegetation class when ``classes``. [m]
    half_size : float
        The grid spans ``2 * half_size`` each way around :data:`CENTRE`. [m]
    classes : bool
        Give the surface ground, building and vegetation masks, as a classified LAZ does.
    """
    slope = math.tan(math.radians(tilt))
    half = width / 2
    n = int(2 * half_size / RESOLUTION)
    x0, y0 = CENTRE[0] - half_size, CENTRE[1] + half_size
    transform = Affine(RESOLUTION, 0.0, x0, 0.0, -RESOLUTION, y0)
    cols, rows = np.meshgrid(np.arange(n), np.arange(n))
    dx = x0 + (cols + 0.5) * RESOLUTION - CENTRE[0]
    dy = y0 - (rows + 0.5) * RESOLUTION - CENTRE[1]
    inside = (np.abs(dx) < length / 2) & (np.abs(dy) < half)
    height = np.where(inside, eave_height + (half - np.abs(dy)) * slope, 0.0)
    standing = np.zeros(inside.shape, bool)
    if block is not None:
        gap, along, depth, top = block
        standing = (np.abs(dx) < along / 2) & (dy < -half - gap) & (dy > -half - gap - depth)
        height = np.where(standing, top, height)
    vegetation = np.zeros(inside.shape, bool)
    if crown is not None:
        gap, radius, top = crown
        r2 = (dx**2 + (dy + half + gap + radius) ** 2) / radius**2
        vegetation = r2 < 1.0
        height = np.where(vegetation, np.maximum(height, top - 1.5 * r2), height)
    rng = np.random.default_rng(seed)
    elevation = (GROUND + height + rng.normal(0.0, noise, height.shape)).astype(np.float32)
    built = (inside | standing) & ~vegetation
    surface = Surface(
        elevation=elevation,
        transform=transform,
        crs=CRS.from_epsg(2154),
        ground=~built & ~vegetation if classes else None,
        vegetation=vegetation if classes else None,
        building=built if classes else None,
    )
    frame = _Frame(180.0)
    footprint = Footprint("scene", frame.rectangle(-length / 2, length / 2, -half, half))
    area = length * half / math.cos(math.radians(tilt))
    faces = (
        TrueFace(tilt, 180.0, area, frame.world(length / 4, half / 2)),
        TrueFace(tilt, 0.0, area, frame.world(length / 4, -half / 2)),
    )
    return Scene(surface, footprint, faces)


def terrace(
    houses: int = 6,
    *,
    house_width: float = 6.0,
    depth: float = 8.0,
    tilt: float = 35.0,
    eave_height: float = 6.0,
    tree: tuple[float, float] | None = (3.0, 3.0),
    seed: int = 1,
) -> Scene:
    """A row of terraced houses under one gable roof, drawn as one footprint (corons).

    The ridge runs east–west: the first face of every house faces south, the second north.
    ``tree`` (radius, rise above the ridge) stands in the garden 3 m south of the
    westernmost house's eave, and shades its south face. The true faces are those of the
    whole row; each house holds a ``house_width`` slice of both.
    """
    frame = _Frame(180.0)
    slope = math.tan(math.radians(tilt))
    half = depth / 2
    ridge = eave_height + half * slope

    def roof(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        _, t = frame.local(x, y)
        return eave_height + (half - np.abs(t)) * slope

    length = houses * house_width
    shaped = _with_boxes(roof, frame, [])
    if tree is not None:
        west = -length / 2 + house_width / 2
        # s runs west along the ridge for a south-facing frame: the west end is at s = +L/2
        centre = frame.world(-west, half + 3.0 + tree[0] / 2)
        shaped = _with_tree(shaped, centre, tree, ridge, leaves=0.3)
    footprint = frame.rectangle(-length / 2, length / 2, -half, half)
    surface, fp = _render(
        footprint, shaped, noise=NOISE, seed=seed, classes=False, building_id="row"
    )
    area = length * half / math.cos(math.radians(tilt))
    faces = (
        TrueFace(tilt, 180.0, area, frame.world(0.0, half / 2)),
        TrueFace(tilt, 0.0, area, frame.world(0.0, -half / 2)),
    )
    return Scene(surface, fp, faces)
