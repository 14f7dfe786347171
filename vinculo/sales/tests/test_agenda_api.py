"""The agenda API: activities CRUD, filters, complete / reopen, follow-up rules, the calendar feed;
bad input is a 422 naming each field and saves nothing; list query counts stay flat."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.testing import api_client_for, login_client
from vinculo.contacts.services import contact_create
from vinculo.core.models import AuditEntry, Event
from vinculo.core.testing import count_queries
from vinculo.core.testing.fuzz import fuzz_api
from vinculo.sales.models import Activity, CalendarFeed, FollowUpRule
from vinculo.sales.services.activities import activity_complete, activity_create
from vinculo.sales.testing import make_deal, make_pipeline, stage_named

API = "/api/v1"
INVALID = "Some fields are not valid."
NOT_FOUND = {"detail": "Not found.", "errors": []}


def send(client: Client, method: str, path: str, data: Any = None) -> Any:
    body = data if isinstance(data, str | bytes) or data is None else json.dumps(data)
    return getattr(client, method)(API + path, body, content_type="application/json")


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else DjangoJSONEncoder().default(value)


def create(member, subject="Call Ana", when=None, **data):
    when = when or dt.datetime(2030, 1, 15, 9, 0, tzinfo=dt.UTC)
    with scope(organization=member.organization):
        return activity_create(actor=member, data={"subject": subject, "due_at": when, **data})


def db_state() -> list[Any]:
    return [
        list(Activity.dangerously_unscoped.order_by("id").values()),
        Event.dangerously_unscoped.filter(type__startswith="activity.").count(),
        AuditEntry.dangerously_unscoped.filter(object_type="sales.activity").count(),
    ]


def test_create_get_update_complete_reopen_delete(api_client, actor, org):
    make_pipeline(org)
    with scope(organization=org):
        contact = contact_create(actor=actor, data={"first_name": "Ana", "last_name": "García"})
    deal = make_deal(actor, title="Renewal", contact=contact.pk)

    response = send(
        api_client,
        "post",
        "/activities",
        {
            "kind": "meeting",
            "subject": "Demo",
            "due_at": "2030-01-15T10:00:00+01:00",
            "ends_at": "2030-01-15T11:30:00+01:00",
            "contact": contact.pk,
            "deal": deal.pk,
            "location": "Madrid",
            "reminder_minutes": 30,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    activity = Activity.dangerously_unscoped.get()
    assert body == {
        "id": activity.pk,
        "kind": "meeting",
        "subject": "Demo",
        "due_at": "2030-01-15T09:00:00Z",
        "ends_at": "2030-01-15T10:30:00Z",
        "duration_minutes": 90,
        "assignee": {"id": actor.user_id, "name": actor.user.full_name, "email": actor.user.email},
        "contact": {"id": contact.pk, "name": "Ana García"},
        "company": None,
        "deal": {"id": deal.pk, "name": "Renewal"},
        "location": "Madrid",
        "description": "",
        "done": False,
        "done_at": None,
        "outcome": "",
        "overdue": False,
        "reminder_minutes": 30,
        "reminded_at": None,
        "follow_up_rule_id": None,
        "created_at": iso(activity.created_at),
        "updated_at": iso(activity.updated_at),
    }
    assert send(api_client, "get", f"/activities/{activity.pk}").json() == body

    changed = send(api_client, "patch", f"/activities/{activity.pk}", {"subject": "Demo v2", "reminder_minutes": None})
    assert changed.status_code == 200
    assert (changed.json()["subject"], changed.json()["reminder_minutes"]) == ("Demo v2", None)

    done = send(api_client, "post", f"/activities/{activity.pk}/complete", {"outcome": "Loved it"})
    assert done.status_code == 200
    assert (done.json()["done"], done.json()["outcome"]) == (True, "Loved it")
    reopened = send(api_client, "post", f"/activities/{activity.pk}/reopen")
    assert reopened.json()["done"] is False

    assert send(api_client, "delete", f"/activities/{activity.pk}").status_code == 204
    assert Activity.dangerously_unscoped.count() == 0
    assert send(api_client, "get", f"/activities/{activity.pk}").json() == NOT_FOUND


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"due_at": "tomorrow"}, [("due_at", "Enter a date and time, e.g. 2026-03-02T09:30:00+01:00.")]),
        ({"due_at": 1735689600}, [("due_at", "Enter text.")]),
        (
            {"ends_at": "2030-01-15T08:00:00Z"},
            [("ends_at", "The end cannot be before the start.")],
        ),
        ({"duration_minutes": -30}, [("duration_minutes", "Cannot be negative.")]),
        ({"duration_minutes": "30"}, [("duration_minutes", "Enter a whole number.")]),
        ({"reminder_minutes": -5}, [("reminder_minutes", "Cannot be negative.")]),
        ({"assignee": 987654321}, [("assignee", "No such member of this organisation.")]),
        ({"kind": "lunch"}, [("kind", "Choose one of 'task', 'call' or 'meeting'.")]),
        ({"colour": "red"}, [("colour", "Unknown field.")]),
        ({"subject": "   "}, [("subject", "This field is required.")]),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_saves_nothing(api_client, data, errors):
    before = db_state()
    payload = {"subject": "Demo", "due_at": "2030-01-15T09:00:00Z", **data}
    response = send(api_client, "post", "/activities", payload)
    assert response.status_code == 422
    assert response.json() == {
        "detail": INVALID,
        "errors": [{"field": field, "message": message} for field, message in errors],
    }
    assert db_state() == before


def test_a_deal_or_a_member_of_another_organisation_is_refused(api_client, actor, other_actor):
    make_pipeline(other_actor.organization)
    their_deal = make_deal(other_actor, title="Theirs")
    mine = create(actor)
    before = db_state()
    response = send(
        api_client, "post", "/activities", {"subject": "x", "due_at": "2030-01-15T09:00:00Z", "deal": their_deal.pk}
    )
    assert response.json()["errors"] == [{"field": "deal", "message": "No such deal."}]
    response = send(api_client, "patch", f"/activities/{mine.pk}", {"assignee": other_actor.user_id})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "assignee", "message": "No such member of this organisation."}]
    assert db_state() == before


def test_missing_fields_are_named(api_client):
    response = send(api_client, "post", "/activities", {})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "subject", "message": "This field is required."},
        {"field": "due_at", "message": "This field is required."},
    ]


def test_list_filters(api_client, actor, org, member):
    rep = member(role="sales")
    make_pipeline(org)
    deal = make_deal(actor, title="D")
    now = timezone.now()
    overdue = create(actor, "overdue call", now - dt.timedelta(days=1), kind="call")
    future = create(actor, "future meeting", now + dt.timedelta(days=1), kind="meeting", deal=deal.pk)
    done = create(actor, "done task", now - dt.timedelta(days=2))
    with scope(organization=org):
        activity_complete(actor=actor, activity=done)
    reps = create(actor, "rep's", now + dt.timedelta(days=3), assignee=rep.user_id)
    nobody = create(actor, "nobody's", now + dt.timedelta(days=4), assignee=None)

    def ids(query: str) -> list[int]:
        response = api_client.get(f"{API}/activities{query}")
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids("") == [done.pk, overdue.pk, future.pk, reps.pk, nobody.pk]
    assert ids("?overdue=true") == [overdue.pk]
    assert ids("?overdue=false") == [done.pk, future.pk, reps.pk, nobody.pk]
    assert ids("?done=true") == [done.pk]
    assert ids("?kind=meeting") == [future.pk]
    assert ids(f"?deal={deal.pk}") == [future.pk]
    assert ids(f"?assignee={rep.user_id}") == [reps.pk]
    assert ids("?assignee=me&done=false") == [overdue.pk, future.pk]
    assert ids("?assignee=none") == [nobody.pk]
    assert ids("?q=MEETING") == [future.pk]
    start = (now + dt.timedelta(hours=1)).isoformat()
    end = (now + dt.timedelta(days=3, hours=12)).isoformat()
    assert ids(f"?from={start.replace('+', '%2B')}&to={end.replace('+', '%2B')}") == [future.pk, reps.pk]
    assert api_client.get(f"{API}/activities?per_page=2").json()["next"].endswith("page=2")


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=yesterday", "from", "Enter a date and time, e.g. 2026-03-02T09:30:00+01:00."),
        ("done=maybe", "done", "Enter true or false."),
        ("kind=lunch", "kind", "Choose one of task, call, meeting."),
        ("deal=abc", "deal", "Enter a whole number from 1 to 999999999999999999."),
        ("per_page=500", "per_page", "Enter a whole number from 1 to 200."),
        ("colour=red", "colour", "Unknown parameter."),
    ],
)
def test_bad_list_parameters_are_422(api_client, query, field, message):
    response = api_client.get(f"{API}/activities?{query}")
    assert response.status_code == 422
    assert response.json() == {"detail": INVALID, "errors": [{"field": field, "message": message}]}


def test_a_sales_rep_lists_only_what_they_may_see(actor, org, member):
    rep = member(role="sales")
    create(actor, "owner's")
    mine = create(actor, "rep's", assignee=rep.user_id)
    client = login_client(rep)  # a session (only admins create tokens)
    assert [i["id"] for i in client.get(f"{API}/activities").json()["items"]] == [mine.pk]
    hidden = Activity.dangerously_unscoped.get(subject="owner's")
    assert send(client, "get", f"/activities/{hidden.pk}").json() == NOT_FOUND
    assert send(client, "patch", f"/activities/{hidden.pk}", {"subject": "x"}).status_code == 404


def test_read_only_token_and_role_cannot_write(actor, member):
    activity = create(actor)
    read_token = api_client_for(actor, "read")
    assert send(read_token, "post", f"/activities/{activity.pk}/complete", {}).status_code == 403
    reader = login_client(member(role="read_only"))
    response = send(reader, "post", "/activities", {"subject": "x", "due_at": "2030-01-15T09:00:00Z"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role is read-only.", "errors": []}
    assert Activity.dangerously_unscoped.count() == 1


@pytest.mark.parametrize("rows", [1, 8])
def test_the_list_query_count_does_not_grow_with_rows(api_client, actor, org, rows):
    make_pipeline(org)
    with scope(organization=org):
        contact = contact_create(actor=actor, data={"first_name": "Ana"})
    deal = make_deal(actor, contact=contact.pk)
    for n in range(rows):
        create(actor, f"a{n}", contact=contact.pk, deal=deal.pk)
    api_client.get(f"{API}/activities")  # the token's last use is written once a minute
    with count_queries() as queries:
        response = api_client.get(f"{API}/activities")
    assert len(response.json()["items"]) == rows
    # token + membership, then the page of activities with their relations
    assert len(queries) == 3


# --- follow-up rules -----------------------------------------------------------------------------------


def test_follow_up_rules_crud(api_client, org):
    pipeline = make_pipeline(org)
    proposal = stage_named(pipeline, "Proposal")
    created = send(
        api_client,
        "post",
        "/follow-up-rules",
        {"stage": proposal.pk, "kind": "call", "subject": "Call", "days_after": 2},
    )
    assert created.status_code == 201
    rule = FollowUpRule.dangerously_unscoped.get()
    assert created.json() == {
        "id": rule.pk,
        "stage": {"id": proposal.pk, "name": "Proposal", "pipeline": {"id": pipeline.pk, "name": "Sales"}},
        "kind": "call",
        "subject": "Call",
        "days_after": 2,
        "is_active": True,
        "created_at": iso(rule.created_at),
        "updated_at": iso(rule.updated_at),
    }
    assert send(api_client, "get", "/follow-up-rules").json() == {
        "items": [created.json()],
        "page": 1,
        "per_page": 50,
        "total": 1,
        "total_capped": False,
        "next": None,
    }
    changed = send(api_client, "patch", f"/follow-up-rules/{rule.pk}", {"days_after": 5, "is_active": False})
    assert (changed.json()["days_after"], changed.json()["is_active"]) == (5, False)
    bad = send(api_client, "patch", f"/follow-up-rules/{rule.pk}", {"days_after": 366})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"field": "days_after", "message": "Enter a number of days between 0 and 365."}]
    assert FollowUpRule.dangerously_unscoped.get().days_after == 5
    assert send(api_client, "delete", f"/follow-up-rules/{rule.pk}").status_code == 204
    assert FollowUpRule.dangerously_unscoped.count() == 0


def test_a_sales_rep_cannot_create_rules(org, member):
    pipeline = make_pipeline(org)
    client = login_client(member(role="sales"))
    response = send(
        client, "post", "/follow-up-rules", {"stage": stage_named(pipeline, "Won").pk, "subject": "Thank them"}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Only owners, admins and managers can change follow-up rules."


# --- calendar feed -------------------------------------------------------------------------------------


def test_calendar_feed_url_and_rotation(api_client, actor, settings):
    settings.SITE_URL = "https://crm.example.com"
    first = send(api_client, "get", "/calendar-feed")
    assert first.status_code == 200
    feed = CalendarFeed.dangerously_unscoped.get()
    assert first.json() == {"url": f"https://crm.example.com/calendar/{feed.token}.ics", "last_fetched_at": None}
    assert send(api_client, "get", "/calendar-feed").json() == first.json()

    rotated = send(api_client, "post", "/calendar-feed/rotate")
    assert rotated.status_code == 200
    assert rotated.json()["url"] != first.json()["url"]
    assert Client().get(first.json()["url"].removeprefix("https://crm.example.com")).status_code == 404
    assert Client().get(rotated.json()["url"].removeprefix("https://crm.example.com")).status_code == 200


def test_a_rep_assigning_out_of_their_sight_still_gets_the_activity_back(org, member):
    rep, stranger = member(role="sales"), member(role="sales")
    client = login_client(rep)
    response = send(
        client,
        "post",
        "/activities",
        {"subject": "For you", "due_at": "2030-01-15T09:00:00Z", "assignee": stranger.user_id},
    )
    assert response.status_code == 201
    assert response.json()["assignee"]["id"] == stranger.user_id
    activity_id = response.json()["id"]
    assert send(client, "get", f"/activities/{activity_id}").json() == NOT_FOUND  # from now on, not theirs


@pytest.mark.fuzz
def test_fuzzing_the_agenda_api_finds_no_server_error_and_no_schema_violation(actor, org):

    pipeline = make_pipeline(org)
    activity = create(actor)
    with scope(organization=org):
        rule = FollowUpRule.objects.create(organization=org, stage=stage_named(pipeline, "Proposal"), subject="Call")
    headers = {"Authorization": api_client_for(actor).defaults["HTTP_AUTHORIZATION"]}
    known_ids = {"activity_id": activity.pk, "follow_up_rule_id": rule.pk}

    fuzz_api(headers, r"^/api/v1/(activities|follow-up-rules)", max_examples=8, known_ids=known_ids)
