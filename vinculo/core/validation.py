"""Validation pieces every app's services share: an `Errors` dict of messages per field, and
cleaners for text, money, currency, percentages, dates and records by id. Each cleaner adds its
message to `errors` and returns None for a bad value, so a service reports every bad field at once.

Dates and moments are accepted from 1900-01-01 to 2200-12-31 (MIN_DATE, MAX_DATE) wherever they
are typed or sent: year 1 or 9999 is a typing slip, not a date anyone means, and a moment near
year 1 or 9999 with an offset cannot even be converted to UTC (it raised OverflowError, a 500).
The API schemas (`vinculo.core.api.BoundedDate`), the query parameters (`query_params.date_param`)
and the services all check the same bounds, with the same message (`date_range_message`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries
from email_validator import EmailNotValidError, validate_email

from vinculo.core.currencies import is_currency

Errors = dict[str, list[str]]
M = TypeVar("M", bound=Model)
MAX_MONEY = Decimal("999999999999.99")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)


MAX_EMAIL_LENGTH = 254
# Special-use names (RFC 6761) that people put in test data and demos: accepted like any domain.
# email_validator refuses .invalid and .localhost outright (and .test unless told it is a test).
ACCEPTED_SPECIAL_USE_TLDS = frozenset({"test", "example", "invalid", "localhost"})


def normalize_email_address(value: Any) -> str | None:
    """The one rule for an e-mail address Vínculo takes (forms, API, imports, webhooks, sign-up,
    invitations): the address normalised and lower-cased, or None when it is not one.

    Syntax and internationalised domains (IDN) are checked by email-validator, without any DNS
    lookup: an address is accepted whether or not its domain receives mail today, so special-use
    domains such as acme.test or example.com are accepted as well. Whether mail can be delivered
    is checked only where Vínculo sends. The part before the @ must be ASCII: a mailbox such as
    josé@… needs SMTPUTF8, which Vínculo's mail cannot count on, so it is refused here rather than
    accepted and then never written to."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_EMAIL_LENGTH:
        return None
    local, at, domain = text.rpartition("@")
    head, dot, tld = domain.rstrip(".").rpartition(".")
    if not at or not dot:  # a domain without a dot (ana@gmail) is a typing slip
        return None
    swapped = ""
    if tld.lower() in ACCEPTED_SPECIAL_USE_TLDS - {"test", "example"}:
        # validated as the same address under .test, which email-validator accepts in test mode
        swapped = tld.lower()
        text = f"{local}@{head}{dot}test"
    try:
        result = validate_email(text, check_deliverability=False, test_environment=True, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    normalized = result.normalized.lower()
    if swapped:
        normalized = normalized.removesuffix("test") + swapped
    return normalized


def clean_email_address(value: Any) -> str:
    """`normalize_email_address`, raising a ValidationError that names the value when it is not one."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(_("Enter an e-mail address."))
    if len(value.strip()) > MAX_EMAIL_LENGTH:
        raise ValidationError(_("An e-mail address has at most 254 characters."))
    normalized = normalize_email_address(value)
    if normalized is None:
        raise ValidationError(_("“%(value)s” is not a valid e-mail address.") % {"value": value.strip()[:80]})
    return normalized


def add_error(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def reject_unknown(data: Mapping[str, Any], allowed: Iterable[str], errors: Errors) -> None:
    """An "Unknown field." error for every key of `data` that is not in `allowed` (in `data`'s order)."""
    allowed = set(allowed)
    for key in data:
        if key not in allowed:
            add_error(errors, key, _("Unknown field."))


def _clean_amount(
    text: str, field: str, errors: Errors, *, allow_negative: bool, places: int, too_precise: str
) -> Decimal | None:
    """`text` as a finite decimal within ±MAX_MONEY with at most `places` decimals, else an error."""
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        add_error(errors, field, _("Enter a number."))
        return None
    if not amount.is_finite():
        add_error(errors, field, _("Enter a number."))
        return None
    if amount < 0 and not allow_negative:
        add_error(errors, field, _("Cannot be negative."))
        return None
    if abs(amount) > MAX_MONEY:  # before rounding: quantize() of 1e308 raises
        add_error(errors, field, _("Too large."))
        return None
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        add_error(errors, field, too_precise)
        return None
    return amount


def clean_money(value: Any, field: str, errors: Errors, *, allow_negative: bool = False) -> Decimal | None:
    """A money amount with at most two decimals; floats are refused (they cannot be exact)."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        add_error(errors, field, _('Enter the amount as a decimal string, e.g. "1250.50".'))
        return None
    return _clean_amount(
        str(value).strip(),
        field,
        errors,
        allow_negative=allow_negative,
        places=2,
        too_precise=_("At most two decimal places."),
    )


UNIT_PRICE_PLACES = 4


def clean_unit_price(value: Any, field: str, errors: Errors, *, allow_negative: bool = False) -> Decimal | None:
    """A price per unit with at most four decimals (3 CDs for 40.00 cost 13.3333 each), given as a
    decimal string or a JSON number: a number is read as the shortest decimal that round-trips it
    (`3.3333` is 3.3333, not 3.33329999…), so what the sender wrote is what is stored."""
    if isinstance(value, bool):
        add_error(errors, field, _("Enter a number."))
        return None
    text = repr(value) if isinstance(value, float) else str(value).strip()
    too_precise = _("At most %(n)s decimal places.") % {"n": UNIT_PRICE_PLACES}
    return _clean_amount(
        text, field, errors, allow_negative=allow_negative, places=UNIT_PRICE_PLACES, too_precise=too_precise
    )


def clean_decimal(
    value: Any, field: str, errors: Errors, *, places: int, minimum: Decimal, maximum: Decimal
) -> Decimal | None:
    """A decimal between `minimum` and `maximum` with at most `places` decimals."""
    if isinstance(value, bool):
        add_error(errors, field, _("Enter a number."))
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        add_error(errors, field, _("Enter a number."))
        return None
    if not number.is_finite():
        add_error(errors, field, _("Enter a number."))
        return None
    if number < minimum:
        add_error(errors, field, _("Must be at least %(n)s.") % {"n": minimum})
        return None
    if number > maximum:  # before rounding: quantize() of 1e308 raises
        add_error(errors, field, _("Must be at most %(n)s.") % {"n": maximum})
        return None
    if number != number.quantize(Decimal(1).scaleb(-places)):
        add_error(errors, field, _("At most %(n)s decimal places.") % {"n": places})
        return None
    return number


def clean_percent(value: Any, field: str, errors: Errors) -> Decimal | None:
    """A percentage between 0 and 100 (discounts, tax rates)."""
    return clean_decimal(value, field, errors, places=2, minimum=Decimal(0), maximum=Decimal(100))


def clean_probability(value: Any, field: str, errors: Errors) -> int | None:
    """A whole percentage between 0 and 100."""
    if isinstance(value, bool):
        add_error(errors, field, _("Enter a whole number."))
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        add_error(errors, field, _("Enter a whole number."))
        return None
    if not 0 <= number <= 100:
        add_error(errors, field, _("Enter a probability between 0 and 100."))
        return None
    return number


def clean_currency(value: Any, field: str, errors: Errors) -> str | None:
    code = value.strip().upper() if isinstance(value, str) else None
    if not code or not is_currency(code):
        add_error(errors, field, _("Enter an ISO 4217 currency code, e.g. EUR."))
        return None
    return code


def date_range_message() -> str:
    return _("Enter a date between 1900 and 2200.")


def in_date_range(value: dt.date) -> bool:
    """Whether the day (of a moment: the day as written, in its own offset) is within
    MIN_DATE..MAX_DATE. Inside them a moment converts to UTC and back without overflowing."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return MIN_DATE <= day <= MAX_DATE


def check_date_range(value: dt.date, field: str, errors: Errors) -> bool:
    """True when `value` is within the bounds; otherwise adds the range error for `field`."""
    if in_date_range(value):
        return True
    add_error(errors, field, date_range_message())
    return False


def clean_date(value: Any, field: str, errors: Errors) -> dt.date | None:
    """A date given as a date or as YYYY-MM-DD text, from 1900 to 2200; empty means none."""
    if value in (None, ""):
        return None
    day: dt.date | None = None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            day = None
    if day is None:
        add_error(errors, field, _("Enter a date as YYYY-MM-DD."))
        return None
    return day if check_date_range(day, field, errors) else None


def clean_datetime(value: Any, field: str, errors: Errors, *, tz: dt.tzinfo) -> dt.datetime | None:
    """An aware moment in UTC, from a datetime or ISO 8601 text with a time, from 1900 to 2200;
    naive ones are read in `tz` (and refused when that time does not exist there)."""
    moment: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and len(value.strip()) > 10:  # a date alone is not a moment
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None:
        add_error(errors, field, _("Enter a date and time, e.g. 2026-03-02T09:30:00+01:00."))
        return None
    if not check_date_range(moment, field, errors):  # before converting: year 1 at +05:00 overflows
        return None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=tz)
        if moment.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != moment.replace(tzinfo=None):
            add_error(errors, field, _("This time does not exist in your time zone (the clocks change)."))
            return None
    return moment.astimezone(dt.UTC)


def clean_text(
    value: Any, field: str, errors: Errors, *, max_length: int, required: bool = False, single_line: bool = False
) -> str | None:
    """Stripped text of at most `max_length` characters; `single_line` also refuses control
    characters (a name that ends up in a header or a log line)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        add_error(errors, field, _("Enter text."))
        return None
    value = value.strip()
    if required and not value:
        add_error(errors, field, _("This field is required."))
        return None
    if len(value) > max_length:
        add_error(errors, field, _("At most %(n)s characters.") % {"n": max_length})
        return None
    if single_line and CONTROL_CHARACTERS.search(value):
        add_error(errors, field, _("Enter text without control characters."))
        return None
    return value


# a postal address as orders keep it (billing, shipping): the longest each part may be
ADDRESS_FIELDS = {
    "name": 200,
    "company": 200,
    "street": 300,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "country": 2,
    "phone": 40,
}


def clean_address(value: Any, field: str, errors: Errors) -> dict[str, str]:
    """An address as an object of ADDRESS_FIELDS (single-line texts; `country` ISO 3166, upper
    case); empty parts are left out. Errors under `<field>.<part>`."""

    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        add_error(errors, field, _("Give an object."))
        return {}
    address: dict[str, str] = {}
    for key in value:
        if key not in ADDRESS_FIELDS:
            add_error(errors, f"{field}.{key}", _("Unknown field."))
    for key, length in ADDRESS_FIELDS.items():
        text = clean_text(value.get(key), f"{field}.{key}", errors, max_length=length, single_line=True)
        if text:
            address[key] = text
    if address.get("country"):
        code = address["country"].upper()
        if code not in dict(countries):
            add_error(errors, f"{field}.country", _("Enter an ISO 3166 country code, e.g. ES."))
        address["country"] = code
    return address


TRUE_WORDS = frozenset({"true", "on", "1", "yes"})
FALSE_WORDS = frozenset({"false", "off", "0", "no", ""})


def clean_bool(value: Any, field: str, errors: Errors, *, none_is_false: bool = True) -> bool | None:
    """A yes/no from JSON or a form: a boolean, 1/0, or true/on/1/yes and false/off/0/no/"" in any
    case; None counts as false unless `none_is_false` is off (then it is an error, like any other)."""
    if isinstance(value, bool):
        return value
    if value is None and none_is_false:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    add_error(errors, field, _("Enter true or false."))
    return None


def clean_choice(value: Any, field: str, errors: Errors, choices: Iterable[str]) -> str | None:
    """One of `choices`, else a field error listing them."""
    allowed = list(choices)
    if value not in allowed:
        add_error(errors, field, _("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)})
        return None
    return str(value)


def keep_linked(queryset: QuerySet[Any], current_id: int | None, value: Any) -> QuerySet[Any]:
    """`queryset` to look `value` up in, or, when `value` names the record already linked
    (`current_id`), that record alone: keeping it is allowed even when the actor no longer sees it."""
    if current_id is not None and str(getattr(value, "pk", value)) == str(current_id):
        return queryset.model.objects.filter(pk=current_id)
    return queryset


def record_by_id(queryset: QuerySet[M], value: Any, field: str, errors: Errors, message: str) -> M | None:
    """The record `value` names inside `queryset` (already scoped and visible), or an error."""
    if value in (None, ""):
        return None
    if isinstance(value, Model):
        value = value.pk
    try:
        return queryset.get(pk=int(value))
    except (ObjectDoesNotExist, ValueError, TypeError, OverflowError):
        add_error(errors, field, message)
        return None
