"""Background tasks of accounts. Thin and idempotent: safe to run twice, or late."""

from __future__ import annotations

from django_tasks import task

from vinculo.accounts.throttle import prune_attempts


@task()
def prune_login_attempts(older_than_days: int = 30) -> int:
    """Forget login attempts older than `older_than_days` (enqueued daily by `manage.py scheduler`).

    Idempotent: a second run finds nothing left to delete and returns 0.
    """
    return prune_attempts(older_than_days=older_than_days)
