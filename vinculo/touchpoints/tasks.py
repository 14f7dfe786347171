"""Background tasks of the website tracker. Thin and idempotent: safe to run twice, or late."""

from __future__ import annotations

import datetime as dt
import logging

from django_tasks import task

from vinculo.touchpoints.services.ingest import ingest_batch_process, pending_batch_ids

logger = logging.getLogger(__name__)

PENDING_AFTER_SECONDS = 120
# a batch not processed this long after it arrived lost its task: the workers' sweep processes it
STALE_AFTER_SECONDS = 10
SWEEP_LIMIT = 50


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


def batch_enqueue(batch_id: int) -> None:
    """Hand a stored batch to a worker. If that fails, the batch is stored anyway and the workers'
    sweep (`process_stale_batches`) processes it within seconds."""
    try:
        process_ingest_batch.enqueue(batch_id)
    except Exception:
        logger.exception("could not enqueue ingest batch %s; the workers' sweep will process it", batch_id)


def process_stale_batches(older_than_seconds: int = STALE_AFTER_SECONDS) -> int:
    """The workers' sweep (every few seconds, vinculo.core.worker): process, in this worker,
    batches still unprocessed `older_than_seconds` after they arrived (their enqueue was lost, or
    their task died with its worker). Idempotent: a batch processed meanwhile is skipped.
    Returns how many this call processed."""
    done = 0
    for batch_id in pending_batch_ids(older_than=dt.timedelta(seconds=older_than_seconds), limit=SWEEP_LIMIT):
        try:
            done += ingest_batch_process(batch_id=batch_id)
        except Exception:
            logger.exception("ingest batch %s failed again; it is retried later", batch_id)
    return done
