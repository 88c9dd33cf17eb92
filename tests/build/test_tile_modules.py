"""Module-level shading: a face produces from its own modules' light, bypass diodes included.

First the kernel on hand-made horizons, where the Martinez factor follows from the geometry
alone: a strip of shade along the bottom of a portrait module crosses its three blocks,
along a landscape module one. Then a gable with a chimney, through the tile's stages, held
to a reference written here: the exact overlaps of each module's blocks with the roof
pixels (shapely), the plain rule of a sunlit pixel in numpy, and Martinez's formula by
hand, with nothing of :mod:`solar.mismatch` or :func:`solar.shading.module_lit_fraction`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pvlib
import pytest
import shapely
from affine import Affine
from numpy.testing import assert_allclose

from solar import irradiance, mismatch, pv, shading
from solar.build import climate as site
from solar.build import tile
from solar.build.options import BuildOptions
from solar.horizon import ANGLE_SCALE, Horizons
from solar.resources import DEFAULT_WEATHER
from solar.weather import read_weather
from tests import scenes

STRING_LIMIT = 14
"""Most modules per string, as the model states it (600 V over about 41 V a module)."""


# --- the kernel on hand-made horizons -----------------------------------------------------

_GRID = Affine(0.5, 0.0, 0.0, 0.0, -0.5, 4.0)
"""An 8 × 8 grid of 0.5 m pixels over [0, 4] × [0, 4] m, north up."""


def _grid_horizons(shaded: np.ndarray) -> tuple[Horizons, np.ndarray]:
    """Horizons of every pixel of the 8 × 8 grid: 90° all round where ``shaded``, 0 else."""
    rows, cols = np.nonzero(np.ones((8, 8), dtype=bool))
    angles = np.where(shaded[rows, cols, None], 90 * ANGLE_SCALE, 0).astype(np.uint16)
    horizons = Horizons(
        rows.astype(np.int32),
        cols.astype(np.int32),
        np.repeat(angles, 72, axis=1),
        72,
        (8, 8),
        0.5,
    )
    index = np.arange(64).reshape(8, 8)
    return horizons, index


def _module(x0: float, y0: float, along: float, up: float) -> shapely.Polygon:
    """A module footprint with its first edge along the rows (east) and its second up the
    slope (north), as :func:`solar.pv.layout_modules` lays them."""
    return shapely.Polygon([(x0, y0), (x0 + along, y0), (x0 + along, y0 + up), (x0, y0 + up)])


@pytest.mark.parametrize(
    ("orientation", "along", "up", "expected"),
    [
        # 1.5 m across, 3 m up: the bottom 0.5 m is 1/6 of it and crosses all 3 blocks.
        ("portrait", 1.5, 3.0, (1 - 1 / 6) * (1 - 3 / 4)),
        # 3 m along, 1.5 m up: the bottom 0.5 m is 1/3 of it, and exactly its lowest block.
        ("landscape", 3.0, 1.5, (1 - 1 / 3) * (1 - 1 / 4)),
    ],
)
def test_a_strip_along_the_bottom_of_a_module(
    orientation: str, along: float, up: float, expected: float
) -> None:
    shaded = np.zeros((8, 8), dtype=bool)
    shaded[-1, :] = True  # the southernmost row of pixels, y in [0, 0.5]
    horizons, index = _grid_horizons(shaded)
    strings = mismatch.module_strings(
        [shapely.MultiPolygon([_module(0.0, 0.0, along, up)])],
        [orientation],
        [np.arange(64)],
        index,
        _GRID,
    )
    azimuth, elevation = np.array([180.0, 90.0, 0.0, 200.0]), np.array([30.0, 10.0, 45.0, -5.0])
    lit = shading.module_lit_fraction(
        horizons, strings, azimuth, elevation, [0.0], [180.0], np.full((1, 4), 0.5)
    )
    assert_allclose(lit[0], [expected, expected, expected, 0.0], rtol=1e-6)
    # The area-weighted light of the same module would keep more.
    assert expected < 1.0 - 0.5 / up


def test_strings_share_the_face_by_their_modules() -> None:
    # 16 modules make 2 strings of 8: shade on one module of the first costs that string
    # alone, weighted by its half of the face.
    shaded = np.zeros((8, 8), dtype=bool)
    shaded[-1, 0] = True  # the pixel [0, 0.5] × [0, 0.5]
    horizons, index = _grid_horizons(shaded)
    modules = [_module(0.5 * (i % 8), 0.5 * (i // 8), 0.5, 1.0) for i in range(16)]
    strings = mismatch.module_strings(
        [shapely.MultiPolygon(modules)],
        ["portrait"],
        [np.arange(64)],
        index,
        _GRID,
    )
    lit = shading.module_lit_fraction(
        horizons, strings, np.array([180.0]), np.array([30.0]), [0.0], [180.0], np.ones((1, 1))
    )
    # one module of 8 is half shaded, and its 3 blocks of the string's 24
    string = (1 - 0.5 / 8) * (1 - 3 / 25)
    assert lit[0, 0] == pytest.approx(0.5 * string + 0.5, rel=1e-6)


def test_faces_without_modules_keep_their_area_weighted_light() -> None:
    horizons, index = _grid_horizons(np.zeros((8, 8), dtype=bool))
    strings = mismatch.module_strings(
        [shapely.MultiPolygon(), shapely.MultiPolygon([_module(1.0, 1.0, 1.0, 2.0)])],
        ["portrait", "landscape"],
        [np.arange(32), np.arange(32, 64)],
        index,
        _GRID,
    )
    area = np.array([[0.25, 0.5], [0.75, 0.5]], dtype=np.float32)
    lit = shading.module_lit_fraction(
        horizons,
        strings,
        np.array([180.0, 0.0]),
        np.array([30.0, 20.0]),
        [0.0, 0.0],
        [180.0, 180.0],
        area,
    )
    assert_allclose(lit, [[0.25, 0.5], [1.0, 1.0]])


def test_string_lengths() -> None:
    for n in range(0, 60):
        lengths = mismatch.string_lengths(n)
        assert lengths.sum() == n
        assert (lengths <= STRING_LIMIT).all()
        assert lengths.size == math.ceil(n / STRING_LIMIT)
        assert np.ptp(lengths) <= 1 if n else lengths.size == 0


# --- a chimney on a gable, through the tile's stages --------------------------------------


@dataclass(frozen=True, eq=False)
class Staged:
    """The tile's stages run on one scene, up to the production's shading."""

    faces: list
    horizons: Horizons
    pixel_index: np.ndarray
    transform: Affine
    light: tile._Irradiation
    placements: list[tile._Placement]
    production_shading: irradiance.Shading
    climate: site.SiteClimate
    options: BuildOptions


def stages(scene: scenes.Scene) -> Staged:
    options = BuildOptions()
    climate = site.site_climate(read_weather(DEFAULT_WEATHER), None)
    faces = tile._segment(scene.surface, [scene.footprint], options)
    horizons = tile._shade(scene.surface, faces, options)
    pixel_index = np.full(scene.surface.shape, -1, dtype=np.int64)
    pixel_index[horizons.rows, horizons.cols] = np.arange(horizons.n_pixels)
    light = tile._irradiate(faces, horizons, pixel_index, climate, options)
    placements = tile._place(faces, scene.surface, light, climate, options)
    production_shading = tile._module_shading(
        light, placements, horizons, pixel_index, scene.surface, climate
    )
    return Staged(
        faces,
        horizons,
        pixel_index,
        scene.surface.transform,
        light,
        placements,
        production_shading,
        climate,
        options,
    )


def chimney_stages() -> Staged:
    """A 35° south gable with a chimney 1 m square, 1.5 m above the middle of its south
    face (also the validation report's case)."""
    return stages(scenes.gable(35.0, 180.0, chimney=(1.0, 1.5)))


@pytest.fixture(scope="module")
def chimney() -> Staged:
    return chimney_stages()


@pytest.fixture(scope="module")
def open_gable() -> Staged:
    return stages(scenes.gable(35.0, 180.0))


def south_face(staged: Staged) -> int:
    (south,) = [
        i
        for i, f in enumerate(staged.faces)
        if f.surface_azimuth is not None and abs(f.surface_azimuth - 180.0) < 10.0
    ]
    return south


def _sunlit_pixels(staged: Staged, face: int) -> np.ndarray:
    """(n_pixels, n_hours): the face's pixels that see the sun, by the plain rule: the sun
    up, in front of the plane, strictly above the horizon interpolated between sectors."""
    f = staged.faces[face]
    angles = staged.horizons.angles_deg()[staged.pixel_index[f.rows, f.cols]].astype(np.float64)
    azimuth, elevation = staged.climate.sun_azimuth, staged.climate.sun_elevation
    n_sectors = angles.shape[1]
    position = np.mod(azimuth, 360.0) / (360.0 / n_sectors)
    k0 = np.floor(position).astype(int) % n_sectors
    k1 = (k0 + 1) % n_sectors
    frac = position - np.floor(position)
    horizon = angles[:, k0] * (1 - frac) + angles[:, k1] * frac
    front = (
        pvlib.irradiance.aoi_projection(
            f.surface_tilt, f.surface_azimuth, 90.0 - elevation, azimuth
        )
        > 0
    )
    return (horizon < elevation) & (elevation > 0) & front


def _blocks(module: shapely.Polygon, orientation: str) -> list[shapely.Polygon]:
    """The module's three bypass-diode blocks: strips along its long side."""
    c = shapely.get_coordinates(module)
    origin, along, up = c[0], c[1] - c[0], c[3] - c[0]
    short, long = (along, up) if orientation == "portrait" else (up, along)
    return [
        shapely.Polygon(
            [
                origin + short * k / 3,
                origin + short * (k + 1) / 3,
                origin + short * (k + 1) / 3 + long,
                origin + short * k / 3 + long,
            ]
        )
        for k in range(3)
    ]


def reference_factor(staged: Staged, face: int) -> tuple[np.ndarray, np.ndarray]:
    """Martinez's factor on the face's beam, and the modules' area-weighted lit share.

    Strings of at most 14 modules in laying order, of equal lengths; per string and hour
    ``(1 - F_GS)(1 - N_SB / (N_TB + 1))``, ``F_GS`` the shaded share of the exact overlap
    of its blocks with the face's pixels, a block shaded when any pixel overlapping it is.
    """
    f = staged.faces[face]
    placed = staged.placements[face]
    half = staged.horizons.resolution / 2
    x = staged.transform.c + (f.cols + 0.5) * staged.transform.a
    y = staged.transform.f + (f.rows + 0.5) * staged.transform.e
    pixels = shapely.box(x - half, y - half, x + half, y + half)
    lit = _sunlit_pixels(staged, face)
    front_and_up = lit.any(axis=0) | (
        pvlib.irradiance.aoi_projection(
            f.surface_tilt,
            f.surface_azimuth,
            90.0 - staged.climate.sun_elevation,
            staged.climate.sun_azimuth,
        )
        > 0
    ) & (staged.climate.sun_elevation > 0)
    modules = list(shapely.get_parts(placed.modules))
    n = len(modules)
    n_strings = math.ceil(n / STRING_LIMIT)
    sizes = [n // n_strings + (1 if k < n % n_strings else 0) for k in range(n_strings)]
    factor = np.zeros(lit.shape[1])
    shaded_area, total_area = np.zeros(lit.shape[1]), 0.0
    first = 0
    for size in sizes:
        area_in_shade, area, blocks_in_shade = np.zeros(lit.shape[1]), 0.0, np.zeros(lit.shape[1])
        for module in modules[first : first + size]:
            for block in _blocks(module, placed.orientation):
                overlap = shapely.area(shapely.intersection(block, pixels))
                under = overlap > 1e-6  # a square millimetre
                area += overlap.sum()
                area_in_shade += overlap[under] @ ~lit[under]
                blocks_in_shade += (~lit[under]).any(axis=0)
        factor += size / n * (1 - area_in_shade / area) * (1 - blocks_in_shade / (3 * size + 1))
        shaded_area += area_in_shade
        total_area += area
        first += size
    return factor * front_and_up, (1 - shaded_area / total_area) * front_and_up


def annual_yield(staged: Staged, face: int, lit: np.ndarray) -> float:
    """Annual AC energy per kWc of the face's modules under a beam factor. [kWh kWc-1]"""
    f = staged.faces[face]
    tilt, azimuth = pv.module_plane(f.surface_tilt, f.surface_azimuth)
    shade = irradiance.Shading(
        lit[None, :].astype(np.float32),
        staged.light.shading.sky_view[face : face + 1],
        staged.light.shading.horizon_band_open[face : face + 1],
    )
    return float(
        pv.specific_production(
            staged.climate.weather,
            staged.climate.solpos,
            [tilt],
            [azimuth],
            shade,
            module=staged.climate.module,
            system_losses=staged.options.system_losses,
        ).sum()
    )


def test_a_chimney_shadow_costs_more_than_its_area_share(chimney: Staged) -> None:
    face = south_face(chimney)
    assert chimney.placements[face].panels >= 10
    reference, area_weighted = reference_factor(chimney, face)
    modelled = chimney.production_shading.lit_fraction[face]
    # hour by hour, the kernel against the reference, within float32 rounding
    assert_allclose(modelled, reference, atol=1e-4)
    unshaded = annual_yield(chimney, face, (reference > 0) | (area_weighted > 0))
    by_modules = annual_yield(chimney, face, modelled)
    by_reference = annual_yield(chimney, face, reference)
    by_area = annual_yield(chimney, face, area_weighted)
    loss, reference_loss, area_loss = (
        1 - e / unshaded for e in (by_modules, by_reference, by_area)
    )
    assert area_loss > 0.002  # the chimney does shade the modules
    assert loss > 3.0 * area_loss
    assert loss == pytest.approx(reference_loss, rel=1e-3)


def test_the_build_produces_from_the_modules_shading(chimney: Staged) -> None:
    face = south_face(chimney)
    records, _ = tile._rows(
        chimney.faces,
        chimney.light,
        chimney.placements,
        chimney.production_shading,
        chimney.climate,
        chimney.options,
    )
    assert records[face].specific_yield_kwh_kwc == pytest.approx(
        annual_yield(chimney, face, chimney.production_shading.lit_fraction[face]), abs=0.1
    )
    # and its irradiation stays the face's, area-weighted
    assert records[face].irradiation_kwh_m2_yr == pytest.approx(
        float(chimney.light.poa.annual_kwh_m2[face]), abs=0.1
    )


def test_without_shade_the_modules_produce_as_the_face(open_gable: Staged) -> None:
    for face in range(len(open_gable.faces)):
        assert open_gable.placements[face].panels > 0
        area = annual_yield(open_gable, face, open_gable.light.shading.lit_fraction[face])
        modules = annual_yield(open_gable, face, open_gable.production_shading.lit_fraction[face])
        assert modules == pytest.approx(area, rel=1e-6)


def test_dark_pixels_are_cut_out_of_each_face_alone() -> None:
    # Squares cut out of several outlines at once, each outline's own, as one outline at a
    # time would have them: its squares united, then taken out.
    rng = np.random.default_rng(2)
    outlines = np.array([shapely.box(10.0 * k, 0.0, 10.0 * k + 8.0, 6.0) for k in range(5)])
    counts = [3, 0, 1, 12, 5]
    pixel_face = np.repeat(np.arange(5), counts)
    x = 10.0 * pixel_face + rng.uniform(0.0, 8.0, pixel_face.size)
    y = rng.uniform(0.0, 6.0, pixel_face.size)
    cut = tile._without_pixels(outlines, pixel_face, x, y, 0.5)
    for k, outline in enumerate(outlines):
        mine = pixel_face == k
        squares = shapely.box(x[mine] - 0.25, y[mine] - 0.25, x[mine] + 0.25, y[mine] + 0.25)
        alone = shapely.difference(outline, shapely.union_all(squares)) if mine.any() else outline
        assert shapely.equals_exact(cut[k], alone, tolerance=0.0)
        assert shapely.area(cut[k]) < shapely.area(outline) if mine.any() else cut[k] is outline


def test_many_shaded_pixels_under_the_modules_of_a_face() -> None:
    # 16 modules 0.5 m × 1 m in 2 rows of 8 over the grid's south half, 2 strings of 8,
    # under 200 hours of sun: the pixels of the 3 southern rows (y in [0, 1.5]) in shade.
    # The first row's modules are wholly shaded: kept 0. The second row's have their
    # bottom half shaded, across all 3 blocks of each: kept (1 - 1/2)(1 - 24/25).
    shaded = np.zeros((8, 8), dtype=bool)
    shaded[-3:, :] = True
    horizons, index = _grid_horizons(shaded)
    modules = [_module(0.5 * (i % 8), 1.0 * (i // 8), 0.5, 1.0) for i in range(16)]
    strings = mismatch.module_strings(
        [shapely.MultiPolygon(modules)], ["portrait"], [np.arange(64)], index, _GRID
    )
    hours = 200
    lit = shading.module_lit_fraction(
        horizons,
        strings,
        np.linspace(100.0, 260.0, hours),
        np.linspace(5.0, 60.0, hours),
        [0.0],
        [180.0],
        np.ones((1, hours)),
    )
    second_row = (1 - 1 / 2) * (1 - 24 / 25)
    assert_allclose(lit[0], 0.5 * 0.0 + 0.5 * second_row, rtol=1e-6)
