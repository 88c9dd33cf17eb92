"""Hourly irradiance on roof faces: Perez transposition with the surroundings' shade.

The plane-of-array irradiance of a face is split the way Perez et al. (1990) split the sky:

- beam ``dni · cos(aoi)`` and the circumsolar disc ``dhi · F1 · cos(aoi) / max(cos z, cos 85°)``,
  both seen only where the sun is, so both are scaled by the face's lit fraction;
- the isotropic background ``dhi · (1 - F1) · (1 + cos β) / 2``, scaled by the face's sky view;
- the horizon band ``dhi · F2 · sin β``, scaled by the open share of the low horizon;
- the ground reflection ``ghi · albedo · (1 - cos β) / 2``, kept (the ground seen by a roof is
  mostly other roofs and streets, about as bright as the open ground it replaces).

With nothing around a face this is exactly :func:`pvlib.irradiance.get_total_irradiance`
with ``model="perez"`` (the tests check it), except at the few hours where pvlib returns
NaN because ``dhi`` and ``dni`` are both zero with the sun up; here they are 0.

The modules' glass reflects more light the more obliquely it arrives. With an
:class:`IncidenceModifier`, :func:`poa_irradiance` also returns the irradiance that reaches
the cells (``poa_effective``): the beam and the circumsolar disc times the modifier at the
hour's angle of incidence, the isotropic sky, the horizon band and the ground reflection
each times its own diffuse modifier (Marion 2017). The irradiation figures and the shading
losses stay those of the plane (``poa_global``).

Every term is a per-hour series times a per-face factor, and ``cos(aoi)`` is the product of
the face normal and the sun vector. So the per-hour series are computed once for all faces,
and each face is then one fused float32 pass over the hours (the faces in parallel): its
normal times the (3, n_hours) sun vectors, and its factors times the series.
:func:`poa_sums` runs the same hours into monthly sums, for a build that stores no hours,
and :func:`hour_on_cells` gives one hour to other kernels (the production's).

References
----------
.. [1] R. Perez, P. Ineichen, R. Seals, J. Michalsky and R. Stewart, "Modeling daylight
   availability and irradiance components from direct and global irradiance", Solar
   Energy 44(5), 271-289, 1990. :doi:`10.1016/0038-092X(90)90055-H`
.. [2] B. Marion, "Numerical calculation of diffuse incidence angle modifiers", IEEE 44th
   Photovoltaic Specialist Conference, 2017. :doi:`10.1109/PVSC.2017.8366463`
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd
import pvlib
from numba import njit, prange
from numpy.typing import ArrayLike

from solar.calendar import monthly_sums
from solar.weather import Weather

PEREZ_MODEL = "allsitescomposite1990"
"""Name of the coefficient set of :data:`PEREZ_COEFFICIENTS` in pvlib, whose default for
:func:`pvlib.irradiance.perez` it is."""

PEREZ_CLEARNESS_EDGES = (0.0, 1.065, 1.23, 1.5, 1.95, 2.8, 4.5, 6.2)
"""Lower edges of the eight sky clearness bins ε, overcast to clear (Perez et al. 1990,
table 1, whose first bin starts at ε = 1, a sky without beam; 0 keeps values rounded below
1 in it, as in pvlib). [unitless]"""

PEREZ_COEFFICIENTS = np.array(
    [
        [-0.008, 0.588, -0.062, -0.060, 0.072, -0.022],
        [0.130, 0.683, -0.151, -0.019, 0.066, -0.029],
        [0.330, 0.487, -0.221, 0.055, -0.064, -0.026],
        [0.568, 0.187, -0.295, 0.109, -0.152, -0.014],
        [0.873, -0.392, -0.362, 0.226, -0.462, 0.001],
        [1.132, -1.237, -0.412, 0.288, -0.823, 0.056],
        [1.060, -1.600, -0.359, 0.264, -1.127, 0.131],
        [0.678, -0.327, -0.250, 0.156, -1.377, 0.251],
    ]
)
"""Perez et al. (1990), table 6, all sites composite: one row per clearness bin of
:data:`PEREZ_CLEARNESS_EDGES`, columns F11, F12, F13 (circumsolar brightening F1) and F21,
F22, F23 (horizon brightening F2), with F = Fx1 + Fx2 · Δ + Fx3 · Z, Δ the sky brightness
and Z the zenith angle in radians. The same numbers as pvlib's ``allsitescomposite1990``
set (a test checks it). [unitless]"""


@dataclass(frozen=True, eq=False)
class Shading:
    """How much of the sun and the sky each face sees, from the horizon maps.

    Attributes
    ----------
    lit_fraction : numpy.ndarray
        (n_faces, 8760) share of the face lit by the sun at each hour. [0..1]
    sky_view : numpy.ndarray
        (n_faces,) visible share of the face's unobstructed isotropic sky (cosine
        weighted). [0..1]
    horizon_band_open : numpy.ndarray
        (n_faces,) open share of the low horizon band. [0..1]
    """

    lit_fraction: np.ndarray
    sky_view: np.ndarray
    horizon_band_open: np.ndarray


@dataclass(frozen=True, eq=False)
class IncidenceModifier:
    """The share of the light on a module plane that its glass lets through to the cells.

    Attributes
    ----------
    beam : numpy.ndarray
        (k,) modifier of the light from one direction at ``cos(aoi)`` sampled evenly from 0
        to 1 (``numpy.linspace(0, 1, k)``), interpolated linearly in between; applied to
        the beam and the circumsolar disc. [0..1]
    sky, horizon, ground : numpy.ndarray
        (n_faces,) modifiers of the isotropic sky, the horizon band and the ground
        reflection, each the beam modifier integrated over its part of the view
        (:func:`pvlib.iam.marion_diffuse`). [0..1]
    """

    beam: np.ndarray
    sky: np.ndarray
    horizon: np.ndarray
    ground: np.ndarray


@dataclass(frozen=True, eq=False)
class PlaneOfArray:
    """Hourly irradiance on each face.

    Attributes
    ----------
    poa_global : numpy.ndarray
        (n_faces, 8760) float32, all the irradiance on the plane. [W m-2]
    poa_direct : numpy.ndarray
        (n_faces, 8760) float32, beam and circumsolar, after shading. [W m-2]
    poa_diffuse : numpy.ndarray
        (n_faces, 8760) float32, isotropic sky, horizon band and ground reflection. [W m-2]
    index : pandas.DatetimeIndex
        The 8760 hours, UTC.
    open_direct : numpy.ndarray or None
        (n_faces, 8760) float32, beam and circumsolar of the same faces with nothing around
        them, when asked for with ``with_open``. [W m-2]
    open_annual_kwh_m2 : numpy.ndarray or None
        (n_faces,) annual irradiation of the same faces with nothing around them, when asked
        for with ``with_open``. [kWh m-2 yr-1]
    poa_effective : numpy.ndarray or None
        (n_faces, 8760) float32, the irradiance that reaches the cells through the glass,
        shading included, when an :class:`IncidenceModifier` is given. [W m-2]
    """

    poa_global: np.ndarray
    poa_direct: np.ndarray
    poa_diffuse: np.ndarray
    index: pd.DatetimeIndex
    open_direct: np.ndarray | None = None
    open_annual_kwh_m2: np.ndarray | None = None
    poa_effective: np.ndarray | None = None

    @cached_property
    def annual_kwh_m2(self) -> np.ndarray:
        """(n_faces,) irradiation over the year. [kWh m-2 yr-1]"""
        return self.poa_global.sum(axis=1, dtype=np.float64) / 1000.0

    @cached_property
    def monthly_kwh_m2(self) -> np.ndarray:
        """(n_faces, 12) irradiation per calendar month. [kWh m-2]"""
        return monthly_sums(self.poa_global) / 1000.0


class SkySeries(NamedTuple):
    """Per-hour series of the decomposition, float32, (8760,) each, from
    :func:`sky_series`: the part of :func:`poa_irradiance` that no plane changes."""

    sun: np.ndarray  # (3, 8760) unit vector towards the sun: (up, north, east)
    dni: np.ndarray  # [W m-2]
    circumsolar: np.ndarray  # per unit cos(aoi) [W m-2]
    isotropic: np.ndarray  # per unit (1 + cos β) / 2 [W m-2]
    horizon: np.ndarray  # per unit sin β [W m-2]
    ground: np.ndarray  # per unit (1 - cos β) / 2 [W m-2]
    # int64 hours with any light: every term of the other hours is 0 on every plane
    light_hours: np.ndarray


class Planes(NamedTuple):
    """Per-plane factors of :func:`poa_irradiance`'s terms, from :func:`planes`."""

    normal: np.ndarray  # (n, 3) float32 unit normal, (up, north, east)
    # (n, 3) float32 factors of the isotropic sky, horizon band and ground, shading included
    views: np.ndarray
    open_views: np.ndarray  # (n, 3) float64, the same with nothing around the plane
    lit: np.ndarray  # (n, 8760) float32 lit fraction, or (0, 0) when nothing shades
    iam_beam: np.ndarray  # (k,) float32 beam modifier sampled on cos(aoi), or (0,) without one
    iam_views: np.ndarray  # (n, 3) float32 diffuse modifiers of the sky, band and ground


def poa_irradiance(
    weather: Weather,
    solpos: pd.DataFrame,
    surface_tilt: ArrayLike,
    surface_azimuth: ArrayLike,
    *,
    shading: Shading | None = None,
    albedo: float = 0.2,
    with_open: bool = False,
    iam: IncidenceModifier | None = None,
) -> PlaneOfArray:
    """Hourly plane-of-array irradiance of many faces, with their shade.

    Parameters
    ----------
    weather : Weather
    solpos : pandas.DataFrame
        From :func:`solar.weather.solar_position`: ``apparent_zenith`` and ``azimuth``. [°]
    surface_tilt : array_like
        (n_faces,) tilt from horizontal. [°]
    surface_azimuth : array_like
        (n_faces,) clockwise from north. [°] None or NaN marks a flat face, taken as
        horizontal (tilt 0), whatever its ``surface_tilt``.
    shading : Shading, optional
        None for faces with nothing around them.
    albedo : float, default 0.2
        Ground reflectance. [unitless]
    with_open : bool, default False
        Also return the direct part and the annual total of the same faces with nothing
        around them (``open_direct``, ``open_annual_kwh_m2``), in the same pass: the
        shading loss and the per-pixel maps need both.
    iam : IncidenceModifier, optional
        The modules' incidence-angle modifier: also return ``poa_effective``.

    Returns
    -------
    PlaneOfArray

    Notes
    -----
    ``apparent_zenith`` drives both the geometry and the relative air mass
    (Kasten and Young 1989), as in pvlib's ModelChain; ``dni_extra`` is Spencer's (1971).
    The three (n_faces, 8760) float32 outputs take 105 kB per face: call it on blocks of
    a few thousand faces, or ask :func:`poa_sums` for the sums alone.
    """
    sky = sky_series(weather, solpos, albedo)
    factors = planes(surface_tilt, surface_azimuth, len(weather.data), shading=shading, iam=iam)
    n, n_hours = factors.normal.shape[0], sky.dni.size
    poa_global = np.empty((n, n_hours), dtype=np.float32)
    poa_direct = np.empty((n, n_hours), dtype=np.float32)
    poa_diffuse = np.empty((n, n_hours), dtype=np.float32)
    open_direct = np.empty((n, n_hours) if with_open else (0, 0), dtype=np.float32)
    open_annual = np.zeros(n if with_open else 0)
    poa_effective = np.empty((n, n_hours) if iam is not None else (0, 0), dtype=np.float32)
    _poa_kernel(
        sky, factors, poa_global, poa_direct, poa_diffuse, open_direct, open_annual, poa_effective
    )
    return PlaneOfArray(
        poa_global,
        poa_direct,
        poa_diffuse,
        pd.DatetimeIndex(weather.data.index),
        open_direct if with_open else None,
        open_annual / 1000.0 if with_open else None,
        poa_effective if iam is not None else None,
    )


@dataclass(frozen=True, eq=False)
class PlaneSums:
    """The monthly irradiation of faces, and what the per-pixel maps need of their hours.

    Attributes
    ----------
    monthly_kwh_m2 : numpy.ndarray
        (n_faces, 12) irradiation of each calendar month, shading included. [kWh m-2]
    open_direct : numpy.ndarray or None
        (n_faces, 8760) float32, beam and circumsolar of the same faces with nothing around
        them, when asked for with ``with_open``. [W m-2]
    open_annual_kwh_m2 : numpy.ndarray or None
        (n_faces,) annual irradiation of the same faces with nothing around them, when asked
        for with ``with_open``. [kWh m-2 yr-1]
    """

    monthly_kwh_m2: np.ndarray
    open_direct: np.ndarray | None = None
    open_annual_kwh_m2: np.ndarray | None = None

    @cached_property
    def annual_kwh_m2(self) -> np.ndarray:
        """(n_faces,) irradiation over the year, shading included. [kWh m-2 yr-1]"""
        return self.monthly_kwh_m2.sum(axis=1)


def poa_sums(
    weather: Weather,
    solpos: pd.DataFrame,
    surface_tilt: ArrayLike,
    surface_azimuth: ArrayLike,
    *,
    shading: Shading | None = None,
    albedo: float = 0.2,
    with_open: bool = False,
) -> PlaneSums:
    """:func:`poa_irradiance`, kept to what a build stores.

    The same hours, term for term, summed into months as they are computed: no
    (n_faces, 8760) array is written but, with ``with_open``, the open direct part that
    the per-pixel maps weigh their hours by.

    Parameters
    ----------
    weather, solpos, surface_tilt, surface_azimuth, shading, albedo, with_open
        As for :func:`poa_irradiance`.

    Returns
    -------
    PlaneSums
    """
    sky = sky_series(weather, solpos, albedo)
    factors = planes(surface_tilt, surface_azimuth, len(weather.data), shading=shading)
    n, n_hours = factors.normal.shape[0], sky.dni.size
    month = _month_of_hour(weather)
    open_direct = np.zeros((n, n_hours) if with_open else (0, 0), dtype=np.float32)
    open_annual = np.zeros(n if with_open else 0)
    monthly = np.zeros((n, 12))
    _poa_sums_kernel(sky, factors, month, open_direct, open_annual, monthly)
    if not with_open:
        return PlaneSums(monthly / 1000.0)
    return PlaneSums(monthly / 1000.0, open_direct, open_annual / 1000.0)


def _month_of_hour(weather: Weather) -> np.ndarray:
    """Month of each hour of the weather, 0 for January. [int64]"""
    return pd.DatetimeIndex(weather.data.index).month.to_numpy().astype(np.int64) - 1


def planes(
    surface_tilt: ArrayLike,
    surface_azimuth: ArrayLike,
    n_hours: int,
    *,
    shading: Shading | None = None,
    iam: IncidenceModifier | None = None,
) -> Planes:
    """The per-plane factors of :func:`poa_irradiance`, checked.

    Parameters
    ----------
    surface_tilt, surface_azimuth, shading, iam
        As for :func:`poa_irradiance`.
    n_hours : int
        Hours of the weather, the length of ``shading.lit_fraction``'s rows.

    Returns
    -------
    Planes
    """
    tilt = np.asarray(surface_tilt, dtype=np.float64).reshape(-1)
    azimuth = np.asarray(surface_azimuth, dtype=np.float64).reshape(-1)
    if tilt.shape != azimuth.shape:
        raise ValueError(f"{tilt.size} tilts but {azimuth.size} azimuths")
    flat = np.isnan(azimuth)
    tilt = np.where(flat, 0.0, tilt)
    # A horizontal plane's normal points up whatever its azimuth: any finite one will do.
    azimuth = np.where(flat, 0.0, azimuth)
    n = tilt.size
    if shading is not None:
        _check_shading(shading, n, n_hours)
    if iam is not None:
        _check_iam(iam, n)
    beta, gamma = np.radians(tilt), np.radians(azimuth)
    # Face normal as (up, north, east) so that normal · sun = cos(aoi), as pvlib's aoi_projection.
    normal = np.stack(
        [np.cos(beta), np.sin(beta) * np.cos(gamma), np.sin(beta) * np.sin(gamma)], axis=1
    ).astype(np.float32)
    view_iso = ((1.0 + np.cos(beta)) / 2.0).astype(np.float32)
    view_horizon = np.sin(beta).astype(np.float32)
    view_ground = ((1.0 - np.cos(beta)) / 2.0).astype(np.float32)
    if shading is not None:
        view_iso = view_iso * np.asarray(shading.sky_view, dtype=np.float32)
        view_horizon = view_horizon * np.asarray(shading.horizon_band_open, dtype=np.float32)
    iam_beam = np.zeros(0, dtype=np.float32)
    iam_views = np.zeros((n, 3), dtype=np.float32)
    if iam is not None:
        iam_beam = np.ascontiguousarray(iam.beam, dtype=np.float32)
        iam_views = np.stack([iam.sky, iam.horizon, iam.ground], axis=1).astype(np.float32)
    return Planes(
        normal=normal,
        views=np.stack([view_iso, view_horizon, view_ground], axis=1),
        open_views=np.stack(
            [(1.0 + np.cos(beta)) / 2.0, np.sin(beta), (1.0 - np.cos(beta)) / 2.0], axis=1
        ),
        lit=np.zeros((0, 0), dtype=np.float32)
        if shading is None
        else np.ascontiguousarray(shading.lit_fraction, dtype=np.float32),
        iam_beam=iam_beam,
        iam_views=iam_views,
    )


@njit(cache=True, inline="always")
def _open_hour(
    sky: SkySeries, factors: Planes, f: int, h: int
) -> tuple[float, float, float, float]:  # pragma: no cover - numba
    """cos(aoi), beam, circumsolar and ground reflection of plane ``f`` at hour ``h``,
    before any shade."""
    normal = factors.normal
    sun = sky.sun
    # clip: pvlib's aoi_projection clips to [-1, 1]; a face does not see the sun from behind
    cos_aoi = min(
        max(normal[f, 0] * sun[0, h] + normal[f, 1] * sun[1, h] + normal[f, 2] * sun[2, h], 0.0),
        1.0,
    )
    return (
        cos_aoi,
        cos_aoi * sky.dni[h],
        cos_aoi * sky.circumsolar[h],
        factors.views[f, 2] * sky.ground[h],
    )


@njit(cache=True, inline="always")
def _open_parts(
    sky: SkySeries, factors: Planes, f: int, h: int, beam: float, circ: float
) -> tuple[float, float]:  # pragma: no cover - numba
    """Direct (beam and circumsolar) and sky diffuse of plane ``f`` with nothing around."""
    sky_open = (
        factors.open_views[f, 0] * sky.isotropic[h] + factors.open_views[f, 1] * sky.horizon[h]
    )
    # pvlib clips a negative sky diffuse (a dark horizon band, F2 < 0, can outweigh the
    # rest) to 0, and with it all three of its components
    if circ + sky_open < 0.0:
        return beam, 0.0
    return beam + circ, sky_open


@njit(cache=True, inline="always")
def _shaded_parts(
    sky: SkySeries, factors: Planes, f: int, h: int, beam: float, circ: float
) -> tuple[float, float]:  # pragma: no cover - numba
    """Direct (beam and circumsolar) and sky diffuse of plane ``f``, its shading applied."""
    if factors.lit.shape[0] > 0:
        beam *= factors.lit[f, h]
        circ *= factors.lit[f, h]
    sky_diffuse = factors.views[f, 0] * sky.isotropic[h] + factors.views[f, 1] * sky.horizon[h]
    if circ + sky_diffuse < 0.0:
        return beam, 0.0
    return beam + circ, sky_diffuse


@njit(cache=True, inline="always")
def _through_glass(
    sky: SkySeries,
    factors: Planes,
    f: int,
    h: int,
    cos_aoi: float,
    direct: float,
    sky_diffuse: float,
    reflected: float,
) -> float:  # pragma: no cover - numba
    """The irradiance that reaches the cells of plane ``f`` through its glass."""
    last = factors.iam_beam.shape[0] - 1
    position = cos_aoi * last
    k = min(int(position), last - 1)
    t = position - k
    modifier = (1.0 - t) * factors.iam_beam[k] + t * factors.iam_beam[k + 1]
    sky_through = 0.0
    if sky_diffuse != 0.0:
        sky_through = (
            factors.iam_views[f, 0] * factors.views[f, 0] * sky.isotropic[h]
            + factors.iam_views[f, 1] * factors.views[f, 1] * sky.horizon[h]
        )
    return modifier * direct + sky_through + factors.iam_views[f, 2] * reflected


@njit(cache=True, inline="always")
def hour_on_cells(
    sky: SkySeries, factors: Planes, f: int, h: int
) -> tuple[np.float32, np.float32]:  # pragma: no cover - numba
    """Plane-of-array and effective irradiance of plane ``f`` at hour ``h``, as
    :func:`poa_irradiance` stores them in ``poa_global`` and ``poa_effective`` (float32).

    For kernels that use the hours without keeping them. ``factors`` needs an incidence
    modifier. [W m-2]
    """
    cos_aoi, beam, circ, reflected = _open_hour(sky, factors, f, h)
    direct, sky_diffuse = _shaded_parts(sky, factors, f, h, beam, circ)
    effective = _through_glass(sky, factors, f, h, cos_aoi, direct, sky_diffuse, reflected)
    return np.float32(direct + sky_diffuse + reflected), np.float32(effective)


@njit(parallel=True, cache=True)
def _poa_kernel(
    sky: SkySeries,
    factors: Planes,
    poa_global: np.ndarray,
    poa_direct: np.ndarray,
    poa_diffuse: np.ndarray,
    open_direct: np.ndarray,
    open_annual: np.ndarray,
    poa_effective: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Global, direct (beam + circumsolar) and diffuse irradiance, one face per task.

    ``open_direct`` and ``open_annual`` are empty unless the faces with nothing around
    them are wanted too; ``poa_effective`` is empty unless an incidence-angle modifier is
    given. One fused pass per element, where numpy would sweep (n, 8760) arrays ten times.
    """
    n_faces, n_hours = poa_global.shape
    with_open = open_direct.shape[0] > 0
    effective = poa_effective.shape[0] > 0
    for f in prange(n_faces):
        open_total = 0.0
        for h in range(n_hours):
            cos_aoi, beam, circ, reflected = _open_hour(sky, factors, f, h)
            if with_open:
                direct_open, sky_open = _open_parts(sky, factors, f, h, beam, circ)
                open_direct[f, h] = direct_open
                open_total += direct_open + sky_open + reflected
            direct, sky_diffuse = _shaded_parts(sky, factors, f, h, beam, circ)
            poa_direct[f, h] = direct
            poa_diffuse[f, h] = sky_diffuse + reflected
            poa_global[f, h] = direct + sky_diffuse + reflected
            if effective:
                poa_effective[f, h] = _through_glass(
                    sky, factors, f, h, cos_aoi, direct, sky_diffuse, reflected
                )
        if with_open:
            open_annual[f] = open_total


@njit(parallel=True, cache=True)
def _poa_sums_kernel(
    sky: SkySeries,
    factors: Planes,
    month: np.ndarray,
    open_direct: np.ndarray,
    open_annual: np.ndarray,
    monthly: np.ndarray,
) -> None:  # pragma: no cover - numba
    """:func:`_poa_kernel`'s global irradiance summed by month (each hour rounded to
    float32 first, as stored there), and its open figures unless they are empty; over the
    hours with light, ``open_direct`` holding zeros at the others."""
    n_faces = monthly.shape[0]
    with_open = open_direct.shape[0] > 0
    for f in prange(n_faces):
        open_total = 0.0
        for h in sky.light_hours:
            _, beam, circ, reflected = _open_hour(sky, factors, f, h)
            if with_open:
                direct_open, sky_open = _open_parts(sky, factors, f, h, beam, circ)
                open_direct[f, h] = direct_open
                open_total += direct_open + sky_open + reflected
            direct, sky_diffuse = _shaded_parts(sky, factors, f, h, beam, circ)
            monthly[f, month[h]] += np.float32(direct + sky_diffuse + reflected)
        if with_open:
            open_annual[f] = open_total


def diffuse_terms(
    weather: Weather, solpos: pd.DataFrame, surface_tilt: ArrayLike, *, albedo: float = 0.2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unobstructed isotropic, horizon-band and ground terms of many planes, summed.

    The three diffuse terms of :func:`poa_irradiance` with nothing around the plane, over
    the year and each month, so that a caller can scale the first two by a point's own sky
    view and open horizon band (per-pixel irradiation maps).

    Parameters
    ----------
    weather : Weather
    solpos : pandas.DataFrame
        From :func:`solar.weather.solar_position`.
    surface_tilt : array_like
        (n,) tilt from horizontal. [°]
    albedo : float, default 0.2
        Ground reflectance. [unitless]

    Returns
    -------
    isotropic, horizon, ground : numpy.ndarray
        Each (n, 13): the year, then months 1 to 12. [kWh m-2]

    Notes
    -----
    Hours where pvlib would clip a negative sky diffuse to 0 (a dark horizon band) are
    kept as they are here: they are rare on roofs and weigh a few Wh m-2 a year.
    """
    sky = sky_series(weather, solpos, albedo)

    def sums(series: np.ndarray) -> np.ndarray:
        monthly = monthly_sums(series) / 1000.0
        return np.concatenate([[monthly.sum()], monthly])

    beta = np.radians(np.asarray(surface_tilt, dtype=np.float64).reshape(-1, 1))
    return (
        (1.0 + np.cos(beta)) / 2.0 * sums(sky.isotropic),
        np.sin(beta) * sums(sky.horizon),
        (1.0 - np.cos(beta)) / 2.0 * sums(sky.ground),
    )


def point_irradiation(
    beam_kwh_m2: np.ndarray,
    sky_view: np.ndarray,
    horizon_band_open: np.ndarray,
    plane: np.ndarray,
    terms: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """Irradiation of points on planes: their own beam, and the planes' diffuse terms
    scaled by their own views.

    ``beam + sky_view * isotropic + horizon_band_open * horizon + ground``, each term of
    ``terms`` (:func:`diffuse_terms`) taken on the point's plane, in one pass.

    Parameters
    ----------
    beam_kwh_m2 : numpy.ndarray
        (n, k) beam and circumsolar irradiation of each point over k periods. [kWh m-2]
    sky_view, horizon_band_open : numpy.ndarray
        (n,) each point's views (:func:`solar.shading.pixel_sky_view`). [0..1]
    plane : numpy.ndarray
        (n,) each point's plane, an index into the rows of ``terms``.
    terms : tuple of numpy.ndarray
        The isotropic, horizon-band and ground terms, (n_planes, k) each. [kWh m-2]

    Returns
    -------
    numpy.ndarray
        (n, k) float64. [kWh m-2]
    """
    beam = np.ascontiguousarray(beam_kwh_m2, dtype=np.float64)
    isotropic, horizon, ground = (np.ascontiguousarray(t, dtype=np.float64) for t in terms)
    index = np.asarray(plane, dtype=np.int64)
    if not (isotropic.shape == horizon.shape == ground.shape) or isotropic.ndim != 2:
        raise ValueError("the diffuse terms must share one (n_planes, k) shape")
    if beam.shape != (index.size, isotropic.shape[1]):
        raise ValueError(f"beam has shape {beam.shape}, not ({index.size}, {isotropic.shape[1]})")
    if index.size and (index.min() < 0 or index.max() >= isotropic.shape[0]):
        raise ValueError(f"plane indices must lie in [0, {isotropic.shape[0]})")
    out = np.empty_like(beam)
    _point_kernel(
        beam,
        np.asarray(sky_view, dtype=np.float64),
        np.asarray(horizon_band_open, dtype=np.float64),
        index,
        isotropic,
        horizon,
        ground,
        out,
    )
    return out


@njit(cache=True)
def _point_kernel(
    beam: np.ndarray,
    sky_view: np.ndarray,
    band_open: np.ndarray,
    plane: np.ndarray,
    isotropic: np.ndarray,
    horizon: np.ndarray,
    ground: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """:func:`point_irradiation`, point by point: numpy would sweep (n, k) arrays nine
    times."""
    for p in range(beam.shape[0]):
        f = plane[p]
        for m in range(beam.shape[1]):
            out[p, m] = beam[p, m] + (
                sky_view[p] * isotropic[f, m] + band_open[p] * horizon[f, m] + ground[f, m]
            )


def optimal_orientation(weather: Weather, solpos: pd.DataFrame) -> tuple[float, float, float]:
    """The unshaded plane that receives the most irradiation over the year at the site.

    A coarse grid (tilt 0-90° by 5°, azimuth 0-355° by 5°) finds the neighbourhood of the
    optimum, then a 1° grid over ±5° of tilt and ±10° of azimuth around it refines it. The
    annual irradiation is flat near its maximum (a few tenths of a percent over ±5°), so a
    1° grid is as precise as the question.

    Parameters
    ----------
    weather : Weather
    solpos : pandas.DataFrame
        From :func:`solar.weather.solar_position`.

    Returns
    -------
    surface_tilt : float
        [°]
    surface_azimuth : float
        Clockwise from north. [°]
    irradiation : float
        Annual irradiation on that plane, albedo 0.2. [kWh m-2 yr-1]
    """
    tilt, azimuth = np.meshgrid(np.arange(0.0, 91.0, 5.0), np.arange(0.0, 360.0, 5.0))
    coarse = poa_sums(weather, solpos, tilt.ravel(), azimuth.ravel()).annual_kwh_m2
    best = int(np.argmax(coarse))
    t0, a0 = float(tilt.ravel()[best]), float(azimuth.ravel()[best])
    tilt, azimuth = np.meshgrid(
        np.clip(np.arange(t0 - 5.0, t0 + 5.5, 1.0), 0.0, 90.0),
        np.arange(a0 - 10.0, a0 + 10.5, 1.0) % 360.0,
    )
    fine = poa_sums(weather, solpos, tilt.ravel(), azimuth.ravel()).annual_kwh_m2
    best = int(np.argmax(fine))
    return float(tilt.ravel()[best]), float(azimuth.ravel()[best]), float(fine[best])


_SKY_CACHE_SIZE = 4
# (id(weather), id(solpos), albedo) -> (weather, solpos, terms): the objects are held so
# that their ids cannot be reused by others while their entry lives
_sky_cache: OrderedDict[tuple[int, int, float], tuple[Weather, pd.DataFrame, SkySeries]] = (
    OrderedDict()
)
_sky_cache_lock = threading.Lock()


def sky_series(weather: Weather, solpos: pd.DataFrame, albedo: float) -> SkySeries:
    """The sky's decomposition for ``weather``, computed once per weather object.

    Parameters
    ----------
    weather : Weather
    solpos : pandas.DataFrame
        From :func:`solar.weather.solar_position`.
    albedo : float
        Ground reflectance. [unitless]

    Returns
    -------
    SkySeries

    Notes
    -----
    The service recomputes one building's hourly production per request, always on the
    cadastre's one weather: the decomposition (Perez coefficients, air mass) is then half of
    the work. Weather and solar position are treated as immutable, as everywhere here.
    """
    key = (id(weather), id(solpos), float(albedo))
    with _sky_cache_lock:
        cached = _sky_cache.get(key)
        if cached is not None:
            _sky_cache.move_to_end(key)
            return cached[2]
    sky = _compute_sky_terms(weather, solpos, albedo)
    with _sky_cache_lock:
        _sky_cache[key] = (weather, solpos, sky)
        while len(_sky_cache) > _SKY_CACHE_SIZE:
            _sky_cache.popitem(last=False)
    return sky


def _compute_sky_terms(weather: Weather, solpos: pd.DataFrame, albedo: float) -> SkySeries:
    data = weather.data
    ghi = data["ghi"].to_numpy(np.float64)
    dni = data["dni"].to_numpy(np.float64)
    dhi = data["dhi"].to_numpy(np.float64)
    zenith = solpos["apparent_zenith"].to_numpy(np.float64)
    solar_azimuth = solpos["azimuth"].to_numpy(np.float64)
    # By day of year, which is what pvlib uses from a DatetimeIndex (Spencer 1971).
    day_of_year = pd.DatetimeIndex(data.index).day_of_year.to_numpy()
    dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(day_of_year), dtype=np.float64)
    airmass = np.asarray(pvlib.atmosphere.get_relative_airmass(zenith), dtype=np.float64)
    f1, f2 = _perez_f1_f2(dhi, dni, dni_extra, zenith, airmass)
    # Below the horizon pvlib's air mass is NaN and perez() returns no sky diffuse.
    up = np.isfinite(airmass) & np.isfinite(f1) & np.isfinite(f2)
    f1, f2 = np.where(up, f1, 0.0), np.where(up, f2, 0.0)
    cos_zenith = np.cos(np.radians(zenith))
    b = np.maximum(cos_zenith, np.cos(np.radians(85.0)))
    z, az = np.radians(zenith), np.radians(solar_azimuth)
    sun = np.stack([np.cos(z), np.sin(z) * np.cos(az), np.sin(z) * np.sin(az)])

    def f32(series: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(series, dtype=np.float32)

    series = {
        "dni": f32(dni),
        "circumsolar": f32(np.where(up, dhi * f1 / b, 0.0)),
        "isotropic": f32(np.where(up, dhi * (1.0 - f1), 0.0)),
        "horizon": f32(np.where(up, dhi * f2, 0.0)),
        "ground": f32(ghi * albedo),
    }
    light = np.any([values != 0.0 for values in series.values()], axis=0)
    return SkySeries(sun=f32(sun), **series, light_hours=np.flatnonzero(light).astype(np.int64))


def _perez_f1_f2(
    dhi: np.ndarray,
    dni: np.ndarray,
    dni_extra: np.ndarray,
    zenith: np.ndarray,
    airmass: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Perez (1990) circumsolar and horizon brightening coefficients F1, F2 per hour.

    :func:`pvlib.irradiance.perez` computes the same F1 and F2 but only returns them
    multiplied by one plane's geometry; they are needed on their own to factor the
    geometry out. Same clearness bins, same coefficient table, same clipping of F1 at 0.
    """
    kappa = 1.041  # Perez et al. (1990), for the zenith in radians
    z = np.radians(zenith)
    delta = dhi * airmass / dni_extra
    with np.errstate(invalid="ignore", divide="ignore"):
        eps = ((dhi + dni) / dhi + kappa * z**3) / (1.0 + kappa * z**3)
    ebin = np.digitize(eps, PEREZ_CLEARNESS_EDGES) - 1
    # No bin (NaN ε, where dhi = 0) takes the row of NaN appended at index -1.
    ebin[np.isnan(eps)] = -1
    c = np.vstack([PEREZ_COEFFICIENTS, np.full((1, 6), np.nan)])
    f1 = np.maximum(c[ebin, 0] + c[ebin, 1] * delta + c[ebin, 2] * z, 0.0)
    f2 = c[ebin, 3] + c[ebin, 4] * delta + c[ebin, 5] * z
    return f1, f2


def _check_iam(iam: IncidenceModifier, n_faces: int) -> None:
    beam = np.asarray(iam.beam)
    if beam.ndim != 1 or beam.size < 2:
        raise ValueError("IncidenceModifier.beam needs at least 2 samples")
    for name in ("sky", "horizon", "ground"):
        shape = np.asarray(getattr(iam, name)).shape
        if shape != (n_faces,):
            raise ValueError(f"IncidenceModifier.{name} has shape {shape}, expected ({n_faces},)")


def _check_shading(shading: Shading, n_faces: int, n_hours: int) -> None:
    expected = {
        "lit_fraction": (n_faces, n_hours),
        "sky_view": (n_faces,),
        "horizon_band_open": (n_faces,),
    }
    for name, shape in expected.items():
        value = np.asarray(getattr(shading, name))
        if value.shape != shape:
            raise ValueError(f"Shading.{name} has shape {value.shape}, expected {shape}")
        # min and max propagate NaN, which then fails the test as well
        if value.size and not (value.min() >= 0.0 and value.max() <= 1.0):
            raise ValueError(f"Shading.{name} must lie in [0, 1]")
