"""Orders by webhook: the generic order placed through sales.order_create, once per external id
however often, concurrently or out of order it is delivered; the customer found or created exactly."""

from __future__ import annotations

import copy
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django_scopes import scope, scopes_disabled

from vinculo.accounts.testing import make_member
from vinculo.contacts.models import Contact, ContactEmail
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.sales.models import Order, OrderLine
from vinculo.sales.services.order_status import status_path
from vinculo.sales.testing import make_product
from vinculo.touchpoints.models import WebhookDelivery
from vinculo.touchpoints.testing.webhooks import make_integration, payload, post

pytestmark = pytest.mark.django_db


def _orders(org):
    return Order.dangerously_unscoped.filter(organization=org)


def _statuses(org):
    return sorted(WebhookDelivery.dangerously_unscoped.filter(organization=org).values_list("status", flat=True))


def test_a_generic_order_places_one_order_with_its_customer(actor, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "orders", name="Web shop")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, payload("generic_order.json")).status_code == 202
    order = _orders(actor.organization).get()
    assert (order.channel, order.external_id, order.status, order.currency) == (
        "ecommerce",
        "orders:A-1001",
        "placed",
        "EUR",
    )
    assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
        Decimal("102.80"),
        Decimal("9.98"),
        Decimal("19.49"),
        Decimal("112.31"),
    )
    assert order.notes == "Received from Web shop, shop order 1001, placed in the shop at 2026-11-28T10:15:00+00:00."
    lines = list(OrderLine.dangerously_unscoped.filter(order=order).order_by("position"))
    assert [
        (ln.description, ln.quantity, ln.unit_price, ln.discount_percent, ln.tax_rate, ln.product_id) for ln in lines
    ] == [
        ("Desk lamp", Decimal("2.000"), Decimal("49.90"), Decimal("10.00"), Decimal("21.00"), None),
        ("Gift wrapping", Decimal("1.000"), Decimal("3.00"), Decimal("0.00"), Decimal("21.00"), None),
    ]
    contact = order.contact
    assert (contact.first_name, contact.last_name, contact.email, contact.phone) == (
        "Marta",
        "Ruiz",
        "marta.ruiz@example.com",
        "+34699112233",
    )
    assert (contact.street, contact.city, contact.region, contact.postal_code, str(contact.country)) == (
        "Avenida de la Constitución 5",
        "Sevilla",
        "Andalucía",
        "41004",
        "ES",
    )
    assert (contact.source, contact.lifecycle_stage, contact.owner_id) == ("ecommerce", "customer", None)
    assert contact.company.name == "Ruiz Interiores"
    assert order.company_id == contact.company_id
    placed = Event.dangerously_unscoped.get(organization=actor.organization, type="order.placed")
    assert placed.contact_id == contact.pk
    assert placed.properties == {
        "order_id": order.pk,
        "number": order.number,
        "total": "112.31",
        "currency": "EUR",
        "channel": "ecommerce",
        "lines": 2,
        "via": "webhook:Web shop",  # written by the system, by way of the integration
    }
    assert order.owner_id is None  # the system user owns nothing


def test_the_timeline_shows_the_order(actor, client_in, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "orders")
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, payload("generic_order.json"))
    contact = _orders(actor.organization).get().contact
    page = client_in.get(f"/o/{actor.organization.slug}/contacts/{contact.pk}/")
    assert page.status_code == 200
    assert "Order placed" in page.content.decode()


def test_ten_sequential_replays_give_one_order(actor, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "orders")
    body = payload("generic_order.json")
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [post(integration, body).status_code for _ in range(10)]
    assert statuses == [202] * 10
    assert _orders(actor.organization).count() == 1
    assert _statuses(actor.organization) == ["duplicate"] * 9 + ["processed"]
    assert Event.dangerously_unscoped.filter(organization=actor.organization, type="order.placed").count() == 1
    assert Contact.dangerously_unscoped.filter(organization=actor.organization).count() == 1
    assert Event.dangerously_unscoped.filter(organization=actor.organization, type="contact.updated").count() == 1
    # the one update: lead → customer by order_create


def test_an_update_before_the_create_gives_one_order_at_the_latest_status(actor, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "orders")
    created = payload("generic_order.json")
    paid = {**copy.deepcopy(created), "status": "paid"}
    cancelled = {**copy.deepcopy(created), "status": "cancelled"}
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, paid)  # orders/updated arrives first
        post(integration, created)  # then the orders/create, late
    order = _orders(actor.organization).get()
    assert order.status == "paid"
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, cancelled)
        post(integration, paid)  # an older update after the cancellation changes nothing
        post(integration, created)
    order.refresh_from_db()
    assert _orders(actor.organization).count() == 1
    assert order.status == "cancelled"
    assert _statuses(actor.organization) == ["duplicate", "duplicate", "duplicate", "processed", "processed"]
    changes = Event.dangerously_unscoped.filter(organization=actor.organization, type="order.status_changed")
    assert sorted((e.properties["from"], e.properties["to"]) for e in changes) == [
        ("paid", "cancelled"),
        ("placed", "paid"),
    ]


def test_a_refund_goes_through_paid(actor, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "orders")
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, {**payload("generic_order.json"), "status": "refunded"})
    assert _orders(actor.organization).get().status == "refunded"
    assert status_path("placed", "refunded") == ["paid", "refunded"]
    assert status_path("cancelled", "paid") == []
    assert status_path("paid", "paid") == []


def _in_thread(function):
    """Run `function` in a new thread (its own database connection) and return its result."""
    results: list = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with scopes_disabled():
                results.append(function())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=300)
    if errors:
        raise errors[0]
    return results[0]


@pytest.fixture
def database_for_threads(request):
    """Threads that each open their own connection need a database they can share: PostgreSQL, or
    on SQLite a file (the test suite's shared-cache in-memory database answers "table is locked"
    instead of waiting): a copy of the migrated template (vinculo/core/testing/subprocesses.py).
    New connections open the file while the fixture is active; the main thread's connection is
    left alone."""
    if connection.vendor != "sqlite":
        yield
        return
    settings_dict = connections.settings["default"]
    old_name = settings_dict["NAME"]
    settings_dict["NAME"] = str(request.getfixturevalue("migrated_sqlite"))
    try:
        yield
    finally:
        settings_dict["NAME"] = old_name


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_replays_give_one_order(database_for_threads):
    """Ten threads, each with its own database connection, deliver the same order at once."""
    actor = _in_thread(lambda: make_member())
    integration = _in_thread(lambda: make_integration(actor, "orders"))
    body = payload("generic_order.json")
    barrier = threading.Barrier(10)
    statuses: list[int] = []
    failures: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait(timeout=60)
            statuses.append(post(integration, body).status_code)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert failures == []
    assert statuses == [202] * 10
    org = actor.organization

    def outcome() -> tuple[int, list[str], int, int]:
        return (
            _orders(org).count(),
            _statuses(org),
            Event.dangerously_unscoped.filter(organization=org, type="order.placed").count(),
            ContactEmail.dangerously_unscoped.filter(organization=org, email="marta.ruiz@example.com").count(),
        )

    assert _in_thread(outcome) == (1, ["duplicate"] * 9 + ["processed"], 1, 1)


def test_an_existing_contact_keeps_what_the_crm_knows_and_gets_the_blanks_filled(
    actor, django_capture_on_commit_callbacks
):
    with scope(organization=actor.organization):
        known = contact_create(
            actor=actor,
            data={"first_name": "Marta María", "emails": ["Marta.Ruiz@example.com"], "source": "form"},
        )
    integration = make_integration(actor, "orders")
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, payload("generic_order.json"))
    known.refresh_from_db()
    order = _orders(actor.organization).get()
    assert order.contact_id == known.pk
    assert (known.first_name, known.last_name, known.phone, known.city, known.source) == (
        "Marta María",
        "Ruiz",
        "+34699112233",
        "Sevilla",
        "form",
    )
    assert known.company is not None
    assert known.company.name == "Ruiz Interiores"
    assert known.lifecycle_stage == "customer"
    assert Contact.dangerously_unscoped.filter(organization=actor.organization).count() == 1


def test_lines_are_matched_to_products_by_sku(actor, django_capture_on_commit_callbacks):
    with scope(organization=actor.organization):
        lamp = make_product(actor.organization, name="Lámpara de escritorio", sku="LAMP-01")
    integration = make_integration(actor, "orders")
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, payload("generic_order.json"))
    lines = list(OrderLine.dangerously_unscoped.filter(order__organization=actor.organization).order_by("position"))
    assert [(ln.product_id, ln.description, ln.unit_price) for ln in lines] == [
        (lamp.pk, "Desk lamp", Decimal("49.90")),
        (None, "Gift wrapping", Decimal("3.00")),
    ]


def test_an_unreadable_phone_is_dropped_not_fatal(actor, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "orders")
    body = payload("generic_order.json")
    body["customer"]["phone"] = "call me maybe"
    with django_capture_on_commit_callbacks(execute=True):
        assert post(integration, body).status_code == 202
    assert _orders(actor.organization).get().contact.phone == ""


def test_two_organisations_with_the_same_shop_order_id_get_one_order_each(
    actor, other_actor, django_capture_on_commit_callbacks
):
    mine, theirs = make_integration(actor, "orders"), make_integration(other_actor, "orders")
    with django_capture_on_commit_callbacks(execute=True):
        post(mine, payload("generic_order.json"))
        post(theirs, payload("generic_order.json"))
    assert _orders(actor.organization).count() == 1
    assert _orders(other_actor.organization).count() == 1
