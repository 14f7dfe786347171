"""What contacts puts on the home page ("my day"): the leads newly assigned to me (and their count
per member for managers' "my team"), the getting-started step "import or create contacts", and
contacts and companies among "recent records". Registered in ContactsConfig.ready() through
vinculo.accounts.home.

A lead is "newly assigned to me" when I own it and it came to me in the last NEW_LEAD_DAYS days:
it was created with me as its owner then, or its owner was changed since (by hand, in bulk, or by
an assignment rule: every such change is in the audit trail with the contact's id).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.home import (
    ChecklistItem,
    HomePanel,
    MyDay,
    RecentKind,
    TeamColumn,
    register_checklist_item,
    register_home_panel,
    register_recent_kind,
    register_team_column,
)
from vinculo.accounts.models import Membership, Organization
from vinculo.accounts.permissions import can_write
from vinculo.contacts.models import Contact, LifecycleStage
from vinculo.contacts.selectors import company_queryset, contact_queryset
from vinculo.core.models import AuditEntry

NEW_LEAD_DAYS = 7
LEAD_ROWS = 10


def _new_leads(user_ids: list[int], day: MyDay) -> tuple[QuerySet[Contact], QuerySet[Contact]]:
    """The two kinds of new leads, apart so that each is read from an index, never by going over
    every lead of the members: created lately (by owner and creation time), and older ones whose
    owner changed lately (the audit trail's contact changes of the last days)."""
    since = day.now - dt.timedelta(days=NEW_LEAD_DAYS)
    leads = Contact.objects.filter(owner_id__in=user_ids, lifecycle_stage=LifecycleStage.LEAD)
    owner_changed = AuditEntry.objects.filter(
        object_type="contacts.contact",
        created_at__gte=since,
        action=AuditEntry.Action.UPDATE,
        changes__has_key="owner",
    ).values("object_id")
    return leads.filter(created_at__gte=since), leads.filter(created_at__lt=since, pk__in=owner_changed)


def leads_panel(request: HttpRequest, day: MyDay) -> dict[str, Any]:
    actor: Membership = request.membership  # type: ignore[attr-defined]
    created, reassigned = _new_leads([actor.user_id], day)
    newest = (
        created.order_by()
        .values_list("id", "created_at")
        .union(reassigned.order_by().values_list("id", "created_at"), all=True)
        .order_by("-created_at", "-id")[:LEAD_ROWS]
    )
    ids = [pk for pk, _created_at in newest]
    rows = {c.pk: c for c in Contact.objects.filter(pk__in=ids).select_related("company")}
    return {
        "leads": [rows[pk] for pk in ids if pk in rows],
        "count": created.order_by().values("id").union(reassigned.order_by().values("id"), all=True).count(),
        "days": NEW_LEAD_DAYS,
        "can_write": can_write(actor),
    }


def new_lead_counts(actor: Membership, user_ids: list[int], day: MyDay) -> dict[int, int]:
    counts: dict[int, int] = {}
    for part in _new_leads(user_ids, day):
        for row in part.values("owner_id").annotate(n=Count("id")).order_by():
            counts[row["owner_id"]] = counts.get(row["owner_id"], 0) + row["n"]
    return counts


def has_contacts(org: Organization) -> bool:
    return Contact.objects.filter(organization=org).exists()


def visible_contacts(actor: Membership, ids: list[int]) -> dict[int, tuple[str, str]]:
    slug = actor.organization.slug
    contacts = contact_queryset(actor=actor).filter(pk__in=ids).only("id", "first_name", "last_name", "email")
    return {c.pk: (str(c), reverse("contacts:contact_detail", args=[slug, c.pk])) for c in contacts}


def visible_companies(actor: Membership, ids: list[int]) -> dict[int, tuple[str, str]]:
    slug = actor.organization.slug
    return {
        pk: (name, reverse("contacts:company_detail", args=[slug, pk]))
        for pk, name in company_queryset(actor=actor).filter(pk__in=ids).values_list("pk", "name")
    }


def register() -> None:
    register_home_panel(
        HomePanel(name="contacts.leads", template="contacts/home/leads.html", loader=leads_panel, order=30)
    )
    register_team_column(TeamColumn(name="contacts.new_leads", label=_("New leads"), counts=new_lead_counts, order=50))
    register_checklist_item(
        ChecklistItem(
            name="contacts",
            label=_("Import your contacts or create one"),
            help=_("Everything in Vínculo starts from a contact: their deals, e-mails, visits and forms."),
            done=has_contacts,
            url=lambda org: reverse("contacts:contact_create", args=[org.slug]),
            order=20,
        )
    )
    register_recent_kind(
        RecentKind(object_type="contacts.contact", label=_("Contact"), icon="bi-person", visible=visible_contacts)
    )
    register_recent_kind(
        RecentKind(object_type="contacts.company", label=_("Company"), icon="bi-building", visible=visible_companies)
    )
