"""The suppression list: addresses an organisation must not e-mail.

Outgoing mail to customers checks it before anything is sent (`message_queue`); bounces and
complaints (a later issue), unsubscribes and members add to it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_scopes import scope

from vinculo.accounts.models import Organization, User
from vinculo.core.validation import normalize_email_address
from vinculo.messaging.models import SuppressedAddress, SuppressionReason


def normalize_address(address: str) -> str:
    """The form stored and compared: trimmed, lower-case (the local part too: in practice no
    provider tells `Ana@` from `ana@`, and a suppression must not be dodged by capitals)."""
    return (address or "").strip().lower()


def suppression_reasons(organization: Organization, addresses: Iterable[str]) -> dict[str, str]:
    """Which of `addresses` (normalised) the organisation must not e-mail, with the reason of each;
    one query however many are asked."""
    wanted = {normalize_address(a) for a in addresses if a}
    if not wanted:
        return {}
    with scope(organization=organization):
        rows = SuppressedAddress.objects.filter(organization=organization, address__in=wanted)
        return dict(rows.values_list("address", "reason"))


def addresses_suppressed(organization: Organization, addresses: Iterable[str]) -> set[str]:
    """The normalised addresses among `addresses` that the organisation must not e-mail."""
    return set(suppression_reasons(organization, addresses))


def address_is_suppressed(organization: Organization, address: str) -> bool:
    return bool(suppression_reasons(organization, [address]))


@transaction.atomic
def suppression_add(
    *, organization: Organization, address: str, reason: str, note: str = "", actor: User | None = None
) -> SuppressedAddress:
    """Suppress an address. Adding one already on the list keeps the first row (and its reason):
    idempotent, so a bounce reported twice is one row."""
    address = normalize_address(address)
    errors: dict[str, list[str]] = {}
    if normalize_email_address(address) is None:
        errors["address"] = [_("Enter a valid e-mail address.")]
    if reason not in SuppressionReason.values:
        errors["reason"] = [_("Unknown reason.")]
    if errors:
        raise ValidationError(errors)
    with scope(organization=organization):
        existing = SuppressedAddress.objects.filter(organization=organization, address=address).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                return SuppressedAddress.objects.create(
                    organization=organization, address=address, reason=reason, note=note[:500], created_by=actor
                )
        except IntegrityError:  # added meanwhile by another request
            return SuppressedAddress.objects.get(organization=organization, address=address)


@transaction.atomic
def suppression_remove(*, organization: Organization, address: str, actor: User | None = None) -> bool:
    """Take an address off the list (it may be e-mailed again); False when it was not on it."""
    with scope(organization=organization):
        deleted, _rows = SuppressedAddress.objects.filter(
            organization=organization, address=normalize_address(address)
        ).delete()
    return deleted > 0
