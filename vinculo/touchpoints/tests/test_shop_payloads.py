"""Orders and refunds exactly as Shopify and WooCommerce send them, through the signed webhook to
the stored order: each sample (tests/payloads, in the platforms' documented shapes: the figures of
Shopify's current `orders/create` sample, of the Admin API library's order fixture, of
WooCommerce's REST order with coupon, fee and shipping lines and refunds) becomes an order whose
total is the shop's, with the shop's line amounts and adjustments, and each refund a refund."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from vinculo.contacts.models import Contact
from vinculo.core.models import Event
from vinculo.sales.models import Order, OrderAdjustment, OrderLine, Refund, RefundLine
from vinculo.touchpoints.models import WebhookDelivery
from vinculo.touchpoints.testing.webhooks import deliver, make_integration, payload, shopify_order_with_lines

pytestmark = pytest.mark.django_db

D = Decimal


def _order(actor) -> Order:
    return Order.dangerously_unscoped.get(organization=actor.organization)


def _lines(order: Order) -> list[tuple]:
    return list(
        OrderLine.dangerously_unscoped.filter(order=order)
        .order_by("position")
        .values_list(
            "sku", "description", "quantity", "unit_price", "subtotal", "discount_amount", "tax_amount", "total"
        )
    )


def _adjustments(order: Order) -> list[tuple]:
    return list(
        OrderAdjustment.dangerously_unscoped.filter(order=order)
        .order_by("position")
        .values_list(
            "kind", "description", "code", "amount", "discount_amount", "tax_amount", "total", "included_in_lines"
        )
    )


def _refunds(order: Order) -> list[tuple]:
    return list(
        Refund.dangerously_unscoped.filter(order=order)
        .order_by("refunded_at", "id")
        .values_list("external_id", "amount", "shipping_amount", "reason", "refunded_at")
    )


def _delivery_statuses(actor) -> list[str]:
    return list(
        WebhookDelivery.dangerously_unscoped.filter(organization=actor.organization)
        .order_by("id")
        .values_list("status", flat=True)
    )


# --- Shopify --------------------------------------------------------------------------------------


def test_shopifys_orders_create_with_a_discount_on_the_whole_order_is_stored_with_the_shops_total(actor):
    """The documented sample's figures: five lines of 414.95, shipping 10.00 and 20.00 off the whole
    order (in total_discounts, allocated to no line) make 404.95 (refused before: "The lines add up
    to 424.95, not 404.95")."""
    integration = make_integration(actor, "shopify")
    response = deliver(integration, "shopify_orders_create_order_discount.json", topic="orders/create")
    assert response.status_code == 202, response.content
    order = _order(actor)
    assert (order.external_id, order.external_number, order.status, order.currency) == (
        "shopify:6100200300400",
        "#2041",
        "paid",
        "USD",
    )
    assert (order.subtotal, order.discount_total, order.tax_total, order.total, order.computed_total) == (
        D("414.95"),
        D("20.00"),
        D("0.00"),
        D("404.95"),
        D("404.95"),
    )
    assert order.external_url == "https://lumen-opticas.myshopify.com/admin/orders/6100200300400"
    assert _lines(order) == [
        ("LUM-AV-01", "Aviator sunglasses", D("1.000"), D("89.9900"), D("89.99"), D("0.00"), D("0.00"), D("89.99")),
        (
            "LUM-LPP-2Y",
            "Lens Protection Plan (2 Year)",
            D("1.000"),
            D("19.9900"),
            D("19.99"),
            D("0"),
            D("0"),
            D("19.99"),
        ),
        ("LUM-CASE-P", "Premium Leather Case", D("1.000"), D("24.9900"), D("24.99"), D("0"), D("0"), D("24.99")),
        ("LUM-LNG-20", "Mid-century lounger", D("1.000"), D("159.9900"), D("159.99"), D("0"), D("0"), D("159.99")),
        ("LUM-TBL-35", "Coffee table", D("1.000"), D("119.9900"), D("119.99"), D("0"), D("0"), D("119.99")),
    ]
    assert _adjustments(order) == [
        ("shipping", "Standard Shipping", "", D("10.00"), D("0.00"), D("0.00"), D("10.00"), False),
        ("discount", "Discount on the order", "", D("-20.00"), D("0.00"), D("0.00"), D("-20.00"), False),
    ]
    assert order.billing_address == {
        "name": "Lucía Pereira",
        "company": "Lumen Ópticas SL",
        "street": "Rúa do Vilar 12, 3º izq.",
        "city": "Santiago de Compostela",
        "region": "A Coruña",
        "postal_code": "15705",
        "country": "ES",
        "phone": "+34 981 000 111",
    }
    assert order.shipping_address == {
        "name": "Lucía Pereira",
        "street": "Praza do Obradoiro 1",
        "city": "Santiago de Compostela",
        "region": "A Coruña",
        "postal_code": "15704",
        "country": "ES",
        "phone": "+34 981 000 111",
    }
    assert (order.customer_email, order.presentment_currency, order.presentment_total) == (
        "lucia.pereira@example.com",
        "USD",
        D("404.95"),
    )
    assert order.placed_at == dt.datetime(2026, 3, 14, 14, 5, tzinfo=dt.UTC)
    assert order.contact.email == "lucia.pereira@example.com"


def test_the_admin_api_librarys_order_fixture_is_stored_with_the_shops_total_and_a_warning(actor):
    """The library's fixture shape: wrapped in {"order": …}, three lines of 199.00 under a
    line-items price of 398.00, tax at the order level only. Its figures do not add up: the order
    is stored with the shop's total (409.94) and says so, on the API and on its page."""
    integration = make_integration(actor, "shopify")
    assert deliver(integration, "shopify_order_api_envelope.json", topic="orders/create").status_code == 202
    order = _order(actor)
    assert (order.external_id, order.status, order.total, order.computed_total, order.discount_codes) == (
        "shopify:450700001",
        "placed",
        D("409.94"),
        D("608.94"),
        ["TENOFF"],
    )
    assert _adjustments(order) == [
        ("shipping", "Free Shipping", "", D("0.00"), D("0.00"), D("0.00"), D("0.00"), False),
        ("tax", "State Tax", "", D("11.94"), D("0.00"), D("0.00"), D("11.94"), False),
    ]
    assert order.tax_total == D("11.94")
    assert order.external_url == ""  # the fixture has no status page address to name the shop by


def test_a_multi_currency_order_keeps_the_shop_money_and_the_customers(actor):
    """orders/paid: shop money EUR, presentment USD; a code spread over the lines, free shipping by
    code, a tax per line, a duty, an additional fee and a tip."""
    integration = make_integration(actor, "shopify")
    assert deliver(integration, "shopify_orders_paid_multicurrency.json", topic="orders/paid").status_code == 202
    order = _order(actor)
    assert (order.currency, order.presentment_currency, order.presentment_total, order.status) == (
        "EUR",
        "USD",
        D("243.09"),
        "paid",
    )
    assert (order.subtotal, order.discount_total, order.tax_total, order.total, order.computed_total) == (
        D("197.50"),
        D("29.65"),
        D("37.33"),
        D("225.08"),
        D("225.08"),
    )
    assert _lines(order) == [
        ("LUM-MJ-01", "Merino jumper", D("2.000"), D("80.0000"), D("160.00"), D("16.00"), D("30.24"), D("174.24")),
        ("LUM-WS-03", "Wool socks", D("3.000"), D("12.5000"), D("37.50"), D("3.75"), D("7.09"), D("40.84")),
    ]
    assert list(
        OrderLine.dangerously_unscoped.filter(order=order)
        .order_by("position")
        .values_list("presentment_total", flat=True)
    ) == [D("188.18"), D("44.11")]
    assert _adjustments(order) == [
        ("shipping", "Standard", "", D("9.90"), D("9.90"), D("0.00"), D("0.00"), False),
        ("discount", "", "SPRING10", D("-19.75"), D("0.00"), D("0.00"), D("-19.75"), True),
        ("discount", "", "FREESHIP", D("-9.90"), D("0.00"), D("0.00"), D("-9.90"), True),
        ("duty", "Duties", "", D("5.00"), D("0.00"), D("0.00"), D("5.00"), False),
        ("fee", "Additional fees", "", D("2.00"), D("0.00"), D("0.00"), D("2.00"), False),
        ("tip", "Tip", "", D("3.00"), D("0.00"), D("0.00"), D("3.00"), False),
    ]
    assert order.discount_codes == ["SPRING10", "FREESHIP"]


def test_refunds_create_records_a_partial_refund_of_two_lines(actor):
    """refunds/create: two lines refunded, 75.00 given back (the successful refund transactions)."""
    integration = make_integration(actor, "shopify")
    deliver(integration, "shopify_orders_create_order_discount.json", topic="orders/create")
    response = deliver(integration, "shopify_refunds_create.json", topic="refunds/create")
    assert response.status_code == 202, response.content
    order = _order(actor)
    assert _refunds(order) == [
        ("7700200", D("75.00"), D("0.00"), "Devuelto: no le quedaban bien", dt.datetime(2026, 3, 22, 16, tzinfo=dt.UTC))
    ]
    refund = Refund.dangerously_unscoped.get(order=order)
    lines = {line.sku: line for line in OrderLine.dangerously_unscoped.filter(order=order)}
    assert list(
        RefundLine.dangerously_unscoped.filter(refund=refund)
        .order_by("position")
        .values_list("order_line_id", "description", "quantity", "amount", "tax_amount")
    ) == [
        (lines["LUM-AV-01"].pk, "Aviator sunglasses", D("1.000"), D("89.99"), D("0.00")),
        (lines["LUM-LPP-2Y"].pk, "Lens Protection Plan (2 Year)", D("1.000"), D("19.99"), D("0.00")),
    ]
    assert (order.status, order.refunded_total, order.net_total) == ("partially_refunded", D("75.00"), D("329.95"))
    event = Event.dangerously_unscoped.get(type="order.refunded")
    assert (event.contact_id, event.occurred_at) == (order.contact_id, dt.datetime(2026, 3, 22, 16, tzinfo=dt.UTC))
    assert event.properties == {
        "order_id": order.pk,
        "number": order.number,
        "refund_id": refund.pk,
        "amount": "75.00",
        "currency": "USD",
        "refunded_total": "75.00",
        "total": "404.95",
        "full": False,
        "reason": "Devuelto: no le quedaban bien",
        "lines": 2,
        "via": "platform_webhook:Shopify:shopify test",
    }
    # the same refund again (a retried delivery) is stored once
    deliver(integration, "shopify_refunds_create.json", topic="refunds/create")
    assert Refund.dangerously_unscoped.count() == 1
    assert _delivery_statuses(actor) == ["processed", "processed", "duplicate"]


def test_a_refund_in_shop_money_when_the_customer_paid_in_another_currency(actor):
    integration = make_integration(actor, "shopify")
    deliver(integration, "shopify_orders_paid_multicurrency.json", topic="orders/paid")
    deliver(integration, "shopify_refunds_create_multicurrency.json", topic="refunds/create")
    order = _order(actor)
    assert _refunds(order) == [
        ("7700300", D("13.61"), D("0.00"), "One pair of socks returned", dt.datetime(2026, 4, 10, 8, tzinfo=dt.UTC))
    ]
    assert list(RefundLine.dangerously_unscoped.values_list("quantity", "amount", "tax_amount")) == [
        (D("1.000"), D("11.25"), D("2.36"))
    ]


def test_orders_updated_brings_the_refunds_it_lists_and_a_shipping_refund(actor):
    integration = make_integration(actor, "shopify")
    deliver(integration, "shopify_orders_create_order_discount.json", topic="orders/create")
    deliver(integration, "shopify_orders_updated_shipping_refund.json", topic="orders/updated")
    deliver(integration, "shopify_orders_updated_shipping_refund.json", topic="orders/updated")
    order = _order(actor)
    assert _refunds(order) == [
        ("7700100", D("10.00"), D("10.00"), "Llegó tarde", dt.datetime(2026, 3, 20, 12, 59, tzinfo=dt.UTC))
    ]
    assert (order.status, order.refunded_total, order.total) == ("partially_refunded", D("10.00"), D("404.95"))
    assert _delivery_statuses(actor) == ["processed", "processed", "duplicate"]


@pytest.mark.parametrize(
    ("topic", "status"),
    [("orders/paid", "paid"), ("orders/fulfilled", "fulfilled"), ("orders/cancelled", "cancelled")],
)
def test_the_status_topics_move_the_order(actor, topic, status):
    integration = make_integration(actor, "shopify")
    body = payload("shopify_orders_create_order_discount.json")
    deliver(integration, {**body, "financial_status": "pending"}, topic="orders/create")
    assert _order(actor).status == "placed"
    deliver(integration, body, topic=topic)
    assert _order(actor).status == status


def test_a_refund_of_an_order_not_received_yet_fails_with_the_reason_and_is_retried_later(actor):
    integration = make_integration(actor, "shopify")
    response = deliver(integration, "shopify_refunds_create.json", topic="refunds/create")
    assert response.status_code == 202
    delivery = WebhookDelivery.dangerously_unscoped.get()
    assert (delivery.status, delivery.last_error) == (
        "failed",
        "order_external_id: No order 6100200300400 has been received from this shop yet; retry this delivery after it.",
    )
    assert not Refund.dangerously_unscoped.exists()


@pytest.mark.parametrize("count", [250, 1000])
def test_an_order_of_hundreds_of_lines_goes_through(actor, count):
    """250 lines (about 260 KB) and 1,000 lines (about 1 MB): refused before ("At most 200 lines")."""
    integration = make_integration(actor, "shopify")
    body = shopify_order_with_lines(count)
    size = len(json.dumps(body).encode())
    assert size > (250_000 if count == 250 else 950_000)
    response = deliver(integration, body, topic="orders/create")
    assert response.status_code == 202, response.content
    order = _order(actor)
    assert OrderLine.dangerously_unscoped.filter(order=order).count() == count
    assert (order.total, order.computed_total) == (D(body["total_price"]), D(body["total_price"]))


# --- WooCommerce ----------------------------------------------------------------------------------


def test_a_woocommerce_order_with_a_coupon_a_fee_shipping_and_a_refund(actor):
    """Names with HTML entities decoded; a line whose WooCommerce `price` is the unrounded float
    3.3333333333333335 (3 for 10.00; refused before: "At most two decimal places")."""
    integration = make_integration(actor, "woocommerce")
    response = deliver(integration, "woocommerce_order_coupon_fee_refund.json", topic="order.created")
    assert response.status_code == 202, response.content
    order = _order(actor)
    assert (order.external_id, order.external_number, order.currency, order.total, order.computed_total) == (
        "woocommerce:5120",
        "5120",
        "EUR",
        D("46.05"),
        D("46.05"),
    )
    assert _lines(order) == [
        ("CT-PACK", "Café & Té – Pack degustación", D("3.000"), D("3.3333"), D("10.00"), D("0"), D("2.10"), D("12.10")),
        ("TAZA-SOL", "Taza de cerámica “Sol”", D("2.000"), D("12.0000"), D("24.00"), D("2.40"), D("4.54"), D("26.14")),
    ]
    assert _adjustments(order) == [
        ("shipping", "Envío estándar", "", D("4.95"), D("0.00"), D("1.04"), D("5.99"), False),
        ("fee", "Envoltorio de regalo", "", D("1.50"), D("0.00"), D("0.32"), D("1.82"), False),
        ("discount", "Coupon", "bienvenida", D("-2.40"), D("0.00"), D("0.00"), D("-2.40"), True),
    ]
    assert (order.subtotal, order.discount_total, order.tax_total) == (D("34.00"), D("2.40"), D("8.00"))
    assert order.discount_codes == ["bienvenida"]
    assert order.external_url == "https://tienda-sol.example/wp-admin/post.php?post=5120&action=edit"
    assert order.billing_address == {
        "name": "Nuria Solís",
        "company": "Cafés Solís S.L.",
        "street": "Carrer de Mallorca 200, 2n 1a",
        "city": "Barcelona",
        "region": "B",
        "postal_code": "08036",
        "country": "ES",
        "phone": "+34 930 000 222",
    }
    assert order.shipping_address["street"] == "Plaça Reial 3"
    assert _refunds(order) == [
        ("5131", D("13.07"), D("0.00"), "Taza rota en el envío", dt.datetime(2026, 2, 12, 8, tzinfo=dt.UTC))
    ]
    assert (order.status, order.refunded_total) == ("partially_refunded", D("13.07"))
    contact = Contact.dangerously_unscoped.get(pk=order.contact_id)
    assert (contact.first_name, contact.last_name) == ("Nuria", "Solís")


def test_a_completed_woocommerce_order_with_two_refunds_in_its_body(actor):
    integration = make_integration(actor, "woocommerce")
    deliver(integration, "woocommerce_order_refunded.json", topic="order.updated")
    order = _order(actor)
    assert (order.total, order.computed_total, order.refunded_total, order.status) == (
        D("39.00"),
        D("39.00"),
        D("19.00"),
        "partially_refunded",
    )
    assert [line[1] for line in _lines(order)] == ["Álbum nº 2", "Camiseta «Ninja»"]
    assert [(r[0], r[1]) for r in _refunds(order)] == [("5146", D("10.00")), ("5144", D("9.00"))]


def test_a_woocommerce_order_deleted_then_restored(actor):
    integration = make_integration(actor, "woocommerce")
    deliver(integration, "woocommerce_order_refunded.json", topic="order.created")
    deliver(integration, {"id": 5140}, topic="order.deleted")
    assert _order(actor).deleted_at_source is not None
    deliver(integration, "woocommerce_order_refunded.json", topic="order.restored")
    assert _order(actor).deleted_at_source is None
    assert Order.dangerously_unscoped.count() == 1


def test_a_webhook_body_over_the_general_limit_of_one_megabyte_is_taken(actor):
    """A 1,000-line order with a long note, 1.6 MB: under the webhooks' own 4 MB limit."""
    integration = make_integration(actor, "shopify")
    body = {**shopify_order_with_lines(1000), "note": "x" * 600_000}
    assert len(json.dumps(body).encode()) > 1_500_000
    assert deliver(integration, body, topic="orders/create").status_code == 202
    assert OrderLine.dangerously_unscoped.count() == 1000


# --- the generic format, as docs/webhooks.md shows it ----------------------------------------------


def _documented_order() -> dict:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "webhooks.md").read_text()
    start = text.index("## The generic order format")
    block = text[text.index("```json", start) + len("```json") : text.index("```", text.index("```json", start) + 7)]
    return json.loads(block)


def test_the_documented_generic_order_is_stored_with_its_total_adjustments_and_refund(actor):
    integration = make_integration(actor, "orders")
    response = deliver(integration, _documented_order())
    assert response.status_code == 202, response.content
    order = _order(actor)
    assert (order.external_id, order.external_number, order.total, order.computed_total, order.refunded_total) == (
        "orders:A-1001",
        "#1001",
        D("119.67"),
        D("119.67"),
        D("10.00"),
    )
    assert (order.presentment_currency, order.presentment_total, order.status) == (
        "USD",
        D("130.44"),
        "partially_refunded",
    )
    assert _lines(order) == [
        ("LAMP-01", "Desk lamp", D("2.000"), D("49.9000"), D("99.80"), D("9.98"), D("18.86"), D("108.68")),
        ("", "CD", D("3.000"), D("3.3333"), D("10.00"), D("0.00"), D("0.00"), D("10.00")),
    ]
    refund_line = RefundLine.dangerously_unscoped.get()
    assert (refund_line.order_line.description, refund_line.amount) == ("CD", D("3.33"))


def test_a_generic_refund_message_and_a_deletion(actor):
    integration = make_integration(actor, "orders")
    deliver(integration, {**_documented_order(), "refunds": []})
    refund = {
        "type": "refund",
        "order_external_id": "A-1001",
        "external_id": "R-2",
        "reason": "Late",
        "shipping_amount": "5.99",
    }
    assert deliver(integration, refund).status_code == 202
    order = _order(actor)
    assert (order.refunded_total, order.status) == (D("5.99"), "partially_refunded")
    deliver(integration, {"type": "order_deleted", "external_id": "A-1001"})
    assert _order(actor).deleted_at_source is not None


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"type": "gift"}, [{"field": "type", "message": "Choose one of order, refund, order_deleted."}]),
        (
            {"type": "refund", "order_external_id": "A-1", "amount": "-1"},
            [
                {"field": "amount", "message": "Cannot be negative."},
                {"field": "external_id", "message": "This field is required."},
            ],
        ),
        ({"type": "order_deleted"}, [{"field": "external_id", "message": "This field is required."}]),
    ],
)
def test_bad_generic_messages_are_422_and_stored_as_failed(actor, body, errors):
    integration = make_integration(actor, "orders")
    response = deliver(integration, body)
    assert response.status_code == 422
    assert response.json()["errors"] == errors
    assert _delivery_statuses(actor) == ["failed"]
    assert not Order.dangerously_unscoped.exists()
