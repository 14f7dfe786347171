"""Pytest fixtures of the contacts app (registered from the root conftest.py).

`contact` (Ana García) and `company` (Acme S.L.) of `org`, made by the services as a user would,
so their timeline, search index and audit rows exist. Factories: vinculo/contacts/factories.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django_scopes import scope

from vinculo.accounts.models import Membership
from vinculo.contacts.models import Company, Contact
from vinculo.contacts.services import company_create, contact_create


def make_contact(actor: Membership, **data: Any) -> Contact:
    """A contact of the actor's organisation, made by `contact_create`."""
    data.setdefault("first_name", "Ana")
    with scope(organization=actor.organization):
        return contact_create(actor=actor, data=data)


def make_company(actor: Membership, **data: Any) -> Company:
    """A company of the actor's organisation, made by `company_create`."""
    data.setdefault("name", "Acme")
    with scope(organization=actor.organization):
        return company_create(actor=actor, data=data)


@pytest.fixture
def contact(actor: Membership) -> Contact:
    """Ana García, a contact of `org`."""
    return make_contact(actor, first_name="Ana", last_name="García")


@pytest.fixture
def company(actor: Membership) -> Company:
    """Acme S.L., a company of `org`."""
    return make_company(actor, name="Acme S.L.")
