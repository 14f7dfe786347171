"""The messaging tests run with django-scopes enforced: a query of tenant data outside
`scope(organization=…)` raises, as it does in production code (the shared fixtures disable it)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_scope_leak() -> None:
    """Overrides the shared fixture of the same name, which disables scopes."""
