"""GET /api/v1/legend, the OpenAPI's suitability enum and GeoJSON media type, and gzip."""

from __future__ import annotations

import gzip

from fastapi.testclient import TestClient

from solar import pv
from solar.suitability import CLASSES, IRRADIATION_STOPS


def test_legend_thresholds_are_the_build_classes(client: TestClient) -> None:
    body = client.get("/api/v1/legend").json()
    thresholds = [
        (c["code"], c["min_relative"]) for c in body["suitability"] if c["min_relative"] is not None
    ]
    assert thresholds == list(pv.SUITABILITY_CLASSES)
    # each lower bound is where pv.suitability changes class
    for code, lower in thresholds:
        assert pv.suitability(lower) == code
        if lower > 0:
            assert pv.suitability(lower - 1e-9) != code
    assert [c["code"] for c in body["suitability"]][-1] == "unsuitable"


def test_legend_labels_colours_and_ramp(client: TestClient) -> None:
    body = client.get("/api/v1/legend").json()
    assert [(c["code"], c["label"], c["colour"]) for c in body["suitability"]] == [
        (c.code.value, c.label, c.colour) for c in CLASSES
    ]
    assert body["irradiation"]["unit"] == "kWh/m²/an"
    assert [tuple(s) for s in body["irradiation"]["stops"]] == list(IRRADIATION_STOPS)


def test_openapi_has_the_suitability_enum_and_geojson(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["Suitability"]["enum"] == [c.code.value for c in CLASSES]
    for model in ("RoofFace", "BuildingSolar", "RoofProperties", "SuitabilityClassOut"):
        text = str(
            schemas[model]["properties"][
                "suitability" if model != "SuitabilityClassOut" else "code"
            ]
        )
        assert "#/components/schemas/Suitability" in text, model
    roofs = spec["paths"]["/api/v1/roofs"]["get"]["responses"]["200"]["content"]
    assert list(roofs) == ["application/geo+json"]
    assert roofs["application/geo+json"]["schema"]["$ref"].endswith("/RoofCollection")
    assert "/api/v1/legend" in spec["paths"]


def test_roofs_are_geojson_and_gzipped(client: TestClient) -> None:
    response = client.get(
        "/api/v1/roofs",
        params={"bbox": "2.82,50.43,2.84,50.44", "limit": 5000},
        headers={"accept-encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content)
    assert response.json()["type"] == "FeatureCollection"


def test_small_answers_are_not_gzipped(client: TestClient) -> None:
    response = client.get("/health", headers={"accept-encoding": "gzip"})
    assert len(response.content) < 1024
    assert "content-encoding" not in response.headers


def test_gzip_only_when_asked(client: TestClient) -> None:
    plain = client.get("/openapi.json", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    zipped = client.get("/openapi.json", headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content
    assert len(gzip.compress(plain.content)) < len(plain.content) / 3
