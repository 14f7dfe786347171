"""The task backend of the test suite (config/test_settings.py): django-tasks' ImmediateBackend,
which runs a task at once in the caller's thread, but with no organisation scope active, as a
`db_worker` process runs it.

With the plain ImmediateBackend a task enqueued from a request or a scoped service ran inside the
caller's scope, so a task that forgot to enter its organisation's scope passed the suite and
raised ScopeError in production. Here the caller's django-scopes state is set aside while the
task runs and restored afterwards.
"""

from __future__ import annotations

from typing import Any

from django_scopes.state import state
from django_tasks.backends.immediate import ImmediateBackend


class WorkerLikeImmediateBackend(ImmediateBackend):
    """ImmediateBackend, each task run with no scope active (as in a worker)."""

    def _execute_task(self, task_result: Any) -> None:
        token = state.set(None)
        try:
            super()._execute_task(task_result)
        finally:
            state.reset(token)
