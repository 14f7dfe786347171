"""Receiving webhooks at /hooks/<token>/ and processing their deliveries.

Accept-then-process: a request whose signature holds is stored as a WebhookDelivery row (committed)
before anything else happens, so nothing accepted is ever lost. Its payload is then translated and
validated; a payload that cannot be used is answered 422 with the reasons and the delivery stays,
failed, with them. A valid one is answered 202 (200 for a lead network's own notification, which
names leads by id only) and processed by a task (`process_webhook_delivery`) enqueued on commit;
a lead named by id becomes a fetch job (services/lead_fetch.py) read from the network's API. Processing is idempotent (orders by external id, leads by lead id), runs one
delivery of an integration at a time (the integration's row is locked), and a failure leaves the
delivery failed with its error, to be retried from its page or the API.

Answers to the sender are JSON `{"detail", "errors": [{"field", "message"}]}` like the API's:
404 unknown token, 413 body over VINCULO_WEBHOOK_MAX_BODY_BYTES (4 MB), 429 rate limited, 401 bad signature, 400 not JSON,
422 unusable payload, 202 accepted (200 for a Facebook or LinkedIn notification).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope
from django_tasks import task

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_org_admin
from vinculo.core.audit import audit_update
from vinculo.core.json_input import JSONInputError, json_parse
from vinculo.core.rate_limit import retry_after
from vinculo.touchpoints import adapters
from vinculo.touchpoints.adapters import Lead, LeadPing, PayloadError, woocommerce
from vinculo.touchpoints.crypto import SecretUnreadable
from vinculo.touchpoints.models import Integration, WebhookDelivery
from vinculo.touchpoints.services.actors import processing_actor
from vinculo.touchpoints.services.integrations import LEAD_KINDS, integration_secret
from vinculo.touchpoints.services.lead_fetch import lead_fetches_queue
from vinculo.touchpoints.services.orders_in import clean_order, order_ingest
from vinculo.touchpoints.services.social_leads import LeadValues, lead_ingest, map_lead

logger = logging.getLogger(__name__)

DEFAULT_RATE_LIMITS = {"per_token": 600, "per_ip": 1200, "window_seconds": 60}
DONE = (WebhookDelivery.Status.PROCESSED, WebhookDelivery.Status.DUPLICATE)


@dataclass
class Answer:
    """What the endpoint answers: a status and a JSON body (or plain text for a handshake)."""

    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, detail: str, errors: list[dict[str, str]] | None = None, **extra: Any) -> Answer:
    return Answer(status, {"detail": detail, "errors": errors or [], **extra})


def error_items(errors: Mapping[str, list[str]]) -> list[dict[str, str]]:
    return [{"field": name, "message": str(message)} for name, messages in errors.items() for message in messages]


def describe_errors(errors: Mapping[str, list[str]]) -> str:
    """The reasons as stored on a failed delivery: one `field: message` per line."""
    return "\n".join(f"{item['field']}: {item['message']}" for item in error_items(errors))


def max_body_bytes() -> int:
    """The largest webhook body accepted (VINCULO_WEBHOOK_MAX_BODY_BYTES; 4 MB by default: a
    shop's order of 1,000 lines is over 1 MB)."""
    return int(getattr(settings, "VINCULO_WEBHOOK_MAX_BODY_BYTES", 4 * 1024 * 1024))


def too_large_message() -> str:
    return _("The body is larger than %(n)s bytes.") % {"n": max_body_bytes()}


# --- rate limits (per token and per address, fixed windows in the cache) ---------------------------


def _limits() -> dict[str, int]:
    return {**DEFAULT_RATE_LIMITS, **getattr(settings, "VINCULO_WEBHOOK_RATE_LIMITS", {})}


def rate_limit_wait(*, token: str, ip: str) -> int:
    limits = _limits()
    counters = [(f"webhook:ip:{ip}", limits["per_ip"]), (f"webhook:token:{token[:64]}", limits["per_token"])]
    return retry_after(counters, window=limits["window_seconds"])


# --- receiving ------------------------------------------------------------------------------------


def integration_by_token(token: str) -> Integration | None:
    """The active integration whose address carries `token`: how a webhook finds its organisation."""
    if not token or len(token) > 64:
        return None
    return Integration.dangerously_unscoped.select_related("organization").filter(token=token, is_active=True).first()


def webhook_handshake(*, integration: Integration, query: Mapping[str, str]) -> Answer:
    """The GET a source sends to check the address (Facebook's hub.challenge, LinkedIn's challengeCode)."""
    adapter = adapters.for_kind(integration.kind)
    handshake = getattr(adapter, "handshake", None)
    if handshake is None:
        return error(405, _("This address only takes POST."))
    try:
        secret = integration_secret(integration)
    except SecretUnreadable:
        return error(401, _("The integration's secret cannot be read; rotate it."))
    result = handshake(query, secret)
    if result is None:
        return error(400, _("Not a subscription check."))
    status, body = result
    if isinstance(body, str) and status != 200:
        return error(status, body)
    return Answer(status, body)


def _check(integration: Integration, delivery: WebhookDelivery) -> list[Any]:
    """The delivery's payload translated and validated (PayloadError otherwise): the generic order,
    or the leads: mapped when they carry their answers, LeadPings when announced by id only."""
    adapter = adapters.for_kind(integration.kind)
    if integration.kind in LEAD_KINDS:
        return [
            map_lead(integration, lead, index) if isinstance(lead, Lead) else lead
            for index, lead in enumerate(adapter.to_leads(delivery.body))
        ]
    return [clean_order(adapter.to_order(delivery.body, delivery.topic))]


def webhook_receive(*, token: str, headers: Mapping[str, str], body: bytes, ip: str, now: datetime) -> Answer:
    """Everything the endpoint does with a POST, in order: find, limit, verify, store, validate."""
    integration = integration_by_token(token)
    wait = rate_limit_wait(token=token, ip=ip)
    if wait:
        return Answer(
            429, {"detail": _("Too many requests; try again later."), "errors": []}, {"Retry-After": str(wait)}
        )
    if integration is None:
        return error(404, _("Unknown webhook address."))
    if len(body) > max_body_bytes():
        return error(413, too_large_message())
    if integration.kind == woocommerce.KIND and woocommerce.is_ping(body):
        return Answer(200, {"detail": _("Webhook saved."), "errors": []})
    try:
        secret = integration_secret(integration)
    except SecretUnreadable:
        logger.error("webhook secret of integration %s cannot be decrypted", integration.pk)
        return error(401, _("Invalid signature."), [{"field": "signature", "message": _("Invalid signature.")}])
    adapter = adapters.for_kind(integration.kind)
    problem = adapter.verify(headers, body, secret, now)
    if problem:
        return error(401, problem, [{"field": "signature", "message": problem}])
    try:
        payload = json_parse(body)
    except JSONInputError as exc:  # a 400 whatever the reason: platforms read the status, people the error
        message = _("The body is not JSON.") if exc.syntax else exc.message
        return error(400, _("The body is not JSON."), [{"field": exc.field, "message": message}])
    if not isinstance(payload, dict):
        return error(400, _("The body must be a JSON object."), [{"field": "body", "message": _("Give an object.")}])
    with scope(organization=integration.organization), transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            organization=integration.organization,
            integration=integration,
            external_id=adapter.external_id(payload)[:128],
            topic=adapter.topic(headers, payload)[:64],
            body=payload,
        )
        Integration.objects.filter(pk=integration.pk).update(last_received_at=now)
    # committed: from here on the delivery exists whatever happens
    with scope(organization=integration.organization):
        try:
            try:
                checked = _check(integration, delivery)
            except PayloadError:
                raise
            except Exception as exc:  # hostile shapes an adapter did not foresee: a 422, never a 500
                logger.warning("webhook delivery %s unreadable: %r", delivery.pk, exc)
                raise PayloadError({"body": [_("The payload could not be read.")]}) from exc
        except PayloadError as exc:
            with transaction.atomic():
                delivery.status = WebhookDelivery.Status.FAILED
                delivery.last_error = describe_errors(exc.errors)[:10000]
                delivery.attempts = 1
                delivery.save(update_fields=["status", "last_error", "attempts", "updated_at"])
            return error(
                422, _("The payload was stored but cannot be used."), error_items(exc.errors), delivery_id=delivery.pk
            )
    delivery_id = delivery.pk
    transaction.on_commit(lambda: _enqueue(delivery_id))
    # a network's own notification (ids only) gets the 200 Facebook asks for; relayed answers a 202
    notification = integration.kind in LEAD_KINDS and not any(isinstance(item, LeadValues) for item in checked)
    return Answer(200 if notification else 202, {"detail": _("Accepted."), "errors": [], "delivery_id": delivery_id})


# --- processing -----------------------------------------------------------------------------------


def _enqueue(delivery_id: int) -> None:
    """Queue the processing; if the queue cannot take it the delivery is still stored and the
    sweep (`process_pending_deliveries`) processes it, so the sender still gets its 202."""
    try:
        process_webhook_delivery.enqueue(delivery_id)
    except Exception:
        logger.exception("could not enqueue webhook delivery %s", delivery_id)


def _handle(actor: Membership, integration: Integration, delivery: WebhookDelivery) -> str:
    """Process a validated payload; the delivery's new status."""
    checked = _check(integration, delivery)
    fresh = False
    if integration.kind in LEAD_KINDS:
        network = adapters.for_kind(integration.kind).NETWORK
        for lead in checked:
            if isinstance(lead, LeadValues):
                _contact, captured = lead_ingest(actor=actor, integration=integration, lead=lead, network=network)
                fresh = fresh or captured
        pings = [lead for lead in checked if isinstance(lead, LeadPing)]
        queued = lead_fetches_queue(integration=integration, delivery=delivery, pings=pings)
        fresh = fresh or bool(queued) or not checked  # nothing to do (a deleted lead) is done
    else:
        _order, created, changed = order_ingest(actor=actor, integration=integration, order=checked[0])
        fresh = created or changed
    return WebhookDelivery.Status.PROCESSED if fresh else WebhookDelivery.Status.DUPLICATE


def _failure(exc: Exception) -> str:
    if isinstance(exc, PayloadError):
        return describe_errors(exc.errors)
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return describe_errors(exc.message_dict)
        return "\n".join(exc.messages)
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("Not allowed.")
    return _("Unexpected error (%(kind)s); the details are in the server log.") % {"kind": type(exc).__name__}


def _process_locked(delivery_id: int) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("organization")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status in DONE:
            return delivery
        # one delivery of an integration at a time: two replays of an order never race
        integration = Integration.objects.select_for_update().get(pk=delivery.integration_id)
        integration.organization = delivery.organization
        actor = processing_actor(integration)
        status: str = WebhookDelivery.Status.FAILED
        problem = ""
        try:
            with transaction.atomic():
                status = _handle(actor, integration, delivery)
        except Exception as exc:
            if not isinstance(exc, PayloadError | ValidationError | PermissionDenied):
                logger.exception("webhook delivery %s failed", delivery_id)
            problem = _failure(exc)
        delivery.status = status
        delivery.attempts = min(delivery.attempts + 1, 32767)
        delivery.last_error = problem[:10000]
        delivery.processed_at = timezone.now() if status in DONE else None
        delivery.save(update_fields=["status", "attempts", "last_error", "processed_at", "updated_at"])
        return delivery


def delivery_process(*, delivery_id: int) -> WebhookDelivery | None:
    """Process one delivery (idempotent: a processed one is left alone). Runs in its organisation's scope."""
    delivery = WebhookDelivery.dangerously_unscoped.select_related("organization").filter(pk=delivery_id).first()
    if delivery is None:
        return None
    with scope(organization=delivery.organization):
        return _process_locked(delivery_id)


def delivery_retry(*, actor: Membership, delivery: WebhookDelivery) -> WebhookDelivery:
    """Process a failed delivery again, now (the page and the API show the outcome at once)."""
    require_org_admin(actor)
    if delivery.status != WebhookDelivery.Status.FAILED:
        raise ValidationError({"status": [_("Only a failed delivery can be retried.")]})
    with transaction.atomic():
        audit_update(
            instance=delivery,
            actor=actor.user,
            changes={"retry": [delivery.attempts, delivery.attempts + 1]},
            organization=actor.organization,
        )
    result = _process_locked(delivery.pk)
    assert result is not None
    return result


@task()
def process_webhook_delivery(delivery_id: int) -> str:
    """Task: process one accepted delivery (idempotent; safe to run twice or late)."""
    delivery = delivery_process(delivery_id=delivery_id)
    return delivery.status if delivery is not None else "missing"


@task()
def process_pending_deliveries(older_than_seconds: int = 300, limit: int = 500) -> int:
    """Task for the scheduler: deliveries still `received` some minutes after they came (the worker
    was down when they were enqueued) are processed now. Returns how many."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        WebhookDelivery.dangerously_unscoped.filter(status=WebhookDelivery.Status.RECEIVED, created_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for delivery_id in ids:
        delivery_process(delivery_id=delivery_id)
    return len(ids)


@task()
def prune_webhook_deliveries(older_than_days: int = 90) -> int:
    """Task for the scheduler: forget processed and duplicate deliveries older than the given days
    (their bodies hold personal data; the orders and contacts they made stay). Failed ones stay
    until they are retried or their integration is deleted. Returns how many were deleted."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    deleted, _rows = WebhookDelivery.dangerously_unscoped.filter(status__in=DONE, created_at__lt=cutoff).delete()
    return deleted
