"""Test helpers for consent: subscription types and ledger rows written as the services would."""

from __future__ import annotations

from typing import Any

from django_scopes import scope

from vinculo.accounts.models import Organization
from vinculo.contacts.models import Contact
from vinculo.messaging.models import Consent, ConsentChannel, SubscriptionType
from vinculo.messaging.services.consent import ConsentProof, consent_record


def make_subscription_type(org: Organization, key: str = "newsletter", **values: Any) -> SubscriptionType:
    """An active type, consent-based and opt-in unless `values` say otherwise."""
    with scope(organization=org):
        values.setdefault("name", key.replace("_", " ").capitalize())
        return SubscriptionType.objects.create(organization=org, key=key, **values)


def record(contact: Contact, subscription_type: SubscriptionType, *, granted: bool = True, **values: Any) -> Consent:
    """A consent recorded through `consent_record` (ledger row, current state, event)."""
    org = contact.organization
    values.setdefault("channel", ConsentChannel.MANUAL)
    values.setdefault("proof", ConsentProof(text="I agree.", text_version="1"))
    with scope(organization=org):
        return consent_record(
            organization=org, contact=contact, subscription_type=subscription_type, granted=granted, **values
        )
