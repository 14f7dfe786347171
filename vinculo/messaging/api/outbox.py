"""Outgoing e-mail over the API: the messages a member may see (the Outbox page's rule: owners and
admins all of the organisation's, others what they sent and what was sent to them), one message,
and sending a failed one (or one kept in the outbox) again."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from vinculo.accounts.api import request_actor
from vinculo.core.api import GET_ERRORS, READ_ERRORS, WRITE_ERRORS, PageOut, PageQuery, page_out
from vinculo.core.pagination import paginate
from vinculo.messaging.models import OutgoingMessage
from vinculo.messaging.selectors import outbox as selectors
from vinculo.messaging.services.sending import RetryConflict, message_retry

router = Router()

StateIn = Literal["all", "outbox", "failed", "queued", "sent"]


class OutgoingMessageOut(Schema):
    id: int
    kind: str
    state: str
    to_address: str
    to_name: str
    from_email: str
    subject: str
    text_body: str
    html_body: str
    message_id: str
    contact_id: int | None
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class OutgoingMessagePage(PageOut):
    items: list[OutgoingMessageOut]


class OutboxQuery(PageQuery):
    state: StateIn = "all"


@router.get("/outgoing-messages", response={200: OutgoingMessagePage, **READ_ERRORS}, tags=["outgoing messages"])
def outgoing_message_list(request: HttpRequest, query: Query[OutboxQuery]) -> dict[str, Any]:
    """Newest first; `state` picks the kept (`outbox`), failed, queued or sent ones."""
    rows = selectors.outbox_list(actor=request_actor(request), state=query.state)
    return page_out(request, paginate(rows, page=query.page, per_page=query.per_page))


@router.get(
    "/outgoing-messages/{outgoing_message_id}",
    response={200: OutgoingMessageOut, **GET_ERRORS},
    tags=["outgoing messages"],
)
def outgoing_message_get(request: HttpRequest, outgoing_message_id: int) -> OutgoingMessage:
    return selectors.outbox_message_get(actor=request_actor(request), pk=outgoing_message_id)


@router.post(
    "/outgoing-messages/{outgoing_message_id}/retry",
    response={200: OutgoingMessageOut, **WRITE_ERRORS},
    tags=["outgoing messages"],
)
def outgoing_message_retry(request: HttpRequest, outgoing_message_id: int) -> OutgoingMessage:
    """Queue a failed message (or one kept in the outbox, once an SMTP server is configured) to be
    sent again; 409 for one that is sent, on its way or suppressed."""
    actor = request_actor(request)
    message = selectors.outbox_message_get(actor=actor, pk=outgoing_message_id)
    try:
        return message_retry(actor=actor, message=message)
    except RetryConflict as exc:
        raise HttpError(409, str(exc)) from exc
