"""What every tile of a build shares: the weather, the sun's path, the module, the optimum."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from solar import irradiance, pv
from solar.weather import Weather, solar_position


@dataclass(frozen=True, eq=False)
class SiteClimate:
    """What every tile shares: the weather, the sun, the module and the site optimum.

    Attributes
    ----------
    weather : Weather
    solpos : pandas.DataFrame
        From :func:`solar.weather.solar_position`.
    sun_azimuth, sun_elevation : numpy.ndarray
        (8760,) clockwise from north, and apparent elevation. [°]
    optimum_kwh_m2 : float
        Annual irradiation of the best unshaded plane at the site, the reference of the
        suitability classes. [kWh m-2 yr-1]
    module : solar.pv.Module
    """

    weather: Weather
    solpos: pd.DataFrame
    sun_azimuth: np.ndarray
    sun_elevation: np.ndarray
    optimum_kwh_m2: float
    module: pv.Module


def site_climate(weather: Weather, module_name: str | None) -> SiteClimate:
    """Solar position and the best unshaded orientation, once per build."""
    solpos = solar_position(weather)
    return SiteClimate(
        weather=weather,
        solpos=solpos,
        sun_azimuth=solpos["azimuth"].to_numpy(np.float64),
        sun_elevation=solpos["apparent_elevation"].to_numpy(np.float64),
        optimum_kwh_m2=site_optimum(weather, solpos),
        module=pv.load_module(module_name),
    )


def site_optimum(weather: Weather, solpos: pd.DataFrame) -> float:
    """Annual irradiation of the best unshaded plane under ``weather``. [kWh m-2 yr-1]

    :func:`solar.irradiance.optimal_orientation` weighs 1,599 planes (20 ms); every build
    of a process under the same weather, whichever file or object it came from, reuses it.
    ``solpos`` is the weather's :func:`solar.weather.solar_position`, which the build has
    already computed.
    """
    return _optimum(_WeatherKey(_weather_digest(weather), weather, solpos))


@dataclass(frozen=True)
class _WeatherKey:
    """A weather, equal to another when their contents are: the key of :func:`_optimum`."""

    digest: str
    weather: Weather = field(compare=False)
    solpos: pd.DataFrame = field(compare=False)


@functools.lru_cache(maxsize=8)
def _optimum(key: _WeatherKey) -> float:
    _, _, optimum = irradiance.optimal_orientation(key.weather, key.solpos)
    return float(optimum)


def _weather_digest(weather: Weather) -> str:
    """SHA-256 of what the optimum depends on: the hourly data, its index and the site."""
    rows = pd.util.hash_pandas_object(weather.data, index=True).to_numpy()
    site = np.array(
        [weather.latitude, weather.longitude, weather.altitude, weather.irradiance_time_offset]
    )
    names = ",".join(map(str, weather.data.columns)).encode()
    return hashlib.sha256(names + rows.tobytes() + site.tobytes()).hexdigest()
