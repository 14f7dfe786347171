"""Quotes in a real browser: build a quote for a contact with two lines (one row added with HTMX),
watch the server-computed totals, accept it, find "Order placed" with the order number on the
contact's timeline, and fetch the PDF; then the order form on a phone-sized screen."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.contacts.services import contact_create
from vinculo.core.testing.browser import pick_record
from vinculo.sales.models import Order, Quote
from vinculo.sales.services.documents import quote_create
from vinculo.sales.testing import make_product

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()  # the home page


def test_quote_with_two_lines_accepted_into_an_order_on_the_timeline_and_as_pdf(browser_page: Page):
    page = browser_page
    owner = make_member(email="lucia@example.com")
    org = owner.organization
    make_product(org, "Widget", price="100.00", tax_rate=Decimal("21"))
    with scope(organization=org):
        contact_create(actor=owner, data={"first_name": "José", "last_name": "García"})
    log_in(page, "lucia@example.com")

    # a new quote for the contact: a product line priced from the list, and a free-text line
    page.goto(f"/o/{org.slug}/quotes/new/")
    pick_record(page, "Contact", "garcía", "José García")
    pick_record(page, "Product", "widg", "Widget")
    page.get_by_label("Quantity").nth(0).fill("2")
    page.get_by_label("Discount %").nth(0).fill("10")
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("[data-line-row]")).to_have_count(2)
    page.get_by_label("Description").nth(1).fill("Instalación")
    page.get_by_label("Unit price").nth(1).fill("50.00")
    page.get_by_label("Tax %").nth(1).fill("21")

    # the totals are recomputed by the server as the lines change
    expect(page.locator('[data-total="subtotal"]')).to_have_text("250.00 EUR")
    expect(page.locator('[data-total="discount"]')).to_have_text("−20.00 EUR")
    expect(page.locator('[data-total="tax"]')).to_have_text("48.30 EUR")
    expect(page.locator('[data-total="total"]')).to_have_text("278.30 EUR")

    page.get_by_role("button", name="Create quote").click()
    expect(page.get_by_role("heading", name=re.compile("Quote Q-00001"))).to_be_visible()
    expect(page.locator("#document-total")).to_have_text("278.30 EUR")
    quote_url = page.url

    # the PDF link answers a PDF
    pdf_href = page.locator("#quote-pdf-link").get_attribute("href")
    assert pdf_href is not None
    response = page.request.get(pdf_href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")

    # accept: the order is placed
    page.get_by_role("button", name="Accept and place order").click()
    expect(page.get_by_role("heading", name=re.compile("Order O-00001"))).to_be_visible()
    expect(page.get_by_text("Quote Q-00001 accepted: order O-00001 placed.")).to_be_visible()
    with scope(organization=org):
        order = Order.objects.get()
        assert (order.total, order.quote_id) == (Decimal("278.30"), Quote.objects.get().pk)

    # the contact's timeline shows the order
    page.get_by_role("link", name="José García").click()
    entry = page.locator('#timeline-list [data-type="order.placed"]')
    expect(entry).to_contain_text("Order placed")
    expect(entry).to_contain_text("O-00001")
    expect(entry).to_contain_text("278.30")

    # the quote can no longer be edited or accepted
    page.goto(quote_url)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name="Accept and place order")).to_have_count(0)


def test_a_rep_places_an_order_from_a_phone(browser: object, live_server: object):
    owner = make_member(email="rep@example.com")
    org = owner.organization
    make_product(org, "Café en grano", price="12.50", tax_rate=Decimal("10"))
    with scope(organization=org):
        contact_create(actor=owner, data={"first_name": "Marta", "last_name": "Ruiz"})
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, "rep@example.com")
        page.goto(f"/o/{org.slug}/orders/new/")
        pick_record(page, "Contact", "marta", "Marta Ruiz")
        pick_record(page, "Product", "café", "Café en grano")
        page.get_by_label("Quantity").nth(0).fill("4")
        expect(page.locator('[data-total="total"]')).to_have_text("55.00 EUR")
        # nothing is wider than the screen
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        page.get_by_role("button", name="Place order").click()
        expect(page.get_by_role("heading", name=re.compile("Order O-00001"))).to_be_visible()
        page.get_by_role("button", name="Mark as Paid").click()
        expect(page.get_by_text("Order O-00001 is now paid.")).to_be_visible()
    finally:
        context.close()


def test_a_quote_is_emailed_as_a_pdf_from_its_page(browser_page: Page, mailoutbox):
    """Send by e-mail: the address comes prefilled from the contact; a bad one is refused next to
    the field with nothing sent; the good one sends the quote with its PDF (by the worker, here at
    once) and the quote reads "sent"."""
    page = browser_page
    owner = make_member(email="lucia@example.com")
    org = owner.organization
    widget = make_product(org, "Widget", price="100.00", tax_rate=Decimal("21"))
    with scope(organization=org):
        ana = contact_create(
            actor=owner, data={"first_name": "Ana", "last_name": "García", "emails": ["ana@cliente.example"]}
        )
        quote = quote_create(actor=owner, data={"contact": ana.pk, "lines": [{"product": widget.pk, "quantity": "2"}]})
    log_in(page, "lucia@example.com")

    page.goto(f"/o/{org.slug}/quotes/{quote.pk}/")
    page.get_by_role("link", name="Send by e-mail").click()
    expect(page.get_by_label("To", exact=True)).to_have_value("ana@cliente.example")
    page.get_by_label("To", exact=True).fill("not an address")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#quote-email-form .invalid-feedback").first).to_be_visible()
    assert mailoutbox == []

    page.get_by_label("To", exact=True).fill("ana@cliente.example")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text(f"Quote {quote.number} is on its way to ana@cliente.example.")).to_be_visible()
    assert [(m.to, [a[0] for a in m.attachments]) for m in mailoutbox] == [
        (["ana@cliente.example"], [f"quote-{quote.number}.pdf"])
    ]
    assert mailoutbox[0].attachments[0][1].startswith(b"%PDF-")
    with scope(organization=org):
        assert Quote.objects.get().status == "sent"
