"""The Outbox: every e-mail of the organisation as its members may see it (owners and admins: all;
others: what they sent and what was sent to them), kept, queued, sent or failed, with the reason
and a Retry for what failed; and each message as its recipient would see it.

A message's HTML is never put inside our page: the message page frames a separate address
(`outbox_message_html_view`) in an `<iframe sandbox>`, and that address serves the HTML alone
under a policy of its own that runs no script, loads nothing from outside and may be framed only
by Vínculo itself."""

from __future__ import annotations

import io
from collections.abc import Sequence
from email.header import decode_header, make_header
from email.utils import format_datetime
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import can_manage_org, can_write
from vinculo.contacts.timeline_deliveries import TimelineDelivery, register_delivery_annotator
from vinculo.core.pagination import paginate, requested_page
from vinculo.core.views import org_view, render_page, safe_next
from vinculo.messaging.attachments import Download, attachment_response
from vinculo.messaging.models import MessageState, OutgoingMessage
from vinculo.messaging.outgoing_selectors import outgoing_by_message_id
from vinculo.messaging.selectors import outbox as selectors
from vinculo.messaging.services.sending import RetryConflict, message_retry
from vinculo.messaging.tasks import build_email
from vinculo.messaging.transports import ORG_SMTP, relay_configured, system_route

PER_PAGE = 50
# the message's own HTML: no script, nothing from outside (images inline as data: only), its own
# inline styles (e-mail HTML is styled inline), framed only by Vínculo's message page
MESSAGE_HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)


@org_view
@require_GET
def outbox_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    state = request.GET.get("state", "all")
    if state not in selectors.OUTBOX_FILTERS:
        state = "all"
    page = paginate(selectors.outbox_list(actor=actor, state=state), page=requested_page(request), per_page=PER_PAGE)
    route = system_route(organization=request.org)
    context = {
        "nav": "outbox",
        "page": page,
        "state": state,
        "filters": [(value, _label(value)) for value in selectors.OUTBOX_FILTERS],
        "counts": selectors.outbox_counts(actor=actor),
        "kept_in_outbox": route.is_outbox,
        "own_server": route.transport == ORG_SMTP,
        "relay_configured": relay_configured(),
        "can_manage": can_manage_org(actor),
        "can_retry": can_write(actor),
        "sees_all": can_manage_org(actor),
    }
    return render_page(request, "messaging/outbox.html", context, partial="messages")


def _label(state: str) -> str:
    if state == "all":
        return _("All")
    return str(MessageState(state).label).capitalize()


@org_view
@require_GET
def outbox_message_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    message = selectors.outbox_message_get(actor=request.membership, pk=pk)
    return _message_page(request, message)


def _message_page(request: OrgRequest, message: OutgoingMessage, *, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "nav": "outbox",
        "message": message,
        "headers": _headers(message),
        "attachments": selectors.outbox_attachments(message),
        "can_retry": can_write(request.membership),
        "retry_error": error,
    }
    return render_page(request, "messaging/outbox_message.html", context, status=status)


def _headers(message: OutgoingMessage) -> list[tuple[str, str]]:
    """The headers as the recipient's mail program gets them (the MIME message built from the
    stored row, as the worker builds it), dated when the message was written."""
    try:
        email = build_email(message, attachments=[])
    except ValueError:
        return []
    mime = email.message()
    if "Date" in mime:
        del mime["Date"]
    mime["Date"] = format_datetime(message.sent_at or message.created_at)
    wanted = ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References")
    shown = [(name, _decoded(mime[name])) for name in wanted if mime[name] is not None]
    shown += [(name, _decoded(value)) for name, value in mime.items() if name not in wanted and name != "Content-Type"]
    return shown


def _decoded(value: Any) -> str:
    """A header as a mail program shows it (RFC 2047 encoded words decoded)."""
    try:
        return str(make_header(decode_header(str(value))))
    except (ValueError, LookupError):
        return str(value)


@org_view
@require_GET
@xframe_options_sameorigin
def outbox_message_html_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """The message's HTML alone, for the sandboxed frame of its page (never as a page of ours). Its
    own policy is set here; the site's (CSPMiddleware) leaves a response that has one alone."""
    message = selectors.outbox_message_get(actor=request.membership, pk=pk)
    if not message.html_body:
        raise Http404
    response = HttpResponse(message.html_body, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = MESSAGE_HTML_POLICY
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def outbox_attachment_view(request: OrgRequest, org_slug: str, pk: int) -> FileResponse:
    attachment = selectors.outbox_attachment_get(actor=request.membership, pk=pk)
    try:
        stream: Any = attachment.file.open("rb") if attachment.file else io.BytesIO(bytes(attachment.content))
    except OSError as exc:  # missing from storage
        raise Http404 from exc
    return attachment_response(Download(filename=attachment.filename, content_type=attachment.mimetype, stream=stream))


@org_view
@require_POST
def outbox_message_retry_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Send a failed (or kept) message again, then back to where the button was (`next`, an
    address of this site), else to the message. A message that cannot be retried (sent, on its
    way, suppressed; kept while no server is configured) gets its page with the reason, 409."""
    message = selectors.outbox_message_get(actor=request.membership, pk=pk)
    try:
        message_retry(actor=request.membership, message=message)
    except RetryConflict as exc:
        return _message_page(request, message, error=str(exc), status=409)
    messages.success(request, _("The e-mail to %(to)s was queued to be sent again.") % {"to": message.to_address})
    return redirect(safe_next(request, reverse("messaging:outbox_message", args=[request.org.slug, message.pk])))


# --- the contact's timeline: how far each e-mail got ---------------------------------------------------

# the timeline's events of an e-mail a member wrote: their Message-ID is the outgoing message's
TIMELINE_EMAIL_EVENTS = ("email.sent",)


def timeline_deliveries(actor: Membership, org_slug: str, events: Sequence[Any]) -> dict[int, TimelineDelivery]:
    """The e-mails of a timeline page that have not simply gone out (one query): failed, with the
    reason and a Retry for whoever may send it again; kept in the outbox; still on their way."""
    wanted = {e.message_id: e.pk for e in events if e.type in TIMELINE_EMAIL_EVENTS and e.message_id}
    if not wanted:
        return {}
    rows = outgoing_by_message_id(organization=actor.organization, message_ids=wanted)
    visible = set(
        selectors.outbox_queryset(actor=actor)
        .filter(pk__in=[row.pk for row in rows.values()])
        .values_list("pk", flat=True)
    )
    found: dict[int, TimelineDelivery] = {}
    for message_id, row in rows.items():
        if row.state == MessageState.SENT or message_id not in wanted:
            continue
        mine = row.pk in visible
        url = reverse("messaging:outbox_message", args=[org_slug, row.pk]) if mine else ""
        retry = mine and row.state == MessageState.FAILED and can_write(actor)
        found[wanted[message_id]] = TimelineDelivery(
            state=row.state,
            label=_("Failed:") if row.state == MessageState.FAILED else str(MessageState(row.state).label).capitalize(),
            reason=row.last_error if row.state in (MessageState.FAILED, MessageState.QUEUED) else "",
            retry_url=reverse("messaging:outbox_message_retry", args=[org_slug, row.pk]) if retry else "",
            url=url,
        )
    return found


def register() -> None:
    """The timeline shows how far each e-mail got (MessagingConfig.ready())."""
    register_delivery_annotator(timeline_deliveries)
