"""Schemathesis sends the JSON APIs what their OpenAPI schema allows, and what it forbids.

Whatever arrives, the answer is never a server error. The examples are bounded and derived
from a fixed seed, so the run is the same every time and takes seconds. Cases are drawn from
each operation's strategy in an ordinary test (rather than ``schema.parametrize``) so that the
application gets the usual migrated database, SQLite or PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from bot.settings import Settings
from webhook.app import create_app

# The routes strangers reach with JSON; the admin pages and the web page have their own tests.
FUZZED = [("POST", "/api/chat"), ("GET", "/api/chat/messages"), ("POST", "/api/orient")]
EXAMPLES = 30


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), FUZZED)
def test_the_json_apis_never_answer_a_server_error(
    settings: Settings, method: str, path: str, mode: GenerationMode
) -> None:
    # Schemathesis runs the application, lifespan included, on an event loop of its own.
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, background=False))
    operation = schema[path][method]

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def never_a_server_error(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

    try:
        never_a_server_error()
    finally:
        asgi.shutdown_lifespans()
