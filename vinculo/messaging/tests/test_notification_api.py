"""The caller's notifications over the API: list (newest or unread first, unread count), mark one or
all read, the channel per kind (an unknown kind or channel: 422 with the field, nothing saved). A
colleague's notification, or another organisation's, answers 404."""

from __future__ import annotations

import json

import pytest
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import api_client_for, make_member
from vinculo.messaging.models import Notification, NotificationPreference
from vinculo.messaging.services.notifications import notify

pytestmark = pytest.mark.django_db

API = "/api/v1"


def tell(member, key: str, record: str = "Lucía Martín") -> Notification:
    found = notify(
        organization=member.organization,
        recipient=member.user,
        kind="mentioned",
        key=key,
        url=f"/o/{member.organization.slug}/contacts/1/",
        params={"actor": "Ana García", "record": record, "detail": "@you"},
        actor=None,
    )
    assert found is not None
    return found


def patch(client, body) -> tuple[int, dict]:
    response = client.patch(f"{API}/notifications/preferences", json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_the_list_with_exact_values_and_the_unread_count(actor, org):
    first = tell(actor, "a", record="Older")
    second = tell(actor, "b", record="Newer")
    client = api_client_for(actor)
    client.post(f"{API}/notifications/{first.pk}/read")

    body = client.get(f"{API}/notifications").json()

    assert (body["total"], body["unread"], body["next"]) == (2, 1, None)
    assert body["items"][0] == {
        "id": second.pk,
        "kind": "mentioned",
        "text": "Ana García mentioned you in a note on Newer",
        "detail": "@you",
        "url": f"/o/{org.slug}/contacts/1/",
        "read": False,
        "read_at": None,
        "created_at": body["items"][0]["created_at"],
        "actor": None,
    }
    assert body["items"][1]["read"] is True
    unread_first = client.get(f"{API}/notifications?order=unread&unread=true").json()
    assert [i["id"] for i in unread_first["items"]] == [second.pk]
    assert client.get(f"{API}/notifications?order=sideways").status_code == 422


def test_mark_read_and_read_all(actor, org):
    one = tell(actor, "a")
    tell(actor, "b")
    tell(actor, "c")
    client = api_client_for(actor)

    response = client.post(f"{API}/notifications/{one.pk}/read")
    assert (response.status_code, response.json()["read"]) == (200, True)
    assert client.post(f"{API}/notifications/{one.pk}/read").status_code == 200  # again: unchanged
    assert client.post(f"{API}/notifications/read-all").json() == {"marked": 2}
    assert client.post(f"{API}/notifications/read-all").json() == {"marked": 0}


def test_a_colleagues_or_another_organisations_notification_is_404(actor, org, other_actor):
    colleague = make_member(org, Role.SALES)
    theirs = tell(colleague, "a")
    foreign = tell(other_actor, "a")
    client = api_client_for(actor)

    for pk in (theirs.pk, foreign.pk, 987654):
        response = client.post(f"{API}/notifications/{pk}/read")
        assert response.status_code == 404
    client.post(f"{API}/notifications/read-all")
    with scope(organization=org):
        assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client.get(f"{API}/notifications").json()["items"] == []


def test_preferences_get_and_update(actor, org):
    client = api_client_for(actor)
    before = client.get(f"{API}/notifications/preferences").json()["preferences"]
    assert before[0] == {
        "kind": "assigned",
        "label": "Assigned to me",
        "description": "A contact, lead, company, deal or activity that someone else gives me.",
        "channel": "in_app",
        "default_channel": "in_app",
    }
    assert [p["kind"] for p in before] == ["assigned", "mentioned", "reminder", "form_lead", "mail_failed"]

    status, body = patch(client, {"preferences": {"assigned": "both", "reminder": "none"}})

    assert status == 200
    assert {p["kind"]: p["channel"] for p in body["preferences"]} == {
        "assigned": "both",
        "mentioned": "in_app",
        "reminder": "none",
        "form_lead": "both",
        "mail_failed": "in_app",
    }


@pytest.mark.parametrize(
    ("preferences", "errors"),
    [
        (
            {"assigned": "both", "gossip": "email"},
            [{"field": "preferences.gossip", "message": "There is no notification kind “gossip”."}],
        ),
        (
            {"assigned": "pigeon"},
            [{"field": "preferences.assigned", "message": "Choose one of: in_app, email, both, none."}],
        ),
    ],
)
def test_unknown_kinds_or_channels_are_422_with_the_field_and_nothing_is_saved(actor, preferences, errors):
    status, body = patch(api_client_for(actor), {"preferences": preferences})

    assert status == 422
    assert body["errors"] == errors
    with scope(organization=actor.organization):
        assert NotificationPreference.objects.count() == 0


def test_a_body_that_is_not_an_object_of_channels_is_422(actor):
    status, body = patch(api_client_for(actor), {"preferences": {"assigned": 3}, "extra": 1})
    assert status == 422
    assert {e["field"] for e in body["errors"]} == {"preferences.assigned", "extra"}
