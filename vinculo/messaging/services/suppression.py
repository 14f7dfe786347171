"""The suppression list: addresses an organisation must not e-mail.

Outgoing mail to customers checks it before anything is sent (`message_queue`); bounces and
complaints (a later issue), unsubscribes and members add to it. Owners and admins manage it under
Settings → Suppression list: add, remove, import and export as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_scopes import scope

from vinculo.accounts.models import Membership, Organization, User
from vinculo.accounts.permissions import require_org_admin
from vinculo.core.validation import normalize_email_address
from vinculo.messaging.models import SuppressedAddress, SuppressionReason

MAX_NOTE = 500


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


# --- members manage the list (Settings → Suppression list) -------------------------------------------

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
HEADER = ("address", "reason")


def _clean_reason(value: str) -> str | None:
    reason = (value or "").strip().lower() or SuppressionReason.MANUAL
    return reason if reason in SuppressionReason.values else None


@transaction.atomic
def suppression_member_add(*, actor: Membership, address: str, reason: str, note: str = "") -> SuppressedAddress:
    """An owner or admin suppresses an address by hand; errors field by field, nothing saved."""
    require_org_admin(actor)
    errors: dict[str, list[str]] = {}
    if normalize_email_address(normalize_address(address)) is None:
        errors["address"] = [_("Enter a valid e-mail address.")]
    if _clean_reason(reason) is None:
        errors["reason"] = [_("Unknown reason.")]
    if len(note or "") > MAX_NOTE:
        errors["note"] = [_("Use at most %(max)d characters.") % {"max": MAX_NOTE}]
    if errors:
        raise ValidationError(errors)
    return suppression_add(
        organization=actor.organization,
        address=address,
        reason=_clean_reason(reason) or SuppressionReason.MANUAL,
        note=note or "",
        actor=actor.user,
    )


@transaction.atomic
def suppression_member_remove(*, actor: Membership, suppressed: SuppressedAddress) -> None:
    """An owner or admin takes an address off the list: it may be e-mailed again."""
    require_org_admin(actor)
    suppression_remove(organization=actor.organization, address=suppressed.address, actor=actor.user)


@transaction.atomic
def suppression_import(*, actor: Membership, content: bytes) -> int:
    """A CSV of `address,reason` (reason optional: manual; a first row `address,reason` is a header).
    Every row is checked first: any bad row is reported with its line number and nothing is
    imported. Addresses already on the list keep their first reason. Returns how many were added."""
    require_org_admin(actor)
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationError({"file": [_("The file is larger than 5 MB.")]})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": [_("The file is not UTF-8 text.")]}) from None
    problems: list[str] = []
    wanted: dict[str, str] = {}
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ValidationError({"file": [_("The file is not valid CSV: %(error)s") % {"error": exc}]}) from None
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationError({"file": [_("At most %(max)d rows at a time.") % {"max": MAX_IMPORT_ROWS}]})
    for line, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if line == 1 and tuple(c.lower() for c in cells[:2]) == HEADER:
            continue
        if len(cells) > 2:
            problems.append(_("Line %(line)d: expected two columns, address and reason.") % {"line": line})
            continue
        address = normalize_address(cells[0])
        reason = _clean_reason(cells[1] if len(cells) > 1 else "")
        if normalize_email_address(address) is None:
            problems.append(
                _("Line %(line)d: “%(value)s” is not an e-mail address.") % {"line": line, "value": cells[0][:100]}
            )
        elif reason is None:
            problems.append(
                _("Line %(line)d: unknown reason “%(value)s” (use %(reasons)s).")
                % {"line": line, "value": cells[1][:50], "reasons": ", ".join(SuppressionReason.values)}
            )
        else:
            wanted.setdefault(address, reason)
    if problems:
        raise ValidationError({"file": problems[:50]})
    if not wanted:
        raise ValidationError({"file": [_("The file holds no addresses.")]})
    with scope(organization=actor.organization):
        present = set(
            SuppressedAddress.objects.filter(organization=actor.organization, address__in=wanted).values_list(
                "address", flat=True
            )
        )
        new = [
            SuppressedAddress(
                organization=actor.organization, address=a, reason=r, note=_("Imported"), created_by=actor.user
            )
            for a, r in wanted.items()
            if a not in present
        ]
        SuppressedAddress.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)
