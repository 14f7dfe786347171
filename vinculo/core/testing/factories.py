"""The base of every app's factory-boy factories.

`OrgScopedFactory` writes through the model's `dangerously_unscoped` manager, so a factory
creates rows with no scope active (tests run with scopes enabled: core/testing/scopes.py) and
for any organisation. Factories are for arranging data; what a test checks goes through the
services, pages and API.
"""

from __future__ import annotations

from typing import Any

import factory
from django_scopes import scopes_disabled


class OrgScopedFactory(factory.django.DjangoModelFactory):
    """A factory for an `OrgScopedModel`: `organization` must be given or declared."""

    class Meta:
        abstract = True

    @classmethod
    def _get_manager(cls, model_class: Any) -> Any:
        return getattr(model_class, "dangerously_unscoped", model_class._default_manager)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        # related managers and post-generation hooks may query scoped models
        with scopes_disabled():
            return super()._create(model_class, *args, **kwargs)
