"""Tests run with django-scopes enabled, as production does.

A query of an organisation-scoped model outside `scope(organization=…)` raises `ScopeError` in a
test exactly as it would in a task or a command, so code that forgets to enter its
organisation's scope fails the suite. Tests that query such models directly enter a scope:

- `org_scope(org)`: a context manager (`with org_scope(org): Contact.objects.count()`);
- the `in_org_scope` fixture: the whole test body runs in `org`'s scope (the `org` fixture of
  vinculo/accounts/testing.py, looked up by name so that core imports no app);
- `@pytest.mark.scopes_disabled`: opts a whole test out (fixtures included), for tests that set
  up or inspect data across organisations on purpose.

Factories create rows through `dangerously_unscoped` managers, so they need no scope.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from django_scopes import scope


def org_scope(org: Any) -> AbstractContextManager[Any]:
    """The scope of one organisation (a model instance or its id)."""
    return scope(organization=org)
