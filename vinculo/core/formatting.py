"""How numbers, amounts of money and phone numbers read, on every page, PDF and sentence alike.

Numbers follow Django's locale data of the active language (django/conf/locale/<lang>/formats.py),
always grouped in thousands, so that what Django localises by itself (`floatformat`, form inputs)
and what Vínculo formats agree: English `11,250.00`, Spanish `11 250,00` (a no-break space groups
the thousands, as Django's Spanish formats and the RAE have it).

An amount of money is its number in the currency's own decimals (the ISO 4217 minor unit: EUR 2,
JPY 0, KWD 3, rounded half up) followed by a space and the ISO code, wherever it is shown (a page,
a table cell, the PDF of a quote, a timeline sentence): `11,250.00 EUR`, `-1,250 JPY`.

A phone number reads the way one dials it from the organisation's country: national there
(`612 34 56 78` for a Spanish number in a Spanish organisation), international elsewhere
(`+44 20 7946 0958`), and exactly as typed when it is not a valid number. Its `tel:` link keeps
E.164.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.translation import get_language

from vinculo.core.currencies import minor_unit

__all__ = [
    "as_decimal",
    "format_money",
    "format_number",
    "format_phone",
    "number_separators",
    "phone_href",
]


def as_decimal(value: Any) -> Decimal | None:
    """`value` as a finite Decimal (numbers and numeric strings), else None (booleans too)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def number_separators(locale: str | None = None) -> tuple[str, str]:
    """(decimal separator, thousand separator) of `locale` (the active language by default)."""
    lang = locale or get_language()
    return str(get_format("DECIMAL_SEPARATOR", lang, use_l10n=True)), str(
        get_format("THOUSAND_SEPARATOR", lang, use_l10n=True)
    )


def format_number(value: Any, decimal_pos: int | None = None, *, locale: str | None = None) -> str:
    """`value` grouped in thousands in the active language (or `locale`): with `decimal_pos`
    decimals (rounded half up), else with the decimals it has and no trailing zeros (2.500 → 2.5).
    A value that is not a number is returned as its text ("" for None)."""
    number = as_decimal(value)
    if number is None:
        return "" if value is None else str(value)
    if decimal_pos is None:
        number = number.normalize()
        if number == number.to_integral_value():
            number = number.quantize(Decimal(1))
    else:
        number = number.quantize(Decimal(1).scaleb(-decimal_pos), rounding=ROUND_HALF_UP)
    if number == 0:
        number = abs(number)  # no "-0.00"
    lang = locale or get_language()
    decimal_sep, thousand_sep = number_separators(lang)
    return str(
        numberformat.format(
            number,
            decimal_sep,
            decimal_pos,
            get_format("NUMBER_GROUPING", lang, use_l10n=True),
            thousand_sep,
            force_grouping=True,
            use_l10n=True,
        )
    )


def format_money(amount: Any, currency: str, *, locale: str | None = None, exact: bool = False) -> str:
    """`11,250.00 EUR` in English, `11 250,00 EUR` in Spanish, `1,250 JPY`: the amount rounded to
    its currency's decimals, then the ISO code. `exact` (a unit price, stored with four decimals)
    keeps the decimals it has beyond the currency's: `13.3333 EUR`, `19.99 EUR`. "" for a value that
    is not a number; without a currency, two decimals and no code."""
    number = as_decimal(amount)
    if number is None:
        return ""
    currency = (currency or "").strip().upper()
    decimals = minor_unit(currency) if currency else 2
    if exact:
        exponent = number.normalize().as_tuple().exponent
        decimals = max(decimals, -exponent if isinstance(exponent, int) else 0)
    text = format_number(number, decimals, locale=locale)
    return f"{text} {currency}" if currency else text


def _parsed_phone(number: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(number, region or None)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def format_phone(number: Any, *, region: Any = "") -> str:
    """The number as one dials it from `region` (the organisation's country, ISO 3166-1 alpha-2):
    national when it has that country's calling code, international otherwise or without a
    region; as typed when it is not a valid number."""
    text = "" if number is None else str(number)
    region_code = str(region or "").strip().upper()
    parsed = _parsed_phone(text, region_code)
    if parsed is None:
        return text
    national = bool(region_code) and parsed.country_code == phonenumbers.country_code_for_region(region_code)
    style = phonenumbers.PhoneNumberFormat.NATIONAL if national else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, style)


def phone_href(number: Any, *, region: Any = "") -> str:
    """The `tel:` link of a number: E.164 when it is a valid number, else the typed text without
    its spaces."""
    text = "" if number is None else str(number)
    parsed = _parsed_phone(text, str(region or "").strip().upper())
    if parsed is None:
        return "tel:" + "".join(text.split())
    return "tel:" + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
