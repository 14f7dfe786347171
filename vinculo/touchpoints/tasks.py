"""Background tasks of the website tracker. Thin and idempotent: safe to run twice, or late."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from vinculo.touchpoints.services.ingest import ingest_batch_process, pending_batch_ids

PENDING_AFTER_SECONDS = 120


@task()
def process_ingest_batch(batch_id: int) -> bool:
    """Stitch, sessionise and store the events of one accepted batch. True if this run did it;
    False when it was already processed (a retry, a duplicate enqueue)."""
    return ingest_batch_process(batch_id=batch_id)


@task()
def process_pending_batches(older_than_seconds: int = PENDING_AFTER_SECONDS) -> int:
    """Periodic safety net: re-enqueue batches left unprocessed (a worker killed mid-task, an
    enqueue that failed). Returns how many were enqueued."""
    ids = pending_batch_ids(older_than=dt.timedelta(seconds=older_than_seconds))
    for batch_id in ids:
        process_ingest_batch.enqueue(batch_id)
    return len(ids)
