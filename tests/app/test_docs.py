"""The interactive API docs render in a real browser, from the service alone.

An HTTP 200 on ``/docs`` proves nothing: Swagger UI 4 answers 200 and then shows "Unable
to render this definition" for the OpenAPI 3.1 that FastAPI writes. So the page is
opened in headless Chromium (Debian's, driven by Playwright), every request that leaves
the service is refused, and the rendered operations are counted.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Route, sync_playwright

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import served

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def docs_app(cadastre_path: Path) -> FastAPI:
    return create_app(Settings(path=cadastre_path))


@pytest.fixture(scope="module")
def base_url(docs_app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, for the module's tests."""
    with served(docs_app) as url:
        yield url


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)")
def test_docs_render_every_operation_offline(docs_app: FastAPI, base_url: str) -> None:
    operations = sum(
        method in HTTP_METHODS for path in docs_app.openapi()["paths"].values() for method in path
    )
    assert operations >= 9
    outside: list[str] = []
    errors: list[str] = []

    def only_the_service(route: Route) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.route("**/*", only_the_service)
            page.goto(f"{base_url}/docs")
            # Swagger UI shows its error in .version-pragma when it cannot read the document
            page.wait_for_selector(".opblock, .version-pragma", timeout=20_000)
            assert page.locator(".version-pragma").count() == 0, page.inner_text("body")
            rendered = page.locator(".opblock").count()
            title = page.inner_text(".info .title")
        finally:
            browser.close()
    assert rendered == operations
    assert "Cadastre solaire" in title
    assert outside == []
    assert errors == []
