"""The agenda's hourly calendar (day and week): each activity placed by its local start and
duration, and moved by dragging it (POST activities/<id>/reschedule/, JSON for the page's script):
the new time in the member's time zone, refused with a field error for a bad or missing time,
403 for a read-only member, 404 for another organisation's activity, nothing changed when refused."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.testing import login_client
from vinculo.sales.models import Activity
from vinculo.sales.services.activities import activity_create

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def madrid_owner(actor):
    actor.user.time_zone = "Europe/Madrid"
    actor.user.save()
    return actor


def create(member, when: dt.datetime, subject: str = "Call Ana", **data) -> Activity:
    with scope(organization=member.organization):
        return activity_create(actor=member, data={"subject": subject, "due_at": when, **data})


def reschedule_url(org, activity) -> str:
    return reverse("sales:activity_reschedule", args=[org.slug, activity.pk])


def test_the_hours_layout_places_each_activity_by_its_local_start_and_duration(client_in, madrid_owner, org):
    day = dt.date(2030, 5, 17)
    create(madrid_owner, dt.datetime(2030, 5, 17, 9, 30, tzinfo=MADRID), "Demo", kind="meeting", duration_minutes=90)
    create(madrid_owner, dt.datetime(2030, 5, 17, 21, 0, tzinfo=dt.UTC), "Late call")  # 23:00 in Madrid

    response = client_in.get(
        reverse("sales:agenda", args=[org.slug]), {"view": "day", "layout": "hours", "date": "2030-05-17"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-reschedule-url="/o/{org.slug}/activities/0/reschedule/"' in html
    assert html.count('class="agenda-hour-label"') == 24
    assert f'data-day="{day:%Y-%m-%d}"' in html
    assert (
        'data-start="09:30" data-duration="90" data-movable><span class="agenda-block-time">09:30</span> Demo</a>'
        in html
    )
    assert (
        'data-start="23:00" data-duration="30" data-movable><span class="agenda-block-time">23:00</span> Late call</a>'
        in html
    )
    assert 'href="?view=day&layout=hours&date=2030-05-16" rel="prev"' in html
    # the week has seven columns; the month has no hours layout
    week = client_in.get(
        reverse("sales:agenda", args=[org.slug]), {"view": "week", "layout": "hours", "date": "2030-05-17"}
    )
    assert week.content.decode().count('class="agenda-hours-slots"') == 7
    month = client_in.get(
        reverse("sales:agenda", args=[org.slug]), {"view": "month", "layout": "hours", "date": "2030-05-17"}
    )
    assert "agenda-hours-slots" not in month.content.decode()


def test_dragging_moves_the_activity_to_the_dropped_local_time(client_in, madrid_owner, org):
    activity = create(madrid_owner, dt.datetime(2030, 5, 17, 9, 30, tzinfo=MADRID), "Demo")

    response = client_in.post(reschedule_url(org, activity), {"due_at": "2030-05-18T14:15"}, **JSON)

    assert response.status_code == 200
    assert response.json() == {
        "detail": "“Demo” moved to 05/18/2030 14:15.",
        "activity": {"id": activity.pk, "due_at": "2030-05-18T12:15:00+00:00", "time": "14:15"},
    }
    activity.refresh_from_db()
    assert activity.due_at == dt.datetime(2030, 5, 18, 14, 15, tzinfo=MADRID)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "This field is required."),
        ("2030-13-40T25:00", "Enter a date and time, e.g. 2026-03-02T09:30:00+01:00."),
        ("1850-05-18T10:00", "Enter a date between 1900 and 2200."),
    ],
)
def test_a_bad_time_is_refused_with_a_field_error_and_changes_nothing(client_in, madrid_owner, org, value, message):
    activity = create(madrid_owner, dt.datetime(2030, 5, 17, 9, 30, tzinfo=MADRID), "Demo")

    response = client_in.post(reschedule_url(org, activity), {"due_at": value}, **JSON)

    assert response.status_code == 422
    assert response.json() == {"detail": message, "errors": [{"field": "due_at", "message": message}]}
    activity.refresh_from_db()
    assert activity.due_at == dt.datetime(2030, 5, 17, 9, 30, tzinfo=MADRID)


def test_a_read_only_member_cannot_move_and_another_organisation_sees_nothing(madrid_owner, org, member, other_actor):
    activity = create(madrid_owner, dt.datetime(2030, 5, 17, 9, 30, tzinfo=MADRID), "Demo")
    reader = login_client(member(role="read_only"))

    refused = reader.post(reschedule_url(org, activity), {"due_at": "2030-05-18T14:15"}, **JSON)
    assert refused.status_code == 403
    assert refused.json()["errors"] == []

    stranger = login_client(other_actor)
    missing = stranger.post(
        reverse("sales:activity_reschedule", args=[other_actor.organization.slug, activity.pk]),
        {"due_at": "2030-05-18T14:15"},
        **JSON,
    )
    assert missing.status_code == 404
    activity.refresh_from_db()
    assert activity.due_at == dt.datetime(2030, 5, 17, 9, 30, tzinfo=MADRID)


def test_a_plain_form_post_goes_back_with_a_message_and_get_is_not_allowed(client_in, madrid_owner, org):
    activity = create(madrid_owner, dt.datetime(2030, 5, 17, 9, 30, tzinfo=MADRID), "Demo")
    back = reverse("sales:agenda", args=[org.slug]) + "?view=day&layout=hours&date=2030-05-18"

    response = client_in.post(reschedule_url(org, activity), {"due_at": "2030-05-18T08:00", "next": back})

    assert response.status_code == 302
    assert response["Location"] == back
    activity.refresh_from_db()
    assert activity.due_at == dt.datetime(2030, 5, 18, 8, 0, tzinfo=MADRID)
    assert client_in.get(reschedule_url(org, activity)).status_code == 405
