"""Hourly load of communal buildings: a shape per usage, scaled to the annual consumption.

A commune rarely has the hourly curve of its town hall or school, but it knows the annual
kWh of each building from its bills. :func:`usage_shape` gives the hourly shape of a use
(town hall and offices, school, gym, workshop, church), normalised to sum 1 over the year
on the calendar of :mod:`solar.calendar`, and :func:`building_load` scales it, or takes the
building's own Enedis load curve instead (:func:`solar.household.loadcurves.read_linky`),
which always wins over a shape.

The shapes and their assumptions are in ``solar/data/communal_loads.toml``: the power is
``base_share`` of the occupied-hour power when the building is empty and 1 when it is
occupied, times a seasonal factor. Occupied hours are local (Europe/Paris); the school is
empty during the school holidays of zone B (Hauts-de-France) of
``solar/data/school_holidays_zone_b.toml``, and most buildings on public holidays.

Seasonal factor of day-of-year ``d`` (mid-January = day 15 is the darkest, coldest):
``s(d) = 1 + a cos(2 pi (d - 15) / 365)`` with ``a = (r - 1) / (r + 1)``, so that
``s(15) / s(197) = r``, the usage's ``winter_ratio``.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from solar.calendar import YEAR, hourly_index
from solar.errors import InputError
from solar.household.loadcurves import TIMEZONE, LinkyCurve, read_linky
from solar.resources import DATA_DIR

COMMUNAL_LOADS = DATA_DIR / "communal_loads.toml"
"""The usages' load-shape parameters, with their sources and assumptions."""

SCHOOL_HOLIDAYS = DATA_DIR / "school_holidays_zone_b.toml"
"""School holidays of zone B and public holidays of the calendar year."""

#: Day of the year of the seasonal peak (mid-January).
_PEAK_DAY = 15


@dataclass(frozen=True)
class UsageShape:
    """The load-shape parameters of one use of a communal building.

    Attributes
    ----------
    usage : str
        Key of the portfolio's ``usage`` (``mairie``, ``ecole``, ...).
    label : str
        Its French name, for the reports.
    hours : dict of int to tuple of int
        Occupied local hours ``[start, end)`` per weekday (0 = Monday); a day absent is
        empty.
    base_share : float
        Power of an empty hour over that of an occupied hour. [-]
    winter_ratio : float
        Power in mid-January over that in mid-July, at equal occupancy. [-]
    closed_school_holidays, closed_public_holidays : bool
        Whether the building is empty on school holidays (zone B) and public holidays.
    """

    usage: str
    label: str
    hours: dict[int, tuple[int, int]]
    base_share: float
    winter_ratio: float
    closed_school_holidays: bool
    closed_public_holidays: bool


@lru_cache(maxsize=1)
def usage_shapes() -> dict[str, UsageShape]:
    """Every usage of ``communal_loads.toml``, by key."""
    with COMMUNAL_LOADS.open("rb") as f:
        raw: dict[str, Any] = tomllib.load(f)["usages"]
    return {
        key: UsageShape(
            usage=key,
            label=str(values["label"]),
            hours={int(day): (int(h[0]), int(h[1])) for day, h in values["hours"].items()},
            base_share=float(values["base_share"]),
            winter_ratio=float(values["winter_ratio"]),
            closed_school_holidays=bool(values["closed_school_holidays"]),
            closed_public_holidays=bool(values["closed_public_holidays"]),
        )
        for key, values in raw.items()
    }


@lru_cache(maxsize=1)
def _calendar() -> dict[str, np.ndarray]:
    """Local weekday, hour, date and day of year of each UTC hour, with the holiday flags."""
    local = hourly_index().tz_convert(TIMEZONE)
    dates = np.asarray(local.date)
    with SCHOOL_HOLIDAYS.open("rb") as f:
        holidays = tomllib.load(f)
    if holidays["year"] != YEAR:
        raise ValueError(f"{SCHOOL_HOLIDAYS}: holidays of {holidays['year']}, not of {YEAR}")
    school = np.zeros(dates.size, dtype=bool)
    for period in holidays["holidays"]:
        start: dt.date = period["start"]
        end: dt.date = period["end"]
        school |= (dates >= start) & (dates < end)
    public = np.isin(dates, np.array(holidays["public_holidays"], dtype=object))
    return {
        "weekday": np.asarray(local.day_of_week, dtype=np.int64),
        "hour": np.asarray(local.hour, dtype=np.int64),
        "day_of_year": np.asarray(local.day_of_year, dtype=np.int64),
        "school_holiday": school,
        "public_holiday": public,
    }


def occupied_hours(shape: UsageShape) -> np.ndarray:
    """(8760,) bool: the UTC hours of the calendar during which the building is occupied."""
    cal = _calendar()
    occupied = np.zeros(cal["hour"].size, dtype=bool)
    for day, (start, end) in shape.hours.items():
        occupied |= (cal["weekday"] == day) & (cal["hour"] >= start) & (cal["hour"] < end)
    if shape.closed_school_holidays:
        occupied &= ~cal["school_holiday"]
    if shape.closed_public_holidays:
        occupied &= ~cal["public_holiday"]
    return occupied


def usage_shape(usage: str) -> np.ndarray:
    """The hourly shape of a use, normalised to sum 1 over the year.

    Parameters
    ----------
    usage : str
        A key of :func:`usage_shapes` (the portfolio's ``usage``).

    Returns
    -------
    numpy.ndarray
        (8760,) float64 shares of the annual energy, per UTC hour of the calendar. [-]

    Examples
    --------
    >>> round(float(usage_shape("ecole").sum()), 9)
    1.0
    """
    shapes = usage_shapes()
    if usage not in shapes:
        raise InputError(
            f"unknown usage {usage!r}; expected one of {', '.join(shapes)}", source="usage"
        )
    shape = shapes[usage]
    cal = _calendar()
    a = (shape.winter_ratio - 1.0) / (shape.winter_ratio + 1.0)
    season = 1.0 + a * np.cos(2.0 * np.pi * (cal["day_of_year"] - _PEAK_DAY) / 365.0)
    power = season * np.where(occupied_hours(shape), 1.0, shape.base_share)
    return power / power.sum()


@dataclass(frozen=True, eq=False)
class BuildingLoad:
    """A communal building's hourly load and where it comes from.

    Attributes
    ----------
    hourly_kwh : numpy.ndarray
        (8760,) float64 hourly consumption on the calendar. [kWh]
    annual_kwh : float
        Its sum. [kWh]
    source : str
        ``"courbe Enedis"`` for a measured curve, else the usage's label
        (``"profil type : École"``), in French for the reports.
    curve : LinkyCurve or None
        The measured curve, with its warnings, when there is one.
    """

    hourly_kwh: np.ndarray
    annual_kwh: float
    source: str
    curve: LinkyCurve | None = None


def measured_load(curve: LinkyCurve) -> BuildingLoad:
    """A communal building's load from its own Enedis load curve."""
    return BuildingLoad(curve.hourly, curve.annual_kwh, "courbe Enedis", curve)


def building_load(
    usage: str | None,
    annual_kwh: float | None,
    *,
    curve: bytes | str | os.PathLike[str] | None = None,
    curve_name: str = "courbe.csv",
) -> BuildingLoad | None:
    """The hourly load of a communal building, or None when nothing is known of it.

    Parameters
    ----------
    usage : str or None
        The building's use; ``autre`` when None and an annual consumption is given.
    annual_kwh : float or None
        Annual consumption the commune entered. [kWh]
    curve : bytes, str or path-like, optional
        The building's own Enedis load curve export; it replaces the shape and the annual
        consumption.
    curve_name : str
        Name of the curve's file, for the messages.

    Returns
    -------
    BuildingLoad or None
        None without a curve and without an annual consumption > 0.
    """
    if curve is not None:
        return measured_load(read_linky(curve, source=curve_name))
    if annual_kwh is None or annual_kwh <= 0:
        return None
    if not np.isfinite(annual_kwh):
        raise InputError(f"must be a finite number, got {annual_kwh!r}", source="annual_kwh")
    key = usage or "autre"
    hourly = usage_shape(key) * float(annual_kwh)
    label = usage_shapes()[key].label
    return BuildingLoad(hourly, float(hourly.sum()), f"profil type : {label}")
