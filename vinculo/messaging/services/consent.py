"""Consent: typed purposes (subscription types) and the ledger of what each contact granted or
withdrew, with its proof.

`consent_record` is the one way to write consent: it appends the ledger row, moves the contact's
current state for that type (`ContactSubscription`) and emits `consent.granted` or
`consent.withdrawn`, all in the caller's transaction. Double opt-in grants wait as `pending` until
`consent_confirm` (the e-mail link) makes them count. Staff and the API go through
`contact_consent_record`, which checks the role and refuses an unknown type field by field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership, Organization, User
from vinculo.accounts.permissions import require_change, require_org_admin
from vinculo.contacts.models import Contact
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.events import emit
from vinculo.core.validation import Errors, add_error, clean_bool, clean_choice, clean_text
from vinculo.messaging.models import (
    Consent,
    ConsentChannel,
    ContactSubscription,
    LawfulBasis,
    OptMode,
    SubscriptionStatus,
    SubscriptionType,
)

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SUBSCRIPTION_TYPE_FIELDS = ("key", "name", "description", "lawful_basis", "opt_mode", "is_active")
CONSENT_FIELDS = ("subscription_type", "granted", "channel", "text", "text_version", "reason")
STAFF_CHANNELS = (ConsentChannel.MANUAL, ConsentChannel.API, ConsentChannel.IMPORT)
MAX_TEXT = 2000
MAX_REASON = 500


UsageCheck = Callable[[SubscriptionType], list[str]]
_usage_checks: list[UsageCheck] = []


def register_usage_check(check: UsageCheck) -> None:
    """Apps above messaging that name subscription types by key (web forms) say where a type is
    used, so that it is not deleted or re-keyed from under them."""
    if check not in _usage_checks:
        _usage_checks.append(check)


def subscription_type_users(subscription_type: SubscriptionType) -> list[str]:
    """What names the type (e.g. “web form Contact us”), from every registered check."""
    return [name for check in _usage_checks for name in check(subscription_type)]


@dataclass(frozen=True)
class ConsentProof:
    """What shows that the person agreed (or refused): the exact text and its version, where and how."""

    text: str = ""
    text_version: str = ""
    source: str = ""
    form_name: str = ""
    submission_ref: int | None = None
    ip: str | None = None
    page_url: str = ""
    user_agent: str = ""


# --- subscription types ------------------------------------------------------------------------------


def _clean_subscription_type(subscription_type: SubscriptionType, data: Mapping[str, Any], errors: Errors) -> None:
    for key in set(data) - set(SUBSCRIPTION_TYPE_FIELDS):
        add_error(errors, key, _("Unknown field."))
    creating = subscription_type.pk is None
    if "key" in data or creating:
        given = clean_text(data.get("key"), "key", errors, max_length=64, required=True)
        if given is not None:
            key = given.lower()
            if not KEY_PATTERN.match(key):
                add_error(errors, "key", _("Use lower-case letters, digits, _ and -, starting with a letter or digit."))
            elif (
                SubscriptionType.objects.filter(organization_id=subscription_type.organization_id, key=key)
                .exclude(pk=subscription_type.pk)
                .exists()
            ):
                add_error(errors, "key", _("Another subscription type already has this key."))
            elif not creating and key != subscription_type.key and subscription_type.consents.exists():
                add_error(errors, "key", _("The key cannot change once consent was recorded for it."))
            elif (
                not creating and key != subscription_type.key and (users := subscription_type_users(subscription_type))
            ):
                add_error(errors, "key", _("Used by %(users)s: change them first.") % {"users": ", ".join(users)})
            else:
                subscription_type.key = key
    if "name" in data or creating:
        name = clean_text(data.get("name"), "name", errors, max_length=100, required=True)
        if name is not None:
            subscription_type.name = name
    if "description" in data:
        description = clean_text(data["description"], "description", errors, max_length=1000)
        if description is not None:
            subscription_type.description = description
    if "lawful_basis" in data:
        basis = clean_choice(data["lawful_basis"], "lawful_basis", errors, LawfulBasis.values)
        if basis is not None:
            subscription_type.lawful_basis = basis
    if "opt_mode" in data:
        mode = clean_choice(data["opt_mode"], "opt_mode", errors, OptMode.values)
        if mode is not None:
            subscription_type.opt_mode = mode
    elif creating and subscription_type.lawful_basis != LawfulBasis.CONSENT:
        subscription_type.opt_mode = OptMode.OPT_OUT
    if "is_active" in data:
        active = clean_bool(data["is_active"], "is_active", errors, none_is_false=False)
        if active is not None:
            subscription_type.is_active = active
    if (
        "opt_mode" not in errors
        and "lawful_basis" not in errors
        and subscription_type.lawful_basis == LawfulBasis.CONSENT
        and subscription_type.opt_mode == OptMode.OPT_OUT
    ):
        add_error(errors, "opt_mode", _("Consent must be given: a type based on consent is opt-in."))


@transaction.atomic
def subscription_type_create(*, actor: Membership, data: Mapping[str, Any]) -> SubscriptionType:
    """A new purpose. Owners and admins only; based on consent it is opt-in, otherwise opt-out
    unless said otherwise."""
    require_org_admin(actor)
    subscription_type = SubscriptionType(organization=actor.organization)
    errors: Errors = {}
    _clean_subscription_type(subscription_type, data, errors)
    if errors:
        raise ValidationError(errors)
    subscription_type.save()
    audit_create(
        instance=subscription_type,
        actor=actor.user,
        values=snapshot(subscription_type, list(SUBSCRIPTION_TYPE_FIELDS)),
        organization=actor.organization,
    )
    return subscription_type


@transaction.atomic
def subscription_type_update(
    *, actor: Membership, subscription_type: SubscriptionType, data: Mapping[str, Any]
) -> SubscriptionType:
    """Change the given fields (PATCH semantics). The key is fixed once consent was recorded for it."""
    require_org_admin(actor)
    subscription_type = SubscriptionType.objects.select_for_update().get(pk=subscription_type.pk)
    before = snapshot(subscription_type, list(SUBSCRIPTION_TYPE_FIELDS))
    errors: Errors = {}
    _clean_subscription_type(subscription_type, data, errors)
    if errors:
        raise ValidationError(errors)
    changes = diff(before, snapshot(subscription_type, list(SUBSCRIPTION_TYPE_FIELDS)))
    if changes:
        subscription_type.save(update_fields=[*changes, "updated_at"])
    audit_update(instance=subscription_type, actor=actor.user, changes=changes, organization=actor.organization)
    return subscription_type


@transaction.atomic
def subscription_type_delete(*, actor: Membership, subscription_type: SubscriptionType) -> None:
    """Delete a type nobody answered yet; one with consent records keeps them (their proof) and
    can only be deactivated."""
    require_org_admin(actor)
    if subscription_type.consents.exists():
        raise ValidationError(
            {"__all__": [_("Consent was recorded for this subscription type: deactivate it instead.")]}
        )
    users = subscription_type_users(subscription_type)
    if users:
        raise ValidationError({"__all__": [_("Used by %(users)s: change them first.") % {"users": ", ".join(users)}]})
    audit_delete(
        instance=subscription_type,
        actor=actor.user,
        values=snapshot(subscription_type, list(SUBSCRIPTION_TYPE_FIELDS)),
        organization=actor.organization,
    )
    subscription_type.delete()


# --- the ledger ---------------------------------------------------------------------------------------


def _new_status(consent: Consent) -> str:
    if consent.status == Consent.Status.WITHDRAWN:
        return SubscriptionStatus.UNSUBSCRIBED
    if consent.is_pending:
        return SubscriptionStatus.PENDING
    return SubscriptionStatus.SUBSCRIBED


def _move_current_state(consent: Consent) -> None:
    """The contact's state for the type follows the new ledger row; a grant still waiting for its
    e-mail confirmation does not take away a subscription already in force."""
    status = _new_status(consent)
    # get_or_create: a concurrent first answer for the same pair hits the unique constraint inside
    # a savepoint and is read back instead of failing
    current, created = ContactSubscription.objects.select_for_update().get_or_create(
        organization_id=consent.organization_id,
        contact_id=consent.contact_id,
        subscription_type_id=consent.subscription_type_id,
        defaults={"status": status, "consent": consent},
    )
    if created:
        return
    if status == SubscriptionStatus.PENDING and current.status == SubscriptionStatus.SUBSCRIBED:
        return
    current.status = status
    current.consent = consent
    current.save(update_fields=["status", "consent", "updated_at"])


def _event_source(channel: str) -> str:
    if channel == ConsentChannel.FORM:
        return "form"
    return "api" if channel == ConsentChannel.API else "crm"


@transaction.atomic
def consent_record(
    *,
    organization: Organization,
    contact: Contact,
    subscription_type: SubscriptionType,
    granted: bool,
    channel: str,
    proof: ConsentProof | None = None,
    actor: User | None = None,
    reason: str = "",
    needs_confirmation: bool = False,
    event_properties: Mapping[str, Any] | None = None,
) -> Consent:
    """Append a ledger row (granted or withdrawn, with its proof), move the contact's current state
    for the type and emit `consent.granted` / `consent.withdrawn`, atomically.

    `needs_confirmation`: a double opt-in grant, which counts only once `consent_confirm` runs.
    A grant of an inactive type is refused; a withdrawal never is."""
    if contact.organization_id != organization.pk or subscription_type.organization_id != organization.pk:
        raise ValueError("the contact and the subscription type must belong to the organisation")
    if channel not in ConsentChannel.values:
        raise ValueError(f"unknown consent channel {channel!r}")
    if granted and not subscription_type.is_active:
        raise ValidationError({"subscription_type": [_("This subscription type is not active.")]})
    proof = proof or ConsentProof()
    consent = Consent.objects.create(
        organization=organization,
        contact=contact,
        subscription_type=subscription_type,
        status=Consent.Status.GRANTED if granted else Consent.Status.WITHDRAWN,
        channel=channel,
        text=proof.text[:MAX_TEXT],
        text_version=proof.text_version[:32],
        source=proof.source[:64],
        form_name=proof.form_name[:100],
        submission_ref=proof.submission_ref,
        ip=proof.ip,
        page_url=proof.page_url[:2000],
        user_agent=proof.user_agent[:400],
        needs_confirmation=bool(granted and needs_confirmation),
        actor=actor if actor is not None and actor.is_authenticated else None,
        reason=reason[:MAX_REASON],
    )
    _move_current_state(consent)
    emit(
        organization=organization,
        type="consent.granted" if granted else "consent.withdrawn",
        contact=contact,
        actor=actor,
        properties={
            "subscription_type": subscription_type.key,
            "subscription_type_id": subscription_type.pk,
            "version": consent.text_version,
            "consent_id": consent.pk,
            "channel": channel,
            "status": "pending" if consent.is_pending else consent.status,
            **(event_properties or {}),
        },
        source=_event_source(channel),
    )
    return consent


@transaction.atomic
def consent_confirm(
    *, organization: Organization, submission_ref: int, confirmed_at: dt.datetime | None = None
) -> list[Consent]:
    """The double opt-in link was followed: the grants carried by that form submission count from
    now on (unless withdrawn since) and `consent.confirmed` goes on the timeline for each."""
    now = confirmed_at or timezone.now()
    consents = list(
        Consent.objects.select_for_update(of=("self",))
        .select_related("contact", "subscription_type")
        .filter(
            organization=organization,
            submission_ref=submission_ref,
            status=Consent.Status.GRANTED,
            needs_confirmation=True,
            confirmed_at__isnull=True,
        )
        .order_by("id")
    )
    for consent in consents:
        consent.confirmed_at = now
        consent.save(update_fields=["confirmed_at", "updated_at"])
        ContactSubscription.objects.filter(
            contact_id=consent.contact_id,
            subscription_type_id=consent.subscription_type_id,
            consent=consent,
            status=SubscriptionStatus.PENDING,
        ).update(status=SubscriptionStatus.SUBSCRIBED, updated_at=now)
        emit(
            organization=organization,
            type="consent.confirmed",
            contact=consent.contact,
            properties={
                "subscription_type": consent.subscription_type.key,
                "subscription_type_id": consent.subscription_type_id,
                "version": consent.text_version,
                "consent_id": consent.pk,
            },
            source="form",
        )
    return consents


def subscription_type_by_key(*, organization: Organization, key: Any) -> SubscriptionType | None:
    """The organisation's type with this key (active or not), or None."""
    if not isinstance(key, str) or not key or len(key) > 64:
        return None
    return SubscriptionType.objects.filter(organization=organization, key=key).first()


def clean_subscription_type_key(
    value: Any, field: str, errors: Errors, *, organization: Organization, active_only: bool = True
) -> SubscriptionType | None:
    """The subscription type an input names by key, or a field error: the same check for form
    builders, the API and imports, so that consent is never recorded to a purpose that does not exist."""
    found = subscription_type_by_key(organization=organization, key=value)
    if found is None:
        add_error(errors, field, _("There is no subscription type with the key “%(key)s”.") % {"key": str(value)[:64]})
        return None
    if active_only and not found.is_active:
        add_error(errors, field, _("The subscription type “%(name)s” is not active.") % {"name": found.name})
        return None
    return found


@transaction.atomic
def contact_consent_record(*, actor: Membership, contact: Contact, data: Mapping[str, Any]) -> Consent:
    """Staff (a page or the API) record that the person granted or withdrew a subscription type:
    `{"subscription_type": key, "granted": bool, "channel"?, "text"?, "text_version"?, "reason"?}`.
    An unknown type, a bad channel or a grant without the text agreed to are field errors and
    nothing is saved."""
    require_change(actor, contact)
    errors: Errors = {}
    for key in set(data) - set(CONSENT_FIELDS):
        add_error(errors, key, _("Unknown field."))
    granted = clean_bool(data.get("granted"), "granted", errors, none_is_false=False) if "granted" in data else None
    if "granted" not in data:
        add_error(errors, "granted", _("This field is required."))
    subscription_type = clean_subscription_type_key(
        data.get("subscription_type"),
        "subscription_type",
        errors,
        organization=actor.organization,
        active_only=bool(granted),
    )
    channel = clean_choice(
        data.get("channel", ConsentChannel.MANUAL), "channel", errors, [str(c) for c in STAFF_CHANNELS]
    )
    text = clean_text(data.get("text"), "text", errors, max_length=MAX_TEXT, required=bool(granted))
    version = clean_text(data.get("text_version"), "text_version", errors, max_length=32)
    reason = clean_text(data.get("reason"), "reason", errors, max_length=MAX_REASON)
    if errors or subscription_type is None or granted is None or channel is None:
        raise ValidationError(errors)
    return consent_record(
        organization=actor.organization,
        contact=contact,
        subscription_type=subscription_type,
        granted=granted,
        channel=channel,
        proof=ConsentProof(text=text or "", text_version=version or "", source=f"user:{actor.user_id}"),
        actor=actor.user,
        reason=reason or "",
    )
