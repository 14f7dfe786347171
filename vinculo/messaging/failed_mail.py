"""Where an outgoing message becomes definitively failed: `message_failed`, the one place.

The worker calls it when a message cannot be sent and will not be retried (a permanent refusal, a
route whose login is refused, or the last of its attempts). It stores the state and the reason,
then tells the registered listeners (`register_failure_listener`), e.g. to notify the member the
mail concerns; a listener's error is logged and never undoes the failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from vinculo.messaging.models import MessageState, OutgoingMessage

logger = logging.getLogger(__name__)

FailureListener = Callable[[OutgoingMessage], None]
_listeners: list[FailureListener] = []


def register_failure_listener(listener: FailureListener) -> None:
    """Be told of every message that failed for good (once per failure, after it is stored)."""
    if listener not in _listeners:
        _listeners.append(listener)


def unregister_failure_listener(listener: FailureListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def message_failed(*, message: OutgoingMessage, reason: str, from_state: str = MessageState.SENDING) -> bool:
    """Mark the message failed with `reason` (if it is still in `from_state`: a concurrent worker
    may have moved it) and tell the listeners after commit. True when this call failed it."""
    now = timezone.now()
    changed = OutgoingMessage.dangerously_unscoped.filter(pk=message.pk, state=from_state).update(
        state=MessageState.FAILED, last_error=reason[:500], updated_at=now
    )
    if not changed:
        return False
    message.state = MessageState.FAILED
    message.last_error = reason[:500]
    message.updated_at = now
    transaction.on_commit(lambda: _tell(message))
    return True


def _tell(message: OutgoingMessage) -> None:
    for listener in list(_listeners):
        try:
            listener(message)
        except Exception:
            logger.exception("a listener of failed e-mail %s raised", message.pk)
