"""The event types of what enters from outside: the website tracker (page views, visits, a site's
own events, identification), web forms and their consents, e-mail in and out, social lead ads.
Collected by vinculo.core.event_types."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from vinculo.core.event_types import EventType

EMAIL = {
    "subject": "string",
    "snippet": "string",
    "thread_id": "integer",
    "email_message_id": "integer",
    # the files that came with it: source, id, name, type, size (and a note when not kept)
    "attachments": "array",
}

EVENT_TYPES = (
    EventType(
        name="page.viewed",
        label=_("Page viewed"),
        sentence=_("%(contact)s viewed %(url)s"),
        icon="globe",
        kind="web",
        properties={
            "url": "url",
            "title": "string",
            "path": "string",
            "referrer": "url",
            "utm_source": "string",
            "utm_medium": "string",
            "utm_campaign": "string",
            "utm_term": "string",
            "utm_content": "string",
            "properties": "object",
        },
        high_volume=True,
    ),
    EventType(
        name="session.started",
        label=_("Visit started"),
        sentence=_("%(contact)s started a visit from %(source)s"),
        icon="box-arrow-in-right",
        kind="web",
        properties={
            "session_id": "integer",
            "source": "string",
            "medium": "string",
            "campaign": "string",
            "landing_url": "url",
            "referrer": "url",
        },
    ),
    EventType(
        name="visitor.identified",
        label=_("Identified on the website"),
        sentence=_("%(contact)s identified on the website as %(identifier)s"),
        icon="person-badge",
        kind="web",
        properties={
            "identifier": "string",
            "kind": "string",
            "traits": "object",
            "conflict_id": "integer",
            "created_contact": "boolean",
        },
    ),
    EventType(
        name="identity.conflict",
        label=_("Identity conflict on the website"),
        sentence=_("%(identifier)s also belongs to %(other_contact)s"),
        links={"other_contact": ("contact", "other_contact_id")},
        icon="exclamation-triangle",
        kind="web",
        properties={
            "conflict_id": "integer",
            "identifier": "string",
            "other_contact_id": "integer",
            "anonymous_id": "string",
        },
    ),
    EventType(
        name="web.*",
        label=_("Website event"),
        match_label=_("On the website: %(name)s"),
        sentence=_("%(contact)s on the website: %(name)s"),
        icon="globe",
        kind="web",
        properties={"url": "url"},
    ),
    EventType(
        name="form.submitted",
        label=_("Form submitted"),
        sentence=_("%(contact)s sent the form %(form)s"),
        links={"form": ("form", "form_id")},
        icon="ui-checks",
        kind="web",
        properties={
            "form": "string",
            "form_id": "integer",
            "submission_id": "integer",
            "page": "url",
            "new_contact": "boolean",
        },
    ),
    EventType(
        name="email.sent",
        label=_("E-mail sent"),
        sentence=_("%(actor)s e-mailed %(to)s: “%(subject)s”"),
        links={"subject": ("email_thread", "thread_id")},
        icon="envelope-arrow-up",
        kind="email",
        properties={**EMAIL, "to": "email", "from": "email"},
    ),
    EventType(
        name="email.received",
        label=_("E-mail received"),
        sentence=_("%(from)s wrote: “%(subject)s”"),
        links={"subject": ("email_thread", "thread_id")},
        icon="envelope-arrow-down",
        kind="email",
        properties={**EMAIL, "from": "email"},
    ),
    EventType(
        name="lead.captured",
        label=_("Lead captured from an ad"),
        sentence=_("%(contact)s came in as a lead from %(network)s through %(integration)s"),
        icon="megaphone",
        kind="sales",
        properties={
            "network": "string",
            "campaign": "string",
            "ad_name": "string",
            "form_id": "string",
            "lead_id": "string",
            "integration": "string",
            "consents": "array",
            "form_name": "string",
            "ad_id": "string",
            "adset_id": "string",
            "adset_name": "string",
            "campaign_id": "string",
            "platform": "string",
            "is_organic": "boolean",
            "test_lead": "boolean",
        },
    ),
)
