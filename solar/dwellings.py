"""Dwellings of a shared footprint: each house of a terraced row its own part of the roof.

A row of corons is often drawn as one footprint, and its houses share one roof: the answer
for one address must be that house's part, not the row's. :func:`split_footprints` cuts
such a footprint into parts before its roof is segmented (:func:`solar.roofs.segment_roofs`
then cuts each face along the parts, so that modules never straddle two houses):

- with a cadastral parcel file (Etalab ``cadastre-parcelles``), by the parcels that hold
  at least :data:`MIN_PART_AREA` of the footprint; each part takes the parcel's id, and
  each address the part its point lies in;
- otherwise by the address points: the Voronoi cell of each distinct point within the
  footprint, the part taking the id of the first address at that point (by id). Only the
  addresses of one street cut the footprint, the street with the most house numbers on
  it: a corner house has an address on each of its two streets, and a row at a corner
  keeps its end house whole. The other streets' addresses take the part their point lies
  in. A footprint that BD TOPO says holds one dwelling (``nombre_de_logements``) is not
  cut by its addresses.

A footprint with fewer than two parts is left whole.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from rasterio.crs import CRS

from solar.addresses import Address, link_addresses
from solar.cadastre import FaceRecord
from solar.footprints import Footprint, Part, read_footprints
from solar.geometry import polygonal_part
from solar.pv import WORTH_EQUIPPING

MIN_PART_AREA = 15.0
"""Smallest share of a footprint a parcel must hold to make a part of it: less is a
drawing offset between the two surveys, not a house. [m²]"""


@dataclass(frozen=True)
class Parcel:
    """One cadastral parcel.

    Attributes
    ----------
    parcel_id : str
        The parcel's id (``id`` of Etalab's files: INSEE code, section and number).
    geometry : shapely.Polygon or shapely.MultiPolygon
        In the surface model's CRS. [m]
    """

    parcel_id: str
    geometry: shapely.Polygon | shapely.MultiPolygon


@dataclass(frozen=True, eq=False)
class Split:
    """Footprints with their parts, and the part of each address.

    Attributes
    ----------
    footprints : list of Footprint
        In the input order, those split with their ``parts``.
    address_parts : list of str or None
        For each address, in the input order, the id of the part its point lies in; None
        for an address of an unsplit building, or of none.
    """

    footprints: list[Footprint]
    address_parts: list[str | None]


def read_parcels(path: str | os.PathLike[str], *, target_crs: CRS) -> list[Parcel]:
    """Cadastral parcels (Etalab ``cadastre-XX-parcelles.json``, or any polygon layer with
    an ``id`` field), reprojected to ``target_crs`` and repaired as footprints are
    (:func:`solar.footprints.read_footprints`).

    Raises
    ------
    solar.errors.InputError
        When the file cannot be read, has no ``id`` field or a duplicate id, naming the file.
    """
    read = read_footprints(path, target_crs=target_crs, id_field="id")
    return [Parcel(f.building_id, f.geometry) for f in read.footprints]


def parts_by_addresses(
    footprint: shapely.Geometry, points: Sequence[tuple[str, float, float]]
) -> list[Part]:
    """The Voronoi cells of the address points, within the footprint.

    Parameters
    ----------
    footprint : shapely.Polygon or shapely.MultiPolygon
    points : sequence of (address_id, x, y)
        The addresses linked to the footprint. [m]

    Returns
    -------
    list of Part
        One per distinct point, ids from the first address (by id) at that point, ordered
        by id; empty when fewer than two distinct points.

    Examples
    --------
    Three houses, 6 m wide, and their doors on the street side:

    >>> row = shapely.box(0, 0, 18, 8)
    >>> parts = parts_by_addresses(row, [("a", 3, 1), ("b", 9, 1), ("c", 15, 1)])
    >>> [(p.part_id, p.geometry.area) for p in parts]
    [('a', 48.0), ('b', 48.0), ('c', 48.0)]
    """
    by_point: dict[tuple[float, float], str] = {}
    for address_id, x, y in sorted(points):
        by_point.setdefault((round(x, 2), round(y, 2)), address_id)
    if len(by_point) < 2:
        return []
    cells = shapely.voronoi_polygons(
        shapely.multipoints(list(by_point)), extend_to=footprint.envelope.buffer(1.0)
    )
    parts = []
    for (x, y), address_id in by_point.items():
        cell = next(c for c in shapely.get_parts(cells) if c.intersects(shapely.Point(x, y)))
        piece = polygonal_part(shapely.intersection(cell, footprint))
        if not piece.is_empty:
            parts.append(Part(address_id, piece))
    return sorted(parts, key=lambda p: p.part_id) if len(parts) >= 2 else []


def parts_by_parcels(footprint: shapely.Geometry, parcels: Sequence[Parcel]) -> list[Part]:
    """The footprint cut by the parcels that hold at least :data:`MIN_PART_AREA` of it.

    The pieces of the other parcels go to the neighbouring part they touch the most, so
    that the parts still cover the footprint.

    Examples
    --------
    >>> row = shapely.box(0, 0, 12, 8)
    >>> west, east = shapely.box(-5, -5, 6, 20), shapely.box(6, -5, 12.2, 20)
    >>> lots = [Parcel("p1", west), Parcel("p2", east)]
    >>> [(p.part_id, p.geometry.area) for p in parts_by_parcels(row, lots)]
    [('p1', 48.0), ('p2', 48.0)]
    """
    pieces = [
        (parcel.parcel_id, polygonal_part(shapely.intersection(footprint, parcel.geometry)))
        for parcel in parcels
    ]
    kept = [(i, g) for i, g in pieces if g.area >= MIN_PART_AREA]
    if len(kept) < 2:
        return []
    geometries = [g for _, g in kept]
    for _, sliver in (p for p in pieces if 0 < p[1].area < MIN_PART_AREA):
        shared = [shapely.length(shapely.intersection(sliver.boundary, g)) for g in geometries]
        k = int(np.argmax(shared))
        geometries[k] = polygonal_part(shapely.union(geometries[k], sliver))
    return sorted(
        (Part(i, g) for (i, _), g in zip(kept, geometries, strict=True)),
        key=lambda p: p.part_id,
    )


def split_footprints(
    footprints: Sequence[Footprint],
    addresses: Sequence[Address],
    *,
    parcels: Sequence[Parcel] | None = None,
) -> Split:
    """Cut each footprint shared by several dwellings into parts; see the module docstring.

    Parameters
    ----------
    footprints : sequence of Footprint
    addresses : sequence of Address
        In the footprints' CRS.
    parcels : sequence of Parcel, optional
        When given, parts follow the parcels, and the addresses only say which part is
        whose.

    Returns
    -------
    Split
    """
    linked = link_addresses(addresses, footprints)
    by_building: dict[str, list[int]] = {}
    for i, building_id in enumerate(linked):
        if building_id is not None:
            by_building.setdefault(building_id, []).append(i)
    tree = shapely.STRtree([p.geometry for p in parcels]) if parcels else None
    out: list[Footprint] = []
    address_parts: list[str | None] = [None] * len(addresses)
    for footprint in footprints:
        members = by_building.get(footprint.building_id, [])
        if parcels is not None and tree is not None:
            near = tree.query(footprint.geometry, predicate="intersects")
            parts = parts_by_parcels(footprint.geometry, [parcels[int(k)] for k in near])
        elif footprint.attributes.nombre_de_logements != 1:
            cutting = _one_street(addresses[i] for i in members)
            points = [(a.address_id, a.x, a.y) for a in cutting]
            parts = parts_by_addresses(footprint.geometry, points)
        else:
            parts = []
        if not parts:
            out.append(footprint)
            continue
        out.append(dataclasses.replace(footprint, parts=tuple(parts)))
        geometries = [p.geometry for p in parts]
        for i in members:
            point = shapely.Point(addresses[i].x, addresses[i].y)
            distances = shapely.distance(geometries, point)
            address_parts[i] = parts[int(np.argmin(distances))].part_id
    return Split(out, address_parts)


def _one_street(addresses: Iterable[Address]) -> list[Address]:
    """The addresses of the street with the most distinct house numbers among them."""
    by_street: dict[str, list[Address]] = {}
    for address in addresses:
        by_street.setdefault(address.nom_voie, []).append(address)
    if not by_street:
        return []
    # the first street by name among those with as many numbers: the same answer every run
    _, same = max(
        sorted(by_street.items()), key=lambda item: len({(a.numero, a.rep) for a in item[1]})
    )
    return same


def equipped_faces(faces: Sequence[FaceRecord], part_id: str) -> list[FaceRecord]:
    """The faces of one dwelling's part that its totals count: those worth equipping, as
    a building's totals count them (:func:`solar.build.aggregate.building_records`)."""
    return [
        f
        for f in faces
        if f.part_id == part_id and f.panels > 0 and f.suitability in WORTH_EQUIPPING
    ]
