"""Web sessions: a visitor's events with less than the site's inactivity timeout between them.

Source, medium and campaign of a session come from the landing page's UTM parameters when it has
them (a paid click: `gclid` → google / cpc), else from the referrer: a search engine → organic, a
social network → social, another site → referral, none (or the site itself) → direct.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from django.utils import timezone

from vinculo.touchpoints.models import TrackingSite, Visitor, WebSession
from vinculo.touchpoints.services.event_rows import insert_events_returning, update_rows

SEARCH_ENGINES = {
    "google": "google",
    "bing": "bing",
    "duckduckgo": "duckduckgo",
    "yahoo": "yahoo",
    "ecosia": "ecosia",
    "baidu": "baidu",
    "yandex": "yandex",
    "qwant": "qwant",
    "startpage": "startpage",
}
SOCIAL_NETWORKS = {
    "facebook": "facebook",
    "fb": "facebook",
    "instagram": "instagram",
    "linkedin": "linkedin",
    "lnkd": "linkedin",
    "twitter": "twitter",
    "t": "twitter",  # t.co
    "x": "twitter",
    "youtube": "youtube",
    "tiktok": "tiktok",
    "reddit": "reddit",
    "pinterest": "pinterest",
    "mastodon": "mastodon",
}
DIRECT = ("direct", "none")


@dataclass(frozen=True)
class SessionEvent:
    at: dt.datetime
    is_page: bool
    url: str = ""
    referrer: str = ""


@dataclass
class SessionsResult:
    new_sessions: int
    first_new: WebSession | None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _brand(host: str) -> str:
    """`www.google.co.uk` → `google`; `l.facebook.com` → `facebook`; `t.co` → `t`."""
    parts = [p for p in host.split(".") if p]
    skip = {"www", "m", "l", "lm", "com", "co", "org", "net", "es", "uk", "de", "fr", "mx", "ar", "br", "it"}
    for part in parts:
        if part in SEARCH_ENGINES or part in SOCIAL_NETWORKS:
            return part
    meaningful = [p for p in parts if p not in skip]
    return meaningful[0] if meaningful else ""


def classify_source(*, url: str, referrer: str) -> tuple[str, str, str]:
    """(source, medium, campaign) of a visit that landed on `url` coming from `referrer`."""
    try:
        query = dict(parse_qsl(urlsplit(url).query)) if url else {}
    except ValueError:
        query = {}
    if query.get("utm_source"):
        return query["utm_source"][:100], query.get("utm_medium", "")[:100], query.get("utm_campaign", "")[:200]
    if query.get("gclid"):
        return "google", "cpc", query.get("utm_campaign", "")[:200]
    ref_host = _host(referrer)
    if not ref_host or ref_host == _host(url):
        return (*DIRECT, "")
    brand = _brand(ref_host)
    if brand in SEARCH_ENGINES:
        return SEARCH_ENGINES[brand], "organic", ""
    if brand in SOCIAL_NETWORKS:
        return SOCIAL_NETWORKS[brand], "social", ""
    return ref_host[:100], "referral", ""


def sessions_apply(
    *,
    site: TrackingSite,
    visitors: Mapping[str, Visitor],
    events: Mapping[str, list[SessionEvent]],
    companies: Mapping[int, int | None] | None = None,
) -> dict[str, SessionsResult]:
    """Put new events (by anonymous id) into sessions: an event `timeout` or more after the
    previous one of its visitor starts a new session; an event older than the visitor's latest
    session joins it (late delivery). Emits `session.started` for each new session.

    A few queries for the whole batch, however many visitors: the sessions that may continue (ended
    less than `timeout` before the batch's first event), one INSERT of the new sessions, one UPDATE
    of the continued ones, one INSERT of the `session.started` events."""
    timeout = dt.timedelta(minutes=site.session_timeout_minutes)
    if not events:
        return {}
    earliest = min(e.at for evs in events.values() for e in evs)
    by_visitor = {visitors[aid].pk: aid for aid in events}
    latest: dict[str, WebSession] = {}
    recent = WebSession.objects.filter(visitor_id__in=list(by_visitor), last_event_at__gt=earliest - timeout).order_by(
        "last_event_at", "id"
    )
    for session in recent:
        latest[by_visitor[session.visitor_id]] = session  # the last one of each visitor wins
    changed: dict[int, WebSession] = {}
    created: list[tuple[str, WebSession]] = []
    results: dict[str, SessionsResult] = {}
    for aid, visitor_events in events.items():
        visitor = visitors[aid]
        current = latest.get(aid)
        first_new: WebSession | None = None
        new_sessions = 0
        for event in sorted(visitor_events, key=lambda e: e.at):
            if current is None or event.at - current.last_event_at >= timeout:
                source, medium, campaign = classify_source(url=event.url, referrer=event.referrer)
                current = WebSession(
                    organization_id=visitor.organization_id,
                    visitor=visitor,
                    contact_id=visitor.contact_id,
                    started_at=event.at,
                    last_event_at=event.at,
                    landing_url=event.url[:2000],
                    referrer=event.referrer[:2000],
                    source=source,
                    medium=medium,
                    campaign=campaign,
                )
                created.append((aid, current))
                new_sessions += 1
                first_new = first_new or current
            else:
                current.started_at = min(current.started_at, event.at)
                current.last_event_at = max(current.last_event_at, event.at)
                if not current.landing_url and event.url:
                    current.landing_url = event.url[:2000]
                if current.pk:
                    changed[current.pk] = current
            current.event_count += 1
            if event.is_page:
                current.page_view_count += 1
        results[aid] = SessionsResult(new_sessions=new_sessions, first_new=first_new)
    if changed:
        now = timezone.now()
        for session in changed.values():
            session.updated_at = now
        update_rows(
            WebSession,
            list(changed.values()),
            ["started_at", "last_event_at", "landing_url", "event_count", "page_view_count", "updated_at"],
        )
    if created:
        WebSession.objects.bulk_create([session for _aid, session in created])
        _session_started_events(visitors, created, companies or {})
    return results


def _session_started_events(
    visitors: Mapping[str, Visitor], created: list[tuple[str, WebSession]], companies: Mapping[int, int | None]
) -> None:
    now = timezone.now()
    rows = []
    for aid, session in created:
        visitor = visitors[aid]
        rows.append(
            {
                "organization_id": visitor.organization_id,
                "contact_id": visitor.contact_id,
                "company_id": companies.get(visitor.contact_id) if visitor.contact_id else None,
                "anonymous_id": aid,
                "type": "session.started",
                "source": "web",
                "properties": {
                    "session_id": session.pk,
                    "source": session.source,
                    "medium": session.medium,
                    "campaign": session.campaign,
                    "landing_url": session.landing_url,
                    "referrer": session.referrer,
                },
                "actor_id": None,
                "occurred_at": session.started_at,
                "received_at": now,
                "message_id": f"session.started:{session.pk}",
                "created_at": now,
                "updated_at": now,
            }
        )
    insert_events_returning(rows)
