"""Typical-year weather: PVGIS TMY (CSV with or without its header, JSON) and EPW.

Every source is read into one :class:`Weather`: 8760 hourly rows on the UTC calendar of
:mod:`solar.calendar` (each month of a typical year comes from a different year, and all
are coerced to its non-leap year), with pvlib's column names.

Timestamp convention
--------------------
A weather row holds values for the hour labelled by its index, but the instant whose sun
position matches the irradiance values depends on the source.
:attr:`Weather.irradiance_time_offset` records it, and :func:`solar_position` evaluates the
sun at ``index + offset``.

- **PVGIS TMY** (all three layouts). The irradiance labelled ``HH:00`` UTC is derived from
  the satellite (SARAH) slot a few minutes later, not from a mean over the hour. Checked on
  the default Artois file: on the 140 clear days (daily clear-sky index > 0.8), the
  least-squares fit of the hourly GHI against the Ineichen clear-sky shape evaluated at
  ``HH:00 + Δ`` is best at Δ = 10.2 min (RMSE 41.85 W m-2, against 48.4 W m-2 at the
  mid-hour Δ = 30 min and 43.6 W m-2 at Δ = 0), and the GHI-weighted mean clock time of
  each clear day sits 9.4 min (median) before solar noon. With the sun at ``HH:10``, the
  GHI-weighted mean solar azimuth of the 67 mostly-beam days is 180.0° (185.9° with the
  sun at mid-hour, 177.1° at the label; a test checks it). The official PVGIS files state
  this offset in their header ("Irradiance Time Offset (h): 0.1761" at 45N 8E); it is used
  when present, and :data:`PVGIS_IRRADIANCE_OFFSET` (10 min) otherwise.
- **EPW**. Irradiance is the energy of the hour that *ends* at the label, in local
  standard time (``TZ`` field of the LOCATION line). pvlib indexes the row at the start
  of that hour, so the offset is 30 min. EPW files written by PVGIS are the exception: their
  rows are the UTC rows of the PVGIS CSV (the same values, hour for hour) whatever the
  ``TZ`` field says, and their "Irradiance Time Offset" comment is counted from the end of
  the hour.

The default weather of the Artois, :data:`solar.resources.DEFAULT_WEATHER`, is the PVGIS
TMY 2005-2020 at 50.811N 3.310E (Menen, 55 km north of Lens): GHI 1099.7 kWh m-2 yr-1, mean
air temperature 11.1 °C.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from solar.calendar import HOURS_PER_YEAR, hourly_index
from solar.errors import InputError

PVGIS_IRRADIANCE_OFFSET = 10.0 / 60.0
"""Instant of a PVGIS irradiance value after its ``HH:00`` label, when the file does not say.
Fitted on the default file (see the module docstring). [h]"""

HOURLY_MEAN_OFFSET = 0.5
"""Offset of an hourly mean: the middle of the hour that starts at the index. [h]"""

COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
IRRADIANCE_COLUMNS = ("ghi", "dni", "dhi")

HEADERLESS_COLUMNS = (
    "time(UTC)",
    "T2m",
    "RH",
    "G(h)",
    "Gb(n)",
    "Gd(h)",
    "IR(h)",
    "WS10m",
    "WD10m",
    "SP",
)
"""The PVGIS TMY table header, the first line of a headerless PVGIS CSV."""

_PVGIS_TO_PVLIB = {
    "G(h)": "ghi",
    "Gb(n)": "dni",
    "Gd(h)": "dhi",
    "T2m": "temp_air",
    "WS10m": "wind_speed",
}
_PVGIS_ROW = re.compile(rb"^\d{8}:\d{4},")
_SITE_IN_NAME = re.compile(r"tmy_(-?\d+(?:\.\d+)?)_(-?\d+(?:\.\d+)?)_")
# EPW codes for a missing value (EnergyPlus Auxiliary Programs, "Data Dictionary").
_EPW_MISSING = {"ghi": 9999.0, "dni": 9999.0, "dhi": 9999.0, "temp_air": 99.9, "wind_speed": 999.0}
_EPW_HEADER_LINES = 8


@dataclass(frozen=True, eq=False)
class Weather:
    """One typical meteorological year, hourly, in UTC.

    Attributes
    ----------
    data : pandas.DataFrame
        8760 rows on the tz-aware UTC hourly index of :func:`solar.calendar.hourly_index`,
        so that every source shares one calendar. Columns ``ghi``, ``dni``, ``dhi``
        [W m-2], ``temp_air`` [°C] and ``wind_speed`` [m s-1] (at 10 m for PVGIS).
    latitude, longitude : float
        Site of the weather. [°]
    altitude : float
        [m]
    source : str
        The file it was read from.
    irradiance_time_offset : float
        When, after its index label, the sun stands where a row's irradiance was
        observed: 0.5 for hourly means over the hour starting at the index, about 0.17
        for PVGIS (see the module docstring). :func:`solar_position` uses it. [h]
    """

    data: pd.DataFrame
    latitude: float
    longitude: float
    altitude: float
    source: str
    irradiance_time_offset: float = HOURLY_MEAN_OFFSET


def read_weather(
    path: str | os.PathLike[str],
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    altitude: float | None = None,
) -> Weather:
    """Read a typical meteorological year.

    Parameters
    ----------
    path : str or path-like
        A PVGIS TMY file (``.csv`` with or without its header, ``.json``) or an EPW
        (``.epw``).
    latitude, longitude : float, optional
        Site of the weather. [°] Required for a headerless PVGIS CSV whose file name is not
        PVGIS' own ``tmy_<lat>_<lon>_<start>_<end>.csv``; they override the file otherwise.
    altitude : float, optional
        [m] Overrides the file. A headerless PVGIS CSV carries no elevation: it is then
        derived from the mean surface pressure ``SP`` (:func:`pvlib.atmosphere.pres2alt`).

    Returns
    -------
    Weather

    Raises
    ------
    InputError
        Naming the file (and the line when it is a text file) when it cannot be read, has
        other columns, not 8760 hours, missing values or negative irradiance.

    Examples
    --------
    >>> from solar.resources import DEFAULT_WEATHER
    >>> w = read_weather(DEFAULT_WEATHER)
    >>> len(w.data), str(w.data.index.tz), int(w.data.index.year[0])
    (8760, 'UTC', 2023)
    """
    source = os.fspath(path)
    p = Path(path)
    if not p.is_file():
        raise InputError("no such weather file", source=source)
    suffix = p.suffix.lower()
    if suffix == ".epw":
        weather = _read_epw(p)
    elif suffix == ".json":
        weather = _read_pvgis_json(p)
    else:
        with p.open("rb") as f:
            first = f.readline()
        if first.startswith(b"time(UTC)"):
            weather = _read_pvgis_headerless(p, latitude, longitude)
        elif first.startswith(b"Latitude"):
            weather = _read_pvgis_csv(p)
        else:
            raise InputError(
                "not a weather file this reader knows: expected a PVGIS TMY CSV (with or "
                "without its header), a PVGIS JSON or an EPW",
                source=source,
                line=1,
            )
    return Weather(
        data=weather.data,
        latitude=weather.latitude if latitude is None else float(latitude),
        longitude=weather.longitude if longitude is None else float(longitude),
        altitude=weather.altitude if altitude is None else float(altitude),
        source=source,
        irradiance_time_offset=weather.irradiance_time_offset,
    )


def solar_position(weather: Weather) -> pd.DataFrame:
    """Sun position at the instant each row's irradiance stands for.

    Parameters
    ----------
    weather : Weather

    Returns
    -------
    pandas.DataFrame
        Columns ``apparent_zenith``, ``zenith``, ``azimuth`` (clockwise from north) and
        ``apparent_elevation`` [°], on ``weather.data.index``. The sun is computed by
        :func:`pvlib.solarposition.get_solarposition` (NREL SPA) at
        ``index + weather.irradiance_time_offset``, with the row's air temperature for
        refraction.
    """
    index = pd.DatetimeIndex(weather.data.index)
    times = index + pd.Timedelta(hours=weather.irradiance_time_offset)
    position = pvlib.solarposition.get_solarposition(
        times,
        weather.latitude,
        weather.longitude,
        altitude=weather.altitude,
        temperature=weather.data["temp_air"].to_numpy(),
    )
    out = position[["apparent_zenith", "zenith", "azimuth", "apparent_elevation"]].copy()
    out.index = index
    return out


def _read_pvgis_headerless(p: Path, latitude: float | None, longitude: float | None) -> Weather:
    source = str(p)
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"unreadable CSV: {exc}", source=source) from exc
    if tuple(raw.columns) != HEADERLESS_COLUMNS:
        raise InputError(
            f"expected the columns {','.join(HEADERLESS_COLUMNS)}, found {','.join(raw.columns)}",
            source=source,
            line=1,
        )
    if latitude is None or longitude is None:
        match = _SITE_IN_NAME.search(p.name)
        if match is None:
            raise InputError(
                "a headerless PVGIS CSV does not say where it is: pass latitude= and "
                "longitude= (or keep PVGIS' file name tmy_<lat>_<lon>_...)",
                source=source,
            )
        latitude = float(match.group(1)) if latitude is None else latitude
        longitude = float(match.group(2)) if longitude is None else longitude
    numbers = raw[[*_PVGIS_TO_PVLIB, "SP"]].apply(pd.to_numeric, errors="coerce")
    frame = numbers.rename(columns=_PVGIS_TO_PVLIB)
    times = _parse_pvgis_times(raw["time(UTC)"], source, first_line=2)
    data = _validated(frame, times, source, first_line=2)
    # The file has no elevation; the mean surface pressure gives it within a few metres.
    altitude = float(pvlib.atmosphere.pres2alt(numbers["SP"].mean()))
    return Weather(
        data, float(latitude), float(longitude), altitude, source, PVGIS_IRRADIANCE_OFFSET
    )


def _read_pvgis_csv(p: Path) -> Weather:
    source = str(p)
    lines = p.read_bytes().splitlines()
    rows = [i for i, line in enumerate(lines) if _PVGIS_ROW.match(line)]
    if len(rows) != HOURS_PER_YEAR:
        raise InputError(f"expected {HOURS_PER_YEAR} hourly rows, found {len(rows)}", source=source)
    first_line = rows[0] + 1
    try:
        frame, meta = pvlib.iotools.read_pvgis_tmy(p, pvgis_format="csv")
    except (ValueError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise InputError(f"not a PVGIS TMY CSV: {exc}", source=source) from exc
    inputs = meta["inputs"]
    data = _validated(frame, frame.index, source, first_line=first_line)
    offset = inputs.get("irradiance time offset", PVGIS_IRRADIANCE_OFFSET)
    return Weather(
        data,
        float(inputs["latitude"]),
        float(inputs["longitude"]),
        float(inputs["elevation"]),
        source,
        float(offset),
    )


def _read_pvgis_json(p: Path) -> Weather:
    source = str(p)
    try:
        frame, meta = pvlib.iotools.read_pvgis_tmy(p, pvgis_format="json")
        location = meta["inputs"]["location"]
        latitude, longitude = float(location["latitude"]), float(location["longitude"])
        elevation = float(location["elevation"])
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise InputError(f"not a PVGIS TMY JSON: {exc}", source=source) from exc
    data = _validated(frame, frame.index, source, first_line=None)
    offset = location.get("irradiance_time_offset", PVGIS_IRRADIANCE_OFFSET)
    return Weather(data, latitude, longitude, elevation, source, float(offset))


def _read_epw(p: Path) -> Weather:
    source = str(p)
    try:
        frame, meta = pvlib.iotools.read_epw(p)
    except (ValueError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise InputError(f"not an EPW file: {exc}", source=source) from exc
    if len(frame) != HOURS_PER_YEAR:
        raise InputError(
            f"expected {HOURS_PER_YEAR} hourly rows, found {len(frame)}", source=source
        )
    with p.open(encoding="utf-8", errors="replace") as f:
        header = [f.readline() for _ in range(_EPW_HEADER_LINES)]
    pvgis_offset = re.search(r"Irradiance Time Offset \(h\):\s*(-?[\d.]+)", "".join(header))
    frame = frame.copy()
    for column, missing in _EPW_MISSING.items():
        frame.loc[frame[column] >= missing, column] = np.nan
    if pvgis_offset is None:
        times = frame.index.tz_convert("UTC")
        offset = HOURLY_MEAN_OFFSET
    else:
        # PVGIS writes UTC rows whatever its TZ field says, and counts the offset from the
        # end of the hour, where EPW puts its label; pvlib indexes the start of the hour.
        times = frame.index.tz_localize(None).tz_localize("UTC")
        offset = 1.0 + float(pvgis_offset.group(1))
    data = _validated(frame, times, source, first_line=_EPW_HEADER_LINES + 1)
    return Weather(
        data,
        float(meta["latitude"]),
        float(meta["longitude"]),
        float(meta["altitude"]),
        source,
        offset,
    )


def _parse_pvgis_times(text: pd.Series, source: str, first_line: int) -> pd.DatetimeIndex:
    times = pd.to_datetime(text, format="%Y%m%d:%H%M", utc=True, errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if bad.size:
        raise InputError(
            f"bad timestamp {text.iloc[bad[0]]!r}, expected YYYYMMDD:HHMM",
            source=source,
            line=first_line + int(bad[0]),
        )
    return pd.DatetimeIndex(times)


def _validated(
    frame: pd.DataFrame, times: pd.Index, source: str, first_line: int | None
) -> pd.DataFrame:
    """Check one year of hourly rows and put it on the calendar's UTC hours."""
    missing_columns = [c for c in COLUMNS if c not in frame.columns]
    if missing_columns:
        raise InputError(f"missing columns {', '.join(missing_columns)}", source=source)
    if len(frame) != HOURS_PER_YEAR:
        raise InputError(
            f"expected {HOURS_PER_YEAR} hourly rows, found {len(frame)}", source=source
        )
    values = frame[list(COLUMNS)].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)

    def line_of(row: int) -> int | None:
        return None if first_line is None else first_line + row

    nan_rows, nan_cols = np.nonzero(np.isnan(values))
    if nan_rows.size:
        raise InputError(
            f"missing or non-numeric {COLUMNS[nan_cols[0]]}",
            source=source,
            line=line_of(int(nan_rows[0])),
        )
    irradiance = values[:, : len(IRRADIANCE_COLUMNS)]
    neg_rows, neg_cols = np.nonzero(irradiance < 0)
    if neg_rows.size:
        row, col = int(neg_rows[0]), int(neg_cols[0])
        raise InputError(
            f"negative irradiance {COLUMNS[col]} = {irradiance[row, col]}",
            source=source,
            line=line_of(row),
        )
    index = pd.DatetimeIndex(times)
    if index.tz is None:
        raise InputError("timestamps without a time zone", source=source)
    index = index.tz_convert("UTC")
    if ((index.month == 2) & (index.day == 29)).any():
        raise InputError(f"29 February in a typical year of {HOURS_PER_YEAR} hours", source=source)
    # A typical year splices months of different years; only the calendar position counts.
    # Rows that a time-zone shift pushed into the previous or next year wrap around.
    hours = (index.day_of_year.to_numpy() - 1) * 24 + index.hour.to_numpy()
    leap_after_feb = index.is_leap_year & (index.month > 2)
    hours = np.where(leap_after_feb, hours - 24, hours)
    order = np.argsort(hours, kind="stable")
    if not np.array_equal(hours[order], np.arange(HOURS_PER_YEAR)) or (index.minute != 0).any():
        raise InputError(
            f"the rows are not the {HOURS_PER_YEAR} distinct hours of one year on the hour",
            source=source,
        )
    return pd.DataFrame(values[order], index=hourly_index(), columns=list(COLUMNS))
