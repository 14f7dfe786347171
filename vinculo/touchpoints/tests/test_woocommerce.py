"""WooCommerce's order.created body (sample from the REST API v3 order) becomes the exact generic
order, then one order in the e-commerce channel."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from vinculo.sales.models import Order
from vinculo.touchpoints.adapters import woocommerce
from vinculo.touchpoints.services.orders_in import clean_order
from vinculo.touchpoints.testing.webhooks import make_integration, payload, post

EXPECTED = {
    "external_id": "727",
    "number": "727",
    "created_at": "2026-11-28T16:28:02Z",
    "currency": "EUR",
    "status": "paid",
    "customer": {
        "email": "joao.silva@example.com",
        "first_name": "João",
        "last_name": "Silva",
        "phone": "+351 912 345 678",
        "company": "",
        "address": {
            "street": "Rua Augusta 100",
            "city": "Lisboa",
            "region": "",
            "postal_code": "1100-053",
            "country": "PT",
        },
    },
    "lines": [
        {
            "sku": "WOO-SINGLE-1",
            "name": "Woo Single #1",
            "quantity": 2,
            "unit_price": "3.00",
            "discount_percent": "0.00",
            "tax_rate": "7.50",
        },
        {
            "sku": "SYI-BLK-M",
            "name": "Ship Your Idea – Color: Black, Size: M",
            "quantity": 1,
            "unit_price": "12.00",
            "discount_percent": "10.00",
            "tax_rate": "7.50",
        },
        {
            "sku": "",
            "name": "Flat Rate",
            "quantity": 1,
            "unit_price": "10.00",
            "discount_percent": "0.00",
            "tax_rate": "0.00",
        },
    ],
    "totals": {"total": "28.06"},
}


def test_the_sample_maps_to_the_exact_generic_order():
    assert woocommerce.to_order(payload("woocommerce_order_created.json"), "order.created") == EXPECTED
    order = clean_order(EXPECTED)
    assert (order.external_id, order.total, order.phone) == ("727", Decimal("28.06"), "+351912345678")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", "placed"),
        ("on-hold", "placed"),
        ("failed", "placed"),
        ("processing", "paid"),
        ("completed", "fulfilled"),
        ("cancelled", "cancelled"),
        ("refunded", "refunded"),
        ("checkout-draft", "placed"),
    ],
)
def test_statuses(status, expected):
    assert (
        woocommerce.to_order({**payload("woocommerce_order_created.json"), "status": status}, "")["status"] == expected
    )


def test_a_line_price_that_is_not_whole_cents_falls_back_on_the_price():
    body = copy.deepcopy(payload("woocommerce_order_created.json"))
    body["line_items"][0].update(quantity=3, subtotal="10.00", total="10.00", price=3.33)
    assert woocommerce.to_order(body, "")["lines"][0]["unit_price"] == "3.33"


@pytest.mark.django_db
def test_a_woocommerce_delivery_places_the_order(actor, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "woocommerce")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(integration, payload("woocommerce_order_created.json"))
    assert response.status_code == 202
    order = Order.dangerously_unscoped.get(organization=actor.organization)
    assert (order.external_id, order.status, order.total, order.tax_total, order.discount_total) == (
        "woocommerce:727",
        "paid",
        Decimal("28.06"),
        Decimal("1.26"),
        Decimal("1.20"),
    )
    contact = order.contact
    assert contact is not None
    assert (contact.email, contact.first_name, contact.phone, str(contact.country), contact.company_id) == (
        "joao.silva@example.com",
        "João",
        "+351912345678",
        "PT",
        None,
    )
