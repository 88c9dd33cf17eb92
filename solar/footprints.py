"""Building footprints: GeoJSON, GeoPackage, Shapefile or OGR-SQLite, reprojected to the
DSM's CRS."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import pyproj
import shapely
import shapely.geometry
from rasterio import features
from rasterio.crs import CRS
from scipy import ndimage
from shapely import MultiPolygon, Polygon

from solar.errors import InputError
from solar.geometry import polygonal_part
from solar.surface import Surface


@dataclass(frozen=True)
class Attributes:
    """What the IGN BD TOPO ``batiment`` layer says of a building, kept in the cadastre so
    that communes can filter their buildings; None where the file has no such field or
    no value.

    Attributes
    ----------
    usage_1 : str or None
        Main use: ``Résidentiel``, ``Commercial et services``, ``Industriel``, …
    nature : str or None
        Kind of building: ``Indifférenciée``, ``Industriel, agricole ou commercial``, …
    hauteur : float or None
        Height from the ground to the highest point. [m]
    nombre_de_logements : float or None
        Dwellings in the building.
    """

    usage_1: str | None = None
    nature: str | None = None
    hauteur: float | None = None
    nombre_de_logements: float | None = None


ATTRIBUTE_FIELDS = ("usage_1", "nature", "hauteur", "nombre_de_logements")
"""The BD TOPO fields kept as :class:`Attributes`, matched case-insensitively."""


@dataclass(frozen=True, eq=False)
class Part:
    """One dwelling's part of a shared footprint.

    Attributes
    ----------
    part_id : str
        A cadastral parcel's id, or the id of the first address of the dwelling.
    geometry : shapely.Polygon or shapely.MultiPolygon
        Within the footprint, in the surface model's CRS. [m]
    """

    part_id: str
    geometry: Polygon | MultiPolygon


@dataclass(frozen=True, eq=False)
class Footprint:
    """One building footprint.

    Attributes
    ----------
    building_id : str
        Stable id: the source footprint's own id when it has one.
    geometry : shapely.Polygon or shapely.MultiPolygon
        2-D, valid, in the surface model's projected CRS. [m]
    attributes : Attributes
        The source's description of the building; all None when it has none.
    parts : tuple of Part
        The dwellings sharing the footprint, each with its part of it
        (:func:`solar.dwellings.split_footprints`); empty for a building left whole.
    """

    building_id: str
    geometry: Polygon | MultiPolygon
    attributes: Attributes = Attributes()
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True, eq=False)
class FootprintSet:
    """The usable footprints of one file, and what was done to the others.

    Attributes
    ----------
    footprints : tuple of Footprint
        In file order, ids unique, geometries 2-D and valid in the target CRS. [m]
    repaired : int
        How many invalid geometries (self-intersecting rings, …) were repaired with
        ``shapely.make_valid``, keeping their polygonal parts.
    dropped : tuple of str
        One ``"<id>: <reason>"`` per feature left out (empty, not a polygon, no id, …).
    source : str
        The file read.
    """

    footprints: tuple[Footprint, ...]
    repaired: int
    dropped: tuple[str, ...]
    source: str


WELL_KNOWN_ID_FIELDS = ("cleabs", "identifiant", "identificatie", "lokaalid", "id", "gml_id")
"""Fields tried in this order, case-insensitively, when no id field is given: IGN BD TOPO
(``cleabs``), IGN BD UNI and other French products (``identifiant``), the Dutch BAG
(``identificatie``) and BGT (``lokaalid``, the object's own id, tried before ``gml_id``, an
id of the GML encoding), then the generic ``id`` and ``gml_id``. Without any of them, each
building's id is derived from its geometry (:func:`geometry_ids`), with a
:class:`GeneratedIdWarning`."""


class GeneratedIdWarning(UserWarning):
    """A footprint file has no id field: the building ids were derived from the geometries."""


ID_PRECISION = 0.01
"""Grid the footprints are rounded to before their geometry id is computed: a re-export that
moves a vertex by less than half a centimetre keeps the id. [m]"""


def geometry_ids(geometries: Sequence[shapely.Geometry | None]) -> list[str]:
    """Stable building ids derived from the footprints' geometries.

    Each footprint, in the surface model's CRS, is rounded to :data:`ID_PRECISION` and
    normalised (rings start at the same vertex and turn the same way, parts in one order,
    :func:`shapely.normalize`); its WKB is hashed with SHA-256, and the id is ``"g"`` and
    the first 16 hexadecimal digits. The same file gives the same ids on every run and in
    any feature order; two identical footprints get ``-2``, ``-3``, … in file order. A
    feature without a geometry gets ``"g-none"`` (and is then dropped for it).

    Parameters
    ----------
    geometries : sequence of shapely.Geometry or None
        In a projected CRS in metres.

    Returns
    -------
    list of str

    Examples
    --------
    >>> house = shapely.box(0, 0, 10, 8)
    >>> geometry_ids([house]) == geometry_ids([shapely.box(0, 0, 10.001, 8)])
    True
    >>> [len(i) for i in geometry_ids([house, house])]
    [17, 19]
    """
    rounded = shapely.normalize(
        shapely.set_precision(np.asarray(geometries, dtype=object), ID_PRECISION, mode="pointwise")
    )
    ids: list[str] = []
    seen: Counter[str] = Counter()
    for wkb in shapely.to_wkb(rounded, hex=False, output_dimension=2):
        base = "g-none" if wkb is None else "g" + hashlib.sha256(wkb).hexdigest()[:16]
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def read_footprints(
    path: str | os.PathLike[str],
    *,
    target_crs: str | CRS | pyproj.CRS,
    id_field: str | None = None,
    layer: str | None = None,
) -> FootprintSet:
    """Read building footprints and reproject them to the surface model's CRS.

    Any vector format GDAL reads through pyogrio: GeoJSON, GeoPackage, Shapefile and
    OGR-SQLite among others. Z is dropped. Polygons and MultiPolygons are kept with their
    holes. Invalid ones are repaired with ``shapely.make_valid``, keeping the polygonal
    parts. Empty, non-polygonal or unrepairable features, and features without an id, are
    dropped and listed in ``dropped``.

    Parameters
    ----------
    path : path-like
        The vector file.
    target_crs : str, rasterio.crs.CRS or pyproj.CRS
        CRS of the surface model, in metres.
    id_field : str, optional
        Field holding the building id, matched exactly, else case-insensitively. By default
        the first field of ``WELL_KNOWN_ID_FIELDS`` present, else the feature id. Ids are
        text and must be unique: a duplicate is an error rather than renamed, since a
        renamed id no longer points back to the source.
    layer : str, optional
        Layer to read. By default the only layer with geometries; a file with several such
        layers needs one named.

    Returns
    -------
    FootprintSet

    Raises
    ------
    InputError
        With ``source`` the file: unreadable, several layers and none named, no feature,
        no CRS (a GeoJSON file without a ``crs`` member is WGS84 by RFC 7946 and GDAL reads
        it so; a Shapefile needs its ``.prj``), ``id_field`` absent (the message lists the
        fields), a duplicate id, or no usable footprint.
    """
    source = str(path)
    try:
        if layer is None:
            layer = _only_spatial_layer(source)
        meta, fids, wkb, field_data = pyogrio.raw.read(source, layer=layer, return_fids=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"cannot read the footprints: {exc}", source=source) from exc
    if len(fids) == 0:
        raise InputError("no feature: the footprint file is empty", source=source)
    if meta["crs"] is None:
        raise InputError(
            "no coordinate reference system (a Shapefile needs its .prj): "
            "assign the CRS to the file first",
            source=source,
        )
    field, values = _id_values(list(meta["fields"]), field_data, fids, id_field, source)
    geometries = shapely.force_2d(shapely.from_wkb(wkb))
    src_crs = pyproj.CRS.from_user_input(meta["crs"])
    dst_crs = pyproj.CRS.from_user_input(target_crs)
    if not src_crs.equals(dst_crs, ignore_axis_order=True):
        transformer = pyproj.Transformer.from_crs(src_crs, dst_crs, always_xy=True)
        geometries = shapely.transform(geometries, transformer.transform, interleaved=False)
    if field is None:
        values = list(geometry_ids(geometries))
        warnings.warn(
            f"{source}: no id field ({', '.join(WELL_KNOWN_ID_FIELDS)}): building ids derived "
            "from the geometries; name one with --id-field",
            GeneratedIdWarning,
            stacklevel=2,
        )
    footprints: list[Footprint] = []
    dropped: list[str] = []
    repaired = 0
    attributes = _attributes(list(meta["fields"]), field_data, len(fids))
    for fid, building_id, geometry, described in zip(
        fids, values, geometries, attributes, strict=True
    ):
        if building_id is None:
            dropped.append(f"fid {fid}: no value in the id field {field!r}")
            continue
        polygon, was_repaired, reason = _polygonal(geometry)
        if polygon is None:
            dropped.append(f"{building_id}: {reason}")
            continue
        repaired += was_repaired
        footprints.append(Footprint(building_id, polygon, described))
    if not footprints:
        raise InputError(
            f"no usable footprint among {len(fids)} features ({'; '.join(dropped[:3])})",
            source=source,
        )
    return FootprintSet(
        footprints=tuple(footprints), repaired=repaired, dropped=tuple(dropped), source=source
    )


def select_within(
    footprints: FootprintSet, bounds: tuple[float, float, float, float]
) -> tuple[tuple[Footprint, ...], tuple[str, ...]]:
    """Split footprints into those overlapping a surface model and those outside it.

    A footprint overlaps when it shares some area with the grid, touching its edge is not
    enough. Overlapping footprints are kept whole: the roof segmentation only sees the
    pixels inside the grid.

    Parameters
    ----------
    footprints : FootprintSet
        In the surface model's CRS.
    bounds : tuple of float
        (xmin, ymin, xmax, ymax) of the surface model. [m]

    Returns
    -------
    inside : tuple of Footprint
        The overlapping footprints, in file order.
    outside : tuple of str
        The ids of the others.

    Raises
    ------
    InputError
        No footprint overlaps the grid; ``source`` is the footprint file.

    Examples
    --------
    >>> fs = FootprintSet((Footprint("a", shapely.box(0, 0, 1, 1)),
    ...                    Footprint("b", shapely.box(5, 5, 6, 6))), 0, (), "f.gpkg")
    >>> inside, outside = select_within(fs, (0.0, 0.0, 2.0, 2.0))
    >>> [f.building_id for f in inside], outside
    (['a'], ('b',))
    """
    grid = shapely.box(*bounds)
    shapely.prepare(grid)
    geometries = np.array([f.geometry for f in footprints.footprints], dtype=object)
    overlaps = shapely.intersects(grid, geometries) & ~shapely.touches(grid, geometries)
    inside = tuple(f for f, keep in zip(footprints.footprints, overlaps, strict=True) if keep)
    outside = tuple(
        f.building_id for f, keep in zip(footprints.footprints, overlaps, strict=True) if not keep
    )
    if not inside:
        span = shapely.total_bounds(geometries)
        raise InputError(
            f"no footprint overlaps the surface model: the grid spans {_fmt(bounds)} and the "
            f"footprints {_fmt(span)}; are they in the same place and CRS?",
            source=footprints.source,
        )
    return inside, outside


def _fmt(bounds: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.1f}" for v in bounds) + ")"


def _only_spatial_layer(source: str) -> str:
    layers = pyogrio.list_layers(source)
    spatial = [str(name) for name, geometry_type in layers if geometry_type is not None]
    if len(spatial) == 1:
        return spatial[0]
    if not spatial:
        raise InputError("no layer with geometries", source=source)
    raise InputError(
        f"{len(spatial)} layers with geometries ({', '.join(spatial)}): name the one to read",
        source=source,
    )


def _id_values(
    fields: list[str],
    field_data: list[np.ndarray],
    fids: np.ndarray,
    id_field: str | None,
    source: str,
) -> tuple[str | None, list[str | None]]:
    """The id field used (None for the fid) and each feature's id, None where missing."""
    lower = {name.lower(): i for i, name in enumerate(fields)}
    if id_field is None:
        index = next((lower[name] for name in WELL_KNOWN_ID_FIELDS if name in lower), None)
        if index is None:
            # ids come from the geometries, once reprojected (read_footprints)
            return None, [None] * len(fids)
    elif id_field in fields:
        index = fields.index(id_field)
    elif id_field.lower() in lower:
        index = lower[id_field.lower()]
    else:
        raise InputError(
            f"no id field {id_field!r}; the fields are: {', '.join(fields) or '(none)'}",
            source=source,
        )
    values = [_id_text(value) for value in field_data[index]]
    counts = Counter(v for v in values if v is not None)
    duplicate = next((v for v, n in counts.items() if n > 1), None)
    if duplicate is not None:
        raise InputError(
            f"id {duplicate!r} appears {counts[duplicate]} times in the field "
            f"{fields[index]!r}: ids must be unique, pick another field with --id-field",
            source=source,
        )
    return fields[index], values


def _attributes(fields: list[str], field_data: list[np.ndarray], count: int) -> list[Attributes]:
    """Each feature's :class:`Attributes`, from the fields of ``ATTRIBUTE_FIELDS`` present."""
    lower = {name.lower(): i for i, name in enumerate(fields)}
    present = {name: field_data[lower[name]] for name in ATTRIBUTE_FIELDS if name in lower}
    if not present:
        return [Attributes()] * count
    columns: dict[str, list[Any]] = {}
    for name, values in present.items():
        parse = _id_text if name in ("usage_1", "nature") else _number
        columns[name] = [parse(v) for v in values]
    return [Attributes(**{n: values[k] for n, values in columns.items()}) for k in range(count)]


def _number(value: object) -> float | None:
    """A numeric field's value; None when null, not finite or not a number."""
    if value is None or value is np.ma.masked:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _id_text(value: object) -> str | None:
    if value is None or value is np.ma.masked:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return None
        # Shapefiles store integer ids in numeric fields read back as floats: "12", not "12.0".
        if float(value).is_integer():
            return str(int(value))
    text = str(value)
    return text if text.strip() else None


def _polygonal(
    geometry: shapely.Geometry | None,
) -> tuple[Polygon | MultiPolygon | None, bool, str]:
    """The footprint as a valid (Multi)Polygon, whether it was repaired, or why it is dropped."""
    if geometry is None or geometry.is_empty:
        return None, False, "empty geometry"
    if not np.isfinite(shapely.get_coordinates(geometry)).all():
        return None, False, "coordinates outside the domain of the target CRS"
    if isinstance(geometry, Polygon | MultiPolygon) and geometry.is_valid:
        return geometry, False, ""
    if not isinstance(geometry, Polygon | MultiPolygon | shapely.GeometryCollection):
        return None, False, f"not a polygon ({geometry.geom_type})"
    # make_valid may return a collection (polygons with the lines of collapsed rings): only
    # the polygons bound a building.
    fixed = polygonal_part(shapely.make_valid(geometry))
    if fixed.is_empty:
        return None, False, "invalid geometry with no polygonal part once repaired"
    return fixed, True, ""


def footprints_from_classes(
    surface: Surface, *, min_area: float = 12.0, prefix: str = "lidar"
) -> FootprintSet:
    """Building footprints traced from the LAS building class of a rasterised point cloud.

    For surveys that come without footprints (the IGN LiDAR HD samples, a new estate not
    yet in the BD TOPO). Cells whose highest return is class 6 are closed by one cell (a
    chimney or a roof window classified otherwise would punch a hole), traced into polygons
    and simplified by half a cell. Polygons smaller than ``min_area`` are dropped: a
    garden shed or a misclassified bush does not make a building.

    Parameters
    ----------
    surface : Surface
        From :func:`solar.surface.rasterize_laz`, with its ``building`` mask.
    min_area : float, default 12
        Smallest footprint kept. [m²]
    prefix : str
        Ids are ``f"{prefix}-{k}"``, numbered from 1 by decreasing area.

    Returns
    -------
    FootprintSet
    """
    source = ", ".join(surface.sources) or "surface model"
    if surface.building is None:
        raise InputError("no LAS classes to trace footprints from: give --buildings", source=source)
    closed = ndimage.binary_closing(surface.building, structure=np.ones((3, 3)), border_value=0)
    closed = ndimage.binary_fill_holes(closed)
    polygons = [
        shapely.geometry.shape(geometry).simplify(surface.resolution / 2)
        for geometry, value in features.shapes(
            closed.astype(np.uint8), mask=closed, transform=surface.transform
        )
        if value == 1
    ]
    polygons = sorted((p for p in polygons if p.area >= min_area), key=lambda p: -p.area)
    if not polygons:
        raise InputError(
            f"no building of at least {min_area} m² in the LAS building class", source=source
        )
    return FootprintSet(
        footprints=tuple(
            Footprint(f"{prefix}-{k}", shapely.make_valid(p)) for k, p in enumerate(polygons, 1)
        ),
        repaired=0,
        dropped=(),
        source=source,
    )


def write_footprints(
    footprints: Sequence[Footprint], path: str | os.PathLike[str], *, crs: CRS
) -> Path:
    """Write footprints to a GeoPackage layer that :func:`read_footprints` reads back.

    Parameters
    ----------
    footprints : sequence of Footprint
    path : path-like
        The ``.gpkg`` to write.
    crs : rasterio.crs.CRS
        The CRS of the geometries.

    Returns
    -------
    pathlib.Path
    """
    pyogrio.raw.write(
        path,
        shapely.to_wkb([f.geometry for f in footprints]),
        [np.array([f.building_id for f in footprints], dtype=object)],
        ["id"],
        driver="GPKG",
        geometry_type="MultiPolygon",
        promote_to_multi=True,
        crs=crs.to_wkt(),
    )
    return Path(path)
