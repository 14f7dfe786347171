"""Reading list filters from query parameters: a value that does not parse becomes a field error
(collected in `errors`, keyed by the parameter's name) instead of an exception, so the pages can
keep the valid filters and show the rest, and the API can answer 422 with all of them."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

MAX_ID = 2**63 - 1  # a larger number overflows the database driver (a 500 instead of an error)


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
    """The YYYY-MM-DD date `value`, or None with an error for `name`."""
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None
