"""Sending outgoing e-mail, in the task worker.

A row is claimed with one conditional UPDATE (queued and due → sending), so two workers never send
the same message; a row already sent, suppressed or failed is skipped. A batch reuses one
connection per route (vinculo/messaging/transports.py: the install's relay, or a mailbox's own
SMTP server), opened at the route's first message. Temporary failures (the server is away or disconnects, 4xx answers) are retried with
back-off as the row's `next_attempt_at`, up to MAX_ATTEMPTS; permanent ones (5xx: recipient
refused, message rejected) fail at once with the server's answer. While a row is `sending`,
`next_attempt_at` is its lease: a worker that died mid-send leaves a row the sweep queues again
(the message may then go out twice — at least once, never silently lost).

A route whose server cannot be reached waits: the route's other messages of the batch go back to
the queue untouched (for the relay, the rest of the batch too: nothing else can be sent). A route
whose login is refused (`TransportError.route_broken`) cannot send until someone fixes it: its
messages of the batch fail with the reason, which the transport also shows where it is set up.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.headerregistry import Address
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from vinculo.messaging.models import MessageState, OutgoingAttachment, OutgoingMessage
from vinculo.messaging.transports import RELAY, Connection, RelayConnection, TransportError, transport_named

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# wait after the n-th failed attempt (the last one repeats)
BACKOFF = [dt.timedelta(minutes=m) for m in (1, 5, 15, 60, 180)]
LEASE = dt.timedelta(minutes=10)
SWEEP_BATCH = 500
CLAIM_CHUNK = 100
SENT_FLUSH = 50
SWEEP_BUDGET_SECONDS = 50.0  # the sweep runs every minute: leave the rest to the next run


# told, in the transaction that marks it, about each message that failed for good (the member it
# concerns gets a notification: vinculo/messaging/services/notifications.py registers itself here)
FailureListener = Callable[[OutgoingMessage, str], None]
_failure_listeners: dict[str, FailureListener] = {}


def register_failure_listener(name: str, listener: FailureListener) -> None:
    """Have `listener(message, reason)` called when a message fails for good (again: replaced)."""
    _failure_listeners[name] = listener


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    stopped: bool = False  # the server could not be reached: the rest of the batch waits


class SendError(Exception):
    def __init__(
        self, reason: str, *, temporary: bool, connection_lost: bool = False, route_broken: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary
        self.connection_lost = connection_lost
        self.route_broken = route_broken


def _describe(code: int, text: Any) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {message}".strip()


def classify(exc: BaseException) -> SendError:
    """What a failed SMTP conversation means for the message: retry later, or give up."""
    if isinstance(exc, TransportError):
        return SendError(
            exc.reason, temporary=exc.temporary, connection_lost=exc.connection_lost, route_broken=exc.route_broken
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
        return SendError(_describe(code, text), temporary=400 <= code < 500)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SendError(f"server disconnected: {exc}", temporary=True, connection_lost=True)
    if isinstance(exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPConnectError)):  # not the message's fault
        return SendError(_describe(exc.smtp_code, exc.smtp_error), temporary=True, connection_lost=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return SendError(_describe(code, exc.smtp_error), temporary=not (500 <= code < 600))
    if isinstance(exc, OSError):  # refused, unreachable, timed out (smtplib's errors are OSErrors too)
        return SendError(f"{type(exc).__name__}: {exc}", temporary=True, connection_lost=True)
    if isinstance(exc, (ValueError, UnicodeError)):  # a message that cannot be written out
        return SendError(f"{type(exc).__name__}: {exc}", temporary=False)
    return SendError(f"{type(exc).__name__}: {exc}", temporary=True)


def build_email(
    message: OutgoingMessage, connection: Any = None, attachments: Iterable[OutgoingAttachment] | None = None
) -> EmailMultiAlternatives:
    """The MIME message of a row: its headers (Message-ID, threading, List-Unsubscribe) as stored.
    The worker runs outside any organisation's scope, hence the unscoped read of the attachments."""
    to = str(Address(display_name=message.to_name, addr_spec=message.to_address))
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text_body,
        from_email=message.from_email,
        to=[to],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers=dict(message.headers),
        connection=connection,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    if attachments is None:
        attachments = OutgoingAttachment.dangerously_unscoped.filter(message_id=message.pk).order_by("id")
    for attachment in attachments:
        try:
            content = attachment.read()
        except OSError as exc:  # the file is gone (storage lost or not restored): the message cannot be sent
            raise ValueError(f"the attachment {attachment.filename!r} cannot be read: {type(exc).__name__}") from exc
        email.attach(attachment.filename, content, attachment.mimetype)
    return email


def _claim(ids: list[int], now: dt.datetime) -> list[OutgoingMessage]:
    """Lock the queued, due rows among `ids` and mark them `sending` (attempt counted, lease set):
    one SELECT and one UPDATE for the chunk. The rows are locked for the claim (SELECT … FOR UPDATE
    SKIP LOCKED on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers), so another
    worker claims none of them."""
    with transaction.atomic():
        rows = OutgoingMessage.dangerously_unscoped.filter(
            pk__in=ids, state=MessageState.QUEUED, next_attempt_at__lte=now
        ).order_by("id")
        if db_connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        claimed = list(rows)
        if claimed:
            OutgoingMessage.dangerously_unscoped.filter(pk__in=[m.pk for m in claimed]).update(
                state=MessageState.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE, updated_at=now
            )
    for message in claimed:
        message.attempts += 1
        message.state = MessageState.SENDING
    return claimed


def _attachments_of(messages: list[OutgoingMessage]) -> dict[int, list[OutgoingAttachment]]:
    found: dict[int, list[OutgoingAttachment]] = {}
    rows = OutgoingAttachment.dangerously_unscoped.filter(message__in=[m.pk for m in messages]).order_by("id")
    for attachment in rows:
        found.setdefault(attachment.message_id, []).append(attachment)
    return found


def _mark_sent(ids: list[int]) -> None:
    if ids:
        now = timezone.now()
        OutgoingMessage.dangerously_unscoped.filter(pk__in=ids, state=MessageState.SENDING).update(
            state=MessageState.SENT, sent_at=now, last_error="", updated_at=now
        )
        ids.clear()


def _release(messages: list[OutgoingMessage]) -> None:
    """Claimed rows not attempted (the server went away): back to the queue, attempt not counted."""
    if messages:
        now = timezone.now()
        OutgoingMessage.dangerously_unscoped.filter(pk__in=[m.pk for m in messages], state=MessageState.SENDING).update(
            state=MessageState.QUEUED, attempts=F("attempts") - 1, next_attempt_at=now + BACKOFF[0], updated_at=now
        )


def _record_failure(message: OutgoingMessage, error: SendError) -> bool:
    """Back to the queue for a later attempt, or failed for good; True when it will be retried."""
    now = timezone.now()
    retry = error.temporary and message.attempts < MAX_ATTEMPTS
    fields: dict[str, Any] = {"last_error": error.reason[:500], "updated_at": now}
    if retry:
        wait = BACKOFF[min(message.attempts, len(BACKOFF)) - 1]
        fields.update(state=MessageState.QUEUED, next_attempt_at=now + wait)
    else:
        fields.update(state=MessageState.FAILED)
    with transaction.atomic():
        changed = OutgoingMessage.dangerously_unscoped.filter(pk=message.pk, state=MessageState.SENDING).update(
            **fields
        )
        if changed and not retry:
            _failed_for_good(message, fields["last_error"])
    logger.warning(
        "e-mail %s to %s: %s (attempt %s, %s)",
        message.pk,
        message.to_address,
        error.reason,
        message.attempts,
        "will retry" if retry else "failed",
    )
    return retry


def _failed_for_good(message: OutgoingMessage, reason: str) -> None:
    """Tell the listeners; one that fails is logged and never undoes the failure's record."""
    for name, listener in _failure_listeners.items():
        try:
            with transaction.atomic():
                listener(message, reason)
        except Exception:
            logger.exception("failure listener %s on e-mail %s failed", name, message.pk)


def _open(message: OutgoingMessage, relay: Any) -> Connection:
    """A connection for the message's route (connected lazily, at its first message)."""
    if message.transport == RELAY:
        return RelayConnection(relay)
    transport = transport_named(message.transport)
    if transport is None:
        raise TransportError(f"no transport {message.transport!r} is installed", temporary=True, connection_lost=True)
    return transport.open(message.transport_ref, message.organization_id)


def _close_all(connections: dict[tuple[str, str], Connection]) -> None:
    for route, open_connection in connections.items():
        try:
            open_connection.close()
        except Exception:
            logger.exception("closing the connection of route %s failed", route)
    connections.clear()


def send_outgoing_batch(ids: Iterable[int], *, connection: Any = None) -> BatchResult:
    """Send the given queued, due messages, through one connection per route (the relay's:
    `connection`, or Django's EMAIL_BACKEND). Safe to run twice and concurrently.

    Rows are claimed CLAIM_CHUNK at a time and marked sent SENT_FLUSH at a time: a worker killed
    in between leaves at most that many sent rows `sending`, which the sweep sends again when their
    lease runs out (at least once, never lost)."""
    result = BatchResult()
    wanted = list(dict.fromkeys(ids))
    sent: list[int] = []
    connections: dict[tuple[str, str], Connection] = {}
    stopped_routes: dict[tuple[str, str], SendError] = {}
    try:
        for first in range(0, len(wanted), CLAIM_CHUNK):
            claimed = _claim(wanted[first : first + CLAIM_CHUNK], timezone.now())
            result.claimed += len(claimed)
            attachments = _attachments_of(claimed) if claimed else {}
            for index, message in enumerate(claimed):
                route = (message.transport, message.transport_ref)
                stopped = stopped_routes.get(route)
                if stopped is not None:  # this route failed earlier in the batch
                    if stopped.route_broken:
                        _count(result, _record_failure(message, stopped))
                    else:
                        _release([message])
                    continue
                try:
                    email = build_email(message, None, attachments.get(message.pk, []))
                    if route not in connections:
                        connections[route] = _open(message, connection)
                    connections[route].send(email)
                except Exception as exc:
                    _mark_sent(sent)
                    error = classify(exc)
                    _count(result, _record_failure(message, error))
                    if error.connection_lost or error.route_broken:
                        broken = connections.pop(route, None)
                        if broken is not None:
                            _close_all({route: broken})
                        if message.transport == RELAY:  # the install's own server: the rest waits
                            _release(claimed[index + 1 :])
                            result.stopped = True
                            return result
                        stopped_routes[route] = error
                    continue
                sent.append(message.pk)
                result.sent += 1
                if len(sent) >= SENT_FLUSH:
                    _mark_sent(sent)
            _mark_sent(sent)
    finally:
        _mark_sent(sent)
        _close_all(connections)
    return result


def _count(result: BatchResult, retried: bool) -> None:
    if retried:
        result.retried += 1
    else:
        result.failed += 1


@task()
def send_outgoing(message_id: int) -> str:
    """Send one message (enqueued when the transaction that wrote it commits). Returns its state."""
    send_outgoing_batch([message_id])
    state = OutgoingMessage.dangerously_unscoped.filter(pk=message_id).values_list("state", flat=True).first()
    return state or "missing"


def due_message_ids(*, now: dt.datetime, limit: int = SWEEP_BATCH) -> list[int]:
    return list(
        OutgoingMessage.dangerously_unscoped.filter(state=MessageState.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


@task()
def send_due_messages() -> int:
    """The sweep (every minute, `manage.py scheduler`): messages whose enqueue was lost, whose
    retry is due, or whose worker died mid-send, drained through one connection per batch for at
    most SWEEP_BUDGET_SECONDS. Returns how many were sent."""
    now = timezone.now()
    OutgoingMessage.dangerously_unscoped.filter(state=MessageState.SENDING, next_attempt_at__lte=now).update(
        state=MessageState.QUEUED, next_attempt_at=now, updated_at=now
    )
    sent = 0
    deadline = time.monotonic() + SWEEP_BUDGET_SECONDS
    while time.monotonic() < deadline:
        ids = due_message_ids(now=timezone.now())
        if not ids:
            break
        result = send_outgoing_batch(ids)
        sent += result.sent
        if result.stopped or result.claimed == 0:
            break
    return sent
