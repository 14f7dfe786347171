"""Tenancy is structural: a tenant query outside an organisation scope raises."""

from __future__ import annotations

import pytest
from django_scopes import ScopeError, scope

from vinculo.contacts.models import Contact


@pytest.mark.django_db
def test_unscoped_tenant_query_raises(org):
    from django_scopes.state import state

    token = state.set({})  # leave the test-wide scopes_disabled()
    try:
        with pytest.raises(ScopeError):
            list(Contact.objects.all())
    finally:
        state.reset(token)


def test_scope_filters_to_the_organisation(org, other_org):
    Contact.dangerously_unscoped.create(organization=org, first_name="Mine")
    Contact.dangerously_unscoped.create(organization=other_org, first_name="Theirs")
    with scope(organization=org):
        assert [c.first_name for c in Contact.objects.all()] == ["Mine"]
