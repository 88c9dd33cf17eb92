"""The whole build: read the inputs, plan and run the tiles, aggregate, write."""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import solar
from solar import addresses as address_module
from solar import cadastre, dwellings, suitability, vectortiles
from solar.cadastre import BuildingRecord, FaceRecord, GeoTable
from solar.errors import InputError
from solar.footprints import Footprint
from solar.profiles import ProductionSite
from solar.reconcile import FootprintCheck, shift_summary
from solar.resources import DEFAULT_WEATHER
from solar.surface import Surface
from solar.weather import read_weather

from .aggregate import (
    building_records,
    communes_from_addresses,
    communes_from_polygons,
    monthly_columns,
    with_production_bands,
)
from .climate import SiteClimate, site_climate
from .inputs import (
    BuildInputs,
    FootprintReport,
    Territory,
    read_inputs,
    with_source_attributes,
)
from .options import BuildOptions, Execution, Progress
from .raster import write_irradiation_raster
from .run import TileStore, needed_bytes, run_tiles
from .tile import TileResult, paused_collection
from .tiles import plan_tiles


@dataclass(frozen=True)
class BuildSummary:
    """What a build produced and how long it took.

    Attributes
    ----------
    path : pathlib.Path
        The cadastre GeoPackage.
    raster_path : pathlib.Path or None
        The irradiation raster beside it.
    buildings, faces : int
    kwc : float
        Peak power placed on the faces worth equipping. [kWc]
    production_mwh_yr : float
        Their production over a typical year. [MWh yr-1]
    seconds : float
        Wall time of :func:`build_from_surface`. [s]
    stage_seconds : dict of str to float
        Wall time of the stages, summed over the tiles: ``roofs``, ``horizon``,
        ``irradiance``, ``pv`` (see :mod:`solar.build.tile`), then ``raster``, ``write``
        and ``map`` (the roofs' vector tiles and the QGIS style, :mod:`solar.vectortiles`).
        The raster is written on a thread while the records are made: ``raster`` is the
        time the build then waits for it, what it adds to the wall time, so that the
        stages never sum past :attr:`seconds`. [s]
    tiles : int
    tiles_resumed : int
        Tiles found done in the work folder (a build that stopped) or the tile cache,
        rather than computed (:mod:`solar.build.run`).
    filled_cells : int
        Nodata cells of the surface model filled by interpolation.
    footprints_repaired, footprints_dropped, footprints_outside
        See :class:`FootprintReport`; 0 and empty when the footprints were not read from a
        file.
    footprints_ok, footprints_shifted, footprints_absent : int
        Buildings whose footprint agrees with the surface model, was shifted onto its roof,
        or stands over bare ground (:mod:`solar.reconcile`).
    footprints_lidar_only : int
        Buildings found in the surface model with no footprint, traced from it.
    """

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
    footprints_ok: int
    footprints_shifted: int
    footprints_absent: int
    footprints_lidar_only: int = 0
    tiles_resumed: int = 0


def build_cadastre(
    inputs: BuildInputs,
    *,
    out: str | os.PathLike[str],
    options: BuildOptions | None = None,
    execution: Execution | None = None,
    progress: Progress | None = None,
) -> BuildSummary:
    """Build a cadastre from files: the ``cadastre build`` command.

    Every input is read and checked (:func:`read_inputs`) before anything is written, and
    the GeoPackage appears only once complete.

    Parameters
    ----------
    inputs : BuildInputs
    out : path-like
        The GeoPackage to write; the irradiation raster goes beside it
        (``<name>.irradiation.tif``).
    options : BuildOptions, optional
    execution : Execution, optional
        In this process by default.
    progress : callable, optional
        Called with (stage, done, total).

    Returns
    -------
    BuildSummary
    """
    options = options or BuildOptions()
    if progress:
        progress("reading the surface model", 0, 1)
    territory = read_inputs(inputs, laz_resolution=options.laz_resolution)
    return build_from_surface(
        territory, out=out, options=options, execution=execution, progress=progress
    )


@paused_collection()
def build_from_surface(
    territory: Territory,
    *,
    out: str | os.PathLike[str],
    options: BuildOptions | None = None,
    execution: Execution | None = None,
    progress: Progress | None = None,
) -> BuildSummary:
    """Build a cadastre from a surface model in memory, or from files read tile by tile.

    Parameters
    ----------
    territory : Territory
        The surface, the footprints and what goes with them.
    out : path-like
        The GeoPackage to write; the irradiation raster goes beside it
        (``<name>.irradiation.tif``).
    options : BuildOptions, optional
    execution : Execution, optional
        In this process by default.
    progress : callable, optional
        Called with (stage, done, total).

    Returns
    -------
    BuildSummary
    """
    start = time.perf_counter()
    options = options or BuildOptions()
    surface = territory.surface
    if not surface.crs.is_projected:
        raise InputError("the surface model must be in a projected CRS in metres")
    if not territory.footprints:
        raise InputError("no footprint to build")
    execution = execution or Execution()
    # before any computation: the output can be written, and its disk has the room
    store = TileStore.open(out, keep=execution.keep_tiles)
    raster_bands = 13 if options.monthly_raster else 1
    store.check_space(needed_bytes(surface, territory.footprints, raster_bands=raster_bands))
    climate = site_climate(territory.weather or read_weather(DEFAULT_WEATHER), options.module)
    # a footprint shared by several dwellings is cut into their parts (solar.dwellings)
    split = dwellings.split_footprints(
        territory.footprints, territory.addresses or [], parcels=territory.parcels
    )
    tiles = plan_tiles(
        surface.bounds, split.footprints, tile_size=options.tile_size, halo=options.halo
    )
    tile_run = run_tiles(surface, tiles, climate, options, execution, store, progress=progress)
    results = tile_run.results
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    raster_path = out_path.with_suffix(".irradiation.tif")
    raster_tmp = store.staging(raster_path.name)
    stages = _stage_seconds(results)
    try:
        # GDAL writes and compresses the raster without holding the GIL: on a thread, it
        # runs beside the records
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="raster") as pool:
            raster = pool.submit(
                write_irradiation_raster,
                raster_tmp,
                surface,
                results,
                monthly=options.monthly_raster,
            )
            faces, buildings, checks, address_table = _records(territory, split, results, climate)
            write_start = time.perf_counter()
            try:
                # the raster first: one that failed leaves the cadastre as it was
                raster.result()
            except OSError as exc:
                store.failed(exc)
                raise
        stages["raster"] = time.perf_counter() - write_start
        # Cells filled in the tile windows, read one by one from files; a surface in memory
        # was filled once, when read.
        filled_cells = (
            surface.filled_cells
            if isinstance(surface, Surface)
            else sum(r.filled_cells for r in results)
        )
        try:
            cadastre.write_cadastre(
                out_path,
                crs=surface.crs,
                buildings=GeoTable.from_records(buildings, BuildingRecord, "MultiPolygon"),
                faces=GeoTable.from_records(faces, FaceRecord, "MultiPolygon"),
                monthly=monthly_columns(faces),
                profiles=cadastre.FaceProfiles(
                    [f for r in results for f in r.profiles.face_ids],
                    [b for r in results for b in r.profiles.blobs],
                ),
                provenance={
                    **_provenance(
                        territory,
                        climate,
                        options,
                        filled_cells=filled_cells,
                        raster=raster_path.name,
                        tiles=len(tiles),
                        checks=checks,
                    ),
                    **tile_run.provenance(),
                },
                addresses=address_table,
                site=ProductionSite(
                    climate.weather, climate.module, options.system_losses, options.albedo
                ),
            )
            os.replace(raster_tmp, raster_path)
        except OSError as exc:
            store.failed(exc)
            raise
        stages["write"] = time.perf_counter() - write_start - stages["raster"]
    finally:
        # once the thread is done with it
        if raster_tmp.exists():
            raster_tmp.unlink()
    # the map's roof tiles and the QGIS style, beside the cadastre (solar.vectortiles)
    map_start = time.perf_counter()
    vectortiles.write_archive(out_path, progress=progress)
    suitability.write_qgis_style(out_path)
    stages["map"] = time.perf_counter() - map_start
    store.finish(tiles, tile_run.keys)
    report = territory.footprint_report or FootprintReport()
    return BuildSummary(
        path=out_path,
        raster_path=raster_path,
        buildings=len(buildings),
        faces=len(faces),
        kwc=float(sum(b.kwc for b in buildings)),
        production_mwh_yr=float(sum(b.production_kwh_yr for b in buildings)) / 1000.0,
        seconds=time.perf_counter() - start,
        stage_seconds=stages,
        tiles=len(tiles),
        tiles_resumed=tile_run.resumed,
        filled_cells=filled_cells,
        footprints_repaired=report.repaired,
        footprints_dropped=report.dropped,
        footprints_outside=report.outside,
        footprints_ok=sum(b.footprint_check == "ok" for b in buildings),
        footprints_shifted=sum(b.footprint_check == "shifted" for b in buildings),
        footprints_absent=sum(b.footprint_check == "absent" for b in buildings),
        footprints_lidar_only=sum(b.footprint_check == "lidar_only" for b in buildings),
    )


def _records(
    territory: Territory,
    split: dwellings.Split,
    results: list[TileResult],
    climate: SiteClimate,
) -> tuple[list[FaceRecord], list[BuildingRecord], list[FootprintCheck], GeoTable | None]:
    """The faces and buildings with their production bands, the footprint checks and the
    address layer, from the tiles' results."""
    faces = [f for r in results for f in r.faces]
    # the buildings the tiles found with no footprint join the source's
    footprints = [*split.footprints, *(f for r in results for f in r.found)]
    linked = (
        address_module.link_addresses(territory.addresses, footprints)
        if territory.addresses
        else []
    )
    checks = [c for r in results for c in r.checks]
    buildings = _buildings(territory, footprints, faces, checks, linked, climate)
    faces, buildings = with_production_bands(faces, buildings)
    address_table = (
        address_module.address_layer(territory.addresses, linked, split.address_parts)
        if territory.addresses
        else None
    )
    return faces, buildings, checks, address_table


def _buildings(
    territory: Territory,
    footprints: list[Footprint],
    faces: list[FaceRecord],
    checks: list[FootprintCheck],
    linked: list[str | None],
    climate: SiteClimate,
) -> list[BuildingRecord]:
    """The building records, with their communes (the polygons' over the addresses') and
    the attributes of their source footprints.

    ``linked`` holds the building of each of the territory's addresses.
    """
    buildings = building_records(
        footprints, faces, climate.optimum_kwh_m2, {c.building_id: c for c in checks}
    )
    buildings = with_source_attributes(buildings, footprints)
    if territory.addresses:
        buildings = communes_from_addresses(buildings, territory.addresses, linked)
    if territory.communes is not None:
        buildings = communes_from_polygons(buildings, territory.communes, territory.surface.crs)
    return buildings


def _stage_seconds(results: list[TileResult]) -> dict[str, float]:
    """Each stage's wall time summed over the tiles. [s]"""
    stages: dict[str, float] = {}
    for result in results:
        for stage, seconds in result.seconds.items():
            stages[stage] = stages.get(stage, 0.0) + seconds
    return stages


def _provenance(
    territory: Territory,
    climate: SiteClimate,
    options: BuildOptions,
    *,
    filled_cells: int,
    raster: str,
    tiles: int,
    checks: list[FootprintCheck],
) -> dict[str, Any]:
    """The ``provenance`` table: the code, the run, the weather, the options, the sources.

    ``footprint_checks`` counts the footprints of each :mod:`solar.reconcile` status, with
    the median offset (east, north) of the shifted ones. [m]
    """
    weather = climate.weather
    surface = territory.surface
    return {
        "code_version": code_version(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "weather_file": Path(weather.source).name,
        "weather_site": {"latitude": weather.latitude, "longitude": weather.longitude},
        "crs": surface.crs.to_string(),
        "resolution_m": surface.resolution,
        "filled_cells": filled_cells,
        "options": asdict(options),
        "optimum_irradiation_kwh_m2_yr": round(climate.optimum_kwh_m2, 1),
        "irradiation_raster": raster,
        "tiles": tiles,
        "footprint_checks": shift_summary(checks),
        **territory.sources,
        **(territory.footprint_report.provenance() if territory.footprint_report else {}),
    }


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
