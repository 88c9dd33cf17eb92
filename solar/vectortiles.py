"""Vector tiles of the roofs: Mapbox Vector Tiles (MVT 2.1) in Web Mercator, in a PMTiles
archive beside the cadastre.

Two layers, ``faces`` (roof faces) and ``buildings`` (footprints), carry what the map
colours and what a click needs (:data:`FACE_PROPERTIES`, :data:`BUILDING_PROPERTIES`).

Why pre-generated, and why this encoder: on a territory-size cadastre (about 1 M faces),
a zoom-14 tile of a dense town holds about 20,000 faces. ``mapbox_vector_tile.encode``
takes about 300 µs per roof face (measured on the demo's faces), so such a tile would
take seconds on request, far over the 30 ms a map needs. The tiles are therefore made at
build time, a whole zoom at once: the geometry of every feature is quantised and turned
into MVT commands with numpy array operations, and only the protobuf framing runs per
feature, a few µs each. ``scripts/bench_tiles.py`` measures both ways. The archive is
read back by :class:`RoofArchive` with positioned reads of the file and a small cache of
directories, so the service answers a tile in well under a millisecond.

Conventions (MVT 2.1): 4096 units per tile side; y grows downwards; an exterior ring has a
positive surveyor's area in tile coordinates (clockwise on screen), a hole a negative one.
A feature goes into every tile its bounding box meets, whole and not clipped: each tile
holds the complete outline, and the map clips when it draws.

>>> tile_bounds(0, 0, 0)[2] == HALF_WORLD
True
"""

from __future__ import annotations

import gzip
import json
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pmtiles.tile import (
    Compression,
    Entry,
    TileType,
    deserialize_directory,
    deserialize_header,
    find_tile,
    zxy_to_tileid,
)
from pmtiles.writer import Writer
from pyproj import Transformer

from solar.cadastre import Cadastre
from solar.geometry import polygonal_parts

WEB_MERCATOR = "EPSG:3857"
HALF_WORLD = 20037508.342789244
"""Half the side of the Web Mercator square. [m]"""
EXTENT = 4096
"""Tile units per tile side."""

MIN_ZOOM = 14
"""The lowest zoom in the archive, buildings only: a town in a few tiles. At 13 a tile of
the benchmark territory (``scripts/bench_tiles.py``) held 878 kB of footprints."""
FACES_MIN_ZOOM = 16
"""The lowest zoom with the ``faces`` layer. A face is 2 to 4 screen pixels wide at 15 and
a z15 tile of the benchmark territory held 405 kB: a denser town would pass 500 kB. A
building's colour says enough below."""
MAX_ZOOM = 16
"""The highest zoom in the archive: a unit is 15 cm of Mercator there (10 cm on the ground
at 50° N), finer than the 0.5 m grid the faces come from; the map overzooms beyond."""

SIMPLIFY_UNITS = 4.0
"""Douglas-Peucker tolerance below :data:`MAX_ZOOM`, in tile units: half a screen pixel of
a 512-pixel tile, so invisible, and the outlines' 0.5 m pixel staircases disappear."""
SIMPLIFY_UNITS_TOP = 1.0
"""The tolerance from :data:`MAX_ZOOM` on, where the map enlarges the tiles up to 8 times:
15 cm of Mercator, under the 0.5 m grid the outlines come from."""

ARCHIVE_SUFFIX = ".roofs.pmtiles"
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

FACE_PROPERTIES = (
    "face_id",
    "building_id",
    "suitability",
    "kwc",
    "irradiation_kwh_m2_yr",
    "is_flat",
)
BUILDING_PROPERTIES = ("building_id", "suitability", "kwc", "footprint_check")

_LAYERS = {
    "faces": ("roof_faces", FACE_PROPERTIES, FACES_MIN_ZOOM),
    "buildings": ("buildings", BUILDING_PROPERTIES, MIN_ZOOM),
}


def archive_path(cadastre_path: str | os.PathLike[str]) -> Path:
    """Where the roofs' archive of a cadastre lives: ``<name>.roofs.pmtiles`` beside it.

    >>> archive_path("data/artois.gpkg").as_posix()
    'data/artois.roofs.pmtiles'
    """
    return Path(cadastre_path).with_suffix(ARCHIVE_SUFFIX)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The Web Mercator box of an XYZ tile: (minx, miny, maxx, maxy). [m]"""
    size = 2.0 * HALF_WORLD / (1 << z)
    minx = -HALF_WORLD + x * size
    maxy = HALF_WORLD - y * size
    return (minx, maxy - size, minx + size, maxy)


def valid_tile(z: int, x: int, y: int) -> bool:
    """Whether z/x/y names a tile: 0 ≤ z ≤ 30 and 0 ≤ x, y < 2^z.

    >>> valid_tile(14, 8300, 5460), valid_tile(2, 4, 0), valid_tile(-1, 0, 0)
    (True, False, False)
    """
    return 0 <= z <= 30 and 0 <= x < (1 << z) and 0 <= y < (1 << z)


# ------------------------------------------------------------------------ features


@dataclass(frozen=True, eq=False)
class MapLayer:
    """The features of one tile layer, in Web Mercator.

    Attributes
    ----------
    name : str
        ``faces`` or ``buildings``.
    geometry : numpy.ndarray
        Valid Polygons and MultiPolygons, exterior rings clockwise (y up) so that they
        come out positive in tile coordinates (y down).
    properties : Mapping[str, numpy.ndarray]
        One column per property; a NaN float or a None is left out of its feature.
    min_zoom : int
        The lowest zoom at which the layer is in a tile.
    """

    name: str
    geometry: np.ndarray
    properties: Mapping[str, np.ndarray]
    min_zoom: int
    _simplified: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _values: list[_ValueTable] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.geometry)

    def value_table(self) -> _ValueTable:
        """The MVT ``Value`` messages of the features' properties, made once."""
        if not self._values:
            self._values.append(_ValueTable.of(self.properties.values(), len(self)))
        return self._values[0]

    def at_zoom(self, z: int) -> np.ndarray:
        """The geometry as drawn at zoom ``z``, simplified (:data:`SIMPLIFY_UNITS`)."""
        if z not in self._simplified:
            unit = 2.0 * HALF_WORLD / (1 << z) / EXTENT
            units = SIMPLIFY_UNITS if z < MAX_ZOOM else SIMPLIFY_UNITS_TOP
            simple = shapely.simplify(self.geometry, units * unit)
            # one zoom at a time: a territory's geometry is gigabytes
            self._simplified.clear()
            self._simplified[z] = shapely.orient_polygons(simple, exterior_cw=True)
        return self._simplified[z]


def map_layers(
    cadastre: Cadastre, bounds: tuple[float, float, float, float] | None = None
) -> list[MapLayer]:
    """The ``faces`` and ``buildings`` layers of a cadastre, whole or in a Mercator box.

    Geometries are made valid (:func:`shapely.make_valid`, polygonal part) before they are
    reprojected: a face outline traced on pixels can touch itself.

    Parameters
    ----------
    cadastre : Cadastre
    bounds : tuple of float, optional
        (minx, miny, maxx, maxy) in Web Mercator [m]: only the features whose envelope
        meets it, found with the layers' R-tree indexes.
    """
    to_mercator = Transformer.from_crs(cadastre.crs, WEB_MERCATOR, always_xy=True)
    params = tuple[float, ...]()
    if bounds is not None:
        box = to_mercator.transform_bounds(
            bounds[0], bounds[1], bounds[2], bounds[3], densify_pts=5, direction="INVERSE"
        )
        params = (box[0], box[2], box[1], box[3])
    layers = []
    for name, (_, properties, min_zoom) in _LAYERS.items():
        rows = cadastre._rows(layer_query(name, in_box=bounds is not None), params)
        geometry = _from_gpkg_blobs([r[0] for r in rows])
        columns = {
            p: np.array([r[i + 1] for r in rows], dtype=object) for i, p in enumerate(properties)
        }
        if "is_flat" in columns:
            columns["is_flat"] = columns["is_flat"].astype(bool)
        for number in ("kwc", "irradiation_kwh_m2_yr"):
            if number in columns:
                columns[number] = np.array(
                    [np.nan if v is None else v for v in columns[number]], dtype=np.float64
                )
        layers.append(
            MapLayer(name, _to_mercator(geometry, to_mercator), columns, min_zoom=min_zoom)
        )
    return layers


def layer_query(layer: str, *, in_box: bool) -> str:
    """The SQL that reads a tile layer's rows, all of them or those in a box.

    In a box, the layer's R-tree finds the rows: ``EXPLAIN QUERY PLAN`` shows no scan of
    the table (``scripts/bench_tiles.py`` checks it). The parameters are the box's
    (minx, maxx, miny, maxy) in the cadastre's CRS.
    """
    table, properties, _ = _LAYERS[layer]
    columns = ", ".join(("t.geom", *(f"t.{p}" for p in properties)))
    if not in_box:
        return f"SELECT {columns} FROM {table} t ORDER BY t.fid"
    return (
        f"SELECT {columns} FROM rtree_{table}_geom r JOIN {table} t ON t.fid = r.id"
        " WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ? ORDER BY t.fid"
    )


def _from_gpkg_blobs(blobs: Sequence[bytes]) -> np.ndarray:
    """Geometries of GeoPackage blobs (a header with an optional envelope, then WKB)."""
    envelope = (0, 32, 48, 48, 64)
    wkb = [b[8 + envelope[(b[3] >> 1) & 0b111] :] for b in blobs]
    return shapely.from_wkb(wkb) if wkb else np.empty(0, dtype=object)


def _to_mercator(geometry: np.ndarray, transformer: Transformer) -> np.ndarray:
    invalid = ~shapely.is_valid(geometry)
    if invalid.any():
        geometry = geometry.copy()
        geometry[invalid] = polygonal_parts(shapely.make_valid(geometry[invalid]))

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    projected = shapely.transform(geometry, project)
    return shapely.orient_polygons(projected, exterior_cw=True)


# ------------------------------------------------------------------------ encoding


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


#: Varints of the small numbers every tile is full of: tag numbers and message lengths.
_SMALL_VARINTS = [_encode_varint(n) for n in range(1 << 14)]


def _varint(value: int) -> bytes:
    return _SMALL_VARINTS[value] if value < 1 << 14 else _encode_varint(value)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _SMALL_VARINTS[number << 3 | 2] + _varint(len(payload)) + payload


def _packed_varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Varint bytes of integers in [0, 2^35), and the byte count of each.

    Returns
    -------
    tuple of numpy.ndarray
        The bytes (uint8) of all values in order, and each value's length in bytes.

    Examples
    --------
    >>> data, lengths = _packed_varints(np.array([1, 300]))
    >>> data.tobytes(), lengths.tolist()
    (b'\\x01\\xac\\x02', [1, 2])
    """
    v = values.astype(np.int64)
    lengths = _varint_lengths(v)
    start = np.cumsum(lengths) - lengths
    out = np.empty(int(lengths.sum()), dtype=np.uint8)
    for k in range(5):
        has = np.flatnonzero(lengths > k)
        if not len(has):
            break
        group = (v[has] >> (7 * k)) & 0x7F
        out[start[has] + k] = group | np.where(lengths[has] > k + 1, 0x80, 0)
    return out, lengths


def _zigzag(n: np.ndarray) -> np.ndarray:
    return (n << 1) ^ (n >> 63)


def _value_message(value: Any) -> bytes | None:
    """An MVT ``Value`` message; None for a missing value."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return b"\x38" + (b"\x01" if value else b"\x00")
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return None
        return b"\x19" + np.float64(value).tobytes()  # little-endian double, as protobuf
    return _field(1, str(value).encode())


def _column_messages(column: np.ndarray) -> list[bytes | None]:
    """:func:`_value_message` of each value of a column; a numeric column at once."""
    if column.dtype == np.float64:
        raw = column.astype("<f8").tobytes()
        finite = np.isfinite(column).tolist()
        return [b"\x19" + raw[8 * k : 8 * k + 8] if ok else None for k, ok in enumerate(finite)]
    if column.dtype == np.bool_:
        return [b"\x38\x01" if v else b"\x38\x00" for v in column.tolist()]
    # a value's message once per distinct value, keyed by its type too (True == 1 == 1.0)
    made: dict[tuple[type, Any], bytes | None] = {}
    messages = []
    for value in column.tolist():
        key = (type(value), value)
        if key not in made:
            made[key] = _value_message(value)
        messages.append(made[key])
    return messages


@dataclass(frozen=True, eq=False)
class _ValueTable:
    """The properties of a layer's features as indices into their distinct messages.

    Attributes
    ----------
    ids : numpy.ndarray
        (n_features, n_properties) int64: the index of each value's message in
        ``messages``; -1 for a missing value.
    messages : list of bytes
        The distinct ``Value`` messages, each once (the same bytes from two properties
        are one value of a tile).
    fields : list of bytes
        Each message framed as a layer's ``values`` field.
    """

    ids: np.ndarray
    messages: list[bytes]
    fields: list[bytes]

    @classmethod
    def of(cls, columns: Iterable[np.ndarray], n_features: int) -> _ValueTable:
        index: dict[bytes, int] = {}
        ids = [
            [-1 if m is None else index.setdefault(m, len(index)) for m in _column_messages(c)]
            for c in columns
        ]
        table = np.array(ids, dtype=np.int64).reshape(len(ids), n_features).T
        messages = list(index)
        return cls(np.ascontiguousarray(table), messages, [_field(4, m) for m in messages])


@dataclass(frozen=True)
class _Commands:
    """MVT geometry commands of a batch of (feature, tile) pairs."""

    data: np.ndarray  # varint bytes of every pair's commands, in pair order
    start: np.ndarray  # byte offset of each pair in ``data``
    length: np.ndarray  # byte count of each pair; 0 when nothing survived quantisation


def _commands(
    geometry: np.ndarray,
    feature: np.ndarray,
    origin_x: np.ndarray,
    origin_y: np.ndarray,
    unit: float,
) -> _Commands:
    """Quantise the geometry of each (feature, tile) pair and write its MVT commands.

    Parameters
    ----------
    geometry : numpy.ndarray
        The layer's geometries (Web Mercator, exterior rings clockwise).
    feature : numpy.ndarray
        Index into ``geometry`` of each pair.
    origin_x, origin_y : numpy.ndarray
        Top-left corner of each pair's tile. [m]
    unit : float
        Tile unit. [m]
    """
    n_pairs = len(feature)
    # only the batch's features: a batch is a few tiles of a territory of a million faces
    used, feature = np.unique(feature, return_inverse=True)
    geometry = geometry[used]
    parts, part_feature = shapely.get_parts(geometry, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    ring_feature = part_feature[ring_part]
    # first ring and first coordinate of each feature (features own consecutive rings)
    rings_per_feature = np.bincount(ring_feature, minlength=len(geometry))
    coords_per_ring = np.bincount(coord_ring, minlength=len(rings))
    ring_first = np.concatenate(([0], np.cumsum(rings_per_feature)))
    coord_first_of_ring = np.concatenate(([0], np.cumsum(coords_per_ring)))
    coord_first = coord_first_of_ring[ring_first]
    counts = coord_first[feature + 1] - coord_first[feature]
    total = int(counts.sum())
    pair = np.repeat(np.arange(n_pairs), counts)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    index = coord_first[feature][pair] + within
    ring = coord_ring[index]
    # an exterior ring is the first of its part
    is_exterior_ring = np.ones(len(rings), dtype=bool)
    is_exterior_ring[1:] = ring_part[1:] != ring_part[:-1]

    qx = np.rint((coords[index, 0] - origin_x[pair]) / unit).astype(np.int64)
    qy = np.rint((origin_y[pair] - coords[index, 1]) / unit).astype(np.int64)

    # one ring occurrence per (pair, ring): a new one where either changes
    new_ring = np.ones(total, dtype=bool)
    new_ring[1:] = (pair[1:] != pair[:-1]) | (ring[1:] != ring[:-1])
    last_of_ring = np.ones(total, dtype=bool)
    last_of_ring[:-1] = new_ring[1:]
    # drop the closing point (MVT closes rings itself), then points repeated by rounding
    keep = ~last_of_ring
    repeated = np.zeros(total, dtype=bool)
    repeated[1:] = ~new_ring[1:] & (qx[1:] == qx[:-1]) & (qy[1:] == qy[:-1])
    keep &= ~repeated
    qx, qy, pair, ring = qx[keep], qy[keep], pair[keep], ring[keep]
    occ_start = np.flatnonzero(new_ring[keep])
    n_occ = len(occ_start)
    occ_size = np.diff(np.append(occ_start, len(qx)))
    occ_pair, occ_ring = pair[occ_start], ring[occ_start]
    # surveyor's area in tile coordinates (y down): twice the signed area
    nxt = np.arange(len(qx)) + 1
    ends = occ_start + occ_size
    nxt[ends - 1] = occ_start
    cross = qx * qy[nxt] - qx[nxt] * qy
    area2 = np.add.reduceat(cross, occ_start) if n_occ else np.zeros(0, dtype=np.int64)
    exterior = is_exterior_ring[occ_ring]
    good = (occ_size >= 3) & np.where(exterior, area2 > 0, area2 < 0)
    # a hole whose exterior did not survive goes with it; the rings of a part follow its
    # exterior, so the last exterior at or before a ring owns it
    owner = np.maximum.accumulate(np.where(exterior, np.arange(n_occ), 0))
    ring_kept = good & good[owner]
    point_kept = np.repeat(ring_kept, occ_size)
    qx, qy, pair = qx[point_kept], qy[point_kept], pair[point_kept]
    occ_size, occ_pair = occ_size[ring_kept], occ_pair[ring_kept]

    # deltas from the cursor, which starts at (0, 0) for each feature of a tile
    first_of_pair = np.ones(len(qx), dtype=bool)
    first_of_pair[1:] = pair[1:] != pair[:-1]
    dx = np.diff(qx, prepend=0)
    dy = np.diff(qy, prepend=0)
    dx[first_of_pair] = qx[first_of_pair]
    dy[first_of_pair] = qy[first_of_pair]

    # per ring: MoveTo(1) dx dy, LineTo(n-1) 2(n-1) deltas, ClosePath
    ints_per_ring = 2 * occ_size + 3
    ring_out = np.concatenate(([0], np.cumsum(ints_per_ring)))
    out = np.empty(int(ring_out[-1]), dtype=np.int64)
    starts = ring_out[:-1]
    out[starts] = 1 << 3 | 1
    out[starts + 3] = (occ_size - 1) << 3 | 2
    out[ring_out[1:] - 1] = 1 << 3 | 7
    point_ring = np.repeat(np.arange(len(occ_size)), occ_size)
    point_within = np.arange(len(qx)) - np.repeat(np.cumsum(occ_size) - occ_size, occ_size)
    position = starts[point_ring] + 1 + 2 * point_within + (point_within > 0)
    out[position] = _zigzag(dx)
    out[position + 1] = _zigzag(dy)

    data, lengths = _packed_varints(out)
    int_pair = np.repeat(occ_pair, ints_per_ring)
    pair_bytes = np.bincount(int_pair, weights=lengths, minlength=n_pairs).astype(np.int64)
    pair_start = np.concatenate(([0], np.cumsum(pair_bytes)[:-1]))
    return _Commands(data, pair_start, pair_bytes)


def _tile_pairs(geometry: np.ndarray, z: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (feature, x, y) whose tile at zoom ``z`` meets the feature's bounding box,
    sorted by tile."""
    size = 2.0 * HALF_WORLD / (1 << z)
    last = (1 << z) - 1
    bounds = shapely.bounds(geometry)
    ok = np.isfinite(bounds).all(axis=1)
    x0 = np.clip(np.floor((bounds[:, 0] + HALF_WORLD) / size), 0, last).astype(np.int64)
    x1 = np.clip(np.floor((bounds[:, 2] + HALF_WORLD) / size), 0, last).astype(np.int64)
    y0 = np.clip(np.floor((HALF_WORLD - bounds[:, 3]) / size), 0, last).astype(np.int64)
    y1 = np.clip(np.floor((HALF_WORLD - bounds[:, 1]) / size), 0, last).astype(np.int64)
    nx, ny = np.where(ok, x1 - x0 + 1, 0), np.where(ok, y1 - y0 + 1, 0)
    counts = nx * ny
    feature = np.repeat(np.arange(len(geometry)), counts)
    k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    x = x0[feature] + k % nx[feature]
    y = y0[feature] + k // nx[feature]
    order = np.lexsort((feature, y, x))
    return feature[order], x[order], y[order]


def _layer_messages(
    layer: MapLayer, z: int, feature: np.ndarray, x: np.ndarray, y: np.ndarray
) -> Iterator[tuple[tuple[int, int], bytes]]:
    """The layer message of each tile of the (feature, x, y) pairs, sorted by tile.

    Every tile of the batch is framed at once with array operations: each tile's values
    are numbered in the order its features first use them, and each feature's tags, the
    pairs (property, value number), become varints; only the layer's header and its
    values are joined tile by tile.
    """
    if len(feature) == 0:
        return
    size = 2.0 * HALF_WORLD / (1 << z)
    commands = _commands(
        layer.at_zoom(z), feature, -HALF_WORLD + x * size, HALF_WORLD - y * size, size / EXTENT
    )
    # features that rounded to nothing are left out of their tile
    kept = np.flatnonzero(commands.length > 0)
    if not len(kept):
        return
    tile = np.cumsum(np.concatenate(([0], (np.diff(x) != 0) | (np.diff(y) != 0))))[kept]
    table = layer.value_table()
    row, column = np.nonzero(table.ids[feature[kept]] >= 0)
    value = table.ids[feature[kept][row], column]
    # each tile's values numbered by first use: (tile, value) keys, in feature order
    n_values = max(len(table.messages), 1)
    keys, first, inverse = np.unique(
        tile[row] * n_values + value, return_index=True, return_inverse=True
    )
    by_use = np.argsort(first, kind="stable")
    used_tile = keys[by_use] // n_values
    tile_first = np.searchsorted(used_tile, used_tile, side="left")
    number = np.empty(len(keys), dtype=np.int64)
    number[by_use] = np.arange(len(keys)) - tile_first
    tags = np.empty(2 * len(row), dtype=np.int64)
    tags[0::2] = column
    tags[1::2] = number[inverse.ravel()]
    tag_data, tag_lengths = _packed_varints(tags)
    tag_bytes = np.bincount(np.repeat(row, 2), weights=tag_lengths, minlength=len(kept)).astype(
        np.int64
    )

    # feature: 0x12 len(inner) inner, with inner: 0x12 len(tags) tags 0x18 0x03 0x22
    # len(geometry) geometry (tags, type POLYGON, geometry)
    geometry_bytes = commands.length[kept]
    tag_varint = _varint_lengths(tag_bytes)
    geometry_varint = _varint_lengths(geometry_bytes)
    inner = 1 + tag_varint + tag_bytes + 3 + geometry_varint + geometry_bytes
    lengths = np.column_stack((inner, tag_bytes, geometry_bytes)).ravel()
    length_data, length_sizes = _packed_varints(lengths)
    length_start = (np.cumsum(length_sizes) - length_sizes).reshape(-1, 3)
    constants = np.frombuffer(b"\x12\x18\x03\x22", dtype=np.uint8)
    source = np.concatenate((constants, length_data, tag_data, commands.data))
    at_lengths = len(constants)
    at_tags = at_lengths + len(length_data)
    at_commands = at_tags + len(tag_data)
    tag_start = np.cumsum(tag_bytes) - tag_bytes
    segment_start = np.column_stack(
        (
            np.zeros(len(kept), dtype=np.int64),  # 0x12: a feature
            at_lengths + length_start[:, 0],
            np.zeros(len(kept), dtype=np.int64),  # 0x12: its tags
            at_lengths + length_start[:, 1],
            at_tags + tag_start,
            np.ones(len(kept), dtype=np.int64),  # 0x18 0x03 0x22
            at_lengths + length_start[:, 2],
            at_commands + commands.start[kept],
        )
    ).ravel()
    segment_length = np.column_stack(
        (
            np.ones(len(kept), dtype=np.int64),
            _varint_lengths(inner),
            np.ones(len(kept), dtype=np.int64),
            tag_varint,
            tag_bytes,
            np.full(len(kept), 3, dtype=np.int64),
            geometry_varint,
            geometry_bytes,
        )
    ).ravel()
    out_start = np.cumsum(segment_length) - segment_length
    gather = np.repeat(segment_start - out_start, segment_length) + np.arange(
        int(segment_length.sum())
    )
    data = source[gather].tobytes()

    feature_end = np.cumsum(1 + _varint_lengths(inner) + inner)
    tile_end = np.flatnonzero(np.append(tile[1:] != tile[:-1], True))
    value_end = np.searchsorted(used_tile, tile[tile_end], side="right")
    header = b"\x78\x02" + _field(1, layer.name.encode())  # version 2, name
    names = b"".join(_field(3, name.encode()) for name in layer.properties)
    extent = b"\x28" + _varint(EXTENT)
    values = keys[by_use] % n_values
    fields = table.fields
    byte_start = value_start = 0
    for last, byte_end, value_stop in zip(
        tile_end.tolist(), feature_end[tile_end].tolist(), value_end.tolist(), strict=True
    ):
        body = b"".join(
            (
                header,
                data[byte_start:byte_end],
                names,
                *(fields[v] for v in values[value_start:value_stop].tolist()),
                extent,
            )
        )
        p = int(kept[last])
        yield (int(x[p]), int(y[p])), body
        byte_start, value_start = byte_end, value_stop


def _varint_lengths(values: np.ndarray) -> np.ndarray:
    """The byte count of the varint of each integer in [0, 2^35)."""
    lengths = np.ones(len(values), dtype=np.int64)
    for k in range(1, 5):
        lengths += values >= 1 << (7 * k)
    return lengths


def encode_tile(layers: Sequence[MapLayer], z: int, x: int, y: int) -> bytes | None:
    """One MVT tile of the layers; None when no feature meets it.

    The same encoder as :func:`zoom_tiles`, for the features of one tile: what a service
    without an archive would run on each request.
    """
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    body = b""
    for layer in layers:
        if z < layer.min_zoom or not len(layer):
            continue
        bounds = shapely.bounds(layer.at_zoom(z))
        hit = np.flatnonzero(
            (bounds[:, 2] >= minx)
            & (bounds[:, 0] <= maxx)
            & (bounds[:, 3] >= miny)
            & (bounds[:, 1] <= maxy)
        )
        pairs = (hit, np.full(len(hit), x), np.full(len(hit), y))
        for _, message in _layer_messages(layer, z, *pairs):
            body += _field(3, message)
    return body or None


def zoom_tiles(
    layers: Sequence[MapLayer], z: int, batch: int = 50_000
) -> Iterator[tuple[int, int, bytes]]:
    """Every non-empty tile of zoom ``z``, as (x, y, MVT bytes), sorted by x then y.

    Features are encoded ``batch`` pairs at a time, cut at tile boundaries, to bound memory.
    """
    per_layer = []
    for layer in layers:
        if z < layer.min_zoom or not len(layer):
            continue
        feature, x, y = _tile_pairs(layer.at_zoom(z), z)
        per_layer.append((layer, feature, x, y))
    if not per_layer:
        return
    keys = np.unique(np.concatenate([x << 32 | y for _, _, x, y in per_layer]))
    # pairs up to each tile, all layers together: cut the tiles into batches of pairs
    pairs_before = np.zeros(len(keys), dtype=np.int64)
    for _, _, x, y in per_layer:
        pairs_before += np.searchsorted(x << 32 | y, keys, side="right")
    cuts = np.searchsorted(pairs_before, np.arange(batch, int(pairs_before[-1]), batch))
    for chunk in np.split(keys, np.unique(cuts[(cuts > 0) & (cuts < len(keys))])):
        messages: dict[int, bytes] = {}
        for layer, feature, x, y in per_layer:
            key = x << 32 | y
            lo = np.searchsorted(key, chunk[0], side="left")
            hi = np.searchsorted(key, chunk[-1], side="right")
            for (tx, ty), message in _layer_messages(layer, z, feature[lo:hi], x[lo:hi], y[lo:hi]):
                k = tx << 32 | ty
                messages[k] = messages.get(k, b"") + _field(3, message)
        for k in chunk.tolist():
            if k in messages:
                yield k >> 32, k & 0xFFFFFFFF, messages[k]


# ------------------------------------------------------------------------ archive


@dataclass(frozen=True)
class ArchiveSummary:
    """What :func:`write_archive` wrote.

    Attributes
    ----------
    path : pathlib.Path
    tiles : int
        Tiles written (empty tiles are not).
    largest_bytes : int
        The largest tile, uncompressed. [bytes]
    bytes : int
        The archive's size. [bytes]
    """

    path: Path
    tiles: int
    largest_bytes: int
    bytes: int


def write_archive(
    cadastre_path: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    min_zoom: int = MIN_ZOOM,
    max_zoom: int = MAX_ZOOM,
    progress: Callable[[str, int, int], None] | None = None,
) -> ArchiveSummary:
    """Write the roofs' vector tiles of a cadastre into a PMTiles archive, atomically.

    Parameters
    ----------
    cadastre_path : path-like
    out : path-like, optional
        By default :func:`archive_path` of the cadastre.
    min_zoom, max_zoom : int
    progress : callable, optional
        Called with (stage, done, total), once per zoom.

    Returns
    -------
    ArchiveSummary
    """
    target = Path(out) if out is not None else archive_path(cadastre_path)
    store = Cadastre(cadastre_path)
    try:
        layers = map_layers(store)
        lon_lat = Transformer.from_crs(store.crs, "EPSG:4326", always_xy=True)
        minx, miny, maxx, maxy = store.summary()["extent"]
        extent = lon_lat.transform_bounds(minx, miny, maxx, maxy, densify_pts=21)
    finally:
        store.close()
    entries: list[tuple[int, bytes]] = []
    largest = 0
    zooms = range(min_zoom, max_zoom + 1)
    for done, z in enumerate(zooms):
        if progress:
            progress("roof tiles", done, len(zooms))
        for x, y, tile in zoom_tiles(layers, z):
            largest = max(largest, len(tile))
            entries.append((zxy_to_tileid(z, x, y), gzip.compress(tile, compresslevel=6, mtime=0)))
    if progress:
        progress("roof tiles", len(zooms), len(zooms))
    entries.sort(key=lambda e: e[0])
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            writer = Writer(f)
            for tile_id, data in entries:
                writer.write_tile(tile_id, data)
            writer.finalize(_header(extent), _metadata(layers, min_zoom, max_zoom))
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return ArchiveSummary(target, len(entries), largest, target.stat().st_size)


def _header(extent: Sequence[float]) -> dict[str, Any]:
    w, s, e, n = extent
    return {
        "tile_compression": Compression.GZIP,
        "tile_type": TileType.MVT,
        "min_lon_e7": int(w * 1e7),
        "min_lat_e7": int(s * 1e7),
        "max_lon_e7": int(e * 1e7),
        "max_lat_e7": int(n * 1e7),
        "center_zoom": MIN_ZOOM,
        "center_lon_e7": int((w + e) / 2 * 1e7),
        "center_lat_e7": int((s + n) / 2 * 1e7),
    }


def _metadata(layers: Sequence[MapLayer], min_zoom: int, max_zoom: int) -> dict[str, Any]:
    fields = {
        "face_id": "String",
        "building_id": "String",
        "suitability": "String",
        "kwc": "Number",
        "irradiation_kwh_m2_yr": "Number",
        "is_flat": "Boolean",
        "footprint_check": "String",
    }
    return {
        "name": "roofs",
        "format": "pbf",
        "vector_layers": [
            {
                "id": layer.name,
                "minzoom": max(layer.min_zoom, min_zoom),
                "maxzoom": max_zoom,
                "fields": {name: fields[name] for name in layer.properties},
            }
            for layer in layers
        ],
    }


class RoofArchive:
    """Tiles of a roofs' PMTiles archive, read with positioned reads, safe across threads.

    The header and the root directory are read once; leaf directories are kept in a small
    LRU cache. Each tile is one ``os.pread`` of its bytes, which are gzip-compressed MVT.

    Parameters
    ----------
    path : path-like
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDONLY)
        # closed by close(), or when the last reference goes, whichever comes first
        self._closer = weakref.finalize(self, os.close, self._fd)
        self.header = deserialize_header(self._read(0, 127))
        self._root = deserialize_directory(
            self._read(self.header["root_offset"], self.header["root_length"])
        )
        self._leaf = lru_cache(maxsize=64)(self._read_leaf)
        metadata = self._read(self.header["metadata_offset"], self.header["metadata_length"])
        if self.header["internal_compression"] == Compression.GZIP:
            metadata = gzip.decompress(metadata)
        self.metadata: dict[str, Any] = json.loads(metadata)

    @property
    def min_zoom(self) -> int:
        return int(self.header["min_zoom"])

    @property
    def max_zoom(self) -> int:
        return int(self.header["max_zoom"])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in WGS84. [°]"""
        h = self.header
        return (
            h["min_lon_e7"] / 1e7,
            h["min_lat_e7"] / 1e7,
            h["max_lon_e7"] / 1e7,
            h["max_lat_e7"] / 1e7,
        )

    def _read(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def _read_leaf(self, offset: int, length: int) -> list[Entry]:
        return deserialize_directory(
            self._read(self.header["leaf_directory_offset"] + offset, length)
        )

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """The gzip-compressed MVT bytes of a tile; None when the archive has none."""
        tile_id = zxy_to_tileid(z, x, y)
        directory = self._root
        for _ in range(4):  # the PMTiles spec allows at most three levels of leaves
            entry = find_tile(directory, tile_id)
            if entry is None:
                return None
            if entry.run_length > 0:
                return self._read(self.header["tile_data_offset"] + entry.offset, entry.length)
            directory = self._leaf(entry.offset, entry.length)
        return None

    def close(self) -> None:
        self._closer()
