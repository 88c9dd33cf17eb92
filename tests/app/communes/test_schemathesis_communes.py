"""schemathesis over the communes' operations, with a key: no 5xx, responses as documented.

As the app's own schemathesis test (``tests/app/test_schemathesis.py``), bounded and
derandomized; the operations get a territory key, and the app a store of its own, so
that the generated writes stay out of the other tests' portfolio.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from app.communes.store import Store
from app.main import create_app
from app.settings import Settings

OPERATIONS = (
    "GET /api/v1/communes",
    "GET /api/v1/communes/{insee}/buildings",
    "GET /api/v1/communes/{insee}/portfolio",
    "PUT /api/v1/communes/{insee}/portfolio/{building_id}",
    "POST /api/v1/communes/{insee}/portfolio/import",
)
#: Rules a JSON schema cannot state: a commune the cadastre covers, a building of it, a
#: cursor this service gave, a readable file. "Valid data accepted" is not checked there.
SEMANTIC_RULES = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture(scope="module")
def keyed_app(
    cadastre_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FastAPI, str]]:
    db = tmp_path_factory.mktemp("schemathesis") / "communes.sqlite"
    store = Store(db)
    _, key = store.create_key("PMA", None)
    store.close()
    yield create_app(Settings(path=cadastre_path, db=str(db), rate_limit=0)), key


@pytest.fixture(scope="module")
def api_schema(keyed_app: tuple[FastAPI, str]) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", keyed_app[0])


@pytest.mark.parametrize(
    ("label", "mode"),
    [(op, GenerationMode.POSITIVE) for op in OPERATIONS]
    + [(op, GenerationMode.NEGATIVE) for op in OPERATIONS[1:]],
)
def test_operation_conforms(
    api_schema: schemathesis.BaseSchema,
    keyed_app: tuple[FastAPI, str],
    label: str,
    mode: GenerationMode,
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None
    key = keyed_app[1]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=30,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}
        case.call_and_validate(excluded_checks=SEMANTIC_RULES)

    run()
