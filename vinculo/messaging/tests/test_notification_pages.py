"""The member's notification pages: the bell with its unread count on every organisation page, its
menu (HTMX), the list (newest or unread first, paginated), opening one (marks it read, goes to its
record), marking one or all read, and the channel per kind (bad input: a form error, 422, nothing
saved). Only the member's own: a colleague's notification answers 404."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import api_client_for, login_client, make_member
from vinculo.core.testing.queries import assert_same_queries
from vinculo.messaging.models import Notification, NotificationPreference
from vinculo.messaging.services.notifications import notify

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def tell(member, key: str, record: str = "Lucía Martín", url: str = "/o/x/contacts/1/") -> Notification:
    found = notify(
        organization=member.organization,
        recipient=member.user,
        kind="mentioned",
        key=key,
        url=url,
        params={"actor": "Ana García", "record": record, "detail": "@you call her"},
    )
    assert found is not None
    return found


def unread(member) -> int:
    with scope(organization=member.organization):
        return Notification.objects.filter(recipient=member.user, read_at__isnull=True).count()


def badge(html: str) -> str:
    match = re.search(r'<span id="notification-count"[^>]*>(\d+)<', html)
    assert match is not None, "no unread badge"
    return match[1]


def test_every_organisation_page_shows_the_bell_with_the_unread_count(actor, org):
    client = login_client(actor)
    assert badge(client.get(f"/o/{org.slug}/contacts/").content.decode()) == "0"
    tell(actor, "a")
    tell(actor, "b")

    html = client.get(f"/o/{org.slug}/deals/").content.decode()
    assert badge(html) == "2"
    assert f'hx-get="/o/{org.slug}/notifications/bell/"' in html


def test_the_bell_menu_lists_the_latest_with_links_that_open_them(actor, org):
    first = tell(actor, "a", record="Lucía Martín")
    second = tell(actor, "b", record="Acme Ibérica")

    response = login_client(actor).get(f"/o/{org.slug}/notifications/bell/", headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Ana García mentioned you in a note on Acme Ibérica") < html.index(
        "Ana García mentioned you in a note on Lucía Martín"
    )
    assert f'href="/o/{org.slug}/notifications/{second.pk}/"' in html
    assert f'href="/o/{org.slug}/notifications/{first.pk}/"' in html
    assert (
        'id="notification-count" class="badge rounded-pill text-bg-danger notification-count" hx-swap-oob="true">2'
        in html
    )


def test_opening_a_notification_marks_it_read_and_goes_to_its_record(actor, org):
    notification = tell(actor, "a", url=f"/o/{org.slug}/contacts/7/#note-3")
    client = login_client(actor)

    response = client.get(f"/o/{org.slug}/notifications/{notification.pk}/")

    assert (response.status_code, response["Location"]) == (302, f"/o/{org.slug}/contacts/7/#note-3")
    assert unread(actor) == 0
    assert badge(client.get(f"/o/{org.slug}/contacts/").content.decode()) == "0"


def test_a_notification_without_a_record_opens_the_list(actor, org):
    notification = tell(actor, "a", url="")
    response = login_client(actor).get(f"/o/{org.slug}/notifications/{notification.pk}/")
    assert response["Location"] == f"/o/{org.slug}/notifications/"


def test_the_list_newest_or_unread_first_and_unread_only(actor, org):
    tell(actor, "a", record="Older")
    tell(actor, "b", record="Newer")
    client = login_client(actor)
    client.get(f"/o/{org.slug}/notifications/{tell(actor, 'c', record='Newest').pk}/")  # read

    def order(query: str) -> list[str]:
        html = client.get(f"/o/{org.slug}/notifications/?{query}").content.decode()
        return re.findall(r"mentioned you in a note on (\w+)</a>", html)

    assert order("order=newest") == ["Newest", "Newer", "Older"]
    assert order("order=unread") == ["Newer", "Older", "Newest"]
    assert order("order=unread&unread=1") == ["Newer", "Older"]
    assert order("order=sideways") == ["Newest", "Newer", "Older"]  # an unknown order: the default


def test_the_list_is_paginated(actor, org):
    for n in range(27):
        tell(actor, f"k{n}", record=f"R{n}")
    client = login_client(actor)

    first = client.get(f"/o/{org.slug}/notifications/").content.decode()
    second = client.get(f"/o/{org.slug}/notifications/?order=newest&page=2").content.decode()

    assert first.count("mentioned you in a note on") == 25
    assert 'href="?order=newest&amp;page=2"' in first
    assert re.findall(r"mentioned you in a note on (R\d+)</a>", second) == ["R1", "R0"]


def test_mark_one_read_with_htmx_and_all_read(actor, org):
    one = tell(actor, "a")
    tell(actor, "b")
    tell(actor, "c")
    client = login_client(actor)

    response = client.post(f"/o/{org.slug}/notifications/{one.pk}/read/", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="notification-{one.pk}"' in html
    assert "Mark read" not in html
    assert 'hx-swap-oob="true">2<' in html  # the badge follows
    assert unread(actor) == 2

    response = client.post(f"/o/{org.slug}/notifications/read-all/")
    assert (response.status_code, response["Location"]) == (302, f"/o/{org.slug}/notifications/")
    assert unread(actor) == 0


def test_mark_all_read_from_the_bell_answers_the_menu(actor, org):
    tell(actor, "a")
    response = login_client(actor).post(f"/o/{org.slug}/notifications/read-all/", {"from": "bell"}, headers=HTMX)
    assert 'hx-swap-oob="true">0<' in response.content.decode()
    assert unread(actor) == 0


def test_a_colleagues_notification_answers_404_and_stays_unread(actor, org):
    colleague = make_member(org, Role.SALES)
    theirs = tell(colleague, "a")
    client = login_client(actor)

    assert client.get(f"/o/{org.slug}/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/o/{org.slug}/notifications/{theirs.pk}/read/").status_code == 404
    client.post(f"/o/{org.slug}/notifications/read-all/")
    assert unread(colleague) == 1
    assert "Lucía" not in client.get(f"/o/{org.slug}/notifications/").content.decode()


def test_read_all_and_read_refuse_get(actor, org):
    notification = tell(actor, "a")
    client = login_client(actor)
    assert client.get(f"/o/{org.slug}/notifications/read-all/").status_code == 405
    assert client.get(f"/o/{org.slug}/notifications/{notification.pk}/read/").status_code == 405
    assert unread(actor) == 1


# --- channels per kind -----------------------------------------------------------------------------

GOOD = {"assigned": "both", "mentioned": "email", "reminder": "in_app", "form_lead": "none", "mail_failed": "in_app"}


def saved(member) -> dict[str, str]:
    with scope(organization=member.organization):
        return dict(NotificationPreference.objects.filter(user=member.user).values_list("kind", "channel"))


def test_the_settings_page_shows_each_kind_and_saves_the_choices(actor, org):
    client = login_client(actor)
    page = client.get(f"/o/{org.slug}/notifications/settings/").content.decode()
    for label in ("Assigned to me", "Mentioned in a note", "Activity reminders", "Leads from web forms"):
        assert label in page
    assert '<option value="both" selected>' in page  # reminders, by default

    response = client.post(f"/o/{org.slug}/notifications/settings/", GOOD)

    assert (response.status_code, response["Location"]) == (302, f"/o/{org.slug}/notifications/settings/")
    assert saved(actor) == GOOD


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**GOOD, "mentioned": "pigeon"}, "Select a valid choice. pigeon is not one of the available choices."),
        ({**GOOD, "gossip": "both"}, "There is no notification kind “gossip”."),
    ],
)
def test_unknown_channels_or_kinds_are_form_errors_and_nothing_is_saved(actor, org, data, message):
    response = login_client(actor).post(f"/o/{org.slug}/notifications/settings/", data, headers=HTMX)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert saved(actor) == {}


def test_the_list_the_bell_and_the_api_run_as_many_queries_for_many_notifications(actor, org):
    colleague = make_member(org, Role.SALES, full_name="Ana García")
    client = login_client(actor)
    api = api_client_for(actor)
    made = iter(range(1000))

    def grow() -> None:
        for _ in range(5):
            n = next(made)
            notify(
                organization=org,
                recipient=actor.user,
                kind="assigned",
                key=f"g{n}",
                params={"variant": "deal", "record": f"Deal {n}"},
                actor=colleague.user,
            )

    grow()
    for fetch in (
        lambda: client.get(f"/o/{org.slug}/notifications/"),
        lambda: client.get(f"/o/{org.slug}/notifications/bell/", headers=HTMX),
        lambda: api.get("/api/v1/notifications"),
    ):
        response = assert_same_queries(fetch, grow)
        assert response.status_code == 200
