"""Household load curves on the weather calendar: Enedis standard profiles and Linky exports.

Every curve this module returns is a float64 array of 8760 hourly energies [kWh] on the
weather calendar, :func:`solar.calendar.hourly_index`: value ``h`` is the energy consumed
over the UTC hour ``[h, h + 1)``. Household habits
(evening peak, night charging) are defined in Europe/Paris local time and placed on that
UTC calendar, so the daylight-saving days need no special case: the 23-hour and 25-hour
local days are simply 23 and 25 consecutive UTC hours.

Sources
-------
- Enedis Open Data ``conso-inf36``, profiles RES1 (residential, base) and RES2
  (residential with electric heating), 2023, half-hourly aggregates summed into UTC hours
  and normalised to sum 1 (files in ``solar/data/load/enedis_profiles``, Licence Ouverte 2.0).
- The Enedis "courbe de charge" CSV export of a Linky meter (example in
  ``solar/data/load/linky_example``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal, NoReturn

import numpy as np
import pandas as pd

from solar.calendar import HOURS_PER_YEAR, MONTH_OF_HOUR, MONTH_START_HOUR, hourly_index
from solar.errors import InputError
from solar.resources import ENEDIS_PROFILES
from solar.text import fold

PROFILE_DIR = ENEDIS_PROFILES
TIMEZONE = "Europe/Paris"

#: Electric-vehicle charging by default: 12,000 km/yr at 17 kWh/100 km is 2,040 kWh, rounded.
ELECTRIC_VEHICLE_KWH = 2000.0
#: Local hours [start, end) of the two EV charging windows. Night is the usual off-peak
#: ("heures creuses") window; day is the solar window of a car left at home.
EV_WINDOWS = {"night": (22, 6), "day": (10, 16)}
#: Local hours [start, end) of "daytime" for the daytime-presence option.
DAYTIME = (9, 17)
#: Fewest measured hours a Linky curve must have before the rest is filled from RES1.
MIN_MEASURED_HOURS = 7 * 24

#: Highest mean power over one step of a Linky curve [W]: 36 kVA, the largest
#: residential ("tarif bleu") subscription, with a margin of 5/3 for the power factor
#: and a meter's short overloads. A higher value is a unit mistake or a broken export.
MAX_POWER_W = 60_000.0
#: Earliest timestamp of a Linky curve: the first Linky meters were laid in the 2010
#: pilot (Lyon and Tours); the general roll-out began in December 2015.
EARLIEST_READING = datetime(2010, 1, 1, tzinfo=UTC)
#: Latest timestamp of a Linky curve, after now: a day, for clocks and time zones.
FUTURE_MARGIN = timedelta(days=1)

_MONTH_START_DAY = MONTH_START_HOUR // 24
_UNITS = {"w": "W", "kw": "kW", "wh": "Wh", "kwh": "kWh"}
_STEPS = (10, 15, 30, 60)


@dataclass(frozen=True)
class HouseholdOptions:
    """Equipment and habits that reshape a standard profile.

    Every energy given here is added on top of the base household's ``annual_kwh``
    (see :func:`standard_profile`), except ``daytime_presence``, which moves consumption
    within each day and keeps the total.

    Attributes
    ----------
    electric_heating_kwh : float
        Resistive electric heating (convectors). [kWh yr-1] Shaped like the heating
        signature of French electrically heated homes: the Enedis RES2 profile minus the
        RES1 profile scaled to match RES2 in July and August, when nobody heats. That
        signature puts 21% of the year's heating in January and 2% in July, and peaks at
        night (storage heaters and off-peak thermostats).
    heat_pump_kwh : float
        Electricity of a heat pump for space heating. [kWh yr-1] Same seasonal signature
        as ``electric_heating_kwh``, but each day's energy is spread evenly over the day's
        hours: a heat pump on a hydronic loop runs long, low-power cycles rather than the
        night peaks of storage heaters.
    electric_vehicle : {None, "night", "day"}
        Home charging of an electric vehicle: ``"night"`` from 22:00 to 06:00 local time
        (off-peak hours), ``"day"`` from 10:00 to 16:00 (a car at home in the sunny
        hours), every day at constant power.
    electric_vehicle_kwh : float
        Energy charged at home. [kWh yr-1] Default 2,000: 12,000 km at 17 kWh/100 km.
    daytime_presence : bool
        Someone is at home on weekdays (home office, retired). Each weekday's base
        consumption is reshaped so that its share between 09:00 and 17:00 local time rises
        by the weekend-minus-weekday difference of that share in the chosen Enedis profile
        (about 5 points for RES1: 33.6% on weekdays, 38.6% at weekends): a weekday at home
        looks like a weekend day.
    """

    electric_heating_kwh: float = 0.0
    heat_pump_kwh: float = 0.0
    electric_vehicle: Literal["night", "day"] | None = None
    electric_vehicle_kwh: float = ELECTRIC_VEHICLE_KWH
    daytime_presence: bool = False

    def __post_init__(self) -> None:
        for name in ("electric_heating_kwh", "heat_pump_kwh", "electric_vehicle_kwh"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise InputError(f"must be a finite number >= 0, got {value!r}", source=name)
        if self.electric_vehicle not in (None, *EV_WINDOWS):
            raise InputError(
                f"must be null, 'night' or 'day', got {self.electric_vehicle!r}",
                source="electric_vehicle",
            )


@dataclass(frozen=True, eq=False)
class LinkyCurve:
    """A resident's measured load curve placed on the weather calendar.

    Attributes
    ----------
    hourly : numpy.ndarray
        (8760,) float64 energy per UTC hour of the 2023 calendar. [kWh]
    annual_kwh : float
        Sum of ``hourly``, filled hours included. [kWh]
    measured_kwh : float
        Energy of the measured hours that were kept. [kWh]
    measured_hours, filled_hours : int
        Hours taken from the curve, and hours filled from the RES1 profile; they add up
        to 8760.
    step_minutes : int
        Time step of the export. [min]
    unit : str
        Unit of the values in the export: ``"W"``, ``"kW"``, ``"Wh"`` or ``"kWh"``.
    start, end : datetime.datetime
        Start of the first and end of the last interval of the export, tz-aware.
    warnings : tuple of str
        What was dropped or filled, in plain words, for the resident.
    source : str
        Name of the file.
    """

    hourly: np.ndarray
    annual_kwh: float
    measured_kwh: float
    measured_hours: int
    filled_hours: int
    step_minutes: int
    unit: str
    start: datetime
    end: datetime
    warnings: tuple[str, ...]
    source: str


# --------------------------------------------------------------------------- calendar


@lru_cache(maxsize=1)
def _local_calendar() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local hour, weekday flag and local-day id of each UTC hour of the 2023 calendar."""
    local = hourly_index().tz_convert(TIMEZONE)
    hour = np.asarray(local.hour, dtype=np.int64)
    weekday = np.asarray(local.day_of_week < 5)
    day = np.asarray(local.normalize().asi8)
    _, day_id = np.unique(day, return_inverse=True)
    return hour, weekday, day_id


def _in_window(hour: np.ndarray, window: tuple[int, int]) -> np.ndarray:
    start, end = window
    if start < end:
        return (hour >= start) & (hour < end)
    return (hour >= start) | (hour < end)


# --------------------------------------------------------------------------- profiles


@lru_cache(maxsize=2)
def _profile(name: str) -> np.ndarray:
    path = PROFILE_DIR / f"enedis-{name.lower()}-base-normalized.json"
    values = np.asarray(json.loads(path.read_text(encoding="utf-8"))["hourly"], dtype=np.float64)
    if values.shape != (HOURS_PER_YEAR,):
        raise ValueError(f"{path}: expected 8760 hourly values, found {values.shape}")
    values.setflags(write=False)
    return values


def enedis_profile(name: Literal["RES1", "RES2"]) -> np.ndarray:
    """The normalised Enedis profile: 8760 UTC hourly shares of the year, summing to 1.

    Parameters
    ----------
    name : {"RES1", "RES2"}
        RES1: residential, base option. RES2: residential with electric heating.

    Returns
    -------
    numpy.ndarray
        (8760,) float64, read-only.
    """
    if name not in ("RES1", "RES2"):
        raise InputError(f"unknown profile {name!r}; expected 'RES1' or 'RES2'", source="profile")
    return _profile(name)


@lru_cache(maxsize=1)
def heating_signature() -> np.ndarray:
    """Hourly shape of electric space heating, normalised to sum 1.

    RES2 minus RES1 scaled so that both have the same energy in July and August, clipped
    at zero: what electrically heated homes use on top of the same appliances.
    """
    res1, res2 = _profile("RES1"), _profile("RES2")
    summer = (MONTH_OF_HOUR == 6) | (MONTH_OF_HOUR == 7)  # July and August
    scale = res2[summer].sum() / res1[summer].sum()
    shape = np.clip(res2 - scale * res1, 0.0, None)
    shape /= shape.sum()
    shape.setflags(write=False)
    return shape


def _spread_over_days(shape: np.ndarray) -> np.ndarray:
    """Keep each local day's energy of ``shape`` but spread it evenly over its hours."""
    _, _, day_id = _local_calendar()
    per_day = np.bincount(day_id, weights=shape)
    hours = np.bincount(day_id)
    return per_day[day_id] / hours[day_id]


def _with_daytime_presence(base: np.ndarray) -> np.ndarray:
    if not base.any():
        return base  # nothing to move, and the shares below would be 0/0
    hour, weekday, day_id = _local_calendar()
    day = _in_window(hour, DAYTIME)
    n_days = int(day_id.max()) + 1
    total = np.bincount(day_id, weights=base, minlength=n_days)
    daytime = np.bincount(day_id, weights=np.where(day, base, 0.0), minlength=n_days)
    is_weekday = np.bincount(day_id, weights=weekday, minlength=n_days) > 0
    # The share difference comes from the profile itself: weekend days are days at home.
    share_weekday = base[weekday & day].sum() / base[weekday].sum()
    share_weekend = base[~weekday & day].sum() / base[~weekday].sum()
    shift = max(share_weekend - share_weekday, 0.0)
    night = total - daytime
    # Days cut by the calendar's ends may have no daytime hour: nothing moves there.
    moved = np.where(is_weekday & (daytime > 0), shift * total, 0.0)
    moved = np.minimum(moved, night)  # never take more than the night hours hold
    gain = np.divide(moved, daytime, out=np.zeros_like(moved), where=daytime > 0)
    loss = np.divide(moved, night, out=np.zeros_like(moved), where=night > 0)
    return np.where(day, base * (1.0 + gain[day_id]), base * (1.0 - loss[day_id]))


def standard_profile(
    name: Literal["RES1", "RES2"],
    annual_kwh: float,
    options: HouseholdOptions | None = None,
) -> np.ndarray:
    """Hourly load of a household from an Enedis standard profile.

    Parameters
    ----------
    name : {"RES1", "RES2"}
        Enedis profile. RES1: base option, no electric heating. RES2: electric heating,
        which is already in the profile.
    annual_kwh : float
        Yearly consumption of the base household, the one the profile describes. [kWh]
        The options add their own energy on top of it; the result sums to
        ``annual_kwh + electric_heating_kwh + heat_pump_kwh + electric_vehicle_kwh``
        (the last only when an EV is set).
    options : HouseholdOptions, optional
        Equipment and habits; none by default.

    Returns
    -------
    numpy.ndarray
        (8760,) float64 hourly energy on the weather calendar. [kWh]

    Examples
    --------
    >>> load = standard_profile("RES1", 4500.0)
    >>> round(float(load.sum()), 6)
    4500.0
    """
    if not np.isfinite(annual_kwh) or annual_kwh < 0:
        raise InputError(f"must be a finite number >= 0, got {annual_kwh!r}", source="annual_kwh")
    options = options or HouseholdOptions()
    load = enedis_profile(name) * annual_kwh
    if options.daytime_presence:
        load = _with_daytime_presence(load)
    if options.electric_heating_kwh:
        load = load + heating_signature() * options.electric_heating_kwh
    if options.heat_pump_kwh:
        load = load + _spread_over_days(heating_signature()) * options.heat_pump_kwh
    if options.electric_vehicle is not None and options.electric_vehicle_kwh:
        hour, _, _ = _local_calendar()
        window = _in_window(hour, EV_WINDOWS[options.electric_vehicle])
        load = load + window * (options.electric_vehicle_kwh / window.sum())
    return np.ascontiguousarray(load, dtype=np.float64)


# --------------------------------------------------------------------------- Linky


def _read_text(data: bytes | str | os.PathLike[str]) -> str:
    if isinstance(data, os.PathLike):
        data = Path(data).read_bytes()
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Older exports opened and saved in a spreadsheet come back in Windows-1252. Its
            # five undefined bytes become U+FFFD, which the line parser then reports.
            return data.decode("cp1252", errors="replace")
    return data.removeprefix("\ufeff")


def _parse_header(lines: list[str], source: str) -> tuple[str, int | None]:
    expected = "Identifiant PRM;Type de donnees;...;Unite;Pas en minutes"
    if not lines:
        raise InputError("the file is empty", source=source, line=1)
    names = [fold(f).strip() for f in lines[0].split(";")]
    if not names or names[0] != "identifiant prm" or "unite" not in names:
        raise InputError(
            f"expected the Enedis header '{expected}', found {lines[0][:80]!r}",
            source=source,
            line=1,
        )
    if len(lines) < 2:
        raise InputError("missing the line that describes the curve", source=source, line=2)
    values = lines[1].split(";")
    if len(values) < len(names):
        raise InputError(
            f"expected {len(names)} fields under the header, found {len(values)}",
            source=source,
            line=2,
        )
    raw_unit = values[names.index("unite")].strip()
    unit = _UNITS.get(raw_unit.lower())
    if unit is None:
        raise InputError(
            f"unknown unit {raw_unit!r}; expected W or Wh (or kW, kWh)", source=source, line=2
        )
    step: int | None = None
    if "pas en minutes" in names:
        raw_step = values[names.index("pas en minutes")].strip()
        if raw_step:
            try:
                step = int(raw_step)
            except ValueError:
                raise InputError(
                    f"unparsable step {raw_step!r} in 'Pas en minutes'", source=source, line=2
                ) from None
            if step not in _STEPS:
                raise InputError(
                    f"step of {step} min not supported; expected one of {_STEPS}",
                    source=source,
                    line=2,
                )
    if len(lines) < 3 or [fold(f).strip() for f in lines[2].split(";")][:2] != [
        "horodate",
        "valeur",
    ]:
        found = lines[2][:80] if len(lines) >= 3 else "end of file"
        raise InputError(f"expected 'Horodate;Valeur', found {found!r}", source=source, line=3)
    return unit, step


def _parse_rows(lines: list[str], source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Timestamps [s since epoch], values and 1-based line numbers of the data rows."""
    latest = datetime.now(UTC) + FUTURE_MARGIN
    seconds: list[int] = []
    values: list[float] = []
    numbers: list[int] = []
    for index in range(3, len(lines)):
        line = lines[index].strip()
        number = index + 1
        if not line:
            continue
        fields = line.split(";")
        if len(fields) < 2 or any(f.strip() for f in fields[2:]):
            raise InputError(
                f"expected 'timestamp;value', found {line[:80]!r}", source=source, line=number
            )
        stamp_text, value_text = fields[0].strip(), fields[1].strip()
        try:
            stamp = datetime.fromisoformat(stamp_text)
        except ValueError:
            raise InputError(
                f"unparsable timestamp {stamp_text!r}", source=source, line=number
            ) from None
        if stamp.tzinfo is None or stamp.utcoffset() is None:
            raise InputError(
                f"timestamp {stamp_text!r} has no UTC offset (expected e.g. +01:00); "
                "a naive time is ambiguous on daylight-saving days",
                source=source,
                line=number,
            )
        if not EARLIEST_READING <= stamp <= latest:
            raise InputError(
                f"timestamp {stamp_text!r} is outside the dates a Linky meter can have "
                f"recorded ({EARLIEST_READING:%Y-%m-%d} to {latest:%Y-%m-%d})",
                source=source,
                line=number,
            )
        if not value_text:
            raise InputError("missing value", source=source, line=number)
        try:
            value = float(value_text.replace(",", "."))
        except ValueError:
            raise InputError(
                f"unparsable value {value_text!r}", source=source, line=number
            ) from None
        if not np.isfinite(value):
            raise InputError(f"unparsable value {value_text!r}", source=source, line=number)
        if value < 0:
            raise InputError(f"negative value {value_text}", source=source, line=number)
        seconds.append(int(stamp.timestamp()))
        values.append(value)
        numbers.append(number)
    if len(seconds) < 2:
        raise InputError("fewer than two values after 'Horodate;Valeur'", source=source)
    return (
        np.asarray(seconds, dtype=np.int64),
        np.asarray(values, dtype=np.float64),
        np.asarray(numbers, dtype=np.int64),
    )


def _check_spacing(
    seconds: np.ndarray, numbers: np.ndarray, header_step: int | None, source: str
) -> int:
    """The step [min] after checking order, duplicates, gaps and the step itself."""
    diffs = np.diff(seconds)
    first = int(diffs[0])
    if header_step is None:
        if first <= 0 or first % 60 or first // 60 not in _STEPS:
            raise InputError(
                f"cannot infer the step: {first / 60:g} min between the first two values; "
                f"expected one of {_STEPS} min",
                source=source,
                line=int(numbers[1]),
            )
        step = first // 60
    else:
        step = header_step
        if first > 0 and first != step * 60 and first % 60 == 0 and first // 60 in _STEPS:
            raise InputError(
                f"wrong step: the values are {first // 60} min apart but 'Pas en minutes' "
                f"says {step}",
                source=source,
                line=int(numbers[1]),
            )
    step_s = step * 60
    bad = np.flatnonzero(diffs == 0)
    if bad.size:
        _raise_at(numbers, int(bad[0]), "duplicate timestamp", source)
    bad = np.flatnonzero(diffs < 0)
    if bad.size:
        _raise_at(numbers, int(bad[0]), "timestamp earlier than the line before", source)
    bad = np.flatnonzero(diffs % step_s != 0)
    if bad.size or seconds[0] % step_s:
        i = int(bad[0]) if bad.size else -1
        gap = f"{diffs[i] / 60:g} min after the line before" if i >= 0 else "off the step grid"
        _raise_at(numbers, i, f"wrong step: {gap}, expected {step} min", source)
    gaps = np.flatnonzero(diffs > step_s)
    if gaps.size:
        missing = int((diffs[gaps] // step_s - 1).sum())
        i = int(gaps[0])
        raise InputError(
            f"gap: {gaps.size} gap(s), {missing} missing value(s) in all; the first gap "
            f"misses {int(diffs[i] // step_s - 1)} value(s) before this line",
            source=source,
            line=int(numbers[i + 1]),
        )
    return step


def _check_power(
    power_w: np.ndarray, values: np.ndarray, numbers: np.ndarray, unit: str, source: str
) -> None:
    """Refuse the first value whose mean power over its step passes ``MAX_POWER_W``."""
    over = np.flatnonzero(power_w > MAX_POWER_W)
    if over.size:
        first = int(over[0])
        raise InputError(
            f"value {values[first]:g} {unit} is a mean power of {power_w[first] / 1000:,.0f} kW"
            f", above the {MAX_POWER_W / 1000:g} kW a residential meter can deliver",
            source=source,
            line=int(numbers[first]),
        )


def _raise_at(numbers: np.ndarray, diff_index: int, message: str, source: str) -> NoReturn:
    raise InputError(message, source=source, line=int(numbers[diff_index + 1]))


def _calendar_position(hours: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, position on the 2023 calendar and a leap-day flag of UTC hour numbers."""
    stamps = hours.astype("datetime64[h]")
    days = stamps.astype("datetime64[D]")
    years = stamps.astype("datetime64[Y]")
    month = (stamps.astype("datetime64[M]") - years.astype("datetime64[M]")).astype(np.int64)
    day = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    hour = (stamps - days.astype("datetime64[h]")).astype(np.int64)
    leap_day = (month == 1) & (day == 28)
    position = (_MONTH_START_DAY[month] + day) * 24 + hour
    return years.astype(np.int64) + 1970, position, leap_day


def read_linky(data: bytes | str | os.PathLike[str], *, source: str = "linky.csv") -> LinkyCurve:
    """Read an Enedis/Linky "courbe de charge" export onto the weather calendar.

    The layout is the Enedis CSV: a header line ``Identifiant PRM;Type de donnees;Date de
    debut;Date de fin;Grandeur physique;Grandeur metier;Etape metier;Unite;Pas en
    minutes``, one line of values for it, then ``Horodate;Valeur`` and one
    ``timestamp;value`` row per step (``2022-07-29T00:30:00+02:00;330``). A UTF-8 BOM,
    Windows line endings and a Windows-1252 encoding are accepted.

    Conventions, checked on the Enedis example (2022-07-29 to 2023-07-29, 17,520 values):

    - **A timestamp ends its interval.** The first row is 00:30 and the last 00:00 one year
      later, so the 17,520 half-hours cover exactly ``[2022-07-29 00:00, 2023-07-29
      00:00)`` local time.
    - **Values in W (or kW) are the mean power over the step**: energy = value x step / 60
      [Wh]. Values in Wh (or kWh) are energies.
    - The step comes from ``Pas en minutes`` (10, 15, 30 or 60); when that field is empty,
      as in the example, it is the spacing of the first two rows.

    Mapping: each interval is converted to UTC and summed into UTC hours; each hour goes to
    its (month, day, hour) on the 2023 calendar. Daylight-saving days keep every hour, since
    UTC has no gap and no repeat. 29 February is dropped. A curve longer than a year keeps
    its last 8,760 hours. A curve shorter than a year (but of at least 7 days) is completed
    from the RES1 profile scaled so that RES1 and the curve agree on the measured hours;
    the hours filled are counted and reported in ``warnings``. Incomplete hours at either
    end of the curve count as missing.

    Parameters
    ----------
    data : bytes, str or os.PathLike
        The file's bytes, its text (a ``str`` is content, not a path), or a path.
    source : str
        Name used in error messages and kept in the result.

    Returns
    -------
    LinkyCurve

    Raises
    ------
    solar.errors.InputError
        With the 1-based ``line`` at fault: a wrong header (1), an unknown unit or step (2),
        no ``Horodate;Valeur`` line (3), an unparsable or naive timestamp, one before
        ``EARLIEST_READING`` or more than ``FUTURE_MARGIN`` after now, a missing,
        unparsable or negative value, a mean power above ``MAX_POWER_W``, a duplicate, a
        wrong step, a gap (the first gap's line, with the count of gaps and missing
        values), or fewer than 7 days of data.
    """
    if isinstance(data, os.PathLike) and source == "linky.csv":
        source = Path(data).name
    lines = _read_text(data).splitlines()
    unit, header_step = _parse_header(lines, source)
    seconds, values, numbers = _parse_rows(lines, source)
    step = _check_spacing(seconds, numbers, header_step, source)
    step_s = step * 60

    factor = {"W": step / 60 / 1000, "kW": step / 60, "Wh": 1e-3, "kWh": 1.0}[unit]
    energy = values * factor
    _check_power(energy * 1000 / (step / 60), values, numbers, unit, source)
    starts = seconds - step_s  # a timestamp ends its interval
    hour_numbers = starts // 3600
    first_hour = int(hour_numbers[0])
    offset = hour_numbers - first_hour
    energy_by_hour = np.bincount(offset, weights=energy)
    samples = np.bincount(offset)
    hours = np.arange(first_hour, first_hour + energy_by_hour.size, dtype=np.int64)

    complete = samples == 3600 // step_s
    warnings: list[str] = []
    # Only the two ends can be incomplete: the spacing checks ruled out inner gaps.
    keep = complete.copy()
    years, position, leap_day = _calendar_position(hours)
    if leap_day[keep].any():
        warnings.append(
            f"{int(leap_day[keep].sum())} hours of 29 February were dropped: the weather "
            "calendar has no leap day."
        )
    keep &= ~leap_day
    continuous = (years - years.min()) * HOURS_PER_YEAR + position
    if keep.any() and continuous[keep].max() - continuous[keep].min() >= HOURS_PER_YEAR:
        newest = continuous[keep].max()
        older = keep & (continuous <= newest - HOURS_PER_YEAR)
        warnings.append(
            f"The curve is longer than a year: only its last 8,760 hours are used "
            f"({int(older.sum())} older hours ignored)."
        )
        keep &= ~older

    hourly = np.zeros(HOURS_PER_YEAR)
    measured = np.zeros(HOURS_PER_YEAR, dtype=bool)
    hourly[position[keep]] = energy_by_hour[keep]
    measured[position[keep]] = True
    measured_hours = int(measured.sum())
    if measured_hours < MIN_MEASURED_HOURS:
        raise InputError(
            f"the curve covers {measured_hours} complete hours; at least "
            f"{MIN_MEASURED_HOURS} (7 days) are needed to estimate a year",
            source=source,
        )
    measured_kwh = float(hourly.sum())
    filled_hours = HOURS_PER_YEAR - measured_hours
    if filled_hours:
        res1 = _profile("RES1")
        hourly[~measured] = res1[~measured] * (measured_kwh / res1[measured].sum())
        warnings.append(
            f"{filled_hours} of 8,760 hours ({100 * filled_hours / HOURS_PER_YEAR:.1f}%) are "
            "not in the curve and were filled from the Enedis RES1 profile, scaled to the "
            "measured hours."
        )
    return LinkyCurve(
        hourly=hourly,
        annual_kwh=float(hourly.sum()),
        measured_kwh=measured_kwh,
        measured_hours=measured_hours,
        filled_hours=filled_hours,
        step_minutes=step,
        unit=unit,
        start=pd.Timestamp(int(seconds[0]) - step_s, unit="s", tz="UTC").to_pydatetime(),
        end=pd.Timestamp(int(seconds[-1]), unit="s", tz="UTC").to_pydatetime(),
        warnings=tuple(warnings),
        source=source,
    )
