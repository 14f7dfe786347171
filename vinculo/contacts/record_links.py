"""How the timeline names contacts and companies: their names and pages, for a page of events in
one query per kind (vinculo.core.event_story), and who did an automatic change ("the web form
“Newsletter”"). Loaded by CoreConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping

from django.urls import reverse

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.models import Membership
from vinculo.accounts.system_actor import describe_via
from vinculo.contacts.models import Company, Contact
from vinculo.contacts.selectors import company_queryset, contact_queryset
from vinculo.contacts.templatetags.contacts_ui import field_label, source_label
from vinculo.core.event_story import (
    RecordLink,
    Viewer,
    register_field_labeler,
    register_resolver,
    register_value_labeler,
    register_via_describer,
)


def contact_links(viewer: Viewer, ids: set[int]) -> Mapping[int, RecordLink]:
    """The contacts of `ids` the viewer may see, with their pages."""
    contacts = contact_queryset(actor=viewer.membership).filter(organization_id=viewer.organization_id, pk__in=ids)
    return {
        contact.pk: RecordLink(str(contact), reverse("contacts:contact_detail", args=[viewer.org_slug, contact.pk]))
        for contact in contacts.only("id", "first_name", "last_name", "email")
    }


def company_links(viewer: Viewer, ids: set[int]) -> Mapping[int, RecordLink]:
    companies = company_queryset(actor=viewer.membership).filter(organization_id=viewer.organization_id, pk__in=ids)
    return {
        company.pk: RecordLink(company.name, reverse("contacts:company_detail", args=[viewer.org_slug, company.pk]))
        for company in companies.only("id", "name")
    }


def timeline_viewer(
    membership: Membership, *, contact: Contact | None = None, company: Company | None = None
) -> Viewer:
    """The reader of a timeline (page or API): the member and their organisation, and the contact
    or company whose timeline it is (named without a query)."""
    organization = membership.organization
    slug = organization.slug
    known: dict[tuple[str, int], RecordLink] = {}
    if contact is not None:
        url = reverse("contacts:contact_detail", args=[slug, contact.pk])
        known[("contact", contact.pk)] = RecordLink(str(contact), url)
    if company is not None:
        url = reverse("contacts:company_detail", args=[slug, company.pk])
        known[("company", company.pk)] = RecordLink(company.name, url)
    return Viewer(membership, membership.organization_id, slug, known, country=str(organization.country or ""))


def viewer_of(request: OrgRequest, *, contact: Contact | None = None, company: Company | None = None) -> Viewer:
    """The reader of a page under /o/<slug>/."""
    return timeline_viewer(request.membership, contact=contact, company=company)


register_resolver("contact", contact_links)
register_resolver("company", company_links)
register_via_describer(describe_via)
register_field_labeler(field_label)
register_value_labeler("contact.created", "source", source_label)
