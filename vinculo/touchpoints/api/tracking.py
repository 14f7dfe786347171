"""The website tracker over the API: the public batch endpoint the snippet posts to, and tracking
sites (settings, admins only), visitors and identity conflicts for the organisation's own tools.

`POST /track/batch` is public: it authenticates by the site's public key IN THE BODY
(`{"key": "pk_…", "sent_at": …, "events": [...]}`), because `navigator.sendBeacon` cannot set
headers, and it accepts `text/plain` bodies for the same reason. CORS: only the site's allowed
origins get `Access-Control-Allow-Origin`; a request from another origin is refused (403).
`GET /track/config?key=pk_…` is public too: the site's consent mode and Do-Not-Track choice, which
the snippet reads before it sends anything (the server enforces them on every batch all the same).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from vinculo.accounts.api import request_actor
from vinculo.accounts.throttle import client_ip
from vinculo.core.api import GET_ERRORS, READ_ERRORS, WRITE_ERRORS, ErrorOut, InSchema, PageOut, PageQuery, page_out
from vinculo.core.pagination import paginate
from vinculo.touchpoints.models import IdentityConflict, TrackingSite, Visitor
from vinculo.touchpoints.selectors.sites import any_site_allows, tracking_site_for_key, tracking_site_queryset
from vinculo.touchpoints.selectors.visitors import identity_conflict_queryset, visitor_queryset
from vinculo.touchpoints.services import ingest
from vinculo.touchpoints.services import sites as site_services
from vinculo.touchpoints.services.stitching import identity_conflict_resolve
from vinculo.touchpoints.tasks import batch_enqueue

router = Router(tags=["tracking"])

CORS_MAX_AGE = "86400"
CONFIG_MAX_AGE = 300  # a changed mode reaches the snippets within 5 minutes; the server enforces it at once


# --- the public batch endpoint -------------------------------------------------------------------


class RejectedEvent(Schema):
    index: int
    errors: list[dict[str, str]]


class TrackBatchOut(Schema):
    accepted: int = Field(description="How many events were stored (they are processed shortly after).")
    rejected: list[RejectedEvent]


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


def _error(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": errors or []}, status=status)


@router.api_operation(["OPTIONS"], "/track/batch", auth=None, include_in_schema=False)
def track_batch_preflight(request: HttpRequest) -> HttpResponse:
    """The CORS preflight of a batch. It carries no key, so any active site's origin may send: the
    batch itself is checked against its own site's origins. A browser mechanism, not an operation
    of the API document."""
    origin = request.headers.get("Origin", "")
    response = HttpResponse(status=204)
    if not origin or not any_site_allows(origin):
        return response
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = CORS_MAX_AGE
    return _cors(response, origin)


@router.post(
    "/track/batch",
    auth=None,
    response={202: TrackBatchOut, (400, 401, 403, 413, 422, 429): ErrorOut},
    summary="Send tracker events (public: the site's key is in the body)",
)
def track_batch(request: HttpRequest) -> HttpResponse:
    """Body: `{"key": "pk_…", "sent_at": "<ISO time of sending>", "consent": true, "events":
    [{"type": "page" | "track" | "identify", "message_id", "anonymous_id", "timestamp", "name",
    "properties", "url", "title", "referrer", "user_id", "traits"}]}`, as JSON or text/plain. At
    most 100 events and 256 KB (413). Good events are stored even when others are rejected (each
    with its reasons). Answers 202 once the accepted events are stored durably.

    `consent`: true once the visitor agreed, false if they refused (nothing is recorded), absent
    if not asked yet. Without it the site's consent mode decides: opt-in records nothing;
    cookieless records anonymous events only (identify, a user id or traits are rejected with the
    field `consent`) under a one-way pseudonym of their anonymous id, never joined to a person;
    implied records everything."""
    origin = request.headers.get("Origin", "")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    site: TrackingSite | None = None
    allowed = False
    try:
        if length > ingest.MAX_BODY_BYTES:
            raise ingest.IngestError(
                413, _("The body is too large: at most %(n)s bytes.") % {"n": ingest.MAX_BODY_BYTES}
            )
        data = ingest.parse_body(request.body)
        site = tracking_site_for_key(data.get("key"))  # type: ignore[arg-type]
        if site is None:
            raise ingest.IngestError(401, _("Unknown or inactive site key."))
        allowed = bool(origin) and origin in (site.allowed_origins or [])
        if origin and not allowed:
            raise ingest.IngestError(403, _("This origin is not allowed to send events for this site."))
        ip = client_ip(request)
        wait = ingest.rate_limit_wait(key=site.public_key, ip=ip)
        if wait:
            raise ingest.IngestError(429, _("Too many requests: try again later."), retry_after=wait)
        result = ingest.track_batch_accept(
            site=site, data=data, ip=ip, user_agent=request.headers.get("User-Agent", "")
        )
    except ingest.IngestError as exc:
        response = _error(exc.status, exc.detail, exc.errors)
        if exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        if allowed:  # the page may read why its batch was refused (413, 422, 429)
            _cors(response, origin)
        return response
    if result.batch_id is not None:
        batch_id = result.batch_id
        transaction.on_commit(lambda: batch_enqueue(batch_id))
    response = JsonResponse({"accepted": result.accepted, "rejected": result.rejected}, status=202)
    return _cors(response, origin) if allowed else response


class TrackConfigOut(Schema):
    consent_mode: str = Field(description="opt_in, cookieless or implied: what may be sent before consent.")
    honor_dnt: bool = Field(description="Whether a browser's Do-Not-Track stops the tracker.")


@router.get(
    "/track/config",
    auth=None,
    response={200: TrackConfigOut, 404: ErrorOut, 422: ErrorOut},
    summary="The tracker's settings for a site (public: read by the snippet)",
)
def track_config(request: HttpRequest, key: str) -> HttpResponse:
    """The site's consent mode and Do-Not-Track choice, for any origin (the key is public);
    cached by browsers for 5 minutes. An unknown or inactive key is 404."""
    site = tracking_site_for_key(key)
    if site is None:
        response = _error(404, _("Unknown or inactive site key."))
    else:
        response = JsonResponse({"consent_mode": site.consent_mode, "honor_dnt": site.honor_dnt})
        response["Cache-Control"] = f"public, max-age={CONFIG_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- tracking sites (settings) ---------------------------------------------------------------------


class TrackingSiteOut(Schema):
    id: int
    name: str
    public_key: str
    allowed_origins: list[str]
    consent_mode: str
    honor_dnt: bool
    create_leads: bool
    session_timeout_minutes: int
    is_active: bool
    created_at: dt.datetime


class TrackingSitePage(PageOut):
    items: list[TrackingSiteOut]


ConsentModeIn = Literal["opt_in", "cookieless", "implied"]


class TrackingSiteIn(InSchema):
    name: str = Field(max_length=100)
    allowed_origins: list[str] = Field(max_length=20, description='e.g. ["https://www.example.com"]')
    consent_mode: ConsentModeIn = "opt_in"
    honor_dnt: bool = True
    create_leads: bool = True
    session_timeout_minutes: int = Field(30, ge=5, le=240)
    is_active: bool = True


class TrackingSitePatch(InSchema):
    name: str | None = Field(None, max_length=100)
    allowed_origins: list[str] | None = Field(None, max_length=20)
    consent_mode: ConsentModeIn | None = None
    honor_dnt: bool | None = None
    create_leads: bool | None = None
    session_timeout_minutes: int | None = Field(None, ge=5, le=240)
    is_active: bool | None = None


def _patch(payload: InSchema) -> dict[str, Any]:
    return payload.model_dump(mode="json", exclude_unset=True)


@router.get("/tracking-sites", response={200: TrackingSitePage, **READ_ERRORS})
def tracking_site_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    return page_out(request, paginate(tracking_site_queryset(), page=paging.page, per_page=paging.per_page))


@router.post("/tracking-sites", response={201: TrackingSiteOut, **WRITE_ERRORS})
def tracking_site_create(request: HttpRequest, payload: TrackingSiteIn) -> Status[TrackingSite]:
    site = site_services.tracking_site_create(actor=request_actor(request), data=_patch(payload))
    return Status(201, site)


@router.get("/tracking-sites/{tracking_site_id}", response={200: TrackingSiteOut, **GET_ERRORS})
def tracking_site_get(request: HttpRequest, tracking_site_id: int) -> TrackingSite:
    return get_object_or_404(TrackingSite, pk=tracking_site_id)


@router.patch("/tracking-sites/{tracking_site_id}", response={200: TrackingSiteOut, **WRITE_ERRORS})
def tracking_site_update(request: HttpRequest, tracking_site_id: int, payload: TrackingSitePatch) -> TrackingSite:
    site = get_object_or_404(TrackingSite, pk=tracking_site_id)
    data = _patch(payload)
    nulls = [name for name, value in data.items() if value is None]
    if nulls:
        raise ValidationError({name: [_("This field cannot be null.")] for name in nulls})
    return site_services.tracking_site_update(actor=request_actor(request), site=site, data=data)


@router.delete("/tracking-sites/{tracking_site_id}", response={204: None, **WRITE_ERRORS})
def tracking_site_delete(request: HttpRequest, tracking_site_id: int) -> Status[None]:
    site = get_object_or_404(TrackingSite, pk=tracking_site_id)
    site_services.tracking_site_delete(actor=request_actor(request), site=site)
    return Status(204, None)


# --- visitors and identity conflicts -----------------------------------------------------------------


class VisitorOut(Schema):
    id: int
    anonymous_id: str
    contact_id: int | None
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    identified_at: dt.datetime | None
    session_count: int
    page_view_count: int
    first_source: str
    first_medium: str
    first_campaign: str


class VisitorPage(PageOut):
    items: list[VisitorOut]


@router.get("/visitors", response={200: VisitorPage, **READ_ERRORS})
def visitor_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    return page_out(request, paginate(visitor_queryset(), page=paging.page, per_page=paging.per_page))


@router.get("/visitors/{visitor_id}", response={200: VisitorOut, **GET_ERRORS})
def visitor_get(request: HttpRequest, visitor_id: int) -> Visitor:
    return get_object_or_404(Visitor, pk=visitor_id)


class IdentityConflictOut(Schema):
    id: int
    visitor_id: int
    contact_id: int
    other_contact_id: int
    identifier: str
    status: str
    created_at: dt.datetime


class IdentityConflictPage(PageOut):
    items: list[IdentityConflictOut]


@router.get("/identity-conflicts", response={200: IdentityConflictPage, **READ_ERRORS})
def identity_conflict_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    return page_out(request, paginate(identity_conflict_queryset(), page=paging.page, per_page=paging.per_page))


@router.post("/identity-conflicts/{identity_conflict_id}/resolve", response={200: IdentityConflictOut, **WRITE_ERRORS})
def identity_conflict_resolve_api(request: HttpRequest, identity_conflict_id: int) -> IdentityConflict:
    conflict = get_object_or_404(IdentityConflict, pk=identity_conflict_id)
    return identity_conflict_resolve(actor=request_actor(request), conflict=conflict)
