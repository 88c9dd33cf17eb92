"""A seeded synthetic territory of mixed density, written as IGN would ship it.

Shared by ``bench_territory.py`` and its test. The territory is a grid of square cells, each
of one kind, given as a layout of letters, one string per row of cells from north to south:

- ``C``, dense corons: the terraced mining-town streets of :func:`synthetic.corons_district`;
- ``S``, suburbs: detached houses with gable or hip roofs in gardens, on a street grid;
- ``I``, an industrial zone: warehouses of 50-200 m with flat roofs (parapets, rooftop
  units) or north-light sheds, between yards and car parks;
- ``F``, fields: bare ground with hedgerows, and now and then a farm.

One ground runs under every cell: the gentle tilt and long waves of the chalk plateau, as in
``synthetic.py``. The cells of ``synthetic.py`` bring their own ground; it is estimated (the
lowest surface within 20 m, smoothed) and replaced by the territory's, so that no step
appears where two cells meet.

:func:`write_territory` writes one DSM GeoTIFF per cell (IGN's "MNS LiDAR HD" names for
1 km cells, float32, nodata -9999, deflate) and the footprints as a BD TOPO-like
GeoPackage (``cleabs``, ``usage_1``, ``nature``, ``hauteur``, ``nombre_de_logements``), in
Lambert-93 with the territory's south-west corner at ``synthetic.LAMBERT93_ORIGIN``. A
folder already holding the files of the same parameters and generator code is reused.

Frame of a cell: x to the east, y to the north, in metres, origin at its south-west corner;
row 0 of its grid is its northern edge.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
import shapely.affinity
from scipy import ndimage
from shapely.geometry import Polygon
from synthetic import DSM_NOISE_M, GROUND_M, LAMBERT93_ORIGIN, corons_district

KINDS = {"C": "corons", "S": "suburbs", "I": "industrial", "F": "fields"}
"""The cell kinds by their layout letter."""

PMA_LAYOUT = ("CCSIF", "CSSIF")
"""The benchmark's 10 km²: a town of corons and suburbs, an industrial zone, fields."""

NODATA = -9999.0  # IGN's nodata value in the MNS LiDAR HD tiles [m]
TILE_DATE = "2021:06:15 00:00:00"  # acquisition date written as TIFFTAG_DATETIME
# Width of the window in which a cell's lowest surface is taken as its ground: wider than
# any building's narrow side, so every window holds a street, a yard or a garden. [m]
GROUND_WINDOW_M = 40.0


@dataclass(frozen=True)
class Building:
    """A footprint and the BD TOPO attributes it is written with.

    Attributes
    ----------
    polygon : shapely.Polygon
        In the cell's frame. [m]
    usage : str
        BD TOPO ``usage_1``.
    nature : str
        BD TOPO ``nature``.
    height : float
        From the ground to the highest point. [m]
    dwellings : int
        BD TOPO ``nombre_de_logements``.
    """

    polygon: Polygon
    usage: str
    nature: str
    height: float
    dwellings: int


@dataclass
class Cell:
    """One cell's surface being drawn: heights over the territory's ground, and footprints.

    Attributes
    ----------
    z : numpy.ndarray
        Surface heights, float32, north up. [m]
    ground : numpy.ndarray
        The territory's ground under the cell. [m]
    resolution : float
        [m]
    size_m : float
        Side of the cell. [m]
    rng : numpy.random.Generator
    buildings : list of Building
    """

    z: np.ndarray
    ground: np.ndarray
    resolution: float
    size_m: float
    rng: np.random.Generator
    buildings: list[Building] = field(default_factory=list)

    def window(self, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
        """Rows and columns of the pixels meeting the rectangle, clipped to the cell."""
        n = self.z.shape[0]
        c0, c1 = max(int(x0 / self.resolution), 0), min(math.ceil(x1 / self.resolution), n)
        r0 = max(int((self.size_m - y1) / self.resolution), 0)
        r1 = min(math.ceil((self.size_m - y0) / self.resolution), n)
        return slice(r0, r1), slice(c0, c1)

    def centres(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        """x (1, w) and y (h, 1) of the pixel centres of a window. [m]"""
        x = (np.arange(cols.start, cols.stop) + 0.5) * self.resolution
        y = self.size_m - (np.arange(rows.start, rows.stop) + 0.5) * self.resolution
        return x[None, :], y[:, None]

    def ground_at(self, x: float, y: float) -> float:
        """The ground height at a point of the cell. [m]"""
        rows, cols = self.window(x, y, x, y)
        n = self.z.shape[0]
        return float(self.ground[min(rows.start, n - 1), min(cols.start, n - 1)])

    def raise_to(self, rows: slice, cols: slice, inside: np.ndarray, top: np.ndarray) -> None:
        """Raise the surface to ``top`` where ``inside``; nothing already higher is lowered."""
        zone = self.z[rows, cols]
        self.z[rows, cols] = np.where(inside, np.maximum(zone, top), zone)

    def building(
        self,
        box: tuple[float, float, float, float],
        eave: float,
        roof: str,
        pitch_deg: float = 0.0,
        *,
        usage: str = "Résidentiel",
        nature: str = "Indifférenciée",
        dwellings: int = 1,
    ) -> None:
        """Raise a rectangular building and record its footprint.

        ``roof`` is ``gable`` (ridge along the longer side), ``hip``, ``flat`` (a 0.6 m
        parapet on its outer 0.5 m) or ``sheds`` (north-light sheds: ridges east-west every
        10 m, a steep glazed north side and a ``pitch_deg`` south side).
        """
        x0, y0, x1, y1 = box
        rows, cols = self.window(*box)
        if rows.start >= rows.stop or cols.start >= cols.stop:
            return
        px, py = self.centres(rows, cols)
        inside = (px >= x0) & (px < x1) & (py >= y0) & (py < y1)
        base = self.ground_at((x0 + x1) / 2, (y0 + y1) / 2)
        dx = (x1 - x0) / 2 - np.abs(px - (x0 + x1) / 2)
        dy = (y1 - y0) / 2 - np.abs(py - (y0 + y1) / 2)
        rise = math.tan(math.radians(pitch_deg))
        height: np.ndarray
        if roof == "gable":
            height = eave + (dy if x1 - x0 >= y1 - y0 else dx) * rise
        elif roof == "hip":
            height = eave + np.minimum(dx, dy) * rise
        elif roof == "sheds":
            # the south slope climbs northwards from each valley to the next ridge, whose
            # glazed north side falls over its last metre
            into_bay = np.mod(py - y0, 10.0)
            height = eave + np.where(
                into_bay < 9.0, into_bay * rise, 9.0 * rise * (10.0 - into_bay)
            )
        else:
            height = eave + 0.6 * (np.minimum(dx, dy) < 0.5)
        self.raise_to(rows, cols, inside, (base + height).astype(np.float32))
        top = float(np.max(np.where(inside, height, 0.0)))
        self.buildings.append(
            Building(shapely.box(x0, y0, x1, y1), usage, nature, round(top, 1), dwellings)
        )

    def block(self, box: tuple[float, float, float, float], height_above: float) -> None:
        """A box standing on whatever is under it (a chimney, a rooftop unit)."""
        rows, cols = self.window(*box)
        if rows.start < rows.stop and cols.start < cols.stop:
            self.z[rows, cols] = self.z[rows, cols].max() + height_above

    def tree(self, cx: float, cy: float, radius: float, top: float) -> None:
        """A crown as the cap of an ellipsoid over a trunk."""
        rows, cols = self.window(cx - radius, cy - radius, cx + radius, cy + radius)
        if rows.start >= rows.stop or cols.start >= cols.stop:
            return
        px, py = self.centres(rows, cols)
        r2 = ((px - cx) ** 2 + (py - cy) ** 2) / radius**2
        crown = self.ground_at(cx, cy) + top - 0.6 * top * (1 - np.sqrt(np.clip(1 - r2, 0, 1)))
        self.raise_to(rows, cols, r2 < 1, crown.astype(np.float32))

    def garden_tree(self, cx: float, cy: float) -> None:
        self.tree(cx, cy, self.rng.uniform(2.0, 4.5), self.rng.uniform(5.0, 12.0))


def territory_ground(seed: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The territory's ground: a tilt and long waves, as ``synthetic.py``'s. [m]

    Parameters
    ----------
    seed : int
    x, y : numpy.ndarray
        Territory coordinates from its south-west corner, broadcastable. [m]
    """
    phase_x, phase_y = np.random.default_rng([seed, 0xA7]).uniform(0, 2 * math.pi, 2)
    waves = np.sin(2 * math.pi * x / 730.0 + phase_x) * np.cos(2 * math.pi * y / 910.0 + phase_y)
    return (GROUND_M + 0.004 * x + 0.002 * y + 1.2 * waves).astype(np.float32)


def estimated_ground(elevation: np.ndarray, resolution: float) -> np.ndarray:
    """A surface model's ground: its lowest height within :data:`GROUND_WINDOW_M`,
    smoothed over as much. [m]"""
    size = int(GROUND_WINDOW_M / resolution) | 1
    lowest = ndimage.minimum_filter(elevation, size=size, mode="nearest")
    return ndimage.uniform_filter(lowest, size=size, mode="nearest")


def _corons(cell: Cell, seed: int) -> None:
    """Dense corons from ``synthetic.py``, moved onto the territory's ground."""
    elevation, polygons = corons_district(seed, cell.size_m, cell.resolution)
    local = estimated_ground(elevation, cell.resolution)
    # the lowest of the noisy heights lies below the ground: lift by the bare ground's
    # median offset, the pixels less than 1 m above the estimate
    offset = elevation - local
    local += np.median(offset[offset < 1.0])
    cell.z[:] = elevation - local + cell.ground
    for polygon in polygons:
        x0, y0, x1, y1 = polygon.bounds
        rows, cols = cell.window(x0, y0, x1, y1)
        height = float((cell.z[rows, cols] - cell.ground[rows, cols]).max())
        cell.buildings.append(Building(polygon, "Résidentiel", "Indifférenciée", height, 1))


def _street_blocks(
    rng: np.random.Generator, size_m: float, block: tuple[float, float], street: float
) -> list[tuple[float, float]]:
    """Spans (start, end) of the blocks along one axis, separated by streets. [m]"""
    spans: list[tuple[float, float]] = []
    pos = rng.uniform(0.0, street)
    while True:
        length = rng.uniform(*block)
        if pos + length > size_m:
            return spans
        spans.append((pos, pos + length))
        pos += length + rng.uniform(street, street + 4.0)


def _suburbs(cell: Cell) -> None:
    """Detached houses on lots of 16-24 m by 22-30 m, two rows per block, garden trees."""
    rng = cell.rng
    for bx0, bx1 in _street_blocks(rng, cell.size_m, (80.0, 160.0), 10.0):
        for by0, by1 in _street_blocks(rng, cell.size_m, (46.0, 60.0), 10.0):
            lot_width = rng.uniform(16.0, 24.0)
            for lx in np.arange(bx0, bx1 - lot_width + 0.1, lot_width):
                for front, facing_south in ((by0, True), (by1, False)):
                    if rng.random() < 0.08:
                        continue  # an empty lot
                    width, depth = rng.uniform(8.0, 12.0), rng.uniform(8.0, 11.0)
                    setback = rng.uniform(4.0, 7.0)
                    hx = lx + rng.uniform(1.0, lot_width - width - 1.0)
                    hy = front + setback if facing_south else front - setback - depth
                    roof = "hip" if rng.random() < 0.3 else "gable"
                    cell.building(
                        (hx, hy, hx + width, hy + depth),
                        rng.uniform(3.0, 6.0),
                        roof,
                        rng.uniform(25.0, 45.0),
                    )
                    if rng.random() < 0.4:
                        chimney_x = hx + rng.uniform(0.3, 0.7) * width
                        chimney_y = hy + rng.uniform(0.3, 0.7) * depth
                        cell.block(
                            (chimney_x - 0.4, chimney_y - 0.4, chimney_x + 0.4, chimney_y + 0.4),
                            1.0,
                        )
                    if rng.random() < 0.6:
                        garden_y = hy + depth + 4.0 if facing_south else hy - 4.0
                        cell.garden_tree(lx + rng.uniform(2.0, lot_width - 2.0), garden_y)


def _industrial(cell: Cell) -> None:
    """Warehouses of 50-200 m packed along the zone's roads, with yards between them."""
    rng = cell.rng
    largest = min(200.0, cell.size_m - 30.0)
    for bx0, bx1 in _street_blocks(rng, cell.size_m, (largest * 0.6, largest + 20.0), 14.0):
        y = rng.uniform(5.0, 20.0)
        while True:
            depth = rng.uniform(50.0, largest)
            if y + depth > cell.size_m - 5.0:
                break
            width = rng.uniform(50.0, bx1 - bx0)
            x0 = bx0 + rng.uniform(0.0, bx1 - bx0 - width)
            box = (x0, y, x0 + width, y + depth)
            eave = rng.uniform(7.0, 14.0)
            if rng.random() < 0.3:
                cell.building(
                    box,
                    eave,
                    "sheds",
                    rng.uniform(18.0, 25.0),
                    usage="Industriel",
                    nature="Industriel, agricole ou commercial",
                    dwellings=0,
                )
            else:
                cell.building(
                    box,
                    eave,
                    "flat",
                    usage="Industriel",
                    nature="Industriel, agricole ou commercial",
                    dwellings=0,
                )
                for _ in range(int(width * depth / 1500)):
                    ux = rng.uniform(x0 + 3.0, x0 + width - 6.0)
                    uy = rng.uniform(y + 3.0, y + depth - 5.0)
                    cell.block((ux, uy, ux + 3.0, uy + 2.0), 1.5)
            # a yard or a car park before the next one
            y += depth + rng.uniform(20.0, 45.0)


def _fields(cell: Cell) -> None:
    """Open fields with hedgerows along their edges, and a farm in half of the cells."""
    rng = cell.rng
    for hedge_x in np.arange(rng.uniform(100.0, 300.0), cell.size_m, rng.uniform(250.0, 400.0)):
        for tree_y in np.arange(rng.uniform(0.0, 8.0), cell.size_m, rng.uniform(6.0, 9.0)):
            if rng.random() < 0.7:
                cell.tree(
                    hedge_x + rng.normal(0.0, 0.5),
                    tree_y,
                    rng.uniform(2.0, 3.5),
                    rng.uniform(4.0, 9.0),
                )
    if cell.size_m >= 120.0 and rng.random() < 0.5:
        fx = rng.uniform(10.0, cell.size_m - 110.0)
        fy = rng.uniform(10.0, cell.size_m - 110.0)
        cell.building((fx, fy, fx + 14.0, fy + 9.0), 5.0, "gable", 40.0)
        for bx, by, width, depth in ((30.0, 0.0, 40.0, 20.0), (0.0, 40.0, 60.0, 24.0)):
            cell.building(
                (fx + bx, fy + by, fx + bx + width, fy + by + depth),
                6.0,
                "gable",
                18.0,
                usage="Agricole",
                nature="Industriel, agricole ou commercial",
                dwellings=0,
            )


def territory_cell(
    kind: str, seed: int, origin: tuple[float, float], size_m: float, resolution: float
) -> Cell:
    """Draw one cell of the territory.

    Parameters
    ----------
    kind : str
        A letter of :data:`KINDS`.
    seed : int
        The territory's seed.
    origin : tuple of float
        The cell's south-west corner in the territory's frame. [m]
    size_m, resolution : float
        Side of the cell and pixel size. [m]

    Returns
    -------
    Cell
        Its surface with 2 cm of LiDAR-like noise, and its buildings.
    """
    cell_seed = [seed, round(origin[0]), round(origin[1])]
    rng = np.random.default_rng(cell_seed)
    n = round(size_m / resolution)
    centres = (np.arange(n) + 0.5) * resolution
    ground = territory_ground(
        seed, origin[0] + centres[None, :], origin[1] + size_m - centres[:, None]
    )
    cell = Cell(ground.copy(), ground, resolution, size_m, rng)
    if kind == "C":
        # synthetic.py's district brings its own noise
        _corons(cell, int(rng.integers(2**31)))
        return cell
    if kind == "S":
        _suburbs(cell)
    elif kind == "I":
        _industrial(cell)
    elif kind == "F":
        _fields(cell)
    else:
        raise ValueError(f"unknown cell kind {kind!r}; one of {''.join(KINDS)}")
    cell.z += rng.normal(0.0, DSM_NOISE_M, cell.z.shape).astype(np.float32)
    return cell


@dataclass(frozen=True)
class CellFacts:
    """What a written cell holds.

    Attributes
    ----------
    kind : str
        A value of :data:`KINDS`.
    file : str
        Its DSM GeoTIFF's name.
    bounds : tuple of float
        (xmin, ymin, xmax, ymax) in Lambert-93. [m]
    buildings : int
    footprint_m2 : float
        Its footprints' area. [m²]
    """

    kind: str
    file: str
    bounds: tuple[float, float, float, float]
    buildings: int
    footprint_m2: float


@dataclass(frozen=True)
class TerritoryFiles:
    """A territory written to disk.

    Attributes
    ----------
    dsm : list of pathlib.Path
        One GeoTIFF per cell, in the layout's order (rows north to south).
    footprints : pathlib.Path
        The BD TOPO-like GeoPackage.
    cells : list of CellFacts
        In the order of ``dsm``.
    """

    dsm: list[Path]
    footprints: Path
    cells: list[CellFacts]


def generator_digest() -> str:
    """SHA-256 of this generator's code and of ``synthetic.py``: a change makes new files."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("territory_synthetic.py", "synthetic.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def dsm_name(x_m: float, y_top_m: float, size_m: float) -> str:
    """A cell's file name: IGN's for 1 km tiles (kilometres of the north-west corner),
    the corner's metres otherwise.

    >>> dsm_name(685000.0, 7032000.0, 1000.0)
    'LHD_FXX_0685_7032_MNS_O_0M50_LAMB93_IGN69_2021.tif'
    >>> dsm_name(685250.0, 7031250.0, 250.0)
    'MNS_685250_7031250.tif'
    """
    if size_m == 1000.0:
        corner = f"{round(x_m / 1000):04d}_{round(y_top_m / 1000):04d}"
        return f"LHD_FXX_{corner}_MNS_O_0M50_LAMB93_IGN69_2021.tif"
    return f"MNS_{round(x_m)}_{round(y_top_m)}.tif"


def write_territory(
    folder: Path,
    layout: Sequence[str] = PMA_LAYOUT,
    *,
    seed: int = 0,
    cell_m: float = 1000.0,
    resolution: float = 0.5,
) -> TerritoryFiles:
    """Write the territory's DSM tiles and footprints, or reuse those already written.

    Parameters
    ----------
    folder : pathlib.Path
        Created if missing; holds ``manifest.json``, the DSM tiles and
        ``batiment.gpkg``.
    layout : sequence of str
        One string of :data:`KINDS` letters per row of cells, north to south, all of one
        length.
    seed : int, default 0
    cell_m : float, default 1000
        Side of a cell. [m]
    resolution : float, default 0.5
        Pixel size. [m]

    Returns
    -------
    TerritoryFiles
    """
    import pyogrio.raw
    import rasterio
    from affine import Affine

    if len({len(row) for row in layout}) != 1:
        raise ValueError("every row of the layout must hold as many cells")
    parameters = {
        "layout": list(layout),
        "seed": seed,
        "cell_m": cell_m,
        "resolution": resolution,
        "generator_sha256": generator_digest(),
    }
    manifest_path = folder / "manifest.json"
    footprints = folder / "batiment.gpkg"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        written = [CellFacts(**{**c, "bounds": tuple(c["bounds"])}) for c in manifest["cells"]]
        files = [folder / c.file for c in written]
        if manifest["parameters"] == parameters and all(f.exists() for f in [*files, footprints]):
            return TerritoryFiles(files, footprints, written)
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path.unlink(missing_ok=True)
    x_origin, y_origin = LAMBERT93_ORIGIN
    n_rows = len(layout)
    cells: list[CellFacts] = []
    records: list[Building] = []
    for row, kinds in enumerate(layout):
        for col, kind in enumerate(kinds):
            origin = (col * cell_m, (n_rows - 1 - row) * cell_m)
            cell = territory_cell(kind, seed, origin, cell_m, resolution)
            x0, y0 = x_origin + origin[0], y_origin + origin[1]
            name = dsm_name(x0, y0 + cell_m, cell_m)
            with rasterio.open(
                folder / name,
                "w",
                driver="GTiff",
                width=cell.z.shape[1],
                height=cell.z.shape[0],
                count=1,
                dtype="float32",
                crs="EPSG:2154",
                transform=Affine(resolution, 0.0, x0, 0.0, -resolution, y0 + cell_m),
                nodata=NODATA,
                tiled=True,
                blockxsize=256,
                blockysize=256,
                compress="deflate",
                predictor=3,
            ) as dataset:
                dataset.write(cell.z, 1)
                dataset.update_tags(TIFFTAG_DATETIME=TILE_DATE)
            records += [
                dataclasses.replace(b, polygon=shapely.affinity.translate(b.polygon, x0, y0))
                for b in cell.buildings
            ]
            cells.append(
                CellFacts(
                    kind=KINDS[kind],
                    file=name,
                    bounds=(x0, y0, x0 + cell_m, y0 + cell_m),
                    buildings=len(cell.buildings),
                    footprint_m2=float(sum(b.polygon.area for b in cell.buildings)),
                )
            )
            del cell
    footprints.unlink(missing_ok=True)
    pyogrio.raw.write(
        footprints,
        shapely.to_wkb([b.polygon for b in records]),
        [
            np.array([f"BATIMENT{i:016d}" for i in range(len(records))], dtype=object),
            np.array([b.usage for b in records], dtype=object),
            np.array([b.nature for b in records], dtype=object),
            np.array([b.height for b in records]),
            np.array([b.dwellings for b in records], dtype=np.int32),
        ],
        ["cleabs", "usage_1", "nature", "hauteur", "nombre_de_logements"],
        layer="batiment",
        driver="GPKG",
        geometry_type="Polygon",
        crs="EPSG:2154",
    )
    manifest = {"parameters": parameters, "cells": [dataclasses.asdict(c) for c in cells]}
    # written last: a folder with a manifest is complete
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return TerritoryFiles([folder / c.file for c in cells], footprints, cells)
