"""Shading of roof pixels and faces from their horizons: sky views and sunlit hours.

:func:`solar.horizon.horizon_angles` gives every roof pixel its horizon [°] toward
``n_sectors`` azimuths (clockwise from north, sector ``k`` toward ``k * 360 / n_sectors``).
Shading then needs no shadow casting per hour:

- the sun at (azimuth, elevation) reaches a pixel when it stands above the horizontal and
  strictly above the pixel's horizon toward its azimuth, interpolated linearly between the
  two neighbouring sectors; :func:`face_shading` gives each face the hourly share of its
  pixels so lit, :func:`pixel_lit_sums` each pixel's sum of an hourly weight (its beam
  irradiation [Wh m-2]) over its lit hours, and :func:`module_lit_fraction` the hourly
  factor on a face's beam after the bypass-diode and string mismatch of the modules laid
  on it (:mod:`solar.mismatch`); :func:`face_and_pixel_shading` gives the first two, and
  the pixels' views, from one test of each pixel;
- the isotropic sky reaches a tilted plane in the share :func:`sky_view` of its
  cosine-weighted view of the sky (a view factor, as Dozier and Frew [1]_ derive it from
  horizon angles), integrated in closed form over the sky above the horizon in each sector;
- the horizon brightening of the Perez model reaches it in the share
  :func:`horizon_band_open` of the band between the horizontal and 6.5° [2]_ [3]_ that
  stands above the horizon.

:func:`face_shading` and :func:`pixel_sky_view` read the closed forms from tables indexed by
the stored angle (hundredths of a degree), with the plane's terms computed once per plane.
All the shares are dimensionless, in [0, 1], and multiply the matching Perez component of
the plane-of-array irradiance (:mod:`solar.irradiance`).

References
----------
.. [1] J. Dozier and J. Frew, "Rapid calculation of terrain parameters for radiation
   modeling from digital elevation data", IEEE Transactions on Geoscience and Remote
   Sensing 28(5), 963-969, 1990. :doi:`10.1109/36.58986`
.. [2] R. Perez, R. Stewart, C. Arbogast, R. Seals and J. Scott, "An anisotropic hourly
   diffuse radiation model for sloping surfaces: description, performance validation,
   site dependency evaluation", Solar Energy 36(6), 481-497, 1986.
   :doi:`10.1016/0038-092X(86)90013-7`
.. [3] R. Perez, R. Seals, P. Ineichen, R. Stewart and D. Menicucci, "A new simplified
   version of the Perez diffuse irradiance model for tilted surfaces", Solar Energy 39(3),
   221-231, 1987. :doi:`10.1016/S0038-092X(87)80031-2`
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from solar.horizon import ANGLE_SCALE, Horizons
from solar.mismatch import BLOCKS_PER_MODULE, ModuleStrings

# Width of the horizon brightening band of the original Perez model [2]_; the simplified
# model [3]_ shrinks it to an infinitesimal band at the horizon, whose irradiance on the
# plane is ``F2 * dhi * sin(tilt)``.
HORIZON_BAND_DEG = 6.5

# Pixels per parallel task of pixel_lit_sums: enough to amortise selecting the task's hours.
_TASK_PIXELS = 4096


def _sector_view(
    lower: np.ndarray,
    upper: np.ndarray | float,
    cos_tilt: np.ndarray,
    sin_tilt_cos_rel: np.ndarray,
    width: float,
) -> np.ndarray:
    """π times the view factor from a plane to the sky between two elevations in a sector.

    ``lower`` and ``upper`` in radians (``lower`` is raised to ``upper`` when above it),
    ``sin_tilt_cos_rel = sin(tilt) * cos(sector azimuth - surface_azimuth)``, ``width`` the
    sector's width in radians. See :func:`sky_view` for the derivation.
    """
    lower = np.minimum(lower, upper)
    return width * cos_tilt * (np.sin(upper) ** 2 - np.sin(lower) ** 2) / 2 + 2 * math.sin(
        width / 2
    ) * sin_tilt_cos_rel * ((upper - lower) / 2 + (np.sin(2 * upper) - np.sin(2 * lower)) / 4)


def _plane_geometry(
    n_sectors: int, surface_tilt: np.ndarray | float, surface_azimuth: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per plane and sector: cos(tilt), sin(tilt) cos(relative azimuth), and the elevation
    of the plane's own edge, below which the sky lies behind the plane. [rad]"""
    psi = np.radians(np.arange(n_sectors) * (360.0 / n_sectors))
    beta = np.radians(np.asarray(surface_tilt, dtype=np.float64))[..., None]
    gamma = np.radians(np.asarray(surface_azimuth, dtype=np.float64))[..., None]
    cos_rel = np.cos(psi - gamma)
    # The plane's trace toward azimuth psi rises at atan(-tan(tilt) cos(psi - azimuth)).
    edge = np.arctan(-np.tan(beta) * cos_rel)
    cos_tilt = np.broadcast_to(np.cos(beta), edge.shape)
    return cos_tilt, np.sin(beta) * cos_rel, edge


def sky_view(
    angles_deg: np.ndarray, surface_tilt: np.ndarray | float, surface_azimuth: np.ndarray | float
) -> np.ndarray:
    """Share of a tilted plane's unobstructed isotropic sky view left by its horizon.

    With the plane's unit normal at tilt β and azimuth γ, a sky direction at elevation e and
    azimuth ψ meets it under ``cos θ = cos β sin e + sin β cos e cos(ψ - γ)``. The
    cosine-weighted view factor of a sky region Ω is ``F = (1/π) ∫_Ω max(0, cos θ) dΩ``
    with ``dΩ = cos e de dψ``. In sector k (centre ψ_k, width Δ) the visible sky starts at
    ``L_k = max(h_k, e_k)``: the horizon h_k (≥ 0), or the plane's own edge
    ``e_k = atan(-tan β cos(ψ_k - γ))`` below which the sky lies behind the plane, taken at
    the sector centre. Over elevation, with L fixed,

    ``∫_L^{π/2} cos θ cos e de = cos β cos²L / 2 + sin β cos(ψ - γ) (π/4 - L/2 - sin 2L / 4)``

    and over the sector ``∫ cos(ψ - γ) dψ = 2 sin(Δ/2) cos(ψ_k - γ)``, so that

    ``π F = Σ_k [Δ cos β cos²L_k / 2 + 2 sin(Δ/2) sin β cos(ψ_k - γ)
    (π/4 - L_k/2 - sin(2 L_k)/4)]``.

    The result is F divided by the same sum with no horizon (``L_k = max(0, e_k)``), which
    equals the isotropic ``(1 + cos β) / 2`` within 0.1 % at 72 sectors and makes an
    unobstructed plane exactly 1. Horizontal plane under a uniform horizon a: ``cos² a``.

    Parameters
    ----------
    angles_deg : numpy.ndarray
        Horizon angles, shape (n, n_sectors), sector k toward ``k * 360 / n_sectors``. [°]
    surface_tilt : float or numpy.ndarray
        Tilt of the plane, scalar or shape (n,). [°]
    surface_azimuth : float or numpy.ndarray
        Azimuth the plane faces, clockwise from north, scalar or shape (n,). [°]

    Returns
    -------
    numpy.ndarray
        Shape (n,), in [0, 1]. Multiplies the isotropic diffuse on the plane.
    """
    h = np.radians(np.clip(np.asarray(angles_deg, dtype=np.float64), 0.0, 90.0))
    n_sectors = h.shape[-1]
    width = 2 * math.pi / n_sectors
    cos_tilt, sin_cos, edge = _plane_geometry(n_sectors, surface_tilt, surface_azimuth)
    up = math.pi / 2
    seen = _sector_view(np.maximum(h, edge), up, cos_tilt, sin_cos, width).sum(axis=-1)
    open_sky = _sector_view(np.maximum(0.0, edge), up, cos_tilt, sin_cos, width).sum(axis=-1)
    return seen / open_sky


def horizon_band_open(
    angles_deg: np.ndarray,
    surface_tilt: np.ndarray | float,
    surface_azimuth: np.ndarray | float,
    band_deg: float = HORIZON_BAND_DEG,
) -> np.ndarray:
    """Open share of the horizon brightening band, as the plane sees it.

    The band is the sky between the horizontal and ``band_deg``: 6.5°, the band of the
    original Perez model [2]_, whose simplified successor [3]_ (pvlib's ``perez``) keeps its
    irradiance ``F2 * dhi * sin(tilt)`` but shrinks its width to nothing. The share is the
    band's cosine-weighted view factor above the horizon over the same with no horizon, with
    the closed form of :func:`sky_view` between ``max(h_k, e_k)`` and ``band_deg``. The
    sectors the plane faces weigh most, the sectors behind it nothing.

    Parameters
    ----------
    angles_deg : numpy.ndarray
        Horizon angles, shape (n, n_sectors). [°]
    surface_tilt, surface_azimuth : float or numpy.ndarray
        Orientation of the plane, scalar or shape (n,). [°]
    band_deg : float, default 6.5
        Height of the band above the horizontal. [°]

    Returns
    -------
    numpy.ndarray
        Shape (n,), in [0, 1]; 1 for a plane that sees none of the band (facing down).
        Multiplies the horizon brightening on the plane.
    """
    h = np.radians(np.clip(np.asarray(angles_deg, dtype=np.float64), 0.0, 90.0))
    n_sectors = h.shape[-1]
    width = 2 * math.pi / n_sectors
    top = math.radians(band_deg)
    cos_tilt, sin_cos, edge = _plane_geometry(n_sectors, surface_tilt, surface_azimuth)
    seen = _sector_view(np.maximum(h, edge), top, cos_tilt, sin_cos, width).sum(axis=-1)
    band = _sector_view(np.maximum(0.0, edge), top, cos_tilt, sin_cos, width).sum(axis=-1)
    return np.divide(seen, band, out=np.ones_like(seen), where=band > 0)


class _SunSamples(NamedTuple):
    """Sun positions grouped by the sector pair the sun lies between.

    Within group k (``starts[k]:starts[k + 1]``) the sun's azimuth lies between sectors k
    and k + 1, and the samples are sorted by rising elevation, so that a pixel's shaded
    samples in the group are found among the first ones, up to its higher horizon of the
    two sectors.
    """

    starts: np.ndarray  # group offsets, int64, shape (n_sectors + 1,)
    elevation: np.ndarray  # solar elevation, in the horizons' unit [0.01°], float64
    fraction: np.ndarray  # position of the azimuth between sector k (0) and k + 1 (1)
    hour: np.ndarray  # index into the hourly arrays, int64


def _sun_samples(
    solar_azimuth: np.ndarray,
    solar_elevation: np.ndarray,
    n_sectors: int,
    hour_mask: np.ndarray | None = None,
) -> _SunSamples:
    """The hours with the sun above the horizontal (and in ``hour_mask``), grouped."""
    azimuth = np.asarray(solar_azimuth, dtype=np.float64)
    elevation = np.asarray(solar_elevation, dtype=np.float64)
    if azimuth.shape != elevation.shape or azimuth.ndim != 1:
        raise ValueError(
            f"solar_azimuth {azimuth.shape} and solar_elevation {elevation.shape} must be "
            "1-D arrays of the same length"
        )
    up = elevation > 0.0
    if hour_mask is not None:
        if np.shape(hour_mask) != up.shape:
            raise ValueError(f"hour_mask must have shape {up.shape}")
        up &= np.asarray(hour_mask, dtype=bool)
    hour = np.flatnonzero(up)
    position = np.mod(azimuth[hour], 360.0) * (n_sectors / 360.0)
    sector = np.floor(position).astype(np.int64) % n_sectors
    fraction = position - np.floor(position)
    order = np.lexsort((elevation[hour], sector))
    starts = np.searchsorted(sector[order], np.arange(n_sectors + 1))
    return _SunSamples(
        starts=starts.astype(np.int64),
        elevation=elevation[hour][order] * ANGLE_SCALE,
        fraction=fraction[order],
        hour=hour[order],
    )


@njit(cache=True)
def _sample_buffers(sun: _SunSamples) -> _SunSamples:  # pragma: no cover - numba
    """Room for any selection of ``sun``, for :func:`_select_samples`."""
    return _SunSamples(
        np.empty_like(sun.starts),
        np.empty_like(sun.elevation),
        np.empty_like(sun.fraction),
        np.empty_like(sun.hour),
    )


@njit(cache=True)
def _select_samples(
    keep: np.ndarray, sun: _SunSamples, selected: _SunSamples
) -> int:  # pragma: no cover - numba
    """Copy the sun samples where ``keep`` holds into ``selected``, group by group, keeping
    their order; return how many."""
    n = 0
    for k in range(sun.starts.size - 1):
        selected.starts[k] = n
        for s in range(sun.starts[k], sun.starts[k + 1]):
            if keep[s]:
                selected.elevation[n] = sun.elevation[s]
                selected.fraction[n] = sun.fraction[s]
                selected.hour[n] = sun.hour[s]
                n += 1
    selected.starts[sun.starts.size - 1] = n
    return n


@njit(cache=True)
def _shaded_samples(
    angles: np.ndarray, sun: _SunSamples, found: np.ndarray
) -> int:  # pragma: no cover - numba
    """Write into ``found`` the sun samples one pixel does not see; return their count.

    A sample is seen when the horizon toward the sun's azimuth, interpolated linearly
    between the two neighbouring sectors, lies strictly below the sun's elevation. Samples
    above both sectors' horizons are seen whatever the interpolation, so each group is
    scanned only up to the higher of the two.
    """
    n_sectors = angles.size
    starts, elevation, fraction = sun.starts, sun.elevation, sun.fraction
    count = 0
    for k in range(n_sectors):
        a0 = float(angles[k])
        a1 = float(angles[(k + 1) % n_sectors])
        higher = max(a0, a1)
        for s in range(starts[k], starts[k + 1]):
            if elevation[s] > higher:
                break
            if a0 + fraction[s] * (a1 - a0) >= elevation[s]:
                found[count] = s
                count += 1
    return count


class _ViewTerms(NamedTuple):
    """Per plane and sector, the coefficients of :func:`_pixel_views`, and the unobstructed
    sums that normalise the view factors; from :func:`_view_terms`."""

    a: np.ndarray  # width cos(tilt) / 2, per plane
    b: np.ndarray  # 2 sin(width / 2) sin(tilt) cos(relative azimuth), (n_planes, n_sectors)
    edge: np.ndarray  # elevation of the plane's own edge [0.01°], (n_planes, n_sectors)
    edge_sin2: np.ndarray  # sin²(edge)
    edge_q: np.ndarray  # q(edge), with q(x) = x/2 + sin(2x)/4
    band: float  # top of the horizon band [°]
    band_sin2: float
    band_q: float
    table_sin2: np.ndarray  # sin² of each stored angle, 0 to 9000 [0.01°]
    table_q: np.ndarray  # q of each stored angle
    open_sky: np.ndarray  # π times the unobstructed sky view factor, per plane
    open_band: np.ndarray  # π times the unobstructed band view factor, per plane


def _view_terms(
    n_sectors: int, surface_tilt: np.ndarray, surface_azimuth: np.ndarray, band_deg: float
) -> _ViewTerms:
    """The terms of the planes' views under a horizon band of ``band_deg`` degrees."""
    width = 2 * math.pi / n_sectors
    cos_tilt, sin_cos, edge = _plane_geometry(n_sectors, surface_tilt, surface_azimuth)
    top = math.radians(band_deg)
    floor = np.maximum(0.0, edge)
    lower = np.radians(np.arange(int(90 * ANGLE_SCALE) + 1) / ANGLE_SCALE)
    return _ViewTerms(
        a=np.ascontiguousarray(width * cos_tilt[:, 0] / 2),
        b=np.ascontiguousarray(2 * math.sin(width / 2) * sin_cos),
        edge=np.ascontiguousarray(np.degrees(edge) * ANGLE_SCALE),
        edge_sin2=np.ascontiguousarray(np.sin(edge) ** 2),
        edge_q=np.ascontiguousarray(edge / 2 + np.sin(2 * edge) / 4),
        band=float(band_deg),
        band_sin2=math.sin(top) ** 2,
        band_q=top / 2 + math.sin(2 * top) / 4,
        table_sin2=np.sin(lower) ** 2,
        table_q=lower / 2 + np.sin(2 * lower) / 4,
        open_sky=_sector_view(floor, math.pi / 2, cos_tilt, sin_cos, width).sum(axis=-1),
        open_band=_sector_view(floor, top, cos_tilt, sin_cos, width).sum(axis=-1),
    )


@njit(cache=True)
def _pixel_views(
    angles: np.ndarray, terms: _ViewTerms, plane: int
) -> tuple[float, float]:  # pragma: no cover - numba
    """π times the view factors of the sky and of the band above one pixel's horizon.

    The closed form of :func:`sky_view`, ``a (sin²U - sin²L) + b_k (q(U) - q(L))`` with
    ``q(x) = x/2 + sin(2x)/4``, read from tables indexed by the stored angle, since the
    horizons only take the values 0, 0.01, ..., 90 degrees.
    """
    a = terms.a[plane]
    b = terms.b[plane]
    edge = terms.edge[plane]
    edge_sin2 = terms.edge_sin2[plane]
    edge_q = terms.edge_q[plane]
    sky = 0.0
    band_view = 0.0
    for k in range(angles.size):
        h = angles[k]
        if h >= edge[k]:
            s2 = terms.table_sin2[h]
            q = terms.table_q[h]
            lower = h / ANGLE_SCALE
        else:
            s2 = edge_sin2[k]
            q = edge_q[k]
            lower = edge[k] / ANGLE_SCALE
        sky += a * (1.0 - s2) + b[k] * (0.25 * math.pi - q)
        if lower < terms.band:
            band_view += a * (terms.band_sin2 - s2) + b[k] * (terms.band_q - q)
    return sky, band_view


def _plane_arrays(
    surface_tilt: np.ndarray | float, surface_azimuth: np.ndarray | float, n: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Tilt and azimuth of ``n`` planes as float arrays, the tilt checked. [°]"""
    tilt = np.broadcast_to(np.asarray(surface_tilt, dtype=np.float64), (n,))
    azimuth = np.broadcast_to(np.asarray(surface_azimuth, dtype=np.float64), (n,))
    if not ((tilt >= 0) & (tilt <= 90)).all():
        raise ValueError(f"surface_tilt of the {name} must lie in [0, 90] degrees")
    return tilt, azimuth


class _Faces(NamedTuple):
    """The faces' pixels, concatenated, and their planes."""

    start: np.ndarray  # face f holds pixels[start[f]:start[f + 1]], int64, (n_faces + 1,)
    pixels: np.ndarray  # indices into the horizons, int64
    normal: np.ndarray  # unit normal, east, north and up, (n_faces, 3)


class _PixelSums(NamedTuple):
    """What :func:`_face_kernel` adds up per pixel, all empty when only the faces are
    wanted."""

    weight: np.ndarray  # (n_faces, n_hours) hourly weight of each face's pixels, or (0, 0)
    month: np.ndarray  # (n_hours,) month of each hour, 1 to 12, int64
    sums: np.ndarray  # (n_pixels, 13) out: lit sums of the year and of each month
    sky: np.ndarray  # (n_pixels,) out: π times the pixel's sky view factor
    band: np.ndarray  # (n_pixels,) out: π times the pixel's band view factor


@njit(cache=True)
def _select_face_samples(
    sun: _SunSamples,
    sun_vector: np.ndarray,
    normal: np.ndarray,
    pixel: _PixelSums,
    f: int,
    selected: _SunSamples,
    in_front: np.ndarray,
    sel_weight: np.ndarray,
    sel_month: np.ndarray,
) -> int:  # pragma: no cover - numba
    """Copy into ``selected`` the sun samples in front of face ``f`` (``normal``) or of
    non-zero weight for it, group by group in their order; flag the first in
    ``in_front``, give each its weight (0 without weights) and month; return how many."""
    with_sums = pixel.weight.shape[0] > 0
    n = 0
    for k in range(sun.starts.size - 1):
        selected.starts[k] = n
        for s in range(sun.starts[k], sun.starts[k + 1]):
            front = (
                sun_vector[s, 0] * normal[0]
                + sun_vector[s, 1] * normal[1]
                + sun_vector[s, 2] * normal[2]
            ) > 0.0
            weight = 0.0
            if with_sums:
                weight = pixel.weight[f, sun.hour[s]]
            if front or weight != 0.0:
                selected.elevation[n] = sun.elevation[s]
                selected.fraction[n] = sun.fraction[s]
                selected.hour[n] = sun.hour[s]
                in_front[n] = front
                sel_weight[n] = weight
                sel_month[n] = pixel.month[sun.hour[s]]
                n += 1
    selected.starts[sun.starts.size - 1] = n
    return n


@njit(parallel=True, cache=True)
def _face_kernel(
    angles: np.ndarray,
    faces: _Faces,
    sun: _SunSamples,
    sun_vector: np.ndarray,
    terms: _ViewTerms,
    lit: np.ndarray,
    sky: np.ndarray,
    band_view: np.ndarray,
    pixel: _PixelSums,
) -> None:  # pragma: no cover - numba
    """Per face: lit fraction per hour, and summed sky and band views of its pixels; per
    pixel, when ``pixel.weight`` is not empty, the lit sums and the views.

    ``sun_vector`` holds the unit vector toward each sun sample. The face's lit fraction
    tests only the samples with the sun in front of its plane: behind it the face is unlit
    whatever the horizon, and on a steep face those hours are most of the shaded ones.
    The lit sums test the samples of non-zero weight (see :func:`pixel_lit_sums`). Each
    pixel is tested once against the union of both. Faces are dealt round-robin to the
    parallel tasks, so that big and small faces mix.
    """
    n_faces = faces.start.size - 1
    face_pixels = faces.pixels
    n_samples = sun.elevation.size
    with_sums = pixel.weight.shape[0] > 0
    # unpacked here: in a parallel loop numba 0.68 drops the writes through a tuple's arrays
    pixel_sums, pixel_sky, pixel_band = pixel.sums, pixel.sky, pixel.band
    n_tasks = min(n_faces, 256)
    for task in prange(n_tasks):
        selected = _sample_buffers(sun)
        selected_hour = selected.hour
        in_front = np.empty(n_samples, np.bool_)
        sel_weight = np.zeros(n_samples)
        sel_month = np.zeros(n_samples, np.int64)
        found = np.empty(n_samples, np.int64)
        shaded = np.zeros(lit.shape[1])
        total = np.zeros(13)
        sums = np.zeros(13)
        for f in range(task, n_faces, n_tasks):
            n_sel = _select_face_samples(
                sun,
                sun_vector,
                faces.normal[f],
                pixel,
                f,
                selected,
                in_front,
                sel_weight,
                sel_month,
            )
            for m in range(13):
                total[m] = 0.0
            for s in range(n_sel):
                total[0] += sel_weight[s]
                total[sel_month[s]] += sel_weight[s]
            for j in range(faces.start[f], faces.start[f + 1]):
                row = angles[face_pixels[j]]
                count = _shaded_samples(row, selected, found)
                for m in range(13):
                    sums[m] = total[m]
                for c in range(count):
                    s = found[c]
                    if in_front[s]:
                        shaded[selected_hour[s]] += 1.0
                    sums[0] -= sel_weight[s]
                    sums[sel_month[s]] -= sel_weight[s]
                s_view, b_view = _pixel_views(row, terms, f)
                sky[f] += s_view
                band_view[f] += b_view
                if with_sums:
                    for m in range(13):
                        pixel_sums[j, m] = sums[m]
                    pixel_sky[j] = s_view
                    pixel_band[j] = b_view
            size = faces.start[f + 1] - faces.start[f]
            for s in range(n_sel):
                if in_front[s]:
                    hour = selected_hour[s]
                    lit[f, hour] = 1.0 - shaded[hour] / size
                    shaded[hour] = 0.0


def _unit_vectors(azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """East, north and up components of directions, shape (n, 3). Angles in degrees."""
    az, el = np.radians(azimuth), np.radians(elevation)
    return np.stack([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)], axis=-1)


def face_shading(
    horizons: Horizons,
    face_pixel_index: Sequence[np.ndarray],
    solar_azimuth: np.ndarray,
    solar_elevation: np.ndarray,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    *,
    band_deg: float = HORIZON_BAND_DEG,
    hour_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hourly lit fraction, sky view and open horizon band of each roof face.

    Parameters
    ----------
    horizons : Horizons
        Horizons of the roof pixels.
    face_pixel_index : sequence of numpy.ndarray
        For each face, the indices of its pixels into ``horizons`` (its rows of
        ``horizons.angles``); not empty.
    solar_azimuth : numpy.ndarray
        Sun azimuth per hour, clockwise from north, shape (n_hours,). [°]
    solar_elevation : numpy.ndarray
        Sun elevation per hour (apparent), shape (n_hours,). [°]
    surface_tilt, surface_azimuth : numpy.ndarray
        Orientation of each face, shape (n_faces,). [°]
    band_deg : float, default 6.5
        Height of the horizon brightening band, see :func:`horizon_band_open`. [°]
    hour_mask : numpy.ndarray, optional
        Boolean, shape (n_hours,): the only hours to test, for example the hours with the
        sun up. Not ``dni > 0``: the lit fraction also scales the circumsolar diffuse, which
        Perez gives in hours without beam. All hours when None.

    Returns
    -------
    lit_fraction : numpy.ndarray
        float32, shape (n_faces, n_hours): the share of the face's pixels whose horizon
        toward the sun's azimuth (interpolated linearly between sectors) lies below the
        sun's elevation; 0 when the sun is not above the horizontal, not in front of the
        face's plane (angle of incidence of 90° or more, where the beam on the face is 0
        anyway), or outside ``hour_mask``. Multiplies beam and circumsolar irradiance.
    sky_view : numpy.ndarray
        Shape (n_faces,): the mean over the face's pixels of :func:`sky_view`.
    horizon_band_open : numpy.ndarray
        Shape (n_faces,): the mean over the face's pixels of :func:`horizon_band_open`.
    """
    out = _shade_faces(
        horizons,
        face_pixel_index,
        solar_azimuth,
        solar_elevation,
        surface_tilt,
        surface_azimuth,
        None,
        band_deg,
        hour_mask,
    )
    return out.lit_fraction, out.sky_view, out.horizon_band_open


@dataclass(frozen=True, eq=False)
class FacePixelShading:
    """The shading of faces and of each of their pixels, from one pass over the pixels.

    Attributes
    ----------
    lit_fraction, sky_view, horizon_band_open : numpy.ndarray
        Per face, as :func:`face_shading` returns them.
    pixel_lit_sums : numpy.ndarray
        (n_pixels, 13) per pixel, the faces' pixels one after the other, as
        :func:`pixel_lit_sums` returns them with each pixel's face as its group.
    pixel_sky_view, pixel_band_open : numpy.ndarray
        (n_pixels,) per pixel, as :func:`pixel_sky_view` returns them on its face's plane.
    """

    lit_fraction: np.ndarray
    sky_view: np.ndarray
    horizon_band_open: np.ndarray
    pixel_lit_sums: np.ndarray
    pixel_sky_view: np.ndarray
    pixel_band_open: np.ndarray


def face_and_pixel_shading(
    horizons: Horizons,
    face_pixel_index: Sequence[np.ndarray],
    solar_azimuth: np.ndarray,
    solar_elevation: np.ndarray,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    hourly_weight: np.ndarray,
    month_of_hour: np.ndarray,
    *,
    band_deg: float = HORIZON_BAND_DEG,
    hour_mask: np.ndarray | None = None,
) -> FacePixelShading:
    """:func:`face_shading`, :func:`pixel_lit_sums` and :func:`pixel_sky_view` of the
    faces' pixels at once: each pixel's horizon is tested once against the sun.

    Parameters
    ----------
    horizons, face_pixel_index, solar_azimuth, solar_elevation, surface_tilt,
    surface_azimuth, band_deg, hour_mask
        As for :func:`face_shading`; ``hour_mask`` limits the faces' lit fractions, not
        the pixels' lit sums.
    hourly_weight : numpy.ndarray
        (n_faces, n_hours) the weight of each face's pixels per hour, as for
        :func:`pixel_lit_sums` (the faces' open beam and circumsolar irradiance for
        irradiation maps). [Wh m-2]
    month_of_hour : numpy.ndarray
        Month of each hour, 1 to 12, shape (n_hours,).

    Returns
    -------
    FacePixelShading
    """
    return _shade_faces(
        horizons,
        face_pixel_index,
        solar_azimuth,
        solar_elevation,
        surface_tilt,
        surface_azimuth,
        (hourly_weight, month_of_hour),
        band_deg,
        hour_mask,
    )


def _shade_faces(
    horizons: Horizons,
    face_pixel_index: Sequence[np.ndarray],
    solar_azimuth: np.ndarray,
    solar_elevation: np.ndarray,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    weighted: tuple[np.ndarray, np.ndarray] | None,
    band_deg: float,
    hour_mask: np.ndarray | None,
) -> FacePixelShading:
    """:func:`face_and_pixel_shading`, or :func:`face_shading` alone (empty pixel arrays)
    when ``weighted`` (the hourly weight and the month of each hour) is None."""
    n_faces = len(face_pixel_index)
    sizes = np.array([np.size(ix) for ix in face_pixel_index], dtype=np.int64)
    if n_faces == 0:
        raise ValueError("face_pixel_index holds no face")
    if (sizes == 0).any():
        raise ValueError(f"face {int(np.argmin(sizes))} has no pixel")
    face_pixels = np.concatenate([np.asarray(ix, dtype=np.int64) for ix in face_pixel_index])
    if face_pixels.min() < 0 or face_pixels.max() >= horizons.n_pixels:
        raise ValueError(f"pixel indices must lie in [0, {horizons.n_pixels})")
    n_hours = np.size(solar_azimuth)
    tilt, azimuth = _plane_arrays(surface_tilt, surface_azimuth, n_faces, "faces")
    faces = _Faces(
        start=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        pixels=face_pixels,
        normal=_unit_vectors(azimuth, 90.0 - tilt),
    )
    n_pixels = face_pixels.size if weighted is not None else 0
    pixel = _PixelSums(
        weight=np.zeros((0, 0), dtype=np.float32),
        month=np.zeros(n_hours, dtype=np.int64),
        sums=np.full((n_pixels, 13), np.nan),
        sky=np.zeros(n_pixels),
        band=np.zeros(n_pixels),
    )
    if weighted is not None:
        weight, month = _check_weights(weighted[0], weighted[1], n_faces, n_hours)
        pixel = pixel._replace(weight=weight, month=month)
        # the sums need every sun-up hour; only the faces' lit fractions take the mask
        if hour_mask is not None:
            outside = ~np.asarray(hour_mask, dtype=bool)
            if outside[np.asarray(solar_elevation) > 0.0].any():
                raise ValueError("hour_mask must keep every hour with the sun up")
    sun = _sun_samples(solar_azimuth, solar_elevation, horizons.n_sectors, hour_mask)
    sun_vector = _unit_vectors(
        np.asarray(solar_azimuth, dtype=np.float64)[sun.hour],
        np.asarray(solar_elevation, dtype=np.float64)[sun.hour],
    )
    terms = _view_terms(horizons.n_sectors, tilt, azimuth, band_deg)
    lit = np.zeros((n_faces, n_hours), dtype=np.float32)
    sky = np.zeros(n_faces)
    band_view = np.zeros(n_faces)
    _face_kernel(horizons.angles, faces, sun, sun_vector, terms, lit, sky, band_view, pixel)
    # clip: with no horizon above any sector's plane edge the ratios round to 1 + 2e-16
    sky_view = np.clip(sky / sizes / terms.open_sky, 0.0, 1.0)
    band_open = np.clip(band_view / sizes / terms.open_band, 0.0, 1.0)
    pixel_face = np.repeat(np.arange(n_faces), sizes)[:n_pixels]
    return FacePixelShading(
        lit,
        sky_view,
        band_open,
        pixel.sums,
        np.clip(pixel.sky / terms.open_sky[pixel_face], 0.0, 1.0),
        np.clip(pixel.band / terms.open_band[pixel_face], 0.0, 1.0),
    )


def _check_weights(
    hourly_weight: np.ndarray, month_of_hour: np.ndarray, n_rows: int, n_hours: int
) -> tuple[np.ndarray, np.ndarray]:
    """The hourly weights, float32 kept as they are (else float64), and the months, int64,
    checked against ``n_rows`` rows of ``n_hours`` hours."""
    weight = np.asarray(hourly_weight)
    # float32 weights (a block's hourly irradiance) are read as they are and summed in
    # float64: converting them first would copy 70 kB a face for the same sums.
    if weight.dtype != np.float32:
        weight = weight.astype(np.float64, copy=False)
    if weight.shape != (n_rows, n_hours):
        raise ValueError(f"hourly_weight has shape {weight.shape}, not ({n_rows}, {n_hours})")
    month = np.asarray(month_of_hour, dtype=np.int64)
    if month.shape != (n_hours,) or month.min() < 1 or month.max() > 12:
        raise ValueError("month_of_hour must hold one month, 1 to 12, per hour")
    return np.ascontiguousarray(weight), month


@njit(parallel=True, cache=True)
def _module_kernel(
    angles: np.ndarray,
    strings: ModuleStrings,
    normal: np.ndarray,
    sun: _SunSamples,
    sun_vector: np.ndarray,
    lit: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Per face with modules: the Martinez factor of its strings, hour by hour.

    Each distinct pixel under the face's modules is tested once against the sun samples in
    front of the face, as in :func:`_face_kernel`, its shaded samples kept in ``found``.
    Each entry (a module's pixel) then adds its share of the module's points to its
    pixel's shaded samples and sets the bits of its blocks. At the end of a module its
    blocks are counted into its string's, at the end of a string the string's factor is
    taken off the face's 1, weighted by the string's share of the modules. Only the
    samples some shade touched are visited; the accumulators are indexed by the face's
    selected samples, each one hour.
    """
    n_faces = strings.string_start.size - 1
    n_samples = sun.elevation.size
    n_tasks = min(n_faces, 64)
    for task in prange(n_tasks):
        keep = np.empty(n_samples, np.bool_)
        selected = _sample_buffers(sun)
        selected_hour = selected.hour
        found = np.empty(16 * n_samples + 1, np.int64)
        factor = np.empty(n_samples)
        module_shaded = np.zeros(n_samples)
        module_bits = np.zeros(n_samples, np.int64)
        module_touched = np.empty(n_samples, np.int64)
        string_shaded = np.zeros(n_samples)
        string_blocks = np.zeros(n_samples, np.int64)
        string_touched = np.empty(n_samples, np.int64)
        for f in range(task, n_faces, n_tasks):
            first_string, end_string = strings.string_start[f], strings.string_start[f + 1]
            if first_string == end_string:
                continue
            first_module = strings.module_start[first_string]
            end_module = strings.module_start[end_string]
            face_modules = end_module - first_module
            first_entry = strings.entry_start[first_module]
            end_entry = strings.entry_start[end_module]
            for s in range(n_samples):
                keep[s] = (
                    sun_vector[s, 0] * normal[f, 0]
                    + sun_vector[s, 1] * normal[f, 1]
                    + sun_vector[s, 2] * normal[f, 2]
                ) > 0.0
            n_sel = _select_samples(keep, sun, selected)
            # The distinct pixels in the order of their index; each entry's slot in them.
            pixels = strings.pixel[first_entry:end_entry]
            order = np.argsort(pixels)
            entry_slot = np.empty(pixels.size, np.int64)
            slot_start = np.empty(pixels.size + 1, np.int64)
            n_slots = 0
            used = 0
            previous = -1
            for i in order:
                if pixels[i] != previous:
                    previous = pixels[i]
                    if found.size - used < n_sel:
                        found = _with_room(found, used, 2 * found.size + n_sel)
                    slot_start[n_slots] = used
                    used += _shaded_samples(angles[previous], selected, found[used:])
                    n_slots += 1
                    slot_start[n_slots] = used
                entry_slot[i] = n_slots - 1
            for s in range(n_sel):
                factor[s] = 1.0
            for st in range(first_string, end_string):
                n_touched = 0
                for m in range(strings.module_start[st], strings.module_start[st + 1]):
                    n_module = 0
                    for e in range(strings.entry_start[m], strings.entry_start[m + 1]):
                        slot = entry_slot[e - first_entry]
                        weight, bits = strings.weight[e], strings.blocks[e]
                        for c in range(slot_start[slot], slot_start[slot + 1]):
                            s = found[c]
                            if module_bits[s] == 0:
                                module_touched[n_module] = s
                                n_module += 1
                            module_shaded[s] += weight
                            module_bits[s] |= bits
                    for i in range(n_module):
                        s = module_touched[i]
                        if string_blocks[s] == 0:
                            string_touched[n_touched] = s
                            n_touched += 1
                        string_shaded[s] += module_shaded[s]
                        bits = module_bits[s]
                        while bits:
                            string_blocks[s] += bits & 1
                            bits >>= 1
                        module_shaded[s] = 0.0
                        module_bits[s] = 0
                n_string = strings.module_start[st + 1] - strings.module_start[st]
                share = n_string / face_modules
                total_blocks = BLOCKS_PER_MODULE * n_string
                for i in range(n_touched):
                    s = string_touched[i]
                    # max: the points' shares of a module add up to 1 within rounding
                    kept = max(0.0, 1.0 - string_shaded[s] / n_string) * (
                        1.0 - string_blocks[s] / (total_blocks + 1.0)
                    )
                    factor[s] -= share * (1.0 - kept)
                    string_shaded[s] = 0.0
                    string_blocks[s] = 0
            lit[f, :] = 0.0
            for s in range(n_sel):
                lit[f, selected_hour[s]] = max(factor[s], 0.0)


@njit(cache=True)
def _with_room(values: np.ndarray, used: int, size: int) -> np.ndarray:  # pragma: no cover
    """A copy of the first ``used`` values of ``values``, with room for ``size``.

    Its own function: inlined in a parallel loop, numba's array analysis takes the sizes
    of the old and new buffers for equal and asserts so.
    """
    out = np.empty(size, values.dtype)
    out[:used] = values[:used]
    return out


def module_lit_fraction(
    horizons: Horizons,
    strings: ModuleStrings,
    solar_azimuth: np.ndarray,
    solar_elevation: np.ndarray,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    without_modules: np.ndarray,
    *,
    hour_mask: np.ndarray | None = None,
) -> np.ndarray:
    """Hourly factor on the beam and circumsolar light of faces, after module mismatch.

    For a face with modules, the mean over its strings, weighted by their modules, of
    Martinez's ``(1 - F_GS) (1 - N_SB / (N_TB + 1))`` (:mod:`solar.mismatch`): a shadow over
    part of a block costs the whole block. A point of a module sees the sun when its pixel
    does, by the rule of :func:`face_shading`: the sun above the horizontal, in front of
    the face's plane, in ``hour_mask`` and strictly above the pixel's horizon toward it.

    Parameters
    ----------
    horizons : Horizons
        Horizons of the roof pixels.
    strings : solar.mismatch.ModuleStrings
        The faces' strings and the pixels under their modules
        (:func:`solar.mismatch.module_strings`).
    solar_azimuth, solar_elevation : numpy.ndarray
        Sun position per hour, shape (n_hours,). [°]
    surface_tilt, surface_azimuth : numpy.ndarray
        Orientation of each face's modules, shape (n_faces,). [°]
    without_modules : numpy.ndarray
        (n_faces, n_hours) the factor of the faces without modules, passed through: their
        area-weighted lit fraction (:func:`face_shading`). Its other rows are not read.
    hour_mask : numpy.ndarray, optional
        Boolean, shape (n_hours,): the only hours to test, as in :func:`face_shading`.

    Returns
    -------
    numpy.ndarray
        float32, shape (n_faces, n_hours), in [0, 1]. Multiplies the beam and circumsolar
        irradiance that reaches the modules.
    """
    n_faces = strings.n_faces
    if np.shape(without_modules) != (n_faces, np.size(solar_azimuth)):
        raise ValueError(
            f"without_modules has shape {np.shape(without_modules)}, not (n_faces, n_hours)"
        )
    # The kernel writes every hour of the faces with modules: only the others are copied.
    lit = np.empty((n_faces, np.size(solar_azimuth)), dtype=np.float32)
    bare = strings.string_start[1:] == strings.string_start[:-1]
    lit[bare] = np.asarray(without_modules)[bare]
    if strings.pixel.size and (strings.pixel.min() < 0 or strings.pixel.max() >= horizons.n_pixels):
        raise ValueError(f"module pixels must lie in [0, {horizons.n_pixels})")
    tilt, azimuth = _plane_arrays(surface_tilt, surface_azimuth, n_faces, "faces")
    sun = _sun_samples(solar_azimuth, solar_elevation, horizons.n_sectors, hour_mask)
    sun_vector = _unit_vectors(
        np.asarray(solar_azimuth, dtype=np.float64)[sun.hour],
        np.asarray(solar_elevation, dtype=np.float64)[sun.hour],
    )
    normal = _unit_vectors(azimuth, 90.0 - tilt)
    _module_kernel(horizons.angles, strings, normal, sun, sun_vector, lit)
    return lit


@njit(parallel=True, cache=True)
def _pixel_view_kernel(
    angles: np.ndarray,
    plane: np.ndarray,
    terms: _ViewTerms,
    sky: np.ndarray,
    band_view: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Summed sky and band views of each pixel on its plane, NaN for a pixel on none."""
    for p in prange(plane.size):
        f = plane[p]
        if f < 0:
            sky[p] = np.nan
            band_view[p] = np.nan
            continue
        sky[p], band_view[p] = _pixel_views(angles[p], terms, f)


def pixel_sky_view(
    horizons: Horizons,
    pixel_plane: np.ndarray,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    *,
    band_deg: float = HORIZON_BAND_DEG,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sky_view` and :func:`horizon_band_open` of every stored pixel, fast.

    Parameters
    ----------
    horizons : Horizons
        Horizons of the roof pixels.
    pixel_plane : numpy.ndarray
        For each stored pixel, the index of its plane (its face) into ``surface_tilt`` and
        ``surface_azimuth``, or -1 for a pixel on no plane. Shape (n_pixels,).
    surface_tilt, surface_azimuth : numpy.ndarray
        Orientation of each plane, shape (n_planes,). [°]
    band_deg : float, default 6.5
        Height of the horizon brightening band. [°]

    Returns
    -------
    sky_view, horizon_band_open : numpy.ndarray
        Shape (n_pixels,), NaN where ``pixel_plane`` is -1.
    """
    plane = np.asarray(pixel_plane, dtype=np.int64)
    if plane.shape != (horizons.n_pixels,):
        raise ValueError(f"pixel_plane must have shape ({horizons.n_pixels},), got {plane.shape}")
    n_planes = np.size(surface_tilt)
    if plane.max(initial=-1) >= n_planes:
        raise ValueError(f"pixel_plane refers to plane {plane.max()} of {n_planes}")
    tilt, azimuth = _plane_arrays(surface_tilt, surface_azimuth, n_planes, "planes")
    terms = _view_terms(horizons.n_sectors, tilt, azimuth, band_deg)
    sky = np.empty(plane.size)
    band_view = np.empty(plane.size)
    _pixel_view_kernel(horizons.angles, plane, terms, sky, band_view)
    on_plane = plane >= 0
    sky[on_plane] /= terms.open_sky[plane[on_plane]]
    band_view[on_plane] /= terms.open_band[plane[on_plane]]
    # clip: ratios of equal sums can round to 1 + 2e-16; NaN (no plane) stays NaN
    return np.clip(sky, 0.0, 1.0), np.clip(band_view, 0.0, 1.0)


class _Tasks(NamedTuple):
    """Runs of pixels of one group each, the parallel tasks of :func:`_lit_sums_kernel`."""

    group: np.ndarray  # row of the hourly weights of each task, int64
    start: np.ndarray  # task t holds pixels[start[t]:start[t + 1]], int64, (n_tasks + 1,)
    pixels: np.ndarray  # indices into the horizons, int64


@njit(parallel=True, cache=True)
def _lit_sums_kernel(
    angles: np.ndarray,
    tasks: _Tasks,
    weight: np.ndarray,
    month: np.ndarray,
    sun: _SunSamples,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Lit sums as the group's totals less the weights of the shaded hours.

    Only the hours of non-zero weight are tested (with beam weights, the hours of no direct
    sun and those with the sun behind the face).
    """
    n_tasks = tasks.group.size
    n_samples = sun.elevation.size
    pixels = tasks.pixels
    n_workers = min(n_tasks, 256)
    for worker in prange(n_workers):
        keep = np.empty(n_samples, np.bool_)
        selected = _sample_buffers(sun)
        found = np.empty(n_samples, np.int64)
        sel_weight = np.empty(n_samples)
        sel_month = np.empty(n_samples, np.int64)
        total = np.empty(out.shape[1])
        sums = np.empty(out.shape[1])
        for task in range(worker, n_tasks, n_workers):
            g = tasks.group[task]
            for s in range(n_samples):
                keep[s] = weight[g, sun.hour[s]] != 0.0
            n_sel = _select_samples(keep, sun, selected)
            total[:] = 0.0
            for s in range(n_sel):
                sel_weight[s] = weight[g, selected.hour[s]]
                sel_month[s] = month[selected.hour[s]]
                total[0] += sel_weight[s]
                total[sel_month[s]] += sel_weight[s]
            for j in range(tasks.start[task], tasks.start[task + 1]):
                p = pixels[j]
                sums[:] = total
                count = _shaded_samples(angles[p], selected, found)
                for c in range(count):
                    s = found[c]
                    sums[0] -= sel_weight[s]
                    sums[sel_month[s]] -= sel_weight[s]
                out[p, :] = sums


def pixel_lit_sums(
    horizons: Horizons,
    solar_azimuth: np.ndarray,
    solar_elevation: np.ndarray,
    hourly_weight: np.ndarray,
    month_of_hour: np.ndarray,
    pixel_group: np.ndarray | None = None,
) -> np.ndarray:
    """Sum of an hourly weight over the hours each pixel sees the sun, yearly and monthly.

    Built for per-pixel irradiation maps: pass as ``hourly_weight`` the beam and
    circumsolar irradiation on each face, per hour, with no shading [Wh m-2], and as
    ``pixel_group`` the face of each pixel. The result is each pixel's shaded beam
    irradiation. Add the diffuse terms, which do not depend on the hour's sun but on the
    pixel's view (:func:`pixel_sky_view`): ``sky_view * isotropic + band_open * horizon``
    summed over the period, plus the ground-reflected term.

    A pixel sees the sun when the sun is above the horizontal and above the pixel's horizon
    toward it, interpolated between sectors, as in :func:`face_shading`. Hours of zero
    weight are skipped, which with beam weights makes the cost follow the sunny hours in
    front of each face.

    Parameters
    ----------
    horizons : Horizons
        Horizons of the roof pixels.
    solar_azimuth, solar_elevation : numpy.ndarray
        Sun position per hour, shape (n_hours,). [°]
    hourly_weight : numpy.ndarray
        Weight per hour, shape (n_hours,) shared by all pixels, or (n_groups, n_hours)
        with ``pixel_group`` saying which row each pixel uses.
    month_of_hour : numpy.ndarray
        Month of each hour, 1 to 12, shape (n_hours,).
    pixel_group : numpy.ndarray, optional
        Row of ``hourly_weight`` for each stored pixel, -1 for none; shape (n_pixels,).
        Required when ``hourly_weight`` is 2-D.

    Returns
    -------
    numpy.ndarray
        float64, shape (n_pixels, 13): column 0 sums over the year, columns 1 to 12 over
        each month. NaN rows where ``pixel_group`` is -1.
    """
    weight = np.asarray(hourly_weight)
    # float32 weights (a block's hourly irradiance) are read as they are and summed in
    # float64: converting them first would copy 70 kB a face for the same sums.
    if weight.dtype != np.float32:
        weight = weight.astype(np.float64, copy=False)
    n_hours = np.size(solar_azimuth)
    if weight.ndim == 1:
        weight = weight[None, :]
        group = np.zeros(horizons.n_pixels, dtype=np.int64)
    elif pixel_group is None:
        raise ValueError("pixel_group is required with a 2-D hourly_weight")
    else:
        group = np.asarray(pixel_group, dtype=np.int64)
    if weight.shape[1] != n_hours:
        raise ValueError(f"hourly_weight has {weight.shape[1]} hours, the sun {n_hours}")
    if group.shape != (horizons.n_pixels,) or group.max(initial=-1) >= weight.shape[0]:
        raise ValueError(
            f"pixel_group must have shape ({horizons.n_pixels},) and index rows of "
            f"hourly_weight (0 to {weight.shape[0] - 1}, or -1)"
        )
    month = np.asarray(month_of_hour, dtype=np.int64)
    if month.shape != (n_hours,) or month.min() < 1 or month.max() > 12:
        raise ValueError("month_of_hour must hold one month, 1 to 12, per hour")
    sun = _sun_samples(solar_azimuth, solar_elevation, horizons.n_sectors)
    # Tasks: runs of at most _TASK_PIXELS pixels of one group, so that one shared weight
    # row still spreads over the cores.
    pixels = np.flatnonzero(group >= 0)
    pixels = pixels[np.argsort(group[pixels], kind="stable")]
    group_of = group[pixels]
    new_task = np.ones(pixels.size, dtype=bool)
    new_task[1:] = group_of[1:] != group_of[:-1]
    run_start = np.flatnonzero(new_task)
    position = np.arange(pixels.size) - np.repeat(run_start, np.diff([*run_start, pixels.size]))
    new_task |= position % _TASK_PIXELS == 0
    task_start = np.append(np.flatnonzero(new_task), pixels.size)
    tasks = _Tasks(group=group_of[task_start[:-1]], start=task_start, pixels=pixels)
    out = np.full((horizons.n_pixels, 13), np.nan)
    _lit_sums_kernel(horizons.angles, tasks, np.ascontiguousarray(weight), month, sun, out)
    return out
