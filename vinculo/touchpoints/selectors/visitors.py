"""Reads of the tracker's results: visitors (live list, detail), web sessions with their pages (the
contact page's "Web sessions" panel) and identity conflicts to review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from vinculo.contacts.models import Contact
from vinculo.contacts.panels import Panel, register_panel
from vinculo.contacts.templatetags.contacts_ui import EVENT_TYPES
from vinculo.core.models import Event
from vinculo.touchpoints.models import IdentityConflict, Visitor, WebSession

LIVE_MINUTES = 5
PANEL_SESSIONS = 5
PAGES_PER_SESSION = 50
VISITOR_FILTERS = ("all", "identified", "anonymous")


def visitor_queryset(*, kind: str = "all") -> QuerySet[Visitor]:
    """Visitors, most recently seen first (those seen in the last minutes come first by nature)."""
    visitors = Visitor.objects.select_related("contact").order_by("-last_seen_at", "-id")
    if kind == "identified":
        visitors = visitors.filter(contact__isnull=False)
    elif kind == "anonymous":
        visitors = visitors.filter(contact__isnull=True)
    return visitors


def live_since(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(minutes=LIVE_MINUTES)


def live_visitor_count() -> int:
    return Visitor.objects.filter(last_seen_at__gte=live_since()).count()


def identity_conflict_queryset(*, status: str | None = None) -> QuerySet[IdentityConflict]:
    conflicts = IdentityConflict.objects.select_related("visitor", "contact", "other_contact", "resolved_by")
    if status:
        conflicts = conflicts.filter(status=status)
    return conflicts.order_by("status", "-created_at", "-id")


def duration_text(seconds: int) -> str:
    """A visit's length for people: "45 seconds", "3 minutes", "1 hour 5 minutes"."""
    if seconds < 60:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    hours, rest = divmod(minutes, 60)
    text = ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
    if rest:
        text += " " + ngettext("%(n)s minute", "%(n)s minutes", rest) % {"n": rest}
    return text


@dataclass
class SessionPages:
    session: WebSession
    pages: list[Event] = field(default_factory=list)

    @property
    def duration(self) -> str:
        return duration_text(self.session.duration_seconds)


def sessions_with_pages(sessions: list[WebSession]) -> list[SessionPages]:
    """Each session with its page views, in order: one query for all of them (events of the
    sessions' anonymous ids inside the sessions' overall time span, then split by session)."""
    result = [SessionPages(s) for s in sessions]
    if not sessions:
        return result
    anonymous_ids = {s.visitor.anonymous_id for s in sessions}
    start = min(s.started_at for s in sessions)
    end = max(s.last_event_at for s in sessions)
    events = Event.objects.filter(
        anonymous_id__in=anonymous_ids, type="page.viewed", occurred_at__gte=start, occurred_at__lte=end
    ).order_by("occurred_at", "id")[: PAGES_PER_SESSION * len(sessions)]
    for event in events:
        for item in result:
            s = item.session
            if s.visitor.anonymous_id == event.anonymous_id and s.started_at <= event.occurred_at <= s.last_event_at:
                if len(item.pages) < PAGES_PER_SESSION:
                    item.pages.append(event)
                break
    return result


def contact_web_sessions(contact: Contact, *, limit: int = PANEL_SESSIONS) -> list[SessionPages]:
    sessions = list(
        WebSession.objects.filter(contact=contact).select_related("visitor").order_by("-started_at", "-id")[:limit]
    )
    return sessions_with_pages(sessions)


def visitor_sessions(visitor: Visitor, *, limit: int = 20) -> list[SessionPages]:
    sessions = list(visitor.sessions.select_related("visitor").order_by("-started_at", "-id")[:limit])
    return sessions_with_pages(sessions)


def visitor_events(visitor: Visitor, *, limit: int = 100) -> list[Event]:
    return list(Event.objects.filter(anonymous_id=visitor.anonymous_id).order_by("-occurred_at", "-id")[:limit])


def web_sessions_panel(request: HttpRequest, record: Any) -> dict[str, Any] | None:
    """The "Web sessions" panel on a contact's page (hidden when the contact never visited)."""
    if not isinstance(record, Contact):
        return None
    sessions = contact_web_sessions(record)
    if not sessions:
        return None
    total = WebSession.objects.filter(Q(contact=record)).count()
    return {"record": record, "sessions": sessions, "total": total}


def register() -> None:
    register_panel(
        "contact",
        Panel(
            name="touchpoints.web_sessions",
            template="touchpoints/tracking/panel_sessions.html",
            loader=web_sessions_panel,
            order=40,
        ),
    )
    EVENT_TYPES.update(
        {
            "session.started": ("box-arrow-in-right", _("Visit started")),
            "visitor.identified": ("person-badge", _("Identified on the website")),
            "identity.conflict": ("exclamation-triangle", _("Identity conflict on the website")),
        }
    )
