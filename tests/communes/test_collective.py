"""The collective balance against a case worked out by hand (3 buildings, 4 hours)."""

from __future__ import annotations

import numpy as np
import pytest

from solar.communes.collective import Participant, balance, commune_participants, diameter_m
from solar.errors import InputError
from tests.communes import synthetic

# A produces and consumes, B only consumes, C produces and consumes. Hours 0..3. [kWh]
A = Participant("A", 0.0, 0.0, np.array([4.0, 6.0, 0.0, 2.0]), np.array([1.0, 1.0, 1.0, 1.0]))
B = Participant("B", 1000.0, 0.0, None, np.array([2.0, 2.0, 2.0, 2.0]))
C = Participant("C", 1500.0, 0.0, np.array([0.0, 3.0, 1.0, 0.0]), np.array([1.0, 3.0, 0.0, 1.0]))


def test_dynamic_key_by_hand() -> None:
    # Pooled production P = [4, 9, 1, 2] (16 kWh), pooled load L = [4, 6, 3, 4] (17 kWh).
    # Used each hour: min(P, L) = [4, 6, 1, 2] -> 13 kWh, surplus 3, import 4.
    # Consumer shares of the used energy are its share of the hour's load:
    #   A: 1/4*4 + 1/6*6 + 1/3*1 + 1/4*2 = 1 + 1 + 1/3 + 1/2 = 17/6
    #   B: 2/4*4 + 2/6*6 + 2/3*1 + 2/4*2 = 2 + 2 + 2/3 + 1   = 17/3
    #   C: 1/4*4 + 3/6*6 + 0     + 1/4*2 = 1 + 3 + 0 + 1/2   = 9/2
    # On its own: A uses min([4,6,0,2],[1,1,1,1]) = 3, C min([0,3,1,0],[1,3,0,1]) = 3.
    result = balance([A, B, C], allocation="dynamic")
    assert result.production_kwh == pytest.approx(16.0)
    assert result.consumption_kwh == pytest.approx(17.0)
    assert result.self_consumed_kwh == pytest.approx(13.0)
    assert result.surplus_kwh == pytest.approx(3.0)
    assert result.grid_import_kwh == pytest.approx(4.0)
    allocated = {p.building_id: p.allocated_kwh for p in result.participants}
    assert allocated == pytest.approx({"A": 17 / 6, "B": 17 / 3, "C": 9 / 2})
    assert result.self_consumption_rate == pytest.approx(13 / 16)
    assert result.self_sufficiency_rate == pytest.approx(13 / 17)
    assert result.alone_self_consumed_kwh == pytest.approx(6.0)
    assert result.alone_self_consumption_rate == pytest.approx(6 / 16)
    assert result.diameter_m == pytest.approx(1500.0)
    assert result.excluded == ()


def test_static_key_by_hand() -> None:
    # Shares A 1/4, B 1/2, C 1/4 of P = [4, 9, 1, 2], each capped by its own load:
    #   h0: A min(1, 1) = 1,      B min(2, 2) = 2,     C min(1, 1) = 1     -> 4
    #   h1: A min(2.25, 1) = 1,   B min(4.5, 2) = 2,   C min(2.25, 3) = 2.25 -> 5.25
    #   h2: A min(0.25, 1) = .25, B min(0.5, 2) = .5,  C min(0.25, 0) = 0  -> 0.75
    #   h3: A min(0.5, 1) = .5,   B min(1, 2) = 1,     C min(0.5, 1) = .5  -> 2
    # Total 12, surplus 4: what A cannot use at hour 1 is not passed on to B.
    result = balance([A, B, C], allocation="static", static_shares={"A": 1.0, "B": 2.0, "C": 1.0})
    assert result.self_consumed_kwh == pytest.approx(12.0)
    assert result.surplus_kwh == pytest.approx(4.0)
    allocated = {p.building_id: p.allocated_kwh for p in result.participants}
    assert allocated == pytest.approx({"A": 2.75, "B": 5.5, "C": 3.75})


def test_default_static_shares_follow_the_annual_consumption() -> None:
    # Loads 4, 8 and 5 kWh: shares 4/17, 8/17, 5/17. At hour 0, P = 4 gives A 16/17,
    # B 32/17 and C min(20/17, 1) = 1.
    result = balance([A, B, C], allocation="static")
    hour0 = balance(
        [
            Participant("A", 0, 0, np.array([4.0]), np.array([1.0])),
            Participant("B", 1000, 0, None, np.array([2.0])),
            Participant("C", 1500, 0, np.array([0.0]), np.array([1.0])),
        ],
        allocation="static",
        static_shares={"A": 4.0, "B": 8.0, "C": 5.0},
    )
    assert hour0.self_consumed_kwh == pytest.approx(16 / 17 + 32 / 17 + 1.0)
    assert result.self_consumed_kwh <= balance([A, B, C]).self_consumed_kwh + 1e-9


def test_the_perimeter_keeps_the_participants_within_it() -> None:
    far_b = Participant("B", 2500.0, 0.0, None, B.load_kwh)
    # 2.5 km between A and B: with 2 km, the centre keeping the most production is A,
    # alone within 1 km of itself; B and C (1.5 and 2.5 km away) are left out.
    narrow = balance([A, far_b, C], perimeter_km=2.0)
    assert narrow.excluded == ("B", "C")
    assert [p.building_id for p in narrow.participants] == ["A"]
    assert narrow.self_consumed_kwh == pytest.approx(3.0)
    wide = balance([A, far_b, C], perimeter_km=10.0)
    assert wide.excluded == ()
    assert wide.diameter_m == pytest.approx(2500.0)
    assert wide.self_consumed_kwh == pytest.approx(13.0)


def test_diameter_and_bad_input() -> None:
    assert diameter_m(np.array([[0.0, 0.0], [300.0, 400.0]])) == pytest.approx(500.0)
    with pytest.raises(InputError, match="dynamic"):
        balance([A, B], allocation="greedy")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="same number"):
        balance([A, Participant("D", 0, 0, np.ones(3), None)])
    with pytest.raises(InputError):
        balance([A, B], perimeter_km=0.0)


def test_participants_of_a_portfolio() -> None:
    cadastre, records = synthetic.commune(4)
    entries = {
        "BAT00000": synthetic.entry("BAT00000", "retenu"),  # produces only
        "BAT00001": synthetic.entry("BAT00001", "retenu", "ecole", 30_000.0),  # both
        "BAT00002": synthetic.entry("BAT00002", "ecarte", "mairie", 10_000.0),  # consumes
        "BAT00003": synthetic.entry("BAT00003", "a_etudier"),  # neither: left out
    }
    participants = {p.building_id: p for p in commune_participants(cadastre, records, entries)}
    assert set(participants) == {"BAT00000", "BAT00001", "BAT00002"}
    first = participants["BAT00000"]
    assert first.load_kwh is None and first.production_kwh is not None
    # every module of the faces worth equipping: the building's total
    assert first.production_kwh.sum() == pytest.approx(records[0].production_kwh_yr)
    assert participants["BAT00002"].production_kwh is None
    assert participants["BAT00002"].load_kwh.sum() == pytest.approx(10_000.0)
    assert (first.x, first.y) == pytest.approx((synthetic.ORIGIN[0] + 6, synthetic.ORIGIN[1] + 5))
