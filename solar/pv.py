"""PV on roof faces: the module catalogue, module layout, hourly production, suitability.

Production follows PVGIS's chain (Huld et al. 2011), with each step from pvlib and the
mounting of modules close to a roof:

1. the irradiance that reaches the cells, through the glass: the Martin-Ruiz
   incidence-angle modifier (:func:`incidence_modifier`, applied per component by
   :func:`solar.irradiance.poa_irradiance`);
2. the module temperature, :func:`pvlib.temperature.faiman`, with the heat-loss
   coefficients of modules mounted close to a roof (:data:`ROOF_U0`, :data:`ROOF_U1`) and
   the wind brought from 10 m down to the modules' height (:func:`wind_at_module_height`);
3. DC power :func:`pvlib.pvarray.huld`, whose efficiency falls at low irradiance
   (:data:`HULD_K`) and with the module's own temperature coefficient;
4. the remaining losses, one factor (:data:`SYSTEM_LOSSES`, itemised with their sources
   in ``solar/data/losses.toml``);
5. AC power :func:`pvlib.inverter.pvwatts`, the inverter sized by the DC/AC ratio.

References
----------
.. [1] T. Huld, G. Friesen, A. Skoczek, R. Kenny, T. Sample, M. Field and E. Dunlop, "A
   power-rating model for crystalline silicon PV modules", Solar Energy Materials and
   Solar Cells 95, 3359-3369, 2011. :doi:`10.1016/j.solmat.2011.07.026`
.. [2] A. Chatzipanagi, N. Taylor, I. Suarez, A. Martinez, T. Lyubenova and E. Dunlop, "An
   updated simplified energy yield model for recent photovoltaic module technologies",
   Progress in Photovoltaics 33(8), 905-917, 2025. :doi:`10.1002/pip.3926`
.. [3] D. Faiman, "Assessing the outdoor operating temperature of photovoltaic modules",
   Progress in Photovoltaics 16(4), 307-315, 2008. :doi:`10.1002/pip.813`
.. [4] D. L. King, W. E. Boyson and J. A. Kratochvil, "Photovoltaic array performance
   model", Sandia National Laboratories, SAND2004-3535, 2004. :doi:`10.2172/919131`
.. [5] A. Driesse, M. Theristis and J. S. Stein, "PV module operating temperature model
   equivalence and parameter translation", IEEE 49th PVSC, 2022.
   :doi:`10.1109/PVSC48317.2022.9938895`
.. [6] N. Martin and J. M. Ruiz, "Calculation of the PV modules angular losses under field
   conditions by means of an analytical model", Solar Energy Materials and Solar Cells
   70(1), 25-38, 2001. :doi:`10.1016/S0927-0248(00)00408-6`
.. [7] A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641, 2014.
   :doi:`10.2172/1158421`
"""

from __future__ import annotations

import functools
import math
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pvlib
import shapely
from numba import njit, prange
from numpy.typing import ArrayLike

from solar import irradiance
from solar import suitability as legend
from solar.errors import InputError
from solar.geometry import polygonal_parts
from solar.irradiance import IncidenceModifier, Shading, poa_irradiance
from solar.resources import DATA_DIR, MODULES
from solar.weather import Weather

LOSSES = DATA_DIR / "losses.toml"
"""The table of system losses and the inverter efficiency, each with its source."""


def load_losses(path: str | os.PathLike[str] = LOSSES) -> tuple[dict[str, float], float]:
    """The itemised system losses and the inverter's nominal efficiency.

    Parameters
    ----------
    path : str or path-like
        A TOML table with ``[system.<name>]`` entries (``loss``, ``source``) and an
        ``[inverter]`` entry (``nominal_efficiency``, ``source``); by default the package's.

    Returns
    -------
    breakdown : dict of str to float
        Each loss, a fraction of the energy. [unitless]
    inverter_efficiency : float
        [unitless]

    Raises
    ------
    InputError
        When the table cannot be read, or an entry lacks its value or its source, or a
        value lies outside [0, 1).
    """
    source = os.fspath(path)
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except OSError as exc:
        raise InputError(f"cannot read the loss table: {exc.strerror}", source=source) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"bad TOML: {exc}", source=source) from exc
    entries = {f"system.{name}": (entry, "loss") for name, entry in table.get("system", {}).items()}
    entries["inverter"] = (table.get("inverter", {}), "nominal_efficiency")
    values: dict[str, float] = {}
    for name, (entry, field) in entries.items():
        if not isinstance(entry, dict) or not str(entry.get("source", "")).strip():
            raise InputError(f"{name}: missing source", source=source)
        try:
            value = float(entry[field])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{name}: missing or bad field {exc}", source=source) from exc
        if not 0.0 <= value < 1.0 if field == "loss" else not 0.0 < value <= 1.0:
            raise InputError(f"{name}: {field} {value} out of range", source=source)
        values[name] = value
    inverter = values.pop("inverter")
    return {name.removeprefix("system."): value for name, value in values.items()}, inverter


SYSTEM_LOSS_BREAKDOWN, INVERTER_EFFICIENCY = load_losses()
"""The losses the hourly model does not compute (soiling, mismatch, DC wiring,
connections, first-year degradation, nameplate, availability, AC wiring: fractions,
combined multiplicatively), and the inverter's nominal efficiency [unitless] whose
part-load curve :func:`pvlib.inverter.pvwatts` applies: ``solar/data/losses.toml``, where
each has its source. Shading, reflection, temperature and low light are computed hour by
hour, and are not in the table."""

SYSTEM_LOSSES = round(1.0 - math.prod(1.0 - loss for loss in SYSTEM_LOSS_BREAKDOWN.values()), 4)
"""Default system losses: 1 - Π(1 - loss) over :data:`SYSTEM_LOSS_BREAKDOWN`. [unitless]"""

ROOF_U0 = 19.5
"""Faiman constant heat-loss coefficient of modules mounted close to a roof. [W m-2 K-1]

The Sandia model's "close roof mount, glass/cell/glass" parameters (King et al. 2004:
a = -2.98, b = -0.0471), the one empirical set for modules a few centimetres above a roof
that pvlib ships, translated into Faiman's form by Driesse et al. (2022,
:class:`pvlib.temperature.GenericLinearModel`, ``use_sapm`` then ``to_faiman``, with
the default module's 21.8 % efficiency and an absorptance of 0.9): u0 = 19.50. An
open-rack module has 25 to 31 (Faiman 2008; the Sandia open rack, translated the same
way): sheltered by the roof, the modules run about 16 °C hotter than on an open rack at
900 W m-2 in a 3 m/s wind."""

ROOF_U1 = 1.58
"""Faiman wind heat-loss coefficient of modules mounted close to a roof, for the wind at
the modules' height. [W m-3 s K-1]

The same translation gives 1.09 per m/s of the 10 m wind at Sandia's test site; divided by
0.692, the ratio of the wind at the 1 m height of its test racks to the wind at 10 m over
open flat ground (Hellmann exponent 0.16, "neutral air above flat open coast"), it is per
m/s of the wind at the modules' height, as Faiman (2008) and IEC 61853-2 define it."""

WIND_REFERENCE_HEIGHT = 10.0
"""Height of the weather's wind speed: PVGIS's ``WS10m``, the WMO standard. [m]"""

ROOF_MODULE_HEIGHT = 6.0
"""Height of the modules above the ground: mid-roof of a two-storey terraced house (eaves
about 5 m, ridge about 8 m), the Artois's common roof. [m]"""

WIND_SHEAR_EXPONENT = 0.34
"""Hellmann exponent of the wind profile from :data:`WIND_REFERENCE_HEIGHT` down to the
roofs: "neutral air above human inhabited areas" (Kaltschmitt, Streicher and Wiese,
"Renewable Energy", Springer 2007, through
:data:`pvlib.atmosphere.HELLMANN_SURFACE_EXPONENTS`). From 10 m down to 6 m the wind keeps
84 % of its speed. [unitless]"""

MARTIN_RUIZ_AR = 0.16
"""Angular losses coefficient ``a_r`` of the Martin-Ruiz incidence-angle modifier: clean
flat glass of crystalline silicon modules (Martin and Ruiz 2001), PVGIS's value. It costs
2.9 % of the year's irradiance on a 35° south roof in the Artois. [unitless]"""

HULD_K = (-0.006756, -0.016444, -0.003015, -0.000045, -0.000043, 0.0)
"""Huld coefficients k1 to k6 of crystalline silicon, relative to the nameplate power
(pvlib's ``k_version="pvgis6"``, Chatzipanagi et al. 2025, fitted on modules of 2019-2023
such as the catalogue's). k1 and k2 make the low-irradiance loss: 3.2 % below the
nameplate efficiency at 200 W m-2. k3, the linear temperature coefficient, is replaced by
the module's own ``gamma_pdc``. [unitless]"""

DC_AC_RATIO = 1.1
"""Peak DC power of the modules over the inverter's AC rating, the usual sizing of
residential systems. [unitless]"""

IAM_SAMPLES = 501
"""Samples of the beam incidence-angle modifier over cos(aoi) in [0, 1]: linear
interpolation between them is within 2e-5 of the Martin-Ruiz curve."""

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

SUITABILITY_CLASSES = legend.THRESHOLDS
"""Suitability classes and their lower bounds on the relative irradiation, defined once in
:mod:`solar.suitability`. Excellent ≥ 90 %, good ≥ 80 %, fair ≥ 70 %, else poor."""

WORTH_EQUIPPING = legend.WORTH_EQUIPPING
"""Classes whose faces count in a building's totals and in a default project
(:data:`solar.suitability.WORTH_EQUIPPING`)."""


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
    u0 : float, default ROOF_U0
        Faiman constant heat-loss coefficient, mounted close to a roof. [W m-2 K-1]
    u1 : float, default ROOF_U1
        Faiman wind heat-loss coefficient, mounted close to a roof, for the wind at the
        modules' height. [W m-3 s K-1]
    """

    name: str
    length: float
    width: float
    pdc0: float
    gamma_pdc: float
    u0: float = ROOF_U0
    u1: float = ROOF_U1


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
    the most modules win; portrait wins ties. :func:`layout_faces` lays out many faces at
    once, each as this function would.

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
    azimuth = math.nan if surface_azimuth is None else surface_azimuth
    return layout_faces([usable], module, [surface_tilt], [azimuth], latitude=latitude)[0]


def layout_faces(
    usable: Sequence[shapely.Geometry],
    module: Module,
    surface_tilt: ArrayLike,
    surface_azimuth: ArrayLike,
    *,
    latitude: float = ARTOIS_LATITUDE,
) -> list[Layout]:
    """:func:`layout_modules` on many faces at once.

    Each face gets the layout :func:`layout_modules` gives it alone; the strips of all
    faces and both orientations are searched in one pass.

    Parameters
    ----------
    usable : sequence of shapely.Polygon or shapely.MultiPolygon
        Each face's usable outline in plan, as :func:`layout_modules` takes it.
    module : Module
    surface_tilt : array_like
        (n_faces,) [°]
    surface_azimuth : array_like
        (n_faces,) clockwise from north; NaN for a flat face. [°]
    latitude : float, default Lens
        Sets the flat-roof row spacing. [°]

    Returns
    -------
    list of Layout
        One per face, in order.

    Examples
    --------
    The strip of :func:`layout_modules`'s example, then the same strip on a flat roof:
    racked at 10°, landscape rows 1.134 · cos 10° = 1.117 m deep start every 1.799 m
    (:func:`flat_row_pitch`), so 4 m holds 2 rows of 5.

    >>> m = Module("m", 1.722, 1.134, 425.0, -0.003)
    >>> strip = shapely.box(0, 0, 10, 4)
    >>> layouts = layout_faces([strip, strip], m, [30.0, 0.0], [180.0, np.nan])
    >>> [(layout.n_modules, layout.orientation) for layout in layouts]
    [(20, 'landscape'), (10, 'landscape')]
    """
    # Keep the polygons only: a difference upstream may leave lines or points beside them.
    outlines = polygonal_parts(np.asarray(usable, dtype=object).reshape(-1))
    n_faces = outlines.size
    tilts = np.asarray(surface_tilt, dtype=np.float64).reshape(-1)
    azimuths = np.asarray(surface_azimuth, dtype=np.float64).reshape(-1)
    if tilts.size != n_faces or azimuths.size != n_faces:
        raise ValueError(f"{n_faces} outlines but {tilts.size} tilts and {azimuths.size} azimuths")
    planes = [module_plane(t, a) for t, a in zip(tilts.tolist(), azimuths.tolist(), strict=True)]
    frames = _row_frames(planes)
    flat = np.isnan(azimuths)

    # Group g = 2 f + o: face f in portrait (o = 0) or landscape (o = 1).
    cos_tilt = np.repeat(frames.cos_tilt, 2)
    width = np.tile([module.width, module.length], n_faces)
    slope_size = np.tile([module.length, module.width], n_faces)
    depth = slope_size * cos_tilt
    pitch = depth + MODULE_GAP * cos_tilt
    for g in np.flatnonzero(np.repeat(flat, 2)):
        pitch[g] = flat_row_pitch(float(slope_size[g]), planes[g // 2][0], latitude)

    to_prepare = outlines[~shapely.is_prepared(outlines)]
    shapely.prepare(to_prepare)
    try:
        boxes = _pack(outlines, frames, width, depth, pitch)
    finally:
        shapely.destroy_prepared(to_prepare)
    footprints = _footprints(boxes, frames, n_faces)
    return [
        Layout(
            n_modules=int(boxes.n_modules[f]),
            orientation="landscape" if boxes.landscape[f] else "portrait",
            module_tilt=tilt,
            module_azimuth=azimuth,
            kwc=int(boxes.n_modules[f]) * module.pdc0 / 1000.0,
            modules=footprints[f],
        )
        for f, (tilt, azimuth) in enumerate(planes)
    ]


def wind_at_module_height(wind_speed: ArrayLike) -> np.ndarray:
    """The wind at the modules' height on a roof, from the wind at 10 m.

    The power law of :func:`pvlib.atmosphere.windspeed_powerlaw` from
    :data:`WIND_REFERENCE_HEIGHT` to :data:`ROOF_MODULE_HEIGHT`, with the exponent of
    built-up areas (:data:`WIND_SHEAR_EXPONENT`).

    Parameters
    ----------
    wind_speed : array_like
        Wind speed at 10 m. [m s-1]

    Returns
    -------
    numpy.ndarray
        [m s-1]

    >>> float(wind_at_module_height(5.0).round(3))
    4.203
    """
    return np.asarray(
        pvlib.atmosphere.windspeed_powerlaw(
            np.asarray(wind_speed, dtype=np.float64),
            WIND_REFERENCE_HEIGHT,
            ROOF_MODULE_HEIGHT,
            exponent=WIND_SHEAR_EXPONENT,
        ),
        dtype=np.float64,
    )


def incidence_modifier(surface_tilt: ArrayLike) -> IncidenceModifier:
    """The modules' Martin-Ruiz incidence-angle modifier on planes of given tilts.

    Parameters
    ----------
    surface_tilt : array_like
        (n,) tilt of the module planes. [°]

    Returns
    -------
    solar.irradiance.IncidenceModifier
        The beam modifier sampled on cos(aoi) (:data:`IAM_SAMPLES`), and the sky, horizon
        band and ground modifiers of each plane (:func:`pvlib.iam.marion_diffuse`,
        interpolated in a table by :data:`DIFFUSE_IAM_STEP`).

    Examples
    --------
    >>> iam = incidence_modifier([35.0])
    >>> float(iam.beam[-1]), float(iam.beam[0])
    (1.0, 0.0)
    >>> round(float(iam.sky[0]), 4), round(float(iam.ground[0]), 4)
    (0.9643, 0.8213)
    """
    tilt = np.clip(np.asarray(surface_tilt, dtype=np.float64).reshape(-1), 0.0, 90.0)
    cos_aoi = np.linspace(0.0, 1.0, IAM_SAMPLES)
    aoi = np.degrees(np.arccos(cos_aoi))
    beam = pvlib.iam.martin_ruiz(aoi, a_r=MARTIN_RUIZ_AR)
    grid, sky, horizon, ground = _diffuse_modifiers()
    return IncidenceModifier(
        beam=np.asarray(beam, dtype=np.float64),
        sky=np.interp(tilt, grid, sky),
        horizon=np.interp(tilt, grid, horizon),
        ground=np.interp(tilt, grid, ground),
    )


DIFFUSE_IAM_STEP = 0.5
"""Tilt step of the table of diffuse incidence-angle modifiers. Interpolated linearly, it
is within 3e-4 of :func:`pvlib.iam.marion_diffuse` above 5° of tilt (within its own
numerical noise), and within 5e-3 for the horizon band below, where that band weighs
sin(tilt) < 0.09 of its light. [°]"""

DIFFUSE_IAM_TABLE = DATA_DIR / "diffuse_iam.csv"
"""The diffuse modifiers at every :data:`DIFFUSE_IAM_STEP` of tilt from 0 to 90°, as
:func:`diffuse_modifier_table` computes them with :data:`MARTIN_RUIZ_AR`, written by
:func:`write_diffuse_modifier_table`: :func:`pvlib.iam.marion_diffuse` integrates
numerically, 7 ms a tilt, which every build would otherwise pay at its start."""


def diffuse_modifier_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tilts 0-90° by :data:`DIFFUSE_IAM_STEP`, and the sky, horizon-band and ground
    modifiers at each, computed by :func:`pvlib.iam.marion_diffuse`.

    Returns
    -------
    tilt : numpy.ndarray
        (k,) [°]
    sky, horizon, ground : numpy.ndarray
        (k,) [0..1]
    """
    grid = np.arange(0.0, 90.0 + DIFFUSE_IAM_STEP / 2, DIFFUSE_IAM_STEP)
    diffuse = pvlib.iam.marion_diffuse("martin_ruiz", grid, a_r=MARTIN_RUIZ_AR)
    return (
        grid,
        np.asarray(diffuse["sky"], dtype=np.float64),
        np.asarray(diffuse["horizon"], dtype=np.float64),
        np.asarray(diffuse["ground"], dtype=np.float64),
    )


_TABLE_HEADER = "tilt,sky,horizon,ground"


def write_diffuse_modifier_table(path: str | os.PathLike[str] = DIFFUSE_IAM_TABLE) -> None:
    """Write :func:`diffuse_modifier_table` as CSV, every value exactly (shortest repr).

    Run it again (``python -c "from solar import pv; pv.write_diffuse_modifier_table()"``)
    when :data:`MARTIN_RUIZ_AR`, :data:`DIFFUSE_IAM_STEP` or pvlib's integration change;
    a test checks that the shipped table is what it writes.
    """
    columns = diffuse_modifier_table()
    lines = [
        "# Diffuse incidence-angle modifiers of the Martin-Ruiz model,",
        "# pvlib.iam.marion_diffuse; written by solar.pv.write_diffuse_modifier_table.",
        f"# a_r={MARTIN_RUIZ_AR!r} step={DIFFUSE_IAM_STEP!r}",
        _TABLE_HEADER,
        *(",".join(repr(float(v)) for v in row) for row in zip(*columns, strict=True)),
    ]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


@functools.cache
def _diffuse_modifiers() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`diffuse_modifier_table`, read from :data:`DIFFUSE_IAM_TABLE` once a process.

    The table is computed afresh when it was written for another ``a_r`` or tilt step.
    """
    with open(DIFFUSE_IAM_TABLE, encoding="utf-8") as f:
        lines = f.read().splitlines()
    written_for = f"# a_r={MARTIN_RUIZ_AR!r} step={DIFFUSE_IAM_STEP!r}"
    if written_for not in lines or _TABLE_HEADER not in lines:
        return diffuse_modifier_table()
    rows = lines[lines.index(_TABLE_HEADER) + 1 :]
    values = np.array([[float(v) for v in row.split(",")] for row in rows], dtype=np.float64)
    return values[:, 0], values[:, 1], values[:, 2], values[:, 3]


def dc_power(
    effective_irradiance: ArrayLike, temp_module: ArrayLike, pdc0: ArrayLike, module: Module
) -> np.ndarray:
    """DC power of modules by the Huld model, with the module's temperature coefficient.

    :func:`pvlib.pvarray.huld` with the coefficients :data:`HULD_K` of recent crystalline
    silicon modules, k3 being the module's ``gamma_pdc``:
    ``P = G' · pdc0 · (1 + k1 ln G' + k2 ln² G' + T' (γ + k4 ln G' + k5 ln² G') + k6 T'²)``,
    ``G' = G / 1000``, ``T' = T - 25``.

    Parameters
    ----------
    effective_irradiance : array_like
        Irradiance reaching the cells. [W m-2]
    temp_module : array_like
        [°C]
    pdc0 : array_like
        Nameplate power, broadcast against the other two. [W]
    module : Module

    Returns
    -------
    numpy.ndarray
        [W], never negative: the logarithms turn the model's power negative below about
        0.3 W m-2, where a module produces nothing.

    Examples
    --------
    At 200 W m-2 and 25 °C a module keeps 96.8 % of its nameplate efficiency:

    >>> m = Module("m", 1.722, 1.134, 425.0, -0.003)
    >>> round(float(dc_power(200.0, 25.0, 1000.0, m)), 2)
    193.66
    """
    k = (HULD_K[0], HULD_K[1], module.gamma_pdc, *HULD_K[3:])
    irradiance = np.asarray(effective_irradiance, dtype=np.float64)
    # Huld's k are relative to the nameplate power here: P = G' · pdc0 · (1 + Σ k ...).
    relative = pvlib.pvarray.huld(irradiance, np.asarray(temp_module, dtype=np.float64), 1.0, k=k)
    return np.maximum(np.asarray(pdc0, dtype=np.float64) * relative, 0.0)


def production(
    poa_global: ArrayLike,
    temp_air: ArrayLike,
    wind_speed: ArrayLike,
    kwc: ArrayLike,
    *,
    module: Module,
    effective_irradiance: ArrayLike | None = None,
    system_losses: float = SYSTEM_LOSSES,
    dc_ac_ratio: float = DC_AC_RATIO,
) -> np.ndarray:
    """Hourly AC energy of PV systems mounted close to roofs, one per face.

    Parameters
    ----------
    poa_global : array_like
        (n_faces, n_hours) plane-of-array irradiance, which heats the modules. [W m-2]
    temp_air : array_like
        (n_hours,) air temperature. [°C]
    wind_speed : array_like
        (n_hours,) wind speed at 10 m, PVGIS's ``WS10m``; brought down to the modules'
        height by :func:`wind_at_module_height`. [m s-1]
    kwc : array_like
        (n_faces,) installed peak power. [kWc]
    module : Module
        Gives ``gamma_pdc``, ``u0`` and ``u1``.
    effective_irradiance : array_like, optional
        (n_faces, n_hours) irradiance reaching the cells through the glass
        (``poa_effective`` of :func:`solar.irradiance.poa_irradiance` with
        :func:`incidence_modifier`); ``poa_global`` when None, for modules without
        reflection losses. [W m-2]
    system_losses : float, default SYSTEM_LOSSES
        Losses between the modules and the inverter that the model does not compute
        (:data:`SYSTEM_LOSS_BREAKDOWN`). [unitless]
    dc_ac_ratio : float, default DC_AC_RATIO
        Peak DC power over the inverter's AC rating. [unitless]

    Returns
    -------
    numpy.ndarray
        (n_faces, n_hours) float32, AC energy of each hour. [kWh]

    Notes
    -----
    The Huld model takes the module temperature, which Faiman's model gives (IEC 61853-2
    does not tell it from the cell temperature).
    """
    poa = np.asarray(poa_global, dtype=np.float32)
    if poa.ndim == 1:
        poa = poa[None, :]
    effective = (
        poa if effective_irradiance is None else np.asarray(effective_irradiance, np.float32)
    )
    if effective.ndim == 1:
        effective = effective[None, :]
    temp = np.asarray(temp_air, dtype=np.float64)
    # Faiman's coefficients are for the wind at the modules' height.
    wind = wind_at_module_height(wind_speed)
    peak = np.asarray(kwc, dtype=np.float64).reshape(-1)
    n, n_hours = poa.shape
    if effective.shape != poa.shape:
        raise ValueError(f"effective_irradiance has shape {effective.shape}, not {poa.shape}")
    if temp.shape != (n_hours,) or wind.shape != (n_hours,):
        raise ValueError(f"temp_air and wind_speed must have {n_hours} hours")
    if peak.shape != (n,):
        raise ValueError(f"{peak.size} kwc values for {n} faces")
    if not 0.0 <= system_losses < 1.0:
        raise ValueError("system_losses must lie in [0, 1)")
    if dc_ac_ratio <= 0.0:
        raise ValueError("dc_ac_ratio must be positive")

    out = np.zeros((n, n_hours), dtype=np.float32)
    _production_kernel(
        np.ascontiguousarray(poa),
        np.ascontiguousarray(effective),
        temp,
        wind,
        peak,
        np.array([HULD_K[0], HULD_K[1], module.gamma_pdc, *HULD_K[3:]]),
        _Mounting(module.u0, module.u1, 1.0 - system_losses, dc_ac_ratio, INVERTER_EFFICIENCY),
        out,
    )
    return out


class _Mounting(NamedTuple):
    """The scalars of :func:`_production_kernel`."""

    u0: float  # Faiman [W m-2 K-1]
    u1: float  # Faiman [W m-3 s K-1]
    kept: float  # 1 - system losses
    dc_ac_ratio: float
    inverter_efficiency: float  # nominal


PVWATTS_REFERENCE_EFFICIENCY = 0.9637
"""The reference efficiency of the PVWatts inverter curve, pvlib's ``eta_inv_ref``
(Dobos 2014). [unitless]"""


@njit(cache=True, inline="always")
def _ac_energy(
    poa: float,
    reaching: float,
    temp_air: float,
    wind: float,
    peak_kw: float,
    k: np.ndarray,
    mounting: _Mounting,
) -> float:  # pragma: no cover - numba
    """AC energy of one hour: the formulas of :func:`pvlib.temperature.faiman`,
    :func:`pvlib.pvarray.huld` (relative to the nameplate, as :func:`dc_power`) and
    :func:`pvlib.inverter.pvwatts`, term for term, in float64. [kWh]

    Hours with no light reaching the cells produce nothing (Huld's power is 0 at 0).
    """
    if reaching <= 0.0:
        return 0.0
    inverter = mounting.inverter_efficiency
    pdc0 = 1000.0 * peak_kw
    # pvwatts' pdc0 is the inverter's DC input at its AC rating pdc0_array / dc_ac_ratio.
    inverter_pdc0 = pdc0 / mounting.dc_ac_ratio / inverter
    pac0 = inverter * inverter_pdc0
    temp_module = temp_air + poa / (mounting.u0 + mounting.u1 * wind)
    g = reaching / 1000.0
    t = temp_module - 25.0
    log_g = math.log(g)
    relative = g * (
        1.0
        + k[0] * log_g
        + k[1] * log_g**2
        + k[2] * t
        + k[3] * t * log_g
        + k[4] * t * log_g**2
        + k[5] * t**2
    )
    pdc = max(pdc0 * relative, 0.0) * mounting.kept
    if pdc == 0.0:
        return 0.0
    zeta = pdc / inverter_pdc0
    eta = inverter / PVWATTS_REFERENCE_EFFICIENCY * (-0.0162 * zeta - 0.0059 / zeta + 0.9858)
    return max(min(pac0, eta * pdc), 0.0) / 1000.0


@njit(parallel=True, cache=True)
def _production_kernel(
    poa: np.ndarray,
    effective: np.ndarray,
    temp_air: np.ndarray,
    wind: np.ndarray,
    peak_kw: np.ndarray,
    k: np.ndarray,
    mounting: _Mounting,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """AC energy per face and hour, one fused pass of :func:`_ac_energy`."""
    for f in prange(poa.shape[0]):
        if peak_kw[f] <= 0.0:
            continue
        for h in range(poa.shape[1]):
            energy = _ac_energy(
                float(poa[f, h]),
                float(effective[f, h]),
                temp_air[h],
                wind[h],
                peak_kw[f],
                k,
                mounting,
            )
            if energy > 0.0:
                out[f, h] = energy


def specific_production(
    weather: Weather,
    solpos: pd.DataFrame,
    module_tilt: ArrayLike,
    module_azimuth: ArrayLike,
    shading: Shading,
    *,
    module: Module,
    albedo: float = 0.2,
    system_losses: float = SYSTEM_LOSSES,
) -> np.ndarray:
    """Hourly AC energy per kWc of modules on faces, from their shading alone.

    The whole chain in one pure function: the plane-of-array irradiance of the module
    planes (:func:`solar.irradiance.poa_irradiance`) with the faces' shading and the
    modules' incidence-angle modifier (:func:`incidence_modifier`), then
    :func:`production`. Given the same shading, the build and a later reader get the same
    hours.

    Parameters
    ----------
    weather : Weather
    solpos : pandas.DataFrame
        From :func:`solar.weather.solar_position`.
    module_tilt, module_azimuth : array_like
        (n_faces,) the modules' plane (:func:`module_plane`). [°]
    shading : solar.irradiance.Shading
        Its ``lit_fraction`` is the factor on the beam and circumsolar light that reaches
        the modules: after module mismatch
        (:func:`solar.shading.module_lit_fraction`) on a face with modules.
    module : Module
    albedo : float, default 0.2
        Ground reflectance. [unitless]
    system_losses : float, default SYSTEM_LOSSES
        [unitless]

    Returns
    -------
    numpy.ndarray
        (n_faces, n_hours) float32, AC energy of each hour per kWc. [kWh kWc-1]
    """
    tilt = np.asarray(module_tilt, dtype=np.float64).reshape(-1)
    poa = poa_irradiance(
        weather,
        solpos,
        tilt,
        module_azimuth,
        shading=shading,
        albedo=albedo,
        iam=incidence_modifier(tilt),
    )
    data = weather.data
    return production(
        poa.poa_global,
        data["temp_air"].to_numpy(),
        data["wind_speed"].to_numpy(),
        np.ones(tilt.size),
        module=module,
        effective_irradiance=poa.poa_effective,
        system_losses=system_losses,
    )


def monthly_specific_production(
    weather: Weather,
    solpos: pd.DataFrame,
    module_tilt: ArrayLike,
    module_azimuth: ArrayLike,
    shading: Shading,
    *,
    module: Module,
    albedo: float = 0.2,
    system_losses: float = SYSTEM_LOSSES,
) -> np.ndarray:
    """:func:`specific_production` summed by calendar month, without its hours.

    The same chain hour by hour, each hour's irradiance and energy rounded to float32 as
    there, summed in float64 as it goes: a build stores the months and the light
    (:mod:`solar.profiles`), not the hours, and skips the three (n_faces, 8760) arrays.

    Parameters
    ----------
    weather, solpos, module_tilt, module_azimuth, shading, module, albedo, system_losses
        As for :func:`specific_production`.

    Returns
    -------
    numpy.ndarray
        (n_faces, 12) float64, AC energy of each month per kWc. [kWh kWc-1]
    """
    if not 0.0 <= system_losses < 1.0:
        raise ValueError("system_losses must lie in [0, 1)")
    tilt = np.asarray(module_tilt, dtype=np.float64).reshape(-1)
    data = weather.data
    factors = irradiance.planes(
        tilt, module_azimuth, len(data), shading=shading, iam=incidence_modifier(tilt)
    )
    month = pd.DatetimeIndex(data.index).month.to_numpy().astype(np.int64) - 1
    out = np.zeros((tilt.size, 12))
    _monthly_production_kernel(
        irradiance.sky_series(weather, solpos, albedo),
        factors,
        month,
        data["temp_air"].to_numpy(np.float64),
        wind_at_module_height(data["wind_speed"].to_numpy()),
        np.array([HULD_K[0], HULD_K[1], module.gamma_pdc, *HULD_K[3:]]),
        _Mounting(module.u0, module.u1, 1.0 - system_losses, DC_AC_RATIO, INVERTER_EFFICIENCY),
        out,
    )
    return out


@njit(parallel=True, cache=True)
def _monthly_production_kernel(
    sky: irradiance.SkySeries,
    factors: irradiance.Planes,
    month: np.ndarray,
    temp_air: np.ndarray,
    wind: np.ndarray,
    k: np.ndarray,
    mounting: _Mounting,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Monthly AC energy per kWc and face: :func:`solar.irradiance.hour_on_cells`, then
    :func:`_ac_energy`, rounded to float32 as :func:`production` stores it.

    numba inlines ``hour_on_cells`` and caches the result under this file's timestamp
    alone: after an edit of :mod:`solar.irradiance`'s hour functions, clear the cache
    (``__pycache__``) or the build keeps the old ones.
    """
    for f in prange(out.shape[0]):
        # the other hours have no light, and produce nothing
        for h in sky.light_hours:
            poa, reaching = irradiance.hour_on_cells(sky, factors, f, h)
            energy = _ac_energy(float(poa), float(reaching), temp_air[h], wind[h], 1.0, k, mounting)
            if energy > 0.0:
                out[f, month[h]] += np.float32(energy)


def suitability(relative_irradiation: float) -> str:
    """The suitability class of a face from its relative irradiation.

    Parameters
    ----------
    relative_irradiation : float
        Annual irradiation of the roof's own plane (the horizontal for a flat roof, not its
        racked modules'), shading included, over that of the best plane at the site (see
        :data:`SUITABILITY_CLASSES`): the class says how much sun the roof gets, whatever
        the modules on it. [unitless]

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
    return legend.classify(relative_irradiation)


def suitability_array(relative_irradiation: ArrayLike) -> np.ndarray:
    """:func:`suitability` over an array.

    Examples
    --------
    >>> suitability_array([0.95, 0.85, 0.75, 0.65]).tolist()
    ['excellent', 'good', 'fair', 'poor']
    """
    return legend.classify_array(relative_irradiation)


_ROW_OFFSETS = 8
"""Row offsets tried per orientation: eighths of the row pitch."""

_SLACK = 1e-7
"""Slack of the layout's comparisons: far above the rounding of coordinates in metres, far
below any size that matters. [m]"""


class _RowFrames(NamedTuple):
    """Each face's row frame: u along the rows (contour lines), v up the slope (towards the
    north on a south-facing roof), in plan."""

    along: np.ndarray  # (n_faces, 2) unit vector of u
    up: np.ndarray  # (n_faces, 2) unit vector of v
    cos_tilt: np.ndarray  # (n_faces,) of the module plane


def _row_frames(planes: Sequence[tuple[float, float]]) -> _RowFrames:
    """The row frames of module planes given as (tilt, azimuth) [°]."""
    gamma = [math.radians(azimuth) for _, azimuth in planes]
    cos_gamma = np.array([math.cos(g) for g in gamma], dtype=np.float64)
    sin_gamma = np.array([math.sin(g) for g in gamma], dtype=np.float64)
    return _RowFrames(
        along=np.stack([-cos_gamma, sin_gamma], axis=1),
        up=np.stack([-sin_gamma, -cos_gamma], axis=1),
        cos_tilt=np.array([math.cos(math.radians(tilt)) for tilt, _ in planes], dtype=np.float64),
    )


def _edges(outlines: np.ndarray, frames: _RowFrames) -> tuple[np.ndarray, np.ndarray]:
    """The edges of every ring of every face as (u1, v1, u2, v2) in its row frame, face
    after face: (m, 4), and the offsets of each face's, (n_faces + 1,)."""
    parts, part_face = shapely.get_parts(outlines, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    face = part_face[ring_part[ring]]
    u = xy[:, 0] * frames.along[face, 0] + xy[:, 1] * frames.along[face, 1]
    v = xy[:, 0] * frames.up[face, 0] + xy[:, 1] * frames.up[face, 1]
    same = ring[1:] == ring[:-1]
    edges = np.stack([u[:-1], v[:-1], u[1:], v[1:]], axis=1)[same]
    edge_start = np.searchsorted(face[:-1][same], np.arange(outlines.size + 1))
    return np.ascontiguousarray(edges), edge_start.astype(np.int64)


class _Strips(NamedTuple):
    """Strips where a row of modules may lie: strip k spans ``[bottom[k], bottom[k] +
    depth[k]]`` up the slope of face ``face[k]``, for modules ``width[k]`` long. [m]"""

    face: np.ndarray  # int64
    bottom: np.ndarray
    depth: np.ndarray
    width: np.ndarray


class _Boxes(NamedTuple):
    """The modules laid, face after face, as (u0, v0, u1, v1) boxes in their face's row
    frame, with the number and the orientation of each face's."""

    face: np.ndarray  # (n_modules,) int64
    box: np.ndarray  # (n_modules, 4)
    n_modules: np.ndarray  # (n_faces,) int64
    landscape: np.ndarray  # (n_faces,) bool


def _pack(
    outlines: np.ndarray,
    frames: _RowFrames,
    width: np.ndarray,
    depth: np.ndarray,
    pitch: np.ndarray,
) -> _Boxes:
    """The best offset of each (face, orientation) group, then the best orientation of each
    face (portrait on a tie): its modules.

    ``width``, ``depth`` and ``pitch`` are per group ``g = 2 f + o`` [m]; the outlines are
    prepared.
    """
    n_faces, n_groups = outlines.size, width.size
    edges, edge_start = _edges(outlines, frames)
    has_edges = np.diff(edge_start) > 0
    v_min, v_max = np.zeros(n_faces), np.zeros(n_faces)
    first = edge_start[:-1][has_edges]
    v_min[has_edges] = np.minimum.reduceat(np.minimum(edges[:, 1], edges[:, 3]), first)
    v_max[has_edges] = np.maximum.reduceat(np.maximum(edges[:, 1], edges[:, 3]), first)
    group_face = np.arange(n_groups) // 2
    n_rows = np.floor((v_max[group_face] - v_min[group_face] - depth) / pitch + _SLACK) + 1
    n_rows = np.where(has_edges[group_face], np.maximum(n_rows, 0), 0).astype(np.int64)

    # Every row of every offset at once, as in the order of offsets then rows.
    per_group = _ROW_OFFSETS * n_rows
    group = np.repeat(np.arange(n_groups), per_group)
    within = np.arange(group.size) - np.repeat(np.cumsum(per_group) - per_group, per_group)
    offset, row = np.divmod(within, n_rows[group])
    strip_pitch = pitch[group]
    bottom = v_min[group // 2] + offset * strip_pitch / _ROW_OFFSETS + strip_pitch * row
    keep = bottom + depth[group] <= v_max[group // 2] + _SLACK
    group, offset = group[keep], offset[keep]
    strips = _Strips(group // 2, bottom[keep], depth[group], width[group])
    gap_strip, gap_lo, gap_hi = _free_stretches(edges, edge_start, strips, _SLACK)

    # Each free stretch is wholly inside its outline or wholly outside: its midpoint tells.
    face = strips.face[gap_strip]
    mid_u = (gap_lo + gap_hi) / 2.0
    mid_v = strips.bottom[gap_strip] + strips.depth[gap_strip] / 2.0
    x = mid_u * frames.along[face, 0] + mid_v * frames.up[face, 0]
    y = mid_u * frames.along[face, 1] + mid_v * frames.up[face, 1]
    inside = shapely.contains_xy(outlines[face], x, y)
    gap_strip, gap_lo, gap_hi = gap_strip[inside], gap_lo[inside], gap_hi[inside]
    gap_width = strips.width[gap_strip]
    fits = np.floor((gap_hi - gap_lo + MODULE_GAP) / (gap_width + MODULE_GAP) + _SLACK)
    fits = fits.astype(np.int64)

    key = group[gap_strip] * _ROW_OFFSETS + offset[gap_strip]
    per_offset = np.bincount(key, weights=fits, minlength=n_groups * _ROW_OFFSETS)
    per_offset = per_offset.reshape(n_groups, _ROW_OFFSETS)
    chosen = np.argmax(per_offset, axis=1)
    count = per_offset[np.arange(n_groups), chosen].astype(np.int64).reshape(n_faces, 2)
    landscape = count[:, 1] > count[:, 0]
    best_group = 2 * np.arange(n_faces) + landscape

    gap_group = group[gap_strip]
    taken = (gap_group == best_group[gap_group // 2]) & (offset[gap_strip] == chosen[gap_group])
    n = fits[taken]
    lo, hi, row_width = gap_lo[taken], gap_hi[taken], gap_width[taken]
    used = n * row_width + (n - 1) * MODULE_GAP
    start = lo + (hi - lo - used) / 2.0
    # The modules of each stretch side by side, centred in it.
    stretch = np.repeat(np.arange(n.size), n)
    i = np.arange(stretch.size) - np.repeat(np.cumsum(n) - n, n)
    module_width = row_width[stretch]
    u = start[stretch] + i * (module_width + MODULE_GAP)
    v = strips.bottom[gap_strip[taken]][stretch]
    v_top = v + strips.depth[gap_strip[taken]][stretch]
    return _Boxes(
        face=strips.face[gap_strip[taken]][stretch],
        box=np.stack([u, v, u + module_width, v_top], axis=1),
        n_modules=count[np.arange(n_faces), landscape.astype(np.int64)],
        landscape=landscape,
    )


@njit(cache=True)
def _free_stretches(
    edges: np.ndarray, edge_start: np.ndarray, strips: _Strips, slack: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """The stretches of each strip free of its face's edges and at least its ``width``
    long: (strip, u_lo, u_hi) each, strip after strip.

    The part of each edge inside a strip, projected on the row axis, is a stretch no module
    may overlap. Sorted by their start and merged with a running maximum, they leave
    between them stretches where the strip is either wholly inside the polygon or wholly
    outside (:func:`_pack` tells which by their midpoints).
    """
    n_strips = strips.bottom.size
    widest = 0
    for f in range(edge_start.size - 1):
        widest = max(widest, edge_start[f + 1] - edge_start[f])
    room = max(4 * n_strips, 16)
    strip_out = np.empty(room, np.int64)
    lo_out, hi_out = np.empty(room), np.empty(room)
    lo, hi = np.empty(widest), np.empty(widest)
    n_out = 0
    for k in range(n_strips):
        s0, s1 = strips.bottom[k] + slack, strips.bottom[k] + strips.depth[k] - slack
        width = strips.width[k]
        n = 0
        for e in range(edge_start[strips.face[k]], edge_start[strips.face[k] + 1]):
            u1, v1, u2, v2 = edges[e, 0], edges[e, 1], edges[e, 2], edges[e, 3]
            a, b = max(min(v1, v2), s0), min(max(v1, v2), s1)
            if a > b:
                continue
            dv = v2 - v1
            if dv != 0.0:
                slope = (u2 - u1) / dv
                ua, ub = u1 + (a - v1) * slope, u1 + (b - v1) * slope
            else:
                ua, ub = min(u1, u2), max(u1, u2)
            # Kept sorted by their start, after any equal one: as a stable sort orders them.
            low, high = min(ua, ub), max(ua, ub)
            j = n
            while j > 0 and lo[j - 1] > low:
                lo[j], hi[j] = lo[j - 1], hi[j - 1]
                j -= 1
            lo[j], hi[j] = low, high
            n += 1
        if n == 0:
            continue
        reach = hi[0]
        for i in range(1, n):
            start = lo[i]
            if start - reach >= width - slack:
                if n_out == room:
                    room *= 2
                    strip_out = _grown(strip_out, room)
                    lo_out, hi_out = _grown(lo_out, room), _grown(hi_out, room)
                strip_out[n_out], lo_out[n_out], hi_out[n_out] = k, reach, start
                n_out += 1
            reach = max(reach, hi[i])
    return strip_out[:n_out], lo_out[:n_out], hi_out[:n_out]


@njit(cache=True)
def _grown(values: np.ndarray, size: int) -> np.ndarray:  # pragma: no cover - numba
    """A copy of ``values`` with room for ``size``."""
    out = np.empty(size, values.dtype)
    out[: values.size] = values
    return out


def _footprints(boxes: _Boxes, frames: _RowFrames, n_faces: int) -> list[shapely.MultiPolygon]:
    """Each face's boxes back in plan coordinates, one MultiPolygon a face."""
    face = boxes.face
    corners_u = boxes.box[:, [0, 2, 2, 0]]
    corners_v = boxes.box[:, [1, 1, 3, 3]]
    x = corners_u * frames.along[face, 0, None] + corners_v * frames.up[face, 0, None]
    y = corners_u * frames.along[face, 1, None] + corners_v * frames.up[face, 1, None]
    # Each box a closed ring of five corners; the faces' MultiPolygons made from the
    # coordinates at once, with no Polygon object per module in between (the boxes come
    # face after face).
    rings = np.stack([x[:, [0, 1, 2, 3, 0]], y[:, [0, 1, 2, 3, 0]]], axis=2).reshape(-1, 2)
    ring_offsets = np.arange(0, 5 * face.size + 1, 5)
    polygon_offsets = np.arange(face.size + 1)
    face_offsets = np.concatenate([[0], np.cumsum(np.bincount(face, minlength=n_faces))])
    footprints = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON, rings, (ring_offsets, polygon_offsets, face_offsets)
    )
    return list(footprints)
