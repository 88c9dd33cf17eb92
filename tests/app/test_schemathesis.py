"""schemathesis over the app's OpenAPI: no 5xx, and every response matches its schema.

Bounded and deterministic: at most 50 examples per operation and generation mode,
derandomized, without a database of past failures, so every machine runs the same cases.

schemathesis's own pytest loaders (``schema.parametrize`` on a lazy fixture schema) read
``Function._nodeid``, which pytest 9.2 no longer has; the operations are therefore driven
through ``APIOperation.as_strategy`` and hypothesis's ``@given``, the documented way to
use schemathesis inside other tests.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

OPERATIONS = (
    "GET /health",
    "GET /api/v1/addresses",
    "GET /api/v1/addresses/{address_id}/solar",
    "GET /api/v1/buildings",
    "GET /api/v1/buildings/{building_id}",
    "GET /api/v1/roofs",
    "GET /api/v1/coverage",
    "POST /api/v1/simulate",
    "POST /api/v1/simulate/linky",
    "GET /api/v1/legend",
    "GET /api/v1/site",
    "GET /api/v1/tiles/roofs.json",
    "GET /api/v1/tiles/roofs/{z}/{x}/{y}.mvt",
    "GET /api/v1/tiles/irradiation.json",
    "GET /api/v1/tiles/irradiation/{z}/{x}/{y}.png",
)
#: The communes' operations need a key: tests/app/communes/test_schemathesis_communes.py
#: runs them with one.
WITH_A_KEY = ("/api/v1/communes", "/api/v1/operation")


@pytest.fixture(scope="module")
def api_schema(app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_every_operation_is_covered(api_schema: schemathesis.BaseSchema) -> None:
    labels = {result.ok().label for result in api_schema.get_all_operations()}
    public = {label for label in labels if not label.split(" ")[1].startswith(WITH_A_KEY)}
    assert public == set(OPERATIONS)


#: Operations with parameters, the only ones with invalid (negative) data to generate.
WITH_PARAMETERS = [
    op
    for op in OPERATIONS
    if op
    not in (
        "GET /health",
        "GET /api/v1/coverage",
        "GET /api/v1/legend",
        "GET /api/v1/site",
        "GET /api/v1/tiles/roofs.json",
        "GET /api/v1/tiles/irradiation.json",
    )
]
#: Rules a JSON schema cannot state, so data that the schema allows may rightly get a 422:
#: ``bbox`` (min ≤ max, at most 0.05° a side); a simulation (exactly one of building_id
#: and address_id, faces of that building, no more modules than the roof holds, a tariff
#: date the table covers); a Linky file (its CSV layout). "Valid data accepted" is not
#: checked there. Every other check, 5xx and response schema included, still runs.
SEMANTIC_RULES = {
    label: [schemathesis.checks.positive_data_acceptance]
    for label in ("GET /api/v1/roofs", "POST /api/v1/simulate", "POST /api/v1/simulate/linky")
}


@pytest.mark.parametrize(
    ("label", "mode"),
    [(op, GenerationMode.POSITIVE) for op in OPERATIONS]
    + [(op, GenerationMode.NEGATIVE) for op in WITH_PARAMETERS],
)
def test_operation_conforms(
    api_schema: schemathesis.BaseSchema, label: str, mode: GenerationMode
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None
    excluded = SEMANTIC_RULES.get(label, [])

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=50,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(excluded_checks=excluded)

    run()
