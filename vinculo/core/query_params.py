"""Reading list filters from query parameters: a value that does not parse becomes a field error
(collected in `errors`, keyed by the parameter's name) instead of an exception, so the pages can
keep the valid filters and show the rest, and the API can answer 422 with all of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from vinculo.core.validation import date_range_message, in_date_range

MAX_ID = 2**63 - 1  # a larger number overflows the database driver (a 500 instead of an error)
MAX_SEARCH_LENGTH = 200  # `q` of every list and search, in the API (422 past it) and on the pages


def int_param(value: str, name: str, errors: dict[str, str], *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """The whole number `value` between `minimum` and `maximum`, or None with an error for `name`."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[name] = _("Enter a whole number.")
        return None
    if number < minimum:
        errors[name] = _("Must be at least %(n)s.") % {"n": minimum}
        return None
    if number > maximum:
        errors[name] = _("Must be at most %(n)s.") % {"n": maximum}
        return None
    return number


def date_param(value: str, name: str, errors: dict[str, str]) -> dt.date | None:
    """The YYYY-MM-DD date `value` from 1900 to 2200, or None with an error for `name`."""
    try:
        day = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None
    if not in_date_range(day):
        errors[name] = date_range_message()
        return None
    return day


def search_words(params: Mapping[str, Any], name: str = "q") -> tuple[str, str]:
    """A page's search box: (the words, stripped, or "" when too long; the error to show, or "")."""
    errors: dict[str, str] = {}
    words = search_param(str(params.get(name) or "").strip(), name, errors)
    return words, errors.get(name, "")


def search_param(value: str, name: str, errors: dict[str, str], *, max_length: int = MAX_SEARCH_LENGTH) -> str:
    """The search words `value`, or "" with an error for `name` when longer than `max_length`
    characters (a search that long is a mistake, and every character is work for the index)."""
    if len(value) > max_length:
        errors[name] = _("At most %(n)s characters.") % {"n": max_length}
        return ""
    return value
