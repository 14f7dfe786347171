"""Oversized bodies are refused before any view reads them, in the shape the client expects."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.parametrize("path", ["/api/v1/contacts", "/hooks/no-such-token/"])
def test_machine_clients_get_a_json_413(db, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    settings.VINCULO_BODY_LIMITS = {"/hooks/": 10}
    response = Client().post(path, data="x" * 11, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large (11 bytes; the limit is 10).", "errors": []}


def test_a_page_gets_a_plain_413(db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    response = Client().post("/accounts/login/", data="x" * 11, content_type="text/plain")
    assert response.status_code == 413
    assert response.content.decode() == "The request body is too large (11 bytes; the limit is 10)."
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_a_path_with_a_larger_limit_of_its_own_takes_a_body_over_the_general_one(db, settings):
    """A webhook body of 30 bytes under a general limit of 10 reaches the endpoint (its own limit is
    20 000: here it answers 404 for the unknown address, not 413); over its own limit, 413."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    settings.VINCULO_BODY_LIMITS = {"/hooks/": 20_000}
    response = Client().post(
        "/hooks/no-such-token/", data="{" + '"a": 1,' * 3 + '"b": 2}', content_type="application/json"
    )
    assert response.status_code == 404
    response = Client().post("/hooks/no-such-token/", data="x" * 20_001, content_type="application/json")
    assert (response.status_code, response.json()["detail"]) == (
        413,
        "The request body is too large (20001 bytes; the limit is 20000).",
    )
