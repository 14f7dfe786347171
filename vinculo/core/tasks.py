"""Background tasks of the framework itself."""

from __future__ import annotations

from django.core.management import call_command
from django.db import connection
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task, task_backends
from django_tasks_db.backend import DatabaseBackend


@task()
def prune_task_results(min_age_days: int = 14) -> bool:
    """Delete finished task results older than `min_age_days` from the database task backend,
    which otherwise keeps a row for every task ever run (enqueued daily by `manage.py scheduler`).

    Idempotent; returns False and does nothing when another task backend is configured.
    """
    if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        return False
    call_command("prune_db_task_results", min_age_days=min_age_days, verbosity=0)
    return True


@task()
def analyze_database() -> bool:
    """Refresh the statistics the SQLite query planner chooses indexes by (enqueued nightly by
    `manage.py scheduler`). SQLite keeps none until ANALYZE runs, and without them (or with
    sampled ones: `analysis_limit` made it believe an organisation has 1,000 contacts) it walks a
    million-row index where a lookup by id would do. A full ANALYZE reads every index once
    (measured: 33 s for 1,000,000 contacts and 7 million events), holding the write lock
    meanwhile, hence at night.

    Idempotent. Returns False on PostgreSQL, whose autovacuum keeps its statistics itself.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return True
