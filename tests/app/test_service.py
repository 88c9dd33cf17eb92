"""Coverage, health, caching, the page, the docs, CORS and error bodies."""

from __future__ import annotations

import logging
from pathlib import Path

import pyproj
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import solar
from app.main import create_app
from app.settings import Settings
from solar.cadastre import Cadastre
from solar.resources import DEFAULT_WEATHER
from tests.app.conftest import N_ADDRESSES

TO_WGS84 = pyproj.Transformer.from_crs(2154, 4326, always_xy=True)


def test_coverage(client: TestClient, cadastre_path: Path) -> None:
    body = client.get("/api/v1/coverage").json()
    cadastre = Cadastre(cadastre_path)
    summary = cadastre.summary()
    assert body["crs"] == "EPSG:2154"
    # Lens from the commune polygons, Louhans (off the territory) from its BAN addresses
    assert body["communes"] == summary["communes"] == ["62498", "71263"]
    assert body["counts"]["buildings"] == summary["buildings"]
    assert body["counts"]["faces"] == summary["faces"]
    assert body["counts"]["addresses"] == N_ADDRESSES
    assert body["counts"]["kwc"] == pytest.approx(summary["kwc"])
    assert body["provenance"] == cadastre.provenance()
    parts = body["provenance"]["parts"]
    assert [p["part"] for p in parts] == ["lens.gpkg", "burgundy.gpkg"]
    assert {p["weather_file"] for p in parts} == {DEFAULT_WEATHER.name}
    assert {p["code_version"].split("+")[0] for p in parts} == {solar.__version__}
    minlon, minlat, maxlon, maxlat = body["bbox"]
    # a corner of the Lens grid's buildings and one of the Burgundy sample's point cloud
    for x, y in ((687_194, 7_037_796), (687_327, 7_037_806), (870_250, 6_617_100)):
        lon, lat = TO_WGS84.transform(x, y)
        assert minlon - 1e-7 <= lon <= maxlon + 1e-7
        assert minlat - 1e-7 <= lat <= maxlat + 1e-7


def test_health(client: TestClient, cadastre_path: Path) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["buildings"] == Cadastre(cadastre_path).summary()["buildings"]
    assert body["addresses"] == N_ADDRESSES


def test_responses_are_cacheable(client: TestClient) -> None:
    first = client.get("/api/v1/buildings/BAT_GABLE_A")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=300"
    again = client.get("/api/v1/buildings/BAT_GABLE_A", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get("/api/v1/buildings/BAT_GABLE_A", headers={"If-None-Match": 'W/"old"'})
    assert other.status_code == 200
    # errors are not cached
    assert "etag" not in client.get("/api/v1/buildings/NOPE").headers


def test_cache_max_age_setting(cadastre_path: Path) -> None:
    with TestClient(create_app(Settings(path=cadastre_path, cache_max_age=60))) as client:
        assert client.get("/health").status_code == 200
        response = client.get("/api/v1/coverage")
        assert response.headers["cache-control"] == "public, max-age=60"


def test_cors_origins_setting(cadastre_path: Path, client: TestClient) -> None:
    origin = {"Origin": "https://carte.example.fr"}
    assert "access-control-allow-origin" not in client.get("/health", headers=origin).headers
    settings = Settings(path=cadastre_path, cors_origins=["https://carte.example.fr"])
    with TestClient(create_app(settings)) as cors_client:
        response = cors_client.get("/health", headers=origin)
        assert response.headers["access-control-allow-origin"] == "https://carte.example.fr"


def test_page_and_docs(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "Cadastre solaire" in page.text
    assert 'data-testid="address-search"' in page.text
    # the map's library is served by the app, not a CDN (test_page.py runs the page)
    assert "cdn" not in page.text.lower()
    assert client.get("/vendor/maplibre-gl/maplibre-gl.js").status_code == 200
    docs = client.get("/docs")
    assert docs.status_code == 200
    # served from the package, so the docs work on a network without a CDN
    # (tests/app/test_docs.py renders them in a browser)
    assert "cdn" not in docs.text.lower()
    assert client.get("/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    # ReDoc would load its script from a CDN
    assert client.get("/redoc").status_code == 404
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) >= {
        "/health",
        "/api/v1/addresses",
        "/api/v1/addresses/{address_id}/solar",
        "/api/v1/buildings",
        "/api/v1/buildings/{building_id}",
        "/api/v1/roofs",
        "/api/v1/coverage",
        "/api/v1/simulate",
        "/api/v1/simulate/linky",
        "/api/v1/legend",
        "/api/v1/site",
        "/api/v1/tiles/roofs/{z}/{x}/{y}.mvt",
        "/api/v1/tiles/irradiation/{z}/{x}/{y}.png",
        "/api/v1/communes/{insee}/buildings",
        "/api/v1/operation/report.xlsx",
    }
    # examples of the response models reach the OpenAPI document
    hit = schema["components"]["schemas"]["AddressHit"]["properties"]
    assert hit["label"]["examples"] == ["12 bis Rue Jean Jaurès 62300 Lens"]


def test_unknown_route_and_method(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong = client.post("/api/v1/addresses", params={"q": "x"})
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


@pytest.fixture
def failing_app(cadastre_path: Path) -> FastAPI:
    app = create_app(Settings(path=cadastre_path))

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internal state")

    # routes registered after the static mount must come before it to be reached
    app.router.routes.insert(0, app.router.routes.pop())
    return app


def test_server_errors_hide_the_message_and_are_logged(
    failing_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="app"),
        TestClient(failing_app, raise_server_exceptions=False) as client,
    ):
        caplog.clear()
        assert client.get("/api/v1/buildings/NOPE").status_code == 404
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        response = client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error", "code": "internal_error"}
    assert "secret" not in response.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None


def test_building_documents_are_rendered_once(cadastre_path: Path) -> None:
    app = create_app(Settings(path=cadastre_path))
    with TestClient(app) as client:
        hit = client.get("/api/v1/addresses", params={"q": "jaures"}).json()["results"][0]
        first = client.get(f"/api/v1/buildings/{hit['building_id']}")
        again = client.get(f"/api/v1/addresses/{hit['address_id']}/solar")
        documents = client.app_state["holder"].current.documents
        info = documents.get.cache_info()
        assert (info.misses, info.hits) == (1, 1)
        assert again.json()["building"] == first.json()
        # unknown ids are not cached, and still a 404
        assert client.get("/api/v1/buildings/nope").status_code == 404
        assert documents.get.cache_info().currsize == 1


def test_the_lifespan_closes_the_cadastre(
    cadastre_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(path=cadastre_path))
    closed: list[Path] = []
    close = Cadastre.close

    def spy(cadastre: Cadastre) -> None:
        closed.append(cadastre.path)
        close(cadastre)

    monkeypatch.setattr(Cadastre, "close", spy)
    with TestClient(app) as client:
        assert client.get("/api/v1/buildings/BAT_GABLE_A").status_code == 200
        assert closed == []
    assert closed == [cadastre_path]
