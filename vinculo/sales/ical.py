"""The private iCal feed (RFC 5545) of a user's agenda in one organisation.

Calendar apps fetch `/calendar/<token>.ics` without a session, so the secret in the URL is the
only key: a wrong or rotated token answers 404, and the feed is served only while its user is an
active member of the organisation. Each activity is a VEVENT whose UID never changes
(`<ical_uid>@<site domain>`) and whose SEQUENCE grows with every change, so calendar apps update
their copy instead of adding another. Times are in UTC; the apps show them in their own zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django_scopes import scope
from icalendar import Alarm, Calendar, Event

from vinculo.sales.models import Activity, CalendarFeed
from vinculo.sales.selectors.activities import calendar_feed_by_token, feed_activities
from vinculo.sales.services.activities import calendar_feed_fetched

PRODID = "-//Vinculo//Agenda//EN"
REFRESH = dt.timedelta(minutes=15)  # how often calendar apps should fetch again


def site_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def feed_url(feed: CalendarFeed) -> str:
    return settings.SITE_URL + reverse("ical:feed", args=[feed.token])


def activity_url(activity: Activity, org_slug: str) -> str:
    return settings.SITE_URL + reverse("sales:activity_detail", args=[org_slug, activity.pk])


def _description(activity: Activity, url: str) -> str:
    lines = []
    if activity.contact_id:
        lines.append(_("Contact: %(name)s") % {"name": activity.contact})
    if activity.company_id:
        lines.append(_("Company: %(name)s") % {"name": activity.company})
    if activity.deal_id:
        lines.append(_("Deal: %(name)s") % {"name": activity.deal})
    if activity.description:
        lines += ["", activity.description]
    if activity.done_at and activity.outcome:
        lines += ["", _("Outcome: %(text)s") % {"text": activity.outcome}]
    lines += ["", url]
    return "\n".join(lines).strip()


def activity_event(activity: Activity, *, domain: str, org_slug: str) -> Event:
    """One VEVENT. A done activity keeps its place in the calendar, marked ✓ in its summary."""
    url = activity_url(activity, org_slug)
    event = Event()
    event.add("uid", f"{activity.ical_uid}@{domain}")
    event.add("dtstamp", activity.updated_at.astimezone(dt.UTC))
    event.add("created", activity.created_at.astimezone(dt.UTC))
    event.add("last-modified", activity.updated_at.astimezone(dt.UTC))
    event.add("dtstart", activity.due_at.astimezone(dt.UTC))
    event.add("dtend", (activity.due_at + dt.timedelta(minutes=activity.duration_minutes)).astimezone(dt.UTC))
    event.add("summary", f"✓ {activity.subject}" if activity.done_at else activity.subject)
    event.add("description", _description(activity, url))
    if activity.location:
        event.add("location", activity.location)
    event.add("categories", [activity.get_kind_display()])
    event.add("sequence", activity.sequence)
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT" if activity.kind == "task" else "OPAQUE")  # calls and meetings are busy time
    event.add("url", url)
    if activity.reminder_minutes is not None and activity.done_at is None:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", activity.subject)
        alarm.add("trigger", -dt.timedelta(minutes=activity.reminder_minutes))
        event.add_component(alarm)
    return event


def build_calendar(feed: CalendarFeed, activities: Iterable[Activity]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Vínculo agenda (%(org)s)") % {"org": feed.organization.name})
    calendar.add("x-published-ttl", "PT15M")  # an x-property: icalendar would not format a duration
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    domain, slug = site_domain(), feed.organization.slug
    for activity in activities:
        calendar.add_component(activity_event(activity, domain=domain, org_slug=slug))
    return calendar.to_ical()


@require_safe
def calendar_feed_view(request: HttpRequest, token: str) -> HttpResponse:
    """The feed for a secret (no session: calendar apps cannot log in)."""
    feed = calendar_feed_by_token(token)
    if feed is None:
        raise Http404
    with scope(organization=feed.organization), translation.override(feed.user.language):
        body = build_calendar(feed, feed_activities(feed=feed, now=timezone.now()))
        calendar_feed_fetched(feed=feed)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="agenda.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response
