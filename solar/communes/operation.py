"""The PMA's collective operation: the retained buildings of every commune, in lots.

A group purchase is tendered in lots of one power class each, because each class has its
own rules: the S21 bands (up to 9 kWc, 9 - 36, 36 - 100 kWc), the 100 - 500 kWc band
(S21 until September 2025, simplified calls for tender since), and above 500 kWc the CRE
calls for tender. :data:`LOTS` holds the classes, upper bounds inclusive
(``9 < kWc <= 36`` is the 9 - 36 lot), and :func:`gather` sums the retained buildings
by commune, by lot, and in all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Lot:
    """A power class of the group purchase.

    Attributes
    ----------
    key : str
    label : str
        French name, for the reports.
    min_kwc, max_kwc : float
        ``min_kwc < kWc <= max_kwc``. [kWc]
    """

    key: str
    label: str
    min_kwc: float
    max_kwc: float


LOTS: tuple[Lot, ...] = (
    Lot("lot_0_9", "≤ 9 kWc", 0.0, 9.0),
    Lot("lot_9_36", "9 – 36 kWc", 9.0, 36.0),
    Lot("lot_36_100", "36 – 100 kWc", 36.0, 100.0),
    Lot("lot_100_500", "100 – 500 kWc", 100.0, 500.0),
    Lot("lot_500", "> 500 kWc (appel d'offres)", 500.0, math.inf),
)


def lot_of(kwc: float) -> Lot:
    """The lot of an installation of ``kwc``.

    >>> lot_of(9.0).key, lot_of(9.01).key, lot_of(600.0).key
    ('lot_0_9', 'lot_9_36', 'lot_500')
    """
    for lot in LOTS:
        if kwc <= lot.max_kwc:
            return lot
    return LOTS[-1]


@dataclass(frozen=True)
class OperationItem:
    """One retained building in the operation.

    Attributes
    ----------
    commune_insee, commune_name : str
    building_id : str
    usage : str or None
    kwc : float
        The recommended system's peak power. [kWc]
    production_kwh : float
        Its annual production. [kWh yr-1]
    investment_ht_eur : float
        Its turnkey investment HT, the figure a group purchase compares. [€]
    """

    commune_insee: str
    commune_name: str
    building_id: str
    usage: str | None
    kwc: float
    production_kwh: float
    investment_ht_eur: float

    @property
    def lot(self) -> Lot:
        return lot_of(self.kwc)


@dataclass(frozen=True)
class Totals:
    """Sums over a group of items.

    Attributes
    ----------
    key, label : str
        The commune's INSEE code and name, the lot's key and label, or ``total``.
    buildings : int
    kwc : float
        [kWc]
    mwh_yr : float
        [MWh yr-1]
    investment_ht_eur : float
        [€]
    """

    key: str
    label: str
    buildings: int
    kwc: float
    mwh_yr: float
    investment_ht_eur: float


@dataclass(frozen=True)
class Operation:
    """The operation: its items, and their totals by commune, by lot and in all.

    Attributes
    ----------
    items : tuple of OperationItem
        By commune, then by decreasing kWc.
    by_commune : tuple of Totals
        One per commune with an item, by INSEE code.
    by_lot : tuple of Totals
        One per lot of :data:`LOTS`, empty lots included, in that order.
    total : Totals
    """

    items: tuple[OperationItem, ...]
    by_commune: tuple[Totals, ...]
    by_lot: tuple[Totals, ...]
    total: Totals


def _totals(key: str, label: str, items: Iterable[OperationItem]) -> Totals:
    group = list(items)
    return Totals(
        key=key,
        label=label,
        buildings=len(group),
        kwc=sum(i.kwc for i in group),
        mwh_yr=sum(i.production_kwh for i in group) / 1000.0,
        investment_ht_eur=sum(i.investment_ht_eur for i in group),
    )


def gather(items: Sequence[OperationItem]) -> Operation:
    """Sum the retained buildings by commune, by lot and in all."""
    ordered = tuple(sorted(items, key=lambda i: (i.commune_insee, -i.kwc, i.building_id)))
    communes = dict.fromkeys((i.commune_insee, i.commune_name) for i in ordered)
    return Operation(
        items=ordered,
        by_commune=tuple(
            _totals(insee, name, (i for i in ordered if i.commune_insee == insee))
            for insee, name in communes
        ),
        by_lot=tuple(
            _totals(lot.key, lot.label, (i for i in ordered if i.lot.key == lot.key))
            for lot in LOTS
        ),
        total=_totals("total", "Total", ordered),
    )
