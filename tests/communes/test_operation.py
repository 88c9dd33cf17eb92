"""The operation's lots and totals."""

from __future__ import annotations

import math

import pytest

from solar.communes.operation import LOTS, OperationItem, gather, lot_of


def _item(insee: str, building_id: str, kwc: float) -> OperationItem:
    # 1,000 kWh/kWc and 1 €/Wc HT, so that every total can be checked by eye
    return OperationItem(
        insee, f"Commune {insee}", building_id, "ecole", kwc, 1000 * kwc, 1000 * kwc
    )


ITEMS = [
    _item("62498", "a", 6.0),
    _item("62498", "b", 9.0),
    _item("62498", "c", 30.0),
    _item("62510", "d", 36.5),
    _item("62510", "e", 100.0),
    _item("62510", "f", 250.0),
    _item("62893", "g", 800.0),
]


def test_lot_bounds_are_inclusive_above() -> None:
    assert [lot_of(k).key for k in (0.4, 9.0, 9.01, 36.0, 36.1, 100.0, 100.1, 500.0, 501.0)] == [
        "lot_0_9",
        "lot_0_9",
        "lot_9_36",
        "lot_9_36",
        "lot_36_100",
        "lot_36_100",
        "lot_100_500",
        "lot_100_500",
        "lot_500",
    ]
    assert LOTS[-1].max_kwc == math.inf


def test_totals_by_lot_by_commune_and_in_all() -> None:
    operation = gather(ITEMS)
    by_lot = {t.key: (t.buildings, t.kwc) for t in operation.by_lot}
    assert by_lot == {
        "lot_0_9": (2, 15.0),
        "lot_9_36": (1, 30.0),
        "lot_36_100": (2, 136.5),
        "lot_100_500": (1, 250.0),
        "lot_500": (1, 800.0),
    }
    by_commune = {t.key: (t.buildings, t.kwc, t.mwh_yr) for t in operation.by_commune}
    assert by_commune == {
        "62498": (3, 45.0, 45.0),
        "62510": (3, 386.5, 386.5),
        "62893": (1, 800.0, 800.0),
    }
    assert operation.total.buildings == 7
    assert operation.total.kwc == pytest.approx(1231.5)
    assert operation.total.mwh_yr == pytest.approx(1231.5)
    assert operation.total.investment_ht_eur == pytest.approx(1_231_500.0)
    # the lots and the communes each partition the operation
    assert sum(t.kwc for t in operation.by_lot) == pytest.approx(operation.total.kwc)
    assert sum(t.investment_ht_eur for t in operation.by_commune) == pytest.approx(
        operation.total.investment_ht_eur
    )
    assert [i.building_id for i in operation.items] == ["c", "b", "a", "f", "e", "d", "g"]


def test_an_empty_operation_has_empty_lots() -> None:
    operation = gather([])
    assert [t.buildings for t in operation.by_lot] == [0] * len(LOTS)
    assert operation.total.kwc == 0.0
