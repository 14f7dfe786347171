"""accounts' background tasks: pruning old login attempts, as the scheduler enqueues it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from vinculo.accounts.models import LoginAttempt
from vinculo.accounts.tasks import prune_login_attempts
from vinculo.core.management.commands.scheduler import enqueue_task

DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _attempt(days_ago: int, email: str) -> LoginAttempt:
    attempt = LoginAttempt.objects.create(email=email, ip="192.0.2.1", succeeded=False)
    LoginAttempt.objects.filter(pk=attempt.pk).update(attempted_at=timezone.now() - dt.timedelta(days=days_ago))
    return attempt


@pytest.mark.django_db
def test_prune_login_attempts_is_idempotent():
    _attempt(45, "old@example.com")
    _attempt(31, "old@example.com")
    recent = _attempt(2, "new@example.com")

    assert prune_login_attempts.call() == 2
    assert prune_login_attempts.call() == 0

    assert list(LoginAttempt.objects.values_list("pk", flat=True)) == [recent.pk]


# transaction=True: the worker closes a connection it finds inside a transaction, as the test's is
@pytest.mark.django_db(transaction=True)
def test_the_scheduler_job_enqueues_and_a_worker_runs_the_task(settings):
    settings.TASKS = DATABASE
    _attempt(90, "old@example.com")

    result_id = enqueue_task("vinculo.accounts.tasks.prune_login_attempts", {"older_than_days": 60})

    assert LoginAttempt.objects.count() == 1  # only enqueued
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    assert LoginAttempt.objects.count() == 0
    assert prune_login_attempts.get_result(result_id).return_value == 1
