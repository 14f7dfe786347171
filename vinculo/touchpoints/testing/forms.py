"""Helpers of the web form tests: a form with every kind of field and consent (its subscription
types created first), a good submission, the set-based consent check."""

from __future__ import annotations

import time
from typing import Any

from django_scopes import scope

from vinculo.accounts.models import Membership, Organization
from vinculo.contacts.models import Contact
from vinculo.messaging.models import Consent, SubscriptionType
from vinculo.messaging.selectors.consent import contacts_consenting
from vinculo.messaging.services.consent import contact_consent_record
from vinculo.touchpoints.models import WebForm
from vinculo.touchpoints.services import forms as services

FIELDS = [
    {"name": "first_name", "label": "First name", "type": "text", "maps_to": "first_name"},
    {"name": "last_name", "label": "Last name", "type": "text", "maps_to": "last_name"},
    {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"},
    {"name": "phone", "label": "Phone", "type": "tel", "maps_to": "phone"},
    {"name": "company", "label": "Company", "type": "text", "maps_to": "company"},
    {"name": "country", "label": "Country", "type": "select", "maps_to": "country", "options": ["ES", "PT", "FR"]},
    {"name": "budget", "label": "Budget", "type": "select", "maps_to": "custom.budget", "options": ["small", "big"]},
    {"name": "message", "label": "Message", "type": "textarea"},
]
CONSENTS = [
    {"key": "newsletter", "text": "Send me the monthly newsletter.", "required": False},
    {"key": "terms", "text": "I accept the privacy policy.", "required": True},
]
META = services.SubmissionMeta(
    ip="203.0.113.7", user_agent="Mozilla/5.0 (Test)", page_url="https://www.example.com/contact", language="en"
)


TYPE_KEYS = ("newsletter", "terms", "partners")


def consent_types(org: Organization) -> dict[str, SubscriptionType]:
    """The subscription types the forms of these tests name (created once per organisation)."""
    with scope(organization=org):
        return {
            key: SubscriptionType.objects.get_or_create(organization=org, key=key, defaults={"name": key.title()})[0]
            for key in TYPE_KEYS
        }


def consent_is_valid(contact: Contact, key: str) -> bool:
    """Whether the contact may be written to for the type, by the set-based check."""
    subscription_type = consent_types(contact.organization)[key]
    with scope(organization=contact.organization):
        return contacts_consenting(Contact.objects.filter(pk=contact.pk), subscription_type).exists()


def withdraw(actor: Membership, contact: Contact, key: str) -> Consent:
    with scope(organization=actor.organization):
        return contact_consent_record(actor=actor, contact=contact, data={"subscription_type": key, "granted": False})


def make_form(actor: Membership, **data: Any) -> WebForm:
    consent_types(actor.organization)
    with scope(organization=actor.organization):
        return services.web_form_create(
            actor=actor, data={"name": "Contact us", "fields": FIELDS, "consents": CONSENTS, **data}
        )


def token(form: WebForm, seconds_ago: float = 30) -> str:
    return services.fill_token(form, issued_at=time.time() - seconds_ago)


def submit(form: WebForm, meta: Any = META, **values: Any) -> Any:
    """Send the form as a visitor would, 30 seconds after it was shown (a `SubmissionResult`)."""
    data = {"_ts": token(form), **values}
    with scope(organization=form.organization):
        return services.form_submit(form=form, data=data, meta=meta)


GOOD = {
    "first_name": "Ana",
    "last_name": "García",
    "email": "Ana@Example.com",
    "phone": "612 345 678",
    "company": "Acme Iberia",
    "country": "ES",
    "budget": "big",
    "message": "Call me, please.",
    "consent.newsletter": "on",
    "consent.terms": "on",
}
