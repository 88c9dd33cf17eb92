"""PV on roof faces: the module catalogue, module layout, hourly production, suitability.

Production follows PVWatts (Dobos 2014) with the Faiman cell temperature, all from pvlib:

1. cell temperature :func:`pvlib.temperature.faiman` from the plane-of-array irradiance,
   the air temperature and the wind speed;
2. DC power :func:`pvlib.pvsystem.pvwatts_dc`;
3. system losses, one factor (:data:`SYSTEM_LOSSES`);
4. AC power :func:`pvlib.inverter.pvwatts`, the inverter sized by the DC/AC ratio.

References
----------
.. [1] A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641, 2014.
   :doi:`10.2172/1158421`
.. [2] D. Faiman, "Assessing the outdoor operating temperature of photovoltaic modules",
   Progress in Photovoltaics 16(4), 307-315, 2008. :doi:`10.1002/pip.813`
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass

import numpy as np
import pvlib
import shapely
from numpy.typing import ArrayLike

from solar.errors import InputError
from solar.geometry import polygonal_part
from solar.resources import MODULES

SYSTEM_LOSS_BREAKDOWN = {
    "soiling": 0.02,
    "mismatch": 0.02,
    "dc_wiring": 0.02,
    "connections": 0.005,
    "light_induced_degradation": 0.015,
    "nameplate_rating": 0.01,
    "availability": 0.03,
    "reflection": 0.025,
    "ac_wiring": 0.005,
}
"""What the default system losses cover (fractions, combined multiplicatively).

PVWatts' default losses (Dobos 2014, table 2: soiling 2 %, mismatch 2 %, wiring 2 %,
connections 0.5 %, LID 1.5 %, nameplate 1 %, availability 3 %), without its 3 % of generic
shading, which is computed here face by face; plus the reflection losses that
:func:`pvlib.pvsystem.pvwatts_dc` does not model (about 2.5 % a year for flat glass at
these tilts, Martin and Ruiz 2001, :doi:`10.1016/S0927-0248(00)00408-6`) and 0.5 % of AC
wiring. Together: 1 - Π(1 - loss) = 14.07 %."""

SYSTEM_LOSSES = 0.14
"""Default system losses, :data:`SYSTEM_LOSS_BREAKDOWN` rounded. [unitless]"""

INVERTER_EFFICIENCY = 0.96
"""Nominal inverter efficiency, pvlib's and PVWatts' default. [unitless]"""

MODULE_GAP = 0.02
"""Gap between neighbouring modules, the width of a mid clamp. [m]"""

FLAT_MODULE_TILT = 10.0
"""Tilt of modules racked on a flat roof, facing south: the usual ballasted systems, low
enough for wind loads and self-shading, steep enough to self-clean. [°]"""

FLAT_MODULE_AZIMUTH = 180.0
"""Azimuth of modules racked on a flat roof: due south. [°]"""


def module_plane(surface_tilt: float, surface_azimuth: float | None) -> tuple[float, float]:
    """The plane modules lie in on a roof face: the face itself, or racks on a flat roof.

    Parameters
    ----------
    surface_tilt : float
        Tilt of the face from horizontal. [°]
    surface_azimuth : float or None
        Azimuth of the face, clockwise from north; None (or NaN) on a flat face. [°]

    Returns
    -------
    tuple of float
        Module tilt and module azimuth. [°]

    >>> module_plane(35.0, 200.0)
    (35.0, 200.0)
    >>> module_plane(2.0, None)
    (10.0, 180.0)
    """
    if surface_azimuth is None or math.isnan(surface_azimuth):
        return FLAT_MODULE_TILT, FLAT_MODULE_AZIMUTH
    return float(surface_tilt), float(surface_azimuth) % 360.0


ARTOIS_LATITUDE = 50.45
"""Latitude of Lens, the default for the flat-roof row spacing. [°]"""

SOLSTICE_DECLINATION = 23.44
"""Declination of the sun at the winter solstice (obliquity of the ecliptic). [°]"""

SUITABILITY_CLASSES = (("excellent", 0.90), ("good", 0.80), ("fair", 0.70), ("poor", 0.0))
"""Suitability classes and their lower bounds on the relative irradiation: the face's
annual irradiation (shading included) over that of the best unshaded orientation at the
site (:func:`solar.irradiance.optimal_orientation`, about 1327 kWh m-2 yr-1 in the Artois,
at 40° facing 182°). Excellent ≥ 90 %, good ≥ 80 %, fair ≥ 70 %, else poor."""

WORTH_EQUIPPING = frozenset({"excellent", "good", "fair"})
"""Classes whose faces count in a building's totals and in a default project: a poor face
keeps its own figures but is not proposed."""


@dataclass(frozen=True)
class Module:
    """A PV module type.

    Attributes
    ----------
    name : str
    length, width : float
        Outline of the module. [m]
    pdc0 : float
        Nameplate power at standard test conditions. [W]
    gamma_pdc : float
        Temperature coefficient of the maximum power. [1/°C]
    u0 : float, default 25.0
        Faiman constant heat-loss coefficient, pvlib's default. [W m-2 K-1]
    u1 : float, default 6.84
        Faiman wind heat-loss coefficient, pvlib's default. [W m-3 s K-1]
    """

    name: str
    length: float
    width: float
    pdc0: float
    gamma_pdc: float
    u0: float = 25.0
    u1: float = 6.84


@dataclass(frozen=True, eq=False)
class Layout:
    """Modules placed on one face.

    Attributes
    ----------
    n_modules : int
    orientation : str
        ``"portrait"`` (long side up the slope) or ``"landscape"``.
    module_tilt : float
        [°] The face's tilt, or :data:`FLAT_MODULE_TILT` on a flat roof.
    module_azimuth : float
        [°] The face's azimuth, or :data:`FLAT_MODULE_AZIMUTH` on a flat roof.
    kwc : float
        Installed peak power. [kWc]
    modules : shapely.MultiPolygon
        The modules' footprints in plan, in the CRS of the usable polygon.
    """

    n_modules: int
    orientation: str
    module_tilt: float
    module_azimuth: float
    kwc: float
    modules: shapely.MultiPolygon


def load_module(name: str | None = None, path: str | os.PathLike[str] = MODULES) -> Module:
    """A module type from the catalogue.

    Parameters
    ----------
    name : str, optional
        Key in the catalogue; its ``default`` entry when None.
    path : str or path-like
        A TOML catalogue, by default the package's (:data:`solar.resources.MODULES`).

    Returns
    -------
    Module

    Raises
    ------
    InputError
        When the catalogue cannot be read, or has no such module, or the entry lacks a
        field.

    Examples
    --------
    >>> m = load_module()
    >>> m.name, m.length, m.width, m.pdc0
    ('generic-topcon-425', 1.722, 1.134, 425.0)
    """
    source = os.fspath(path)
    try:
        with open(path, "rb") as f:
            catalogue = tomllib.load(f)
    except OSError as exc:
        raise InputError(
            f"cannot read the module catalogue: {exc.strerror}", source=source
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"bad TOML: {exc}", source=source) from exc
    modules = catalogue.get("modules", {})
    key = name if name is not None else catalogue.get("default")
    if key not in modules:
        known = ", ".join(sorted(modules)) or "none"
        raise InputError(f"unknown module {key!r}; the catalogue has: {known}", source=source)
    entry = modules[key]
    try:
        return Module(
            name=str(key),
            length=float(entry["length"]),
            width=float(entry["width"]),
            pdc0=float(entry["pdc0"]),
            gamma_pdc=float(entry["gamma_pdc"]),
            u0=float(entry.get("u0", Module.u0)),
            u1=float(entry.get("u1", Module.u1)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"module {key!r}: missing or bad field {exc}", source=source) from exc


def flat_row_pitch(
    slope_length: float, module_tilt: float = FLAT_MODULE_TILT, latitude: float = ARTOIS_LATITUDE
) -> float:
    """Distance between the fronts of two racked rows on a flat roof, in plan.

    Rows are spaced so that the sun at noon on the winter solstice, at elevation
    ``α = 90° - latitude - 23.44°``, clears the row in front:
    ``pitch = L · (cos β + sin β / tan α)``. At Lens (50.45 N, α = 16.1°) with β = 10° that
    is a ground coverage ratio ``L / pitch`` of 0.63.

    Parameters
    ----------
    slope_length : float
        Length of the module along its tilt. [m]
    module_tilt : float
        [°]
    latitude : float
        [°]

    Returns
    -------
    float
        [m]
    """
    beta = math.radians(module_tilt)
    alpha = math.radians(90.0 - abs(latitude) - SOLSTICE_DECLINATION)
    return slope_length * (math.cos(beta) + math.sin(beta) / math.tan(alpha))


def layout_modules(
    usable: shapely.Polygon | shapely.MultiPolygon,
    module: Module,
    surface_tilt: float,
    surface_azimuth: float | None,
    *,
    latitude: float = ARTOIS_LATITUDE,
) -> Layout:
    """Pack modules on the usable part of a face, portrait or landscape.

    On a pitched face the rows run along the contour lines; a module's footprint in plan
    is its size along the rows by its size up the slope times ``cos(tilt)``, with
    :data:`MODULE_GAP` between neighbours. On a flat face (no azimuth) the modules are
    racked at :data:`FLAT_MODULE_TILT` facing south, in east-west rows spaced by
    :func:`flat_row_pitch`.

    For each orientation, the rows are laid from the bottom of the face at 8 offsets
    (eighths of the row pitch). Within each row, the stretches where a module's footprint
    lies wholly inside the polygon are found exactly from the polygon's edges, and each
    stretch holds as many modules as fit, centred. The orientation and offset that hold
    the most modules win; portrait wins ties.

    Parameters
    ----------
    usable : shapely.Polygon or shapely.MultiPolygon
        The face's usable outline in plan (horizontal projection), setbacks and obstacles
        removed, in a projected CRS in metres. Must be valid. Non-polygonal parts of a
        collection are ignored.
    module : Module
    surface_tilt : float
        [°]
    surface_azimuth : float or None
        Clockwise from north [°]; None or NaN for a flat face.
    latitude : float, default Lens
        Sets the flat-roof row spacing. [°]

    Returns
    -------
    Layout

    Examples
    --------
    A 10 m × 4 m flat south-facing strip seen from above, at 30°: modules 1.722 × 1.134 m.
    Portrait rows are 1.722 · cos 30° = 1.491 m deep, so 4 m holds 2 rows (2 · 1.491 +
    0.017 = 3.0 m) of 8 modules (8 · 1.134 + 7 · 0.02 = 9.21 m): 16. Landscape rows are
    0.982 m deep: 4 rows of 5 modules (5 · 1.722 + 4 · 0.02 = 8.69 m): 20.

    >>> m = Module("m", 1.722, 1.134, 425.0, -0.003)
    >>> layout = layout_modules(shapely.box(0, 0, 10, 4), m, 30.0, 180.0)
    >>> layout.n_modules, layout.orientation, layout.kwc
    (20, 'landscape', 8.5)
    """
    flat = surface_azimuth is None or math.isnan(surface_azimuth)
    tilt, azimuth = module_plane(surface_tilt, surface_azimuth)
    # Keep the polygons only: a difference upstream may leave lines or points beside them.
    usable = polygonal_part(usable)
    if usable.is_empty:
        return Layout(0, "portrait", tilt, azimuth, 0.0, shapely.MultiPolygon())

    # Local frame: u along the rows (contour lines), v up the slope (towards the north on
    # a south-facing roof).
    gamma = math.radians(azimuth)
    along = np.array([-math.cos(gamma), math.sin(gamma)])
    up = np.array([-math.sin(gamma), -math.cos(gamma)])
    cos_tilt = math.cos(math.radians(tilt))
    edges = _edges(usable, along, up)

    best: tuple[int, str, list[tuple[float, float, float, float]]] = (0, "portrait", [])
    for orientation, row_size, slope_size in (
        ("portrait", module.width, module.length),
        ("landscape", module.length, module.width),
    ):
        depth = slope_size * cos_tilt
        pitch = (
            flat_row_pitch(slope_size, tilt, latitude) if flat else depth + MODULE_GAP * cos_tilt
        )
        count, boxes = _pack(usable, edges, along, up, row_size, depth, pitch)
        if count > best[0]:
            best = (count, orientation, boxes)

    count, orientation, boxes = best
    return Layout(
        n_modules=count,
        orientation=orientation,
        module_tilt=tilt,
        module_azimuth=azimuth,
        kwc=count * module.pdc0 / 1000.0,
        modules=_footprints(boxes, along, up),
    )


def production(
    poa_global: ArrayLike,
    temp_air: ArrayLike,
    wind_speed: ArrayLike,
    kwc: ArrayLike,
    *,
    module: Module,
    system_losses: float = SYSTEM_LOSSES,
    dc_ac_ratio: float = 1.1,
) -> np.ndarray:
    """Hourly AC energy of PV systems, one per face.

    Parameters
    ----------
    poa_global : array_like
        (n_faces, n_hours) plane-of-array irradiance. [W m-2]
    temp_air : array_like
        (n_hours,) air temperature. [°C]
    wind_speed : array_like
        (n_hours,) wind speed, at 10 m for PVGIS (the height the Faiman defaults were
        fitted at is lower, so the cooling is slightly overstated). [m s-1]
    kwc : array_like
        (n_faces,) installed peak power. [kWc]
    module : Module
        Gives ``gamma_pdc``, ``u0`` and ``u1``.
    system_losses : float, default SYSTEM_LOSSES
        DC losses between the modules and the inverter (:data:`SYSTEM_LOSS_BREAKDOWN`).
        [unitless]
    dc_ac_ratio : float, default 1.1
        Peak DC power over the inverter's AC rating. [unitless]

    Returns
    -------
    numpy.ndarray
        (n_faces, n_hours) float32, AC energy of each hour. [kWh]
    """
    poa = np.asarray(poa_global, dtype=np.float32)
    if poa.ndim == 1:
        poa = poa[None, :]
    temp = np.asarray(temp_air, dtype=np.float64)
    wind = np.asarray(wind_speed, dtype=np.float64)
    peak = np.asarray(kwc, dtype=np.float64).reshape(-1)
    n, n_hours = poa.shape
    if temp.shape != (n_hours,) or wind.shape != (n_hours,):
        raise ValueError(f"temp_air and wind_speed must have {n_hours} hours")
    if peak.shape != (n,):
        raise ValueError(f"{peak.size} kwc values for {n} faces")
    if not 0.0 <= system_losses < 1.0:
        raise ValueError("system_losses must lie in [0, 1)")
    if dc_ac_ratio <= 0.0:
        raise ValueError("dc_ac_ratio must be positive")

    out = np.zeros((n, n_hours), dtype=np.float32)
    # Night hours produce nothing: compute the hours with light only (about half).
    lit = np.flatnonzero(poa.any(axis=0))
    temp, wind = temp[lit], wind[lit]
    rows = np.flatnonzero(peak > 0.0)
    for start in range(0, rows.size, _PRODUCTION_BLOCK):
        block = rows[start : start + _PRODUCTION_BLOCK]
        irradiance = poa[np.ix_(block, lit)].astype(np.float64)
        pdc0 = 1000.0 * peak[block, None]
        temp_cell = pvlib.temperature.faiman(irradiance, temp, wind, module.u0, module.u1)
        pdc = pvlib.pvsystem.pvwatts_dc(irradiance, temp_cell, pdc0, module.gamma_pdc)
        pdc *= 1.0 - system_losses
        # pvwatts' pdc0 is the inverter's DC input at its AC rating pdc0_array / dc_ac_ratio.
        pac = pvlib.inverter.pvwatts(
            pdc, pdc0 / dc_ac_ratio / INVERTER_EFFICIENCY, eta_inv_nom=INVERTER_EFFICIENCY
        )
        out[np.ix_(block, lit)] = pac / 1000.0
    return out


_PRODUCTION_BLOCK = 4
"""Faces per block: small blocks keep pvlib's float64 temporaries in cache (measured
0.09-0.13 ms/face with 4, 0.2 with 16, 0.24 with 64)."""


def suitability(relative_irradiation: float) -> str:
    """The suitability class of a face from its relative irradiation.

    Parameters
    ----------
    relative_irradiation : float
        Annual irradiation of the face over that of the best orientation at the site
        (see :data:`SUITABILITY_CLASSES`). [unitless]

    Returns
    -------
    str
        ``"excellent"`` (≥ 0.90), ``"good"`` (≥ 0.80), ``"fair"`` (≥ 0.70) or ``"poor"``
        (below, or NaN).

    Examples
    --------
    >>> suitability(0.95), suitability(0.85), suitability(0.7), suitability(0.5)
    ('excellent', 'good', 'fair', 'poor')
    """
    for name, lower in SUITABILITY_CLASSES:
        if relative_irradiation >= lower:
            return name
    return SUITABILITY_CLASSES[-1][0]


def suitability_array(relative_irradiation: ArrayLike) -> np.ndarray:
    """:func:`suitability` over an array.

    Examples
    --------
    >>> suitability_array([0.95, 0.85, 0.75, 0.65]).tolist()
    ['excellent', 'good', 'fair', 'poor']
    """
    values = np.asarray(relative_irradiation, dtype=np.float64)
    names = [name for name, _ in SUITABILITY_CLASSES]
    bounds = [lower for _, lower in SUITABILITY_CLASSES[:-1]]
    # NaN compares false everywhere and falls through to the last class, as in suitability().
    choice = np.select([values >= b for b in bounds], names[:-1], default=names[-1])
    return choice.astype(object)


def _edges(
    geometry: shapely.Polygon | shapely.MultiPolygon, along: np.ndarray, up: np.ndarray
) -> np.ndarray:
    """(m, 4) edges of every ring as (u1, v1, u2, v2) in the row frame."""
    rings = shapely.get_rings(shapely.get_parts(geometry))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    uv = np.stack([xy @ along, xy @ up], axis=1)
    same = ring[1:] == ring[:-1]
    return np.hstack([uv[:-1][same], uv[1:][same]])


def _pack(
    polygon: shapely.Polygon | shapely.MultiPolygon,
    edges: np.ndarray,
    along: np.ndarray,
    up: np.ndarray,
    width: float,
    depth: float,
    pitch: float,
) -> tuple[int, list[tuple[float, float, float, float]]]:
    """Best row offset: module count and (u0, v0, u1, v1) boxes in the row frame."""
    eps = 1e-7
    u1, v1, u2, v2 = edges.T
    v_min, v_max = float(min(v1.min(), v2.min())), float(max(v1.max(), v2.max()))
    u_min = float(min(u1.min(), u2.min()))
    n_rows = math.floor((v_max - v_min - depth) / pitch + eps) + 1
    if n_rows <= 0:
        return 0, []
    offsets = np.arange(_ROW_OFFSETS) * pitch / _ROW_OFFSETS
    # Every row of every offset at once: strip k spans [bottom_k, bottom_k + depth].
    bottom = (v_min + offsets[:, None] + pitch * np.arange(n_rows)[None, :]).ravel()
    offset_of = np.repeat(np.arange(_ROW_OFFSETS), n_rows)
    keep = bottom + depth <= v_max + eps
    bottom, offset_of = bottom[keep], offset_of[keep]
    s0, s1 = bottom[:, None] + eps, bottom[:, None] + depth - eps

    # The part of each edge inside each strip, projected on the row axis: a module may not
    # overlap it. Between such stretches, the strip is either wholly inside or outside.
    lo_v, hi_v = np.minimum(v1, v2), np.maximum(v1, v2)
    a, b = np.maximum(lo_v, s0), np.minimum(hi_v, s1)
    hit = a <= b
    dv = v2 - v1
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(dv != 0.0, (u2 - u1) / dv, 0.0)
    ua = np.where(dv != 0.0, u1 + (a - v1) * slope, np.minimum(u1, u2))
    ub = np.where(dv != 0.0, u1 + (b - v1) * slope, np.maximum(u1, u2))
    strip, edge = np.nonzero(hit)
    lo = np.minimum(ua, ub)[strip, edge]
    hi = np.maximum(ua, ub)[strip, edge]

    # Sort the blocked stretches per strip and merge them with a running maximum; strips are
    # kept apart by adding strip · span to every coordinate.
    span = float(max(u1.max(), u2.max())) - u_min + 10.0
    order = np.lexsort((lo, strip))
    strip, lo, hi = strip[order], lo[order] - u_min, hi[order] - u_min
    reach = np.maximum.accumulate(hi + strip * span) - strip * span
    gap_strip = strip[1:]
    gap_lo, gap_hi = reach[:-1], lo[1:]
    free = (strip[1:] == strip[:-1]) & (gap_hi - gap_lo >= width - eps)
    gap_strip, gap_lo, gap_hi = gap_strip[free], gap_lo[free] + u_min, gap_hi[free] + u_min
    mid_u, mid_v = (gap_lo + gap_hi) / 2.0, bottom[gap_strip] + depth / 2.0
    mid_xy = np.outer(mid_u, along) + np.outer(mid_v, up)
    inside = shapely.contains_xy(polygon, mid_xy[:, 0], mid_xy[:, 1])
    gap_strip, gap_lo, gap_hi = gap_strip[inside], gap_lo[inside], gap_hi[inside]
    fits = np.floor((gap_hi - gap_lo + MODULE_GAP) / (width + MODULE_GAP) + eps).astype(int)

    per_offset = np.bincount(offset_of[gap_strip], weights=fits, minlength=_ROW_OFFSETS)
    chosen = int(np.argmax(per_offset))
    count = int(per_offset[chosen])
    boxes = []
    for k in np.flatnonzero(offset_of[gap_strip] == chosen):
        n = int(fits[k])
        used = n * width + (n - 1) * MODULE_GAP
        start = gap_lo[k] + (gap_hi[k] - gap_lo[k] - used) / 2.0
        row = float(bottom[gap_strip[k]])
        for i in range(n):
            u = start + i * (width + MODULE_GAP)
            boxes.append((u, row, u + width, row + depth))
    return count, boxes


_ROW_OFFSETS = 8


def _footprints(
    boxes: list[tuple[float, float, float, float]], along: np.ndarray, up: np.ndarray
) -> shapely.MultiPolygon:
    """Boxes of the row frame back to plan coordinates."""
    if not boxes:
        return shapely.MultiPolygon()
    b = np.asarray(boxes)
    corners_u = b[:, [0, 2, 2, 0]]
    corners_v = b[:, [1, 1, 3, 3]]
    x = corners_u * along[0] + corners_v * up[0]
    y = corners_u * along[1] + corners_v * up[1]
    rings = np.stack([x, y], axis=2)
    return shapely.MultiPolygon(list(shapely.polygons(rings)))
