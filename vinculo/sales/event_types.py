"""The event types the sales services write: deals, lead conversion and assignment, quotes, orders
and activities. Collected by vinculo.core.event_types."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from vinculo.core.event_types import EventType

DEAL = {"deal_id": "integer", "title": "string"}
QUOTE = {"quote_id": "integer", "number": "string", "total": "decimal", "currency": "string"}
ACTIVITY = {
    "activity_id": "integer",
    "kind": "string",
    "subject": "string",
    "due_at": "datetime",
    "assignee": "string",
    "deal_id": "integer",
}

EVENT_TYPES = (
    EventType(
        name="deal.created",
        label=_("Deal created"),
        sentence=_("%(title)s created in %(stage)s, %(amount)s %(currency)s"),
        icon="briefcase",
        kind="sales",
        properties={
            **DEAL,
            "amount": "decimal",
            "currency": "string",
            "pipeline": "string",
            "stage_id": "integer",
            "stage": "string",
            "owner": "string",
        },
    ),
    EventType(
        name="deal.stage_changed",
        label=_("Deal moved"),
        sentence=_("%(title)s moved from %(from_stage)s to %(to_stage)s"),
        icon="arrow-right-square",
        kind="sales",
        properties={
            **DEAL,
            "from_stage_id": "integer",
            "from_stage": "string",
            "to_stage_id": "integer",
            "to_stage": "string",
            "pipeline": "string",
            "status": "string",
            "amount": "decimal",
            "currency": "string",
            "lost_reason": "string",
        },
    ),
    EventType(
        name="deal.amount_changed",
        label=_("Deal amount changed"),
        sentence=_("%(title)s: amount changed from %(from)s to %(to)s %(currency)s"),
        icon="cash-coin",
        kind="sales",
        properties={**DEAL, "from": "decimal", "to": "decimal", "currency": "string"},
    ),
    EventType(
        name="deal.owner_changed",
        label=_("Deal reassigned"),
        sentence=_("%(title)s reassigned to %(to)s"),
        icon="person-check",
        kind="sales",
        properties={**DEAL, "from_owner_id": "integer", "from": "string", "to_owner_id": "integer", "to": "string"},
    ),
    EventType(
        name="deal.deleted",
        label=_("Deal deleted"),
        sentence=_("Deal %(title)s deleted"),
        icon="briefcase",
        kind="sales",
        properties=DEAL,
    ),
    EventType(
        name="lead.converted",
        label=_("Lead qualified and converted"),
        sentence=_("Qualified with the deal %(deal)s"),
        icon="check2-circle",
        kind="sales",
        properties={
            "contact_id": "integer",
            "company_id": "integer",
            "company": "string",
            "company_created": "boolean",
            "deal_id": "integer",
            "deal": "string",
        },
    ),
    EventType(
        name="lead.assigned",
        label=_("Lead assigned"),
        sentence=_("Assigned to %(owner)s"),
        icon="person-check",
        kind="sales",
        properties={
            "owner_id": "integer",
            "owner": "string",
            "rule_id": "integer",
            "rule": "string",
            "reason": "string",
        },
    ),
    EventType(
        name="quote.created",
        label=_("Quote created"),
        sentence=_("Quote %(number)s for %(total)s %(currency)s"),
        icon="file-earmark-text",
        kind="sales",
        properties={**QUOTE, "lines": "integer"},
    ),
    EventType(
        name="quote.sent",
        label=_("Quote sent"),
        sentence=_("Quote %(number)s sent, %(total)s %(currency)s"),
        icon="send",
        kind="sales",
        # e-mailed: the address, the outgoing message and its files (source, id, name, type, size)
        properties={**QUOTE, "to": "email", "outgoing_message_id": "integer", "attachments": "array"},
    ),
    EventType(
        name="quote.accepted",
        label=_("Quote accepted"),
        sentence=_("Quote %(number)s accepted, %(total)s %(currency)s"),
        icon="file-earmark-check",
        kind="sales",
        properties=QUOTE,
    ),
    EventType(
        name="quote.declined",
        label=_("Quote declined"),
        sentence=_("Quote %(number)s declined"),
        icon="file-earmark-x",
        kind="sales",
        properties=QUOTE,
    ),
    EventType(
        name="order.placed",
        label=_("Order placed"),
        sentence=_("Order %(number)s for %(total)s %(currency)s"),
        icon="bag-check",
        kind="sales",
        properties={
            "order_id": "integer",
            "number": "string",
            "total": "decimal",
            "currency": "string",
            "channel": "string",
            "lines": "integer",
        },
    ),
    EventType(
        name="order.status_changed",
        label=_("Order status changed"),
        sentence=_("Order %(number)s changed from %(from)s to %(to)s"),
        icon="bag",
        kind="sales",
        properties={"order_id": "integer", "number": "string", "from": "string", "to": "string", "total": "decimal"},
    ),
    EventType(
        name="activity.created",
        label=_("Activity planned"),
        sentence=_("Planned: %(subject)s"),
        icon="check2-square",
        kind="sales",
        properties=ACTIVITY,
    ),
    EventType(
        name="activity.completed",
        label=_("Activity done"),
        sentence=_("Done: %(subject)s"),
        icon="check2-circle",
        kind="sales",
        properties={**ACTIVITY, "outcome": "string"},
    ),
)
