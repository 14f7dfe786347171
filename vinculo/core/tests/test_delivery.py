"""Durable delivery of the event log (docs/adr/0005): outbox rows written with the event, run by
the worker in the claiming transaction, retried with back-off, parked after MAX_ATTEMPTS; dead
workers' running tasks closed and enqueued again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from vinculo.core import delivery
from vinculo.core.consumers import register_consumer, unregister_consumer
from vinculo.core.events import emit
from vinculo.core.models import AuditEntry, Event, EventDelivery, WorkerHeartbeat
from vinculo.core.worker import reap_dead_workers


@pytest.fixture(autouse=True)
def _worker_mode(settings):
    """As in production: nothing runs at commit; the worker's `deliveries_run` does it."""
    settings.VINCULO_DELIVER_ON_COMMIT = False


@pytest.fixture
def consumers():
    names: list[str] = []

    def add(name, patterns, handler):
        register_consumer(name=name, patterns=patterns, handler=handler)
        names.append(name)

    yield add
    for name in names:
        unregister_consumer(name)


def written(org, text: str) -> AuditEntry:
    """A row of the organisation's that a consumer writes or reads."""
    return AuditEntry.dangerously_unscoped.create(
        organization=org, action="create", object_type="test", object_id=1, object_repr=text
    )


def emit_order(org, n: int = 1) -> list[Event]:
    with transaction.atomic():
        return [emit(organization=org, type="order.placed", properties={"n": i}) for i in range(n)]


def test_each_matching_consumer_gets_one_outbox_row_and_runs_once(org, consumers):
    seen: list[tuple[str, int]] = []
    consumers("test.a", ["order.*"], lambda e: seen.append(("a", e.properties["n"])))
    consumers("test.b", ["order.placed", "deal.*"], lambda e: seen.append(("b", e.properties["n"])))
    consumers("test.c", ["deal.*"], lambda e: seen.append(("c", e.properties["n"])))

    events = emit_order(org, 2)

    assert sorted(EventDelivery.objects.values_list("event_id", "consumer")) == [
        (events[0].pk, "test.a"),
        (events[0].pk, "test.b"),
        (events[1].pk, "test.a"),
        (events[1].pk, "test.b"),
    ]
    assert seen == []
    assert delivery.deliveries_run() == delivery.RunResult(delivered=4, failed=0)
    assert sorted(seen) == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert EventDelivery.objects.count() == 0
    assert delivery.deliveries_run() == delivery.RunResult(0, 0)  # nothing twice


def test_a_consumer_that_fails_rolls_back_its_writes_and_is_retried_with_back_off(org, consumers):
    calls: list[int] = []

    def flaky(event: Event) -> None:
        calls.append(event.pk)
        written(org, f"written {len(calls)}")
        if len(calls) == 1:
            raise RuntimeError("mail server down")

    consumers("test.flaky", ["order.*"], flaky)
    [event] = emit_order(org)

    before = timezone.now()
    assert delivery.deliveries_run() == delivery.RunResult(delivered=0, failed=1)
    row = EventDelivery.objects.get()
    assert (row.attempts, row.last_error, row.failed_at) == (1, "RuntimeError: mail server down", None)
    assert before + dt.timedelta(seconds=10) <= row.available_at <= timezone.now() + dt.timedelta(seconds=10)
    assert list(AuditEntry.dangerously_unscoped.values_list("object_repr", flat=True)) == []  # its write went with it

    assert delivery.deliveries_run() == delivery.RunResult(0, 0)  # not due yet
    EventDelivery.objects.update(available_at=timezone.now())
    assert delivery.deliveries_run() == delivery.RunResult(delivered=1, failed=0)
    assert calls == [event.pk, event.pk]
    assert list(AuditEntry.dangerously_unscoped.values_list("object_repr", flat=True)) == ["written 2"]
    assert EventDelivery.objects.count() == 0


def test_a_delivery_that_keeps_failing_is_parked_after_max_attempts_and_others_go_on(org, consumers):
    good: list[int] = []
    consumers("test.broken", ["order.*"], lambda e: 1 / 0)
    consumers("test.good", ["order.*"], lambda e: good.append(e.pk))
    [event] = emit_order(org)

    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        EventDelivery.objects.filter(failed_at__isnull=True).update(available_at=timezone.now())
        delivery.deliveries_run()
        row = EventDelivery.objects.get(consumer="test.broken")
        assert row.attempts == attempt
    assert row.failed_at is not None
    assert row.last_error == "ZeroDivisionError: division by zero"
    assert good == [event.pk]
    EventDelivery.objects.update(available_at=timezone.now())
    assert delivery.deliveries_run() == delivery.RunResult(0, 0)  # parked: not claimed again


def test_the_back_off_doubles_up_to_an_hour():
    assert [delivery.retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 9, 12)] == [10, 20, 40, 80, 2560, 3600]


def test_rows_of_a_consumer_that_no_longer_exists_are_dropped(org, consumers):
    consumers("test.gone", ["order.*"], lambda e: None)
    emit_order(org)
    unregister_consumer("test.gone")

    assert delivery.deliveries_run() == delivery.RunResult(delivered=1, failed=0)
    assert EventDelivery.objects.count() == 0


def test_consumers_run_inside_the_events_organisation_scope(org, other_org, consumers):
    seen: list[tuple[int, list[str]]] = []
    written(org, "mine")
    written(other_org, "theirs")
    consumers(
        "test.scoped",
        ["order.*"],
        lambda e: seen.append((e.organization_id, [a.object_repr for a in AuditEntry.objects.all()])),
    )
    emit_order(org)
    emit_order(other_org)

    delivery.deliveries_run()

    assert sorted(seen) == sorted([(org.pk, ["mine"]), (other_org.pk, ["theirs"])])


def test_a_rolled_back_emit_leaves_no_outbox_row(org, consumers):
    consumers("test.a", ["order.*"], lambda e: None)

    def failing_request() -> None:
        with transaction.atomic():
            emit(organization=org, type="order.placed")
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError, match="the request failed"):
        failing_request()
    assert EventDelivery.objects.count() == 0


def test_a_dead_workers_running_task_is_closed_and_enqueued_again(db):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="dead", beat_at=now - dt.timedelta(seconds=30))
    WorkerHeartbeat.objects.create(worker_id="alive", beat_at=now)
    common = {"args_kwargs": {"args": [41], "kwargs": {}}, "backend_name": "default", "run_after": now}
    orphan = DBTaskResult.objects.create(
        task_path="vinculo.touchpoints.tasks.process_ingest_batch",
        status="RUNNING",
        worker_ids=["dead"],
        started_at=now - dt.timedelta(seconds=40),
        **common,
    )
    busy = DBTaskResult.objects.create(
        task_path="vinculo.touchpoints.tasks.process_ingest_batch",
        status="RUNNING",
        worker_ids=["alive"],
        started_at=now - dt.timedelta(minutes=5),
        **common,
    )

    [again] = reap_dead_workers(now=now)

    orphan.refresh_from_db()
    assert (orphan.status, orphan.exception_class_path) == ("FAILED", "vinculo.core.worker.WorkerDied")
    assert orphan.traceback == "worker dead stopped answering while running this task; enqueued again"
    retry = DBTaskResult.objects.get(pk=again)
    assert (retry.status, retry.task_path, retry.args_kwargs, retry.worker_ids) == (
        "READY",
        "vinculo.touchpoints.tasks.process_ingest_batch",
        {"args": [41], "kwargs": {}},
        [],
    )
    busy.refresh_from_db()
    assert busy.status == "RUNNING"  # a live worker's long task is left alone
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["alive"]
    assert reap_dead_workers(now=now) == []  # once


def test_a_running_task_of_a_worker_without_heartbeat_is_taken_over_only_when_old(db):
    now = timezone.now()
    common = {"args_kwargs": {"args": [], "kwargs": {}}, "backend_name": "default", "run_after": now}
    young = DBTaskResult.objects.create(
        task_path="vinculo.core.tasks.analyze_database", status="RUNNING", worker_ids=["x"], started_at=now, **common
    )
    old = DBTaskResult.objects.create(
        task_path="vinculo.core.tasks.analyze_database",
        status="RUNNING",
        worker_ids=["x"],
        started_at=now - dt.timedelta(minutes=1),
        **common,
    )

    assert len(reap_dead_workers(now=now)) == 1
    assert DBTaskResult.objects.get(pk=young.pk).status == "RUNNING"
    assert DBTaskResult.objects.get(pk=old.pk).status == "FAILED"
