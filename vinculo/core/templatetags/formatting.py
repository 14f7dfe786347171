"""Template filters of the one number, money and phone format (vinculo.core.formatting).

{% load formatting %}
{{ deal.amount|money:deal.currency }}        11,250.00 EUR · 11 250,00 EUR
{{ line.unit_price|price:quote.currency }}   13.3333 EUR · 19.99 EUR
{{ line.quantity|number }}                   1,250.5 · 1 250,5
{{ report.win_rate|number:1 }}               87.5 · 87,5
{{ phone.number|phone:org.country }}         612 34 56 78 · +44 20 7946 0958
<a href="{{ phone.number|phone_href:org.country }}">
"""

from __future__ import annotations

from typing import Any

from django import template

from vinculo.core.formatting import format_money, format_number, format_phone, phone_href

register = template.Library()


@register.filter(name="money")
def money_filter(amount: Any, currency: Any) -> str:
    """An amount with its currency's decimals and code, in the active language."""
    return format_money(amount, str(currency or ""))


@register.filter(name="price")
def price_filter(amount: Any, currency: Any) -> str:
    """A unit price with its currency's code and at least its decimals: all of its own (13.3333)."""
    return format_money(amount, str(currency or ""), exact=True)


@register.filter(name="number")
def number_filter(value: Any, decimals: Any = None) -> str:
    """A number grouped in thousands in the active language; `decimals` fixed, else as it is."""
    return format_number(value, None if decimals in (None, "") else int(decimals))


@register.filter(name="phone")
def phone_filter(number: Any, country: Any = "") -> str:
    """A phone number as dialled from `country` (the organisation's): national there,
    international elsewhere, as typed when it is not a number."""
    return format_phone(number, region=country)


@register.filter(name="phone_href")
def phone_href_filter(number: Any, country: Any = "") -> str:
    """The `tel:` link of a phone number (E.164 when it is one)."""
    return phone_href(number, region=country)
