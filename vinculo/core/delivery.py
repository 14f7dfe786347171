"""Durable delivery of the event log to its consumers: the outbox (docs/adr/0005).

`deliveries_write` adds, in the caller's transaction, one `EventDelivery` row per consumer an
event reaches. `deliveries_run` (called in a loop by the task worker, `manage.py worker`) claims
due rows in one transaction, runs each consumer in a savepoint, deletes the rows that succeeded and
reschedules the ones that failed, and commits: a consumer's writes and the removal of its delivery
row commit together, so each reaction happens exactly once, and a process killed anywhere leaves
the rows to be claimed again. On PostgreSQL the claim is `FOR UPDATE SKIP LOCKED`, so several
workers share the outbox without waiting on each other; SQLite has one writer at a time anyway.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scope

from vinculo.core.consumers import consumer_named, consumers_for
from vinculo.core.models import Event, EventDelivery

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
BATCH_SIZE = 500
# one claiming transaction holds SQLite's write lock: keep it short
MAX_BATCH_SECONDS = 0.5


def retry_delay(attempts: int) -> dt.timedelta:
    """Back-off after the n-th failure: 10 s, 20 s, 40 s, … at most an hour."""
    return dt.timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 3600))


def deliveries_write(events: Iterable[tuple[int, int, str]]) -> list[int]:
    """Write the outbox rows of events just inserted in the current transaction, given as
    (organization id, event id, type): one row per matching consumer, all in one INSERT.

    `emit()` calls it; bulk writers of the event log (tracker ingestion) call it for the rows they
    insert in one statement. Returns the ids of the delivery rows.
    """
    now = timezone.now()
    rows = [
        EventDelivery(organization_id=org_id, event_id=event_id, consumer=name, available_at=now)
        for org_id, event_id, event_type in events
        for name in consumers_for(event_type)
    ]
    if not rows:
        return []
    EventDelivery.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    if getattr(settings, "VINCULO_DELIVER_ON_COMMIT", False):
        transaction.on_commit(lambda: deliveries_run(delivery_ids=ids))
    return ids


@dataclass(frozen=True)
class RunResult:
    delivered: int
    failed: int

    @property
    def claimed(self) -> int:
        return self.delivered + self.failed


def deliveries_run(
    *, limit: int = BATCH_SIZE, delivery_ids: list[int] | None = None, max_seconds: float = MAX_BATCH_SECONDS
) -> RunResult:
    """Claim up to `limit` due deliveries (or just `delivery_ids`) and run their consumers, in one
    transaction. Stops early after `max_seconds`, leaving the rest for the next call."""
    started = time.monotonic()
    now = timezone.now()
    delivered: list[int] = []
    failures: list[tuple[int, int, str]] = []
    with transaction.atomic():
        due = EventDelivery.objects.filter(failed_at__isnull=True, available_at__lte=now)
        if delivery_ids is not None:
            due = due.filter(id__in=delivery_ids)
        due = due.order_by("available_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        claimed = list(due.values_list("id", "event_id", "consumer", "attempts")[:limit])
        if not claimed:
            return RunResult(0, 0)
        events = Event.dangerously_unscoped.select_related("organization").in_bulk({row[1] for row in claimed})
        for delivery_id, event_id, name, attempts in claimed:
            if delivered and time.monotonic() - started > max_seconds:
                break
            consumer = consumer_named(name)
            event = events.get(event_id)
            if consumer is None or event is None:
                logger.warning("dropping delivery %s of event %s: no consumer %r", delivery_id, event_id, name)
                delivered.append(delivery_id)
                continue
            try:
                with scope(organization=event.organization), transaction.atomic():
                    consumer.handler(event)
            except Exception as exc:
                logger.exception("consumer %s failed on event %s (%s)", name, event_id, event.type)
                failures.append((delivery_id, attempts + 1, f"{type(exc).__name__}: {exc}"[:2000]))
            else:
                delivered.append(delivery_id)
        if delivered:
            EventDelivery.objects.filter(id__in=delivered).delete()
        for delivery_id, attempts, error in failures:
            EventDelivery.objects.filter(id=delivery_id).update(
                attempts=attempts,
                last_error=error,
                available_at=now + retry_delay(attempts),
                failed_at=now if attempts >= MAX_ATTEMPTS else None,
            )
    return RunResult(len(delivered), len(failures))


def deliveries_drain(*, max_seconds: float = 5.0) -> int:
    """Run due deliveries batch after batch until none is left or `max_seconds` have passed.
    Returns how many were delivered."""
    started = time.monotonic()
    total = 0
    while time.monotonic() - started < max_seconds:
        result = deliveries_run()
        total += result.delivered
        if result.claimed == 0:
            break
    return total


def deliveries_due_exist() -> bool:
    """Cheap check the worker makes when idle: is anything owed to a consumer now?"""
    return EventDelivery.objects.filter(failed_at__isnull=True, available_at__lte=timezone.now()).exists()
