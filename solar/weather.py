"""Typical-year weather: PVGIS TMY (CSV with or without its header, JSON) and EPW."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True, eq=False)
class Weather:
    """One typical meteorological year, hourly, in UTC.

    Attributes
    ----------
    data : pandas.DataFrame
        8760 rows on a tz-aware UTC hourly index, coerced to the non-leap year 2023 so
        that every source shares one calendar. Columns ``ghi``, ``dni``, ``dhi``
        [W m-2], ``temp_air`` [°C] and ``wind_speed`` [m s-1]. Values are hourly
        means over the hour that starts at the index.
    latitude, longitude : float
        Site of the weather. [°]
    altitude : float
        [m]
    source : str
        The file it was read from.
    """

    data: pd.DataFrame
    latitude: float
    longitude: float
    altitude: float
    source: str
