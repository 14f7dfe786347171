"""JSON from the outside world, parsed with bounds: every public endpoint reads bodies through
`json_parse`, so that a hostile or careless body is a clear 400/422, never a 500.

- Nesting deeper than MAX_DEPTH is refused (a body nested 100,000 levels deep made the parser
  raise RecursionError, an uncaught 500).
- NaN, Infinity and numbers too large for a float are refused with the path of the value: Python's
  json accepts them, JSON does not, and databases refuse them (the tracker answered a confusing 409).
- A NUL character in a string is refused: PostgreSQL's jsonb cannot store it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.utils.translation import gettext as _

MAX_DEPTH = 32


class JSONInputError(ValueError):
    """A body that is not acceptable JSON: `status` 400 (not JSON at all) or 422 (a value in it),
    `field` the dotted path of the offending value (`body` for the whole)."""

    def __init__(self, message: str, *, field: str = "body", status: int = 400, syntax: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
        self.syntax = syntax  # not JSON at all (rather than JSON with a value we refuse)


class _NonFinite:
    """What `NaN`, `Infinity` and `-Infinity` parse to, so the walk can say where they are."""


_NON_FINITE = _NonFinite()


def _non_finite(_name: str) -> _NonFinite:
    return _NON_FINITE


def json_parse(body: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse `body`; raise JSONInputError for anything that is not plain, bounded JSON."""
    try:
        data = json.loads(body, parse_constant=_non_finite)
    except RecursionError:
        raise JSONInputError(_("The JSON is nested too deeply: at most %(n)s levels.") % {"n": max_depth}) from None
    except (ValueError, UnicodeDecodeError):
        raise JSONInputError(_("The body is not valid JSON."), syntax=True) from None
    json_check(data, max_depth=max_depth)
    return data


def json_check(data: Any, *, max_depth: int = MAX_DEPTH, root: str = "") -> None:
    """Walk parsed JSON (iteratively: no recursion to exhaust) and refuse what json_parse refuses."""
    stack: list[tuple[Any, str, int]] = [(data, root, 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= max_depth:
                raise JSONInputError(
                    _("The JSON is nested too deeply: at most %(n)s levels.") % {"n": max_depth}, field=path or "body"
                )
            for key, item in value.items():
                if "\x00" in key:
                    raise JSONInputError(_("Remove the NUL character."), field=path or "body", status=422)
                stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(value, list):
            if depth >= max_depth:
                raise JSONInputError(
                    _("The JSON is nested too deeply: at most %(n)s levels.") % {"n": max_depth}, field=path or "body"
                )
            stack.extend((item, f"{path}.{i}" if path else str(i), depth + 1) for i, item in enumerate(value))
        elif value is _NON_FINITE or (isinstance(value, float) and not math.isfinite(value)):
            raise JSONInputError(
                _("Enter a finite number: NaN and Infinity are not JSON."), field=path or "body", status=422
            )
        elif isinstance(value, str) and "\x00" in value:
            raise JSONInputError(_("Remove the NUL character."), field=path or "body", status=422)
