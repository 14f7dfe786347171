"""POST /api/v1/orders/batch: up to 1,000 orders a request, each validated like POST /orders and
idempotent by its external id; a rejected one reported with its index and field errors, the
others stored with their numbers, lines, audit entries, `order.placed` events and customers, in a
number of queries that does not grow with the batch."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django_scopes import scope

from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create
from vinculo.contacts.testing import make_contact
from vinculo.core.models import AuditEntry, Event
from vinculo.core.testing import count_queries
from vinculo.sales.models import DocumentCounter, Order, OrderAdjustment, OrderLine

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders/batch"
D = Decimal


def post(client, body):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def buyers(actor):
    return [make_contact(actor, first_name=f"Buyer {n}") for n in range(3)]


def row(contact, n, **extra):
    return {
        "external_id": f"hist-{n}",
        "contact": contact.pk,
        "placed_at": "2024-05-01T10:00:00+02:00",
        "lines": [{"description": "CD", "quantity": 3, "unit_price": "13.3333"}],
        **extra,
    }


def test_a_batch_stores_the_good_orders_and_reports_the_bad_ones_by_index(api_client, buyers):
    body = {
        "orders": [
            row(buyers[0], 1),
            {**row(buyers[1], 2), "contact": 999999, "lines": [{"description": "x", "unit_price": "1.23456"}]},
            row(buyers[2], 3, adjustments=[{"kind": "shipping", "amount": "4.95"}]),
        ]
    }
    response = post(api_client, body)
    assert response.status_code == 200, response.content
    data = response.json()
    first, third = Order.dangerously_unscoped.order_by("id")
    assert data == {
        "created": 2,
        "existing": 0,
        "conflicts": 0,
        "rejected": 1,
        "results": [
            {"index": 0, "status": "created", "id": first.pk, "number": "O-00001", "errors": []},
            {
                "index": 1,
                "status": "rejected",
                "id": None,
                "number": None,
                "errors": [
                    {"field": "contact", "message": "No such contact."},
                    {"field": "lines.0.unit_price", "message": "At most 4 decimal places."},
                ],
            },
            {"index": 2, "status": "created", "id": third.pk, "number": "O-00002", "errors": []},
        ],
    }
    assert (first.total, third.total, third.computed_total) == (D("40.00"), D("44.95"), D("44.95"))
    assert first.placed_at.isoformat() == "2024-05-01T08:00:00+00:00"
    assert OrderLine.dangerously_unscoped.count() == 2
    assert OrderAdjustment.dangerously_unscoped.count() == 1
    assert DocumentCounter.dangerously_unscoped.get(kind="order").value == 2
    events = Event.dangerously_unscoped.filter(type="order.placed").order_by("id")
    assert [(e.contact_id, e.properties["number"], e.properties["total"], e.occurred_at) for e in events] == [
        (buyers[0].pk, "O-00001", "40.00", first.placed_at),
        (buyers[2].pk, "O-00002", "44.95", third.placed_at),
    ]
    assert AuditEntry.dangerously_unscoped.filter(object_type="sales.order", action="create").count() == 2
    stages = dict(Contact.dangerously_unscoped.values_list("first_name", "lifecycle_stage"))
    assert stages == {"Buyer 0": "customer", "Buyer 1": "lead", "Buyer 2": "customer"}
    assert AuditEntry.dangerously_unscoped.filter(object_type="contacts.contact", action="update").count() == 2
    assert Event.dangerously_unscoped.filter(type="contact.updated").count() == 2


def test_a_batch_sent_again_places_nothing_twice_and_a_changed_order_is_a_conflict(api_client, buyers):
    body = {"orders": [row(buyers[0], 1), row(buyers[1], 2)]}
    first = post(api_client, body).json()
    again = post(api_client, body).json()
    assert [(r["status"], r["id"]) for r in again["results"]] == [
        ("existing", first["results"][0]["id"]),
        ("existing", first["results"][1]["id"]),
    ]
    changed = post(api_client, {"orders": [row(buyers[0], 1, lines=[{"description": "CD", "unit_price": "9.99"}])]})
    assert changed.json()["results"] == [
        {
            "index": 0,
            "status": "conflict",
            "id": first["results"][0]["id"],
            "number": "O-00001",
            "errors": [{"field": "lines", "message": "Differs from the order placed with this external id."}],
        }
    ]
    assert (
        changed.json()["conflicts"],
        Order.dangerously_unscoped.count(),
        OrderLine.dangerously_unscoped.count(),
    ) == (
        1,
        2,
        2,
    )


def test_the_same_external_id_twice_in_a_batch_is_placed_once(api_client, buyers):
    data = post(api_client, {"orders": [row(buyers[0], 1), row(buyers[0], 1), row(buyers[0], 1, notes="other")]}).json()
    assert [r["status"] for r in data["results"]] == ["created", "existing", "conflict"]
    assert data["results"][2]["errors"] == [
        {"field": "notes", "message": "Differs from an order earlier in this batch with the same external id."}
    ]
    assert Order.dangerously_unscoped.count() == 1


@pytest.mark.parametrize(
    ("order", "errors"),
    [
        (
            {"lines": [{"description": "x", "unit_price": "1"}]},
            [{"field": "external_id", "message": "This field is required."}],
        ),
        ("not an order", [{"field": "__all__", "message": "Give an object."}]),
        ({"external_id": "a", "lines": [{"description": "x", "unit_price": "1"}], "colour": "red"}, None),
    ],
)
def test_a_bad_row_is_rejected_with_its_reasons(api_client, buyers, order, errors):
    if isinstance(order, dict):
        order = {"contact": buyers[0].pk, **order}
    data = post(api_client, {"orders": [order]}).json()
    assert data["results"][0]["status"] == "rejected"
    expected = errors or [{"field": "colour", "message": "Unknown field."}]
    assert data["results"][0]["errors"] == expected
    assert not Order.dangerously_unscoped.exists()
    assert not DocumentCounter.dangerously_unscoped.exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"orders": []}, [{"field": "orders", "message": "At least 1 items."}]),
        ({"orders": "x"}, [{"field": "orders", "message": "Give a list."}]),
        ({}, [{"field": "orders", "message": "This field is required."}]),
        ({"orders": [{}], "channel": "quote"}, [{"field": "channel", "message": "Choose one of api, ecommerce."}]),
    ],
)
def test_a_bad_batch_is_a_422_and_stores_nothing(api_client, body, errors):
    response = post(api_client, body)
    assert response.status_code == 422
    assert response.json()["errors"] == errors
    assert not Order.dangerously_unscoped.exists()


def test_more_than_a_thousand_orders_is_a_422(api_client, buyers):
    response = post(api_client, {"orders": [row(buyers[0], n) for n in range(1001)]})
    assert (response.status_code, response.json()["errors"]) == (
        422,
        [{"field": "orders", "message": "At most 1000 items."}],
    )


def test_another_organisations_contact_is_rejected(api_client, other_actor, buyers):
    with scope(organization=other_actor.organization):
        theirs = contact_create(actor=other_actor, data={"first_name": "Forastero"})
    data = post(api_client, {"orders": [row(theirs, 1)]}).json()
    assert data["results"][0]["errors"] == [{"field": "contact", "message": "No such contact."}]
    assert not Order.dangerously_unscoped.exists()


def test_a_read_only_token_cannot_import(read_only_api_client, buyers):
    response = post(read_only_api_client, {"orders": [row(buyers[0], 1)]})
    assert response.status_code == 403
    assert not Order.dangerously_unscoped.exists()


def test_the_queries_do_not_grow_with_the_batch(api_client, actor):
    contacts = [make_contact(actor, first_name=f"C{n}") for n in range(60)]
    post(api_client, {"orders": [row(contacts[0], "warm")]})  # the token's first use, the counter row
    with count_queries() as small:
        post(api_client, {"orders": [row(contacts[n], f"s{n}") for n in range(1, 6)]})
    with count_queries() as large:
        post(api_client, {"orders": [row(contacts[n], f"l{n}") for n in range(6, 60)]})

    def kinds(captured):
        inserts = [q for q in captured.captured_queries if q["sql"].startswith("INSERT")]
        return len(captured.captured_queries) - len(inserts), len(inserts)

    (small_reads, small_inserts), (large_reads, large_inserts) = kinds(small), kinds(large)
    assert large_reads == small_reads
    # one INSERT per table, split only where SQLite's limit of 999 parameters a statement splits it
    assert small_inserts <= large_inserts <= small_inserts + 4
    assert Order.dangerously_unscoped.count() == 60
