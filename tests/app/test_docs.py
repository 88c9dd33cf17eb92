"""The interactive API docs render in a real browser, from the service alone.

An HTTP 200 on ``/docs`` proves nothing: Swagger UI 4 answers 200 and then shows "Unable
to render this definition" for the OpenAPI 3.1 that FastAPI writes. So the page is
opened in headless Chromium (Debian's, driven by Playwright), every request that leaves
the service is refused, and the rendered operations are counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import CHROMIUM, offline_page, served

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


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
    with offline_page(base_url) as offline:
        page = offline.page
        page.goto(f"{base_url}/docs")
        # Swagger UI shows its error in .version-pragma when it cannot read the document
        page.wait_for_selector(".opblock, .version-pragma", timeout=20_000)
        assert page.locator(".version-pragma").count() == 0, page.inner_text("body")
        rendered = page.locator(".opblock").count()
        title = page.inner_text(".info .title")
    assert rendered == operations
    assert "Cadastre solaire" in title
    assert offline.outside == []
    assert offline.errors == []
