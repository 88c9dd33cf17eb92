"""Build the cadastre: surface → roofs → horizon → irradiance → pv → ``cadastre.gpkg``.

The territory is cut into square tiles (default 1 km). Each tile is processed on its own
window of the surface model, widened by a halo (default 150 m) so that casters outside the
tile shade the roofs inside it. A building belongs to the tile that holds its footprint's
representative point, so no building is processed twice. Tiles run one after the other,
or on a Dask cluster (``dask.distributed``): a ``LocalCluster`` on a laptop, or any
scheduler address for a multi-node cluster. The same function runs in both.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window, from_bounds
from rasterio.windows import transform as window_transform

import solar
from solar import cadastre, horizon, irradiance, pv, roofs
from solar.errors import InputError
from solar.footprints import Footprint, footprints_from_classes, read_footprints, select_within
from solar.resources import COMMUNES, DEFAULT_WEATHER
from solar.surface import Surface, dsm_extent, laz_extent, rasterize_laz, read_dsm
from solar.weather import Weather, read_weather, solar_position

DEFAULT_COMMUNES = COMMUNES

#: Faces processed together: their hourly arrays take about 0.5 MB a face.
FACE_BLOCK = 2000

#: A progress callback: (stage, done, total).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildOptions:
    """Parameters of a build. Every one of them changes the output.

    Attributes
    ----------
    laz_resolution : float
        Cell size when a LAZ point cloud is rasterised. [m]
    n_sectors : int
        Azimuth sectors of the horizon (72 = 5° steps).
    halo : float
        Width read around each tile so that outside casters count. [m]
    tile_size : float
        Side of a build tile. [m]
    min_face_area : float
        Smallest roof face kept by the segmentation (plan area). [m²]
    setback : float
        Edge setback kept free of modules. [m]
    obstacle_tolerance : float
        Distance off the fitted plane beyond which a pixel is an obstacle. [m]
    max_tilt : float
        Faces steeper than this are unsuitable. [°]
    min_usable_area : float
        Faces with less usable (sloped) area are unsuitable. [m²]
    shade_threshold : float
        Roof pixels receiving less than this share of their face's unshaded irradiation
        are kept free of modules. [-]
    module : str or None
        Module name in ``data/modules.toml``; None takes the default module.
    system_losses : float
        DC system losses (soiling, wiring, mismatch, ageing at start, availability). [-]
    albedo : float
        Ground reflectance. [-]
    """

    laz_resolution: float = 0.5
    n_sectors: int = 72
    halo: float = 150.0
    tile_size: float = 1000.0
    min_face_area: float = 2.0
    setback: float = 0.4
    obstacle_tolerance: float = 0.2
    max_tilt: float = 60.0
    min_usable_area: float = 4.0
    shade_threshold: float = 0.6
    module: str | None = None
    system_losses: float = 0.14
    albedo: float = 0.2


@dataclass(frozen=True)
class BuildSummary:
    """What a build produced and how long it took."""

    path: Path
    raster_path: Path | None
    buildings: int
    faces: int
    kwc: float
    production_mwh_yr: float
    seconds: float
    stage_seconds: dict[str, float]
    tiles: int
    filled_cells: int
    footprints_repaired: int
    footprints_dropped: tuple[str, ...]
    footprints_outside: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Tile:
    """One unit of work: a core square, the buildings it owns, and the window to read."""

    index: int
    core: tuple[float, float, float, float]
    window: tuple[float, float, float, float]
    footprints: tuple[Footprint, ...]


@dataclass(frozen=True, eq=False)
class SiteClimate:
    """What every tile shares: the weather, the sun, the module and the site optimum."""

    weather: Weather
    solpos: pd.DataFrame
    sun_azimuth: np.ndarray
    sun_elevation: np.ndarray
    month_of_hour: np.ndarray
    optimum_kwh_m2: float
    module: pv.Module


@dataclass(frozen=True, eq=False)
class TileResult:
    """The rows one tile adds to the cadastre, and its roof pixels for the raster."""

    face_rows: list[dict[str, Any]]
    face_geometries: list[shapely.Geometry]
    monthly: dict[str, list[Any]]
    profiles: cadastre.FaceProfiles
    pixel_x: np.ndarray
    pixel_y: np.ndarray
    pixel_irradiation: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)
    filled_cells: int = 0


def crop(surface: Surface, bounds: tuple[float, float, float, float]) -> Surface:
    """The part of ``surface`` inside ``bounds`` (snapped outward to whole pixels)."""
    rows, cols = surface.shape
    win = from_bounds(*bounds, transform=surface.transform)
    row0 = max(int(np.floor(win.row_off)), 0)
    col0 = max(int(np.floor(win.col_off)), 0)
    row1 = min(int(np.ceil(win.row_off + win.height)), rows)
    col1 = min(int(np.ceil(win.col_off + win.width)), cols)
    window = Window(col0, row0, col1 - col0, row1 - row0)
    sl = (slice(row0, row1), slice(col0, col1))

    def cut(mask: np.ndarray | None) -> np.ndarray | None:
        return None if mask is None else mask[sl]

    return Surface(
        elevation=surface.elevation[sl],
        transform=window_transform(window, surface.transform),
        crs=surface.crs,
        filled_cells=0,
        ground=cut(surface.ground),
        vegetation=cut(surface.vegetation),
        building=cut(surface.building),
        sources=surface.sources,
    )


@dataclass(frozen=True)
class DsmSource:
    """DSM files read tile by tile: a build never holds more than one tile's window.

    Picklable (paths and header facts only), so a Dask worker reads its own window.

    Attributes
    ----------
    paths : tuple of str
    crs : rasterio.crs.CRS
    bounds : tuple of float
        Union of the files' bounds. [m]
    resolution : float
        [m]
    """

    paths: tuple[str, ...]
    crs: CRS
    bounds: tuple[float, float, float, float]
    resolution: float

    @classmethod
    def open(cls, paths: Sequence[str | os.PathLike[str]]) -> DsmSource:
        """Check the files and read their extent from the headers."""
        crs, bounds, resolution = dsm_extent(paths)
        return cls(tuple(str(p) for p in paths), crs, bounds, resolution)

    def read(self, bounds: tuple[float, float, float, float]) -> Surface:
        """The merged, hole-filled surface inside ``bounds``."""
        return read_dsm(self.paths, bounds=bounds)


@dataclass(frozen=True)
class LazSource:
    """Classified point clouds rasterised tile by tile, as :class:`DsmSource` reads DSMs.

    Attributes
    ----------
    paths : tuple of str
    crs : rasterio.crs.CRS
    bounds : tuple of float
        Union of the files' header bounds. [m]
    resolution : float
        Cell size of the rasterisation. [m]
    """

    paths: tuple[str, ...]
    crs: CRS
    bounds: tuple[float, float, float, float]
    resolution: float

    @classmethod
    def open(
        cls, paths: Sequence[str | os.PathLike[str]], *, resolution: float, crs: str | None
    ) -> LazSource:
        """Check the files and read their extent from the headers."""
        grid_crs, bounds = laz_extent(paths, crs=crs)
        return cls(tuple(str(p) for p in paths), grid_crs, bounds, resolution)

    def read(self, bounds: tuple[float, float, float, float]) -> Surface:
        """The highest return per cell inside ``bounds``, with the class masks."""
        # the files' CRS was settled by open(): pass it for the files without one
        return rasterize_laz(self.paths, resolution=self.resolution, crs=self.crs, bounds=bounds)


#: What a build reads its tiles from: a surface in memory, or files read tile by tile.
SurfaceInput = Surface | DsmSource | LazSource


def _tile_surface(source: SurfaceInput, window: tuple[float, float, float, float]) -> Surface:
    return crop(source, window) if isinstance(source, Surface) else source.read(window)


def _grid(source: SurfaceInput) -> tuple[Affine, tuple[int, int]]:
    """Transform and shape of the whole area, on the source's pixel grid."""
    if isinstance(source, Surface):
        return source.transform, source.shape
    xmin, ymin, xmax, ymax = source.bounds
    res = source.resolution
    if isinstance(source, LazSource):
        # point clouds are rasterised on multiples of the resolution (rasterize_laz)
        xmin, ymax = math.floor(xmin / res) * res, math.ceil(ymax / res) * res
        shape = (math.ceil((ymax - ymin) / res), math.ceil((xmax - xmin) / res))
    else:
        shape = (round((ymax - ymin) / res), round((xmax - xmin) / res))
    return Affine(res, 0.0, xmin, 0.0, -res, ymax), shape


def plan_tiles(
    bounds: tuple[float, float, float, float],
    footprints: Sequence[Footprint],
    *,
    tile_size: float,
    halo: float,
) -> list[Tile]:
    """Cut ``bounds`` into square tiles and give each footprint to exactly one of them.

    Tiles without buildings are dropped. A tile's window covers its core and its
    buildings' footprints, widened by ``halo`` and clipped to ``bounds``.
    """
    xmin, ymin, xmax, ymax = bounds
    n_cols = max(int(np.ceil((xmax - xmin) / tile_size)), 1)
    n_rows = max(int(np.ceil((ymax - ymin) / tile_size)), 1)
    points = shapely.point_on_surface([f.geometry for f in footprints])
    px, py = shapely.get_x(points), shapely.get_y(points)
    tile_col = np.clip(((px - xmin) // tile_size).astype(int), 0, n_cols - 1)
    tile_row = np.clip(((py - ymin) // tile_size).astype(int), 0, n_rows - 1)
    tiles: list[Tile] = []
    for key in sorted(set(zip(tile_row.tolist(), tile_col.tolist(), strict=True))):
        members = np.flatnonzero((tile_row == key[0]) & (tile_col == key[1]))
        core = (
            xmin + key[1] * tile_size,
            ymin + key[0] * tile_size,
            min(xmin + (key[1] + 1) * tile_size, xmax),
            min(ymin + (key[0] + 1) * tile_size, ymax),
        )
        owned = tuple(footprints[int(i)] for i in members)
        fx0, fy0, fx1, fy1 = shapely.total_bounds([f.geometry for f in owned])
        window = (
            max(min(core[0], fx0) - halo, xmin),
            max(min(core[1], fy0) - halo, ymin),
            min(max(core[2], fx1) + halo, xmax),
            min(max(core[3], fy1) + halo, ymax),
        )
        tiles.append(Tile(len(tiles), core, window, owned))
    return tiles


def site_climate(weather: Weather, module_name: str | None) -> SiteClimate:
    """Solar position, month of each hour and the best unshaded orientation, once."""
    solpos = solar_position(weather)
    _, _, optimum = irradiance.optimal_orientation(weather, solpos)
    return SiteClimate(
        weather=weather,
        solpos=solpos,
        sun_azimuth=solpos["azimuth"].to_numpy(np.float64),
        sun_elevation=solpos["apparent_elevation"].to_numpy(np.float64),
        month_of_hour=(pd.DatetimeIndex(weather.data.index).month.to_numpy() - 1).astype(np.int64),
        optimum_kwh_m2=float(optimum),
        module=pv.load_module(module_name),
    )


def _plane_surface(surface: Surface, faces: Sequence[roofs.RoofFace]) -> np.ndarray:
    """The elevation with each face's pixels moved onto its fitted plane.

    Horizons are computed on this surface: a LiDAR roof carries a few centimetres of noise,
    and at 0.5 m a pixel 5 cm below its neighbour would see a 6° horizon and shade itself.
    Obstacle pixels keep their measured height and still cast shade.
    """
    elevation = surface.elevation.copy()
    for face in faces:
        x, y = _pixel_centres(surface, face.rows, face.cols)
        a, b, c = face.plane
        elevation[face.rows, face.cols] = a * x + b * y + c
    return elevation


def _pixel_centres(
    surface: Surface, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    t = surface.transform
    x = t.c + (cols + 0.5) * t.a
    y = t.f + (rows + 0.5) * t.e
    return x, y


def process_tile(
    surface: Surface, footprints: Sequence[Footprint], climate: SiteClimate, options: BuildOptions
) -> TileResult:
    """Segment, shade, irradiate and lay out every roof face of one tile.

    Parameters
    ----------
    surface : Surface
        The tile's window, halo included.
    footprints : sequence of Footprint
        The buildings this tile owns.
    climate : SiteClimate
    options : BuildOptions

    Returns
    -------
    TileResult
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    # One GDAL environment for the whole tile: rasterio otherwise opens and closes one
    # around each of the thousands of rasterize and shapes calls.
    with rasterio.Env():
        faces = roofs.segment_roofs(
            surface,
            footprints,
            min_face_area=options.min_face_area,
            setback=options.setback,
            obstacle_tolerance=options.obstacle_tolerance,
        )
    timings["roofs"] = time.perf_counter() - start
    if not faces:
        return _empty_result(timings, surface.filled_cells)

    start = time.perf_counter()
    roof_mask = np.zeros(surface.shape, dtype=bool)
    for face in faces:
        roof_mask[face.rows, face.cols] = True
    horizons = horizon.horizon_angles(
        _plane_surface(surface, faces),
        surface.resolution,
        n_sectors=options.n_sectors,
        mask=roof_mask,
        max_distance=None,
    )
    pixel_index = np.full(surface.shape, -1, dtype=np.int64)
    pixel_index[horizons.rows, horizons.cols] = np.arange(len(horizons.rows))
    timings["horizon"] = time.perf_counter() - start

    weather = climate.weather.data
    temp_air = weather["temp_air"].to_numpy()
    wind_speed = weather["wind_speed"].to_numpy()
    # Hours with the sun up: the lit fraction scales the circumsolar part too, which Perez
    # gives whenever there is diffuse light, even in an hour without beam.
    sun_up = climate.sun_elevation > 0
    pixel_kwh = np.full((horizons.n_pixels, 13), np.nan)
    rows_out: list[dict[str, Any]] = []
    blobs: list[bytes] = []
    monthly: dict[str, list[Any]] = {k: [] for k in cadastre.MONTHLY_FIELDS}
    timings["irradiance"] = timings["pv"] = 0.0
    for first in range(0, len(faces), FACE_BLOCK):
        block = faces[first : first + FACE_BLOCK]
        start = time.perf_counter()
        # Flat roofs carry racked modules: every figure of a face is for its module plane.
        flat = np.array([f.surface_azimuth is None for f in block])
        tilts = np.where(flat, pv.FLAT_MODULE_TILT, [f.surface_tilt for f in block])
        azimuths = np.where(flat, 180.0, [f.surface_azimuth or 0.0 for f in block])
        face_pixels = [pixel_index[f.rows, f.cols] for f in block]
        lit, sky_view, band_open = horizon.face_shading(
            horizons,
            face_pixels,
            climate.sun_azimuth,
            climate.sun_elevation,
            tilts,
            azimuths,
            hour_mask=sun_up,
        )
        shaded = irradiance.poa_irradiance(
            climate.weather,
            climate.solpos,
            tilts,
            azimuths,
            shading=irradiance.Shading(lit, sky_view, band_open),
            albedo=options.albedo,
            with_open=True,
        )
        assert shaded.open_direct is not None and shaded.open_annual_kwh_m2 is not None
        del lit
        block_pixels = np.concatenate(face_pixels)
        pixel_face = np.full(horizons.n_pixels, -1, dtype=np.int64)
        pixel_face[block_pixels] = np.repeat(np.arange(len(block)), [p.size for p in face_pixels])
        pixel_kwh[block_pixels] = _pixel_irradiation(
            horizons,
            pixel_face,
            block_pixels,
            tilts,
            azimuths,
            shaded.open_direct,
            climate,
            options,
        )
        timings["irradiance"] += time.perf_counter() - start

        start = time.perf_counter()
        specific = pv.production(
            shaded.poa_global,
            temp_air,
            wind_speed,
            np.ones(len(block)),
            module=climate.module,
            system_losses=options.system_losses,
        )
        monthly_specific = _monthly_sums(specific, climate.month_of_hour)
        for i, face in enumerate(block):
            annual_open = float(shaded.open_annual_kwh_m2[i])
            annual_shaded = float(shaded.annual_kwh_m2[i])
            kwc, panels, usable_area = _place_modules(
                face, surface, pixel_kwh[face_pixels[i], 0], annual_open, climate, options
            )
            specific_yield = float(specific[i].sum())
            blobs.append(cadastre.encode_profile(specific[i]))
            rows_out.append(
                {
                    "building_id": face.building_id,
                    "face_id": face.face_id,
                    "tilt_deg": round(face.surface_tilt, 2),
                    "azimuth_deg": np.nan
                    if face.surface_azimuth is None
                    else round(face.surface_azimuth, 2),
                    "is_flat": face.is_flat,
                    "area_m2": round(face.area_m2, 2),
                    "usable_area_m2": round(usable_area, 2),
                    "irradiation_kwh_m2_yr": round(annual_shaded, 1),
                    "shading_loss_pct": round(100.0 * (1.0 - annual_shaded / annual_open), 2)
                    if annual_open > 0
                    else 0.0,
                    "panels": panels,
                    "kwc": round(kwc, 3),
                    "production_kwh_yr": round(specific_yield * kwc, 1),
                    "specific_yield_kwh_kwc": round(specific_yield, 1),
                    "suitability": pv.suitability(annual_shaded / climate.optimum_kwh_m2)
                    if panels
                    else "unsuitable",
                }
            )
            for month in range(12):
                monthly["face_id"].append(face.face_id)
                monthly["month"].append(month + 1)
                monthly["irradiation_kwh_m2"].append(
                    round(float(shaded.monthly_kwh_m2[i, month]), 2)
                )
                monthly["production_kwh"].append(round(float(monthly_specific[i, month]) * kwc, 2))
        timings["pv"] += time.perf_counter() - start

    x, y = _pixel_centres(surface, horizons.rows, horizons.cols)
    return TileResult(
        face_rows=rows_out,
        face_geometries=[f.polygon for f in faces],
        monthly=monthly,
        profiles=cadastre.FaceProfiles([r["face_id"] for r in rows_out], blobs),
        pixel_x=x,
        pixel_y=y,
        pixel_irradiation=pixel_kwh.astype(np.float32),
        seconds=timings,
        filled_cells=surface.filled_cells,
    )


def _pixel_irradiation(
    horizons: horizon.Horizons,
    pixel_face: np.ndarray,
    pixels: np.ndarray,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    open_direct: np.ndarray,
    climate: SiteClimate,
    options: BuildOptions,
) -> np.ndarray:
    """Annual and monthly irradiation of each roof pixel, its own horizon applied. [kWh m-2]

    The beam and circumsolar part is summed over the hours the pixel itself sees the sun;
    the isotropic sky and the horizon band are scaled by the pixel's own views; the ground
    reflection is its face's.

    Parameters
    ----------
    pixel_face : numpy.ndarray
        For every stored pixel of ``horizons``, its face (index into ``surface_tilt``) or
        -1 when it belongs to no face of this block.
    pixels : numpy.ndarray
        The stored pixels wanted.

    Returns
    -------
    numpy.ndarray
        (len(pixels), 13): the year, then the 12 months.
    """
    beam = horizon.pixel_lit_sums(
        horizons,
        climate.sun_azimuth,
        climate.sun_elevation,
        open_direct,
        climate.month_of_hour + 1,
        pixel_group=pixel_face,
    )
    sky_view, band_open = horizon.pixel_sky_view(
        horizons, pixel_face, surface_tilt, surface_azimuth
    )
    isotropic, horizon_band, ground = irradiance.diffuse_terms(
        climate.weather, climate.solpos, surface_tilt, albedo=options.albedo
    )
    face = pixel_face[pixels]
    diffuse = (
        sky_view[pixels, None] * isotropic[face]
        + band_open[pixels, None] * horizon_band[face]
        + ground[face]
    )
    return beam[pixels] / 1000.0 + diffuse


def _empty_result(timings: dict[str, float], filled_cells: int) -> TileResult:
    empty = np.zeros(0)
    return TileResult(
        [],
        [],
        {k: [] for k in cadastre.MONTHLY_FIELDS},
        cadastre.FaceProfiles([], []),
        empty,
        empty,
        np.zeros((0, 13), dtype=np.float32),
        timings,
        filled_cells,
    )


def _monthly_sums(hourly: np.ndarray, month_of_hour: np.ndarray) -> np.ndarray:
    """(n, 8760) hourly values summed per month → (n, 12)."""
    out = np.zeros((hourly.shape[0], 12))
    for month in range(12):
        out[:, month] = hourly[:, month_of_hour == month].sum(axis=1)
    return out


def _place_modules(
    face: roofs.RoofFace,
    surface: Surface,
    pixel_annual_kwh_m2: np.ndarray,
    face_unshaded_kwh_m2: float,
    climate: SiteClimate,
    options: BuildOptions,
) -> tuple[float, int, float]:
    """Lay modules on the face's usable part, away from its darkest pixels.

    Pixels that receive less than ``options.shade_threshold`` of the face's unshaded
    irradiation are cut out of the usable polygon: a module there would drag its string
    down. A face steeper than ``options.max_tilt`` or with less usable sloped area than
    ``options.min_usable_area`` hosts nothing.

    Returns
    -------
    kwc : float
    panels : int
    usable_area_m2 : float
        Sloped area left for modules. [m²]
    """
    if face.surface_tilt > options.max_tilt:
        return 0.0, 0, 0.0
    usable = face.usable_polygon
    dark = pixel_annual_kwh_m2 < options.shade_threshold * face_unshaded_kwh_m2
    if dark.any():
        x, y = _pixel_centres(surface, face.rows[dark], face.cols[dark])
        half = surface.resolution / 2
        usable = shapely.difference(
            usable, shapely.union_all(shapely.box(x - half, y - half, x + half, y + half))
        )
    usable_area = float(shapely.area(usable)) / np.cos(np.radians(face.surface_tilt))
    if usable_area < options.min_usable_area:
        return 0.0, 0, usable_area
    layout = pv.layout_modules(
        usable,
        climate.module,
        face.surface_tilt,
        face.surface_azimuth,
        latitude=climate.weather.latitude,
    )
    return float(layout.kwc), int(layout.n_modules), usable_area


def _file_facts(paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    facts = []
    for p in paths:
        path = Path(p)
        with path.open("rb") as stream:
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        stat = path.stat()
        facts.append(
            {
                "file": path.name,
                "bytes": stat.st_size,
                "modified": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
                "sha256": digest,
            }
        )
    return facts


def code_version() -> str:
    """The package version, with the git commit when run from a checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{solar.__version__}+{commit}" if commit else solar.__version__


def _process_window(
    source: SurfaceInput,
    window: tuple[float, float, float, float],
    footprints: Sequence[Footprint],
    climate: SiteClimate,
    options: BuildOptions,
) -> TileResult:
    """A tile's task on a Dask worker: the worker reads its own window of DSM files."""
    return process_tile(_tile_surface(source, window), footprints, climate, options)


def run_tiles(
    surface: SurfaceInput,
    tiles: Sequence[Tile],
    climate: SiteClimate,
    options: BuildOptions,
    *,
    scheduler: str | None = None,
    workers: int = 1,
    progress: Progress | None = None,
) -> list[TileResult]:
    """Process every tile, in this process or on a Dask cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler (a multi-node cluster).
    workers : int
        With no scheduler: 1 runs the tiles here, more starts a ``LocalCluster`` with that
        many single-threaded worker processes.
    """
    if scheduler is None and workers <= 1:
        results = []
        for done, tile in enumerate(tiles):
            results.append(
                process_tile(_tile_surface(surface, tile.window), tile.footprints, climate, options)
            )
            if progress:
                progress("tiles", done + 1, len(tiles))
        return results

    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1)
    try:
        with Client(scheduler or cluster) as client:
            shared = client.scatter([climate, options], broadcast=True)
            # A surface in memory travels as each tile's crop; DSM files are read by the
            # worker itself, window by window.
            futures = [
                client.submit(
                    _process_window,
                    crop(surface, tile.window) if isinstance(surface, Surface) else surface,
                    tile.window,
                    tile.footprints,
                    shared[0],
                    shared[1],
                    key=f"tile-{tile.index}",
                )
                for tile in tiles
            ]
            order = {f.key: i for i, f in enumerate(futures)}
            ordered: list[TileResult | None] = [None] * len(futures)
            for done, future in enumerate(as_completed(futures)):
                ordered[order[future.key]] = future.result()
                if progress:
                    progress("tiles", done + 1, len(tiles))
            return [r for r in ordered if r is not None]
    finally:
        if cluster is not None:
            cluster.close()


def build_from_surface(
    surface: SurfaceInput,
    footprints: Sequence[Footprint],
    *,
    out: str | os.PathLike[str],
    weather: Weather | None = None,
    addresses: Sequence[Any] | None = None,
    communes: str | os.PathLike[str] | None = DEFAULT_COMMUNES,
    options: BuildOptions | None = None,
    provenance: dict[str, Any] | None = None,
    scheduler: str | None = None,
    workers: int = 1,
    progress: Progress | None = None,
) -> BuildSummary:
    """Build a cadastre from a surface model in memory, or from DSM files read tile by tile.

    Parameters
    ----------
    surface : Surface or DsmSource
    footprints : sequence of Footprint
        In the surface's CRS.
    out : path-like
        The GeoPackage to write; the irradiation raster goes beside it
        (``<name>.irradiation.tif``).
    weather : Weather, optional
        Defaults to the Artois PVGIS typical year.
    addresses : sequence of solar.addresses.Address, optional
        Points in the surface's CRS; each is linked to the building under it.
    communes : path-like, optional
        Commune polygons with an ``insee`` property; each building takes the commune of
        its representative point.
    options : BuildOptions, optional
    provenance : dict, optional
        Extra provenance entries (source files, counts from the readers).

    Returns
    -------
    BuildSummary
    """
    from solar import addresses as address_module

    start = time.perf_counter()
    options = options or BuildOptions()
    weather = weather or read_weather(DEFAULT_WEATHER)
    if not surface.crs.is_projected:
        raise InputError("the surface model must be in a projected CRS in metres")
    if not footprints:
        raise InputError("no footprint to build")
    climate = site_climate(weather, options.module)
    tiles = plan_tiles(surface.bounds, footprints, tile_size=options.tile_size, halo=options.halo)
    results = run_tiles(
        surface, tiles, climate, options, scheduler=scheduler, workers=workers, progress=progress
    )

    face_rows = [row for r in results for row in r.face_rows]
    face_geoms = [g for r in results for g in r.face_geometries]
    building_rows, building_geoms = _building_rows(footprints, face_rows, climate.optimum_kwh_m2)

    address_table = None
    if addresses:
        linked = address_module.link_addresses(addresses, footprints)
        address_table = address_module.address_layer(addresses, linked)
        _communes_from_addresses(building_rows, addresses, linked)
    if communes is not None:
        _communes_from_polygons(building_rows, building_geoms, communes, surface.crs)

    # Cells filled in the tile windows, read one by one from files; a surface in memory
    # was filled once, when read.
    filled_cells = (
        surface.filled_cells
        if isinstance(surface, Surface)
        else sum(r.filled_cells for r in results)
    )
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    raster_path = out_path.with_suffix(".irradiation.tif")
    raster_tmp = raster_path.with_name(f".{raster_path.name}.tmp")
    meta = {
        "code_version": code_version(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "weather_file": Path(weather.source).name,
        "weather_site": {"latitude": weather.latitude, "longitude": weather.longitude},
        "crs": surface.crs.to_string(),
        "resolution_m": surface.resolution,
        "filled_cells": filled_cells,
        "options": asdict(options),
        "optimum_irradiation_kwh_m2_yr": round(climate.optimum_kwh_m2, 1),
        "irradiation_raster": raster_path.name,
        "tiles": len(tiles),
        **(provenance or {}),
    }
    stages: dict[str, float] = {}
    for result in results:
        for stage, seconds in result.seconds.items():
            stages[stage] = stages.get(stage, 0.0) + seconds
    write_start = time.perf_counter()
    write_irradiation_raster(raster_tmp, surface, results)
    stages["raster"] = time.perf_counter() - write_start
    try:
        cadastre.write_cadastre(
            out_path,
            crs=surface.crs,
            buildings=cadastre.GeoTable(
                np.array(building_geoms, dtype=object),
                _columns(building_rows, cadastre.BUILDING_FIELDS),
                "MultiPolygon",
            ),
            faces=cadastre.GeoTable(
                np.array(face_geoms, dtype=object),
                _columns(face_rows, cadastre.FACE_FIELDS),
                "MultiPolygon",
            ),
            monthly={
                k: np.asarray([v for r in results for v in r.monthly[k]])
                for k in cadastre.MONTHLY_FIELDS
            },
            profiles=cadastre.FaceProfiles(
                [f for r in results for f in r.profiles.face_ids],
                [b for r in results for b in r.profiles.blobs],
            ),
            provenance=meta,
            addresses=address_table,
        )
        os.replace(raster_tmp, raster_path)
        stages["write"] = time.perf_counter() - write_start - stages["raster"]
    finally:
        if raster_tmp.exists():
            raster_tmp.unlink()
    total_kwc = sum(r["kwc"] for r in building_rows)
    total_kwh = sum(r["production_kwh_yr"] for r in building_rows)
    extra = provenance or {}
    return BuildSummary(
        path=out_path,
        raster_path=raster_path,
        buildings=len(building_rows),
        faces=len(face_rows),
        kwc=float(total_kwc),
        production_mwh_yr=float(total_kwh) / 1000.0,
        seconds=time.perf_counter() - start,
        stage_seconds=stages,
        tiles=len(tiles),
        filled_cells=filled_cells,
        footprints_repaired=int(extra.get("footprints_repaired", 0)),
        footprints_dropped=tuple(extra.get("footprints_dropped", ())),
        footprints_outside=tuple(extra.get("footprints_outside", ())),
    )


def build_cadastre(
    *,
    out: str | os.PathLike[str],
    buildings: str | os.PathLike[str] | None = None,
    dsm: Sequence[str | os.PathLike[str]] = (),
    laz: Sequence[str | os.PathLike[str]] = (),
    laz_crs: str | None = None,
    id_field: str | None = None,
    addresses: str | os.PathLike[str] | None = None,
    weather: str | os.PathLike[str] | None = None,
    communes: str | os.PathLike[str] | None = DEFAULT_COMMUNES,
    options: BuildOptions | None = None,
    scheduler: str | None = None,
    workers: int = 1,
    progress: Progress | None = None,
) -> BuildSummary:
    """Build a cadastre from files: the ``cadastre build`` command.

    Exactly one of ``dsm`` and ``laz`` is given. Without ``buildings``, footprints are
    traced from the point cloud's building class (:func:`footprints_from_classes`). Every
    input is read and checked before anything is written, and the GeoPackage appears only
    once complete.
    """
    from solar import addresses as address_module

    options = options or BuildOptions()
    if bool(dsm) == bool(laz):
        raise InputError(
            "give DSM GeoTIFFs or LAZ point clouds, not both and not neither", source="--dsm/--laz"
        )
    if progress:
        progress("reading the surface model", 0, 1)
    surface: SurfaceInput
    if dsm:
        surface = DsmSource.open(dsm)
    elif buildings is not None:
        surface = LazSource.open(laz, resolution=options.laz_resolution, crs=laz_crs)
    else:
        # tracing footprints needs the building class of the whole area at once
        surface = rasterize_laz(laz, resolution=options.laz_resolution, crs=laz_crs)
    if buildings is not None:
        footprint_set = read_footprints(buildings, target_crs=surface.crs, id_field=id_field)
    elif isinstance(surface, Surface):  # a point cloud, with its classes
        footprint_set = footprints_from_classes(surface)
    else:
        raise InputError(
            "a DSM carries no building class: give the footprints", source="--buildings"
        )
    inside, outside = select_within(footprint_set, surface.bounds)
    weather_data = read_weather(weather or DEFAULT_WEATHER)
    # A department's BAN file holds 700,000 addresses: keep those on the surface model.
    xmin, ymin, xmax, ymax = surface.bounds
    address_points = (
        [
            a
            for a in address_module.read_ban(addresses, target_crs=surface.crs)
            if xmin <= a.x <= xmax and ymin <= a.y <= ymax
        ]
        if addresses
        else None
    )
    sources = [*dsm, *laz, *([buildings] if buildings else []), *([addresses] if addresses else [])]
    provenance = {
        "sources": _file_facts(sources),
        "weather_sha256": _file_facts([weather or DEFAULT_WEATHER])[0]["sha256"],
        "footprints_file": Path(buildings).name if buildings else "traced from LAS class 6",
        "footprints_repaired": footprint_set.repaired,
        "footprints_dropped": list(footprint_set.dropped),
        "footprints_outside": list(outside),
        "addresses_file": Path(addresses).name if addresses else None,
    }
    return build_from_surface(
        surface,
        inside,
        out=out,
        weather=weather_data,
        addresses=address_points,
        communes=communes,
        options=options,
        provenance=provenance,
        scheduler=scheduler,
        workers=workers,
        progress=progress,
    )


def _columns(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, np.ndarray]:
    columns = {}
    for name in names:
        values = [r[name] for r in rows]
        if values and all(isinstance(v, str) or v is None for v in values):
            columns[name] = np.array(values, dtype=object)
        else:
            columns[name] = np.asarray(values)
    return columns


def _building_rows(
    footprints: Sequence[Footprint], face_rows: Sequence[dict[str, Any]], optimum_kwh_m2: float
) -> tuple[list[dict[str, Any]], list[shapely.Geometry]]:
    """Aggregate faces per building: sums of area, modules and energy; weighted means."""
    by_building: dict[str, list[dict[str, Any]]] = {}
    for row in face_rows:
        by_building.setdefault(row["building_id"], []).append(row)
    rows, geoms = [], []
    for fp in footprints:
        faces = by_building.get(fp.building_id, [])
        hosting = [f for f in faces if f["panels"] > 0 and f["suitability"] in pv.WORTH_EQUIPPING]
        kwc = sum(f["kwc"] for f in hosting)
        production = sum(f["production_kwh_yr"] for f in hosting)
        weighted = hosting or faces
        weights = np.array([max(f["area_m2"], 1e-9) for f in weighted]) if weighted else None
        irradiation = (
            float(np.average([f["irradiation_kwh_m2_yr"] for f in weighted], weights=weights))
            if weighted
            else 0.0
        )
        loss = (
            float(np.average([f["shading_loss_pct"] for f in weighted], weights=weights))
            if weighted
            else 0.0
        )
        rows.append(
            {
                "building_id": fp.building_id,
                "commune_insee": None,
                "n_faces": len(faces),
                "usable_area_m2": round(sum(f["usable_area_m2"] for f in hosting), 2),
                "panels": int(sum(f["panels"] for f in hosting)),
                "kwc": round(kwc, 3),
                "production_kwh_yr": round(production, 1),
                "specific_yield_kwh_kwc": round(production / kwc, 1) if kwc else 0.0,
                "irradiation_kwh_m2_yr": round(irradiation, 1),
                "shading_loss_pct": round(loss, 2),
                "suitability": str(pv.suitability(irradiation / optimum_kwh_m2))
                if hosting
                else "unsuitable",
            }
        )
        geoms.append(fp.geometry)
    return rows, geoms


def _communes_from_addresses(
    building_rows: list[dict[str, Any]], addresses: Sequence[Any], linked: Sequence[str | None]
) -> None:
    """Give each building the commune most of its addresses carry."""
    votes: dict[str, dict[str, int]] = {}
    for address, building_id in zip(addresses, linked, strict=True):
        if building_id is not None and address.code_insee:
            tally = votes.setdefault(building_id, {})
            tally[address.code_insee] = tally.get(address.code_insee, 0) + 1
    for row in building_rows:
        tally = votes.get(row["building_id"], {})
        if tally:
            row["commune_insee"] = max(tally, key=tally.__getitem__)


def _communes_from_polygons(
    building_rows: list[dict[str, Any]],
    building_geoms: Sequence[shapely.Geometry],
    communes: str | os.PathLike[str],
    crs: CRS,
) -> None:
    """Give each building the commune that holds its representative point.

    The commune polygons win over the addresses: they are the official boundaries.
    """
    polygons = read_footprints(communes, target_crs=crs, id_field="insee")
    tree = shapely.STRtree([p.geometry for p in polygons.footprints])
    points = shapely.point_on_surface(np.asarray(building_geoms, dtype=object))
    point_idx, poly_idx = tree.query(points, predicate="within")
    for b, c in zip(point_idx.tolist(), poly_idx.tolist(), strict=True):
        building_rows[b]["commune_insee"] = polygons.footprints[c].building_id


def write_irradiation_raster(
    path: Path, source: SurfaceInput, results: Sequence[TileResult]
) -> None:
    """Write the roofs' annual and monthly irradiation as a Cloud-Optimized GeoTIFF.

    Band 1 is the annual irradiation, bands 2 to 13 the months, all in kWh m-2, shading
    included; nodata off the roofs. Tiles are written one window at a time into a sparse
    staging GeoTIFF (blocks never written take no disk), which GDAL then copies into a COG
    compressed with ZSTD: memory holds one tile's window, never the whole area. ``path`` is
    written whole or not at all: the caller renames it into place with the GeoPackage.
    """
    import rasterio
    from rasterio.shutil import copy as raster_copy

    nodata = -9999.0
    transform, (height, width) = _grid(source)
    profile = {
        "driver": "GTiff",
        "height": height,
        "width": width,
        "count": 13,
        "dtype": "float32",
        "crs": source.crs,
        "transform": transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "sparse_ok": True,
        "bigtiff": "IF_SAFER",
    }
    inverse = ~transform
    staging = path.with_name(f"{path.name}.staging.tif")
    try:
        with rasterio.open(staging, "w+", **profile) as dst:
            dst.descriptions = ("annual", *(f"month_{m:02d}" for m in range(1, 13)))
            dst.update_tags(units="kWh m-2", content="roof irradiation, shading included")
            for result in results:
                if len(result.pixel_x) == 0:
                    continue
                cols, rows = inverse @ (result.pixel_x, result.pixel_y)
                rows, cols = np.floor(rows).astype(int), np.floor(cols).astype(int)
                window = Window(
                    int(cols.min()),
                    int(rows.min()),
                    int(cols.max() - cols.min() + 1),
                    int(rows.max() - rows.min() + 1),
                )
                # tiles' windows overlap where footprints reach past a tile's core
                block = dst.read(window=window)
                block[:, rows - window.row_off, cols - window.col_off] = result.pixel_irradiation.T
                dst.write(block, window=window)
        raster_copy(staging, path, driver="COG", compress="ZSTD", level=1)
    finally:
        if staging.exists():
            staging.unlink()
