"""What a build reads: the files (:class:`BuildInputs`), and the territory they describe once
read into memory (:class:`Territory`)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import laspy
import rasterio
import rasterio.errors
import shapely

from solar import addresses as address_module
from solar.addresses import Address
from solar.cadastre import BuildingRecord
from solar.dwellings import Parcel, read_parcels
from solar.errors import InputError
from solar.footprints import (
    Attributes,
    Footprint,
    footprints_from_classes,
    read_footprints,
    select_within,
)
from solar.resources import COMMUNES, DEFAULT_WEATHER
from solar.surface import DsmSource, LazSource, Surface, SurfaceInput, rasterize_laz
from solar.weather import Weather, read_weather

StrPath = str | os.PathLike[str]


@dataclass(frozen=True)
class BuildInputs:
    """The files a build reads: exactly one of ``dsm`` and ``laz``, and what goes with them.

    Attributes
    ----------
    dsm : sequence of path-like
        DSM GeoTIFFs, a mosaic on one grid.
    laz : sequence of path-like
        Classified point clouds.
    laz_crs : str or None
        CRS of the point clouds whose header has none, e.g. ``"EPSG:28992"``.
    buildings : path-like or None
        Footprints (GeoJSON, GeoPackage, Shapefile, OGR-SQLite); None traces them from the
        point cloud's building class.
    id_field : str or None
        Footprint field holding the building id; None tries the well-known ones.
    addresses : path-like or None
        A BAN address CSV, plain or gzipped.
    weather : path-like or None
        A typical meteorological year (PVGIS CSV/JSON or EPW); None takes the Artois TMY.
    communes : path-like or None
        Commune polygons with an ``insee`` property; None leaves the communes to the
        addresses.
    parcels : path-like or None
        Cadastral parcels (Etalab ``cadastre-XX-parcelles.json``): a footprint shared by
        several houses is split by them (:mod:`solar.dwellings`); None splits it by the
        address points.
    """

    dsm: Sequence[StrPath] = ()
    laz: Sequence[StrPath] = ()
    laz_crs: str | None = None
    buildings: StrPath | None = None
    id_field: str | None = None
    addresses: StrPath | None = None
    weather: StrPath | None = None
    communes: StrPath | None = COMMUNES
    parcels: StrPath | None = None

    def __post_init__(self) -> None:
        # a frozen record: keep the file lists as tuples, whatever sequence was given
        object.__setattr__(self, "dsm", tuple(self.dsm))
        object.__setattr__(self, "laz", tuple(self.laz))


@dataclass(frozen=True)
class FootprintReport:
    """What reading the footprints left out or changed; written to the provenance.

    Attributes
    ----------
    repaired : int
        Invalid geometries repaired (see :class:`solar.footprints.FootprintSet`).
    dropped : tuple of str
        One ``"<id>: <reason>"`` per feature left out.
    outside : tuple of str
        Ids of the footprints off the surface model.
    """

    repaired: int = 0
    dropped: tuple[str, ...] = ()
    outside: tuple[str, ...] = ()

    def provenance(self) -> dict[str, Any]:
        """The report as provenance entries.

        >>> FootprintReport(1, ("b7: empty",), ()).provenance()["footprints_dropped"]
        ['b7: empty']
        """
        return {
            "footprints_repaired": self.repaired,
            "footprints_dropped": list(self.dropped),
            "footprints_outside": list(self.outside),
        }


@dataclass(frozen=True, eq=False)
class Territory:
    """What a build covers, in memory: the surface, its buildings, their addresses and sky.

    Attributes
    ----------
    surface : Surface, DsmSource or LazSource
        In a projected CRS in metres; files are read tile by tile.
    footprints : sequence of Footprint
        In the surface's CRS.
    weather : Weather or None
        None takes the Artois PVGIS typical year.
    addresses : sequence of solar.addresses.Address
        Points in the surface's CRS; each is linked to the building under it.
    communes : path-like or None
        Commune polygons with an ``insee`` property; each building takes the commune of
        its representative point. None leaves the communes to the addresses.
    footprint_report : FootprintReport or None
        What reading the footprints did; None when they were not read from a file.
    sources : Mapping[str, Any]
        Provenance of the files read (names, sizes, dates, digests).
    parcels : sequence of solar.dwellings.Parcel or None
        Cadastral parcels in the surface's CRS, to split shared footprints by; None splits
        them by the address points.
    """

    surface: SurfaceInput
    footprints: Sequence[Footprint]
    weather: Weather | None = None
    addresses: Sequence[Address] = ()
    communes: StrPath | None = COMMUNES
    footprint_report: FootprintReport | None = None
    sources: Mapping[str, Any] = field(default_factory=dict)
    parcels: Sequence[Parcel] | None = None


def read_inputs(inputs: BuildInputs, *, laz_resolution: float) -> Territory:
    """Open and check every input file; read the footprints, weather and addresses.

    DSM files and point clouds with footprints are only opened here (their extent read
    from the headers): the build reads them tile by tile. Without footprints, the point
    cloud is rasterised whole, to trace them from its building class.

    Parameters
    ----------
    inputs : BuildInputs
    laz_resolution : float
        Cell size of the rasterised point clouds. [m]

    Returns
    -------
    Territory

    Raises
    ------
    InputError
        Both or neither of DSM and LAZ given, a DSM without footprints, or any input
        unreadable or inconsistent.
    """
    if bool(inputs.dsm) == bool(inputs.laz):
        raise InputError(
            "give DSM GeoTIFFs or LAZ point clouds, not both and not neither", source="--dsm/--laz"
        )
    surface: SurfaceInput
    if inputs.dsm:
        surface = DsmSource.open(inputs.dsm)
    elif inputs.buildings is not None:
        surface = LazSource.open(inputs.laz, resolution=laz_resolution, crs=inputs.laz_crs)
    else:
        # tracing footprints needs the building class of the whole area at once
        surface = rasterize_laz(inputs.laz, resolution=laz_resolution, crs=inputs.laz_crs)
    if inputs.buildings is not None:
        footprint_set = read_footprints(
            inputs.buildings, target_crs=surface.crs, id_field=inputs.id_field
        )
    elif isinstance(surface, Surface):  # a point cloud, with its classes
        footprint_set = footprints_from_classes(surface)
    else:
        raise InputError(
            "a DSM carries no building class: give the footprints", source="--buildings"
        )
    inside, outside = select_within(footprint_set, surface.bounds)
    if isinstance(surface, DsmSource) and inside:
        # a DSM that is nodata wherever the footprints lie would build no roof, silently
        points = shapely.point_on_surface([f.geometry for f in inside])
        surface.check_covers(shapely.get_coordinates(points))
    weather = read_weather(inputs.weather or DEFAULT_WEATHER)
    return Territory(
        surface=surface,
        footprints=inside,
        weather=weather,
        addresses=_addresses_on(surface, inputs.addresses),
        communes=inputs.communes,
        footprint_report=FootprintReport(footprint_set.repaired, footprint_set.dropped, outside),
        sources=_sources(inputs),
        parcels=read_parcels(inputs.parcels, target_crs=surface.crs) if inputs.parcels else None,
    )


def _addresses_on(surface: SurfaceInput, path: StrPath | None) -> tuple[Address, ...]:
    """The addresses of a BAN file that stand on the surface model."""
    if path is None:
        return ()
    # A department's BAN file holds 700,000 addresses: keep those on the surface model
    # while reading.
    return address_module.read_ban(path, target_crs=surface.crs, bounds=surface.bounds)


def _sources(inputs: BuildInputs) -> dict[str, Any]:
    """Provenance of the input files: their facts, the weather's digest, the files' names."""
    files = [
        *inputs.dsm,
        *inputs.laz,
        *([inputs.buildings] if inputs.buildings else []),
        *([inputs.addresses] if inputs.addresses else []),
        *([inputs.parcels] if inputs.parcels else []),
    ]
    return {
        "sources": _file_facts(files),
        "weather_sha256": _file_facts([inputs.weather or DEFAULT_WEATHER])[0]["sha256"],
        "footprints_file": Path(inputs.buildings).name
        if inputs.buildings
        else "traced from LAS class 6",
        "addresses_file": Path(inputs.addresses).name if inputs.addresses else None,
        "surface_files": [_surface_file(p) for p in (*inputs.dsm, *inputs.laz)],
    }


LIDAR_HD_TILE = re.compile(r"LHD_[A-Z]{3}_(\d{4})_(\d{4})_")
"""IGN LiDAR HD file names: ``LHD_FXX_0690_7025_PTS_C_LAMB93_IGN69.copc.laz`` (point
cloud) or ``LHD_FXX_0690_7025_MNS_O_0M50_LAMB93_IGN69_2021.tif`` (DSM) name the 1 km
tile by the kilometres of its north-west corner in Lambert-93, here ``0690_7025``."""


def _surface_file(path: StrPath) -> dict[str, Any]:
    """A surface file's provenance: its name, its IGN LiDAR HD tile when its name gives
    one, and its date when the file says: the LAS header's creation date, or a
    GeoTIFF's ``TIFFTAG_DATETIME``.

    >>> _surface_file("LHD_FXX_0690_7025_PTS_C_LAMB93_IGN69.copc.laz.missing")["lidar_hd_tile"]
    '0690_7025'
    """
    name = Path(path).name
    match = LIDAR_HD_TILE.match(name)
    return {
        "file": name,
        "lidar_hd_tile": f"{match[1]}_{match[2]}" if match else None,
        "date": _file_date(Path(path)),
    }


def _file_date(path: Path) -> str | None:
    """The acquisition or production date a surface file carries, ISO 8601; None without."""
    try:
        if path.suffix.lower() in (".laz", ".las"):
            with laspy.open(path) as reader:
                created = reader.header.creation_date
            return created.isoformat() if created else None
        with rasterio.open(path) as dataset:
            stamp = dataset.tags().get("TIFFTAG_DATETIME")
    except (OSError, ValueError, laspy.LaspyException, rasterio.errors.RasterioError):
        return None
    # TIFF writes "YYYY:MM:DD HH:MM:SS"
    if stamp and re.fullmatch(r"\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2}", stamp):
        return stamp[:10].replace(":", "-") + "T" + stamp[11:]
    return None


def _file_facts(paths: Iterable[StrPath]) -> list[dict[str, Any]]:
    """Name, size, modification time and SHA-256 of each file."""
    facts = []
    for p in paths:
        path = Path(p)
        digest = file_sha256(path)
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


def with_source_attributes(
    buildings: Sequence[BuildingRecord], footprints: Sequence[Footprint]
) -> list[BuildingRecord]:
    """The buildings with the BD TOPO attributes of their footprints (usage, nature,
    height, dwellings), where the footprint file has them."""
    described = {f.building_id: f.attributes for f in footprints if f.attributes != Attributes()}
    return [
        dataclasses.replace(b, **dataclasses.asdict(described[b.building_id]))
        if b.building_id in described
        else b
        for b in buildings
    ]


@lru_cache(maxsize=4096)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file, computed once per file version (its size and modification time)."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes; a file read twice in one process is hashed once."""
    stat = os.stat(path)
    return _file_sha256(os.fspath(path), stat.st_size, stat.st_mtime_ns)
