"""Identity stitching: `vinculo.identify(emailOrUserId, traits)` ties a browser to a contact.

- The identifier finds its contact through an `Identity` (e-mail or the site's user id), else an
  e-mail through the contacts' addresses; unknown, it becomes a new lead (source "web") when the
  site says so, created by `contact_create` acting as the system actor ("by the website tracker
  of …"), unowned so that the assignment rules route it.
- A visitor not yet tied is tied, and its anonymous history (events, sessions) is attached to the
  contact retroactively in one UPDATE each; another browser identified with the same identifier
  joins the same contact (cross-device).
- A visitor already tied to contact A identifying as contact B is NEVER merged: an
  `IdentityConflict` is recorded (once) for review, the visitor stays on A, `identity.conflict`
  is emitted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_write
from vinculo.contacts.models import Contact, ContactEmail
from vinculo.contacts.services import contact_activity_bump, contact_create
from vinculo.core.audit import audit_update, diff, snapshot
from vinculo.core.events import emit
from vinculo.core.models import Event
from vinculo.core.validation import normalize_email_address
from vinculo.touchpoints.models import Identity, IdentityConflict, TrackingSite, Visitor, WebSession

NAME_TRAITS = ("first_name", "last_name")


@dataclass
class IdentifyResult:
    contact: Contact | None
    event_inserted: bool
    conflict: IdentityConflict | None = None
    created_contact: bool = False


def _email_or_none(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return normalize_email_address(value)


def parse_identifier(identifier: str) -> tuple[str, str]:
    """(kind, value): a valid e-mail address (lower-cased) or the site's own user id."""
    email = _email_or_none(identifier)
    if email is not None:
        return Identity.Kind.EMAIL, email
    return Identity.Kind.USER_ID, identifier.strip()[:254]


def _lead_data(value: str, email: str | None, traits: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"source": "web", "lifecycle_stage": "lead"}
    for name in NAME_TRAITS:
        if isinstance(traits.get(name), str) and traits[name].strip():
            data[name] = traits[name].strip()[:100]
    if "first_name" not in data and "last_name" not in data and isinstance(traits.get("name"), str):
        first, _sep, last = traits["name"].strip().partition(" ")
        if first:
            data["first_name"] = first[:100]
        if last:
            data["last_name"] = last.strip()[:100]
    if email:
        data["emails"] = [email]
    elif "first_name" not in data and "last_name" not in data:
        data["first_name"] = value[:100]
    return data


def _find_contact(kind: str, value: str, email: str | None) -> tuple[Identity | None, Contact | None]:
    identity = Identity.objects.select_related("contact").filter(kind=kind, value=value).first()
    if identity is not None:
        return identity, identity.contact
    if email:
        address = ContactEmail.objects.select_related("contact").filter(email=email).first()
        if address is not None:
            return None, address.contact
    return None, None


def contact_for_identifier(
    *, site: TrackingSite, identifier: str, traits: dict[str, Any], owner: Membership | None
) -> tuple[Contact | None, bool]:
    """The contact an identifier names (found or, if the site wants leads, created); and whether
    it was created. Records the Identity so that the next browser finds it at once."""
    kind, value = parse_identifier(identifier)
    email = value if kind == Identity.Kind.EMAIL else _email_or_none(traits.get("email"))
    identity, contact = _find_contact(kind, value, email)
    created = False
    if contact is None and site.create_leads and owner is not None:
        try:
            with transaction.atomic():
                contact = contact_create(actor=owner, data=_lead_data(value, email, traits))
                created = True
        except (ValidationError, IntegrityError):  # the address was taken meanwhile: use its contact
            identity, contact = _find_contact(kind, value, email)
    if contact is None:
        return None, False
    if identity is None:
        try:
            with transaction.atomic():
                Identity.objects.create(
                    organization_id=contact.organization_id, kind=kind, value=value, contact=contact
                )
        except IntegrityError:  # another worker recorded it first: theirs wins
            identity = Identity.objects.select_related("contact").get(kind=kind, value=value)
            contact = identity.contact
    return contact, created


def visitor_identify(
    *,
    site: TrackingSite,
    visitor: Visitor,
    identifier: str,
    traits: dict[str, Any],
    occurred_at: dt.datetime,
    message_id: str,
    owner: Membership | None,
) -> IdentifyResult:
    """Tie `visitor` to the contact `identifier` names and write the `visitor.identified` event.
    Must run in the caller's transaction, inside the organisation's scope."""
    contact, created = contact_for_identifier(site=site, identifier=identifier, traits=traits, owner=owner)
    kind, value = parse_identifier(identifier)
    conflict = None
    if contact is not None:
        if visitor.contact_id is None:
            visitor.contact = contact
            visitor.identified_at = occurred_at
            visitor.save(update_fields=["contact", "identified_at", "updated_at"])
            history = Event.objects.filter(anonymous_id=visitor.anonymous_id, contact__isnull=True)
            latest = history.aggregate(latest=Max("occurred_at"))["latest"]
            history.update(contact=contact, company_id=contact.company_id)
            if latest is not None:  # whatever order the visitor's batches were processed in
                contact_activity_bump(contact_id=contact.pk, at=latest)
            WebSession.objects.filter(visitor=visitor, contact__isnull=True).update(contact=contact)
        elif visitor.contact_id != contact.pk:
            conflict, new = IdentityConflict.objects.get_or_create(
                organization_id=visitor.organization_id,
                visitor=visitor,
                contact_id=visitor.contact_id,
                other_contact=contact,
                defaults={"identifier": value},
            )
            if new:
                emit(
                    organization=visitor.organization,
                    type="identity.conflict",
                    contact=visitor.contact,
                    properties={
                        "conflict_id": conflict.pk,
                        "identifier": value,
                        "other_contact_id": contact.pk,
                        "anonymous_id": visitor.anonymous_id,
                    },
                    source="web",
                    occurred_at=occurred_at,
                    message_id=f"identity.conflict:{conflict.pk}",
                    anonymous_id=visitor.anonymous_id,
                )
    event_contact = visitor.contact if visitor.contact_id else None
    properties: dict[str, Any] = {"identifier": value, "kind": kind, "traits": traits}
    if conflict is not None:
        properties["conflict_id"] = conflict.pk
    if created:
        properties["created_contact"] = True
    before = Event.objects.filter(message_id=message_id).exists()
    event = emit(
        organization=visitor.organization,
        type="visitor.identified",
        contact=event_contact,
        properties=properties,
        source="web",
        occurred_at=occurred_at,
        message_id=message_id,
        anonymous_id=visitor.anonymous_id,
    )
    return IdentifyResult(
        contact=event_contact,
        event_inserted=not before and event.pk is not None,
        conflict=conflict,
        created_contact=created,
    )


@transaction.atomic
def identity_conflict_resolve(
    *, actor: Membership, conflict: IdentityConflict, move_to_other: bool = False
) -> IdentityConflict:
    """Close a conflict after review. With `move_to_other` the browser is tied to the other
    contact from now on (its past events stay where they are: nothing is merged)."""
    require_write(actor)
    conflict = IdentityConflict.objects.select_for_update().select_related("visitor").get(pk=conflict.pk)
    if conflict.status == IdentityConflict.Status.RESOLVED:
        return conflict
    before = snapshot(conflict, ["status", "resolved_by"])
    if move_to_other:
        visitor = conflict.visitor
        visitor.contact_id = conflict.other_contact_id
        visitor.save(update_fields=["contact", "updated_at"])
    conflict.status = IdentityConflict.Status.RESOLVED
    conflict.resolved_by = actor.user
    conflict.save(update_fields=["status", "resolved_by", "updated_at"])
    changes = diff(before, snapshot(conflict, ["status", "resolved_by"]))
    if move_to_other:
        changes["visitor_contact"] = [conflict.contact_id, conflict.other_contact_id]
    audit_update(instance=conflict, actor=actor.user, changes=changes, organization=actor.organization)
    return conflict
