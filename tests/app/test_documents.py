"""Building documents written straight to JSON: the models' document, field for field."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from app import views
from app.documents import building_document, geojson_texts
from app.geo import Projector
from app.models import BuildingSolar, RoofFace
from solar import suitability
from solar.cadastre import BuildingRecord, Cadastre


def reference_document(
    cadastre: Cadastre, projector: Projector, building: BuildingRecord
) -> dict[str, Any]:
    """The building's document through the pydantic models and dictionary geometries, as
    the service wrote it before writing the JSON itself."""
    faces = cadastre.faces(building.building_id)
    footprint, *outlines = views.valid_geojson(
        projector, [building.geometry, *(f.geometry for f in faces)]
    )
    centre = shapely.centroid(building.geometry)
    lon, lat = projector.points_to_wgs84([centre.x], [centre.y])
    counted = [f for f in faces if f.panels > 0 and f.suitability in suitability.WORTH_EQUIPPING]
    monthly = np.sum([f.production_monthly_kwh for f in counted], axis=0) if counted else [0] * 12
    computed = {
        "suitability_label": suitability.label(building.suitability),
        "centre": [float(lon[0]), float(lat[0])],
        "bbox": list(projector.bounds_to_wgs84(tuple(building.geometry.bounds))),
        "production_monthly_kwh": [round(float(m), 2) for m in monthly],
        "footprint_note": views.footprint_note(
            building.footprint_check, building.footprint_shift_m
        ),
        "footprint": footprint,
        "faces": [
            RoofFace.model_validate(
                {
                    **{n: getattr(face, n) for n in RoofFace.model_fields if hasattr(face, n)},
                    "geometry": outline,
                    "suitability_label": suitability.label(face.suitability),
                    "orientation": suitability.orientation_words(face.azimuth_deg, face.is_flat),
                }
            )
            for face, outline in zip(faces, outlines, strict=True)
        ],
    }
    values = {n: getattr(building, n) for n in BuildingSolar.model_fields if n not in computed}
    return BuildingSolar.model_validate({**values, **computed}).model_dump(mode="json")


def test_every_document_is_the_models_document(cadastre_path: Path) -> None:
    cadastre = Cadastre(cadastre_path)
    projector = Projector(cadastre.crs)
    ids = [r[0] for r in cadastre._rows("SELECT building_id FROM buildings ORDER BY fid")]
    assert len(ids) > 10
    for building_id in ids:
        building = cadastre.building(building_id)
        text = building_document(cadastre, projector, building)
        BuildingSolar.model_validate_json(text)
        document = json.loads(text)
        assert document == reference_document(cadastre, projector, building), building_id
        # the same keys in the same order as the model writes them
        assert list(document) == list(BuildingSolar.model_fields)
    cadastre.close()


def test_invalid_outlines_come_out_valid() -> None:
    """A bow tie, a self-touching ring and a sound square: valid, with the area of the
    dictionary path's repair; the same GeoJSON where the rounded outline is invalid."""
    projector = Projector("EPSG:2154")
    x0, y0 = 687_200.0, 7_037_800.0
    geometries = [
        shapely.Polygon([(x0, y0), (x0 + 4, y0 + 4), (x0 + 4, y0), (x0, y0 + 4)]),
        shapely.Polygon([(x0, y0), (x0 + 6, y0), (x0 + 6, y0 + 6), (x0 + 3, y0), (x0, y0 + 6)]),
        shapely.box(x0, y0, x0 + 5, y0 + 5),
    ]
    texts = geojson_texts(projector, geometries)
    expected = json.loads(json.dumps(views.valid_geojson(projector, geometries)))
    for text, reference, source in zip(texts, expected, geometries, strict=True):
        written = shapely.from_geojson(text)
        assert written.is_valid, shapely.is_valid_reason(written)
        assert all(part.exterior.is_ccw for part in getattr(written, "geoms", [written]))
        assert written.area == pytest.approx(shapely.geometry.shape(reference).area, rel=1e-6)
        rounded = shapely.transform(
            source, lambda xy: np.column_stack(projector.points_to_wgs84(xy[:, 0], xy[:, 1]))
        )
        if not rounded.is_valid:
            assert json.loads(text) == reference
    # the bow tie stays folded once rounded: it takes the dictionary path's repair
    assert json.loads(texts[0]) == expected[0]


def test_an_outline_folded_by_rounding_is_repaired() -> None:
    """A valid outline whose spike comes within 3 mm of its edge folds once rounded to
    the 7th decimal of a degree (about 1 cm): it comes out valid, repaired as the
    dictionary path repairs it."""
    projector = Projector("EPSG:2154")
    x0, y0 = 687_200.0, 7_037_800.0
    spiked = shapely.Polygon(
        [(x0, y0), (x0 + 6, y0), (x0 + 6, y0 + 6), (x0 + 3.0045, y0 + 0.003), (x0 + 2.5045, y0 + 6)]
    )
    rounded = shapely.transform(
        spiked, lambda xy: np.column_stack(projector.points_to_wgs84(xy[:, 0], xy[:, 1]))
    )
    assert spiked.is_valid and not rounded.is_valid
    (text,) = geojson_texts(projector, [spiked])
    assert shapely.from_geojson(text).is_valid
    assert json.loads(text) == json.loads(json.dumps(views.valid_geojson(projector, [spiked])))[0]


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_figures_are_null(cadastre_path: Path, value: float) -> None:
    """JSON has no NaN: a figure the cadastre cannot give is null, as the model writes."""
    cadastre = Cadastre(cadastre_path)
    projector = Projector(cadastre.crs)
    building_id = cadastre._rows("SELECT building_id FROM buildings LIMIT 1")[0][0]
    building = cadastre.building(building_id)
    broken = dataclasses.replace(building, shading_loss_pct=value, hauteur=value)
    document = json.loads(building_document(cadastre, projector, broken))
    assert document["shading_loss_pct"] is None and document["hauteur"] is None
    cadastre.close()
