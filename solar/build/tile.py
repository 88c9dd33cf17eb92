"""One tile, in named stages: segment → shade → irradiate → place → rows.

:func:`process_tile` runs them in that order on the tile's window of the surface model; the
faces go through the last three stages in blocks of :data:`FACE_BLOCK`, which bounds the
memory of their hourly arrays. Each stage's wall time is kept under its name in
:attr:`TileResult.seconds`: ``roofs`` (footprint checks and segment), ``horizon`` (shade),
``irradiance`` (irradiate) and ``pv`` (place, the modules' own shading, and rows).

The irradiation figures of a face are its area-weighted light; its production comes from
the modules laid on it, each from the pixels under it, with their bypass diodes and strings
(:mod:`solar.mismatch`): a shadow over part of a module costs more than its area share.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import rasterio
import shapely
from numpy.typing import ArrayLike

from solar import cadastre, horizon, irradiance, mismatch, profiles, pv, reconcile, roofs, shading
from solar.cadastre import FaceRecord
from solar.calendar import MONTH_OF_HOUR
from solar.footprints import Footprint
from solar.surface import Surface

from .climate import SiteClimate
from .options import BuildOptions

FACE_BLOCK = 2000
"""Faces irradiated and placed together: their hourly arrays take about 0.1 MB a face."""


@dataclass(frozen=True, eq=False)
class TileResult:
    """The faces one tile adds to the cadastre, and its roof pixels for the raster.

    Attributes
    ----------
    faces : list of FaceRecord
        With their monthly figures.
    checks : list of solar.reconcile.FootprintCheck
        How each of the tile's footprints agrees with the surface model, in order.
    profiles : solar.cadastre.FaceProfiles
        The hourly production per kWc of the same faces.
    pixel_x, pixel_y : numpy.ndarray
        Centres of the roof pixels. [m]
    pixel_irradiation : numpy.ndarray
        (n_pixels, 13) float32: the year, then the 12 months; NaN off the faces.
        [kWh m-2]
    seconds : dict of str to float
        Wall time of each stage (see the module docstring). [s]
    filled_cells : int
        Nodata cells filled in the tile's window.
    found : list of Footprint
        The buildings with no footprint that the tile adds, traced from the surface
        (:func:`solar.reconcile.unclaimed_buildings`); ``checks`` ends with theirs.
    """

    faces: list[FaceRecord]
    checks: list[reconcile.FootprintCheck]
    profiles: cadastre.FaceProfiles
    pixel_x: np.ndarray
    pixel_y: np.ndarray
    pixel_irradiation: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)
    filled_cells: int = 0
    found: list[Footprint] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class _Irradiation:
    """What :func:`_irradiate` finds for a block of faces.

    Attributes
    ----------
    face_pixels : list of numpy.ndarray
        Each face's pixels, as indices into the tile's horizons.
    poa : solar.irradiance.PlaneSums
        Monthly irradiation of each face's module plane, shading included.
    pixels : numpy.ndarray
        The block's pixels, as indices into the tile's horizons.
    pixel_kwh_m2 : numpy.ndarray
        (len(pixels), 13) annual and monthly irradiation of those pixels. [kWh m-2]
    roof_annual_kwh_m2 : numpy.ndarray
        (n_faces,) annual irradiation of each face's own plane, shading included: the
        module plane's, but for a flat roof the horizontal's. [kWh m-2]
    shading : solar.irradiance.Shading
        The faces' area-weighted shading on their module planes, behind ``poa``.
    open_annual_kwh_m2 : numpy.ndarray
        (n_faces,) annual irradiation of the module planes with nothing around them.
        [kWh m-2]
    module_tilt, module_azimuth : numpy.ndarray
        (n_faces,) each face's module plane (:func:`_module_planes`). [°]
    """

    face_pixels: list[np.ndarray]
    poa: irradiance.PlaneSums
    pixels: np.ndarray
    pixel_kwh_m2: np.ndarray
    roof_annual_kwh_m2: np.ndarray
    shading: irradiance.Shading
    open_annual_kwh_m2: np.ndarray
    module_tilt: np.ndarray
    module_azimuth: np.ndarray


@dataclass(frozen=True)
class _Placement:
    """The modules laid on one face.

    Attributes
    ----------
    kwc : float
        [kWc]
    panels : int
    usable_area_m2 : float
        Sloped area left for modules. [m²]
    modules : shapely.MultiPolygon
        The modules' footprints in plan, in the order they were laid
        (:attr:`solar.pv.Layout.modules`).
    orientation : str
        ``"portrait"`` or ``"landscape"``.
    """

    kwc: float
    panels: int
    usable_area_m2: float
    modules: shapely.MultiPolygon = field(default_factory=shapely.MultiPolygon)
    orientation: str = "portrait"


@contextmanager
def paused_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector in the ``with`` body (or the decorated call).

    A tile creates tens of thousands of geometries and records while the build holds
    hundreds of thousands: each collection of the oldest generation then walks them all,
    again and again, for nothing, since what a build drops is freed by reference
    counting. On the dense 1 km² district the collections took 1.5 to 2 s of a 13 s build.
    The previous state comes back at the end, so that nested calls keep it paused.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@paused_collection()
def process_tile(
    surface: Surface,
    footprints: Sequence[Footprint],
    climate: SiteClimate,
    options: BuildOptions,
    *,
    core: tuple[float, float, float, float] | None = None,
    neighbours: Sequence[Footprint] = (),
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
    core : tuple of float, optional
        (xmin, ymin, xmax, ymax) of the tile's core, where the buildings with no footprint
        it adds must lie; the whole window by default. [m]
    neighbours : sequence of Footprint
        Buildings of other tiles that reach into the window: their roofs are not
        buildings without a footprint.

    Returns
    -------
    TileResult
    """
    seconds: dict[str, float] = {}
    with _stopwatch(seconds, "roofs"):
        ground = reconcile.ground_height(surface)
        checks = reconcile.check_footprints(surface, footprints, ground=ground)
        kept = reconcile.reconciled(footprints, checks)
        # The buildings with no footprint (reconcile.unclaimed_buildings) are looked for
        # while the others' roofs are segmented, on the time the segmentation's serial
        # steps leave; their GDAL calls stay on this thread. segment_roofs gives each
        # building the same faces, alone or with others.
        claimed = reconcile.claimed_cells(surface, kept, neighbours)
        with ThreadPoolExecutor(1) as pool:
            regions = pool.submit(reconcile.unclaimed_regions, surface, claimed, ground=ground)
            faces = _segment(surface, kept, options)
            found = reconcile.traced_buildings(surface, regions.result(), core or surface.bounds)
        if found:
            found_faces = _segment(surface, found, options)
            found = reconcile.planar_enough(found, found_faces)
            found_ids = {f.building_id for f in found}
            faces += [f for f in found_faces if f.building_id in found_ids]
        checks += [reconcile.FootprintCheck(f.building_id, "lidar_only") for f in found]
    if not faces:
        return _empty_result(checks, found, seconds, surface.filled_cells)
    with _stopwatch(seconds, "horizon"):
        horizons = _shade(surface, faces, options)
    pixel_index = np.full(surface.shape, -1, dtype=np.int64)
    pixel_index[horizons.rows, horizons.cols] = np.arange(horizons.n_pixels)
    # float32 from the start: the raster's type, a third of the pages a float64 array
    # would fault in before its copy (the cast on assignment is the same as astype's).
    pixel_kwh = np.full((horizons.n_pixels, 13), np.nan, dtype=np.float32)
    records: list[FaceRecord] = []
    blobs: list[bytes] = []
    for first in range(0, len(faces), FACE_BLOCK):
        block = faces[first : first + FACE_BLOCK]
        with _stopwatch(seconds, "irradiance"):
            light = _irradiate(block, horizons, pixel_index, climate, options)
            pixel_kwh[light.pixels] = light.pixel_kwh_m2
        with _stopwatch(seconds, "pv"):
            placements = _place(block, surface, light, climate, options)
            production_shading = _module_shading(
                light, placements, horizons, pixel_index, surface, climate
            )
            block_records, block_blobs = _rows(
                block, light, placements, production_shading, climate, options
            )
            records += block_records
            blobs += block_blobs
        # Free this block's hourly shading and pixel sums (90 MB for 2,000 faces) first.
        del light
    x, y = _pixel_centres(surface, horizons.rows, horizons.cols)
    return TileResult(
        faces=records,
        checks=checks,
        profiles=cadastre.FaceProfiles([r.face_id for r in records], blobs),
        pixel_x=x,
        pixel_y=y,
        pixel_irradiation=pixel_kwh,
        seconds=seconds,
        filled_cells=surface.filled_cells,
        found=found,
    )


@contextmanager
def _stopwatch(seconds: dict[str, float], stage: str) -> Iterator[None]:
    """Add the wall time of the ``with`` body to ``seconds[stage]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - start


def _segment(
    surface: Surface, footprints: Sequence[Footprint], options: BuildOptions
) -> list[roofs.RoofFace]:
    """Stage 1: the roof faces of the tile's buildings, planes fitted to the surface.

    The footprints come reconciled with the surface (:func:`solar.reconcile.reconciled`):
    shifted onto their roofs, those over bare ground left out.
    """
    # One GDAL environment for the whole tile: rasterio otherwise opens and closes one
    # around each of the thousands of rasterize and shapes calls.
    with rasterio.Env():
        return roofs.segment_roofs(
            surface,
            footprints,
            min_face_area=options.min_face_area,
            setback=options.setback,
            obstacle_tolerance=options.obstacle_tolerance,
        )


def _shade(
    surface: Surface, faces: Sequence[roofs.RoofFace], options: BuildOptions
) -> horizon.Horizons:
    """Stage 2: the horizon of every roof pixel, everything in the window casting."""
    rows, cols = _face_pixels(faces)
    roof_mask = np.zeros(surface.shape, dtype=bool)
    roof_mask[rows, cols] = True
    return horizon.horizon_angles(
        _plane_surface(surface, faces),
        surface.resolution,
        n_sectors=options.n_sectors,
        mask=roof_mask,
        max_distance=None,
    )


def _irradiate(
    block: Sequence[roofs.RoofFace],
    horizons: horizon.Horizons,
    pixel_index: np.ndarray,
    climate: SiteClimate,
    options: BuildOptions,
) -> _Irradiation:
    """Stage 3: irradiation of each face's module plane, and of each of its pixels.

    Flat roofs carry racked modules (:func:`solar.pv.module_plane`): every figure of a face
    is for its module plane.
    """
    tilts, azimuths = _module_planes(block)
    # one look-up for the block, then a view per face
    pixels = pixel_index[_face_pixels(block)]
    sizes = [f.rows.size for f in block]
    face_pixels = np.split(pixels, np.cumsum(sizes)[:-1])
    # The open direct light weighs the pixels' sunlit hours; it needs no shading.
    open_sky = irradiance.poa_sums(
        climate.weather, climate.solpos, tilts, azimuths, albedo=options.albedo, with_open=True
    )
    assert open_sky.open_direct is not None and open_sky.open_annual_kwh_m2 is not None
    shaded = shading.face_and_pixel_shading(
        horizons,
        face_pixels,
        climate.sun_azimuth,
        climate.sun_elevation,
        tilts,
        azimuths,
        open_sky.open_direct,
        MONTH_OF_HOUR + 1,
        hour_mask=_shaded_hours(climate),
    )
    shading_ = irradiance.Shading(shaded.lit_fraction, shaded.sky_view, shaded.horizon_band_open)
    poa = irradiance.poa_sums(
        climate.weather, climate.solpos, tilts, azimuths, shading=shading_, albedo=options.albedo
    )
    pixel_face = np.repeat(np.arange(len(block)), sizes)
    pixel_kwh = _pixel_irradiation(shaded, pixel_face, tilts, climate, options)
    roof_annual = _roof_annual(block, face_pixels, poa.annual_kwh_m2, horizons, climate, options)
    return _Irradiation(
        face_pixels,
        poa,
        pixels,
        pixel_kwh,
        roof_annual,
        shading_,
        open_sky.open_annual_kwh_m2,
        tilts,
        azimuths,
    )


def _surface_azimuths(block: Sequence[roofs.RoofFace]) -> np.ndarray:
    """Each face's own azimuth, NaN for a flat face. [°]"""
    return np.array(
        [np.nan if f.surface_azimuth is None else f.surface_azimuth for f in block],
        dtype=np.float64,
    )


def _module_planes(block: Sequence[roofs.RoofFace]) -> tuple[np.ndarray, np.ndarray]:
    """Tilt and azimuth of each face's module plane (:func:`solar.pv.module_plane`). [°]"""
    tilts, azimuths = (
        np.array([pv.module_plane(f.surface_tilt, f.surface_azimuth) for f in block])
        .reshape(-1, 2)
        .T
    )
    return tilts, azimuths


def _roof_annual(
    block: Sequence[roofs.RoofFace],
    face_pixels: list[np.ndarray],
    module_annual: np.ndarray,
    horizons: horizon.Horizons,
    climate: SiteClimate,
    options: BuildOptions,
) -> np.ndarray:
    """Annual irradiation of each face's own plane: a flat roof's is the horizontal's,
    shaded by the same horizons, not its racked modules'. [kWh m-2]"""
    annual = np.array(module_annual, dtype=np.float64)
    flat = np.flatnonzero([f.is_flat for f in block])
    if flat.size == 0:
        return annual
    level, south = np.zeros(flat.size), np.full(flat.size, 180.0)
    roof_shading = _face_shading([face_pixels[k] for k in flat], level, south, horizons, climate)
    roof = irradiance.poa_sums(
        climate.weather, climate.solpos, level, south, shading=roof_shading, albedo=options.albedo
    )
    annual[flat] = roof.annual_kwh_m2
    return annual


def _face_shading(
    face_pixels: list[np.ndarray],
    tilts: np.ndarray,
    azimuths: np.ndarray,
    horizons: horizon.Horizons,
    climate: SiteClimate,
) -> irradiance.Shading:
    """Area-weighted shading of planes over faces' pixels, from their horizons."""
    lit, sky_view, band_open = shading.face_shading(
        horizons,
        face_pixels,
        climate.sun_azimuth,
        climate.sun_elevation,
        tilts,
        azimuths,
        hour_mask=_shaded_hours(climate),
    )
    return irradiance.Shading(lit, sky_view, band_open)


def _shaded_hours(climate: SiteClimate) -> np.ndarray:
    """The hours whose light is shaded: the sun up, for the lit fraction scales the
    circumsolar part too, which Perez gives whenever there is diffuse light, even in an
    hour without beam."""
    return climate.sun_elevation > 0


def _place(
    block: Sequence[roofs.RoofFace],
    surface: Surface,
    light: _Irradiation,
    climate: SiteClimate,
    options: BuildOptions,
) -> list[_Placement]:
    """Stage 4: the modules laid on each face of the block, away from its darkest pixels.

    Pixels that receive less than ``options.shade_threshold`` of the face's unshaded
    irradiation are cut out of the usable polygon: a module there would drag its string
    down. A face steeper than ``options.max_tilt`` or with less usable sloped area than
    ``options.min_usable_area`` hosts nothing. The block's faces are laid out together
    (:func:`solar.pv.layout_faces`).
    """
    if not block:
        return []
    tilt = np.array([face.surface_tilt for face in block], dtype=np.float64)
    azimuth = _surface_azimuths(block)
    steep = tilt > options.max_tilt
    pixel_face = np.repeat(np.arange(len(block)), [p.size for p in light.face_pixels])
    threshold = options.shade_threshold * light.open_annual_kwh_m2[pixel_face]
    dark = np.flatnonzero((light.pixel_kwh_m2[:, 0] < threshold) & ~steep[pixel_face])
    rows = np.concatenate([face.rows for face in block])[dark]
    cols = np.concatenate([face.cols for face in block])[dark]
    usable = _without_pixels(
        np.array([face.usable_polygon for face in block], dtype=object),
        pixel_face[dark],
        *_pixel_centres(surface, rows, cols),
        surface.resolution,
    )
    usable_area = shapely.area(usable) / np.cos(np.radians(tilt))
    laid = ~steep & ~(usable_area < options.min_usable_area)
    layouts = iter(
        pv.layout_faces(
            usable[laid],
            climate.module,
            tilt[laid],
            azimuth[laid],
            latitude=climate.weather.latitude,
        )
    )
    placements = []
    for i in range(len(block)):
        if steep[i]:
            placements.append(_Placement(0.0, 0, 0.0))
        elif not laid[i]:
            placements.append(_Placement(0.0, 0, float(usable_area[i])))
        else:
            layout = next(layouts)
            placements.append(
                _Placement(
                    float(layout.kwc),
                    int(layout.n_modules),
                    float(usable_area[i]),
                    layout.modules,
                    layout.orientation,
                )
            )
    return placements


def _without_pixels(
    outlines: np.ndarray, pixel_face: np.ndarray, x: np.ndarray, y: np.ndarray, size: float
) -> np.ndarray:
    """The outlines with pixels cut out: the squares of side ``size`` centred on ``(x, y)``
    [m], each taken out of outline ``pixel_face`` (sorted)."""
    if pixel_face.size == 0:
        return outlines
    half = size / 2
    squares = shapely.box(x - half, y - half, x + half, y + half)
    faces, first, counts = np.unique(pixel_face, return_index=True, return_counts=True)
    # One row of squares per outline, padded with None, which union_all skips: one call
    # unites each outline's squares.
    rows = np.full((faces.size, int(counts.max())), None, dtype=object)
    row = np.repeat(np.arange(faces.size), counts)
    rows[row, np.arange(pixel_face.size) - first[row]] = squares
    cut = outlines.copy()
    cut[faces] = shapely.difference(outlines[faces], shapely.union_all(rows, axis=1))
    return cut


def _module_shading(
    light: _Irradiation,
    placements: Sequence[_Placement],
    horizons: horizon.Horizons,
    pixel_index: np.ndarray,
    surface: Surface,
    climate: SiteClimate,
) -> irradiance.Shading:
    """The shading that drives each face's production: its modules' own.

    The factor on the beam and circumsolar light is the modules' after bypass-diode and
    string mismatch (:func:`solar.shading.module_lit_fraction`) on a face with modules, and
    the area-weighted lit fraction on a face without; the sky view and the horizon band
    stay the face's.
    """
    strings = mismatch.module_strings(
        [p.modules for p in placements],
        [p.orientation for p in placements],
        light.face_pixels,
        pixel_index,
        surface.transform,
    )
    lit = shading.module_lit_fraction(
        horizons,
        strings,
        climate.sun_azimuth,
        climate.sun_elevation,
        light.module_tilt,
        light.module_azimuth,
        light.shading.lit_fraction,
        hour_mask=_shaded_hours(climate),
    )
    return irradiance.Shading(lit, light.shading.sky_view, light.shading.horizon_band_open)


def _rows(
    block: Sequence[roofs.RoofFace],
    light: _Irradiation,
    placements: Sequence[_Placement],
    production_shading: irradiance.Shading,
    climate: SiteClimate,
    options: BuildOptions,
) -> tuple[list[FaceRecord], list[bytes]]:
    """Stage 5: the production of the placed modules, as face records and packed profiles.

    The production is a function of the weather, the module plane, ``production_shading``
    (:func:`_module_shading`), the module and the losses alone: the months
    (:func:`solar.pv.monthly_specific_production`) of the hours that
    :func:`solar.pv.specific_production` serves from the packed ``production_shading``.
    The irradiation figures are the faces' own, area-weighted.

    Returns
    -------
    records : list of FaceRecord
        With the monthly irradiation and production.
    blobs : list of bytes
        Each face's ``production_shading``, packed (:func:`solar.profiles.encode_light`).
    """
    tilts, azimuths = light.module_tilt, light.module_azimuth
    monthly_specific = pv.monthly_specific_production(
        climate.weather,
        climate.solpos,
        tilts,
        azimuths,
        production_shading,
        module=climate.module,
        albedo=options.albedo,
        system_losses=options.system_losses,
    )
    kwc = np.array([p.kwc for p in placements], dtype=np.float64)
    specific = monthly_specific.sum(axis=1).astype(np.float64)
    annual = light.poa.annual_kwh_m2.astype(np.float64)
    annual_open = light.open_annual_kwh_m2.astype(np.float64)
    roof_annual = light.roof_annual_kwh_m2.astype(np.float64)
    kept = np.zeros(len(block))
    np.divide(annual, annual_open, out=kept, where=annual_open > 0)
    azimuth = _surface_azimuths(block)
    # Every figure rounded at once, each column a list of Python floats.
    tilt_deg = _rounded([f.surface_tilt for f in block], 2)
    azimuth_deg = _rounded(azimuth, 2)
    area = _rounded([f.area_m2 for f in block], 2)
    usable_area = _rounded([p.usable_area_m2 for p in placements], 2)
    irradiation = _rounded(annual, 1)
    shading_loss = _rounded(np.where(annual_open > 0, 100.0 * (1.0 - kept), 0.0), 2)
    kwc_rounded = _rounded(kwc, 3)
    production = _rounded(specific * kwc, 1)
    specific_yield = _rounded(specific, 1)
    production_monthly = _rounded(monthly_specific.astype(np.float64) * kwc[:, None], 2)
    irradiation_monthly = _rounded(light.poa.monthly_kwh_m2.astype(np.float64), 2)
    module_tilt, module_azimuth = _rounded(tilts, 2), _rounded(azimuths, 2)
    roof_irradiation = _rounded(roof_annual, 1)
    # rated on the roof's own plane, see solar.pv.suitability
    suitability = pv.suitability_array(roof_annual / climate.optimum_kwh_m2).tolist()
    records = [
        FaceRecord(
            building_id=face.building_id,
            face_id=face.face_id,
            tilt_deg=tilt_deg[i],
            azimuth_deg=None if face.surface_azimuth is None else azimuth_deg[i],
            is_flat=face.is_flat,
            area_m2=area[i],
            usable_area_m2=usable_area[i],
            irradiation_kwh_m2_yr=irradiation[i],
            shading_loss_pct=shading_loss[i],
            panels=placed.panels,
            kwc=kwc_rounded[i],
            production_kwh_yr=production[i],
            specific_yield_kwh_kwc=specific_yield[i],
            suitability=suitability[i] if placed.panels else "unsuitable",
            geometry=face.polygon,
            production_monthly_kwh=tuple(production_monthly[i]),
            irradiation_monthly_kwh_m2=tuple(irradiation_monthly[i]),
            part_id=face.part_id,
            module_tilt_deg=module_tilt[i],
            module_azimuth_deg=module_azimuth[i],
            roof_irradiation_kwh_m2_yr=roof_irradiation[i],
        )
        for i, (face, placed) in enumerate(zip(block, placements, strict=True))
    ]
    return records, profiles.encode_shading(production_shading)


def _rounded(values: ArrayLike, decimals: int) -> list[Any]:
    """``round(v, decimals)`` of every value, as (nested) lists of Python floats.

    Python rounds the exact decimal value of a float, numpy its product by
    ``10**decimals``, itself rounded: the two differ only where that product lies within
    its rounding error of a half, and there Python's own round is taken, so that the
    figures are the ones a record loop would write, bit for bit.
    """
    exact = np.asarray(values, dtype=np.float64)
    scale = 10.0**decimals
    # an infinite value, or a product that overflows, makes a NaN of its distance to a
    # half: that fails the comparison and takes Python's round, or keeps the value itself
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = exact * scale
        rounded = np.rint(scaled) / scale
        unsafe = ~(np.abs(scaled - np.floor(scaled) - 0.5) > np.spacing(np.abs(scaled)))
    unsafe &= np.isfinite(exact)
    for k in np.flatnonzero(unsafe):
        rounded.flat[k] = round(float(exact.flat[k]), decimals)
    return rounded.tolist()


def _plane_surface(surface: Surface, faces: Sequence[roofs.RoofFace]) -> np.ndarray:
    """The elevation with each face's pixels moved onto its fitted plane.

    Horizons are computed on this surface: a LiDAR roof carries a few centimetres of noise,
    and at 0.5 m a pixel 5 cm below its neighbour would see a 6° horizon and shade itself.
    Obstacle pixels keep their measured height and still cast shade.
    """
    elevation = surface.elevation.copy()
    rows, cols = _face_pixels(faces)
    x, y = _pixel_centres(surface, rows, cols)
    sizes = [face.rows.size for face in faces]
    a, b, c = np.repeat(np.array([face.plane for face in faces]).reshape(-1, 3), sizes, axis=0).T
    elevation[rows, cols] = a * x + b * y + c
    return elevation


def _face_pixels(faces: Sequence[roofs.RoofFace]) -> tuple[np.ndarray, np.ndarray]:
    """The grid rows and columns of every face's pixels, face after face."""
    empty = np.zeros(0, np.int32)
    rows = np.concatenate([empty, *(face.rows for face in faces)])
    cols = np.concatenate([empty, *(face.cols for face in faces)])
    return rows, cols


def _pixel_centres(
    surface: Surface, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Map coordinates of pixel centres. [m]"""
    t = surface.transform
    x = t.c + (cols + 0.5) * t.a
    y = t.f + (rows + 0.5) * t.e
    return x, y


def _pixel_irradiation(
    shaded: shading.FacePixelShading,
    pixel_face: np.ndarray,
    surface_tilt: np.ndarray,
    climate: SiteClimate,
    options: BuildOptions,
) -> np.ndarray:
    """Annual and monthly irradiation of each roof pixel, its own horizon applied. [kWh m-2]

    The beam and circumsolar part is summed over the hours the pixel itself sees the sun;
    the isotropic sky and the horizon band are scaled by the pixel's own views; the ground
    reflection is its face's.

    Parameters
    ----------
    shaded : solar.shading.FacePixelShading
        The block's faces and pixels, the pixels' lit sums weighted by their face's open
        direct irradiance [Wh m-2]; the sums are turned into kWh m-2 in place.
    pixel_face : numpy.ndarray
        For every pixel of ``shaded``, its face (index into ``surface_tilt``).

    Returns
    -------
    numpy.ndarray
        (n_pixels, 13): the year, then the 12 months.
    """
    # in place: the sums are this block's own, and a new array would be 20 MB of new pages
    beam_kwh_m2 = np.divide(shaded.pixel_lit_sums, 1000.0, out=shaded.pixel_lit_sums)
    return irradiance.point_irradiation(
        beam_kwh_m2,
        shaded.pixel_sky_view,
        shaded.pixel_band_open,
        pixel_face,
        irradiance.diffuse_terms(
            climate.weather, climate.solpos, surface_tilt, albedo=options.albedo
        ),
    )


def _empty_result(
    checks: list[reconcile.FootprintCheck],
    found: list[Footprint],
    seconds: dict[str, float],
    filled_cells: int,
) -> TileResult:
    """The result of a tile on which no roof face was found."""
    return TileResult(
        faces=[],
        checks=checks,
        profiles=cadastre.FaceProfiles([], []),
        pixel_x=np.zeros(0),
        pixel_y=np.zeros(0),
        pixel_irradiation=np.zeros((0, 13), dtype=np.float32),
        seconds=seconds,
        filled_cells=filled_cells,
        found=found,
    )
