"""Reads of consent: who may be written to for a purpose (one query for any number of contacts),
a contact's state per subscription type, and the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from vinculo.contacts.models import Contact
from vinculo.messaging.models import Consent, ContactSubscription, SubscriptionStatus, SubscriptionType


def contacts_consenting(queryset: QuerySet[Contact], subscription_type: SubscriptionType) -> QuerySet[Contact]:
    """The contacts of `queryset` that may be written to for `subscription_type`, still a lazy
    queryset: one query with a subquery on the current-state table, however many contacts.

    Under consent (or an opt-in type) only those whose current state is subscribed; an opt-out type
    on another lawful basis (legitimate interest, contract, legal obligation) everybody who did
    not unsubscribe. An inactive type: nobody."""
    if not subscription_type.is_active:
        return queryset.none()
    states = ContactSubscription.objects.filter(subscription_type=subscription_type)
    if subscription_type.everybody_unless_refused:
        refused = states.filter(status=SubscriptionStatus.UNSUBSCRIBED).values("contact_id")
        return queryset.exclude(pk__in=refused)
    return queryset.filter(pk__in=states.filter(status=SubscriptionStatus.SUBSCRIBED).values("contact_id"))


@dataclass(frozen=True)
class ConsentStatus:
    """Where a contact stands for one subscription type."""

    subscription_type: SubscriptionType
    status: str  # subscribed, pending, unsubscribed, or "" (never answered)
    consenting: bool  # may be written to for it now
    consent: Consent | None  # the ledger row that set the status


def contact_consent_status(contact: Contact) -> list[ConsentStatus]:
    """The contact's state for every active subscription type of its organisation and every type
    it ever answered, by name; two queries."""
    states = {
        s.subscription_type_id: s
        for s in ContactSubscription.objects.filter(contact=contact).select_related(
            "consent", "consent__actor", "subscription_type"
        )
    }
    types = {t.pk: t for t in SubscriptionType.objects.filter(is_active=True)}
    types.update({type_id: s.subscription_type for type_id, s in states.items()})
    result = []
    for subscription_type in sorted(types.values(), key=lambda t: (t.name.lower(), t.pk)):
        state = states.get(subscription_type.pk)
        status = state.status if state is not None else ""
        if not subscription_type.is_active:
            consenting = False
        elif status == SubscriptionStatus.SUBSCRIBED:
            consenting = True
        else:
            consenting = subscription_type.everybody_unless_refused and status != SubscriptionStatus.UNSUBSCRIBED
        result.append(
            ConsentStatus(
                subscription_type=subscription_type,
                status=status,
                consenting=consenting,
                consent=state.consent if state is not None else None,
            )
        )
    return result


def consent_queryset() -> QuerySet[Consent]:
    return Consent.objects.select_related("subscription_type", "contact", "actor").order_by("-created_at", "-id")


def contact_consent_list(*, contact: Contact) -> list[Consent]:
    """The contact's ledger, newest first."""
    return list(consent_queryset().filter(contact=contact))


def submission_consent_list(*, submission_ref: int) -> list[Consent]:
    """The consents a form submission carried (touchpoints keeps the submission)."""
    return list(consent_queryset().filter(submission_ref=submission_ref).order_by("id"))


def subscription_type_list(*, active_only: bool = False) -> QuerySet[SubscriptionType]:
    types = SubscriptionType.objects.order_by("name", "id")
    return types.filter(is_active=True) if active_only else types
