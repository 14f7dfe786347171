"""A deal's products in a real browser, on a phone-sized screen: "Edit products" from the deal's
page, a product line and a row added with HTMX then removed, the server-computed net, and the deal's
amount after saving."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.core.testing.browser import pick_record
from vinculo.sales.models import Deal, DealLineItem
from vinculo.sales.testing import make_deal, make_pipeline, make_product

pytestmark = pytest.mark.django_db(transaction=True)


def test_edit_a_deals_products_from_a_phone(browser: object, live_server: object):
    owner = make_member(email="rep@example.com")
    org = owner.organization
    make_pipeline(org)
    make_product(org, "Widget", price="100.00", tax_rate=Decimal("21"))
    deal = make_deal(owner, title="Renewal", amount="500.00")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("E-mail").fill("rep@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()  # the home page

        page.goto(f"/o/{org.slug}/deals/{deal.pk}/")
        page.get_by_role("link", name="Edit products").click()
        pick_record(page, "Product", "widget", "Widget")
        page.get_by_label("Quantity").nth(0).fill("3")
        page.get_by_label("Discount %").nth(0).fill("10")
        page.get_by_role("button", name="Add line").click()
        expect(page.locator("[data-line-row]")).to_have_count(2)
        page.get_by_label("Description").nth(1).fill("Setup")
        page.get_by_label("Unit price").nth(1).fill("30")
        expect(page.locator('[data-total="net"]')).to_have_text("300.00 EUR")
        page.get_by_role("button", name="Remove this line").nth(1).click()
        expect(page.locator("[data-line-row]")).to_have_count(1)
        expect(page.locator('[data-total="net"]')).to_have_text("270.00 EUR")
        expect(page.locator('[data-total="total"]')).to_have_text("326.70 EUR")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Products saved.")).to_be_visible()
        expect(page.locator("#deal-amount")).to_have_text("270.00 EUR")
        expect(page.locator("#deal-line-items")).to_contain_text("Widget")
        assert Deal.dangerously_unscoped.get(pk=deal.pk).amount == Decimal("270.00")
        assert DealLineItem.dangerously_unscoped.filter(deal_id=deal.pk).count() == 1
    finally:
        context.close()
