"""Fuzzing the JSON API from its OpenAPI schema with schemathesis (every app's `test_fuzzing_*`).

The number of examples per operation and mode: each test declares the number CI runs
(`.ci/run` sets VINCULO_FUZZ=full); elsewhere (`make test`, a developer's run) every operation is
still fuzzed in both modes, with at most QUICK_EXAMPLES examples each, which keeps the suite's
wall time down (the fuzzers were its slowest tests). VINCULO_FUZZ=<n> forces n examples.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from django.core import signals
from django.db import close_old_connections

QUICK_EXAMPLES = 3


@functools.cache
def _api_schema() -> Any:
    """The API's OpenAPI schema, loaded through the WSGI app once per test process: generating and
    parsing the document took about half of each fuzzing test."""
    # here, not at the top: this plugin loads in every test process, schemathesis only where a fuzz
    # test runs, and the WSGI application only once settings are configured
    import schemathesis

    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


def fuzz_examples(declared: int) -> int:
    """The examples to run per operation and mode for a test that declares `declared`."""
    wanted = os.environ.get("VINCULO_FUZZ", "")
    if wanted == "full":
        return declared
    if wanted.isdigit():
        return int(wanted)
    return min(declared, QUICK_EXAMPLES)


def fuzz_api(headers: dict[str, str], path_regex: str, max_examples: int, known_ids: dict[str, int]) -> None:
    """Send generated valid and invalid requests to the operations whose path matches, through the
    WSGI app; fail on a 5xx, an undocumented status, a response that breaks its schema, or invalid
    input that was accepted. Operations on one record run twice: with generated ids (mostly
    missing records) and with `known_ids`, so that updates reach the services with real records."""
    max_examples = fuzz_examples(max_examples)
    # schemathesis's WSGI transport reads bodies as sent and would not undo the gzip the API sends to
    # clients that accept it (tests/test_light_pages.py checks that); the fuzzers check the content
    headers = {**headers, "Accept-Encoding": "identity"}
    # here, not at the top: schemathesis and hypothesis load only in the processes that fuzz
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        negative_data_rejection,
    ]
    # The real WSGI handler closes "old" connections around each request, and on PostgreSQL the
    # test's connection (inside its transaction) counts as one: detach that, as Django's test
    # Client does, until the end.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)

    def fuzz_operation(operation: Any, mode: schemathesis.GenerationMode, path_parameters: dict[str, int]) -> None:
        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode, headers=headers, path_parameters=path_parameters))
        def run(case: Any) -> None:
            case.call_and_validate(checks=checks)

        run()

    try:
        schema = _api_schema()
        for result in schema.include(path_regex=path_regex).get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]
            ids = {name: pk for name, pk in known_ids.items() if f"{{{name}}}" in operation.path}
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                try:
                    fuzz_operation(operation, mode, {})
                except Unsatisfiable:  # negative mode of an operation that takes nothing (GET /me)
                    assert mode is schemathesis.GenerationMode.NEGATIVE
                if ids and operation.method.upper() != "DELETE":
                    try:
                        fuzz_operation(operation, mode, ids)
                    except Unsatisfiable:  # negative mode, and nothing but the fixed ids to make invalid
                        assert mode is schemathesis.GenerationMode.NEGATIVE
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
