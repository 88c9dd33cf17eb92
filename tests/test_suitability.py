"""The map legend: one source for the classes, their thresholds, labels and colours."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from solar import pv, suitability
from solar.suitability import CLASSES, Suitability


def test_every_code_has_one_class_best_first() -> None:
    assert [c.code for c in CLASSES] == list(Suitability)
    bounds = [c.min_relative for c in CLASSES if c.min_relative is not None]
    assert bounds == sorted(bounds, reverse=True)
    assert CLASSES[-1].min_relative is None  # unsuitable is decided by the geometry


def test_labels_are_french_and_colours_distinct() -> None:
    labels = {c.code.value: c.label for c in CLASSES}
    assert labels == {
        "excellent": "Excellent",
        "good": "Bon",
        "fair": "Moyen",
        "poor": "Faible",
        "unsuitable": "Inadapté",
    }
    colours = [c.colour for c in CLASSES]
    assert len(set(colours)) == len(colours)
    assert all(len(c) == 7 and c.startswith("#") and int(c[1:], 16) >= 0 for c in colours)


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        (1.2, "excellent"),
        (0.90, "excellent"),
        (0.8999, "good"),
        (0.80, "good"),
        (0.75, "fair"),
        (0.70, "fair"),
        (0.6999, "poor"),
        (0.0, "poor"),
        (-1.0, "poor"),
        (math.nan, "poor"),
    ],
)
def test_pv_classes_follow_the_legend_thresholds(relative: float, expected: str) -> None:
    assert pv.suitability(relative) == expected
    assert pv.suitability_array([relative]).tolist() == [expected]
    assert suitability.classify(relative) == expected


def test_pv_thresholds_are_the_legend_ones() -> None:
    legend = [(c.code.value, c.min_relative) for c in CLASSES if c.min_relative is not None]
    assert list(pv.SUITABILITY_CLASSES) == legend
    assert {"excellent", "good", "fair"} == pv.WORTH_EQUIPPING


def test_orientation_words_cover_the_compass() -> None:
    expected = {
        0.0: "nord",
        22.4: "nord",
        22.6: "nord-est",
        90.0: "est",
        135.0: "sud-est",
        180.0: "sud",
        202.4: "sud",
        202.6: "sud-ouest",
        270.0: "ouest",
        315.0: "nord-ouest",
        337.6: "nord",
        359.9: "nord",
        -45.0: "nord-ouest",
    }
    for azimuth, words in expected.items():
        assert suitability.orientation_words(azimuth, False) == words, azimuth
    assert suitability.orientation_words(180.0, True) == "plat"
    assert suitability.orientation_words(None, False) == "plat"


def test_irradiation_ramp_hits_its_stops_and_clamps() -> None:
    values = [v for v, _ in suitability.IRRADIATION_STOPS]
    colours = suitability.irradiation_colours(values)
    for (_, hex_colour), rgb in zip(suitability.IRRADIATION_STOPS, colours, strict=True):
        assert "#" + "".join(f"{int(c):02x}" for c in rgb) == hex_colour
    low, high = suitability.irradiation_colours([0.0, 5000.0])
    assert (low == colours[0]).all() and (high == colours[-1]).all()
    assert np.diff(values).min() > 0


def test_qgis_style_is_xml_with_one_category_per_class(tmp_path: Path) -> None:
    path = suitability.write_qgis_style(tmp_path / "artois.gpkg")
    assert path.name == "artois.suitability.qml"
    root = ET.parse(path).getroot()
    renderer = root.find("renderer-v2")
    assert renderer is not None and renderer.get("attr") == "suitability"
    categories = renderer.findall("categories/category")
    assert [(c.get("value"), c.get("label")) for c in categories] == [
        (c.code.value, c.label) for c in CLASSES
    ]
    fills = {
        s.get("name"): s.find("layer/prop[@k='color']").get("v")  # type: ignore[union-attr]
        for s in renderer.findall("symbols/symbol")
    }
    for category, cls in zip(categories, CLASSES, strict=True):
        r, g, b = (int(cls.colour[i : i + 2], 16) for i in (1, 3, 5))
        assert fills[category.get("symbol")] == f"{r},{g},{b},255"
