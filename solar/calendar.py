"""The hourly calendar every series of the cadastre lives on.

Weather, production profiles and load curves are all 8760 hourly values on the UTC
calendar of the non-leap year :data:`YEAR`: value ``h`` is the energy (or the mean power)
over ``[h, h + 1)`` hours after 1 January 00:00 UTC. A typical year mixes months of several
real years, so its rows are coerced to this one; load curves measured in other years are
laid on it by (month, day, hour) (see :mod:`solar.household.loadcurves`).

>>> HOURS_PER_YEAR
8760
>>> int(MONTH_START_HOUR[2])  # 1 March 00:00 UTC
1416
>>> monthly_sums(np.ones(HOURS_PER_YEAR))[:3].tolist()
[744.0, 672.0, 744.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

YEAR = 2023
"""The non-leap year every hourly series is laid on."""

HOURS_PER_YEAR = 8760
"""Hours of :data:`YEAR`."""

MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
"""Days of each month of :data:`YEAR`, January first."""

MONTH_START_HOUR = np.concatenate([[0], np.cumsum(MONTH_DAYS)[:-1]]) * 24
"""(12,) hour of the year at which each month starts."""

MONTH_END_HOUR = np.cumsum(MONTH_DAYS) * 24
"""(12,) hour of the year at which each month ends (exclusive)."""

MONTH_OF_HOUR = np.repeat(np.arange(12), MONTH_DAYS * 24)
"""(8760,) month of each hour, 0 for January to 11 for December."""


def hourly_index() -> pd.DatetimeIndex:
    """The 8760 UTC hours of :data:`YEAR`, tz-aware.

    >>> hourly_index()[0]
    Timestamp('2023-01-01 00:00:00+0000', tz='UTC')
    """
    return pd.date_range(f"{YEAR}-01-01", periods=HOURS_PER_YEAR, freq="h", tz="UTC")


def monthly_sums(hourly: np.ndarray) -> np.ndarray:
    """Sum hourly values into calendar months, along the last axis.

    Parameters
    ----------
    hourly : numpy.ndarray
        (..., 8760) hourly values on the calendar of :data:`YEAR`.

    Returns
    -------
    numpy.ndarray
        (..., 12) float64 sums, January first, in the unit of ``hourly``.
    """
    values = np.asarray(hourly)
    if values.shape[-1] != HOURS_PER_YEAR:
        raise ValueError(f"hourly series have {HOURS_PER_YEAR} values, got {values.shape[-1]}")
    if values.dtype == np.float64:
        return np.add.reduceat(values, MONTH_START_HOUR, axis=-1)
    # Month by month: np.add.reduceat with dtype=float64 would first copy a float32 input
    # whole as float64 (140 MB for 2,000 faces of a build block).
    out = np.empty((*values.shape[:-1], 12))
    for month, (start, end) in enumerate(zip(MONTH_START_HOUR, MONTH_END_HOUR, strict=True)):
        out[..., month] = values[..., start:end].sum(axis=-1, dtype=np.float64)
    return out
