"""The map legend, defined once: suitability classes, the irradiation ramp, orientation words.

Every place that shows a roof to a person reads this module: the build's classification
(:func:`solar.pv.suitability`), the API's labels and its ``/api/v1/legend``, the map tiles,
and the QGIS style written beside the cadastre (:func:`write_qgis_style`).

A face's class comes from its relative irradiation: its annual irradiation, shading
included, over that of the best unshaded orientation at the site
(:func:`solar.irradiance.optimal_orientation`, about 1327 kWh m-2 yr-1 in the Artois at
40° facing 182°). A face that holds no module (steeper than 60°, or under 4 m² of usable
area) is ``unsuitable`` whatever it receives.

The colours run from red (excellent) through orange and yellow to greys, so that the classes
worth equipping stand out, and so that red-green colour blindness does not merge them
(ColorBrewer's YlOrRd, whose neighbours differ in lightness).

>>> classify(0.93), label("good"), orientation_words(135.0, False)
('excellent', 'Bon', 'sud-est')
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike


class Suitability(StrEnum):
    """The suitability codes, as the cadastre stores them."""

    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    UNSUITABLE = "unsuitable"


@dataclass(frozen=True)
class SuitabilityClass:
    """One class of the legend.

    Attributes
    ----------
    code : Suitability
    label : str
        What residents read, in French.
    colour : str
        ``#rrggbb``.
    min_relative : float or None
        Lower bound on the relative irradiation [unitless]; None for ``unsuitable``, which
        the face's geometry decides.
    """

    code: Suitability
    label: str
    colour: str
    min_relative: float | None


CLASSES = (
    SuitabilityClass(Suitability.EXCELLENT, "Excellent", "#bd0026", 0.90),
    SuitabilityClass(Suitability.GOOD, "Bon", "#f03b20", 0.80),
    SuitabilityClass(Suitability.FAIR, "Moyen", "#feb24c", 0.70),
    SuitabilityClass(Suitability.POOR, "Faible", "#bdbdbd", 0.0),
    SuitabilityClass(Suitability.UNSUITABLE, "Inadapté", "#636363", None),
)
"""The classes, best first. Excellent ≥ 90 %, good ≥ 80 %, fair ≥ 70 %, else poor."""

THRESHOLDS: tuple[tuple[str, float], ...] = tuple(
    (c.code.value, c.min_relative) for c in CLASSES if c.min_relative is not None
)
"""(code, lower bound) of the classes set by the relative irradiation, best first."""

WORTH_EQUIPPING = frozenset(
    c.value for c in (Suitability.EXCELLENT, Suitability.GOOD, Suitability.FAIR)
)
"""Classes whose faces count in a building's totals and in a default project: a poor face
keeps its own figures but is not proposed."""

_BY_CODE = {c.code.value: c for c in CLASSES}


def classify(relative_irradiation: float) -> str:
    """The class of a face from its relative irradiation; NaN is ``poor``.

    Parameters
    ----------
    relative_irradiation : float
        Annual irradiation of the face over that of the best orientation at the site.
        [unitless]

    Examples
    --------
    >>> classify(0.95), classify(0.85), classify(0.7), classify(0.5), classify(float("nan"))
    ('excellent', 'good', 'fair', 'poor', 'poor')
    """
    for code, lower in THRESHOLDS:
        if relative_irradiation >= lower:
            return code
    return THRESHOLDS[-1][0]


def classify_array(relative_irradiation: ArrayLike) -> np.ndarray:
    """:func:`classify` over an array, as an object array of codes.

    >>> classify_array([0.95, 0.85, 0.75, 0.65]).tolist()
    ['excellent', 'good', 'fair', 'poor']
    """
    values = np.asarray(relative_irradiation, dtype=np.float64)
    codes = [code for code, _ in THRESHOLDS]
    # NaN compares false everywhere and falls through to the last class, as in classify().
    choice = np.select(
        [values >= lower for _, lower in THRESHOLDS[:-1]], codes[:-1], default=codes[-1]
    )
    return choice.astype(object)


def label(code: str | None) -> str | None:
    """The French label of a code; None for None or an unknown code.

    >>> label("unsuitable"), label(None)
    ('Inadapté', None)
    """
    found = _BY_CODE.get(code) if code is not None else None
    return found.label if found else None


def colour(code: str) -> str:
    """The ``#rrggbb`` colour of a code.

    >>> colour("excellent")
    '#bd0026'
    """
    return _BY_CODE[code].colour


# ------------------------------------------------------------------ irradiation ramp

IRRADIATION_UNIT = "kWh/m²/an"

IRRADIATION_STOPS: tuple[tuple[float, str], ...] = (
    (500.0, "#313695"),
    (700.0, "#4575b4"),
    (850.0, "#abd9e9"),
    (950.0, "#fee090"),
    (1050.0, "#fdae61"),
    (1150.0, "#f46d43"),
    (1250.0, "#d73027"),
    (1350.0, "#a50026"),
)
"""Annual irradiation [kWh m-2 yr-1] and its colour; linear in RGB between stops, clamped
outside. The top stop is just above the site optimum (1327 in the Artois): a north face
at 45° receives about 700, a south face at 35° about 1250."""


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def irradiation_colours(values: ArrayLike) -> np.ndarray:
    """The ramp's colours of irradiation values, as uint8 RGB. [kWh m-2 yr-1]

    Examples
    --------
    >>> irradiation_colours([500.0, 600.0, 2000.0]).tolist()
    [[49, 54, 149], [59, 86, 164], [165, 0, 38]]
    """
    x = np.asarray(values, dtype=np.float64)
    stops = np.array([v for v, _ in IRRADIATION_STOPS])
    rgb = np.array([_rgb(c) for _, c in IRRADIATION_STOPS], dtype=np.float64)
    channels = [np.interp(x, stops, rgb[:, k]) for k in range(3)]
    return np.rint(np.stack(channels, axis=-1)).astype(np.uint8)


# ------------------------------------------------------------------ orientation words

_DIRECTIONS = ("nord", "nord-est", "est", "sud-est", "sud", "sud-ouest", "ouest", "nord-ouest")


def orientation_words(azimuth_deg: float | None, is_flat: bool) -> str:
    """Where a face looks, in French: one of eight directions, or ``plat``.

    Parameters
    ----------
    azimuth_deg : float or None
        Clockwise from north (180 = south); None on a flat face. [°]
    is_flat : bool

    Examples
    --------
    >>> orientation_words(182.0, False), orientation_words(292.6, False)
    ('sud', 'nord-ouest')
    >>> orientation_words(None, True)
    'plat'
    """
    if is_flat or azimuth_deg is None or not np.isfinite(azimuth_deg):
        return "plat"
    return _DIRECTIONS[round((azimuth_deg % 360.0) / 45.0) % 8]


# ------------------------------------------------------------------ QGIS style

QGIS_STYLE_SUFFIX = ".suitability.qml"


def qgis_style() -> str:
    """A QGIS layer style (QML) colouring polygons by their ``suitability`` field.

    A categorized renderer, one category per class with its French label and colour;
    QGIS applies it with "Load style" on the ``roof_faces`` or ``buildings`` layer.
    """
    root = ET.Element("qgis", version="3.28.0", styleCategories="Symbology")
    renderer = ET.SubElement(
        root, "renderer-v2", type="categorizedSymbol", attr="suitability", symbollevels="0"
    )
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for index, cls in enumerate(CLASSES):
        ET.SubElement(
            categories,
            "category",
            value=cls.code.value,
            label=cls.label,
            symbol=str(index),
            render="true",
        )
        symbol = ET.SubElement(
            symbols, "symbol", type="fill", name=str(index), alpha="1", clip_to_extent="1"
        )
        layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill", "enabled": "1"})
        r, g, b = _rgb(cls.colour)
        for key, value in (
            ("color", f"{r},{g},{b},255"),
            ("outline_color", "35,35,35,255"),
            ("outline_width", "0.1"),
            ("style", "solid"),
        ):
            ET.SubElement(layer, "prop", k=key, v=value)
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )


def write_qgis_style(cadastre_path: str | os.PathLike[str]) -> Path:
    """Write :func:`qgis_style` beside a cadastre, as ``<name>.suitability.qml``.

    Returns
    -------
    pathlib.Path
        The style file.
    """
    path = Path(cadastre_path).with_suffix(QGIS_STYLE_SUFFIX)
    path.write_text(qgis_style(), encoding="utf-8")
    return path
