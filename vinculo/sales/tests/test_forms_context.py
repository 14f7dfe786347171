"""Forms that carry context: a deal started from a contact takes its company and owner; a quote
started from a deal takes the deal, its contact, company, currency and products; a product has a
default price in the base currency, used when no price list prices it; a quote line's price is
looked up as soon as its product is picked; the price list's product is a picker."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.contacts.testing import make_company, make_contact
from vinculo.core.models import AuditEntry
from vinculo.sales.factories import ProductFactory
from vinculo.sales.models import Pipeline, PriceList, PriceListItem, Product
from vinculo.sales.services.deals import deal_set_line_items
from vinculo.sales.services.documents import quote_create
from vinculo.sales.services.products import product_create, product_update
from vinculo.sales.testing import make_deal, make_product


def url(org: Any, name: str, *args: Any) -> str:
    return reverse(f"sales:{name}", args=[org.slug, *args])


def selected(html: str, name: str) -> str | None:
    """The selected value of the <select name=…> of a page."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, name
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    return chosen.group(1) if chosen else None


def value(html: str, name: str) -> str:
    match = re.search(rf'<input type="text" name="{name}" value="([^"]*)"', html)
    assert match is not None, name
    return match.group(1)


def seats(org: Any, **fields: Any) -> Product:
    """A product with no price list price: only its default price, if given."""
    return ProductFactory(organization=org, name="Seat licence", tax_rate=Decimal("21"), **fields)


# --- a deal from a contact ----------------------------------------------------------------------


def test_a_deal_from_a_contact_takes_its_company_and_owner(client_in, actor, org, member, pipeline):
    ana = member(Role.SALES, full_name="Ana Ruiz")
    acme = make_company(actor, name="Acme Ibérica")
    lucia = make_contact(actor, first_name="Lucía", company=acme.pk, owner=ana.user_id)

    html = client_in.get(url(org, "deal_create") + f"?contact={lucia.pk}").content.decode()

    assert selected(html, "contact") == str(lucia.pk)
    assert selected(html, "company") == str(acme.pk)
    assert selected(html, "owner") == str(ana.user_id)


def test_a_deal_from_a_contact_without_owner_or_company_is_yours(client_in, actor, org, pipeline):
    lucia = make_contact(actor, first_name="Lucía", owner=None)

    html = client_in.get(url(org, "deal_create") + f"?contact={lucia.pk}").content.decode()

    assert selected(html, "contact") == str(lucia.pk)
    assert selected(html, "company") == ""
    assert selected(html, "owner") == str(actor.user_id)


def test_a_deal_from_a_company_takes_its_owner(client_in, actor, org, member, pipeline):
    ana = member(Role.SALES, full_name="Ana Ruiz")
    acme = make_company(actor, name="Acme Ibérica", owner=ana.user_id)

    html = client_in.get(url(org, "deal_create") + f"?company={acme.pk}").content.decode()

    assert (selected(html, "company"), selected(html, "owner")) == (str(acme.pk), str(ana.user_id))


def test_a_contact_of_another_organisation_gives_nothing(client_in, actor, org, other_actor, pipeline):
    theirs = make_contact(other_actor, first_name="Ajena", company=make_company(other_actor, name="Otra").pk)

    response = client_in.get(url(org, "deal_create") + f"?contact={theirs.pk}")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ajena" not in html
    assert "Otra" not in html
    assert selected(html, "company") == ""
    assert selected(html, "owner") == str(actor.user_id)


def test_a_deal_from_a_contact_before_any_pipeline_comes_back_to_its_form_once_one_exists(client_in, actor, org):
    acme = make_company(actor, name="Acme Ibérica")
    lucia = make_contact(actor, first_name="Lucía", company=acme.pk)
    deal_form = url(org, "deal_create") + f"?contact={lucia.pk}"

    to_board = client_in.get(deal_form)
    board = url(org, "deal_board") + "?" + urlencode({"next": deal_form})
    assert to_board["Location"] == board
    offer = client_in.get(board).content.decode()
    assert f'<input type="hidden" name="next" value="{escape(deal_form)}">' in offer
    created = client_in.post(url(org, "pipeline_create_default"), {"next": deal_form})

    assert created["Location"] == deal_form
    html = client_in.get(deal_form).content.decode()
    assert (selected(html, "contact"), selected(html, "company")) == (str(lucia.pk), str(acme.pk))
    assert "Pipeline Sales created." in html


def test_the_default_pipeline_goes_to_no_other_site(client_in, actor, org):
    offer = client_in.get(url(org, "deal_board") + "?next=https://elsewhere.example/").content.decode()
    assert 'name="next"' not in offer

    created = client_in.post(url(org, "pipeline_create_default"), {"next": "https://elsewhere.example/"})

    with scope(organization=org):
        pipeline = Pipeline.objects.get()
    assert created["Location"] == url(org, "deal_board") + f"?pipeline={pipeline.pk}"


# --- a quote from a deal --------------------------------------------------------------------------


def test_a_quote_from_a_deal_takes_the_deal_its_customer_currency_and_products(client_in, actor, org, pipeline):
    acme = make_company(actor, name="Acme Ibérica")
    lucia = make_contact(actor, first_name="Lucía", company=acme.pk)
    widget = make_product(org, "Widget", price="100.00", currency="USD", tax_rate=Decimal("10"))
    deal = make_deal(actor, title="Acme 50 seats", currency="USD", contact=lucia.pk, company=acme.pk)
    with scope(organization=org):
        deal_set_line_items(
            actor=actor,
            deal=deal,
            lines=[
                {"product": widget.pk, "quantity": "50"},
                {"description": "Onboarding", "unit_price": "1250.00", "discount_percent": "10"},
            ],
        )

    html = client_in.get(url(org, "quote_create") + f"?deal={deal.pk}").content.decode()

    assert selected(html, "deal") == str(deal.pk)
    assert selected(html, "contact") == str(lucia.pk)
    assert selected(html, "company") == str(acme.pk)
    assert 'name="currency" value="USD"' in html
    assert re.findall(r'<option value="(\d+)" selected>Widget', html) == [str(widget.pk)]
    assert re.findall(r'name="line_description" maxlength="300" value="([^"]*)"', html) == ["Widget", "Onboarding"]
    assert re.findall(r'name="line_quantity" value="([^"]*)"', html) == ["50", "1"]
    assert re.findall(r'name="line_unit_price" value="([^"]*)"', html) == ["100.00", "1250.00"]
    assert re.findall(r'name="line_discount_percent" value="([^"]*)"', html) == ["0.00", "10.00"]


def test_a_quote_from_a_deal_without_company_takes_the_contacts(client_in, actor, org, pipeline):
    acme = make_company(actor, name="Acme Ibérica")
    lucia = make_contact(actor, first_name="Lucía", company=acme.pk)
    deal = make_deal(actor, title="Acme 50 seats", contact=lucia.pk)

    html = client_in.get(url(org, "quote_create") + f"?deal={deal.pk}").content.decode()

    assert (selected(html, "contact"), selected(html, "company")) == (str(lucia.pk), str(acme.pk))
    assert html.count("data-line-row") == 1  # a deal without products: one empty line to type into


def test_a_quote_from_a_contact_takes_its_company(client_in, actor, org):
    acme = make_company(actor, name="Acme Ibérica")
    lucia = make_contact(actor, first_name="Lucía", company=acme.pk)

    html = client_in.get(url(org, "quote_create") + f"?contact={lucia.pk}").content.decode()

    assert (selected(html, "contact"), selected(html, "company"), selected(html, "deal")) == (
        str(lucia.pk),
        str(acme.pk),
        "",
    )


def test_a_quote_from_a_deal_of_another_organisation_gives_nothing(client_in, actor, org, other_actor, pipeline):
    from vinculo.sales.testing import make_pipeline

    make_pipeline(other_actor.organization)
    theirs = make_deal(other_actor, title="Ajeno", currency="USD")

    html = client_in.get(url(org, "quote_create") + f"?deal={theirs.pk}").content.decode()

    assert "Ajeno" not in html
    assert 'name="currency" value="EUR"' in html


# --- the product's default price ------------------------------------------------------------------


def test_a_product_keeps_a_default_price_and_audits_it(actor, org):
    with scope(organization=org):
        product = product_create(actor=actor, data={"name": "Seat licence", "default_price": "250.5"})
        assert product.default_price == Decimal("250.50")
        product_update(actor=actor, product=product, data={"default_price": ""})
        product.refresh_from_db()
    assert product.default_price is None
    changes = AuditEntry.dangerously_unscoped.filter(object_type="sales.product", action="update").get().changes
    assert changes == {"default_price": ["250.50", None]}


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("-1", "Cannot be negative."),
        ("abc", "Enter a number."),
        ("1.005", "At most two decimal places."),
        ("1e20", "Too large."),
    ],
)
def test_a_bad_default_price_is_refused_and_nothing_saved(actor, org, price, message):
    with scope(organization=org), pytest.raises(ValidationError) as caught:
        product_create(actor=actor, data={"name": "Seat licence", "default_price": price})
    assert caught.value.message_dict == {"default_price": [message]}
    assert Product.dangerously_unscoped.count() == 0


def test_the_product_page_and_api_take_the_default_price(client_in, api_client, actor, org):
    response = client_in.post(
        url(org, "product_create"),
        {"name": "Seat licence", "tax_rate": "21", "default_price": "250.00", "is_active": "on"},
    )
    product = Product.dangerously_unscoped.get()
    assert response.status_code == 302
    assert product.default_price == Decimal("250.00")
    detail = client_in.get(url(org, "product_detail", product.pk)).content.decode()
    assert '<dd class="col-7" id="product-default-price">250.00 EUR</dd>' in detail
    bad = client_in.post(url(org, "product_edit", product.pk), {"name": "Seat licence", "default_price": "-5"})
    assert bad.status_code == 422
    assert "Cannot be negative." in bad.content.decode()

    created = api_client.post(
        "/api/v1/products", {"name": "Support", "default_price": "99.90"}, content_type="application/json"
    )
    assert (created.status_code, created.json()["default_price"]) == (201, "99.90")
    cleared = api_client.patch(
        f"/api/v1/products/{created.json()['id']}", {"default_price": None}, content_type="application/json"
    )
    assert (cleared.status_code, cleared.json()["default_price"]) == (200, None)


def test_lines_in_the_base_currency_take_the_default_price_when_no_price_list_gives_one(actor, org):
    licence = seats(org, default_price=Decimal("250.00"))
    listed = make_product(org, "Widget", price="100.00", default_price=Decimal("999.00"))
    contact = make_contact(actor)
    with scope(organization=org):
        quote = quote_create(
            actor=actor,
            data={"contact": contact.pk, "lines": [{"product": licence.pk, "quantity": "2"}, {"product": listed.pk}]},
        )
        lines = list(quote.lines.order_by("position").values_list("unit_price", "tax_rate"))
        assert lines == [(Decimal("250.0000"), Decimal("21.00")), (Decimal("100.0000"), Decimal("0.00"))]
        assert quote.total == Decimal("705.00")  # 2 × 250 + 21 % tax, and the price list's 100
        with pytest.raises(ValidationError) as caught:
            quote_create(
                actor=actor, data={"contact": contact.pk, "currency": "USD", "lines": [{"product": licence.pk}]}
            )
    assert caught.value.message_dict == {"lines.0.product": ["Seat licence has no price in USD."]}


# --- the price shown as soon as a product is picked -----------------------------------------------


def test_the_price_endpoint_answers_what_the_line_would_be_saved_with(client_in, actor, org):
    licence = seats(org, default_price=Decimal("250.00"))
    widget = make_product(org, "Widget", price="100.00", tax_rate=Decimal("10"))
    with scope(organization=org):
        partners = PriceList.objects.create(organization=org, name="Partners", currency="EUR")
        PriceListItem.objects.create(organization=org, price_list=partners, product=widget, unit_price=Decimal("80"))

    default = client_in.get(url(org, "product_price", licence.pk)).json()
    listed = client_in.get(url(org, "product_price", widget.pk) + "?currency=eur").json()
    partner = client_in.get(url(org, "product_price", widget.pk) + f"?currency=EUR&price_list={partners.pk}").json()
    none = client_in.get(url(org, "product_price", licence.pk) + "?currency=USD").json()

    assert default == {
        "unit_price": "250.00",
        "tax_rate": "21.00",
        "description": "Seat licence",
        "currency": "EUR",
        "message": "",
    }
    assert (listed["unit_price"], listed["tax_rate"]) == ("100.00", "10.00")
    assert partner["unit_price"] == "80.00"
    assert (none["unit_price"], none["message"]) == (None, "Seat licence has no price in USD.")


def test_the_price_endpoint_refuses_bad_input_and_other_organisations(client_in, actor, org, other_actor):
    licence = seats(org, default_price=Decimal("250.00"))
    theirs = seats(other_actor.organization, default_price=Decimal("1.00"))
    with scope(organization=org):
        dollars = PriceList.objects.create(organization=org, name="Dollars", currency="USD")

    bad_currency = client_in.get(url(org, "product_price", licence.pk) + "?currency=EURO")
    mismatched = client_in.get(url(org, "product_price", licence.pk) + f"?currency=EUR&price_list={dollars.pk}")
    unknown_list = client_in.get(url(org, "product_price", licence.pk) + "?price_list=999999")
    foreign = client_in.get(url(org, "product_price", theirs.pk))

    assert (bad_currency.status_code, bad_currency.json()["errors"]) == (
        400,
        [{"field": "currency", "message": "Enter an ISO 4217 currency code, e.g. EUR."}],
    )
    assert mismatched.status_code == 400
    assert mismatched.json()["errors"][0]["field"] == "price_list"
    assert (unknown_list.status_code, unknown_list.json()["errors"]) == (
        400,
        [{"field": "price_list", "message": "No such price list."}],
    )
    assert foreign.status_code == 404


def test_the_line_editors_know_where_to_look_prices_up(client_in, actor, org, pipeline):
    deal = make_deal(actor, title="Acme 50 seats", currency="USD")
    price_url = url(org, "product_price", 0)

    quote_page = client_in.get(url(org, "quote_create")).content.decode()
    deal_page = client_in.get(url(org, "deal_line_items", deal.pk)).content.decode()

    assert f'<div id="line-rows" data-price-url="{price_url}">' in quote_page
    assert f'<div id="line-rows" data-price-url="{price_url}" data-currency="USD">' in deal_page
    assert '<script src="/static/sales/documents.js" defer></script>' in quote_page


def test_the_price_list_product_is_searched_as_you_type(client_in, actor, org):
    with scope(organization=org):
        euros = PriceList.objects.create(organization=org, name="Euros", currency="EUR", is_default=True)

    html = client_in.get(url(org, "price_list_detail", euros.pk)).content.decode()

    assert f'data-picker="{url(org, "picker_product")}"' in html
