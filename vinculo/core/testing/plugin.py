"""The generic pytest plugin of the test kit (registered in the root conftest.py).

It holds what needs no app model; `org`, `member_factory`, `contact`, `pipeline` and the other
fixtures built on models are in each app's `testing.py`, registered beside this plugin. The
scope rules are explained in vinculo/core/testing/scopes.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_scopes import scope, scopes_disabled

from vinculo.core.testing.subprocesses import migrated_sqlite, migrated_sqlite_template

__all__ = ["in_org_scope", "migrated_sqlite", "migrated_sqlite_template"]


@pytest.fixture(autouse=True)
def _scopes_disabled_marker(request: pytest.FixtureRequest) -> Iterator[None]:
    """`@pytest.mark.scopes_disabled`: the test and its fixtures run without scopes."""
    if request.node.get_closest_marker("scopes_disabled") is None:
        yield
        return
    with scopes_disabled():
        yield


@pytest.fixture
def in_org_scope(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The test body runs in the scope of `org`; the fixture's value is that organisation."""
    org = request.getfixturevalue("org")
    with scope(organization=org):
        yield org
