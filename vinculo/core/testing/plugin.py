"""The generic pytest plugin of the test kit (registered in the root conftest.py).

It holds what needs no app model; `org`, `member_factory`, `contact`, `pipeline` and the other
fixtures built on models are in each app's `testing.py`, registered beside this plugin. The
scope rules are explained in vinculo/core/testing/scopes.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from django_scopes import scope, scopes_disabled
from django_tasks.signals import task_finished

from vinculo.core.testing.network import fake_dns, tcp_listener
from vinculo.core.testing.subprocesses import migrated_sqlite, migrated_sqlite_template

__all__ = ["fake_dns", "in_org_scope", "migrated_sqlite", "migrated_sqlite_template", "tcp_listener"]


@pytest.fixture(autouse=True, scope="session")
def _media_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Files the tests store (e-mail attachments) go to a throwaway folder, not var/media."""
    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield


@pytest.fixture(autouse=True)
def _scopes_disabled_marker(request: pytest.FixtureRequest) -> Iterator[None]:
    """`@pytest.mark.scopes_disabled`: the test and its fixtures run without scopes."""
    if request.node.get_closest_marker("scopes_disabled") is None:
        yield
        return
    with scopes_disabled():
        yield


@pytest.fixture(autouse=True)
def _no_task_fails_outside_a_scope() -> Iterator[None]:
    """A task that queries an organisation's data without entering its scope fails the test.

    Tasks run at once with no scope active (vinculo/core/testing/tasks.py); the immediate backend
    records a task's exception on its result instead of raising it, so it is looked for here.
    """
    failures: list[str] = []

    def record(sender: Any, task_result: Any, **kwargs: Any) -> None:
        for error in task_result.errors:
            if error.exception_class_path.endswith("ScopeError"):
                failures.append(f"{task_result.task.module_path}:\n{error.traceback}")

    task_finished.connect(record)
    try:
        yield
    finally:
        task_finished.disconnect(record)
    assert not failures, "a task queried outside its organisation's scope:\n" + "\n".join(failures)


@pytest.fixture
def in_org_scope(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The test body runs in the scope of `org`; the fixture's value is that organisation."""
    org = request.getfixturevalue("org")
    with scope(organization=org):
        yield org
