"""Orders through the API and the services: placing (idempotent by external id), order.placed on the
timeline, the contact becoming a customer, status changes, bad input, list query counts."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django_scopes import scope

from vinculo.contacts.models import Contact, LifecycleStage
from vinculo.contacts.services import contact_create
from vinculo.contacts.testing import make_contact
from vinculo.core.models import AuditEntry, Event
from vinculo.core.testing import count_queries
from vinculo.sales.models import DocumentCounter, Order, OrderLine, OrderStatus
from vinculo.sales.services.documents import order_create, order_set_status
from vinculo.sales.testing import make_product


@pytest.fixture
def contact(actor, company):
    """Ana García of Acme S.L. (the shared `company`)."""
    return make_contact(actor, first_name="Ana", last_name="García", company=company.pk)


@pytest.fixture
def widget(org):
    return make_product(org, "Widget", price="19.99", tax_rate=Decimal("10"))


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_an_order_placed_through_the_api_is_idempotent_by_external_id(api_client, actor, contact, company, widget):
    body = {
        "contact": contact.pk,
        "external_id": "shop-1001",
        "lines": [{"product": widget.pk, "quantity": "3"}, {"description": "Shipping", "unit_price": "4.95"}],
    }
    first = post(api_client, "/api/v1/orders", body)
    assert first.status_code == 201, first.content
    data = first.json()
    assert (data["number"], data["status"], data["channel"], data["external_id"]) == (
        "O-00001",
        "placed",
        "api",
        "shop-1001",
    )
    # 3 × 19.99 = 59.97 + 10 % = 5.997 tax; + 4.95 → total 70.917 → 70.92
    assert (data["subtotal"], data["tax_total"], data["total"]) == ("64.92", "6.00", "70.92")
    assert [line["description"] for line in data["lines"]] == ["Widget", "Shipping"]

    again = post(api_client, "/api/v1/orders", body)
    assert again.status_code == 200
    assert again.json()["id"] == data["id"]
    assert Order.dangerously_unscoped.count() == 1
    assert OrderLine.dangerously_unscoped.count() == 2
    assert DocumentCounter.dangerously_unscoped.get(kind="order").value == 1

    event = Event.dangerously_unscoped.get(type="order.placed")
    assert (event.contact_id, event.company_id) == (contact.pk, company.pk)
    assert event.properties == {
        "order_id": data["id"],
        "number": "O-00001",
        "total": "70.92",
        "currency": "EUR",
        "channel": "api",
        "lines": 2,
    }
    contact.refresh_from_db()
    assert contact.lifecycle_stage == LifecycleStage.CUSTOMER
    # the lifecycle change went through contact_update: audited and on the timeline
    entry = AuditEntry.dangerously_unscoped.get(object_type="contacts.contact", object_id=contact.pk, action="update")
    assert entry.changes == {"lifecycle_stage": ["lead", "customer"]}


def test_a_customer_stays_a_customer_without_another_audit_entry(actor, contact):
    Contact.dangerously_unscoped.filter(pk=contact.pk).update(lifecycle_stage=LifecycleStage.CUSTOMER)
    with scope(organization=actor.organization):
        order_create(actor=actor, data={"contact": contact.pk, "lines": [{"description": "x", "unit_price": "1"}]})
    assert not AuditEntry.dangerously_unscoped.filter(object_type="contacts.contact", action="update").exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"lines": []}, [{"field": "lines", "message": "Add at least one line."}]),
        ({}, [{"field": "lines", "message": "Add at least one line."}]),
        (
            {"lines": [{"description": "x", "unit_price": "1", "quantity": "-1"}]},
            [{"field": "lines.0.quantity", "message": "Enter a quantity greater than zero."}],
        ),
        (
            {"lines": [{"description": "x", "unit_price": "-5"}]},
            [{"field": "lines.0.unit_price", "message": "Cannot be negative."}],
        ),
        (
            {"lines": [{"description": "x", "unit_price": "5", "discount_percent": "120"}]},
            [{"field": "lines.0.discount_percent", "message": "Must be at most 100."}],
        ),
        (
            {"lines": [{"description": "x", "unit_price": "5", "colour": "red"}]},
            [{"field": "lines.0.colour", "message": "Unknown field."}],
        ),
        (
            {"currency": "XYZ", "lines": [{"description": "x", "unit_price": "5"}]},
            [{"field": "currency", "message": "Enter an ISO 4217 currency code, e.g. EUR."}],
        ),
        (
            {"lines": [{"description": "x", "unit_price": 1.23456}]},
            [{"field": "lines.0.unit_price", "message": "At most 4 decimal places."}],
        ),
        (
            {"lines": [{"description": "x", "unit_price": "13.33333"}]},
            [{"field": "lines.0.unit_price", "message": "At most 4 decimal places."}],
        ),
        (
            {"placed_at": "2026-11-02T10:00:00", "lines": [{"description": "x", "unit_price": "5"}]},
            [
                {
                    "field": "placed_at",
                    "message": "Enter a date and time with its time zone, e.g. 2026-11-29T10:30:00+01:00.",
                }
            ],
        ),
        (
            {"placed_at": "2026-13-02T10:00:00Z", "lines": [{"description": "x", "unit_price": "5"}]},
            [
                {
                    "field": "placed_at",
                    "message": "Enter a date and time with its time zone, e.g. 2026-11-29T10:30:00+01:00.",
                }
            ],
        ),
        (
            {"placed_at": "2150-01-01T00:00:00Z", "lines": [{"description": "x", "unit_price": "5"}]},
            [{"field": "placed_at", "message": "An order cannot be placed in the future."}],
        ),
    ],
)
def test_bad_orders_are_refused_and_nothing_is_saved(api_client, contact, body, errors):
    response = post(api_client, "/api/v1/orders", {"contact": contact.pk, **body})
    assert response.status_code == 422
    assert response.json() == {"detail": "Some fields are not valid.", "errors": errors}
    assert Order.dangerously_unscoped.count() == 0
    assert DocumentCounter.dangerously_unscoped.count() == 0
    assert not Event.dangerously_unscoped.filter(type="order.placed").exists()
    contact.refresh_from_db()
    assert contact.lifecycle_stage == LifecycleStage.LEAD


def test_another_organisations_product_and_contact_are_refused(api_client, other_actor, contact):
    theirs = make_product(other_actor.organization, "Forastero")
    with scope(organization=other_actor.organization):
        their_contact = contact_create(actor=other_actor, data={"first_name": "Forastero"})
    response = post(api_client, "/api/v1/orders", {"contact": their_contact.pk, "lines": [{"product": theirs.pk}]})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "contact", "message": "No such contact."},
        {"field": "lines.0.product", "message": "No such product."},
    ]
    assert Order.dangerously_unscoped.count() == 0


def test_status_changes_follow_the_allowed_transitions(api_client, actor, contact):
    with scope(organization=actor.organization):
        order, created = order_create(
            actor=actor, data={"contact": contact.pk, "lines": [{"description": "x", "unit_price": "10"}]}
        )
    assert created is True
    response = post(api_client, f"/api/v1/orders/{order.pk}/status", {"status": "paid"})
    assert (response.status_code, response.json()["status"]) == (200, "paid")
    response = post(api_client, f"/api/v1/orders/{order.pk}/status", {"status": "placed"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "status", "message": "An order that is paid cannot become placed."}]
    response = post(api_client, f"/api/v1/orders/{order.pk}/status", {"status": "shipped"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
    with scope(organization=actor.organization):
        order_set_status(actor=actor, order=order, status=OrderStatus.REFUNDED)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    changes = list(
        Event.dangerously_unscoped.filter(type="order.status_changed")
        .order_by("id")
        .values_list("properties__from", "properties__to")
    )
    assert changes == [("placed", "paid"), ("paid", "refunded")]


def test_another_organisations_order_is_404(api_client, other_actor):
    with scope(organization=other_actor.organization):
        theirs = contact_create(actor=other_actor, data={"first_name": "Forastero"})
        order, _created = order_create(
            actor=other_actor, data={"contact": theirs.pk, "lines": [{"description": "x", "unit_price": "1"}]}
        )
    assert api_client.get(f"/api/v1/orders/{order.pk}").status_code == 404
    assert post(api_client, f"/api/v1/orders/{order.pk}/status", {"status": "paid"}).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


def _orders(actor, contact, n):
    with scope(organization=actor.organization):
        for i in range(n):
            order_create(
                actor=actor, data={"contact": contact.pk, "lines": [{"description": f"o{i}", "unit_price": "1"}]}
            )


def test_the_order_list_endpoint_takes_the_same_queries_for_any_number_of_rows(api_client, actor, contact):
    _orders(actor, contact, 2)
    api_client.get("/api/v1/orders")  # the token's first use is recorded once
    with count_queries() as few:
        assert len(api_client.get("/api/v1/orders").json()["items"]) == 2
    _orders(actor, contact, 5)
    with count_queries() as many:
        response = api_client.get("/api/v1/orders?per_page=10")
    assert len(response.json()["items"]) == 7
    assert len(many.captured_queries) == len(few.captured_queries)
    assert response.json()["items"][0]["contact"] == {"id": contact.pk, "name": "Ana García"}


def test_an_order_keeps_the_time_it_was_placed_elsewhere(api_client, contact):
    body = {
        "contact": contact.pk,
        "placed_at": "2026-10-02T09:15:00+02:00",
        "lines": [{"description": "x", "unit_price": "5"}],
    }
    response = post(api_client, "/api/v1/orders", body)
    assert response.status_code == 201, response.content
    order = Order.dangerously_unscoped.get()
    assert order.placed_at.isoformat() == "2026-10-02T07:15:00+00:00"
    event = Event.dangerously_unscoped.get(type="order.placed")
    assert event.occurred_at == order.placed_at
