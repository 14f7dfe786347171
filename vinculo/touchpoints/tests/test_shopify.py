"""Shopify's orders/create body becomes the exact generic order (lines with the shop's discount
and tax amounts, shipping and discount codes as adjustments), then one order in the e-commerce
channel. The platforms' other documented shapes: test_shop_payloads.py."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from vinculo.sales.models import Order, OrderLine
from vinculo.touchpoints.adapters import shopify
from vinculo.touchpoints.services.orders_in import clean_order
from vinculo.touchpoints.testing.webhooks import deliver, make_integration, payload, post

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
    "url": "https://tienda-sol.myshopify.com/admin/orders/820982911946154508",
    "taxes_included": False,
    "billing_address": {
        "name": "Ana García",
        "company": "Tienda Sol SL",
        "street": "Calle Mayor 1, 2º B",
        "city": "Madrid",
        "region": "Madrid",
        "postal_code": "28013",
        "country": "ES",
        "phone": "+34 612 34 56 78",
    },
    "lines": [
        {
            "external_id": "866550311766439020",
            "sku": "IPOD2008PINK",
            "name": "IPod Nano - 8GB - Pink",
            "quantity": 1,
            "unit_price": "199.00",
            "discount_amount": "19.90",
            "tax_amount": "10.75",
            "tax_rate": "6.00",
        },
        {
            "external_id": "141249953214522974",
            "sku": "STK-1",
            "name": "Sticker pack",
            "quantity": 4,
            "unit_price": "2.50",
            "discount_amount": "0.00",
            "tax_amount": "0.60",
            "tax_rate": "6.00",
        },
    ],
    "adjustments": [
        {
            "kind": "shipping",
            "description": "Standard shipping",
            "external_id": "271878346596884015",
            "amount": "5.00",
            "discount_amount": "0.00",
            "tax_amount": "0.00",
        },
        {"kind": "discount", "description": "", "code": "WELCOME10", "amount": "-19.90", "included_in_lines": True},
    ],
    "discount_codes": ["WELCOME10"],
    "refunds": [],
    "totals": {"total": "205.45"},
}


def test_the_sample_maps_to_the_exact_generic_order():
    generic = shopify.to_order(payload("shopify_orders_create.json"), "orders/create")
    generic.pop("shipping_address")
    assert generic == EXPECTED
    order = clean_order(EXPECTED)
    assert (order.external_id, order.total, len(order.lines)) == ("820982911946154508", "205.45", 2)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"financial_status": "pending"}, "placed"),
        ({"financial_status": "authorized"}, "placed"),
        ({"financial_status": "paid", "fulfillment_status": "fulfilled"}, "fulfilled"),
        ({"financial_status": "partially_refunded"}, "partially_refunded"),
        ({"financial_status": "refunded"}, "refunded"),
        ({"financial_status": "voided"}, "cancelled"),
        ({"cancelled_at": "2026-11-29T09:00:00-05:00", "financial_status": "refunded"}, "cancelled"),
    ],
)
def test_statuses(change, status):
    body = {**payload("shopify_orders_create.json"), **change}
    assert shopify.to_order(body, "orders/updated")["status"] == status


@pytest.mark.django_db
def test_prices_with_tax_included_keep_their_tax_inside(actor):
    """The lines' tax is shown but not added again: the order still totals the shop's figures."""
    body = {**payload("shopify_orders_create.json"), "taxes_included": True, "total_price": "194.10"}
    generic = shopify.to_order(body, "orders/create")
    assert generic["taxes_included"] is True
    deliver(make_integration(actor, "shopify"), body)
    order = Order.dangerously_unscoped.get()
    assert (order.taxes_included, order.tax_total, order.total, order.computed_total) == (
        True,
        Decimal("11.35"),
        Decimal("194.10"),
        Decimal("194.10"),
    )


def test_the_legacy_total_discount_is_used_without_allocations():
    body = copy.deepcopy(payload("shopify_orders_create.json"))
    body["line_items"][0]["discount_allocations"] = []
    body["line_items"][0]["total_discount"] = "39.80"
    assert shopify.to_order(body, "orders/create")["lines"][0]["discount_amount"] == "39.80"


def test_a_wrapped_body_is_read_as_the_order_inside():
    wrapped = {"order": payload("shopify_orders_create.json")}
    assert shopify.external_id(wrapped) == "820982911946154508"
    assert shopify.to_order(wrapped, "orders/create")["totals"] == {"total": "205.45"}


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
    ) == ["IPod Nano - 8GB - Pink", "Sticker pack"]
    assert order.contact is not None
    assert (order.contact.email, order.contact.source, order.contact.lifecycle_stage) == (
        "ana.garcia@example.com",
        "ecommerce",
        "customer",
    )
