"""The event backbone: emit() writes the event and its outbox rows in the caller's transaction;
consumers get it after the commit (in tests, at once: VINCULO_DELIVER_ON_COMMIT)."""

from __future__ import annotations

import pytest
from django.db import transaction

from vinculo.core import events
from vinculo.core.consumers import register_consumer, unregister_consumer
from vinculo.core.models import Event, EventDelivery


@pytest.fixture
def received():
    got: list[int] = []

    register_consumer(name="test.orders", patterns=["order.*"], handler=lambda event: got.append(event.pk))
    yield got
    unregister_consumer("test.orders")


def test_emit_delivers_after_commit_only(org, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = events.emit(organization=org, type="order.placed", properties={"total": "10.00"})
        assert received == []
        assert list(EventDelivery.objects.values_list("event_id", "consumer")) == [(event.pk, "test.orders")]
    assert received == [event.pk]
    assert EventDelivery.objects.count() == 0  # delivered: the outbox row went with the reaction
    assert Event.dangerously_unscoped.get(pk=event.pk).properties == {"total": "10.00"}


def test_rolled_back_emit_leaves_nothing(org, received, django_capture_on_commit_callbacks):
    def place_then_fail() -> None:
        with transaction.atomic():
            events.emit(organization=org, type="order.placed")
            raise RuntimeError("boom")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError, match="boom"):
        place_then_fail()
    assert received == []
    assert Event.dangerously_unscoped.filter(organization=org).count() == 0
    assert EventDelivery.objects.count() == 0


def test_same_message_id_is_stored_once(org, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            first = events.emit(organization=org, type="order.placed", message_id="shop-1")
        with transaction.atomic():
            second = events.emit(organization=org, type="order.placed", message_id="shop-1")
    assert first.pk == second.pk
    assert Event.dangerously_unscoped.filter(organization=org, message_id="shop-1").count() == 1
    assert received == [first.pk]


def test_same_message_id_in_two_organisations_is_two_events(org, other_org):
    with transaction.atomic():
        a = events.emit(organization=org, type="page.viewed", message_id="m-1")
        b = events.emit(organization=other_org, type="page.viewed", message_id="m-1")
    assert a.pk != b.pk


@pytest.mark.django_db(transaction=True)
def test_emit_outside_a_transaction_is_refused(org):
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic\(\)"):
        events.emit(organization=org, type="page.viewed")


def test_unmatched_consumer_gets_no_outbox_row(org, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.emit(organization=org, type="page.viewed")
        assert EventDelivery.objects.filter(consumer="test.orders").count() == 0
    assert received == []
