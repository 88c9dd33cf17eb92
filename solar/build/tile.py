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

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import rasterio
import shapely

from solar import cadastre, horizon, irradiance, mismatch, profiles, pv, reconcile, roofs, shading
from solar.cadastre import FaceRecord
from solar.calendar import MONTH_OF_HOUR, monthly_sums
from solar.footprints import Footprint
from solar.surface import Surface

from .climate import SiteClimate
from .options import BuildOptions

FACE_BLOCK = 2000
"""Faces irradiated and placed together: their hourly arrays take about 0.5 MB a face."""


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
    poa : solar.irradiance.PlaneOfArray
        Hourly irradiance on each face's module plane, shading included, with the open
        (unshaded) figures.
    pixels : numpy.ndarray
        The block's pixels, as indices into the tile's horizons.
    pixel_kwh_m2 : numpy.ndarray
        (len(pixels), 13) annual and monthly irradiation of those pixels. [kWh m-2]
    roof_annual_kwh_m2 : numpy.ndarray
        (n_faces,) annual irradiation of each face's own plane, shading included: the
        module plane's, but for a flat roof the horizontal's. [kWh m-2]
    shading : solar.irradiance.Shading
        The faces' area-weighted shading on their module planes, behind ``poa``.
    """

    face_pixels: list[np.ndarray]
    poa: irradiance.PlaneOfArray
    pixels: np.ndarray
    pixel_kwh_m2: np.ndarray
    roof_annual_kwh_m2: np.ndarray
    shading: irradiance.Shading

    @property
    def open_annual_kwh_m2(self) -> np.ndarray:
        """(n_faces,) annual irradiation of the faces with nothing around them."""
        assert self.poa.open_annual_kwh_m2 is not None  # asked for with_open
        return self.poa.open_annual_kwh_m2


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
        found = reconcile.unclaimed_buildings(
            surface, kept, core or surface.bounds, neighbours=neighbours, ground=ground
        )
        faces = _segment(surface, kept + found, options)
        if found:
            found = reconcile.planar_enough(found, faces)
            kept_ids = {f.building_id for f in kept} | {f.building_id for f in found}
            faces = [f for f in faces if f.building_id in kept_ids]
        checks += [reconcile.FootprintCheck(f.building_id, "lidar_only") for f in found]
    if not faces:
        return _empty_result(checks, found, seconds, surface.filled_cells)
    with _stopwatch(seconds, "horizon"):
        horizons = _shade(surface, faces, options)
    pixel_index = np.full(surface.shape, -1, dtype=np.int64)
    pixel_index[horizons.rows, horizons.cols] = np.arange(horizons.n_pixels)
    pixel_kwh = np.full((horizons.n_pixels, 13), np.nan)
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
                block, light, placements, horizons, pixel_index, surface, climate
            )
            block_records, block_blobs = _rows(
                block, light, placements, production_shading, climate, options
            )
            records += block_records
            blobs += block_blobs
        # Free this block's hourly irradiance (280 MB for 2,000 faces) before the next one.
        del light
    x, y = _pixel_centres(surface, horizons.rows, horizons.cols)
    return TileResult(
        faces=records,
        checks=checks,
        profiles=cadastre.FaceProfiles([r.face_id for r in records], blobs),
        pixel_x=x,
        pixel_y=y,
        pixel_irradiation=pixel_kwh.astype(np.float32),
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
    roof_mask = np.zeros(surface.shape, dtype=bool)
    for face in faces:
        roof_mask[face.rows, face.cols] = True
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
    """Stage 3: hourly irradiance of each face's module plane, and of each of its pixels.

    Flat roofs carry racked modules (:func:`solar.pv.module_plane`): every figure of a face
    is for its module plane.
    """
    tilts, azimuths = _module_planes(block)
    face_pixels = [pixel_index[f.rows, f.cols] for f in block]
    shading_ = _face_shading(face_pixels, tilts, azimuths, horizons, climate)
    poa = irradiance.poa_irradiance(
        climate.weather,
        climate.solpos,
        tilts,
        azimuths,
        shading=shading_,
        albedo=options.albedo,
        with_open=True,
    )
    assert poa.open_direct is not None  # asked for with_open
    pixels = np.concatenate(face_pixels)
    # The block's own pixels only: the kernels then neither allocate nor skip the tile's.
    pixel_face = np.repeat(np.arange(len(block)), [p.size for p in face_pixels])
    block_horizons = horizon.Horizons(
        horizons.rows[pixels],
        horizons.cols[pixels],
        horizons.angles[pixels],
        horizons.n_sectors,
        horizons.shape,
        horizons.resolution,
    )
    pixel_kwh = _pixel_irradiation(
        block_horizons, pixel_face, tilts, azimuths, poa.open_direct, climate, options
    )
    roof_annual = _roof_annual(block, face_pixels, poa.annual_kwh_m2, horizons, climate, options)
    return _Irradiation(face_pixels, poa, pixels, pixel_kwh, roof_annual, shading_)


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
    roof = irradiance.poa_irradiance(
        climate.weather,
        climate.solpos,
        level,
        south,
        shading=roof_shading,
        albedo=options.albedo,
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
    """Stage 4: the modules laid on each face of the block, away from its darkest pixels."""
    pixel_annual = light.pixel_kwh_m2[:, 0]
    starts = np.cumsum([0, *(p.size for p in light.face_pixels)])
    return [
        _place_modules(
            face,
            surface,
            pixel_annual[starts[i] : starts[i + 1]],
            float(light.open_annual_kwh_m2[i]),
            climate,
            options,
        )
        for i, face in enumerate(block)
    ]


def _module_shading(
    block: Sequence[roofs.RoofFace],
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
    tilts, azimuths = _module_planes(block)
    lit = shading.module_lit_fraction(
        horizons,
        strings,
        climate.sun_azimuth,
        climate.sun_elevation,
        tilts,
        azimuths,
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
    (:func:`_module_shading`), the module and the losses alone
    (:func:`solar.pv.specific_production`); the irradiation figures are the faces' own,
    area-weighted.

    Returns
    -------
    records : list of FaceRecord
        With the monthly irradiation and production.
    blobs : list of bytes
        Each face's ``production_shading``, packed (:func:`solar.profiles.encode_light`).
    """
    tilts, azimuths = _module_planes(block)
    specific = pv.specific_production(
        climate.weather,
        climate.solpos,
        tilts,
        azimuths,
        production_shading,
        module=climate.module,
        albedo=options.albedo,
        system_losses=options.system_losses,
    )
    monthly_specific = monthly_sums(specific)
    annual_shaded = light.poa.annual_kwh_m2
    monthly_kwh_m2 = light.poa.monthly_kwh_m2
    records = []
    for i, (face, placed) in enumerate(zip(block, placements, strict=True)):
        annual = float(annual_shaded[i])
        roof_annual = float(light.roof_annual_kwh_m2[i])
        module_tilt, module_azimuth = pv.module_plane(face.surface_tilt, face.surface_azimuth)
        annual_open = float(light.open_annual_kwh_m2[i])
        specific_yield = float(specific[i].sum())
        records.append(
            FaceRecord(
                building_id=face.building_id,
                face_id=face.face_id,
                tilt_deg=round(face.surface_tilt, 2),
                azimuth_deg=None
                if face.surface_azimuth is None
                else round(face.surface_azimuth, 2),
                is_flat=face.is_flat,
                area_m2=round(face.area_m2, 2),
                usable_area_m2=round(placed.usable_area_m2, 2),
                irradiation_kwh_m2_yr=round(annual, 1),
                shading_loss_pct=round(100.0 * (1.0 - annual / annual_open), 2)
                if annual_open > 0
                else 0.0,
                panels=placed.panels,
                kwc=round(placed.kwc, 3),
                production_kwh_yr=round(specific_yield * placed.kwc, 1),
                specific_yield_kwh_kwc=round(specific_yield, 1),
                # rated on the roof's own plane, see solar.pv.suitability
                suitability=pv.suitability(roof_annual / climate.optimum_kwh_m2)
                if placed.panels
                else "unsuitable",
                geometry=face.polygon,
                production_monthly_kwh=tuple(
                    round(float(m) * placed.kwc, 2) for m in monthly_specific[i]
                ),
                irradiation_monthly_kwh_m2=tuple(round(float(m), 2) for m in monthly_kwh_m2[i]),
                part_id=face.part_id,
                module_tilt_deg=round(module_tilt, 2),
                module_azimuth_deg=round(module_azimuth, 2),
                roof_irradiation_kwh_m2_yr=round(roof_annual, 1),
            )
        )
    return records, profiles.encode_shading(production_shading)


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
    """Map coordinates of pixel centres. [m]"""
    t = surface.transform
    x = t.c + (cols + 0.5) * t.a
    y = t.f + (rows + 0.5) * t.e
    return x, y


def _pixel_irradiation(
    horizons: horizon.Horizons,
    pixel_face: np.ndarray,
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
    horizons : solar.horizon.Horizons
        The horizons of the block's pixels.
    pixel_face : numpy.ndarray
        For every stored pixel of ``horizons``, its face (index into ``surface_tilt``).

    Returns
    -------
    numpy.ndarray
        (horizons.n_pixels, 13): the year, then the 12 months.
    """
    beam = shading.pixel_lit_sums(
        horizons,
        climate.sun_azimuth,
        climate.sun_elevation,
        open_direct,
        MONTH_OF_HOUR + 1,
        pixel_group=pixel_face,
    )
    sky_view, band_open = shading.pixel_sky_view(
        horizons, pixel_face, surface_tilt, surface_azimuth
    )
    isotropic, horizon_band, ground = irradiance.diffuse_terms(
        climate.weather, climate.solpos, surface_tilt, albedo=options.albedo
    )
    diffuse = (
        sky_view[:, None] * isotropic[pixel_face]
        + band_open[:, None] * horizon_band[pixel_face]
        + ground[pixel_face]
    )
    return beam / 1000.0 + diffuse


def _place_modules(
    face: roofs.RoofFace,
    surface: Surface,
    pixel_annual_kwh_m2: np.ndarray,
    face_unshaded_kwh_m2: float,
    climate: SiteClimate,
    options: BuildOptions,
) -> _Placement:
    """Lay modules on the face's usable part, away from its darkest pixels.

    Pixels that receive less than ``options.shade_threshold`` of the face's unshaded
    irradiation are cut out of the usable polygon: a module there would drag its string
    down. A face steeper than ``options.max_tilt`` or with less usable sloped area than
    ``options.min_usable_area`` hosts nothing.
    """
    if face.surface_tilt > options.max_tilt:
        return _Placement(0.0, 0, 0.0)
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
        return _Placement(0.0, 0, usable_area)
    layout = pv.layout_modules(
        usable,
        climate.module,
        face.surface_tilt,
        face.surface_azimuth,
        latitude=climate.weather.latitude,
    )
    return _Placement(
        float(layout.kwc), int(layout.n_modules), usable_area, layout.modules, layout.orientation
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
