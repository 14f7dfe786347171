"""Tracker ingestion: accept a batch from the public internet, then process it in a task.

Accept (`track_batch_accept`, in the request): the batch is checked as a whole (key, size, count,
rate), each event is validated on its own (bad ones are rejected with reasons, good ones kept),
the site's consent mode is enforced, client clocks are corrected, and the accepted events are
written as ONE `IngestBatch` row, committed before the 202. No query per event: the site comes from
a short cache, the rate counters from the cache, and the one INSERT is the batch.

Consent: a batch says `"consent": true` once the visitor agreed (`false`: they refused; absent: not
asked yet). Without it, an opt-in site records nothing; a cookieless site records anonymous events
only: identifying ones (identify, a user id or traits) are refused one by one, and the others are
kept under a one-way pseudonym of their anonymous id (`unconsented_id`) and without the sender's
address, so that nothing stored from them can be joined to a person later: no identify can name a
pseudonym (identifying events need consent, and a browser's own ids never start with "~"). An
implied-consent site takes a batch without the field as consented. A refusal records nothing.

Process (`ingest_batch_process`, in the task `process_ingest_batch`): in one transaction, lock the
batch, drop events whose message id is already in the event log, stitch identities, insert the
events (INSERT … ON CONFLICT DO NOTHING RETURNING: only rows really inserted count), split sessions,
update visitors and contacts, and mark the batch processed. A crash anywhere rolls all of it back;
running it again (or twice) changes nothing more: effects are counted only for events inserted by
this run, and a processed batch is skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_scopes import scope
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from vinculo.accounts.models import Membership
from vinculo.accounts.system_actor import make_via, system_actor
from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_activity_bump
from vinculo.core.api import BoundedDateTime
from vinculo.core.json_input import JSONInputError, json_parse
from vinculo.core.models import Event
from vinculo.core.rate_limit import retry_after
from vinculo.core.validation import MIN_DATE, date_range_message, in_date_range
from vinculo.touchpoints.models import ConsentMode, IngestBatch, TrackingSite, Visitor
from vinculo.touchpoints.services.event_rows import insert_events_returning, update_rows
from vinculo.touchpoints.services.sessions import SessionEvent, sessions_apply
from vinculo.touchpoints.services.stitching import visitor_identify

logger = logging.getLogger(__name__)

MAX_EVENTS = 100
MAX_BODY_BYTES = 256 * 1024
MAX_PROPERTIES_BYTES = 8 * 1024
RATE_WINDOW_SECONDS = 60
MAX_ATTEMPTS = 5
NAME_PATTERN = r"^[a-z0-9_.-]+$"
ANONYMOUS_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
EARLIEST_EVENT = dt.datetime.combine(MIN_DATE, dt.time.min, dt.UTC)
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


class IngestError(Exception):
    """The whole batch is refused: `status` (400/401/403/413/422/429) and a message."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]] | None = None, retry_after: int = 0):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.retry_after = retry_after


# --- validation of one event ---------------------------------------------------------------------


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


class TrackEventIn(BaseModel):
    """One event as the snippet sends it."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["page", "track", "identify"]
    message_id: str = Field(min_length=1, max_length=128)
    anonymous_id: str = Field(min_length=1, max_length=64, pattern=ANONYMOUS_ID_PATTERN)
    timestamp: BoundedDateTime | None = None
    name: str = Field("", max_length=64)
    properties: dict[str, Any] = Field(default_factory=dict)
    url: str = Field("", max_length=2000)
    title: str = Field("", max_length=500)
    referrer: str = Field("", max_length=2000)
    user_id: str = Field("", max_length=254)
    traits: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value and not re.match(NAME_PATTERN, value):
            raise PydanticCustomError("name_pattern", "name_pattern")
        return value

    @field_validator("properties", "traits")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _json_size(value) > MAX_PROPERTIES_BYTES:
            raise PydanticCustomError("too_big", "too_big")
        return value

    @field_validator("url", "referrer")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if value and not value.lower().startswith(("http://", "https://")):
            raise PydanticCustomError("web_address", "web_address")
        return value

    @model_validator(mode="after")
    def _needed(self) -> TrackEventIn:
        if self.type == "track" and not self.name:
            raise PydanticCustomError("track_name", "track_name")
        if self.type == "identify" and not self.user_id.strip():
            raise PydanticCustomError("identify_user", "identify_user")
        return self


def _message(error: Any) -> tuple[str, str]:
    """(field, translated message) of one pydantic error."""
    loc = [str(p) for p in error.get("loc", ())]
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    field_name = ".".join(loc) or "__all__"
    if kind == "track_name":
        return "name", _("A track event needs a name.")
    if kind == "identify_user":
        return "user_id", _("An identify event needs an e-mail address or a user id.")
    messages = {
        "missing": _("This field is required."),
        "extra_forbidden": _("Unknown field."),
        "string_type": _("Enter text."),
        "dict_type": _("Give an object."),
        "literal_error": _("Choose one of: page, track, identify."),
        "datetime_parsing": _("Enter a date and time in ISO 8601, e.g. 2026-01-31T12:00:00Z."),
        "datetime_from_date_parsing": _("Enter a date and time in ISO 8601, e.g. 2026-01-31T12:00:00Z."),
        "datetime_type": _("Enter a date and time in ISO 8601, e.g. 2026-01-31T12:00:00Z."),
        "name_pattern": _("Use only lower-case letters, digits, “_”, “.” and “-”."),
        "string_pattern_mismatch": _("Use only letters, digits, “_”, “.”, “:” and “-”."),
        "too_big": _("At most %(n)s bytes of JSON.") % {"n": MAX_PROPERTIES_BYTES},
        "web_address": _("Enter an http or https address."),
        "model_type": _("Give an object."),
    }
    if kind == "string_too_long":
        return field_name, _("At most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind == "string_too_short":
        return field_name, _("This field is required.")
    return field_name, messages.get(kind, str(error.get("msg", _("Not valid."))))


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def correct_time(
    *, timestamp: dt.datetime | None, sent_at: dt.datetime | None, received_at: dt.datetime
) -> dt.datetime:
    """The server time an event happened: its client timestamp shifted by the client's clock error
    (received_at − sent_at; transit time counts as error, which is small), never in the future nor
    before 1900 (a clock far ahead could shift a valid timestamp there)."""
    if timestamp is None:
        return received_at
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=dt.UTC)
    corrected = timestamp + (received_at - sent_at) if sent_at is not None else timestamp
    return max(min(corrected, received_at), EARLIEST_EVENT)


# --- accept ----------------------------------------------------------------------------------------


def _limits() -> tuple[int, int]:
    """Batches a minute allowed per site key and per client address."""
    conf = getattr(settings, "TRACKER_RATE_LIMITS", None) or {}
    per_key = int(conf.get("PER_KEY", os.environ.get("VINCULO_TRACK_PER_KEY_PER_MINUTE", 20000)))
    per_ip = int(conf.get("PER_IP", os.environ.get("VINCULO_TRACK_PER_IP_PER_MINUTE", 300)))
    return per_key, per_ip


def rate_limit_wait(*, key: str, ip: str, now: float | None = None) -> int:
    """Count one batch for the key and for the address; the seconds to wait when over a limit
    (the shared fixed-window limiter, vinculo.core.rate_limit)."""
    per_key, per_ip = _limits()
    return retry_after(((f"track:k:{key}", per_key), (f"track:ip:{ip}", per_ip)), window=RATE_WINDOW_SECONDS, now=now)


@dataclass
class Accepted:
    batch_id: int | None
    accepted: int
    rejected: list[dict[str, Any]] = field(default_factory=list)


def parse_body(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise IngestError(413, _("The body is too large: at most %(n)s bytes.") % {"n": MAX_BODY_BYTES})
    try:
        data = json_parse(body)
    except JSONInputError as exc:
        detail = exc.message if exc.status == 400 else _("Some fields are not valid.")
        raise IngestError(exc.status, detail, [{"field": exc.field, "message": exc.message}]) from None
    if not isinstance(data, dict):
        message = _("Give an object.")
        raise IngestError(422, _("Some fields are not valid."), [{"field": "body", "message": message}])
    return data


def is_identifying(event: TrackEventIn) -> bool:
    """An event that names a person or ties the browser to one: identify (stitching joins the
    visitor's whole history to a contact), or any event carrying a user id or traits."""
    return event.type == "identify" or bool(event.user_id) or bool(event.traits)


def unconsented_id(*, organization_id: int, anonymous_id: str) -> str:
    """The id an event sent without consent is stored under: a keyed one-way pseudonym of the
    browser's id, stable within one page load (its events still form one visit) and never equal
    to an id a browser sends ("~" is not allowed in those), so that it is never stitched."""
    digest = salted_hmac("vinculo.tracker.unconsented", f"{organization_id}:{anonymous_id}").hexdigest()
    return "~" + digest[:40]


def validate_events(
    raw_events: list[Any],
    *,
    sent_at: dt.datetime | None,
    received_at: dt.datetime,
    anonymous_only_for: int | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(accepted events ready to store, rejected [{"index", "errors": [{"field", "message"}]}]).
    `anonymous_only_for` (an organisation id): the batch has no consent; identifying events are
    rejected and the others stored under their `unconsented_id`."""
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_events):
        try:
            event = TrackEventIn.model_validate(raw)
        except ValidationError as exc:
            errors = [dict(zip(("field", "message"), _message(err), strict=True)) for err in exc.errors()]
            rejected.append({"index": index, "errors": errors})
            continue
        anonymous_id = event.anonymous_id
        if anonymous_only_for is not None:
            if is_identifying(event):
                message = _("Identifying a visitor needs their consent: this event was not recorded.")
                rejected.append({"index": index, "errors": [{"field": "consent", "message": message}]})
                continue
            anonymous_id = unconsented_id(organization_id=anonymous_only_for, anonymous_id=anonymous_id)
        occurred = correct_time(timestamp=event.timestamp, sent_at=sent_at, received_at=received_at)
        row: dict[str, Any] = {
            "type": event.type,
            "message_id": event.message_id,
            "anonymous_id": anonymous_id,
            "occurred_at": occurred.astimezone(dt.UTC).isoformat(),
        }
        for name in ("name", "url", "title", "referrer", "user_id"):
            value = getattr(event, name)
            if value:
                row[name] = value
        if event.properties:
            row["properties"] = event.properties
        if event.traits:
            row["traits"] = event.traits
        accepted.append(row)
    return accepted, rejected


def track_batch_accept(*, site: TrackingSite, data: dict[str, Any], ip: str | None, user_agent: str) -> Accepted:
    """Validate a parsed body for `site` and store its good events as one batch (committed when
    this returns, in autocommit). Raises IngestError for a batch refused as a whole. The caller
    hands the batch to a worker (`tasks.batch_enqueue`); if that is lost, the workers' sweep
    finds the batch within seconds."""
    received_at = timezone.now()
    raw_events = data.get("events")
    if not isinstance(raw_events, list):
        message = _("Give a list.") if "events" in data else _("This field is required.")
        raise IngestError(422, _("Some fields are not valid."), [{"field": "events", "message": message}])
    if len(raw_events) > MAX_EVENTS:
        raise IngestError(413, _("Too many events: at most %(n)s in a batch.") % {"n": MAX_EVENTS})
    sent_at = None
    if data.get("sent_at") is not None:
        sent_at = _parse_time(data["sent_at"])
        if sent_at is None:
            message = _("Enter a date and time in ISO 8601, e.g. 2026-01-31T12:00:00Z.")
            raise IngestError(422, _("Some fields are not valid."), [{"field": "sent_at", "message": message}])
        if not in_date_range(sent_at):
            message = date_range_message()
            raise IngestError(422, _("Some fields are not valid."), [{"field": "sent_at", "message": message}])
    consent = data.get("consent")
    if consent is not None and not isinstance(consent, bool):
        message = _("Enter true or false.")
        raise IngestError(422, _("Some fields are not valid."), [{"field": "consent", "message": message}])
    refusal = None
    if data.get("dnt") is True and site.honor_dnt:
        refusal = ("dnt", _("Do Not Track is on and this site honours it: nothing was recorded."))
    elif consent is False:
        refusal = ("consent", _("The visitor refused consent: nothing was recorded."))
    elif consent is None and site.consent_mode == ConsentMode.OPT_IN:
        refusal = ("consent", _("This site records nothing before the visitor consents: nothing was recorded."))
    if refusal is not None:
        field_name, message = refusal
        rejected = [{"index": i, "errors": [{"field": field_name, "message": message}]} for i in range(len(raw_events))]
        return Accepted(batch_id=None, accepted=0, rejected=rejected)
    anonymous_only = consent is None and site.consent_mode != ConsentMode.IMPLIED
    accepted, rejected = validate_events(
        raw_events,
        sent_at=sent_at,
        received_at=received_at,
        anonymous_only_for=site.organization_id if anonymous_only else None,
    )
    if not accepted:
        return Accepted(batch_id=None, accepted=0, rejected=rejected)
    batch = IngestBatch.dangerously_unscoped.create(
        organization_id=site.organization_id,
        site=site,
        events=accepted,
        event_count=len(accepted),
        ip=None if anonymous_only else ip,
        user_agent=user_agent[:400],
        received_at=received_at,
    )
    return Accepted(batch_id=batch.pk, accepted=len(accepted), rejected=rejected)


# --- process -------------------------------------------------------------------------------------


def utm_of(url: str) -> dict[str, str]:
    try:
        query = urlsplit(url).query
    except ValueError:
        return {}
    found = {}
    for key, value in parse_qsl(query):
        if key in UTM_KEYS and value and key not in found:
            found[key] = value[:200]
    return found


def _event_properties(event: dict[str, Any]) -> dict[str, Any]:
    if event["type"] == "page":
        props: dict[str, Any] = {"url": event.get("url", ""), "title": event.get("title", "")}
        if event.get("referrer"):
            props["referrer"] = event["referrer"]
        try:
            props["path"] = urlsplit(event.get("url", "")).path or "/"
        except ValueError:
            props["path"] = ""
        props.update(utm_of(event.get("url", "")))
        if event.get("properties"):
            props["properties"] = event["properties"]
        return props
    props = dict(event.get("properties") or {})
    if event.get("url"):
        props.setdefault("url", event["url"])
    return props


def _event_type(event: dict[str, Any]) -> str:
    if event["type"] == "page":
        return "page.viewed"
    if event["type"] == "identify":
        return "visitor.identified"
    return f"web.{event['name']}"


def ingest_batch_process(*, batch_id: int) -> bool:
    """Process one stored batch; True if this call did it, False if it was done already."""
    batch = (
        IngestBatch.dangerously_unscoped.select_related("organization", "site")
        .defer("events")
        .filter(pk=batch_id)
        .first()
    )
    if batch is None or batch.processed_at is not None:
        return False
    try:
        with scope(organization=batch.organization), transaction.atomic():
            locked = IngestBatch.objects.select_for_update().filter(pk=batch_id, processed_at__isnull=True).first()
            if locked is None:
                return False
            _process(locked, batch.site)
            locked.processed_at = timezone.now()
            locked.attempts += 1
            locked.last_error = ""
            locked.save(update_fields=["processed_at", "attempts", "last_error", "updated_at"])
    except Exception as exc:
        IngestBatch.dangerously_unscoped.filter(pk=batch_id, processed_at__isnull=True).update(
            attempts=batch.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    return True


def _process(batch: IngestBatch, site: TrackingSite) -> None:
    org = batch.organization
    received_at = batch.received_at
    events: list[dict[str, Any]] = []
    seen: set[str] = set()
    for event in sorted(batch.events, key=lambda e: e["occurred_at"]):  # ISO strings in UTC sort
        if event["message_id"] not in seen:
            seen.add(event["message_id"])
            events.append(event)
    stored = set(Event.objects.filter(message_id__in=list(seen)).values_list("message_id", flat=True))
    events = [e for e in events if e["message_id"] not in stored]
    if not events:
        return
    for event in events:
        event["_at"] = dt.datetime.fromisoformat(event["occurred_at"])

    visitors = _visitors_for(batch, events)
    owner: Membership | None = None
    identified: set[str] = set()
    for event in events:
        if event["type"] != "identify":
            continue
        if owner is None and site.create_leads:
            owner = system_actor(org, via=make_via("website", site.name))
        visitor = visitors[event["anonymous_id"]]
        result = visitor_identify(
            site=site,
            visitor=visitor,
            identifier=event["user_id"],
            traits=event.get("traits") or {},
            occurred_at=event["_at"],
            message_id=event["message_id"],
            owner=owner,
        )
        if result.event_inserted:
            identified.add(event["message_id"])

    contact_ids = {v.contact_id for v in visitors.values() if v.contact_id}
    companies = dict(Contact.objects.filter(pk__in=contact_ids).values_list("pk", "company_id")) if contact_ids else {}
    now = timezone.now()
    rows = []
    for event in events:
        if event["type"] == "identify":
            continue
        visitor = visitors[event["anonymous_id"]]
        rows.append(
            {
                "organization_id": org.pk,
                "contact_id": visitor.contact_id,
                "company_id": companies.get(visitor.contact_id) if visitor.contact_id else None,
                "anonymous_id": event["anonymous_id"],
                "type": _event_type(event),
                "source": "web",
                "properties": _event_properties(event),
                "actor_id": None,
                "occurred_at": event["_at"],
                "received_at": received_at,
                "message_id": event["message_id"],
                "created_at": now,
                "updated_at": now,
            }
        )
    inserted = set(insert_events_returning(rows)) | identified

    by_visitor: dict[str, list[SessionEvent]] = defaultdict(list)
    for event in events:
        if event["message_id"] in inserted:
            by_visitor[event["anonymous_id"]].append(
                SessionEvent(
                    at=event["_at"],
                    is_page=event["type"] == "page",
                    url=event.get("url", ""),
                    referrer=event.get("referrer", ""),
                )
            )
    results = sessions_apply(site=site, visitors=visitors, events=by_visitor, companies=companies)
    activity: dict[int, dt.datetime] = {}
    touched = []
    for anonymous_id, session_events in by_visitor.items():
        visitor = visitors[anonymous_id]
        sessions_result = results[anonymous_id]
        times = [e.at for e in session_events]
        visitor.first_seen_at = min(visitor.first_seen_at, *times)
        visitor.last_seen_at = max(visitor.last_seen_at, *times)
        visitor.page_view_count += sum(1 for e in session_events if e.is_page)
        visitor.session_count += sessions_result.new_sessions
        if sessions_result.first_new is not None and not visitor.first_source:
            visitor.first_source = sessions_result.first_new.source
            visitor.first_medium = sessions_result.first_new.medium
            visitor.first_campaign = sessions_result.first_new.campaign
        if batch.user_agent:
            visitor.user_agent = batch.user_agent
        visitor.updated_at = now
        touched.append(visitor)
        if visitor.contact_id:
            latest = max(times)
            if activity.get(visitor.contact_id) is None or activity[visitor.contact_id] < latest:
                activity[visitor.contact_id] = latest
    update_rows(
        Visitor,
        touched,
        [
            "first_seen_at",
            "last_seen_at",
            "page_view_count",
            "session_count",
            "first_source",
            "first_medium",
            "first_campaign",
            "user_agent",
            "updated_at",
        ],
    )
    for contact_id, at in activity.items():
        contact_activity_bump(contact_id=contact_id, at=at)


def _visitors_for(batch: IngestBatch, events: list[dict[str, Any]]) -> dict[str, Visitor]:
    """The visitors of these anonymous ids, created when new (race-safe: unique per organisation)."""
    first_at: dict[str, dt.datetime] = {}
    for event in events:
        aid = event["anonymous_id"]
        if aid not in first_at or event["_at"] < first_at[aid]:
            first_at[aid] = event["_at"]
    found = {v.anonymous_id: v for v in Visitor.objects.filter(anonymous_id__in=list(first_at))}
    missing = [aid for aid in first_at if aid not in found]
    if missing:
        Visitor.objects.bulk_create(
            [
                Visitor(
                    organization_id=batch.organization_id,
                    anonymous_id=aid,
                    site_id=batch.site_id,
                    first_seen_at=first_at[aid],
                    last_seen_at=first_at[aid],
                    user_agent=batch.user_agent,
                )
                for aid in missing
            ],
            ignore_conflicts=True,
        )
        found.update({v.anonymous_id: v for v in Visitor.objects.filter(anonymous_id__in=missing)})
    for visitor in found.values():
        visitor.organization = batch.organization  # already loaded: no query when events name it
    return found


def pending_batch_ids(*, older_than: dt.timedelta, limit: int = 1000) -> list[int]:
    """Batches of every organisation not processed `older_than` after they arrived (their task was
    lost: a worker killed mid-task, an enqueue that failed), that have not failed too often."""
    cutoff = timezone.now() - older_than
    return list(
        IngestBatch.dangerously_unscoped.filter(
            processed_at__isnull=True, received_at__lte=cutoff, attempts__lt=MAX_ATTEMPTS
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
