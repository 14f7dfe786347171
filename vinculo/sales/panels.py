"""The sales panels on a contact's and a company's page: their deals, upcoming agenda, quotes and
orders, with the actions that start from there (new deal, new activity, new quote, convert a lead).
Registered in SalesConfig.ready() through vinculo.contacts.panels."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from vinculo.accounts.permissions import can_write
from vinculo.accounts.selectors import visible_to
from vinculo.contacts.models import Company, Contact, LifecycleStage
from vinculo.contacts.panels import Panel, register_panel
from vinculo.sales.models import DealStatus, Order, Quote
from vinculo.sales.selectors.activities import activity_queryset
from vinculo.sales.selectors.deals import deal_queryset
from vinculo.sales.selectors.revenue import customer_value

PANEL_ROWS = 5


def _subject(record: Contact | Company) -> tuple[str, Q]:
    if isinstance(record, Contact):
        return "contact", Q(contact=record)
    return "company", Q(company=record) | Q(contact__company=record)


def deals_panel(request: HttpRequest, record: Contact | Company) -> dict[str, Any]:
    actor = request.membership  # type: ignore[attr-defined]
    kind, about = _subject(record)
    deals = deal_queryset(actor=actor).filter(about).select_related("stage", "owner")
    open_deals = list(deals.filter(status=DealStatus.OPEN).order_by("expected_close_date", "-id")[:PANEL_ROWS])
    closed = list(deals.exclude(status=DealStatus.OPEN).order_by("-closed_at", "-id")[:PANEL_ROWS])
    return {
        "kind": kind,
        "record": record,
        "open_deals": open_deals,
        "closed_deals": closed,
        "can_write": can_write(actor),
        "is_lead": isinstance(record, Contact) and record.lifecycle_stage == LifecycleStage.LEAD,
    }


def agenda_panel(request: HttpRequest, record: Contact | Company) -> dict[str, Any]:
    actor = request.membership  # type: ignore[attr-defined]
    kind, about = _subject(record)
    upcoming = list(
        activity_queryset(actor=actor)
        .filter(about, done_at__isnull=True)
        .select_related("assignee")
        .order_by("due_at", "id")[:PANEL_ROWS]
    )
    now = timezone.now()
    for activity in upcoming:
        activity.is_overdue = activity.due_at < now  # type: ignore[attr-defined]
    return {"kind": kind, "record": record, "activities": upcoming, "can_write": can_write(actor)}


def documents_panel(request: HttpRequest, record: Contact | Company) -> dict[str, Any]:
    actor = request.membership  # type: ignore[attr-defined]
    kind, about = _subject(record)
    orders = list(visible_to(Order.objects.filter(about), actor).order_by("-placed_at", "-id")[:PANEL_ROWS])
    quotes = list(visible_to(Quote.objects.filter(about), actor).order_by("-created_at", "-id")[:PANEL_ROWS])
    return {
        "kind": kind,
        "record": record,
        "orders": orders,
        "quotes": quotes,
        "value": customer_value(about),
        "can_write": can_write(actor),
    }


def register() -> None:
    for subject in ("contact", "company"):
        register_panel(
            subject, Panel(name="sales.deals", template="sales/panels/deals.html", loader=deals_panel, order=10)
        )  # type: ignore[arg-type]
        register_panel(
            subject, Panel(name="sales.agenda", template="sales/panels/agenda.html", loader=agenda_panel, order=20)
        )  # type: ignore[arg-type]
        register_panel(
            subject,  # type: ignore[arg-type]
            Panel(name="sales.documents", template="sales/panels/documents.html", loader=documents_panel, order=30),
        )
