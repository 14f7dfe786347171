"""The agenda pages: day / week / month views, overdue at the top, done struck through, quick
"mark done" with HTMX, forms that keep input and show errors (422), managers' pickers, the
calendar link, and query counts that do not grow with the rows."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.services import team_create
from vinculo.accounts.testing import login_client
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.core.testing import count_queries
from vinculo.sales.models import Activity, CalendarFeed
from vinculo.sales.services.activities import activity_complete, activity_create
from vinculo.sales.testing import make_deal, make_pipeline

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")


def url(org, name, *args):
    return reverse(f"sales:{name}", args=[org.slug, *args])


def create(member, when: dt.datetime, subject: str = "Call Ana", **data):
    with scope(organization=member.organization):
        return activity_create(actor=member, data={"subject": subject, "due_at": when, **data})


def at(day: dt.date, hour: int, minute: int = 0, tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


def rows(html: str) -> list[str]:
    """The subjects of the activity rows, in page order."""
    return [unescape(s) for s in re.findall(r'class="activity-subject[^"]*" href="[^"]+">([^<]+)</a>', html)]


@pytest.fixture
def madrid_owner(actor):
    actor.user.time_zone = "Europe/Madrid"
    actor.user.save()
    return actor


def test_the_week_shows_overdue_first_then_each_day_in_my_time_zone(client_in, madrid_owner, org):
    today = timezone.localdate(timezone.now(), MADRID) + dt.timedelta(days=7)  # next week: nothing overdue there
    monday = today - dt.timedelta(days=today.weekday())
    create(madrid_owner, at(monday, 23, 30, MADRID) + dt.timedelta(days=2), "Late call")
    create(madrid_owner, at(monday + dt.timedelta(days=1), 9, 0, MADRID), "Tuesday meeting", kind="meeting")
    create(madrid_owner, timezone.now() - dt.timedelta(days=20), "Forgotten")
    done = create(madrid_owner, at(monday + dt.timedelta(days=1), 8, 0, MADRID), "Done early")
    with scope(organization=org):
        activity_complete(actor=madrid_owner, activity=done)
    create(madrid_owner, at(monday + dt.timedelta(days=8), 9, 0, MADRID), "The week after")

    response = client_in.get(url(org, "agenda"), {"view": "week", "date": today.isoformat()})

    assert response.status_code == 200
    html = response.content.decode()
    overdue_section = html.split('class="card border-danger mb-3 agenda-overdue"')[1].split("</section>")[0]
    assert rows(overdue_section) == ["Forgotten"]
    assert "1 overdue" in overdue_section
    week = html.split("agenda-overdue")[-1]
    assert rows(week)[-3:] == ["Done early", "Tuesday meeting", "Late call"]
    assert "The week after" not in html
    # 23:30 in Madrid is shown on Wednesday, as 23:30
    wednesday = week.split(f'id="day-{(monday + dt.timedelta(days=2)):%Y%m%d}"')[1].split("</section>")[0]
    assert rows(wednesday) == ["Late call"]
    assert ">23:30</time>" in wednesday
    assert 'text-decoration-line-through text-body-secondary" href="' in html.split("Done early")[0][-300:]
    assert "list-group-item-danger activity-overdue" in overdue_section


def test_day_view_and_a_bad_date(client_in, actor, org):
    day = dt.date(2030, 5, 17)
    create(actor, at(day, 10), "On the day")
    create(actor, at(day + dt.timedelta(days=1), 10), "Next day")

    html = client_in.get(url(org, "agenda"), {"view": "day", "date": "2030-05-17"}).content.decode()
    assert rows(html) == ["On the day"]
    assert "Friday 17 May 2030" in html
    assert 'href="?view=day&date=2030-05-16" rel="prev"' in html
    assert 'href="?view=day&date=2030-05-18" rel="next"' in html

    bad = client_in.get(url(org, "agenda"), {"view": "day", "date": "17/05/2030"})
    assert bad.status_code == 200
    assert "“17/05/2030” is not a date (YYYY-MM-DD); showing today." in bad.content.decode()


def test_month_view_is_a_server_side_grid(client_in, actor, org):
    create(actor, at(dt.date(2030, 2, 1), 9), "First of February")
    create(actor, at(dt.date(2030, 2, 28), 9), "Last of February")
    for n in range(6):
        create(actor, at(dt.date(2030, 2, 14), 8 + n), f"Busy {n}")

    html = client_in.get(url(org, "agenda"), {"view": "month", "date": "2030-02-10"}).content.decode()

    grid = html.split('<table class="table table-bordered agenda-month mb-0">')[1].split("</table>")[0]
    assert grid.count("<tr>") == 1 + 5  # header + the weeks from Monday 28 January to Sunday 3 March
    assert grid.count('class="agenda-cell') == 35
    assert "First of February" in grid
    assert "Last of February" in grid
    assert grid.count('title="Busy ') == 4
    assert "2 more" in grid
    assert "February 2030" in html


def test_quick_mark_done_with_htmx(client_in, actor, org):
    activity = create(actor, timezone.now() + dt.timedelta(hours=1), "Call Ana")
    htmx = {"HX-Request": "true"}

    form = client_in.get(url(org, "activity_complete", activity.pk), headers=htmx)
    assert form.status_code == 200
    assert 'hx-post="{}"'.format(url(org, "activity_complete", activity.pk)) in form.content.decode()
    assert "<html" not in form.content.decode()

    done = client_in.post(url(org, "activity_complete", activity.pk), {"outcome": "Will buy"}, headers=htmx)

    assert done.status_code == 200
    html = done.content.decode()
    assert html.strip().startswith('<li class="list-group-item activity-row activity-done"')
    assert "text-decoration-line-through" in html
    assert "Will buy" in html
    activity.refresh_from_db()
    assert (activity.outcome, activity.done_at is not None) == ("Will buy", True)
    assert Event.dangerously_unscoped.filter(type="activity.completed").count() == 1

    reopened = client_in.post(url(org, "activity_reopen", activity.pk), headers=htmx)
    assert reopened.status_code == 200
    assert "activity-done" not in reopened.content.decode()
    assert Activity.dangerously_unscoped.get().done_at is None


def test_mark_done_without_javascript_and_a_too_long_outcome(client_in, actor, org):
    activity = create(actor, timezone.now() + dt.timedelta(hours=1))
    page = client_in.get(url(org, "activity_complete", activity.pk))
    assert page.status_code == 200
    assert "<html" in page.content.decode()

    bad = client_in.post(url(org, "activity_complete", activity.pk), {"outcome": "x" * 5001})
    assert bad.status_code == 422
    assert "At most 5000 characters." in bad.content.decode()
    assert Activity.dangerously_unscoped.get().done_at is None

    agenda = url(org, "agenda") + "?view=day"
    ok = client_in.post(url(org, "activity_complete", activity.pk), {"outcome": "", "next": agenda})
    assert ok.status_code == 302
    assert ok["Location"] == agenda
    evil = client_in.post(url(org, "activity_reopen", activity.pk), {"next": "https://evil.example/"})
    assert evil["Location"] == url(org, "activity_detail", activity.pk)


def test_create_form_prefills_from_a_deal_and_creates(client_in, actor, org):
    make_pipeline(org)
    with scope(organization=org):
        contact = contact_create(actor=actor, data={"first_name": "Ana", "last_name": "García"})
    deal = make_deal(actor, title="Renewal", contact=contact.pk)

    page = client_in.get(url(org, "activity_create"), {"deal": deal.pk, "date": "2030-01-15", "kind": "call"})
    html = page.content.decode()
    assert page.status_code == 200
    assert f'<option value="{deal.pk}" selected>Renewal</option>' in html
    assert f'<option value="{contact.pk}" selected>Ana García</option>' in html
    assert 'value="2030-01-15T09:00"' in html
    assert '<option value="call" selected>' in html

    response = client_in.post(
        url(org, "activity_create"),
        {
            "kind": "call",
            "subject": "Call about renewal",
            "due_at": "2030-01-15T09:00",
            "duration_minutes": "20",
            "reminder_minutes": "15",
            "assignee": str(actor.user_id),
            "contact": str(contact.pk),
            "deal": str(deal.pk),
        },
    )
    activity = Activity.dangerously_unscoped.get()
    assert response.status_code == 302
    assert response["Location"] == url(org, "activity_detail", activity.pk)
    assert (activity.subject, activity.duration_minutes, activity.reminder_minutes, activity.deal_id) == (
        "Call about renewal",
        20,
        15,
        deal.pk,
    )
    assert activity.due_at == dt.datetime(2030, 1, 15, 9, 0, tzinfo=dt.UTC)  # the owner's zone is UTC


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"due_at": "next tuesday"}, "due_at", "Enter a date and time, e.g. 2026-03-02T09:30:00+01:00."),
        ({"subject": ""}, "subject", "This field is required."),
        ({"duration_minutes": "-10"}, "duration_minutes", "Cannot be negative."),
        ({"reminder_minutes": "-5"}, "reminder_minutes", "Cannot be negative."),
    ],
)
def test_create_form_errors_keep_the_input(client_in, actor, org, data, field, message):
    form = {"kind": "task", "subject": "Keep me", "due_at": "2030-01-15T09:00", "assignee": str(actor.user_id)}
    form.update(data)
    response = client_in.post(url(org, "activity_create"), form)
    assert response.status_code == 422
    html = response.content.decode()
    assert f'<div class="invalid-feedback d-block" id="id_{field}_error">{message}</div>' in html
    if field != "subject":
        assert 'value="Keep me"' in html
    assert Activity.dangerously_unscoped.count() == 0


def test_edit_and_delete(client_in, actor, org):
    activity = create(actor, dt.datetime(2030, 1, 15, 9, 0, tzinfo=dt.UTC), "Old subject")
    page = client_in.get(url(org, "activity_edit", activity.pk))
    assert 'value="Old subject"' in page.content.decode()
    assert 'value="2030-01-15T09:00"' in page.content.decode()

    response = client_in.post(
        url(org, "activity_edit", activity.pk),
        {"kind": "meeting", "subject": "New subject", "due_at": "2030-01-16T10:00", "assignee": str(actor.user_id)},
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert (activity.kind, activity.subject, activity.sequence) == ("meeting", "New subject", 1)
    assert activity.due_at == dt.datetime(2030, 1, 16, 10, 0, tzinfo=dt.UTC)

    detail = client_in.get(url(org, "activity_detail", activity.pk)).content.decode()
    assert "New subject" in detail
    assert url(org, "activity_delete", activity.pk) in detail

    assert client_in.get(url(org, "activity_delete", activity.pk)).status_code == 200
    response = client_in.post(url(org, "activity_delete", activity.pk))
    assert response.status_code == 302
    assert Activity.dangerously_unscoped.count() == 0


def test_managers_pick_a_member_or_a_team_and_reps_cannot(actor, org, member):
    rep, other_rep = member(role="sales"), member(role="sales")
    with scope(organization=org):
        team = team_create(actor=actor, name="Iberia", member_ids=[rep.pk])
    day = dt.date(2030, 3, 4)
    create(actor, at(day, 9), "Owner's")
    create(actor, at(day, 10), "Rep's", assignee=rep.user_id)
    create(actor, at(day, 11), "Other rep's", assignee=other_rep.user_id)
    manager = login_client(member(role="manager"))
    base = {"view": "day", "date": "2030-03-04"}

    assert rows(manager.get(url(org, "agenda"), {**base, "user": rep.user_id}).content.decode()) == ["Rep's"]
    assert rows(manager.get(url(org, "agenda"), {**base, "team": team.pk}).content.decode()) == ["Rep's"]
    everyone = manager.get(url(org, "agenda"), {**base, "user": "all"}).content.decode()
    assert rows(everyone) == ["Owner's", "Rep's", "Other rep's"]
    assert rows(manager.get(url(org, "agenda"), base).content.decode()) == []
    assert manager.get(url(org, "agenda"), {**base, "user": 987654321}).status_code == 404
    assert manager.get(url(org, "agenda"), {**base, "team": "x"}).status_code == 404

    rep_client = login_client(rep)
    assert rows(rep_client.get(url(org, "agenda"), base).content.decode()) == ["Rep's"]
    assert rep_client.get(url(org, "agenda"), {**base, "user": actor.user_id}).status_code == 403


def test_another_organisations_member_or_team_is_404(actor, org, other_actor):
    with scope(organization=other_actor.organization):
        team = team_create(actor=other_actor, name="Theirs", member_ids=[other_actor.pk])
    client = login_client(actor)
    assert client.get(url(org, "agenda"), {"user": other_actor.user_id}).status_code == 404
    assert client.get(url(org, "agenda"), {"team": team.pk}).status_code == 404


def test_the_calendar_link_is_created_shown_and_rotated(client_in, actor, org, settings):
    settings.SITE_URL = "https://crm.example.com"
    page = client_in.get(url(org, "agenda")).content.decode()
    assert "Create my calendar link" in page
    assert CalendarFeed.dangerously_unscoped.count() == 0

    assert client_in.post(url(org, "calendar_feed_rotate")).status_code == 302
    feed = CalendarFeed.dangerously_unscoped.get()
    page = client_in.get(url(org, "agenda")).content.decode()
    assert f'value="https://crm.example.com/calendar/{feed.token}.ics"' in page
    assert 'data-copy="#feed-url"' in page

    client_in.post(url(org, "calendar_feed_rotate"))
    assert Client().get(reverse("ical:feed", args=[feed.token])).status_code == 404
    assert CalendarFeed.dangerously_unscoped.get().token != feed.token


def test_pages_need_the_right_role(org, member, actor):
    reader = login_client(member(role="read_only"))
    activity = create(actor, dt.datetime(2030, 1, 15, 9, 0, tzinfo=dt.UTC))
    assert reader.get(url(org, "agenda")).status_code == 200
    assert reader.get(url(org, "activity_detail", activity.pk)).status_code == 200
    assert reader.get(url(org, "activity_create")).status_code == 403
    assert reader.post(url(org, "activity_complete", activity.pk)).status_code == 403
    assert Activity.dangerously_unscoped.get().done_at is None


@pytest.mark.parametrize("view", ["week", "month"])
def test_the_agenda_query_count_does_not_grow_with_rows(client_in, actor, org, view):
    make_pipeline(org)
    with scope(organization=org):
        contact = contact_create(actor=actor, data={"first_name": "Ana"})
    deal = make_deal(actor, contact=contact.pk)
    day = timezone.localdate()

    def count() -> int:

        with count_queries() as queries:
            response = client_in.get(url(org, "agenda"), {"view": view, "date": day.isoformat()})
        assert response.status_code == 200
        return len(queries)

    create(actor, timezone.now() - dt.timedelta(days=3), "overdue 0", contact=contact.pk, deal=deal.pk)
    create(actor, at(day, 12), "today 0", contact=contact.pk, deal=deal.pk)
    count()  # the first request of a session writes it
    few = count()
    for n in range(1, 8):
        create(actor, timezone.now() - dt.timedelta(days=3, hours=n), f"overdue {n}", contact=contact.pk, deal=deal.pk)
        create(actor, at(day, 12, n), f"today {n}", contact=contact.pk, deal=deal.pk)
    assert count() == few
    assert few <= 12


def test_a_rep_assigning_out_of_their_sight_lands_on_the_agenda(org, member):
    rep, stranger = member(role="sales"), member(role="sales")
    client = login_client(rep)
    response = client.post(
        url(org, "activity_create"),
        {"kind": "task", "subject": "For you", "due_at": "2030-01-15T09:00", "assignee": str(stranger.user_id)},
    )
    assert response.status_code == 302
    assert response["Location"] == url(org, "agenda")
    assert Activity.dangerously_unscoped.get().assignee_id == stranger.user_id
