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
    "url": "",
    "billing_address": {
        "name": "João Silva",
        "company": "",
        "street": "Rua Augusta 100",
        "city": "Lisboa",
        "region": "",
        "postal_code": "1100-053",
        "country": "PT",
        "phone": "+351 912 345 678",
    },
    "lines": [
        {
            "external_id": "315",
            "sku": "WOO-SINGLE-1",
            "name": "Woo Single #1",
            "quantity": 2,
            "unit_price": "3.0000",
            "subtotal": "6.00",
            "discount_amount": "0.00",
            "tax_amount": "0.45",
            "tax_rate": "7.50",
        },
        {
            "external_id": "316",
            "sku": "SYI-BLK-M",
            "name": "Ship Your Idea – Color: Black, Size: M",
            "quantity": 1,
            "unit_price": "12.0000",
            "subtotal": "12.00",
            "discount_amount": "1.20",
            "tax_amount": "0.81",
            "tax_rate": "7.50",
        },
    ],
    "adjustments": [
        {"kind": "shipping", "description": "Flat Rate", "external_id": "317", "amount": "10.00", "tax_amount": "0.00"},
        {
            "kind": "discount",
            "description": "Coupon",
            "code": "bienvenido10",
            "external_id": "319",
            "amount": "-1.20",
            "included_in_lines": True,
        },
    ],
    "discount_codes": ["bienvenido10"],
    "refunds": [],
    "totals": {"total": "28.06"},
}


def test_the_sample_maps_to_the_exact_generic_order():
    generic = woocommerce.to_order(payload("woocommerce_order_created.json"), "order.created")
    generic.pop("shipping_address")
    assert generic == EXPECTED
    order = clean_order(EXPECTED)
    assert (order.external_id, order.total, order.phone) == ("727", "28.06", "+351912345678")


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


def test_an_unrounded_float_price_becomes_four_decimals_and_the_line_keeps_its_subtotal():
    """WooCommerce's `price` of 3 for 10.00 is the float 3.3333333333333335."""
    body = copy.deepcopy(payload("woocommerce_order_created.json"))
    body["line_items"][0].update(quantity=3, subtotal="10.00", total="10.00", price=3.3333333333333335)
    line = woocommerce.to_order(body, "")["lines"][0]
    assert (line["unit_price"], line["subtotal"]) == ("3.3333", "10.00")


def test_a_deleted_order_is_its_id_only():
    assert woocommerce.to_order({"id": 727}, "order.deleted") == {"type": "order_deleted", "external_id": "727"}


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
