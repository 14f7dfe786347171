"""The private iCal feed: RFC 5545 content parsed back with `icalendar`, exact fields, secrets
that rotate, and nobody else's activities (another user's, another organisation's)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope
from icalendar import Calendar

from vinculo.accounts.models import Membership
from vinculo.contacts.services import contact_create
from vinculo.sales.ical import feed_url
from vinculo.sales.models import CalendarFeed
from vinculo.sales.services.activities import (
    activity_complete,
    activity_create,
    activity_update,
    calendar_feed_get_or_create,
    calendar_feed_rotate,
)
from vinculo.sales.testing import make_deal, make_pipeline

UTC = dt.UTC


def feed_of(member: Membership) -> CalendarFeed:
    with scope(organization=member.organization):
        return calendar_feed_get_or_create(actor=member)


def path_of(feed: CalendarFeed) -> str:
    return reverse("ical:feed", args=[feed.token])


def fetch(feed: CalendarFeed) -> Calendar:
    response = Client().get(path_of(feed))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def create(member: Membership, **data):
    data.setdefault("subject", "Call Ana")
    data.setdefault("due_at", (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0))
    with scope(organization=member.organization):
        return activity_create(actor=member, data=data)


def test_the_feed_lists_my_activities_as_vevents_with_exact_fields(actor, org, settings):
    settings.SITE_URL = "https://crm.example.com"
    make_pipeline(org)
    with scope(organization=org):
        contact = contact_create(actor=actor, data={"first_name": "Ana", "last_name": "García"})
    deal = make_deal(actor, title="Renewal 2026", contact=contact.pk)
    due = (timezone.now() + dt.timedelta(days=2)).replace(hour=9, minute=30, second=0, microsecond=0)
    activity = create(
        actor,
        kind="meeting",
        subject="Demo, with; commas",
        due_at=due,
        duration_minutes=90,
        contact=contact.pk,
        deal=deal.pk,
        location="Calle Mayor 1, Madrid",
        description="Bring the contract",
        reminder_minutes=15,
    )
    with scope(organization=org):
        activity = activity_update(actor=actor, activity=activity, data={"subject": "Demo, with; commas!"})
    feed = feed_of(actor)

    calendar = fetch(feed)

    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//Vinculo//Agenda//EN"
    assert str(calendar["X-WR-CALNAME"]) == f"Vínculo agenda ({org.name})"
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT15M"
    assert calendar.decoded("REFRESH-INTERVAL") == dt.timedelta(minutes=15)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    activity.refresh_from_db()
    assert str(event["UID"]) == f"{activity.ical_uid}@crm.example.com"
    assert event.decoded("DTSTART") == due.astimezone(UTC)
    assert event.decoded("DTEND") == due.astimezone(UTC) + dt.timedelta(minutes=90)
    assert event.decoded("DTSTAMP") == activity.updated_at.replace(microsecond=0)
    assert event["DTSTART"].to_ical().decode().endswith("Z")
    assert str(event["SUMMARY"]) == "Demo, with; commas!"
    assert str(event["LOCATION"]) == "Calle Mayor 1, Madrid"
    url = f"https://crm.example.com/o/{org.slug}/activities/{activity.pk}/"
    assert str(event["DESCRIPTION"]) == f"Contact: Ana García\nDeal: Renewal 2026\n\nBring the contract\n\n{url}"
    assert str(event["URL"]) == url
    assert event["SEQUENCE"] == 1
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["TRANSP"]) == "OPAQUE"  # a meeting is busy time
    alarms = event.walk("VALARM")
    assert len(alarms) == 1
    assert str(alarms[0]["ACTION"]) == "DISPLAY"
    assert alarms[0].decoded("TRIGGER") == -dt.timedelta(minutes=15)
    feed.refresh_from_db()
    assert feed.last_fetched_at is not None


def test_a_done_activity_is_marked_and_has_no_alarm(actor, org):
    activity = create(actor, reminder_minutes=10)
    with scope(organization=org):
        activity_complete(actor=actor, activity=activity, outcome="Signed")
    event = fetch(feed_of(actor)).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "✓ Call Ana"
    assert event.walk("VALARM") == []
    assert "Outcome: Signed" in str(event["DESCRIPTION"])


def test_only_the_window_from_30_days_ago_to_a_year_ahead(actor, org):
    now = timezone.now()
    for subject, offset in (("old", -31), ("recent", -29), ("soon", 300), ("far", 400)):
        create(actor, subject=subject, due_at=now + dt.timedelta(days=offset))
    summaries = [str(e["SUMMARY"]) for e in fetch(feed_of(actor)).walk("VEVENT")]
    assert summaries == ["recent", "soon"]


def test_another_users_activities_are_not_in_my_feed(actor, org, member):
    colleague = member(role="sales")
    create(actor, subject="Mine")
    create(actor, subject="Theirs", assignee=colleague.user_id)
    create(colleague, subject="Theirs too")
    assert [str(e["SUMMARY"]) for e in fetch(feed_of(actor)).walk("VEVENT")] == ["Mine"]
    assert sorted(str(e["SUMMARY"]) for e in fetch(feed_of(colleague)).walk("VEVENT")) == ["Theirs", "Theirs too"]


def test_an_organisations_feed_never_includes_another_organisations_activities(actor, other_actor):
    """The same person in two organisations has one feed per organisation, each with its own agenda."""
    elsewhere = Membership.objects.create(user=actor.user, organization=other_actor.organization, role="sales")
    create(actor, subject="Here")
    create(elsewhere, subject="There")
    here, there = feed_of(actor), feed_of(elsewhere)
    assert here.token != there.token
    assert [str(e["SUMMARY"]) for e in fetch(here).walk("VEVENT")] == ["Here"]
    assert [str(e["SUMMARY"]) for e in fetch(there).walk("VEVENT")] == ["There"]


def test_a_wrong_or_rotated_token_is_404(actor, org):
    create(actor)
    feed = feed_of(actor)
    old_path = path_of(feed)
    assert Client().get(old_path).status_code == 200
    assert Client().get(reverse("ical:feed", args=["not-a-real-token"])).status_code == 404

    with scope(organization=org):
        rotated = calendar_feed_rotate(actor=actor)

    assert Client().get(old_path).status_code == 404
    assert rotated.token != feed.token
    assert len(fetch(rotated).walk("VEVENT")) == 1


def test_a_member_who_left_loses_the_feed(actor, org, member):
    rep = member(role="sales")
    feed = feed_of(rep)
    assert Client().get(path_of(feed)).status_code == 200
    Membership.objects.filter(pk=rep.pk).delete()
    assert Client().get(path_of(feed)).status_code == 404


def test_the_feed_needs_no_session_and_accepts_only_reads(actor, org):
    feed = feed_of(actor)
    assert Client().head(path_of(feed)).status_code == 200
    assert Client().post(path_of(feed)).status_code == 405


def test_the_feed_url_is_absolute(actor, settings):
    settings.SITE_URL = "https://crm.example.com"
    feed = feed_of(actor)
    assert feed_url(feed) == f"https://crm.example.com/calendar/{feed.token}.ics"


@pytest.mark.parametrize("rows", [1, 6])
def test_the_feed_query_count_does_not_grow_with_rows(actor, org, member, rows, django_assert_num_queries):
    make_pipeline(org)
    with scope(organization=org):
        contact = contact_create(actor=actor, data={"first_name": "Ana"})
    deal = make_deal(actor, contact=contact.pk)
    for n in range(rows):
        create(actor, subject=f"a{n}", contact=contact.pk, deal=deal.pk, reminder_minutes=5)
    feed = feed_of(actor)
    CalendarFeed.dangerously_unscoped.filter(pk=feed.pk).update(last_fetched_at=timezone.now())
    client = Client()
    # the feed and its user, the membership check, the activities with their relations
    with django_assert_num_queries(3):
        response = client.get(path_of(feed))
    assert len(Calendar.from_ical(response.content).walk("VEVENT")) == rows


def test_the_same_user_and_organisation_has_one_feed(actor):
    assert feed_of(actor).pk == feed_of(actor).pk
    assert CalendarFeed.dangerously_unscoped.count() == 1
