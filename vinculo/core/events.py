"""The event backbone: `emit()` writes an Event row in the caller's transaction, together with one
delivery row (`EventDelivery`, the outbox) for each consumer whose patterns match its type.

A rolled-back request therefore emits nothing, and a crash after the commit loses nothing: the
deliveries are rows, found and run by the task worker (`vinculo.core.delivery`), each consumer in
a savepoint of the same transaction that deletes its delivery row, so that a reaction happens
exactly once (docs/adr/0005-durable-event-delivery.md).

Consumers are registered by name in `vinculo.core.consumers`, usually from an app's
`AppConfig.ready()`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from vinculo.core.bulk import insert_rows
from vinculo.core.delivery import deliveries_write
from vinculo.core.event_types import require_known_event_type
from vinculo.core.models import Event

if TYPE_CHECKING:
    from django.db.models import Model


def emit(
    *,
    organization: Model,
    type: str,
    contact: Model | None = None,
    company: Model | None = None,
    actor: Model | None = None,
    properties: dict[str, Any] | None = None,
    source: str = "crm",
    occurred_at: datetime | None = None,
    message_id: str | None = None,
    anonymous_id: str = "",
) -> Event:
    """Record that something happened. Must run inside the caller's atomic block.

    With a `message_id` that was already stored for this organisation the existing event is
    returned and nothing is delivered again (idempotent ingestion).
    """
    require_known_event_type(type)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("emit() must be called inside transaction.atomic()")
    if company is None and contact is not None:
        company_id = getattr(contact, "company_id", None)
    else:
        company_id = company.pk if company is not None else None
    now = timezone.now()
    fields: dict[str, Any] = {
        "organization": organization,
        "type": type,
        "contact": contact,
        "company_id": company_id,
        "actor": actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        # an automatic write says what did it (the system actor's `via`, accounts/system_actor.py)
        "properties": {**(properties or {}), "via": getattr(actor, "via", "")}
        if getattr(actor, "via", "")
        else properties or {},
        "source": source,
        "occurred_at": occurred_at or now,
        "received_at": now,
        "anonymous_id": anonymous_id,
    }
    if message_id:
        fields["message_id"] = message_id
        try:
            with transaction.atomic():
                event = Event.dangerously_unscoped.create(**fields)
        except IntegrityError:
            return Event.dangerously_unscoped.get(organization_id=organization.pk, message_id=message_id)
    else:
        event = Event.dangerously_unscoped.create(**fields)
    deliveries_write([(organization.pk, event.pk, event.type)])
    return event


def emit_many(
    *,
    organization: Model,
    type: str,
    rows: Iterable[tuple[Model | None, int | None, dict[str, Any], datetime | None]],
    actor: Model | None = None,
    source: str = "crm",
) -> list[int]:
    """`emit()` for many events of one type at once (a batch import): one INSERT of the events and
    one of their deliveries, in the caller's transaction. `rows` are (contact, company id,
    properties, occurred_at); a row without a company takes its contact's. The events' ids."""
    require_known_event_type(type)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("emit_many() must be called inside transaction.atomic()")
    now = timezone.now()
    user_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    via = getattr(actor, "via", "")
    values = [
        {
            "organization_id": organization.pk,
            "type": type,
            "contact_id": contact.pk if contact is not None else None,
            "company_id": company_id if company_id is not None else getattr(contact, "company_id", None),
            "actor_id": user_id,
            "properties": {**properties, "via": via} if via else properties,
            "source": source,
            "occurred_at": occurred_at or now,
            "received_at": now,
        }
        for contact, company_id, properties, occurred_at in rows
    ]
    ids = insert_rows(Event, values)
    deliveries_write([(organization.pk, pk, type) for pk in ids])
    return ids
