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

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
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


def _new_leads(user_ids: list[int], day: MyDay) -> QuerySet[Contact]:
    since = day.now - dt.timedelta(days=NEW_LEAD_DAYS)
    owner_changed = AuditEntry.objects.filter(
        object_type="contacts.contact",
        object_id=OuterRef("pk"),
        action=AuditEntry.Action.UPDATE,
        created_at__gte=since,
        changes__has_key="owner",
    )
    return Contact.objects.filter(owner_id__in=user_ids, lifecycle_stage=LifecycleStage.LEAD).filter(
        Q(created_at__gte=since) | Exists(owner_changed)
    )


def leads_panel(request: HttpRequest, day: MyDay) -> dict[str, Any]:
    actor: Membership = request.membership  # type: ignore[attr-defined]
    leads = _new_leads([actor.user_id], day)
    rows = list(leads.select_related("company").order_by("-created_at", "-id")[:LEAD_ROWS])
    return {
        "leads": rows,
        "count": leads.count(),
        "days": NEW_LEAD_DAYS,
        "can_write": can_write(actor),
    }


def new_lead_counts(actor: Membership, user_ids: list[int], day: MyDay) -> dict[int, int]:
    rows = _new_leads(user_ids, day).values("owner_id").annotate(n=Count("id")).order_by()
    return {row["owner_id"]: row["n"] for row in rows}


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
        RecentKind(object_type="contacts.contact", label=_("Contact"), icon="person", visible=visible_contacts)
    )
    register_recent_kind(
        RecentKind(object_type="contacts.company", label=_("Company"), icon="building", visible=visible_companies)
    )
