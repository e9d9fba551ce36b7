"""schemathesis runs the API's OpenAPI document against the real server: every operation,
with bodies and parameters made from the schema (and its negations), answers without a
server error and as the document says (status, media type, body)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import examples
from tests.http_server import Server, running_server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server for local use (no tokens asked), so every operation is reached."""
    folder: Path = tmp_path_factory.mktemp("schema")
    with running_server(f"sqlite:///{folder}/ledger.db", "--no-auth-for-local-use") as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(local_server: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{local_server.base}/api/v1/openapi.json")


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_every_operation_answers_without_a_server_error_and_as_its_schema_says(
    api_schema: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    failures: list[str] = []
    answered: dict[int, int] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples(6),
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call_and_validate(checks=CHECKS)
            answered[response.status_code] = answered.get(response.status_code, 0) + 1

        try:
            run()
        except Exception as failure:  # every operation is run; each failure is named
            failures.append(f"{operation.label}: {str(failure)[:2000]}")
    assert failures == []
    assert sum(answered.values()) >= len(operations)  # it did ask the server, every operation
