"""One amount reads the same on every page, and phone numbers read as dialled from the
organisation's country (vinculo.core.formatting), in English and in Spanish.

The same deal amount on the deal's page, the deals list, the board (its card and its column's
total), the home page, the contact's deals panel and the contact's timeline sentence; a quote's
total on its page, its print view and its PDF; phone numbers on the contact's and the company's
pages, the contacts list and an order's address."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_scopes import scope

from vinculo.accounts.models import Membership, Organization, User
from vinculo.accounts.testing import login_client
from vinculo.contacts.models import Contact
from vinculo.contacts.testing import make_company, make_contact
from vinculo.sales import pdf
from vinculo.sales.models import Quote
from vinculo.sales.services.documents import order_create, quote_create
from vinculo.sales.testing import make_deal

NBSP = "\xa0"
AMOUNTS = [("en", "11,250.00 EUR"), ("es", f"11{NBSP}250,00 EUR")]


def _speak(membership: Membership, language: str) -> Client:
    User.objects.filter(pk=membership.user_id).update(language=language, time_zone="UTC")
    return login_client(membership)


def _get(client: Client, name: str, *args: object, query: str = "") -> str:
    response = client.get(reverse(name, args=list(args)) + query)
    assert response.status_code == 200, name
    return html.unescape(response.content.decode())


def _one(pattern: str, page: str) -> str:
    found = re.findall(pattern, page, re.S)
    assert len(found) == 1, (pattern, found)
    return str(found[0])


@pytest.mark.parametrize(("language", "expected"), AMOUNTS)
def test_a_deal_amount_reads_the_same_on_every_page(actor, org, pipeline, contact, language, expected):
    with scope(organization=org):
        Contact.objects.filter(pk=contact.pk).update(first_name="Lucía", last_name="Pérez")
    deal = make_deal(
        actor,
        title="Acme 50 seats",
        amount="11250.00",
        contact=contact.pk,
        expected_close_date=timezone.now().date().isoformat(),  # closing this month: on the home page
    )
    client = _speak(actor, language)

    detail = _get(client, "sales:deal_detail", org.slug, deal.pk)
    listing = _get(client, "sales:deal_list", org.slug)
    board = _get(client, "sales:deal_board", org.slug)
    home = _get(client, "org:home", org.slug)
    contact_page = _get(client, "contacts:contact_detail", org.slug, contact.pk)

    shown = {
        "deal page": _one(r'id="deal-amount">([^<]*)</dd>', detail),
        "deals list": _one(rf'id="deal-row-{deal.pk}".*?<td class="text-end text-nowrap">([^<]*)<', listing),
        "board card": _one(rf'id="deal-card-{deal.pk}".*?class="small deal-card-amount">([^<]*)<', board),
        "board column": _one(
            rf'id="column-summary-{deal.stage_id}".*?class="fw-semibold js-total"[^>]*>([^<]*)<', board
        ),
        "home page": _one(rf'data-deal="{deal.pk}">.*?<span class="text-nowrap">([^<]*)</span>', home),
        "contact's deals": _one(r'id="panel-deals".*?<span class="text-nowrap">([^<]*)</span>', contact_page),
        "timeline sentence": _one(
            r'<div class="event-sentence">[^<]*<a [^>]*>Acme 50 seats</a>[^<]*— ([^<]*)</div>', contact_page
        ),
    }
    assert shown == dict.fromkeys(shown, expected)


@pytest.mark.parametrize(("language", "expected"), AMOUNTS)
def test_a_quote_total_reads_the_same_on_its_page_its_print_view_and_its_pdf(actor, org, contact, language, expected):
    with scope(organization=org):
        quote = quote_create(
            actor=actor,
            data={
                "contact": contact.pk,
                "currency": "EUR",
                "lines": [{"description": "Consultoría", "quantity": "2", "unit_price": "5625"}],
            },
        )
    client = _speak(actor, language)

    page = _get(client, "sales:quote_detail", org.slug, quote.pk)
    printed = _get(client, "sales:quote_print", org.slug, quote.pk)
    listing = _get(client, "sales:quote_list", org.slug)
    with scope(organization=org):
        stored = Quote.objects.prefetch_related("lines").select_related("contact", "company").get(pk=quote.pk)
        with translation.override(language):
            document = pdf.quote_pdf(quote=stored, organization=org, compress=False, unicode_font=False)

    assert _one(r'id="document-total">([^<]*)</dd>', page) == expected
    assert _one(r'<td class="text-end fw-semibold">([^<]*)</td>', printed) == expected
    assert (
        _one(rf'href="[^"]*/quotes/{quote.pk}/".*?<td class="text-end text-nowrap">([^<]*)</td>', listing) == expected
    )
    # the PDF's text, drawn in Helvetica (Latin-1: the no-break space is there as byte A0)
    assert f"({expected.replace(NBSP, chr(0o240))}) Tj".encode("latin-1") in document


# --- phone numbers ----------------------------------------------------------------------------------


@pytest.fixture
def spanish_org(org: Organization) -> Organization:
    Organization.objects.filter(pk=org.pk).update(country="ES")
    org.refresh_from_db()
    return org


def test_phones_read_national_for_the_organisations_country_and_international_otherwise(actor, spanish_org):
    org = spanish_org
    lucia = make_contact(
        actor,
        first_name="Lucía",
        phones=[{"number": "+34 612 34 56 78", "kind": "mobile"}, {"number": "+44 20 7946 0958", "kind": "work"}],
    )
    acme = make_company(actor, name="Acme", phone="+44 20 7946 0958")
    client = _speak(actor, "es")

    contact_page = _get(client, "contacts:contact_detail", org.slug, lucia.pk)
    company_page = _get(client, "contacts:company_detail", org.slug, acme.pk)
    listing = _get(client, "contacts:contact_list", org.slug, query="?columns=phone")

    assert re.findall(r'<a href="(tel:[^"]*)">([^<]*)</a>', contact_page) == [
        ("tel:+34612345678", "612 34 56 78"),
        ("tel:+442079460958", "+44 20 7946 0958"),
    ]
    assert re.findall(r'<a href="(tel:[^"]*)">([^<]*)</a>', company_page) == [("tel:+442079460958", "+44 20 7946 0958")]
    assert (
        _one(rf'id="contact-row-{lucia.pk}".*?<td class="hide-sm text-nowrap">([^<]*)</td>', listing) == "612 34 56 78"
    )


def test_without_a_country_every_phone_reads_international(actor, org):
    lucia = make_contact(actor, first_name="Lucía", phones=[{"number": "+34 612 34 56 78", "kind": "mobile"}])

    contact_page = _get(login_client(actor), "contacts:contact_detail", org.slug, lucia.pk)

    assert re.findall(r'<a href="(tel:[^"]*)">([^<]*)</a>', contact_page) == [("tel:+34612345678", "+34 612 34 56 78")]


def test_an_orders_address_shows_its_phone_as_dialled_from_the_organisation(actor, spanish_org, contact):
    org = spanish_org
    with scope(organization=org):
        order, _created = order_create(
            actor=actor,
            data={
                "contact": contact.pk,
                "currency": "EUR",
                "lines": [{"description": "Tent", "quantity": "1", "unit_price": "250"}],
                "shipping_address": {
                    "name": "Lucía Pérez",
                    "city": "Sevilla",
                    "country": "ES",
                    "phone": "+34612345678",
                },
                "billing_address": {
                    "name": "Lucía Pérez",
                    "city": "London",
                    "country": "GB",
                    "phone": "typed: ring twice",
                },
            },
        )

    page = _get(login_client(actor), "sales:order_detail", org.slug, order.pk)

    addresses = re.findall(r'<address class="mb-0 small">(.*?)</address>', page, re.S)
    assert [address.rsplit("<br>", 1)[-1] for address in addresses] == ["typed: ring twice", "612 34 56 78"]
