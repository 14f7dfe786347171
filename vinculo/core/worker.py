"""The task worker (`manage.py worker`): django-tasks-db's database worker, plus what makes the
backbone durable (docs/adr/0005):

- it delivers the event log's outbox (`vinculo.core.delivery`) between tasks, so consumers run
  within a fraction of a second of the commit, on every worker at once;
- it says it is alive (`WorkerHeartbeat`, every HEARTBEAT_SECONDS from a thread), and closes the
  running task rows of a worker that stopped answering, re-enqueuing their work: a worker killed in
  the middle of a task is taken over within seconds, and no row stays "running" forever;
- it runs the sweeps apps register (`register_sweep`): finders of work whose enqueue was lost (a
  tracker batch stored while the web process died before enqueuing it), every few seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import OperationalError, close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from vinculo.core.delivery import deliveries_run
from vinculo.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
# a worker whose heartbeat is older than this is dead (a SIGKILL, a lost machine)
DEAD_AFTER = dt.timedelta(seconds=20)
REAP_EVERY_SECONDS = 3.0
RUNNING, READY, FAILED = "RUNNING", "READY", "FAILED"


@dataclass
class Sweep:
    """A finder of lost work, run by every worker every `every_seconds` (it must be idempotent and
    cheap when there is nothing to find)."""

    name: str
    every_seconds: float
    run: Callable[[], Any]
    last_run: float = field(default=0.0, compare=False)


_sweeps: dict[str, Sweep] = {}


def register_sweep(*, name: str, every_seconds: float, run: Callable[[], Any]) -> None:
    _sweeps[name] = Sweep(name=name, every_seconds=every_seconds, run=run)


def registered_sweeps() -> list[Sweep]:
    return list(_sweeps.values())


class WorkerDied(Exception):
    """The exception recorded on a task row whose worker stopped answering while running it."""


def reap_dead_workers(*, now: dt.datetime | None = None, dead_after: dt.timedelta = DEAD_AFTER) -> list[str]:
    """Close the running task rows of workers that stopped answering and enqueue their work again
    (tasks are idempotent); forget those workers. A running row whose worker never wrote a
    heartbeat (a plain `db_worker`, or one from before heartbeats) counts as dead once it has run
    longer than `dead_after` without a live worker's heartbeat. Returns the ids of the new task rows.
    """
    now = now or timezone.now()
    cutoff = now - dead_after
    live = set(WorkerHeartbeat.objects.filter(beat_at__gte=cutoff).values_list("worker_id", flat=True))
    requeued: list[str] = []
    for task in DBTaskResult.objects.filter(status=RUNNING).only(
        "id", "worker_ids", "started_at", "task_path", "args_kwargs", "queue_name", "priority", "backend_name"
    ):
        holder = task.worker_ids[-1] if task.worker_ids else ""
        if holder in live or (task.started_at is not None and task.started_at >= cutoff):
            continue
        with transaction.atomic():
            closed = DBTaskResult.objects.filter(pk=task.pk, status=RUNNING).update(
                status=FAILED,
                finished_at=now,
                return_value=None,
                exception_class_path=f"{WorkerDied.__module__}.{WorkerDied.__qualname__}",
                traceback=f"worker {holder or '?'} stopped answering while running this task; enqueued again",
            )
            if not closed:
                continue
            again = DBTaskResult.objects.create(
                task_path=task.task_path,
                args_kwargs=task.args_kwargs,
                queue_name=task.queue_name,
                priority=task.priority,
                backend_name=task.backend_name,
                run_after=now,
            )
        logger.warning("task %s (%s) of dead worker %s enqueued again as %s", task.pk, task.task_path, holder, again.pk)
        requeued.append(str(again.pk))
    WorkerHeartbeat.objects.filter(beat_at__lt=cutoff).delete()
    return requeued


class Heartbeat(threading.Thread):
    """Writes the worker's heartbeat every HEARTBEAT_SECONDS, even while a long task runs."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def beat(self) -> None:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"beat_at": timezone.now(), "hostname": socket.gethostname()[:255], "pid": os.getpid()},
        )

    def run(self) -> None:
        try:
            while not self.stopped.wait(HEARTBEAT_SECONDS):
                try:
                    self.beat()
                except Exception:
                    logger.exception("worker %s could not write its heartbeat", self.worker_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()


class Worker(DatabaseWorker):
    """django-tasks-db's worker loop with event delivery, heartbeats, reaping and sweeps."""

    def run(self) -> None:
        logger.info("Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names))
        heartbeat = Heartbeat(self.worker_id)
        self._guarded("writing the first heartbeat", heartbeat.beat)
        heartbeat.start()
        last_reap = 0.0
        try:
            while self.running:
                close_old_connections()
                now = time.monotonic()
                if now - last_reap >= REAP_EVERY_SECONDS:
                    last_reap = now
                    self._guarded("reaping dead workers", reap_dead_workers)
                for sweep in registered_sweeps():
                    if now - sweep.last_run >= sweep.every_seconds:
                        sweep.last_run = now
                        self._guarded(f"sweep {sweep.name}", sweep.run)
                delivered = self._guarded("delivering events", deliveries_run)
                task_result = self._claim_task()
                if task_result is not None:
                    self.run_task(task_result)
                idle = task_result is None and not (delivered and delivered.claimed)
                if self.batch and idle:
                    logger.info("No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id)
                    return
                if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                    return
                close_old_connections()
                if self.running and idle:
                    time.sleep(self.interval)
        finally:
            heartbeat.stop()
            self._guarded("removing the heartbeat", WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete)

    def _claim_task(self) -> DBTaskResult | None:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
                return task_result
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                return None
            raise

    def _guarded(self, what: str, step: Callable[[], Any]) -> Any:
        """Run one housekeeping step; a failure is logged and retried on a later turn, never
        allowed to stop the worker."""
        try:
            self.running_task = True  # a SIGTERM now lets the step finish its transaction
            return step()
        except Exception:
            logger.exception("worker %s: %s failed", self.worker_id, what)
            return None
        finally:
            self.running_task = False
