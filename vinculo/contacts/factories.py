"""factory-boy factories of the contacts app (rows written directly: see core/testing/factories.py)."""

from __future__ import annotations

import factory

from vinculo.accounts.factories import OrganizationFactory
from vinculo.contacts.models import Company, Contact, Note, Tag
from vinculo.core.testing.factories import OrgScopedFactory


class TagFactory(OrgScopedFactory):
    class Meta:
        model = Tag

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"tag {n}")


class CompanyFactory(OrgScopedFactory):
    class Meta:
        model = Company

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Company {n}")


class ContactFactory(OrgScopedFactory):
    class Meta:
        model = Contact

    organization = factory.SubFactory(OrganizationFactory)
    first_name = "Ana"
    last_name = factory.Sequence(lambda n: f"García {n}")


class NoteFactory(OrgScopedFactory):
    class Meta:
        model = Note

    organization = factory.LazyAttribute(lambda note: note.contact.organization)
    contact = factory.SubFactory(ContactFactory)
    body = "A note"
