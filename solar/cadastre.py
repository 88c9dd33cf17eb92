"""The cadastre store: one GeoPackage that QGIS opens as it is.

Layers (spatial, in the surface model's projected CRS):

- ``buildings``: footprint polygons, one row per building.
- ``roof_faces``: face outlines (plan), one row per roof face.
- ``addresses``: BAN address points, linked to the building under them.

Tables (attributes only, registered in ``gpkg_contents`` so that QGIS lists them):

- ``face_series``: per face (by its ``roof_faces`` feature id), the light its modules get,
  from which its 8760-hour production is recomputed (:mod:`solar.profiles`), and its
  monthly irradiation and production.
- ``production_site``: one row, what the production of every face shares: the weather the
  build used, the module, the system losses and the albedo.
- ``provenance``: source files, their dates, the weather file, the code version.

The file is written to a temporary path beside the target and renamed into place, so a
failed build never leaves a half-written cadastre. Its SHA-256 is written beside it first
(``<name>.gpkg.sha256``, in the ``sha256sum`` format), so that a damaged copy is refused:
see :func:`verify_checksum`.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import sqlite3
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numba
import numpy as np
import pyogrio.raw
import shapely
from pyproj import Transformer
from rasterio.crs import CRS

from solar import profiles as face_profiles
from solar.errors import InputError, NotFound
from solar.profiles import ProductionSite

#: Monthly figures are stored per face in hundredths, as they are written: the
#: irradiation of months 1 to 12 [kWh m-2] as little-endian uint16 (a month brings a plane
#: less than 655 kWh/m²), then the production [kWh] as little-endian int32: 72 bytes.
MONTHLY_SCALE = 100.0

#: Field metadata of a record attribute that is not a column of its layer.
_NOT_A_COLUMN = {"column": False}


@dataclass(frozen=True)
class BuildingRecord:
    """One row of the ``buildings`` layer; the field order is the layer's column order.

    A building's totals count its faces worth equipping (excellent, good and fair).

    Attributes
    ----------
    building_id : str
        The source footprint's own id when it has one.
    commune_insee : str or None
        INSEE code of the commune, from the addresses or the commune polygons.
    n_faces : int
        Roof faces found on the building, equipped or not.
    usable_area_m2 : float
        Usable area of the faces worth equipping, in their own planes. [m²]
    panels : int
        Modules placed on those faces.
    kwc : float
        Peak power of those modules. [kWc]
    production_kwh_yr : float
        Their AC production over a typical year. [kWh yr-1]
    specific_yield_kwh_kwc : float
        ``production_kwh_yr / kwc``, 0 without modules. [kWh kWc-1 yr-1]
    irradiation_kwh_m2_yr : float
        Area-weighted irradiation of the faces worth equipping (of all faces when none
        is), shading included. [kWh m-2 yr-1]
    shading_loss_pct : float
        Area-weighted annual shading loss of the same faces. [%]
    suitability : str
        ``excellent``, ``good``, ``fair``, ``poor`` or ``unsuitable``.
    footprint_check : str
        How the footprint agrees with the surface model (:mod:`solar.reconcile`): ``ok``;
        ``shifted``, its faces found under the footprint moved onto the roof; ``absent``,
        over bare ground, with no face; ``lidar_only``, a building of the surface model that
        no footprint holds, its footprint traced from the surface.
    footprint_shift_m : float or None
        Length of the shift of a ``shifted`` footprint, None otherwise. [m]
    geometry : shapely.Polygon or shapely.MultiPolygon
        The footprint as the source gives it (traced from the surface for ``lidar_only``),
        in the cadastre's CRS (the layer's geometry,
        not an attribute).
    production_p10_kwh_yr, production_p50_kwh_yr, production_p90_kwh_yr : float
        Percentiles of ``production_kwh_yr`` over the uncertain inputs
        (:func:`solar.household.uncertainty.production_bands`). [kWh yr-1]
    usage_1, nature : str or None
        The BD TOPO ``batiment`` main use (``Résidentiel``, ``Industriel``, …) and kind of
        building, when the footprint file has them (:class:`solar.footprints.Attributes`).
    hauteur : float or None
        The BD TOPO height of the building, from its ground to its highest point. [m]
    nombre_de_logements : float or None
        The BD TOPO count of dwellings (a whole number; real so that it can be null).
    """

    building_id: str
    commune_insee: str | None
    n_faces: int
    usable_area_m2: float
    panels: int
    kwc: float
    production_kwh_yr: float
    specific_yield_kwh_kwc: float
    irradiation_kwh_m2_yr: float
    shading_loss_pct: float
    suitability: str
    footprint_check: str
    footprint_shift_m: float | None
    geometry: shapely.Geometry = field(repr=False, metadata=_NOT_A_COLUMN)
    production_p10_kwh_yr: float = 0.0
    production_p50_kwh_yr: float = 0.0
    production_p90_kwh_yr: float = 0.0
    usage_1: str | None = None
    nature: str | None = None
    hauteur: float | None = None
    nombre_de_logements: float | None = None


@dataclass(frozen=True)
class FaceRecord:
    """One row of the ``roof_faces`` layer; the field order is the layer's column order.

    Attributes
    ----------
    building_id, face_id : str
        The building the face belongs to, and the face's own id (``<building_id>-<n>``).
    tilt_deg : float
        Tilt of the fitted plane from horizontal. [°]
    azimuth_deg : float or None
        Azimuth of the plane, clockwise from north (180 = south); None on a flat face. [°]
    is_flat : bool
        True when the face is flat; its modules are then racked (see
        :func:`solar.pv.module_plane`) and every figure is for the racked plane.
    area_m2 : float
        True (sloped) area of the face. [m²]
    usable_area_m2 : float
        Area left for modules after setbacks, obstacles and shaded pixels. [m²]
    irradiation_kwh_m2_yr : float
        Irradiation received by the module plane (``module_tilt_deg``,
        ``module_azimuth_deg``), shading included. [kWh m-2 yr-1]
    shading_loss_pct : float
        Annual loss against the same plane with nothing around it. [%]
    panels : int
        Modules placed.
    kwc : float
        Their peak power. [kWc]
    production_kwh_yr : float
        AC production over a typical year. [kWh yr-1]
    specific_yield_kwh_kwc : float
        AC production per kWc installed. [kWh kWc-1 yr-1]
    suitability : str
        ``excellent``, ``good``, ``fair``, ``poor`` or ``unsuitable``: the roof's own
        irradiation (``roof_irradiation_kwh_m2_yr``) against the best plane of the site
        (:func:`solar.pv.suitability`).
    geometry : shapely.Polygon or shapely.MultiPolygon
        The face's outline seen from above, in the cadastre's CRS.
    production_monthly_kwh, irradiation_monthly_kwh_m2 : tuple of float
        Per calendar month, from the ``face_series`` table; empty when the record
        was read without them. [kWh], [kWh m-2]
    production_p10_kwh_yr, production_p50_kwh_yr, production_p90_kwh_yr : float
        Percentiles of ``production_kwh_yr`` over the uncertain inputs
        (:func:`solar.household.uncertainty.production_bands`). [kWh yr-1]
    part_id : str or None
        The dwelling whose part of a shared footprint holds the face (a parcel's or an
        address's id, :mod:`solar.dwellings`); None when the building is whole.
    module_tilt_deg, module_azimuth_deg : float
        The plane the modules lie in, which ``irradiation_kwh_m2_yr`` and the production
        are for: the roof's own, but racks at :data:`solar.pv.FLAT_MODULE_TILT` facing
        :data:`solar.pv.FLAT_MODULE_AZIMUTH` on a flat roof. [°]
    roof_irradiation_kwh_m2_yr : float
        Irradiation received by the roof's own plane (the horizontal for a flat roof),
        shading included; ``suitability`` rates it. [kWh m-2 yr-1]
    """

    building_id: str
    face_id: str
    tilt_deg: float
    azimuth_deg: float | None
    is_flat: bool
    area_m2: float
    usable_area_m2: float
    irradiation_kwh_m2_yr: float
    shading_loss_pct: float
    panels: int
    kwc: float
    production_kwh_yr: float
    specific_yield_kwh_kwc: float
    suitability: str
    geometry: shapely.Geometry = field(repr=False, metadata=_NOT_A_COLUMN)
    production_monthly_kwh: tuple[float, ...] = field(default=(), metadata=_NOT_A_COLUMN)
    irradiation_monthly_kwh_m2: tuple[float, ...] = field(default=(), metadata=_NOT_A_COLUMN)
    production_p10_kwh_yr: float = 0.0
    production_p50_kwh_yr: float = 0.0
    production_p90_kwh_yr: float = 0.0
    part_id: str | None = None
    module_tilt_deg: float = 0.0
    module_azimuth_deg: float = 180.0
    roof_irradiation_kwh_m2_yr: float = 0.0


_Record = TypeVar("_Record", FaceRecord, BuildingRecord)


def record_from_fields(kind: type[_Record], values: Mapping[str, Any]) -> _Record:
    """The ``kind`` record of ``values``, every field given, as its constructor makes it.

    At a fifth of the constructor's cost, which counts over a build's hundreds of
    thousands of records: the records have neither ``__post_init__`` nor slots, and their
    constructor only sets their fields, so filling the instance's ``__dict__`` makes the
    same record.
    """
    record = object.__new__(kind)
    record.__dict__.update(values)
    return record


def replaced(record: _Record, **changes: Any) -> _Record:
    """:func:`dataclasses.replace` of a record, by :func:`record_from_fields`."""
    return record_from_fields(type(record), {**record.__dict__, **changes})


@dataclass(frozen=True)
class AddressRecord:
    """One row of the ``addresses`` layer (BAN fields); the field order is the column order.

    Attributes
    ----------
    address_id : str
        The BAN id (``cle_interop``).
    label : str
        The full address as the BAN writes it.
    numero, nom_voie, code_postal, code_insee, nom_commune : str
        Its parts, as in the BAN.
    building_id : str or None
        The building under the address point; None when there is none.
    geometry : shapely.Point
        The address point, in the cadastre's CRS.
    part_id : str or None
        The dwelling's part of a building shared by several (:mod:`solar.dwellings`): its
        faces carry the same ``part_id``. None when the building is whole.
    """

    address_id: str
    label: str
    numero: str
    nom_voie: str
    code_postal: str
    code_insee: str
    nom_commune: str
    building_id: str | None
    geometry: shapely.Geometry = field(repr=False, metadata=_NOT_A_COLUMN)
    part_id: str | None = None


def columns(record_type: type[Any]) -> tuple[str, ...]:
    """The layer columns of a record type, in the order they are written.

    >>> columns(AddressRecord)[:2]
    ('address_id', 'label')
    >>> "geometry" in columns(FaceRecord)
    False
    """
    return tuple(f.name for f in fields(record_type) if f.metadata.get("column", True))


BUILDING_FIELDS = columns(BuildingRecord)
FACE_FIELDS = columns(FaceRecord)
ADDRESS_FIELDS = columns(AddressRecord)
MONTHLY_FIELDS = ("face_id", "month", "irradiation_kwh_m2", "production_kwh")
#: Columns a commune's buildings may be sorted on (:meth:`Cadastre.buildings_in_commune`).
COMMUNE_SORT_KEYS = (
    "kwc",
    "panels",
    "production_kwh_yr",
    "specific_yield_kwh_kwc",
    "usable_area_m2",
    "shading_loss_pct",
    "building_id",
)


@dataclass(frozen=True, eq=False)
class GeoTable:
    """Columns of one spatial layer, ready to write.

    Attributes
    ----------
    geometry : numpy.ndarray
        shapely geometries, one per row, in the cadastre's CRS.
    fields : Mapping[str, numpy.ndarray]
        One array per column; NaN in a float column is written as null.
    geometry_type : str
        OGR geometry type, e.g. ``"MultiPolygon"`` or ``"Point"``.
    """

    geometry: np.ndarray
    fields: Mapping[str, np.ndarray]
    geometry_type: str

    def __len__(self) -> int:
        return len(self.geometry)

    @classmethod
    def from_records(
        cls, records: Sequence[Any], record_type: type[Any], geometry_type: str
    ) -> GeoTable:
        """The layer of a sequence of records of one type, columns in the record's order.

        None in a numeric column (a flat face's azimuth) is written as null.

        >>> point = AddressRecord("a1", "1 Rue A 62300 Lens", "1", "Rue A", "62300", "62498",
        ...                       "Lens", None, shapely.Point(0, 0))
        >>> table = GeoTable.from_records([point], AddressRecord, "Point")
        >>> len(table), list(table.fields)[:2]
        (1, ['address_id', 'label'])
        """
        annotations = {f.name: str(f.type) for f in fields(record_type)}
        return cls(
            geometry=np.array([r.geometry for r in records], dtype=object),
            fields={
                name: _column([getattr(r, name) for r in records], annotations[name])
                for name in columns(record_type)
            },
            geometry_type=geometry_type,
        )


#: The array type of each annotation of a record's columns, so that a column's type follows
#: its field even when every value is None (a build of flat roofs only) or there is no row.
_COLUMN_DTYPES: dict[str, type[Any]] = {
    "str": object,
    "str | None": object,
    "float": np.float64,
    "float | None": np.float64,
    "int": np.int64,
    "bool": np.bool_,
}


def _column(values: list[Any], annotation: str) -> np.ndarray:
    """One column of the type its field is annotated with: None is null text, NaN number.

    >>> _column([1.5, None], "float | None").tolist(), _column([], "str").dtype
    ([1.5, nan], dtype('O'))
    """
    dtype = _COLUMN_DTYPES[annotation]
    if dtype is np.float64:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.array(values, dtype=dtype)


@dataclass(frozen=True, eq=False)
class FaceProfiles:
    """What each face's hourly production is recomputed from: the light its modules get,
    packed by :func:`solar.profiles.encode_light` (about 500 bytes a face, where the 8760
    hourly values took 8 KB even compressed).

    Attributes
    ----------
    face_ids : sequence of str
    blobs : sequence of bytes
        One :func:`solar.profiles.encode_light` blob per face.
    """

    face_ids: Sequence[str]
    blobs: Sequence[bytes]


def _write_layer(path: str, name: str, table: GeoTable, crs: CRS, append: bool) -> None:
    names = list(table.fields)
    data = [np.asarray(table.fields[n]) for n in names]
    pyogrio.raw.write(
        path,
        shapely.to_wkb(table.geometry),
        data,
        names,
        layer=name,
        driver="GPKG",
        geometry_type=table.geometry_type,
        crs=crs.to_wkt(),
        append=append,
        promote_to_multi=table.geometry_type.startswith("Multi"),
        layer_options={"SPATIAL_INDEX": "YES", "FID": "fid"},
    )


def _register_attributes_table(con: sqlite3.Connection, name: str, description: str) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change)"
        " VALUES (?, 'attributes', ?, ?, ?)",
        (name, name, description, now),
    )


def write_cadastre(
    path: str | os.PathLike[str],
    *,
    crs: CRS,
    buildings: GeoTable,
    faces: GeoTable,
    monthly: Mapping[str, np.ndarray],
    profiles: FaceProfiles,
    provenance: Mapping[str, Any],
    addresses: GeoTable | None = None,
    site: ProductionSite | None = None,
) -> Path:
    """Write the whole cadastre atomically.

    Parameters
    ----------
    path : path-like
        Target ``.gpkg``. It is replaced only once the new file is complete.
    crs : rasterio.crs.CRS
        The projected CRS of every layer.
    buildings, faces, addresses : GeoTable
        The spatial layers, with the columns of ``BUILDING_FIELDS``, ``FACE_FIELDS`` and
        ``ADDRESS_FIELDS``.
    monthly : Mapping[str, numpy.ndarray]
        Per face and month (``MONTHLY_FIELDS``, one row each), stored packed per face.
    profiles : FaceProfiles
        The light of each face, from which its hourly production is recomputed.
    provenance : Mapping[str, Any]
        Key-value pairs; values that are not strings are stored as JSON.
    site : ProductionSite, optional
        What the production of every face shares; needed when ``profiles`` holds faces.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    target = Path(path)
    for table, expected in ((buildings, BUILDING_FIELDS), (faces, FACE_FIELDS)):
        if tuple(table.fields) != expected:
            raise ValueError(f"columns {tuple(table.fields)} differ from {expected}")
    if addresses is not None and tuple(addresses.fields) != ADDRESS_FIELDS:
        raise ValueError(f"address columns {tuple(addresses.fields)} differ from {ADDRESS_FIELDS}")
    if len(buildings) == 0:
        raise InputError("no building to write", source=str(target))
    if len(profiles.face_ids) and site is None:
        raise ValueError("faces' light needs the production site it is recomputed with")

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=".tmp.gpkg", dir=target.parent
    )
    os.close(fd)
    os.unlink(tmp_name)  # GDAL wants to create the file itself
    try:
        _write_layer(tmp_name, "buildings", buildings, crs, append=False)
        _write_layer(tmp_name, "roof_faces", faces, crs, append=True)
        if addresses is not None and len(addresses):
            _write_layer(tmp_name, "addresses", addresses, crs, append=True)
        _write_tables(
            tmp_name, monthly, profiles, site, provenance, with_addresses=addresses is not None
        )
        # the checksum first: a service watching the target meets the new file only once
        # the checksum that vouches for it is in place
        _write_checksum(target, file_sha256(tmp_name))
        os.replace(tmp_name, target)
    except BaseException:
        for leftover in (tmp_name, tmp_name + "-journal", tmp_name + "-wal", tmp_name + "-shm"):
            if os.path.exists(leftover):
                os.unlink(leftover)
        raise
    return target


def _write_tables(
    path: str,
    monthly: Mapping[str, np.ndarray],
    profiles: FaceProfiles,
    site: ProductionSite | None,
    provenance: Mapping[str, Any],
    *,
    with_addresses: bool,
) -> None:
    con = sqlite3.connect(path)
    try:
        with con:
            fids = dict(con.execute("SELECT face_id, fid FROM roof_faces"))
            packed_monthly = _pack_monthly(monthly)
            light = dict(zip(profiles.face_ids, profiles.blobs, strict=True))
            unknown = (set(light) | set(packed_monthly)) - set(fids)
            if unknown:
                raise ValueError(f"figures of faces not in roof_faces: {sorted(unknown)[:5]}")
            # keyed by the face's feature id, the table's own rowid: no second index
            con.execute(
                "CREATE TABLE face_series (fid INTEGER PRIMARY KEY, light BLOB, monthly BLOB)"
            )
            con.executemany(
                "INSERT INTO face_series VALUES (?, ?, ?)",
                (
                    (fid, light.get(face_id), packed_monthly.get(face_id))
                    for face_id, fid in fids.items()
                    if face_id in light or face_id in packed_monthly
                ),
            )
            _register_attributes_table(
                con,
                "face_series",
                f"Per roof_faces fid: light ({face_profiles.LIGHT_ENCODING}) and monthly "
                "irradiation [kWh/m2] (12 uint16) and production [kWh] (12 int32), hundredths",
            )

            names = list(face_profiles.SITE_COLUMNS)
            columns = ", ".join(f"{n} {t}" for n, t in face_profiles.SITE_COLUMNS.items())
            con.execute(f"CREATE TABLE production_site ({columns})")
            if site is not None:
                fields = face_profiles.site_fields(site)
                con.execute(
                    f"INSERT INTO production_site VALUES ({', '.join('?' * len(names))})",
                    [fields[name] for name in names],
                )
            _register_attributes_table(
                con, "production_site", "Weather, module, losses and albedo of the production"
            )

            con.execute("CREATE TABLE provenance (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            con.executemany(
                "INSERT INTO provenance VALUES (?, ?)",
                (
                    (k, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
                    for k, v in provenance.items()
                ),
            )
            _register_attributes_table(con, "provenance", "Sources, weather and code version")

            con.execute("CREATE UNIQUE INDEX idx_buildings_id ON buildings (building_id)")
            # a commune's buildings, and the addresses of a page of them, without a scan
            con.execute("CREATE INDEX idx_buildings_commune ON buildings (commune_insee)")
            con.execute("CREATE UNIQUE INDEX idx_roof_faces_id ON roof_faces (face_id)")
            con.execute("CREATE INDEX idx_roof_faces_building ON roof_faces (building_id)")
            if with_addresses:
                con.execute("CREATE UNIQUE INDEX idx_addresses_id ON addresses (address_id)")
                con.execute("CREATE INDEX idx_addresses_building ON addresses (building_id)")
        con.execute("VACUUM")
    finally:
        con.close()


def _pack_monthly(monthly: Mapping[str, np.ndarray]) -> dict[str, bytes]:
    """Each face's 12 irradiations then 12 productions, packed (:data:`MONTHLY_SCALE`)."""
    lengths = {name: np.size(monthly[name]) for name in MONTHLY_FIELDS}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"monthly columns of different lengths: {lengths}")
    face_ids = np.asarray(monthly["face_id"], dtype=object)
    if face_ids.size == 0:
        return {}
    months = np.asarray(monthly["month"], dtype=np.int64)
    values = {
        name: np.nan_to_num(np.asarray(monthly[name], dtype=np.float64))
        for name in ("irradiation_kwh_m2", "production_kwh")
    }
    faces, row = np.unique(face_ids.astype(str), return_inverse=True)
    table = np.zeros((faces.size, 24))
    table[row, months - 1] = values["irradiation_kwh_m2"]
    table[row, months + 11] = values["production_kwh"]
    hundredths = np.rint(table * MONTHLY_SCALE)
    irradiation = hundredths[:, :12]
    if irradiation.min() < 0 or irradiation.max() > np.iinfo(np.uint16).max:
        raise ValueError("a monthly irradiation lies outside [0, 655.35] kWh/m2")
    packed = np.empty(faces.size, dtype=_MONTHS_DTYPE)
    packed["irradiation"] = irradiation
    packed["production"] = hundredths[:, 12:]
    raw = packed.tobytes()
    size = _MONTHS_DTYPE.itemsize
    return {face_id: raw[k * size : (k + 1) * size] for k, face_id in enumerate(faces.tolist())}


def _unpack_monthly(blob: bytes | None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The irradiation and production tuples of a face's packed monthly figures."""
    if blob is None:
        return (0.0,) * 12, (0.0,) * 12
    irradiation = np.frombuffer(blob, dtype="<u2", count=12) / MONTHLY_SCALE
    production = np.frombuffer(blob, dtype="<i4", offset=24) / MONTHLY_SCALE
    return tuple(irradiation.tolist()), tuple(production.tolist())


#: A face's packed monthly figures (:func:`_pack_monthly`), as one numpy record.
_MONTHS_DTYPE = np.dtype([("irradiation", "<u2", 12), ("production", "<i4", 12)])
#: The packed months of a face that has none: zeros.
_NO_MONTHS = bytes(_MONTHS_DTYPE.itemsize)


def _wkb_of_gpkg(blob: bytes) -> bytes:
    """The WKB of a GeoPackage geometry blob (GPKG header, then WKB)."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    envelope_bytes = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0b111]
    return blob[8 + envelope_bytes :]


def _geometry_from_gpkg(blob: bytes) -> shapely.Geometry:
    """Decode a GeoPackage geometry blob (GPKG header, then WKB)."""
    return shapely.from_wkb(_wkb_of_gpkg(blob))


def _building_record(row: sqlite3.Row) -> BuildingRecord:
    return BuildingRecord(
        **{name: row[name] for name in BUILDING_FIELDS}, geometry=_geometry_from_gpkg(row["geom"])
    )


def _face_record(
    row: sqlite3.Row,
    geometry: shapely.Geometry | None = None,
    production_monthly_kwh: tuple[float, ...] = (),
    irradiation_monthly_kwh_m2: tuple[float, ...] = (),
) -> FaceRecord:
    values = {name: row[name] for name in FACE_FIELDS}
    values["is_flat"] = bool(values["is_flat"])  # SQLite keeps booleans as integers
    return FaceRecord(
        **values,
        geometry=_geometry_from_gpkg(row["geom"]) if geometry is None else geometry,
        production_monthly_kwh=production_monthly_kwh,
        irradiation_monthly_kwh_m2=irradiation_monthly_kwh_m2,
    )


def _address_record(row: sqlite3.Row) -> AddressRecord:
    return AddressRecord(
        **{name: row[name] for name in ADDRESS_FIELDS}, geometry=_geometry_from_gpkg(row["geom"])
    )


#: Suffix of the checksum file written beside a cadastre (``cadastre.gpkg.sha256``).
CHECKSUM_SUFFIX = ".sha256"


def checksum_path(path: str | os.PathLike[str]) -> Path:
    """Where the checksum of the cadastre at ``path`` is written."""
    path = Path(path)
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def file_sha256(path: str | os.PathLike[str] | int) -> str:
    """The SHA-256 of a file, or of an open file descriptor read from its start, in hex.

    One core hashes a GiB in 2.8 to 3.7 s on the busy 2-core test machine (load average
    12); the hashing reads the file once, at the disk's or the page cache's speed.
    """
    if isinstance(path, int):
        with os.fdopen(os.dup(path), "rb") as stream:
            stream.seek(0)
            return hashlib.file_digest(stream, "sha256").hexdigest()
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _write_checksum(target: Path, digest: str) -> None:
    """Write ``<target>.sha256`` atomically, in the format ``sha256sum --check`` reads."""
    final = checksum_path(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(f"{digest}  {target.name}\n")
        os.chmod(tmp_name, 0o644)  # readable as the cadastre is, not mkstemp's 0o600
        os.replace(tmp_name, final)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise


def recorded_checksum(path: str | os.PathLike[str]) -> str | None:
    """The SHA-256 the build recorded beside the cadastre, or None when there is none."""
    try:
        text = checksum_path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    digest = text.split(maxsplit=1)[0].lower() if text.strip() else ""
    if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        raise InputError(
            f"{checksum_path(path).name} holds no SHA-256; build the cadastre again",
            source=str(path),
        )
    return digest


def verify_checksum(path: str | os.PathLike[str], *, fd: int | None = None) -> tuple[str, bool]:
    """Check the cadastre at ``path`` against the checksum its build wrote beside it.

    Parameters
    ----------
    path : path-like
        The cadastre GeoPackage.
    fd : int, optional
        An open descriptor of that file: the bytes hashed are then those of this very
        file, even if ``path`` is replaced meanwhile.

    Returns
    -------
    tuple of (str, bool)
        The file's SHA-256 in hex, and whether a recorded checksum vouched for it (False
        when there is no checksum file: a cadastre copied without it is served unverified).

    Raises
    ------
    InputError
        When the file differs from its recorded checksum: it is damaged, or it is not the
        file the checksum was written for.
    """
    expected = recorded_checksum(path)
    digest = file_sha256(path if fd is None else fd)
    if expected is not None and digest != expected:
        raise InputError(
            f"damaged: its SHA-256 differs from the one its build recorded in "
            f"{checksum_path(path).name}; build it again or restore it",
            source=str(path),
        )
    return digest, expected is not None


class Cadastre:
    """Read-only access to a cadastre GeoPackage, safe across threads.

    Queries borrow a read-only SQLite connection from a pool, so that no handle is ever
    used by two threads at once. By default the pool opens connections as threads need
    them. With ``connections``, that many are opened now and no more: every query then
    reads the very file that was opened, even once the path names another file (a
    cadastre replaced under a running service), and a query waits for a free connection.

    Parameters
    ----------
    path : path-like
        A GeoPackage written by :func:`write_cadastre`.
    connections : int, optional
        Open this many connections now and never more (at least 1).
    """

    def __init__(self, path: str | os.PathLike[str], *, connections: int | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError("no cadastre at this path", source=str(self.path))
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[sqlite3.Connection] = []
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._bounded = connections is not None
        try:
            for _ in range(max(1, connections or 1)):
                self._idle.put(self._open())
            with self._borrow() as con:
                row = con.execute(
                    "SELECT s.definition FROM gpkg_geometry_columns g JOIN gpkg_spatial_ref_sys s"
                    " ON g.srs_id = s.srs_id WHERE g.table_name = 'buildings'"
                ).fetchone()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise InputError(f"not a cadastre GeoPackage ({exc})", source=str(self.path)) from exc
        if row is None:
            self.close()
            raise InputError("not a cadastre GeoPackage (no buildings layer)", source=str(path))
        self.crs = CRS.from_wkt(row[0])
        for layer, expected in (("buildings", BUILDING_FIELDS), ("roof_faces", FACE_FIELDS)):
            present = {r[1] for r in self._rows(f"PRAGMA table_info({layer})")}
            missing = [name for name in expected if name not in present]
            if missing:
                self.close()
                raise InputError(
                    f"written by another version of the cadastre: its {layer} layer lacks "
                    f"{', '.join(missing)}; build it again",
                    source=str(self.path),
                )
        tables = {r[0] for r in self._rows("SELECT table_name FROM gpkg_contents")}
        missing_tables = [t for t in ("face_series", "production_site") if t not in tables]
        if missing_tables:
            self.close()
            raise InputError(
                f"written by another version of the cadastre: it lacks the "
                f"{', '.join(missing_tables)} table; build it again",
                source=str(self.path),
            )
        self.has_addresses = "addresses" in tables
        self._site: ProductionSite | None = None
        self._site_lock = threading.Lock()

    def _open(self) -> sqlite3.Connection:
        # check_same_thread off: a pooled connection serves one thread at a time, then
        # another, and close() closes them all from whichever thread calls it
        con = sqlite3.connect(
            f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        con.row_factory = sqlite3.Row
        # the schema is read when the file is first read, not at connect: read it now so
        # that a bounded pool holds the file it was opened on
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        with self._lock:
            self._opened.append(con)
        return con

    @contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        """A connection for this thread alone until the block ends."""
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is not None:
            yield con
            return
        try:
            con = self._idle.get_nowait()
        except queue.Empty:
            con = self._idle.get() if self._bounded else self._open()
        try:
            yield con
        finally:
            self._idle.put(con)

    def _con(self) -> sqlite3.Connection:
        """This thread's own connection, kept for it until :meth:`close`."""
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            try:
                con = self._idle.get_nowait()
            except queue.Empty:
                con = self._idle.get() if self._bounded else self._open()
            self._local.con = con
        return con

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._borrow() as con:
            return con.execute(sql, params).fetchall()

    def building(self, building_id: str) -> BuildingRecord:
        """The building's record; NotFound when the id is unknown."""
        rows = self._rows("SELECT * FROM buildings WHERE building_id = ?", (building_id,))
        if not rows:
            raise NotFound(f"no building with id {building_id!r}")
        return _building_record(rows[0])

    def faces(self, building_id: str) -> list[FaceRecord]:
        """The building's roof faces, each with its monthly production and irradiation."""
        # one query, and the geometries and months of all faces decoded at once: a
        # resident's request reads one building, and these are most of its reading
        rows = self._rows(
            "SELECT f.*, s.monthly FROM roof_faces f LEFT JOIN face_series s ON s.fid = f.fid"
            " WHERE f.building_id = ? ORDER BY f.face_id",
            (building_id,),
        )
        if not rows:
            return []
        geometries = shapely.from_wkb([_wkb_of_gpkg(r["geom"]) for r in rows])
        months = np.frombuffer(
            b"".join(r["monthly"] or _NO_MONTHS for r in rows), dtype=_MONTHS_DTYPE
        )
        irradiation = (months["irradiation"] / MONTHLY_SCALE).tolist()
        production = (months["production"] / MONTHLY_SCALE).tolist()
        return [
            _face_record(
                r,
                geometry=geometry,
                production_monthly_kwh=tuple(production[k]),
                irradiation_monthly_kwh_m2=tuple(irradiation[k]),
            )
            for k, (r, geometry) in enumerate(zip(rows, geometries.tolist(), strict=True))
        ]

    def building_at(self, x: float, y: float) -> BuildingRecord | None:
        """The building whose footprint contains the point (x, y) in the cadastre CRS."""
        rows = self._rows(
            "SELECT b.* FROM buildings b JOIN rtree_buildings_geom r ON b.fid = r.id"
            " WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?",
            (x, x, y, y),
        )
        point = shapely.Point(x, y)
        for row in rows:
            record = _building_record(row)
            if record.geometry.covers(point):
                return record
        return None

    def faces_in_bbox(
        self, bbox: tuple[float, float, float, float], limit: int
    ) -> list[FaceRecord]:
        """Up to ``limit`` faces whose envelope meets the bbox (xmin, ymin, xmax, ymax),
        without their monthly figures."""
        xmin, ymin, xmax, ymax = bbox
        rows = self._rows(
            "SELECT f.* FROM roof_faces f JOIN rtree_roof_faces_geom r ON f.fid = r.id"
            " WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?"
            " ORDER BY f.fid LIMIT ?",
            (xmin, xmax, ymin, ymax, limit),
        )
        return [_face_record(r) for r in rows]

    def address(self, address_id: str) -> AddressRecord:
        """One address; NotFound when the id is unknown."""
        if not self.has_addresses:
            raise NotFound(f"no address with id {address_id!r}")
        rows = self._rows("SELECT * FROM addresses WHERE address_id = ?", (address_id,))
        if not rows:
            raise NotFound(f"no address with id {address_id!r}")
        return _address_record(rows[0])

    def addresses(self) -> list[AddressRecord]:
        """Every address, for building an in-memory search index."""
        if not self.has_addresses:
            return []
        return [_address_record(r) for r in self._rows("SELECT * FROM addresses ORDER BY fid")]

    def address_search_columns(self) -> tuple[np.ndarray, list[str], list[int | None]]:
        """The feature id, label and house number of every address, in feature id order:
        what a search index is built from, without reading whole rows."""
        with self._borrow() as con:
            rows = (
                con.execute("SELECT fid, label, numero FROM addresses ORDER BY fid").fetchall()
                if self.has_addresses
                else []
            )
        return (
            np.asarray([r[0] for r in rows], dtype=np.int64),
            [r[1] for r in rows],
            [r[2] for r in rows],
        )

    def addresses_by_fid(self, fids: Sequence[int]) -> list[AddressRecord]:
        """The addresses of these feature ids, in their order (at most 500 at once)."""
        if not self.has_addresses or not len(fids):
            return []
        rows = self._rows(
            f"SELECT * FROM addresses WHERE fid IN ({','.join('?' * len(fids))})",
            [int(f) for f in fids],
        )
        by_fid = {r["fid"]: r for r in rows}
        return [_address_record(by_fid[int(f)]) for f in fids if int(f) in by_fid]

    def profiles(self, face_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Hourly production per kWc of the given faces, recomputed from their light
        (:func:`solar.profiles.hourly_production`). [kWh kWc-1]

        Faces without stored light (none in a cadastre made for a benchmark) are left out.
        """
        if not face_ids:
            return {}
        marks = ",".join("?" * len(face_ids))
        rows = self._rows(
            "SELECT f.face_id, f.module_tilt_deg, f.module_azimuth_deg, s.light"
            " FROM roof_faces f JOIN face_series s ON s.fid = f.fid"
            f" WHERE f.face_id IN ({marks}) AND s.light IS NOT NULL",
            list(face_ids),
        )
        if not rows:
            return {}
        site = self.production_site()
        # a building's few faces in this thread alone: waking numba's thread pool costs
        # more than the work (median 27 ms against 9 ms a building on the busy 2-core
        # test machine)
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            hourly = face_profiles.hourly_production(
                site,
                [r["module_tilt_deg"] for r in rows],
                [r["module_azimuth_deg"] for r in rows],
                [face_profiles.decode_light(r["light"]) for r in rows],
            )
        finally:
            numba.set_num_threads(threads)
        return {r["face_id"]: hourly[k] for k, r in enumerate(rows)}

    def production_site(self) -> ProductionSite:
        """What the production of every face shares, read once (the sun's path with it)."""
        with self._site_lock:
            if self._site is None:
                rows = self._rows("SELECT * FROM production_site")
                if not rows:
                    raise InputError("the cadastre holds no production site", source=str(self.path))
                encoding = rows[0]["light_encoding"]
                if encoding != face_profiles.LIGHT_ENCODING:
                    raise InputError(
                        f"written by another version of the cadastre: its faces' light is "
                        f"packed as {encoding!r}; build it again",
                        source=str(self.path),
                    )
                site = face_profiles.site_from_fields(rows[0])
                site.solpos  # noqa: B018 - computed here, once, rather than by every request
                self._site = site
            return self._site

    def provenance(self) -> dict[str, Any]:
        """Provenance entries; JSON values decoded."""
        out: dict[str, Any] = {}
        rows = self._rows("SELECT key, value FROM provenance")
        for r in rows:
            try:
                out[r["key"]] = json.loads(r["value"])
            except json.JSONDecodeError:
                out[r["key"]] = r["value"]
        return out

    def communes(self) -> list[str]:
        """INSEE codes of the communes that hold buildings, sorted."""
        rows = self._rows(
            "SELECT DISTINCT commune_insee FROM buildings WHERE commune_insee IS NOT NULL"
            " ORDER BY 1"
        )
        return [r[0] for r in rows]

    def commune_names(self) -> dict[str, str]:
        """The name of each commune that has addresses, by INSEE code (from the BAN)."""
        if not self.has_addresses:
            return {}
        rows = self._rows(
            "SELECT code_insee, min(nom_commune) FROM addresses WHERE code_insee IS NOT NULL"
            " GROUP BY code_insee"
        )
        return {r[0]: r[1] for r in rows}

    def has_commune(self, insee: str) -> bool:
        """Whether the commune ``insee`` holds at least one building."""
        return bool(self._rows("SELECT 1 FROM buildings WHERE commune_insee = ? LIMIT 1", (insee,)))

    def buildings_in_commune(
        self,
        insee: str,
        *,
        limit: int = 100,
        sort: str = "kwc",
        descending: bool = True,
        after: tuple[Any, str] | None = None,
        suitability: Sequence[str] = (),
        min_kwc: float | None = None,
        usage: str | None = None,
        building_ids: Sequence[str] | None = None,
    ) -> tuple[list[BuildingRecord], tuple[Any, str] | None]:
        """One page of a commune's buildings, filtered and sorted in SQL (keyset pagination).

        Parameters
        ----------
        insee : str
            The commune.
        limit : int
            Buildings in the page.
        sort : str
            One of :data:`COMMUNE_SORT_KEYS`; ties are ordered by building id.
        descending : bool
            Largest first.
        after : tuple, optional
            The ``next`` of the previous page: the page starts after it.
        suitability : sequence of str
            Keep these suitability classes only (all when empty).
        min_kwc : float, optional
            Keep buildings of at least this peak power. [kWc]
        usage : str, optional
            Keep buildings of this BD TOPO ``usage_1``, as BD TOPO writes it
            (``Résidentiel``, ``Sportif``, ``Religieux``…).
        building_ids : sequence of str, optional
            Keep these buildings only.

        Returns
        -------
        tuple
            The page's records, and ``next``: the (sort value, building id) to pass as
            ``after`` for the next page, None on the last page.
        """
        if sort not in COMMUNE_SORT_KEYS:
            raise InputError(f"expected one of {', '.join(COMMUNE_SORT_KEYS)}", source="sort")
        where = ["commune_insee = ?"]
        params: list[Any] = [insee]
        if suitability:
            where.append(f"suitability IN ({','.join('?' * len(suitability))})")
            params += list(suitability)
        if min_kwc is not None:
            where.append("kwc >= ?")
            params.append(min_kwc)
        if usage is not None:
            where.append("usage_1 = ?")
            params.append(usage)
        if building_ids is not None:
            if not building_ids:
                return [], None
            where.append(f"building_id IN ({','.join('?' * len(building_ids))})")
            params += list(building_ids)
        direction = "DESC" if descending else "ASC"
        # null figures (a building without faces) sort as zero, so that a cursor can hold them
        key = "building_id" if sort == "building_id" else f"coalesce({sort}, 0)"
        if after is not None:
            value, last_id = after
            beyond = "<" if descending else ">"
            if sort == "building_id":
                where.append(f"building_id {beyond} ?")
                params.append(last_id)
            else:
                where.append(f"({key} {beyond} ? OR ({key} = ? AND building_id > ?))")
                params += [value, value, last_id]
        order = f"{key} {direction}" + ("" if sort == "building_id" else ", building_id ASC")
        # ids first, then their rows: sorting the commune's narrow rows rather than whole
        # ones (footprints included) halves the query
        keys = self._rows(
            f"SELECT building_id, {key} AS sort_value FROM buildings"
            f" WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?",
            [*params, limit + 1],
        )
        page = keys[:limit]
        following = None
        if len(keys) > limit:
            following = (page[-1]["sort_value"], page[-1]["building_id"])
        if not page:
            return [], None
        ids = [r["building_id"] for r in page]
        rows = {}
        # in chunks: a page of a whole commune may hold more ids than SQLite binds at once
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for r in self._rows(
                f"SELECT * FROM buildings WHERE building_id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                rows[r["building_id"]] = r
        return [_building_record(rows[i]) for i in ids], following

    def address_labels(self, building_ids: Sequence[str]) -> dict[str, str]:
        """The first address (in BAN order) of each building that has one, by building id."""
        if not self.has_addresses or not building_ids:
            return {}
        labels: dict[str, str] = {}
        # in chunks: SQLite binds a limited number of values per statement
        for start in range(0, len(building_ids), 500):
            chunk = list(building_ids[start : start + 500])
            for r in self._rows(
                "SELECT building_id, label FROM addresses"
                f" WHERE building_id IN ({','.join('?' * len(chunk))}) ORDER BY fid",
                chunk,
            ):
                labels.setdefault(r[0], r[1])
        return labels

    def summary(self) -> dict[str, Any]:
        """Counts, the extent in the cadastre CRS, and the communes covered."""
        with self._borrow() as con:
            return self._summary(con)

    def _summary(self, con: sqlite3.Connection) -> dict[str, Any]:
        extent = con.execute(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'buildings'"
        ).fetchone()
        if extent is None or extent[0] is None:
            extent = con.execute(
                "SELECT min(minx), min(miny), max(maxx), max(maxy) FROM rtree_buildings_geom"
            ).fetchone()
        counts = con.execute(
            "SELECT count(*), coalesce(sum(kwc), 0), coalesce(sum(production_kwh_yr), 0)"
            " FROM buildings"
        ).fetchone()
        n_faces = con.execute("SELECT count(*) FROM roof_faces").fetchone()[0]
        n_addresses = (
            con.execute("SELECT count(*) FROM addresses").fetchone()[0] if self.has_addresses else 0
        )
        communes = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT commune_insee FROM buildings"
                " WHERE commune_insee IS NOT NULL ORDER BY 1"
            )
        ]
        return {
            "extent": tuple(extent),
            "buildings": counts[0],
            "kwc": counts[1],
            "production_kwh_yr": counts[2],
            "faces": n_faces,
            "addresses": n_addresses,
            "communes": communes,
        }

    def close(self) -> None:
        """Close every connection, whichever thread opened it; call it once no query runs."""
        with self._lock:
            opened, self._opened = self._opened, []
        for con in opened:
            con.close()
        self._local = threading.local()
        self._idle = queue.LifoQueue()


def _read_layer(path: Path, layer: str, crs: CRS) -> GeoTable | None:
    """One spatial layer of a cadastre, reprojected to ``crs``; None if it is absent."""
    if layer not in {name for name, _ in pyogrio.list_layers(path)}:
        return None
    meta, _, wkb, values = pyogrio.raw.read(path, layer=layer)
    geometry = shapely.from_wkb(wkb)
    source = CRS.from_user_input(meta["crs"])
    if source != crs:
        transformer = Transformer.from_crs(source, crs, always_xy=True)
        geometry = shapely.transform(
            geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
    return GeoTable(geometry, dict(zip(meta["fields"], values, strict=True)), meta["geometry_type"])


def merge_cadastres(
    parts: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], *, crs: CRS
) -> Path:
    """Merge cadastres built separately (other CRSs, other samples) into one.

    Attribute values (areas, tilts, energies) were measured in each part's own projected
    CRS and are kept as they are; only the geometries are reprojected to ``crs``. Ids must
    not collide across parts.

    Returns
    -------
    pathlib.Path
        The merged GeoPackage, written atomically.
    """
    layers: dict[str, list[GeoTable]] = {"buildings": [], "roof_faces": [], "addresses": []}
    monthly: dict[str, list[Any]] = {k: [] for k in MONTHLY_FIELDS}
    face_ids: list[str] = []
    blobs: list[bytes] = []
    sites: list[ProductionSite] = []
    part_provenance = []
    for part in map(Path, parts):
        for name, tables in layers.items():
            table = _read_layer(part, name, crs)
            if table is not None:
                tables.append(table)
        store = Cadastre(part)
        try:
            for face_id, light, packed in store._rows(
                "SELECT f.face_id, s.light, s.monthly FROM roof_faces f"
                " JOIN face_series s ON s.fid = f.fid"
            ):
                if light is not None:
                    face_ids.append(face_id)
                    blobs.append(light)
                if packed is not None:
                    irradiation, production = _unpack_monthly(packed)
                    monthly["face_id"] += [face_id] * 12
                    monthly["month"] += list(range(1, 13))
                    monthly["irradiation_kwh_m2"] += irradiation
                    monthly["production_kwh"] += production
            if blobs:
                sites.append(store.production_site())
            part_provenance.append({"part": part.name, **store.provenance()})
        finally:
            store.close()

    for name, id_field in (("buildings", "building_id"), ("addresses", "address_id")):
        counts = Counter(i for t in layers[name] for i in np.asarray(t.fields[id_field]).tolist())
        clash = sorted(i for i, n in counts.items() if n > 1)[:5]
        if clash:
            raise InputError(f"{id_field} {', '.join(map(str, clash))} appear in several parts")

    shared = {json.dumps(_comparable(site), sort_keys=True) for site in sites}
    if len(shared) > 1:
        raise InputError("the parts were built with different weather, modules or losses")

    def concat(tables: list[GeoTable], names: Sequence[str]) -> GeoTable:
        return GeoTable(
            np.concatenate([t.geometry for t in tables]),
            {n: np.concatenate([np.asarray(t.fields[n]) for t in tables]) for n in names},
            tables[0].geometry_type,
        )

    return write_cadastre(
        out,
        crs=crs,
        buildings=concat(layers["buildings"], BUILDING_FIELDS),
        faces=concat(layers["roof_faces"], FACE_FIELDS),
        addresses=concat(layers["addresses"], ADDRESS_FIELDS) if layers["addresses"] else None,
        monthly={k: np.asarray(v) for k, v in monthly.items()},
        profiles=FaceProfiles(face_ids, blobs),
        provenance={"parts": part_provenance},
        site=sites[0] if sites else None,
    )


def _comparable(site: ProductionSite) -> dict[str, Any]:
    """The fields of a site that its production depends on, the weather as a digest."""
    fields = face_profiles.site_fields(site)
    fields["weather"] = hashlib.sha256(fields["weather"]).hexdigest()
    fields.pop("weather_source")
    return fields
