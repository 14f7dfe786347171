"""What a contact decides from a message: the preference centre and one-click unsubscribe (RFC 8058).

Each contact-bound message carries two signed links (`contact_links`): `/u/<token>/` (one-click,
bound to the organisation, the contact and the message's subscription type, if any) and
`/p/<token>/` (the preference centre, bound to the organisation and the contact). The tokens are
salted per purpose, so one never opens the other, and never expire: an unsubscribe link must work
however old the message. A tampered token, or one naming a contact or type that is not (or no
longer) the organisation's, finds nothing (`unsubscribe_link_target` / `preference_link_target`
return None and the pages answer 404).

Every change goes through `consent_record` (a ledger row with its proof, the current state moved,
`consent.withdrawn` / `consent.granted` on the timeline); asking for a state the contact already
has writes nothing, so a one-click POST sent twice is one ledger row.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django_scopes import scope

from vinculo.accounts.models import Organization
from vinculo.contacts.models import Contact
from vinculo.messaging.models import (
    Consent,
    ConsentChannel,
    ContactSubscription,
    SubscriptionStatus,
    SubscriptionType,
    SuppressionReason,
)
from vinculo.messaging.services.consent import ConsentProof, consent_record
from vinculo.messaging.services.suppression import (
    normalize_address,
    suppression_add,
    suppression_reasons,
    suppression_remove,
)

UNSUBSCRIBE_SALT = "vinculo.messaging.unsubscribe"
PREFERENCES_SALT = "vinculo.messaging.preferences"
MAX_TOKEN = 300


@dataclass(frozen=True)
class ContactLinks:
    """The absolute addresses a message to a contact carries: `unsubscribe_url` goes to
    `message_queue(unsubscribe_url=…)` (List-Unsubscribe), `preferences_url` into the body."""

    unsubscribe_url: str
    preferences_url: str


@dataclass(frozen=True)
class LinkTarget:
    organization: Organization
    contact: Contact
    subscription_type: SubscriptionType | None


def _sign(salt: str, *parts: int) -> str:
    return signing.Signer(salt=salt).sign(".".join(str(p) for p in parts))


def _unsign(salt: str, token: str) -> list[int] | None:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return None
    try:
        value = signing.Signer(salt=salt).unsign(token)
    except signing.BadSignature:
        return None
    parts = value.split(".")
    if not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


def unsubscribe_token(contact: Contact, subscription_type: SubscriptionType | None = None) -> str:
    """The one-click token: organisation, contact and the message's type (0: every type)."""
    if subscription_type is not None and subscription_type.organization_id != contact.organization_id:
        raise ValueError("the subscription type must belong to the contact's organisation")
    return _sign(
        UNSUBSCRIBE_SALT, contact.organization_id, contact.pk, subscription_type.pk if subscription_type else 0
    )


def preferences_token(contact: Contact) -> str:
    return _sign(PREFERENCES_SALT, contact.organization_id, contact.pk)


def contact_links(contact: Contact, subscription_type: SubscriptionType | None = None) -> ContactLinks:
    """The unsubscribe and preference-centre addresses (on SITE_URL) for a message to `contact`
    about `subscription_type` (None: a message of no single type, whose one-click unsubscribes
    from everything)."""
    return ContactLinks(
        unsubscribe_url=settings.SITE_URL
        + reverse("unsubscribe:one_click", args=[unsubscribe_token(contact, subscription_type)]),
        preferences_url=settings.SITE_URL + reverse("unsubscribe:preferences", args=[preferences_token(contact)]),
    )


def _target(org_id: int, contact_id: int, type_id: int) -> LinkTarget | None:
    organization = Organization.objects.filter(pk=org_id).first()
    if organization is None:
        return None
    with scope(organization=organization):
        contact = Contact.objects.filter(organization=organization, pk=contact_id).first()
        if contact is None:
            return None
        subscription_type = None
        if type_id:
            subscription_type = SubscriptionType.objects.filter(organization=organization, pk=type_id).first()
            if subscription_type is None:
                return None
    return LinkTarget(organization=organization, contact=contact, subscription_type=subscription_type)


def unsubscribe_link_target(token: str) -> LinkTarget | None:
    parts = _unsign(UNSUBSCRIBE_SALT, token)
    if parts is None or len(parts) != 3:
        return None
    return _target(*parts)


def preference_link_target(token: str) -> LinkTarget | None:
    parts = _unsign(PREFERENCES_SALT, token)
    if parts is None or len(parts) != 2:
        return None
    return _target(parts[0], parts[1], 0)


# --- state and changes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreferenceRow:
    subscription_type: SubscriptionType
    subscribed: bool
    pending: bool = False  # granted on a form, waiting for the e-mail confirmation


def _states(contact: Contact) -> dict[int, str]:
    return dict(ContactSubscription.objects.filter(contact=contact).values_list("subscription_type_id", "status"))


def _is_subscribed(subscription_type: SubscriptionType, status: str | None) -> bool:
    """Whether the contact receives the type now (what the preference centre's box shows)."""
    if status == SubscriptionStatus.SUBSCRIBED:
        return True
    return status is None and subscription_type.everybody_unless_refused


def contact_preferences(contact: Contact) -> list[PreferenceRow]:
    """The organisation's active types, by name, each with whether the contact receives it.
    Call inside the organisation's scope."""
    states = _states(contact)
    types = SubscriptionType.objects.filter(organization_id=contact.organization_id, is_active=True)
    return [
        PreferenceRow(
            subscription_type=t,
            subscribed=_is_subscribed(t, states.get(t.pk)),
            pending=states.get(t.pk) == SubscriptionStatus.PENDING,
        )
        for t in sorted(types, key=lambda t: (t.name.lower(), t.pk))
    ]


def _withdraw(target: LinkTarget, subscription_type: SubscriptionType, channel: str, proof: ConsentProof) -> Consent:
    return consent_record(
        organization=target.organization,
        contact=target.contact,
        subscription_type=subscription_type,
        granted=False,
        channel=channel,
        proof=proof,
    )


def _unsubscribe_everything(target: LinkTarget, channel: str, proof: ConsentProof) -> list[Consent]:
    """Every type the contact is not yet unsubscribed from (active ones, and inactive ones it
    still holds), then the address on the suppression list."""
    states = _states(target.contact)
    types = SubscriptionType.objects.filter(organization=target.organization).order_by("name", "pk")
    written = [
        _withdraw(target, t, channel, proof)
        for t in types
        if states.get(t.pk) != SubscriptionStatus.UNSUBSCRIBED and (t.is_active or t.pk in states)
    ]
    if target.contact.email:
        with contextlib.suppress(ValidationError):  # an address that is not one cannot be e-mailed anyway
            suppression_add(
                organization=target.organization,
                address=target.contact.email,
                reason=SuppressionReason.UNSUBSCRIBED,
                note=_("Unsubscribed from everything"),
            )
    return written


@transaction.atomic
def one_click_unsubscribe(*, target: LinkTarget, proof: ConsentProof) -> list[Consent]:
    """RFC 8058: unsubscribe from the link's type, or from everything when it names none.
    Returns the ledger rows written (none when already unsubscribed)."""
    with scope(organization=target.organization):
        subscription_type = target.subscription_type
        if subscription_type is None:
            return _unsubscribe_everything(target, ConsentChannel.UNSUBSCRIBE_LINK, proof)
        if _states(target.contact).get(subscription_type.pk) == SubscriptionStatus.UNSUBSCRIBED:
            return []
        return [_withdraw(target, subscription_type, ConsentChannel.UNSUBSCRIBE_LINK, proof)]


@transaction.atomic
def preferences_save(
    *, target: LinkTarget, subscribed_keys: Collection[str], everything: bool, proof: ConsentProof
) -> list[Consent]:
    """The preference centre's form: `subscribed_keys` are the active types the contact wants, the
    others are withdrawn; `everything` unsubscribes from every type and suppresses the address.
    A key that is not one of the organisation's active types is a field error and nothing changes.
    Subscribing to a type again takes the address off the suppression list when it was there
    because of an unsubscribe.
    Returns the ledger rows written, one per type whose state changed."""
    with scope(organization=target.organization):
        if everything:
            return _unsubscribe_everything(target, ConsentChannel.PREFERENCE_CENTRE, proof)
        rows = contact_preferences(target.contact)
        known = {row.subscription_type.key for row in rows}
        unknown = sorted(set(subscribed_keys) - known)
        if unknown:
            raise ValidationError(
                {"subscribed": [_("There is no subscription type with the key “%(key)s”.") % {"key": unknown[0][:64]}]}
            )
        written = []
        for row in rows:
            wanted = row.subscription_type.key in subscribed_keys
            if wanted == row.subscribed:
                continue
            text = (
                _("Subscribed to “%(name)s” in the preference centre.") % {"name": row.subscription_type.name}
                if wanted
                else ""
            )
            written.append(
                consent_record(
                    organization=target.organization,
                    contact=target.contact,
                    subscription_type=row.subscription_type,
                    granted=wanted,
                    channel=ConsentChannel.PREFERENCE_CENTRE,
                    proof=dataclasses.replace(proof, text=text),
                )
            )
        # subscribing again lifts an earlier "unsubscribe from everything" (never a bounce or complaint)
        email = target.contact.email
        if (
            email
            and any(c.status == Consent.Status.GRANTED for c in written)
            and suppression_reasons(target.organization, [email]).get(normalize_address(email))
            == SuppressionReason.UNSUBSCRIBED
        ):
            suppression_remove(organization=target.organization, address=email)
        return written
