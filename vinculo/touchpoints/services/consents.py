"""Consent with proof: the rows a web form writes, whether a purpose may be used, and withdrawal.

A consent row keeps what the person agreed to (the exact text and its version), when, from which
IP address, page and browser, and the submission that carried it. With double opt-in the row waits
(its submission is pending) until the e-mail link is followed; until then it is not valid.
Withdrawing keeps the row (the proof) and stamps `withdrawn_at`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_change
from vinculo.contacts.models import Contact
from vinculo.core.audit import audit_update
from vinculo.core.events import emit
from vinculo.touchpoints.models import Consent, FormSubmission


def consent_is_valid(contact: Contact, purpose: str) -> bool:
    """Whether `contact` currently consents to `purpose`: the newest consent row for it is granted,
    not withdrawn, and (double opt-in) confirmed. Marketing checks this before sending."""
    latest = (
        Consent.objects.filter(contact=contact, purpose=purpose)
        .select_related("submission")
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is None or not latest.granted or latest.withdrawn_at is not None:
        return False
    submission = latest.submission
    return not (submission is not None and submission.status == FormSubmission.Status.PENDING)


def consent_status(consent: Consent) -> str:
    """`withdrawn`, `pending` (double opt-in not confirmed yet) or `given`, for pages and the API."""
    if consent.withdrawn_at is not None:
        return "withdrawn"
    if consent.submission is not None and consent.submission.status == FormSubmission.Status.PENDING:
        return "pending"
    return "given"


@transaction.atomic
def consent_withdraw(*, actor: Membership, consent: Consent) -> Consent:
    """Staff record that the person withdrew this consent (asked by phone, e-mail, in person)."""
    consent = Consent.objects.select_for_update(of=("self",)).select_related("contact").get(pk=consent.pk)
    require_change(actor, consent.contact)
    if consent.withdrawn_at is not None:
        raise ValidationError({"__all__": [_("This consent was already withdrawn.")]})
    consent.withdrawn_at = timezone.now()
    consent.save(update_fields=["withdrawn_at", "updated_at"])
    audit_update(
        instance=consent,
        actor=actor.user,
        changes={"withdrawn_at": [None, consent.withdrawn_at.isoformat()]},
        organization=actor.organization,
    )
    emit(
        organization=actor.organization,
        type="consent.withdrawn",
        contact=consent.contact,
        actor=actor.user,
        properties={"purpose": consent.purpose, "version": consent.text_version, "consent_id": consent.pk},
        source="crm",
    )
    return consent
