"""Load shapes of communal buildings: totals, occupancy, school holidays, measured curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solar.calendar import hourly_index
from solar.communes.loadshapes import building_load, usage_shape, usage_shapes
from solar.errors import InputError
from solar.resources import LINKY_EXAMPLE

LOCAL = hourly_index().tz_convert("Europe/Paris")


def _at(day: str, hour: int) -> int:
    """Index of the UTC hour that starts at ``hour`` local time on ``day``."""
    stamp = pd.Timestamp(f"{day} {hour:02d}:00", tz="Europe/Paris")
    return int(np.flatnonzero(stamp == LOCAL)[0])


@pytest.mark.parametrize("usage", sorted(usage_shapes()))
def test_every_shape_sums_to_one_and_scales(usage: str) -> None:
    shape = usage_shape(usage)
    assert shape.shape == (8760,)
    assert shape.sum() == pytest.approx(1.0)
    assert (shape > 0).all()
    load = building_load(usage, 42_000.0)
    assert load is not None
    assert load.annual_kwh == pytest.approx(42_000.0)
    assert load.source.startswith("profil type")


def test_school_is_empty_in_the_holidays_of_zone_b() -> None:
    school = usage_shape("ecole")
    base = usage_shapes()["ecole"].base_share
    # Within one day the seasonal factor is the same: 10:00 over 03:00 is 1 when the
    # school is empty and 1 / base_share when it is occupied.
    # Tuesday 14 Feb 2023: winter holidays of zone B (11 - 27 Feb); Tuesday 7 Feb: class
    # (zone A was on holiday from 4 to 20 Feb: the zone matters).
    assert school[_at("2023-02-14", 10)] / school[_at("2023-02-14", 3)] == pytest.approx(1.0)
    assert school[_at("2023-02-07", 10)] / school[_at("2023-02-07", 3)] == pytest.approx(1 / base)
    # Summer: Tuesday 18 July is empty; Tuesday 5 Sep (back to school on 4 Sep) is not.
    assert school[_at("2023-07-18", 10)] / school[_at("2023-07-18", 3)] == pytest.approx(1.0)
    assert school[_at("2023-09-05", 10)] / school[_at("2023-09-05", 3)] == pytest.approx(1 / base)
    # Wednesdays are empty (four-day week), Mondays are not.
    assert school[_at("2023-03-08", 10)] == pytest.approx(school[_at("2023-03-08", 3)])
    assert school[_at("2023-03-06", 10)] > 2 * school[_at("2023-03-06", 3)]


def test_town_hall_closes_on_public_holidays_and_at_night() -> None:
    hall = usage_shape("mairie")
    base = usage_shapes()["mairie"].base_share
    # 14 July 2023 is a Friday and a public holiday; 7 July a working Friday.
    assert hall[_at("2023-07-14", 10)] / hall[_at("2023-07-14", 3)] == pytest.approx(1.0)
    assert hall[_at("2023-07-07", 10)] / hall[_at("2023-07-07", 3)] == pytest.approx(1 / base)
    assert hall[_at("2023-07-07", 22)] / hall[_at("2023-07-07", 10)] == pytest.approx(base)


def test_winter_ratio_between_mid_january_and_mid_july() -> None:
    church = usage_shape("eglise")
    ratio = usage_shapes()["eglise"].winter_ratio
    # Night hours (empty at both dates) of 15 January and 16 July (day 197).
    assert church[_at("2023-01-15", 3)] / church[_at("2023-07-16", 3)] == pytest.approx(
        ratio, rel=1e-3
    )


def test_a_measured_curve_replaces_the_shape() -> None:
    measured = building_load("ecole", 1.0, curve=LINKY_EXAMPLE, curve_name="ecole.csv")
    assert measured is not None
    assert measured.source == "courbe Enedis"
    assert measured.curve is not None
    # the example Linky export holds 7,303 kWh over its year
    assert measured.annual_kwh == pytest.approx(7303, rel=0.01)


def test_nothing_known_and_bad_input() -> None:
    assert building_load("ecole", None) is None
    assert building_load(None, 0.0) is None
    assert building_load(None, 1000.0).source == "profil type : Autre"  # type: ignore[union-attr]
    with pytest.raises(InputError, match="unknown usage"):
        usage_shape("piscine")
