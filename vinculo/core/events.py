"""The event backbone: `emit()` writes an Event row in the caller's transaction and, once that
transaction commits, hands the event to the subscribers registered for its type.

A rolled-back request therefore emits nothing, and subscribers (automation, scoring, webhooks)
only ever see events that are durably stored. Subscribers are tasks or plain callables taking
the event id; they must be idempotent because an event may be delivered again after a crash.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from vinculo.core.models import Event

if TYPE_CHECKING:
    from django.db.models import Model

logger = logging.getLogger(__name__)

Subscriber = Callable[[int], Any]
_subscribers: list[tuple[str, Subscriber]] = []


def subscribe(pattern: str, subscriber: Subscriber) -> None:
    """Call `subscriber(event_id)` after commit for every event whose type matches `pattern`
    (shell-style, e.g. ``"order.*"``). A django-tasks Task is enqueued instead of called."""
    if (pattern, subscriber) not in _subscribers:
        _subscribers.append((pattern, subscriber))


def unsubscribe(pattern: str, subscriber: Subscriber) -> None:
    if (pattern, subscriber) in _subscribers:
        _subscribers.remove((pattern, subscriber))


def _deliver(event_id: int, event_type: str) -> None:
    for pattern, subscriber in list(_subscribers):
        if not fnmatch.fnmatchcase(event_type, pattern):
            continue
        enqueue = getattr(subscriber, "enqueue", None)
        if enqueue is not None:
            enqueue(event_id)
        else:
            subscriber(event_id)


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
    event_id, event_type = event.pk, event.type
    deliver_on_commit(event_id=event_id, event_type=event_type)
    return event


def deliver_on_commit(*, event_id: int, event_type: str) -> None:
    """Hand an event written in the current transaction to its subscribers once it commits.

    `emit()` does this itself; bulk writers of the event log (tracker ingestion) call it for the
    rows they insert in one statement.
    """
    transaction.on_commit(lambda: _deliver(event_id, event_type))
