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
        sentence=_("%(actor)s added %(name)s to the contacts"),
        links={"name": ("contact", "contact_id")},
        icon="person-plus",
        kind="record",
        properties={"name": "string", "source": "string", "owner_id": "integer"},
    ),
    EventType(
        name="contact.updated",
        label=_("Contact updated"),
        sentence=_("%(actor)s changed %(changes)s of %(contact)s"),
        icon="pencil",
        kind="record",
        properties={"changes": "object", "owner_id": "integer"},
    ),
    EventType(
        name="contact.deleted",
        label=_("Contact deleted"),
        sentence=_("%(actor)s deleted the contact %(name)s"),
        icon="person-x",
        kind="record",
        properties={"contact_id": "integer", "name": "string"},
    ),
    EventType(
        name="company.created",
        label=_("Company created"),
        sentence=_("%(actor)s added %(name)s to the companies"),
        links={"name": ("company", "company_id")},
        icon="building-add",
        kind="record",
        properties={"name": "string", "owner_id": "integer"},
    ),
    EventType(
        name="company.updated",
        label=_("Company updated"),
        sentence=_("%(actor)s changed %(changes)s of %(company)s"),
        links={"company": ("company", "company_id")},
        icon="pencil",
        kind="record",
        properties={"changes": "object", "owner_id": "integer"},
    ),
    EventType(
        name="company.deleted",
        label=_("Company deleted"),
        sentence=_("%(actor)s deleted the company %(name)s"),
        icon="building-x",
        kind="record",
        properties={"company_id": "integer", "name": "string"},
    ),
    EventType(
        name="note.added",
        label=_("Note added"),
        sentence=_("%(actor)s added a note: %(excerpt)s"),
        icon="sticky",
        kind="note",
        properties={"note_id": "integer", "excerpt": "string"},
    ),
    # written by the demo data only until marketing sends campaigns
    EventType(
        name="email.opened",
        label=_("E-mail opened"),
        sentence=_("%(contact)s opened “%(subject)s” of the campaign %(campaign)s"),
        icon="envelope-open",
        kind="email",
        properties={"campaign": "string", "subject": "string"},
    ),
    EventType(
        name="email.clicked",
        label=_("Link clicked in an e-mail"),
        sentence=_("%(contact)s clicked %(url)s in the campaign %(campaign)s"),
        icon="cursor",
        kind="email",
        properties={"campaign": "string", "url": "url"},
    ),
    # written by the demo data only until the service app exists
    EventType(
        name="ticket.opened",
        label=_("Ticket opened"),
        sentence=_("%(contact)s opened the ticket “%(subject)s”, priority %(priority)s"),
        icon="life-preserver",
        kind="service",
        properties={"subject": "string", "priority": "string"},
    ),
    EventType(
        name="ticket.closed",
        label=_("Ticket closed"),
        sentence=_("The ticket “%(subject)s” of %(contact)s was closed"),
        icon="check2-circle",
        kind="service",
        properties={"subject": "string"},
    ),
    EventType(
        name="survey.answered",
        label=_("Survey answered"),
        sentence=_("%(contact)s answered the survey %(survey)s with %(score)s"),
        icon="star",
        kind="service",
        properties={"survey": "string", "score": "integer"},
    ),
)
