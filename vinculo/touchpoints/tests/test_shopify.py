"""Shopify's orders/create body (sample from the Admin REST webhook) becomes the exact generic order,
then one order in the e-commerce channel."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from vinculo.sales.models import Order, OrderLine
from vinculo.touchpoints.adapters import shopify
from vinculo.touchpoints.services.orders_in import clean_order
from vinculo.touchpoints.testing.webhooks import make_integration, payload, post

EXPECTED = {
    "external_id": "820982911946154508",
    "number": "#1001",
    "created_at": "2026-11-28T12:30:45-05:00",
    "currency": "EUR",
    "status": "paid",
    "customer": {
        "email": "ana.garcia@example.com",
        "first_name": "Ana",
        "last_name": "García",
        "phone": "+34612345678",
        "company": "Tienda Sol SL",
        "address": {
            "street": "Calle Mayor 1, 2º B",
            "city": "Madrid",
            "region": "Madrid",
            "postal_code": "28013",
            "country": "ES",
        },
    },
    "lines": [
        {
            "sku": "IPOD2008PINK",
            "name": "IPod Nano - 8GB - Pink",
            "quantity": 1,
            "unit_price": "199.00",
            "discount_percent": "10.00",
            "tax_rate": "6.00",
        },
        {
            "sku": "STK-1",
            "name": "Sticker pack",
            "quantity": 4,
            "unit_price": "2.50",
            "discount_percent": "0.00",
            "tax_rate": "6.00",
        },
        {
            "sku": "",
            "name": "Standard shipping",
            "quantity": 1,
            "unit_price": "5.00",
            "discount_percent": "0.00",
            "tax_rate": "0.00",
        },
    ],
    "totals": {"total": "205.45"},
}


def test_the_sample_maps_to_the_exact_generic_order():
    assert shopify.to_order(payload("shopify_orders_create.json"), "orders/create") == EXPECTED
    order = clean_order(EXPECTED)
    assert (order.external_id, order.total, len(order.lines)) == ("820982911946154508", Decimal("205.45"), 3)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"financial_status": "pending"}, "placed"),
        ({"financial_status": "authorized"}, "placed"),
        ({"financial_status": "paid", "fulfillment_status": "fulfilled"}, "fulfilled"),
        ({"financial_status": "refunded"}, "refunded"),
        ({"financial_status": "voided"}, "cancelled"),
        ({"cancelled_at": "2026-11-29T09:00:00-05:00", "financial_status": "refunded"}, "cancelled"),
    ],
)
def test_statuses(change, status):
    body = {**payload("shopify_orders_create.json"), **change}
    assert shopify.to_order(body, "orders/updated")["status"] == status


def test_prices_with_tax_included_keep_the_price_and_no_rate():
    body = {**payload("shopify_orders_create.json"), "taxes_included": True}
    assert [line["tax_rate"] for line in shopify.to_order(body, "orders/create")["lines"]] == ["0.00"] * 3


def test_the_legacy_total_discount_is_used_without_allocations():
    body = copy.deepcopy(payload("shopify_orders_create.json"))
    body["line_items"][0]["discount_allocations"] = []
    body["line_items"][0]["total_discount"] = "39.80"
    assert shopify.to_order(body, "orders/create")["lines"][0]["discount_percent"] == "20.00"


def test_a_guest_checkout_takes_the_order_email_and_the_billing_name():
    body = copy.deepcopy(payload("shopify_orders_create.json"))
    body.pop("customer")
    customer = shopify.to_order(body, "orders/create")["customer"]
    assert (customer["email"], customer["first_name"], customer["last_name"], customer["phone"]) == (
        "ana.garcia@example.com",
        "Ana",
        "García",
        "+34 612 34 56 78",
    )


@pytest.mark.django_db
def test_a_shopify_delivery_places_the_order(actor, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "shopify")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(integration, payload("shopify_orders_create.json"))
    assert response.status_code == 202
    order = Order.dangerously_unscoped.get(organization=actor.organization)
    assert (order.external_id, order.status, order.total, order.tax_total, order.discount_total) == (
        "shopify:820982911946154508",
        "paid",
        Decimal("205.45"),
        Decimal("11.35"),
        Decimal("19.90"),
    )
    assert list(
        OrderLine.dangerously_unscoped.filter(order=order).order_by("position").values_list("description", flat=True)
    ) == ["IPod Nano - 8GB - Pink", "Sticker pack", "Standard shipping"]
    assert order.contact is not None
    assert (order.contact.email, order.contact.source, order.contact.lifecycle_stage) == (
        "ana.garcia@example.com",
        "ecommerce",
        "customer",
    )
