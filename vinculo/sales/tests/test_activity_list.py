"""The activities list: a table of the activities a member can see, with filters (assignee, kind,
open / done / overdue, due days in the viewer's time zone), sorting, a column chooser and saved
views (pages and API), as the other lists have them."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.models import Membership, Organization, Role
from vinculo.accounts.testing import api_client_for, login_client, make_member
from vinculo.contacts.models import SavedView
from vinculo.contacts.saved_views import saved_view_create
from vinculo.contacts.services import contact_create
from vinculo.core.testing import assert_max_queries, assert_same_queries
from vinculo.sales.models import Activity
from vinculo.sales.services.activities import activity_complete, activity_create
from vinculo.sales.testing import make_deal

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
API = "/api/v1"


# --- helpers -----------------------------------------------------------------------------------


def list_url(org: Organization) -> str:
    return reverse("sales:activity_list", args=[org.slug])


def body(response: Any) -> str:
    return html.unescape(response.content.decode())


def rows(response: Any) -> list[str]:
    """The subjects of the table's rows, in order."""
    return [
        html.unescape(s)
        for s in re.findall(
            r'<td class="col-subject"><a class="fw-semibold text-decoration-none" href="[^"]+">([^<]+)</a>',
            response.content.decode(),
        )
    ]


def headers(response: Any) -> list[str]:
    head = re.search(r"<thead[^>]*>(.*?)</thead>", response.content.decode(), re.S)
    assert head is not None
    cells = re.findall(r"<th[^>]*>(.*?)</th>", head.group(1), re.S)
    return [t for t in (html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells) if t]


def cells(response: Any, subject: str) -> list[str]:
    """The texts of the cells of the row of `subject`."""
    page = response.content.decode()
    row = re.search(r'<tr id="activity-row-\d+">((?:(?!</tr>).)*?>' + re.escape(subject) + r"<.*?)</tr>", page, re.S)
    assert row is not None, subject
    found = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in found]


def create(member: Membership, subject: str, when: dt.datetime, **data: Any) -> Activity:
    with scope(organization=member.organization):
        return activity_create(actor=member, data={"subject": subject, "due_at": when, **data})


def done(member: Membership, activity: Activity) -> None:
    with scope(organization=member.organization):
        activity_complete(actor=member, activity=activity)


def send(client: Client, method: str, path: str, data: Any = None) -> Any:
    payload = None if data is None else json.dumps(data)
    return getattr(client, method)(API + path, payload, content_type="application/json")


@pytest.fixture
def madrid_owner(actor: Membership) -> Membership:
    actor.user.time_zone = "Europe/Madrid"
    actor.user.save()
    return actor


@pytest.fixture
def agenda(madrid_owner: Membership, pipeline: Any) -> dict[str, Any]:
    """Four activities of the owner and a colleague, around now, one of them done."""
    colleague = make_member(madrid_owner.organization, Role.SALES, full_name="Berta Colega")
    with scope(organization=madrid_owner.organization):
        ana = contact_create(actor=madrid_owner, data={"first_name": "Ana", "last_name": "Alba"})
    deal = make_deal(madrid_owner, title="Tents for Aragón", amount="100.00")
    now = timezone.now()
    day = timezone.localdate(now, MADRID)
    at = dt.datetime.combine(day, dt.time(10, 0), tzinfo=MADRID)
    records = {
        "old call": create(madrid_owner, "Old call", now - dt.timedelta(days=3), kind="call", contact=ana.pk),
        "done task": create(madrid_owner, "Done task", now - dt.timedelta(days=2), kind="task", deal=deal.pk),
        "next meeting": create(
            madrid_owner, "Next meeting", at + dt.timedelta(days=2), kind="meeting", assignee=colleague.user_id
        ),
        "far call": create(madrid_owner, "Far call", at + dt.timedelta(days=20), kind="call"),
    }
    done(madrid_owner, records["done task"])
    return {"colleague": colleague, "ana": ana, "deal": deal, "day": day, **records}


# --- the page ----------------------------------------------------------------------------------


def test_the_list_shows_every_visible_activity_by_due_time_with_the_default_columns(client_in, org, agenda):
    response = client_in.get(list_url(org))

    assert response.status_code == 200
    assert rows(response) == ["Old call", "Done task", "Next meeting", "Far call"]
    assert headers(response) == ["Subject", "Kind", "Due", "Done", "Assigned to", "Contact", "Deal"]
    owner_name = str(agenda["old call"].assignee)
    old = cells(response, "Old call")
    assert (old[1], old[3], old[4], old[5], old[6]) == ("Call", "Overdue", owner_name, "Ana Alba", "")
    finished = cells(response, "Done task")
    assert finished[3].startswith("Done ")
    assert finished[6] == "Tents for Aragón"
    assert cells(response, "Next meeting")[3:5] == ["Open", "Berta Colega"]
    due = timezone.localtime(agenda["far call"].due_at, MADRID)
    assert cells(response, "Far call")[2] == f"{due:%m/%d/%Y %H:%M}"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"assignee": "me"}, ["Old call", "Done task", "Far call"]),
        ({"assignee": "none"}, []),
        ({"kind": "call"}, ["Old call", "Far call"]),
        ({"status": "open"}, ["Old call", "Next meeting", "Far call"]),
        ({"status": "done"}, ["Done task"]),
        ({"status": "overdue"}, ["Old call"]),
        ({"kind": "call", "status": "open", "assignee": "me"}, ["Old call", "Far call"]),
        ({"q": "CALL far"}, ["Far call"]),
        ({"sort": "-due"}, ["Far call", "Next meeting", "Done task", "Old call"]),
        ({"sort": "subject"}, ["Done task", "Far call", "Next meeting", "Old call"]),
        ({"sort": "-created"}, ["Far call", "Next meeting", "Done task", "Old call"]),
    ],
)
def test_filters_and_sorts_select_exactly_the_expected_rows(client_in, org, agenda, query, expected):
    response = client_in.get(list_url(org), query)

    assert response.status_code == 200
    assert rows(response) == expected


def test_the_assignee_filter_takes_a_colleague_and_due_days_are_the_viewers_days(client_in, org, agenda):
    in_two_days = agenda["day"] + dt.timedelta(days=2)

    colleague = client_in.get(list_url(org), {"assignee": agenda["colleague"].user_id})
    that_day = client_in.get(list_url(org), {"due_after": in_two_days, "due_before": in_two_days})
    from_then = client_in.get(list_url(org), {"due_after": in_two_days})
    until_today = client_in.get(list_url(org), {"due_before": agenda["day"]})

    assert rows(colleague) == ["Next meeting"]
    assert rows(that_day) == ["Next meeting"]
    assert rows(from_then) == ["Next meeting", "Far call"]
    assert rows(until_today) == ["Old call", "Done task"]


def test_a_day_is_the_viewers_day_not_utcs(client_in, madrid_owner, org):
    # 23:30 in Madrid on 1 June is 21:30 UTC on 1 June; 00:30 in Madrid on 2 June is 22:30 UTC on 1 June
    create(madrid_owner, "Late on the first", dt.datetime(2026, 6, 1, 23, 30, tzinfo=MADRID))
    create(madrid_owner, "Early on the second", dt.datetime(2026, 6, 2, 0, 30, tzinfo=MADRID))

    response = client_in.get(list_url(org), {"due_after": "2026-06-02", "due_before": "2026-06-02"})

    assert rows(response) == ["Early on the second"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"kind": "lunch"}, "Choose one of task, call, meeting."),
        ({"status": "late"}, "Choose one of open, done, overdue."),
        ({"assignee": "boss"}, "Use a user id, “me” or “none”."),
        ({"due_after": "yesterday"}, "Enter a date as YYYY-MM-DD."),
        ({"due_after": "2026-06-05", "due_before": "2026-06-01"}, "The end of the period cannot be before its start."),
        ({"sort": "colour"}, "Unknown sort. Allowed: due, -due, subject, -subject, created, -created."),
    ],
)
def test_a_bad_filter_on_the_page_is_said_and_the_rest_still_applies(client_in, org, agenda, query, message):
    response = client_in.get(list_url(org), {"kind": "call", **query})

    assert response.status_code == 200
    errors = re.search(r'role="alert" id="filter-errors"><div>(.*?)</div></div>', body(response))
    assert errors is not None
    assert errors.group(1) == message
    if query.get("kind") == "lunch":  # the bad kind is left out: every activity
        assert rows(response) == ["Old call", "Done task", "Next meeting", "Far call"]
    else:  # the good kind still applies
        assert rows(response) == ["Old call", "Far call"]


def test_the_column_chooser_shows_the_chosen_columns_in_order(client_in, org, agenda):
    response = client_in.get(list_url(org), {"columns": "company,created,kind"})

    assert headers(response) == ["Subject", "Company", "Created", "Kind"]
    created = timezone.localtime(agenda["far call"].created_at, MADRID)
    assert cells(response, "Far call") == ["Far call", "", f"{created:%m/%d/%Y}", "Call"]


def test_a_member_sees_only_the_activities_they_may_see(madrid_owner, org, agenda, member_factory):
    rep = member_factory(Role.SALES, full_name="Rita Rep")
    create(rep, "Rita's own call", timezone.now() + dt.timedelta(days=1), assignee=rep.user_id)
    create(madrid_owner, "Anyone's task", timezone.now() + dt.timedelta(days=2), assignee=None)

    response = login_client(rep).get(list_url(org))

    # the owner's and Berta's activities are about records that are not Rita's: out of her sight
    assert rows(response) == ["Rita's own call", "Anyone's task"]


def test_the_list_reads_a_bounded_number_of_queries(client_in, madrid_owner, org, agenda):
    view = make_view(madrid_owner, filters={"status": "open", "assignee": "me"}, columns=["due", "contact", "deal"])
    url = f"{list_url(org)}?view={view.pk}"
    counter = iter(range(100))

    def grow() -> None:
        for _ in range(5):
            n = next(counter)
            with scope(organization=org):
                contact = contact_create(actor=madrid_owner, data={"first_name": f"Extra{n}"})
            deal = make_deal(madrid_owner, title=f"Deal {n}")
            create(madrid_owner, f"Extra {n}", timezone.now() + dt.timedelta(days=30), contact=contact.pk, deal=deal.pk)

    response = assert_same_queries(lambda: client_in.get(url), grow)
    assert len(rows(response)) == 7
    # session, user, membership, views, activities, teams, members, unread notifications, the member's organisations
    with assert_max_queries(9):
        client_in.get(url)


# --- saved views -------------------------------------------------------------------------------


def make_view(actor: Membership, **data: Any) -> SavedView:
    data.setdefault("kind", "activities")
    data.setdefault("name", "Mine")
    with scope(organization=actor.organization):
        return saved_view_create(actor=actor, data=data)


def test_save_the_list_as_a_view_and_open_it_again(client_in, madrid_owner, org, agenda):
    query = "kind=call&status=open&sort=-due&columns=due,assignee"

    response = client_in.post(
        reverse("contacts:saved_view_create", args=[org.slug]),
        {"kind": "activities", "name": "My open calls", "sharing": "private", "query": query},
    )

    with scope(organization=org):
        view = SavedView.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{list_url(org)}?view={view.pk}"
    assert (view.kind, view.filters, view.sort, view.columns) == (
        "activities",
        {"kind": "call", "status": "open"},
        "-due",
        ["due", "assignee"],
    )
    opened = client_in.get(list_url(org), {"view": view.pk})
    assert rows(opened) == ["Far call", "Old call"]
    assert headers(opened) == ["Subject", "Due", "Assigned to"]
    assert re.search(
        r'id="views-menu">\s*<i class="bi bi-bookmark" aria-hidden="true"></i> My open calls', body(opened)
    )


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            "colour=red&columns=due",
            "filters",
            "Unknown filter “colour”. Allowed: q, assignee, kind, status, due_after, due_before.",
        ),
        ("kind=lunch&columns=due", "filters", "kind: Choose one of task, call, meeting."),
        ("status=late&columns=due", "filters", "status: Choose one of open, done, overdue."),
        ("due_after=tomorrow&columns=due", "filters", "due_after: Enter a date as YYYY-MM-DD."),
        (
            "sort=colour&columns=due",
            "sort",
            "Unknown sort. Allowed: due, -due, subject, -subject, created, -created.",
        ),
        (
            "columns=due,salary",
            "columns",
            "Unknown column “salary”. Allowed: kind, due, done, assignee, contact, deal, company, created.",
        ),
    ],
)
def test_a_view_with_an_unknown_part_is_refused_with_a_field_error(client_in, org, query, field, message):
    response = client_in.post(
        reverse("contacts:saved_view_create", args=[org.slug]),
        {"kind": "activities", "name": "Bad", "sharing": "private", "query": query},
    )

    assert response.status_code == 422
    assert f'<div class="text-danger small mb-2" id="error-{field}">' in response.content.decode()
    assert message in body(response)
    with scope(organization=org):
        assert SavedView.objects.count() == 0


def test_api_creates_and_lists_views_of_the_activities(actor, org):
    api = api_client_for(actor)

    created = send(
        api,
        "post",
        "/saved-views",
        {
            "kind": "activities",
            "name": "Overdue",
            "filters": {"status": "overdue", "assignee": "me"},
            "sort": "-due",
            "columns": ["due", "contact"],
        },
    )

    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("kind", "name", "filters", "sort", "columns")} == {
        "kind": "activities",
        "name": "Overdue",
        "filters": {"status": "overdue", "assignee": "me"},
        "sort": "-due",
        "columns": ["due", "contact"],
    }
    listed = send(api, "get", "/saved-views?kind=activities").json()
    assert [v["name"] for v in listed["items"]] == ["Overdue"]


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"filters": {"colour": "red"}}, "filters", "Unknown filter “colour”."),
        ({"filters": {"status": "late"}}, "filters", "status: Choose one of open, done, overdue."),
        ({"sort": "colour"}, "sort", "Unknown sort. Allowed: due,"),
        ({"columns": ["due", "salary"]}, "columns", "Unknown column “salary”."),
    ],
)
def test_api_refuses_an_activities_view_with_unknown_parts(actor, org, payload, field, message):
    response = send(api_client_for(actor), "post", "/saved-views", {"kind": "activities", "name": "X", **payload})

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert errors[0]["message"].startswith(message)
    with scope(organization=org):
        assert SavedView.objects.count() == 0


def test_api_activities_sort_as_asked_and_refuse_an_unknown_sort(actor, agenda):
    api = api_client_for(actor)

    by_subject = send(api, "get", "/activities?sort=-subject")
    wrong = send(api, "get", "/activities?sort=colour")

    assert [a["subject"] for a in by_subject.json()["items"]] == ["Old call", "Next meeting", "Far call", "Done task"]
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {"field": "sort", "message": "Choose one of due, -due, subject, -subject, created, -created."}
    ]


# --- tenancy ------------------------------------------------------------------------------------


def test_another_organisations_activities_and_views_stay_out(client_in, org, agenda, other_actor):
    create(other_actor, "Forastero call", timezone.now())
    theirs = make_view(other_actor, name="Forastero view", sharing="organization", filters={"kind": "meeting"})

    response = client_in.get(list_url(org), {"view": theirs.pk})
    foreign_slug = client_in.get(list_url(other_actor.organization))

    assert response.status_code == 200
    assert rows(response) == ["Old call", "Done task", "Next meeting", "Far call"]
    assert "Forastero" not in body(response)
    assert "That saved view does not exist or is not shared with you; showing the list." in body(response)
    assert foreign_slug.status_code == 404
