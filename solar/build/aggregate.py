"""From faces to buildings: totals per building, and the commune of each building."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TypeVar

import numpy as np
import shapely
from rasterio.crs import CRS

from solar import pv
from solar.addresses import Address
from solar.cadastre import BuildingRecord, FaceRecord, replaced
from solar.footprints import Footprint, read_footprints
from solar.household import uncertainty
from solar.reconcile import FootprintCheck


def building_records(
    footprints: Sequence[Footprint],
    faces: Sequence[FaceRecord],
    optimum_kwh_m2: float,
    checks: Mapping[str, FootprintCheck],
) -> list[BuildingRecord]:
    """Aggregate faces per building: sums of area, modules and energy; weighted means.

    The totals count the faces worth equipping (:data:`solar.pv.WORTH_EQUIPPING`); the
    irradiation and shading loss are means weighted by face area, over those faces, or
    over all the building's faces when none is worth equipping. The suitability rates the
    same mean of the roofs' own irradiation, as each face's does. The commune is left
    empty (see :func:`communes_from_addresses` and :func:`communes_from_polygons`).

    Parameters
    ----------
    footprints : sequence of Footprint
        One record per footprint, in this order.
    faces : sequence of FaceRecord
    optimum_kwh_m2 : float
        Annual irradiation of the best unshaded plane at the site. [kWh m-2 yr-1]
    checks : mapping of str to solar.reconcile.FootprintCheck
        How each footprint agrees with the surface model, by building id; a footprint
        without one (no tile owned it) is ``ok``.
    """
    by_building: dict[str, list[FaceRecord]] = {}
    for face in faces:
        by_building.setdefault(face.building_id, []).append(face)
    owns = [by_building.get(fp.building_id, []) for fp in footprints]
    hostings = [
        [f for f in own if f.panels > 0 and f.suitability in pv.WORTH_EQUIPPING] for own in owns
    ]
    irradiation, roof, loss = _weighted_means(
        [hosting or own for own, hosting in zip(owns, hostings, strict=True)]
    )
    records = []
    for k, (fp, own, hosting) in enumerate(zip(footprints, owns, hostings, strict=True)):
        check = checks.get(fp.building_id) or FootprintCheck(fp.building_id, "ok")
        shift = check.shift_m
        kwc = sum(f.kwc for f in hosting)
        production = sum(f.production_kwh_yr for f in hosting)
        records.append(
            BuildingRecord(
                building_id=fp.building_id,
                commune_insee=None,
                n_faces=len(own),
                usable_area_m2=round(sum(f.usable_area_m2 for f in hosting), 2),
                panels=int(sum(f.panels for f in hosting)),
                kwc=round(kwc, 3),
                production_kwh_yr=round(production, 1),
                specific_yield_kwh_kwc=round(production / kwc, 1) if kwc else 0.0,
                irradiation_kwh_m2_yr=round(irradiation[k], 1),
                shading_loss_pct=round(loss[k], 2),
                # rated on the roofs' own planes, as the faces are
                suitability=pv.suitability(roof[k] / optimum_kwh_m2) if hosting else "unsuitable",
                footprint_check=check.status,
                footprint_shift_m=None if shift is None else round(shift, 2),
                geometry=fp.geometry,
            )
        )
    return records


def _weighted_means(groups: Sequence[Sequence[FaceRecord]]) -> tuple[list[float], ...]:
    """Each group's irradiation, roof irradiation and shading loss, weighted by the faces'
    areas (at least 1e-9 m² each); 0 for an empty group.

    The groups of the same size go through numpy together, as rows of one array: each
    row's sums are those :func:`numpy.average` makes of the group alone, to the bit,
    at a few numpy calls in all rather than three per building.
    """
    means = np.zeros((3, len(groups)))
    by_size: dict[int, list[int]] = {}
    for k, group in enumerate(groups):
        if group:
            by_size.setdefault(len(group), []).append(k)
    for rows in by_size.values():
        members = [f for k in rows for f in groups[k]]
        shape = (len(rows), len(members) // len(rows))
        weights = np.array([max(f.area_m2, 1e-9) for f in members]).reshape(shape)
        total = weights.sum(axis=1)
        for i, values in enumerate(
            (
                [f.irradiation_kwh_m2_yr for f in members],
                [f.roof_irradiation_kwh_m2_yr for f in members],
                [f.shading_loss_pct for f in members],
            )
        ):
            means[i, rows] = (
                np.multiply(np.array(values).reshape(shape), weights).sum(axis=1) / total
            )
    irradiation, roof, loss = means.tolist()
    return irradiation, roof, loss


#: Faces banded together by :func:`with_production_bands`: 500 samples of 20,000 faces
#: take 80 MB.
BAND_BLOCK = 20_000


def with_production_bands(
    faces: Sequence[FaceRecord], buildings: Sequence[BuildingRecord]
) -> tuple[list[FaceRecord], list[BuildingRecord]]:
    """Faces and buildings with the P10, P50 and P90 of their annual production.

    A building's band sums the faces its totals count (those worth equipping, see
    :func:`building_records`), sample by sample
    (:func:`solar.household.uncertainty.production_bands`); a flat face's orientation is
    its modules'. Buildings are banded in blocks of about :data:`BAND_BLOCK` faces, never
    split between blocks.

    Parameters
    ----------
    faces : sequence of FaceRecord
    buildings : sequence of BuildingRecord

    Returns
    -------
    tuple of list
        The faces and the buildings, in their order, with the three columns filled.
    """
    index = {b.building_id: i for i, b in enumerate(buildings)}
    order = sorted(range(len(faces)), key=lambda k: index.get(faces[k].building_id, -1))
    banded_faces: list[FaceRecord | None] = [None] * len(faces)
    building_bands = np.zeros((len(buildings), 3))
    start = 0
    while start < len(order):
        stop = min(start + BAND_BLOCK, len(order))
        # end the block with a building's last face
        last = faces[order[stop - 1]].building_id
        while stop < len(order) and faces[order[stop]].building_id == last:
            stop += 1
        block = [faces[k] for k in order[start:stop]]
        planes = [pv.module_plane(f.tilt_deg, f.azimuth_deg) for f in block]
        hosting = np.array([f.panels > 0 and f.suitability in pv.WORTH_EQUIPPING for f in block])
        owners = [index.get(f.building_id, -1) for f in block]
        first = min((o for o in owners if o >= 0), default=0)
        # faces that no building total counts fall in one last group, left unread
        spare = max(owners, default=0) - first + 1
        group = np.array(
            [o - first if h and o >= 0 else spare for o, h in zip(owners, hosting, strict=True)]
        )
        bands = uncertainty.production_bands(
            np.array([f.production_kwh_yr for f in block]),
            np.array([p[0] for p in planes]),
            np.array([p[1] for p in planes]),
            group,
        )
        for k, face in zip(order[start:stop], _with_bands(block, bands.faces), strict=True):
            banded_faces[k] = face
        counted = np.unique(group[group < spare])
        building_bands[counted + first] = bands.groups[counted]
        start = stop
    return (
        [f for f in banded_faces if f is not None],
        _with_bands(buildings, building_bands),
    )


_Record = TypeVar("_Record", FaceRecord, BuildingRecord)


def _with_bands(records: Sequence[_Record], bands: np.ndarray) -> list[_Record]:
    """Copies of the records with their P10, P50 and P90 (rows of ``bands``), rounded."""
    return [
        replaced(
            record,
            production_p10_kwh_yr=round(p10, 1),
            production_p50_kwh_yr=round(p50, 1),
            production_p90_kwh_yr=round(p90, 1),
        )
        for record, (p10, p50, p90) in zip(records, bands.tolist(), strict=True)
    ]


def communes_from_addresses(
    buildings: Sequence[BuildingRecord],
    addresses: Sequence[Address],
    linked: Sequence[str | None],
) -> list[BuildingRecord]:
    """Give each building the commune most of its addresses carry.

    Parameters
    ----------
    linked : sequence of str or None
        The building of each address (:func:`solar.addresses.link_addresses`).
    """
    votes: dict[str, Counter[str]] = {}
    for address, building_id in zip(addresses, linked, strict=True):
        if building_id is not None and address.code_insee:
            votes.setdefault(building_id, Counter())[address.code_insee] += 1
    return [
        replaced(b, commune_insee=_most_common(votes[b.building_id]))
        if b.building_id in votes
        else b
        for b in buildings
    ]


def _most_common(tally: Counter[str]) -> str:
    """The most frequent key; the first one counted among equals."""
    return max(tally, key=tally.__getitem__)


def communes_from_polygons(
    buildings: Sequence[BuildingRecord], communes: str | os.PathLike[str], crs: CRS
) -> list[BuildingRecord]:
    """Give each building the commune that holds its representative point.

    The commune polygons win over the addresses: they are the official boundaries. A
    building outside every polygon keeps the commune it had.

    Parameters
    ----------
    communes : path-like
        Commune polygons with an ``insee`` property.
    crs : rasterio.crs.CRS
        The buildings' CRS.
    """
    polygons = read_footprints(communes, target_crs=crs, id_field="insee")
    tree = shapely.STRtree([p.geometry for p in polygons.footprints])
    points = shapely.point_on_surface(np.array([b.geometry for b in buildings], dtype=object))
    point_idx, poly_idx = tree.query(points, predicate="within")
    insee = dict(
        zip(
            point_idx.tolist(),
            (polygons.footprints[c].building_id for c in poly_idx.tolist()),
            strict=True,
        )
    )
    return [
        replaced(b, commune_insee=insee[i]) if i in insee else b for i, b in enumerate(buildings)
    ]


def monthly_columns(faces: Sequence[FaceRecord]) -> dict[str, np.ndarray]:
    """The monthly figures of the faces, one row per face and month, as
    :func:`solar.cadastre.write_cadastre` takes them.

    Examples
    --------
    >>> face = FaceRecord("b", "b-1", 30.0, 180.0, False, 20.0, 15.0, 1000.0, 2.0, 8, 3.4,
    ...                   3300.0, 970.6, "excellent", shapely.Point(0, 0),
    ...                   tuple(range(12)), tuple(range(100, 112)))
    >>> table = monthly_columns([face])
    >>> table["month"][:3].tolist(), table["production_kwh"][11], table["face_id"][0]
    ([1, 2, 3], np.float64(11.0), np.str_('b-1'))
    """
    return {
        "face_id": np.asarray([f.face_id for f in faces for _ in range(12)]),
        "month": np.asarray([m for _ in faces for m in range(1, 13)]),
        "irradiation_kwh_m2": np.asarray(
            [float(v) for f in faces for v in f.irradiation_monthly_kwh_m2]
        ),
        "production_kwh": np.asarray([float(v) for f in faces for v in f.production_monthly_kwh]),
    }
