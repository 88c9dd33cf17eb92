"""Keys and scopes on every endpoint of the communes and of the collective operation.

The endpoints are read from the app's OpenAPI document (every route it serves), so that an
endpoint added later is covered without touching this file.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.communes.keys import hash_key
from tests.app.communes.conftest import LENS, Keys

PROTECTED = ("/api/v1/communes", "/api/v1/operation")
#: A value for each path parameter: the building is in Lens.
PATH_VALUES = {"insee": LENS, "building_id": "BAT_GABLE_A"}


def _endpoints(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path template, concrete path) of every protected endpoint."""
    out = []
    for template, operations in app.openapi()["paths"].items():
        if template.startswith(PROTECTED):
            path = re.sub(r"{(\w+)}", lambda m: PATH_VALUES.get(m.group(1), "x"), template)
            out += [(method.upper(), template, path) for method in sorted(operations)]
    return out


def _failures(
    client: TestClient, app: FastAPI, headers: dict[str, str], expected: int, *, scoped: bool
) -> list[str]:
    failures = []
    for method, template, path in _endpoints(app):
        if scoped and "{insee}" not in template and not template.startswith("/api/v1/operation"):
            continue
        response = client.request(method, path, headers=headers)
        if response.status_code != expected:
            failures.append(f"{method} {path}: {response.status_code}")
        elif expected == 401 and response.headers.get("www-authenticate") != "Bearer":
            failures.append(f"{method} {path}: no WWW-Authenticate: Bearer")
    return failures


def test_the_routes_are_found(communes_app: FastAPI) -> None:
    templates = {t for _, t, _ in _endpoints(communes_app)}
    assert "/api/v1/communes/{insee}/buildings" in templates
    assert "/api/v1/communes/{insee}/portfolio/{building_id}" in templates


def test_every_endpoint_wants_a_key(communes_client: TestClient, communes_app: FastAPI) -> None:
    assert _failures(communes_client, communes_app, {}, 401, scoped=False) == []


def test_an_unknown_or_revoked_key_is_refused(
    communes_client: TestClient, communes_app: FastAPI, keys: Keys
) -> None:
    for key in ("not-a-key", keys.revoked, hash_key(keys.lens)):
        headers = Keys.bearer(key)
        assert _failures(communes_client, communes_app, headers, 401, scoped=False) == []


def test_another_communes_key_is_forbidden(
    communes_client: TestClient, communes_app: FastAPI, keys: Keys
) -> None:
    headers = Keys.bearer(keys.louhans)
    assert _failures(communes_client, communes_app, headers, 403, scoped=True) == []


def test_scopes(communes_client: TestClient, keys: Keys) -> None:
    def status(key: str, insee: str) -> int:
        response = communes_client.get(
            f"/api/v1/communes/{insee}/portfolio", headers=Keys.bearer(key)
        )
        return response.status_code

    assert status(keys.lens, LENS) == 200
    assert status(keys.territory, LENS) == 200
    # a commune the cadastre does not cover: outside a commune key's scope first
    assert status(keys.lens, "59350") == 403
    assert status(keys.territory, "59350") == 404
    assert status(keys.territory, "lens") == 404


def test_a_key_lists_its_communes(communes_client: TestClient, keys: Keys) -> None:
    lens = communes_client.get("/api/v1/communes", headers=Keys.bearer(keys.lens)).json()
    assert lens == {
        "label": "Mairie de Lens",
        "territory": False,
        "communes": [LENS],
        "names": {LENS: "Lens"},
    }
    pma = communes_client.get("/api/v1/communes", headers=Keys.bearer(keys.territory)).json()
    assert pma["territory"] is True
    assert set(pma["communes"]) >= {LENS, "71263"}


def test_answers_are_never_cached(communes_client: TestClient, keys: Keys) -> None:
    public = communes_client.get("/api/v1/coverage")
    etag = public.headers["etag"]
    response = communes_client.get(
        f"/api/v1/communes/{LENS}/portfolio", headers={"If-None-Match": etag}
    )
    assert response.status_code == 401
    response = communes_client.get(
        f"/api/v1/communes/{LENS}/portfolio",
        headers={"If-None-Match": etag, **Keys.bearer(keys.lens)},
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers
