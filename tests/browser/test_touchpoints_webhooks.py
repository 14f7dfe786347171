"""Webhooks in a real browser: an owner connects a Shopify shop (the address and the secret shown),
the shop posts a signed order, the delivery appears processed with its order, the customer's
timeline shows "Order placed"; the integration page fits a phone-sized screen."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.touchpoints.adapters import base64_signature
from vinculo.touchpoints.testing.webhooks import SECRET, raw

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()  # the home page


def test_a_shopify_order_flows_into_the_crm(browser_page: Page, live_server):
    page = browser_page
    owner = make_member(email="duena@example.com")
    org = owner.organization
    log_in(page, "duena@example.com")

    page.goto(f"/o/{org.slug}/settings/integrations/")
    page.get_by_role("link", name="New integration").click()
    page.get_by_label("Kind").select_option(label="Shopify orders")
    page.get_by_label("Name").fill("Tienda Sol")
    page.get_by_label("Signing secret").fill(SECRET)
    page.get_by_role("button", name="Create integration").click()
    expect(page.get_by_role("heading", name="Tienda Sol")).to_be_visible()
    expect(page.locator("#new-secret")).to_contain_text(SECRET)
    address = page.locator("#webhook-url").inner_text()
    assert address.startswith(f"{live_server.url}/hooks/")

    body = raw("shopify_orders_create.json")
    request = urllib.request.Request(
        address,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": base64_signature(SECRET, body),
        },
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 202
        assert json.loads(response.read())["detail"] == "Accepted."

    page.reload()  # the secret is shown once
    expect(page.locator("#new-secret")).to_have_count(0)
    row = page.locator("#deliveries tbody tr").first
    expect(row).to_contain_text("orders/create")
    expect(row).to_contain_text("Processed")
    row.get_by_role("link").click()
    expect(page.get_by_text("205.45 EUR")).to_be_visible()
    page.get_by_role("link", name="Ana García").click()
    expect(page.get_by_text("Order placed").first).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/o/{org.slug}/settings/integrations/")
    page.get_by_role("link", name="Tienda Sol").click()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
