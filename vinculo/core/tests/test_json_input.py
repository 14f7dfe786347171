"""Bounded JSON for every public endpoint: a body nested 100,000 levels deep, NaN or Infinity
is a clear 400/422 with the field, never a 500 (issue 9: an outside test got a RecursionError 500
from POST /api/v1/track/batch and a 409 for NaN)."""

from __future__ import annotations

import pytest

from vinculo.core.json_input import JSONInputError, json_parse

DEEP = b"[" * 100_000 + b"]" * 100_000


def test_plain_json_is_parsed():
    assert json_parse(b'{"a": [1, 2.5, "x", null, true, {"b": {}}]}') == {"a": [1, 2.5, "x", None, True, {"b": {}}]}


@pytest.mark.parametrize(
    ("body", "field", "status", "message"),
    [
        (DEEP, "body", 400, "The JSON is nested too deeply: at most 32 levels."),
        (b"[" * 33 + b"]" * 33, "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0", 400, None),
        (b'{"events": [{"properties": {"price": NaN}}]}', "events.0.properties.price", 422, None),
        (b'{"x": Infinity}', "x", 422, "Enter a finite number: NaN and Infinity are not JSON."),
        (b'{"x": -Infinity}', "x", 422, None),
        (b'{"x": 1e999}', "x", 422, None),
        (b'{"x": "a\\u0000b"}', "x", 422, "Remove the NUL character."),
        (b"{not json", "body", 400, "The body is not valid JSON."),
        (b"\xff\xfe", "body", 400, "The body is not valid JSON."),
    ],
)
def test_what_json_parse_refuses(body, field, status, message):
    with pytest.raises(JSONInputError) as caught:
        json_parse(body)
    assert (caught.value.field, caught.value.status) == (field, status)
    if message:
        assert caught.value.message == message


def test_32_levels_are_accepted():
    assert json_parse(b"[" * 32 + b"]" * 32) is not None
