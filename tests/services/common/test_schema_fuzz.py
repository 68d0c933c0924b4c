"""Property-based fuzzing of the services' HTTP API from their own OpenAPI documents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import CheckContext, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
)

from services.common.app import create_app
from services.completeness.service import build_completeness_service

# Enough examples to cross every field's edge cases (both valid and invalid bodies) in seconds.
MAX_EXAMPLES = 60


class ErrorShapeFailure(Failure):
    """A 4xx answer that is not `{"error": {"type", "message"}}`."""


@schemathesis.check
def errors_have_the_one_shape(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """Every 4xx answer is `{"error": {"type": str, "message": str}}` and nothing else."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    if (
        set(body) != {"error"}
        or not isinstance(error, dict)
        or set(error) != {"type", "message"}
        or not all(isinstance(error[k], str) and error[k] for k in ("type", "message"))
    ):
        raise ErrorShapeFailure(
            operation=case.operation.label,
            title="4xx not in the one error shape",
            message=f"{response.status_code}: {response.text[:300]}",
        )
    return True


CHECKS = [
    not_a_server_error,
    errors_have_the_one_shape,
    response_schema_conformance,
    content_type_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def completeness_schema(run_asgi_session: Callable[[Any], str]) -> Any:
    """The completeness service's own OpenAPI document, served over real HTTP."""
    app_settings, scorer = build_completeness_service(max_texts=8, max_chars=5000)
    url = run_asgi_session(create_app(settings=app_settings, scorer=scorer))
    return schemathesis.openapi.from_url(f"{url}/openapi.json")


@pytest.fixture(scope="module")
def fake_schema(fake_url: str) -> Any:
    """The fake service's OpenAPI document: the shared HTTP layer with tiny limits."""
    return schemathesis.openapi.from_url(f"{fake_url}/openapi.json")


REJECTIONS = ["400", "401", "404", "405", "413", "415", "422"]

fuzz_settings = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def fuzz(schema: Any) -> int:
    """Send valid and invalid generated requests to every operation; the operations fuzzed."""
    # An invalid body may also be too large: 413 is a rejection too.
    schema.config.checks.negative_data_rejection.expected_statuses = REJECTIONS
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        # Only a body can be made invalid: these operations take no parameters.
        modes = [GenerationMode.POSITIVE] + [GenerationMode.NEGATIVE] * bool(operation.body)
        for mode in modes:

            @fuzz_settings
            @given(case=operation.as_strategy(generation_mode=mode))
            def send(case: Any) -> None:
                case.call_and_validate(checks=CHECKS)

            send()
    return len(operations)


def test_completeness_api_survives_generated_requests(completeness_schema: Any) -> None:
    assert fuzz(completeness_schema) == 5


def test_shared_http_layer_survives_generated_requests(fake_schema: Any) -> None:
    assert fuzz(fake_schema) == 5
