"""The event types the contacts app writes (services.py), and those only its demo data writes so
far (e-mail opens and clicks, tickets, surveys): move a declaration to the app that starts emitting
the type for real (marketing, service) when it does. Collected by vinculo.core.event_types."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from vinculo.core.event_types import EventType

EVENT_TYPES = (
    EventType(
        name="contact.created",
        label=_("Contact created"),
        sentence=_("%(name)s added to the contacts"),
        icon="person-plus",
        kind="record",
        properties={"name": "string", "source": "string", "owner_id": "integer"},
    ),
    EventType(
        name="contact.updated",
        label=_("Contact updated"),
        sentence=_("Details of %(contact)s changed"),
        icon="pencil",
        kind="record",
        properties={"changes": "object", "owner_id": "integer"},
    ),
    EventType(
        name="contact.deleted",
        label=_("Contact deleted"),
        sentence=_("Contact %(name)s deleted."),
        icon="person-x",
        kind="record",
        properties={"contact_id": "integer", "name": "string"},
    ),
    EventType(
        name="company.created",
        label=_("Company created"),
        sentence=_("%(name)s added to the companies"),
        icon="building-add",
        kind="record",
        properties={"name": "string", "owner_id": "integer"},
    ),
    EventType(
        name="company.updated",
        label=_("Company updated"),
        sentence=_("Company details changed"),
        icon="pencil",
        kind="record",
        properties={"changes": "object", "owner_id": "integer"},
    ),
    EventType(
        name="company.deleted",
        label=_("Company deleted"),
        sentence=_("Company %(name)s deleted."),
        icon="building-x",
        kind="record",
        properties={"company_id": "integer", "name": "string"},
    ),
    EventType(
        name="note.added",
        label=_("Note added"),
        sentence=_("Note: %(excerpt)s"),
        icon="sticky",
        kind="note",
        properties={"note_id": "integer", "excerpt": "string"},
    ),
    # written by the demo data only until marketing sends campaigns
    EventType(
        name="email.opened",
        label=_("E-mail opened"),
        sentence=_("Opened “%(subject)s” of the campaign %(campaign)s"),
        icon="envelope-open",
        kind="email",
        properties={"campaign": "string", "subject": "string"},
    ),
    EventType(
        name="email.clicked",
        label=_("Link clicked in an e-mail"),
        sentence=_("Clicked %(url)s in the campaign %(campaign)s"),
        icon="cursor",
        kind="email",
        properties={"campaign": "string", "url": "url"},
    ),
    # written by the demo data only until the service app exists
    EventType(
        name="ticket.opened",
        label=_("Ticket opened"),
        sentence=_("Ticket “%(subject)s” opened, priority %(priority)s"),
        icon="life-preserver",
        kind="service",
        properties={"subject": "string", "priority": "string"},
    ),
    EventType(
        name="ticket.closed",
        label=_("Ticket closed"),
        sentence=_("Ticket “%(subject)s” closed"),
        icon="check2-circle",
        kind="service",
        properties={"subject": "string"},
    ),
    EventType(
        name="survey.answered",
        label=_("Survey answered"),
        sentence=_("Answered the %(survey)s survey with %(score)s"),
        icon="star",
        kind="service",
        properties={"survey": "string", "score": "integer"},
    ),
)
