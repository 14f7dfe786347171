"""Orders through the API with a shop's figures: unit prices with four decimals (text or JSON
numbers) and line amounts rounded once in the currency's minor unit, adjustments, a given total
that does not add up (kept, with a warning), 1,000 lines; resending an external id with other
values (409 naming the fields); refunds (partial, full, idempotent, refused beyond the total);
bad input and another organisation's order."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django_scopes import scope

from vinculo.contacts.services import contact_create
from vinculo.contacts.testing import make_contact
from vinculo.core.models import AuditEntry, Event
from vinculo.sales.models import DocumentCounter, Order, OrderAdjustment, OrderLine, Refund, RefundLine
from vinculo.sales.services.documents import order_create, order_set_status

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def contact(actor):
    return make_contact(actor, first_name="Ana", last_name="García")


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _order(api_client, contact, **extra):
    body = {
        "contact": contact.pk,
        "external_id": "shop-1",
        "lines": [
            {"description": "Lamp", "quantity": "2", "unit_price": "49.90", "external_id": 501},
            {"description": "Bulb", "quantity": "3", "unit_price": "4.00", "external_id": "502"},
        ],
        "adjustments": [{"kind": "shipping", "description": "Courier", "amount": "5.00", "tax_amount": "1.05"}],
        **extra,
    }
    response = post(api_client, "/api/v1/orders", body)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize("price", ["13.3333", 13.3333])
def test_a_unit_price_with_four_decimals_as_text_or_number(api_client, contact, price):
    """3 CDs for 40.00: 13.3333 each; the line's 39.9999 is rounded once, to 40.00."""
    response = post(
        api_client,
        "/api/v1/orders",
        {"contact": contact.pk, "lines": [{"description": "CD", "quantity": 3, "unit_price": price}]},
    )
    assert response.status_code == 201, response.content
    line = response.json()["lines"][0]
    assert (line["unit_price"], line["subtotal"], line["total"]) == ("13.3333", "40.00", "40.00")
    assert response.json()["total"] == "40.00"


def test_amounts_are_rounded_in_the_currencys_minor_unit(api_client, contact):
    """JPY has no decimals: 3 × 33.3333 JPY is 100 JPY."""
    body = {
        "contact": contact.pk,
        "currency": "JPY",
        "lines": [{"description": "Tea", "quantity": 3, "unit_price": "33.3333"}],
    }
    data = post(api_client, "/api/v1/orders", body).json()
    assert (data["lines"][0]["total"], data["total"]) == ("100.00", "100.00")


def test_lines_and_adjustments_add_up_to_the_total(api_client, contact):
    data = _order(api_client, contact)
    # 99.80 + 12.00 + shipping 5.00 + its tax 1.05
    assert (data["subtotal"], data["tax_total"], data["total"], data["computed_total"], data["warnings"]) == (
        "111.80",
        "1.05",
        "117.85",
        "117.85",
        [],
    )
    assert [(a["kind"], a["description"], a["total"], a["included_in_lines"]) for a in data["adjustments"]] == [
        ("shipping", "Courier", "6.05", False)
    ]
    assert [line["external_id"] for line in data["lines"]] == ["501", "502"]


def test_a_total_that_does_not_add_up_is_kept_with_a_warning(api_client, contact):
    data = _order(api_client, contact, total="120.00")
    assert (data["total"], data["computed_total"]) == ("120.00", "117.85")
    assert data["warnings"] == [
        "The shop's figures do not add up: its total is 120.00 EUR, but the lines and adjustments add up to "
        "117.85 EUR. The shop's total is kept."
    ]


def test_an_order_of_a_thousand_lines_and_no_more(api_client, contact):
    lines = [{"description": f"Item {n}", "unit_price": "1.00"} for n in range(1000)]
    response = post(api_client, "/api/v1/orders", {"contact": contact.pk, "lines": lines})
    assert response.status_code == 201
    assert (response.json()["total"], OrderLine.dangerously_unscoped.count()) == ("1000.00", 1000)
    response = post(api_client, "/api/v1/orders", {"contact": contact.pk, "lines": [*lines, lines[0]]})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "lines", "message": "At most 1000 items."}]


def test_resending_an_order_with_other_values_is_a_409_naming_them_and_changes_nothing(api_client, contact):
    first = _order(api_client, contact)
    same = post(
        api_client,
        "/api/v1/orders",
        {
            "contact": contact.pk,
            "external_id": "shop-1",
            "lines": [
                {"description": "Lamp", "quantity": 2, "unit_price": 49.9, "external_id": "501"},
                {"description": "Bulb", "quantity": "3.000", "unit_price": "4", "external_id": 502},
            ],
            "adjustments": [{"kind": "shipping", "description": "Courier", "amount": "5", "tax_amount": "1.05"}],
        },
    )
    assert same.status_code == 200, same.content
    assert same.json()["id"] == first["id"]
    changed = post(
        api_client,
        "/api/v1/orders",
        {
            "contact": contact.pk,
            "external_id": "shop-1",
            "notes": "corrected",
            "lines": [{"description": "Lamp", "quantity": "1", "unit_price": "49.90"}],
        },
    )
    assert changed.status_code == 409
    assert changed.json() == {
        "detail": "An order with this external id was placed with other values: notes, lines. It was not changed.",
        "errors": [
            {"field": "notes", "message": "Differs from the order placed with this external id."},
            {"field": "lines", "message": "Differs from the order placed with this external id."},
        ],
        "order_id": first["id"],
    }
    assert (Order.dangerously_unscoped.count(), OrderLine.dangerously_unscoped.count()) == (1, 2)
    assert DocumentCounter.dangerously_unscoped.get(kind="order").value == 1
    assert Order.dangerously_unscoped.get().notes == ""


@pytest.mark.parametrize(
    ("extra", "errors"),
    [
        (
            {"adjustments": [{"kind": "gift", "amount": "1.00"}]},
            [
                {
                    "field": "adjustments.0.kind",
                    "message": "Choose one of 'discount', 'shipping', 'fee', 'duty', 'tip', 'tax' or 'other'.",
                }
            ],
        ),
        (
            {"adjustments": [{"kind": "discount", "amount": "5.00"}]},
            [
                {
                    "field": "adjustments.0.amount",
                    "message": "A discount takes off the total: give it as a negative amount.",
                }
            ],
        ),
        (
            {"adjustments": [{"kind": "shipping", "amount": "-5.00"}]},
            [{"field": "adjustments.0.amount", "message": "Cannot be negative."}],
        ),
        (
            {"adjustments": [{"kind": "tip", "amount": "1.005"}]},
            [{"field": "adjustments.0.amount", "message": "At most two decimal places."}],
        ),
        (
            {"billing_address": {"street": "Calle Mayor 1", "country": "XX"}},
            [{"field": "billing_address.country", "message": "Enter an ISO 3166 country code, e.g. ES."}],
        ),
        (
            {"external_url": "javascript:alert(1)"},
            [{"field": "external_url", "message": "Enter a web address starting with https://."}],
        ),
        ({"total": "12.345"}, [{"field": "total", "message": "At most two decimal places."}]),
        (
            {"lines": [{"description": "x", "unit_price": "5", "discount_amount": "6.00"}]},
            [{"field": "lines.0.discount_amount", "message": "The discount is larger than the line (5.00)."}],
        ),
        (
            {"lines": [{"description": "x", "quantity": 3, "unit_price": "3.3333", "subtotal": "12.00"}]},
            [{"field": "lines.0.subtotal", "message": "Does not match the quantity × the unit price (10.00)."}],
        ),
        (
            {"presentment_currency": "XYZ"},
            [{"field": "presentment_currency", "message": "Enter an ISO 4217 currency code, e.g. EUR."}],
        ),
    ],
)
def test_bad_order_figures_are_refused_and_nothing_is_saved(api_client, contact, extra, errors):
    body = {"contact": contact.pk, "lines": [{"description": "x", "unit_price": "5"}], **extra}
    response = post(api_client, "/api/v1/orders", body)
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == errors
    assert Order.dangerously_unscoped.count() == OrderAdjustment.dangerously_unscoped.count() == 0
    assert not DocumentCounter.dangerously_unscoped.exists()


# --- refunds --------------------------------------------------------------------------------------


def test_a_partial_refund_of_a_line_then_the_rest(api_client, contact):
    order = _order(api_client, contact)
    lamp = order["lines"][0]["id"]
    response = post(
        api_client,
        f"/api/v1/orders/{order['id']}/refunds",
        {
            "external_id": "r-1",
            "reason": "Broken",
            "refunded_at": "2026-11-02T10:00:00+01:00",
            "lines": [{"order_line": lamp, "quantity": 1, "amount": "49.90"}],
        },
    )
    assert response.status_code == 201, response.content
    refund = response.json()
    assert (refund["amount"], refund["currency"], refund["reason"], refund["refunded_at"]) == (
        "49.90",
        "EUR",
        "Broken",
        "2026-11-02T09:00:00Z",
    )
    assert refund["lines"] == [
        {"order_line_id": lamp, "description": "Lamp", "quantity": "1.000", "amount": "49.90", "tax_amount": "0.00"}
    ]
    data = api_client.get(f"/api/v1/orders/{order['id']}").json()
    assert (data["status"], data["refunded_total"], data["net_total"]) == ("partially_refunded", "49.90", "67.95")
    again = post(api_client, f"/api/v1/orders/{order['id']}/refunds", {"external_id": "r-1", "amount": "1.00"})
    assert (again.status_code, again.json()["id"]) == (200, refund["id"])
    rest = post(api_client, f"/api/v1/orders/{order['id']}/refunds", {"amount": "67.95", "shipping_amount": "6.05"})
    assert rest.status_code == 201
    data = api_client.get(f"/api/v1/orders/{order['id']}").json()
    assert (data["status"], data["refunded_total"], data["net_total"]) == ("refunded", "117.85", "0.00")
    assert [
        e["properties"]["amount"]
        for e in Event.dangerously_unscoped.filter(type="order.refunded").order_by("id").values("properties")
    ] == [
        "49.90",
        "67.95",
    ]
    assert AuditEntry.dangerously_unscoped.filter(object_type="sales.refund", action="create").count() == 2


def test_marking_an_order_refunded_records_a_refund_of_what_is_left(actor, api_client, contact):
    order = _order(api_client, contact)
    post(api_client, f"/api/v1/orders/{order['id']}/refunds", {"amount": "10.00"})
    response = post(api_client, f"/api/v1/orders/{order['id']}/status", {"status": "refunded"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["refunded_total"]) == ("refunded", "117.85")
    assert list(Refund.dangerously_unscoped.order_by("id").values_list("amount", "reason")) == [
        (D("10.00"), ""),
        (D("107.85"), "Marked as refunded."),
    ]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, [{"field": "amount", "message": "Give the amount refunded, or the lines and shipping it was for."}]),
        ({"amount": "-1"}, [{"field": "amount", "message": "Cannot be negative."}]),
        (
            {"amount": "117.86"},
            [{"field": "amount", "message": "At most 117.85 EUR can still be refunded on this order."}],
        ),
        (
            {"amount": "1", "refunded_at": "2150-01-01T00:00:00Z"},
            [{"field": "refunded_at", "message": "A refund cannot be in the future."}],
        ),
        (
            {"amount": "1", "refunded_at": "1890-01-01T00:00:00Z"},
            [{"field": "refunded_at", "message": "Enter a date between 1900 and 2200."}],
        ),
        (
            {"amount": "1", "refunded_at": "yesterday"},
            [
                {
                    "field": "refunded_at",
                    "message": "Enter a date and time with its time zone, e.g. 2026-11-29T10:30:00+01:00.",
                }
            ],
        ),
        (
            {"lines": [{"order_line": 999999, "amount": "1"}]},
            [{"field": "lines.0.order_line", "message": "This order has no such line."}],
        ),
        (
            {"lines": [{"order_line": "LINE", "amount": "1"}]},
            [{"field": "lines.0.order_line", "message": "Enter a whole number."}],
        ),
        ({"amount": "1", "colour": "red"}, [{"field": "colour", "message": "Unknown field."}]),
    ],
)
def test_bad_refunds_are_refused_and_nothing_changes(api_client, contact, body, errors):
    order = _order(api_client, contact)
    response = post(api_client, f"/api/v1/orders/{order['id']}/refunds", body)
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == errors
    assert not Refund.dangerously_unscoped.exists()
    assert not RefundLine.dangerously_unscoped.exists()
    stored = Order.dangerously_unscoped.get()
    assert (stored.status, stored.refunded_total) == ("placed", D("0.00"))
    assert not Event.dangerously_unscoped.filter(type="order.refunded").exists()


def test_a_refund_of_a_line_of_another_order_is_refused(api_client, contact):
    first = _order(api_client, contact)
    second = _order(api_client, contact, external_id="shop-2")
    response = post(
        api_client,
        f"/api/v1/orders/{second['id']}/refunds",
        {"lines": [{"order_line": first["lines"][0]["id"], "amount": "1"}]},
    )
    assert response.json()["errors"] == [{"field": "lines.0.order_line", "message": "This order has no such line."}]


def test_another_organisations_order_cannot_be_refunded(api_client, other_actor):
    with scope(organization=other_actor.organization):
        theirs = contact_create(actor=other_actor, data={"first_name": "Forastero"})
        order, _created = order_create(
            actor=other_actor, data={"contact": theirs.pk, "lines": [{"description": "x", "unit_price": "10"}]}
        )
    response = post(api_client, f"/api/v1/orders/{order.pk}/refunds", {"amount": "1.00"})
    assert response.status_code == 404
    assert not Refund.dangerously_unscoped.exists()


def test_a_refund_through_the_service_needs_write_access(read_only, contact, actor):
    with scope(organization=actor.organization):
        order, _created = order_create(
            actor=actor, data={"contact": contact.pk, "lines": [{"description": "x", "unit_price": "10"}]}
        )
        order_set_status(actor=actor, order=order, status="paid")
    from django.core.exceptions import PermissionDenied

    from vinculo.sales.services.refunds import refund_record

    with scope(organization=actor.organization), pytest.raises(PermissionDenied):
        refund_record(actor=read_only, order=order, data={"amount": "1.00"})
    assert not Refund.dangerously_unscoped.exists()
