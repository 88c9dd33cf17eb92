"""The cadastre store: one GeoPackage that QGIS opens as it is.

Layers (spatial, in the surface model's projected CRS):

- ``buildings``: footprint polygons, one row per building.
- ``roof_faces``: face outlines (plan), one row per roof face.
- ``addresses``: BAN address points, linked to the building under them.

Tables (attributes only, registered in ``gpkg_contents`` so that QGIS lists them):

- ``roof_faces_monthly``: per face and month, irradiation and production.
- ``face_profiles``: per face, the 8760-hour AC production profile, compact.
- ``provenance``: source files, their dates, the weather file, the code version.

The file is written to a temporary path beside the target and renamed into place, so a
failed build never leaves a half-written cadastre.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import shapely
from pyproj import Transformer
from rasterio.crs import CRS

from solar.calendar import HOURS_PER_YEAR
from solar.errors import InputError, NotFound

#: Profiles are stored as hourly energy per kWc, in units of PROFILE_SCALE kWh/kWc, as
#: zlib-compressed little-endian uint16. One unit is 1e-4 kWh/kWc: the rounding error
#: on an annual total stays below 0.5 kWh/kWc, and night hours compress to almost nothing.
PROFILE_SCALE = 1e-4
PROFILE_ENCODING = "zlib-uint16le-1e-4-kwh-per-kwc"

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
        over bare ground, with no face.
    footprint_shift_m : float or None
        Length of the shift of a ``shifted`` footprint, None otherwise. [m]
    geometry : shapely.Polygon or shapely.MultiPolygon
        The footprint as the source gives it, in the cadastre's CRS (the layer's geometry,
        not an attribute).
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
        Irradiation received by the module plane, shading included. [kWh m-2 yr-1]
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
        ``excellent``, ``good``, ``fair``, ``poor`` or ``unsuitable``.
    geometry : shapely.Polygon or shapely.MultiPolygon
        The face's outline seen from above, in the cadastre's CRS.
    production_monthly_kwh, irradiation_monthly_kwh_m2 : tuple of float
        Per calendar month, from the ``roof_faces_monthly`` table; empty when the record
        was read without them. [kWh], [kWh m-2]
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
    """Hourly production of each face per kWc installed, packed by :func:`encode_profile`.

    Packed, not raw, because a tile of 10,000 faces holds 350 MB of float32 profiles but
    about 50 MB of blobs, and tiles travel between Dask workers.

    Attributes
    ----------
    face_ids : sequence of str
    blobs : sequence of bytes
        One :func:`encode_profile` blob per face.
    """

    face_ids: Sequence[str]
    blobs: Sequence[bytes]


def encode_profile(specific_kwh_per_kwc: np.ndarray) -> bytes:
    """Pack one 8760-hour profile per kWc into a compact blob.

    Examples
    --------
    >>> profile = np.zeros(8760); profile[12] = 0.61234
    >>> round(float(decode_profile(encode_profile(profile))[12]), 6)
    0.6123
    """
    values = np.asarray(specific_kwh_per_kwc, dtype=np.float64)
    if values.shape != (HOURS_PER_YEAR,):
        raise ValueError(f"a profile has {HOURS_PER_YEAR} hours, got shape {values.shape}")
    # clip: an hourly energy per kWc above 6.5 kWh cannot happen (1 kWc gives ~1 kWh/h at most)
    units = np.clip(np.rint(values / PROFILE_SCALE), 0, np.iinfo(np.uint16).max)
    # level 1: four times faster than the default for a blob only 10% larger
    return zlib.compress(units.astype("<u2").tobytes(), 1)


def decode_profile(blob: bytes) -> np.ndarray:
    """Unpack a blob from :func:`encode_profile` to 8760 float64 values. [kWh kWc-1]"""
    units = np.frombuffer(zlib.decompress(blob), dtype="<u2")
    return units.astype(np.float64) * PROFILE_SCALE


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
        Columns of ``roof_faces_monthly`` (``MONTHLY_FIELDS``).
    profiles : FaceProfiles
        The hourly production per kWc of each face.
    provenance : Mapping[str, Any]
        Key-value pairs; values that are not strings are stored as JSON.

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
        _write_tables(tmp_name, monthly, profiles, provenance, with_addresses=addresses is not None)
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
    provenance: Mapping[str, Any],
    *,
    with_addresses: bool,
) -> None:
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(
                "CREATE TABLE roof_faces_monthly (face_id TEXT NOT NULL, month INTEGER NOT NULL,"
                " irradiation_kwh_m2 REAL, production_kwh REAL, PRIMARY KEY (face_id, month))"
            )
            rows = zip(*(np.asarray(monthly[f]).tolist() for f in MONTHLY_FIELDS), strict=True)
            con.executemany("INSERT INTO roof_faces_monthly VALUES (?, ?, ?, ?)", rows)
            _register_attributes_table(
                con, "roof_faces_monthly", "Monthly irradiation [kWh/m2] and production [kWh]"
            )

            con.execute(
                "CREATE TABLE face_profiles (face_id TEXT PRIMARY KEY, encoding TEXT NOT NULL,"
                " profile BLOB NOT NULL)"
            )
            con.executemany(
                "INSERT INTO face_profiles VALUES (?, ?, ?)",
                (
                    (face_id, PROFILE_ENCODING, blob)
                    for face_id, blob in zip(profiles.face_ids, profiles.blobs, strict=True)
                ),
            )
            _register_attributes_table(
                con, "face_profiles", f"Hourly AC production per kWc, 8760 h ({PROFILE_ENCODING})"
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
            con.execute("CREATE UNIQUE INDEX idx_roof_faces_id ON roof_faces (face_id)")
            con.execute("CREATE INDEX idx_roof_faces_building ON roof_faces (building_id)")
            if with_addresses:
                con.execute("CREATE UNIQUE INDEX idx_addresses_id ON addresses (address_id)")
        con.execute("VACUUM")
    finally:
        con.close()


def _geometry_from_gpkg(blob: bytes) -> shapely.Geometry:
    """Decode a GeoPackage geometry blob (GPKG header, then WKB)."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    envelope_bytes = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0b111]
    return shapely.from_wkb(blob[8 + envelope_bytes :])


def _building_record(row: sqlite3.Row) -> BuildingRecord:
    return BuildingRecord(
        **{name: row[name] for name in BUILDING_FIELDS}, geometry=_geometry_from_gpkg(row["geom"])
    )


def _face_record(
    row: sqlite3.Row,
    production_monthly_kwh: tuple[float, ...] = (),
    irradiation_monthly_kwh_m2: tuple[float, ...] = (),
) -> FaceRecord:
    values = {name: row[name] for name in FACE_FIELDS}
    values["is_flat"] = bool(values["is_flat"])  # SQLite keeps booleans as integers
    return FaceRecord(
        **values,
        geometry=_geometry_from_gpkg(row["geom"]),
        production_monthly_kwh=production_monthly_kwh,
        irradiation_monthly_kwh_m2=irradiation_monthly_kwh_m2,
    )


def _address_record(row: sqlite3.Row) -> AddressRecord:
    return AddressRecord(
        **{name: row[name] for name in ADDRESS_FIELDS}, geometry=_geometry_from_gpkg(row["geom"])
    )


class Cadastre:
    """Read-only access to a cadastre GeoPackage, safe across threads.

    Each thread gets its own SQLite connection, opened read-only on first use: no handle
    is ever shared between threads.

    Parameters
    ----------
    path : path-like
        A GeoPackage written by :func:`write_cadastre`.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError("no cadastre at this path", source=str(self.path))
        self._local = threading.local()
        try:
            row = (
                self._con()
                .execute(
                    "SELECT s.definition FROM gpkg_geometry_columns g JOIN gpkg_spatial_ref_sys s"
                    " ON g.srs_id = s.srs_id WHERE g.table_name = 'buildings'"
                )
                .fetchone()
            )
        except sqlite3.DatabaseError as exc:
            raise InputError(f"not a cadastre GeoPackage ({exc})", source=str(self.path)) from exc
        if row is None:
            raise InputError("not a cadastre GeoPackage (no buildings layer)", source=str(path))
        self.crs = CRS.from_wkt(row[0])
        for layer, expected in (("buildings", BUILDING_FIELDS), ("roof_faces", FACE_FIELDS)):
            present = {r[1] for r in self._con().execute(f"PRAGMA table_info({layer})")}
            missing = [name for name in expected if name not in present]
            if missing:
                raise InputError(
                    f"written by another version of the cadastre: its {layer} layer lacks "
                    f"{', '.join(missing)}; build it again",
                    source=str(self.path),
                )
        self.has_addresses = bool(
            self._con()
            .execute("SELECT 1 FROM gpkg_contents WHERE table_name = 'addresses'")
            .fetchone()
        )

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            con.row_factory = sqlite3.Row
            self._local.con = con
        return con

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._con().execute(sql, params).fetchall()

    def building(self, building_id: str) -> BuildingRecord:
        """The building's record; NotFound when the id is unknown."""
        rows = self._rows("SELECT * FROM buildings WHERE building_id = ?", (building_id,))
        if not rows:
            raise NotFound(f"no building with id {building_id!r}")
        return _building_record(rows[0])

    def faces(self, building_id: str) -> list[FaceRecord]:
        """The building's roof faces, each with its monthly production and irradiation."""
        rows = self._rows(
            "SELECT * FROM roof_faces WHERE building_id = ? ORDER BY face_id", (building_id,)
        )
        if not rows:
            return []
        face_ids = [r["face_id"] for r in rows]
        production = {face_id: [0.0] * 12 for face_id in face_ids}
        irradiation = {face_id: [0.0] * 12 for face_id in face_ids}
        for r in self._rows(
            f"SELECT * FROM roof_faces_monthly WHERE face_id IN ({','.join('?' * len(rows))})",
            face_ids,
        ):
            production[r["face_id"]][r["month"] - 1] = r["production_kwh"]
            irradiation[r["face_id"]][r["month"] - 1] = r["irradiation_kwh_m2"]
        return [
            _face_record(
                r,
                production_monthly_kwh=tuple(production[r["face_id"]]),
                irradiation_monthly_kwh_m2=tuple(irradiation[r["face_id"]]),
            )
            for r in rows
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

    def profiles(self, face_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Hourly production per kWc of the given faces. [kWh kWc-1]"""
        if not face_ids:
            return {}
        marks = ",".join("?" * len(face_ids))
        rows = self._rows(
            f"SELECT face_id, encoding, profile FROM face_profiles WHERE face_id IN ({marks})",
            list(face_ids),
        )
        out = {}
        for r in rows:
            if r["encoding"] != PROFILE_ENCODING:
                raise ValueError(f"unknown profile encoding {r['encoding']!r}")
            out[r["face_id"]] = decode_profile(r["profile"])
        return out

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

    def summary(self) -> dict[str, Any]:
        """Counts, the extent in the cadastre CRS, and the communes covered."""
        con = self._con()
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
        """Close this thread's connection (other threads close theirs on exit)."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None


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
    part_provenance = []
    for part in map(Path, parts):
        for name, tables in layers.items():
            table = _read_layer(part, name, crs)
            if table is not None:
                tables.append(table)
        con = sqlite3.connect(f"{part.resolve().as_uri()}?mode=ro", uri=True)
        try:
            for row in con.execute(f"SELECT {', '.join(MONTHLY_FIELDS)} FROM roof_faces_monthly"):
                for key, value in zip(MONTHLY_FIELDS, row, strict=True):
                    monthly[key].append(value)
            for face_id, blob in con.execute("SELECT face_id, profile FROM face_profiles"):
                face_ids.append(face_id)
                blobs.append(blob)
        finally:
            con.close()
        part_provenance.append({"part": part.name, **Cadastre(part).provenance()})

    for name, id_field in (("buildings", "building_id"), ("addresses", "address_id")):
        counts = Counter(i for t in layers[name] for i in np.asarray(t.fields[id_field]).tolist())
        clash = sorted(i for i, n in counts.items() if n > 1)[:5]
        if clash:
            raise InputError(f"{id_field} {', '.join(map(str, clash))} appear in several parts")

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
    )
