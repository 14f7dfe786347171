"""`manage.py scheduler`: the one process that enqueues periodic tasks.

It never does the work itself: each cron trigger only enqueues a django-tasks task, which a task
worker (`manage.py worker`) runs. Run exactly one scheduler per install (several would enqueue
every job several times; the tasks are idempotent, so that is wasteful rather than harmful).
The jobs are `settings.PERIODIC_TASKS`: `{id: {"task": dotted path, "cron": "m h dom mon dow",
"kwargs": {...}}}`, in UTC.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
from collections.abc import Mapping
from types import FrameType
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand
from django.db import connections
from django.utils.module_loading import import_string
from django_tasks.base import Task

logger = logging.getLogger("vinculo.scheduler")


def enqueue_task(task_path: str, kwargs: Mapping[str, Any]) -> str:
    """Enqueue the task at `task_path` and return its result id."""
    task = import_string(task_path)
    result = task.enqueue(**dict(kwargs))
    logger.info("enqueued %s (%s)", task_path, result.id)
    return str(result.id)


def run_job(task_path: str, kwargs: Mapping[str, Any]) -> str:
    """What every trigger runs, in APScheduler's thread pool: enqueue, then close this thread's
    database connection rather than leave it open until the next run."""
    try:
        return enqueue_task(task_path, kwargs)
    finally:
        connections.close_all()


def build_scheduler(jobs: Mapping[str, Mapping[str, Any]] | None = None) -> BlockingScheduler:
    """A scheduler with one cron job per entry of `jobs` (default: settings.PERIODIC_TASKS).

    Raises ImproperlyConfigured for a path that is not a task or a malformed cron expression,
    so a typo fails at start-up rather than at 3 a.m.
    """
    specs: Mapping[str, Mapping[str, Any]] = settings.PERIODIC_TASKS if jobs is None else jobs
    scheduler = BlockingScheduler(
        timezone=dt.UTC,
        # a job missed while the scheduler was down runs once when it comes back (within an hour)
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for job_id, spec in specs.items():
        task_path = str(spec["task"])
        try:
            task = import_string(task_path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"PERIODIC_TASKS[{job_id!r}]: cannot import {task_path}") from exc
        if not isinstance(task, Task):
            raise ImproperlyConfigured(f"PERIODIC_TASKS[{job_id!r}]: {task_path} is not a task (use @task)")
        try:
            trigger = CronTrigger.from_crontab(str(spec["cron"]), timezone=dt.UTC)
        except ValueError as exc:
            raise ImproperlyConfigured(f"PERIODIC_TASKS[{job_id!r}]: bad cron {spec['cron']!r}: {exc}") from exc
        scheduler.add_job(
            run_job,
            trigger=trigger,
            args=[task_path, dict(spec.get("kwargs") or {})],
            id=job_id,
            name=f"{job_id} → {task_path}",
            replace_existing=True,
        )
    return scheduler


class Command(BaseCommand):
    help = "Run the scheduler that enqueues periodic tasks (run exactly one per install)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--list", action="store_true", help="Print the jobs and their next run, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        scheduler = build_scheduler()
        if options["list"]:
            now = dt.datetime.now(dt.UTC)
            for job in scheduler.get_jobs():
                next_run = job.trigger.get_next_fire_time(None, now)
                self.stdout.write(f"{job.id}\t{job.trigger}\tnext {next_run:%Y-%m-%d %H:%M} UTC\t{job.args[0]}")
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"Scheduler: {len(scheduler.get_jobs())} periodic job(s); enqueueing on their schedule.")
        self.stdout.flush()
        scheduler.start()
