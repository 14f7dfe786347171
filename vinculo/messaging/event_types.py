"""The event types of the messaging layer: consent granted, withdrawn and confirmed, whatever the
channel (web form, import, API, preference centre, unsubscribe link, a member's change).
Collected by vinculo.core.event_types."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from vinculo.core.event_types import EventType

CONSENT = {
    "subscription_type": "string",
    "subscription_type_id": "integer",
    "version": "string",
    "consent_id": "integer",
}
RECORDED = {
    **CONSENT,
    "channel": "string",
    "status": "string",
    "form_id": "integer",  # from a web form
    "submission_id": "integer",
}

# the sentences name the subscription type by its current name (messaging/record_links.py)
SUBSCRIPTION_TYPE = {"subscription_type": ("subscription_type", "subscription_type_id")}

EVENT_TYPES = (
    EventType(
        name="consent.granted",
        label=_("Consent given"),
        sentence=_("%(contact)s gave consent to %(subscription_type)s"),
        icon="shield-check",
        kind="record",
        properties=RECORDED,
        links=SUBSCRIPTION_TYPE,
    ),
    EventType(
        name="consent.withdrawn",
        label=_("Consent withdrawn"),
        sentence=_("%(contact)s withdrew consent to %(subscription_type)s"),
        icon="shield-x",
        kind="record",
        properties=RECORDED,
        links=SUBSCRIPTION_TYPE,
    ),
    EventType(
        name="consent.confirmed",
        label=_("Consent confirmed by e-mail"),
        sentence=_("%(contact)s confirmed by e-mail the consent to %(subscription_type)s"),
        icon="shield-fill-check",
        kind="record",
        properties=CONSENT,
        links=SUBSCRIPTION_TYPE,
    ),
)
