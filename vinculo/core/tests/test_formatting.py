"""The one number, money and phone format (vinculo.core.formatting), its template filters, and the
country of a time zone (vinculo.core.countries)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from vinculo.core.countries import country_of_time_zone, is_country
from vinculo.core.formatting import format_money, format_number, format_phone, phone_href

NBSP = "\xa0"

# --- money ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "english", "spanish"),
    [
        (Decimal("11250.00"), "EUR", "11,250.00 EUR", f"11{NBSP}250,00 EUR"),
        ("12500", "EUR", "12,500.00 EUR", f"12{NBSP}500,00 EUR"),
        (Decimal("-1250.50"), "EUR", "-1,250.50 EUR", f"-1{NBSP}250,50 EUR"),
        (Decimal("0"), "EUR", "0.00 EUR", "0,00 EUR"),
        (Decimal("-0.001"), "EUR", "0.00 EUR", "0,00 EUR"),  # never "-0.00"
        (Decimal("1250.00"), "JPY", "1,250 JPY", f"1{NBSP}250 JPY"),
        (Decimal("1250.50"), "JPY", "1,251 JPY", f"1{NBSP}251 JPY"),  # rounded half up, not cut
        (Decimal("-1250"), "JPY", "-1,250 JPY", f"-1{NBSP}250 JPY"),
        (Decimal("0"), "JPY", "0 JPY", "0 JPY"),
        (Decimal("1234.5"), "KWD", "1,234.500 KWD", f"1{NBSP}234,500 KWD"),
        (Decimal("999.995"), "USD", "1,000.00 USD", f"1{NBSP}000,00 USD"),
        (Decimal("1234567.891"), "", "1,234,567.89", f"1{NBSP}234{NBSP}567,89"),
        (12.5, "eur", "12.50 EUR", "12,50 EUR"),
    ],
)
def test_money_reads_the_same_in_every_language_rule(amount, currency, english, spanish):
    with translation.override("en"):
        assert format_money(amount, currency) == english
    with translation.override("es"):
        assert format_money(amount, currency) == spanish
    assert format_money(amount, currency, locale="es") == spanish
    assert format_money(amount, currency, locale="en") == english


@pytest.mark.parametrize("value", [None, "", "abc", True, "NaN", "Infinity", Decimal("NaN")])
def test_what_is_not_an_amount_is_left_empty(value):
    assert format_money(value, "EUR") == ""


def test_a_unit_price_keeps_the_decimals_it_has_beyond_the_currencys():
    with translation.override("es"):
        assert format_money(Decimal("13.3333"), "EUR", exact=True) == "13,3333 EUR"
        assert format_money(Decimal("19.9900"), "EUR", exact=True) == "19,99 EUR"
        assert format_money(Decimal("1250.0000"), "JPY", exact=True) == f"1{NBSP}250 JPY"
        assert format_money(Decimal("13.3333"), "EUR") == "13,33 EUR"


# --- plain numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "decimals", "english", "spanish"),
    [
        (Decimal("2.000"), None, "2", "2"),
        (Decimal("1250.500"), None, "1,250.5", f"1{NBSP}250,5"),
        (Decimal("100"), None, "100", "100"),
        (1200, None, "1,200", f"1{NBSP}200"),
        (Decimal("87.46"), 1, "87.5", "87,5"),
        (Decimal("-3"), 1, "-3.0", "-3,0"),
        ("21.00", None, "21", "21"),
    ],
)
def test_numbers_are_grouped_in_the_languages_way(value, decimals, english, spanish):
    assert format_number(value, decimals, locale="en") == english
    assert format_number(value, decimals, locale="es") == spanish


def test_a_number_that_is_not_one_is_shown_as_it_is():
    assert format_number("n/a") == "n/a"
    assert format_number(None) == ""


# --- phones -----------------------------------------------------------------------------------------


def test_a_spanish_organisation_sees_spanish_numbers_in_national_format_and_others_international():
    assert format_phone("+34612345678", region="ES") == "612 34 56 78"
    assert format_phone("612345678", region="es") == "612 34 56 78"  # no prefix: the country's
    assert format_phone("+34 910 00 00 00", region="ES") == "910 00 00 00"
    assert format_phone("+442079460958", region="ES") == "+44 20 7946 0958"
    assert format_phone("+1 650 253 0000", region="ES") == "+1 650-253-0000"


def test_a_british_organisation_sees_the_same_numbers_the_other_way_round():
    assert format_phone("+442079460958", region="GB") == "020 7946 0958"
    assert format_phone("+34612345678", region="GB") == "+34 612 34 56 78"


@pytest.mark.parametrize("typed", ["call me after 5", "12", "+34 1", "", "ext. 204"])
def test_what_is_not_a_phone_number_is_shown_exactly_as_typed(typed):
    assert format_phone(typed, region="ES") == typed
    assert format_phone(typed) == typed


def test_without_a_country_every_number_is_international():
    assert format_phone("+34612345678", region="") == "+34 612 34 56 78"
    assert format_phone("+442079460958", region=None) == "+44 20 7946 0958"
    assert format_phone("612345678", region="") == "612345678"  # no country code to go by: as typed


def test_the_tel_link_is_e164_when_the_number_is_one():
    assert phone_href("612 34 56 78", region="ES") == "tel:+34612345678"
    assert phone_href("+44 20 7946 0958") == "tel:+442079460958"
    assert phone_href("ext 204") == "tel:ext204"


# --- template filters -------------------------------------------------------------------------------


def test_the_template_filters_say_the_same_as_the_functions():
    template = Template(
        "{% load formatting %}{{ amount|money:currency }}|{{ price|price:currency }}|{{ quantity|number }}|"
        "{{ rate|number:1 }}|{{ phone|phone:country }}|{{ phone|phone_href:country }}|{{ garbage|phone:country }}"
    )
    context = Context(
        {
            "amount": Decimal("11250.00"),
            "currency": "EUR",
            "price": Decimal("13.3333"),
            "quantity": Decimal("1500.000"),
            "rate": Decimal("87.46"),
            "phone": "+34612345678",
            "country": "ES",
            "garbage": "<b>ring me</b>",
        }
    )
    with translation.override("en"):
        assert template.render(context) == (
            "11,250.00 EUR|13.3333 EUR|1,500|87.5|612 34 56 78|tel:+34612345678|&lt;b&gt;ring me&lt;/b&gt;"
        )
    with translation.override("es"):
        assert template.render(context) == (
            f"11{NBSP}250,00 EUR|13,3333 EUR|1{NBSP}500|87,5|612 34 56 78|tel:+34612345678|&lt;b&gt;ring me&lt;/b&gt;"
        )


# --- countries --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/Madrid", "ES"),
        ("Atlantic/Canary", "ES"),
        ("Europe/London", "GB"),
        ("America/Mexico_City", "MX"),
        ("UTC", ""),
        ("Etc/GMT+3", ""),
        ("Nowhere/Special", ""),
        ("", ""),
    ],
)
def test_the_country_of_a_time_zone(zone, country):
    assert country_of_time_zone(zone) == country


def test_a_country_code_is_two_letters_of_iso_3166():
    assert (is_country("ES"), is_country("GB"), is_country("XX"), is_country("ESP"), is_country("")) == (
        True,
        True,
        False,
        False,
        False,
    )
