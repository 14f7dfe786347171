"""Fetch jobs: leads the networks announce by id, read from their APIs and captured as contacts.

A Facebook `leadgen` change or a LinkedIn `LEAD_ACTION` notification carries ids only. Processing
the delivery writes one LeadFetch row per lead (`lead_fetches_queue`, in the delivery's transaction;
the same lead announced again finds its row and adds nothing) and enqueues `fetch_lead` on commit.
The task worker then:

1. claims the row (one conditional UPDATE: `queued` and due → `fetching`, the attempt counted,
   `next_attempt_at` the lease), so two workers never read the same lead;
2. skips the network when the lead was already captured (a relayed body brought it): `done`;
3. reads it with the integration's access token (services/lead_api.py, outside any transaction);
4. captures it through the same path as relayed leads (`map_lead` → `lead_ingest`: the contact by
   e-mail, source social, campaign, consents in the ledger, `lead.captured` with message id
   `<kind>:<lead id>`), one capture per integration at a time (its row is locked): `done`.

When the network does not give the lead:
- the token is refused → the integration is marked "needs a new token" with the network's message,
  this job and every other waiting job of the integration wait for it (`waiting_token`); saving a
  new token queues them again (`lead_fetches_resume`);
- rate limited → `queued` again after the network's wait (or the back-off), for every waiting job
  of the integration, since the limit is the page's or the app's;
- not found, refused, or a lead without a usable e-mail → `failed` with the reason;
- unreachable or failing → `queued` again with back-off (1 min, 5 min, 15 min, 1 h, 3 h, 6 h),
  `failed` after MAX_ATTEMPTS (rate limits give up only after RATE_LIMITED_ATTEMPTS).

A failed or waiting job is retried from the integration's page or the API (`lead_fetch_retry`).
The workers' sweep (`fetch_due_leads`, every worker turn and each minute from the scheduler) runs
the jobs whose retry is due, whose enqueue was lost, or whose worker died while reading.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope
from django_tasks import task

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_org_admin
from vinculo.core.audit import audit_update
from vinculo.core.models import Event
from vinculo.touchpoints import crypto
from vinculo.touchpoints.adapters import Lead, LeadPing, PayloadError, facebook, linkedin
from vinculo.touchpoints.crypto import SecretUnreadable
from vinculo.touchpoints.models import Integration, IntegrationKind, LeadFetch, WebhookDelivery
from vinculo.touchpoints.services import lead_api
from vinculo.touchpoints.services.actors import processing_actor
from vinculo.touchpoints.services.social_leads import lead_ingest, map_lead

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 7
RATE_LIMITED_ATTEMPTS = 30
# wait after the n-th failed attempt (the last one repeats)
BACKOFF = [dt.timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360)]
LEASE = dt.timedelta(minutes=2)
SWEEP_BATCH = 100
SWEEP_BUDGET_SECONDS = 50.0
State = LeadFetch.State


def token_help(kind: str) -> str:
    """What to do when the network refuses the integration's access token (page and API)."""
    if kind == IntegrationKind.FACEBOOK_LEADS:
        return _(
            "Generate a new Page access token for the Page that owns the lead forms (a long-lived "
            "or system-user token, with the permissions leads_retrieval, pages_manage_metadata, "
            "pages_show_list, pages_read_engagement and ads_management) and save it in this "
            "integration's settings. The leads waiting for it are read again at once."
        )
    if kind == IntegrationKind.LINKEDIN_LEADS:
        return _(
            "Sign in to LinkedIn again with an account that may read the ad account's or page's "
            "leads, create a new access token with the permission r_marketing_leadgen_automation "
            "(LinkedIn's tokens last 60 days) and save it in this integration's settings. The "
            "leads waiting for it are read again at once."
        )
    return ""


def message_id_of(integration: Integration, lead_id: str) -> str:
    return f"{integration.kind}:{lead_id}"[:128]


# --- writing the jobs ------------------------------------------------------------------------------


def lead_fetches_queue(*, integration: Integration, delivery: WebhookDelivery, pings: Iterable[LeadPing]) -> list[int]:
    """One job per announced lead not known yet (inside the caller's transaction, with the
    organisation's scope active); returns the new jobs' ids, each enqueued once the caller commits."""
    created: list[int] = []
    now = timezone.now()
    for ping in pings:
        if LeadFetch.objects.filter(integration=integration, lead_id=ping.external_id).exists():
            continue
        try:
            with transaction.atomic():
                job = LeadFetch.objects.create(
                    organization=integration.organization,
                    integration=integration,
                    delivery=delivery,
                    lead_id=ping.external_id[:128],
                    form_id=ping.form_id[:128],
                    hint=ping.hint,
                    next_attempt_at=now,
                )
        except IntegrityError:  # written meanwhile by a concurrent delivery of the same lead
            continue
        created.append(job.pk)
    if created:
        ids = list(created)
        transaction.on_commit(lambda: _enqueue(ids))
    return created


def _enqueue(ids: list[int]) -> None:
    """Hand the jobs to the worker; if the queue cannot take them, the sweep finds them."""
    for fetch_id in ids:
        try:
            fetch_lead.enqueue(fetch_id)
        except Exception:
            logger.exception("could not enqueue lead fetch %s; the workers' sweep will run it", fetch_id)


# --- running a job ---------------------------------------------------------------------------------


def _claim(fetch_id: int, now: dt.datetime) -> bool:
    return bool(
        LeadFetch.dangerously_unscoped.filter(pk=fetch_id, state=State.QUEUED, next_attempt_at__lte=now).update(
            state=State.FETCHING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE, updated_at=now
        )
    )


def _set(fetch: LeadFetch, **fields: Any) -> None:
    """Move a claimed job on (only while it is still this run's: a retry by hand wins)."""
    fields.setdefault("updated_at", timezone.now())
    LeadFetch.dangerously_unscoped.filter(pk=fetch.pk, state=State.FETCHING).update(**fields)
    for name, value in fields.items():
        setattr(fetch, name, value)


def lead_fetch_run(*, fetch_id: int, now: dt.datetime | None = None) -> LeadFetch | None:
    """Run one job if it is queued and due (idempotent: any other state is left alone). `now` is
    the clock of the retry schedule."""
    now = now or timezone.now()
    if _claim(fetch_id, now):
        fetch = LeadFetch.dangerously_unscoped.select_related("integration", "organization").get(pk=fetch_id)
        fetch.integration.organization = fetch.organization
        with scope(organization=fetch.organization):
            _run_claimed(fetch, fetch.integration, now)
    return LeadFetch.dangerously_unscoped.filter(pk=fetch_id).first()


def _run_claimed(fetch: LeadFetch, integration: Integration, now: dt.datetime) -> None:
    captured = Event.objects.filter(message_id=message_id_of(integration, fetch.lead_id)).first()
    if captured is not None:  # a relayed body or an earlier job brought it: no call needed
        _set(fetch, state=State.DONE, contact_id=captured.contact_id, last_error="", done_at=now)
        return
    if integration.token_error:
        _set(fetch, state=State.WAITING_TOKEN, last_error=integration.token_error)
        return
    try:
        token = crypto.decrypt(integration.access_token_encrypted)
    except SecretUnreadable:
        token = ""
        logger.error("access token of integration %s cannot be decrypted", integration.pk)
    if not token:
        _set(fetch, state=State.WAITING_TOKEN, last_error=_("No access token is saved for this integration."))
        return
    try:
        lead = _read(integration, fetch, token, now)
    except lead_api.TokenRefused as exc:
        _token_refused(integration, fetch, exc.message, now)
    except lead_api.RateLimited as exc:
        _retry(fetch, exc.message, now, wait_seconds=exc.wait_seconds, rate_limited=True)
    except lead_api.Unavailable as exc:
        _retry(fetch, exc.message, now)
    except (lead_api.LeadNotFound, lead_api.Refused) as exc:
        _set(fetch, state=State.FAILED, last_error=exc.message)
    except PayloadError as exc:
        _set(fetch, state=State.FAILED, last_error=_describe(exc.errors))
    else:
        lead.external_id = fetch.lead_id  # the id it was announced by keeps it captured once
        _capture(fetch, integration, lead, now)


def _read(integration: Integration, fetch: LeadFetch, token: str, now: dt.datetime) -> Lead:
    """The lead from the network's API (and its form, which names the fields and the consents)."""
    if integration.kind == IntegrationKind.FACEBOOK_LEADS:
        try:
            app_secret = crypto.decrypt(integration.secret_encrypted)
        except SecretUnreadable:
            app_secret = ""
        body = lead_api.facebook_lead(token=token, app_secret=app_secret, lead_id=fetch.lead_id)
        form_id = facebook.graph_id(body.get("form_id")) or fetch.form_id
        form = None
        if form_id:
            try:
                form = lead_api.facebook_form(token=token, app_secret=app_secret, form_id=form_id)
            except (lead_api.LeadNotFound, lead_api.Refused) as exc:  # its name and texts are extras
                logger.info("form %s of lead %s not read: %s", form_id, fetch.lead_id, exc.message)
        return facebook.lead_from_graph(body, form)
    body = lead_api.linkedin_lead(token=token, lead_id=fetch.lead_id, now=now)
    form_id = linkedin.form_id(body.get("versionedLeadGenFormUrn")) or fetch.form_id
    form = lead_api.linkedin_form(token=token, form_id=form_id, now=now) if form_id else None
    return linkedin.lead_from_api(body, form)


def _describe(errors: dict[str, list[str]]) -> str:
    return "\n".join(f"{name}: {message}" for name, messages in errors.items() for message in messages)


def _capture(fetch: LeadFetch, integration: Integration, lead: Lead, now: dt.datetime) -> None:
    """The lead becomes (or updates) its contact, one capture of the integration at a time."""
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        locked.organization = integration.organization
        network = facebook.NETWORK if locked.kind == IntegrationKind.FACEBOOK_LEADS else linkedin.NETWORK
        try:
            with transaction.atomic():
                contact, _new = lead_ingest(
                    actor=processing_actor(locked),
                    integration=locked,
                    lead=map_lead(locked, lead),
                    network=network,
                )
        except PayloadError as exc:
            _set(fetch, state=State.FAILED, last_error=_describe(exc.errors))
        except ValidationError as exc:
            _set(fetch, state=State.FAILED, last_error="\n".join(exc.messages))
        except PermissionDenied as exc:
            _set(fetch, state=State.FAILED, last_error=str(exc) or _("Not allowed."))
        else:
            _set(fetch, state=State.DONE, contact_id=contact.pk, last_error="", done_at=now)


def _retry(
    fetch: LeadFetch, message: str, now: dt.datetime, *, wait_seconds: int | None = None, rate_limited: bool = False
) -> None:
    """Queue the job again after the wait, or give up after the last attempt."""
    limit = RATE_LIMITED_ATTEMPTS if rate_limited else MAX_ATTEMPTS
    if fetch.attempts >= limit:
        gave_up = _("Gave up after %(n)s attempts.") % {"n": fetch.attempts}
        _set(fetch, state=State.FAILED, last_error=f"{message}\n{gave_up}")
        return
    wait = dt.timedelta(seconds=wait_seconds) if wait_seconds else BACKOFF[min(fetch.attempts, len(BACKOFF)) - 1]
    retry_at = now + wait
    _set(fetch, state=State.QUEUED, next_attempt_at=retry_at, last_error=message)
    if rate_limited:  # the limit is the page's or the app's: the integration's other jobs wait too
        LeadFetch.dangerously_unscoped.filter(
            integration_id=fetch.integration_id, state=State.QUEUED, next_attempt_at__lt=retry_at
        ).update(next_attempt_at=retry_at, updated_at=now)


def _token_refused(integration: Integration, fetch: LeadFetch, message: str, now: dt.datetime) -> None:
    """The integration needs a new token: say so on it, and park its jobs until one is saved. A
    token saved while this call was in flight is not blamed: the job is queued again instead."""
    with transaction.atomic():
        marked = Integration.objects.filter(
            pk=integration.pk, access_token_encrypted=integration.access_token_encrypted
        ).update(token_error=message[:2000], token_error_at=now, updated_at=now)
        if not marked:
            _set(fetch, state=State.QUEUED, next_attempt_at=now, last_error="")
            return
        _set(fetch, state=State.WAITING_TOKEN, last_error=message)
        LeadFetch.objects.filter(integration=integration, state=State.QUEUED).update(
            state=State.WAITING_TOKEN, last_error=message, updated_at=now
        )
    logger.warning("%s refused the access token of integration %s: %s", integration.kind, integration.pk, message)


# --- by hand, and when a token is saved ----------------------------------------------------------------


def lead_fetches_resume(*, integration: Integration) -> list[int]:
    """A new token was saved (inside the caller's transaction): the jobs waiting for it are queued
    at once and enqueued on commit. Returns their ids."""
    now = timezone.now()
    waiting = LeadFetch.objects.filter(integration=integration, state=State.WAITING_TOKEN)
    ids = list(waiting.values_list("id", flat=True))
    if ids:
        LeadFetch.objects.filter(pk__in=ids).update(
            state=State.QUEUED, next_attempt_at=now, attempts=0, last_error="", updated_at=now
        )
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


def lead_fetch_retry(*, actor: Membership, fetch: LeadFetch) -> LeadFetch:
    """Queue a failed job (or one waiting for a token, once a new token is saved) to run now."""
    require_org_admin(actor)
    with transaction.atomic():
        fetch = LeadFetch.objects.select_for_update(of=("self",)).select_related("integration").get(pk=fetch.pk)
        if fetch.state not in (State.FAILED, State.WAITING_TOKEN):
            raise ValidationError({"state": [_("Only a failed lead, or one waiting for a token, can be retried.")]})
        if fetch.state == State.WAITING_TOKEN and (
            fetch.integration.token_error or not fetch.integration.access_token_encrypted
        ):
            raise ValidationError({"state": [_("Save a new access token for the integration first.")]})
        audit_update(
            instance=fetch,
            actor=actor.user,
            changes={"state": [fetch.state, State.QUEUED], "attempts": [fetch.attempts, 0]},
            organization=actor.organization,
        )
        now = timezone.now()
        LeadFetch.objects.filter(pk=fetch.pk).update(
            state=State.QUEUED, attempts=0, next_attempt_at=now, updated_at=now
        )
        fetch_id = fetch.pk
        transaction.on_commit(lambda: _enqueue([fetch_id]))
    fetch.refresh_from_db()
    return fetch


# --- tasks -------------------------------------------------------------------------------------------


@task()
def fetch_lead(fetch_id: int) -> str:
    """Task: read one announced lead (idempotent: a job that is not queued and due is left alone)."""
    fetch = lead_fetch_run(fetch_id=fetch_id)
    return fetch.state if fetch is not None else "missing"


def due_fetch_ids(*, now: dt.datetime, limit: int = SWEEP_BATCH) -> list[int]:
    return list(
        LeadFetch.dangerously_unscoped.filter(state=State.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


@task()
def fetch_due_leads() -> int:
    """The sweep (each worker turn, and every minute from the scheduler): jobs whose worker died
    while reading go back to the queue, then the due ones run, for at most SWEEP_BUDGET_SECONDS.
    Returns how many ran."""
    now = timezone.now()
    LeadFetch.dangerously_unscoped.filter(Q(state=State.FETCHING) & Q(next_attempt_at__lte=now)).update(
        state=State.QUEUED, next_attempt_at=now, updated_at=now
    )
    ran = 0
    deadline = time.monotonic() + SWEEP_BUDGET_SECONDS
    for fetch_id in due_fetch_ids(now=now):
        if time.monotonic() > deadline:
            break
        lead_fetch_run(fetch_id=fetch_id)
        ran += 1
    return ran
