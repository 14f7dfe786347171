"""Forms that carry context, in a real browser: from a contact's page "New deal" opens with her
company (and owner) already chosen; from the deal's page "New quote" opens with the deal's customer
and products, a new line shows its price as soon as its product is picked, and the quote is saved
with them."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.contacts.testing import make_company, make_contact
from vinculo.core.testing.browser import pick_record
from vinculo.sales.factories import ProductFactory
from vinculo.sales.models import Deal, Quote
from vinculo.sales.testing import make_pipeline, make_product

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_deal_from_a_contact_then_a_quote_from_the_deal(browser_page: Any):
    page = browser_page
    owner = make_member(email="rep@example.com", full_name="Ana Ruiz")
    org = owner.organization
    make_pipeline(org)
    make_product(org, "Widget", price="100.00", tax_rate=Decimal("21"))
    ProductFactory(organization=org, name="Seat licence", default_price=Decimal("250.00"))
    acme = make_company(owner, name="Acme Ibérica")
    lucia = make_contact(owner, first_name="Lucía", last_name="Gómez", company=acme.pk)

    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("rep@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()  # the home page

    # from the contact: New deal, her company already there
    page.goto(f"/o/{org.slug}/contacts/{lucia.pk}/")
    page.locator("#panel-deals").get_by_role("link", name="New deal").click()
    expect(page.get_by_role("heading", name="New deal")).to_be_visible()
    expect(page.get_by_role("combobox", name="Company", exact=True)).to_have_value("Acme Ibérica")
    expect(page.get_by_role("combobox", name="Contact", exact=True)).to_have_value("Lucía Gómez")
    page.get_by_label("Title").fill("Acme 50 seats")
    page.get_by_role("button", name="Create deal").click()
    expect(page.get_by_text("Deal created.")).to_be_visible()
    deal = Deal.dangerously_unscoped.get()
    assert (deal.contact_id, deal.company_id, deal.owner_id) == (lucia.pk, acme.pk, owner.user_id)

    # the deal's products
    page.get_by_role("link", name="Edit products").click()
    pick_record(page, "Product", "widget", "Widget")
    expect(page.get_by_label("Unit price").nth(0)).to_have_value("100.00")  # shown as soon as it is picked
    page.get_by_label("Quantity").nth(0).fill("2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Products saved.")).to_be_visible()

    # from the deal: New quote, with its customer and products
    page.locator("#deal-quote-create").click()
    expect(page.get_by_role("heading", name="New quote")).to_be_visible()
    expect(page.get_by_role("combobox", name="Deal", exact=True)).to_have_value("Acme 50 seats")
    expect(page.get_by_role("combobox", name="Contact", exact=True)).to_have_value("Lucía Gómez")
    expect(page.get_by_role("combobox", name="Company", exact=True)).to_have_value("Acme Ibérica")
    expect(page.get_by_label("Currency")).to_have_value("EUR")
    expect(page.get_by_label("Unit price").nth(0)).to_have_value("100.00")
    expect(page.get_by_label("Quantity").nth(0)).to_have_value("2")
    # a new line shows the product's own default price (no price list has it)
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("[data-line-row]")).to_have_count(2)
    pick_record(page, "Product", "seat", "Seat licence", nth=1)
    expect(page.get_by_label("Unit price").nth(1)).to_have_value("250.00")
    expect(page.locator('[data-total="total"]')).to_have_text("492.00 EUR")  # 2 × 100 + 21 % tax, + 250
    page.get_by_role("button", name="Create quote").click()
    expect(page.get_by_text("created.")).to_be_visible()
    with scope(organization=org):
        quote = Quote.objects.get()
        assert (quote.deal_id, quote.contact_id, quote.company_id, quote.currency) == (
            deal.pk,
            lucia.pk,
            acme.pk,
            "EUR",
        )
        assert list(quote.lines.order_by("position").values_list("description", "unit_price")) == [
            ("Widget", Decimal("100.0000")),
            ("Seat licence", Decimal("250.0000")),
        ]
        assert quote.total == Decimal("492.00")
