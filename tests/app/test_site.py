"""The page's settings: basemap and next-step links, from CADASTRE_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.main import create_app
from app.settings import Settings, get_settings

PLAN_IGN = "https://data.geopf.fr/annexes/ressources/vectorTiles/styles/PLAN.IGN/standard.json"


def test_default_site_has_no_basemap_and_public_links(client: TestClient) -> None:
    response = client.get("/api/v1/site")
    assert response.status_code == 200
    body = response.json()
    assert body["basemap_style"] is None
    assert body["advice_url"].startswith("https://france-renov.gouv.fr/")
    assert body["installers_url"].startswith("https://france-renov.gouv.fr/")
    assert body["advice_url"] != body["installers_url"]


def test_site_names_only_the_map_sources_the_cadastre_has(
    cadastre_path: Path, mapped_cadastre_path: Path
) -> None:
    with TestClient(create_app(Settings(path=cadastre_path))) as client:
        bare = client.get("/api/v1/site").json()
    assert not any(cadastre_path.parent.glob(f"{cadastre_path.stem}.roofs.*"))
    assert bare["roof_tiles"] is None
    assert bare["irradiation_tiles"] is None

    with TestClient(create_app(Settings(path=mapped_cadastre_path))) as client:
        mapped = client.get("/api/v1/site").json()
        for name in ("roof_tiles", "irradiation_tiles"):
            assert mapped[name] is not None
            tilejson = client.get(mapped[name])
            assert tilejson.status_code == 200, name
            assert tilejson.json()["tiles"]


def test_site_follows_the_environment(cadastre_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADASTRE_PATH", str(cadastre_path))
    monkeypatch.setenv("CADASTRE_BASEMAP_STYLE", PLAN_IGN)
    monkeypatch.setenv("CADASTRE_ADVICE_URL", "https://renovation.example.fr/conseil")
    monkeypatch.setenv("CADASTRE_INSTALLERS_URL", "https://renovation.example.fr/rge")
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as client:
            body = client.get("/api/v1/site").json()
    finally:
        get_settings.cache_clear()
    assert body["basemap_style"] == PLAN_IGN
    assert body["advice_url"] == "https://renovation.example.fr/conseil"
    assert body["installers_url"] == "https://renovation.example.fr/rge"


def test_blank_basemap_means_none(cadastre_path: Path) -> None:
    assert Settings(path=cadastre_path, basemap_style="  ").basemap_style is None


@pytest.mark.parametrize("field", ["basemap_style", "advice_url", "installers_url"])
@pytest.mark.parametrize("value", ["javascript:alert(1)", "ftp://example.fr/a", "example.fr"])
def test_a_link_that_is_not_a_web_url_is_refused(
    cadastre_path: Path, field: str, value: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings.model_validate({"path": cadastre_path, field: value})


def test_site_is_in_the_openapi(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/v1/site" in schema["paths"]
    properties = schema["components"]["schemas"]["SiteConfig"]["properties"]
    assert set(properties) == {
        "basemap_style",
        "advice_url",
        "installers_url",
        "roof_tiles",
        "irradiation_tiles",
    }
