"""The documents answered before FastAPI's routing are the routes' own answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.documents import DocumentRoutes
from app.main import create_app
from app.models import AddressSolar, BuildingSolar
from app.settings import Settings
from solar.cadastre import Cadastre

#: Headers that differ between two answers to the same request.
PER_REQUEST = {"x-request-id", "date"}


@pytest.fixture(scope="module")
def routes_only(cadastre_path: Path) -> Iterator[TestClient]:
    """The app without :class:`DocumentRoutes`: every request goes through FastAPI."""
    app = create_app(Settings(path=cadastre_path))
    app.user_middleware = [m for m in app.user_middleware if m.cls is not DocumentRoutes]
    with TestClient(app) as test_client:
        yield test_client


def _paths(cadastre_path: Path) -> list[str]:
    store = Cadastre(cadastre_path)
    try:
        addresses = [a.address_id for a in store.addresses() if a.building_id is not None]
        buildings = [r[0] for r in store._rows("SELECT building_id FROM buildings ORDER BY fid")]
    finally:
        store.close()
    return [f"/api/v1/addresses/{a}/solar" for a in addresses] + [
        f"/api/v1/buildings/{b}" for b in buildings
    ]


def _comparable(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k not in PER_REQUEST}
    return response.status_code, headers, response.content


@pytest.mark.parametrize("gzip", [False, True])
def test_every_document_is_the_routes_answer(
    client: TestClient, routes_only: TestClient, cadastre_path: Path, gzip: bool
) -> None:
    headers = {"accept-encoding": "gzip" if gzip else "identity"}
    paths = _paths(cadastre_path)
    assert len(paths) > 10
    for path in paths:
        direct = client.get(path, headers=headers)
        assert direct.status_code == 200, path
        assert _comparable(direct) == _comparable(routes_only.get(path, headers=headers)), path
        model = AddressSolar if path.endswith("/solar") else BuildingSolar
        model.model_validate_json(direct.content)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/addresses/62498_9999_00001/solar",
        "/api/v1/addresses/" + "x" * 201 + "/solar",
        "/api/v1/buildings/NO_SUCH_BUILDING",
        "/api/v1/buildings/" + "x" * 201,
        "/api/v1/buildings/a/b",
    ],
)
def test_what_is_not_found_is_the_routes_error(
    client: TestClient, routes_only: TestClient, path: str
) -> None:
    direct = client.get(path)
    assert direct.status_code in (404, 422)
    assert _comparable(direct) == _comparable(routes_only.get(path))


def test_a_matching_etag_is_still_a_304(client: TestClient, cadastre_path: Path) -> None:
    path = _paths(cadastre_path)[0]
    etag = client.get(path).headers["etag"]
    again = client.get(path, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
