"""The home page, "my day": each section with exact content for a sales rep and a manager, the
one-click "done" of an activity in place, the getting-started checklist (ticks from real data,
dismissal for good), `/` leading there, and a query count that does not grow with the rows.

Times are relative to now, in a time zone chosen so that the member's "today" has hours left on
both sides of now (the tests never depend on the hour they run at)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.home import MyDay
from vinculo.accounts.models import Invitation, Membership, Role, Team
from vinculo.accounts.services import invitation_create
from vinculo.accounts.testing import login_client, make_member
from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create, contact_update
from vinculo.core.testing.queries import assert_same_queries
from vinculo.sales.factories import ActivityFactory
from vinculo.sales.models import Activity, AssignmentRule, AssignmentTarget, Deal
from vinculo.sales.services.assignment import lead_assign
from vinculo.sales.testing import make_deal


def zone_far_from_midnight(now: dt.datetime) -> str:
    """A fixed-offset zone where it is now between 08:00 and 16:00."""
    for hours in range(-12, 15):
        name = f"Etc/GMT{'+' if hours <= 0 else '-'}{abs(hours)}" if hours else "UTC"
        if 8 <= now.astimezone(zoneinfo.ZoneInfo(name)).hour < 16:
            return name
    raise AssertionError("no zone found")


def section(html: str, element_id: str) -> str:
    """The HTML of the list (or card) that follows the element with this id."""
    start = html.index(f'id="{element_id}"')
    end = html.find("</ul>", start)
    return html[start:end]


def activity_subjects(part: str) -> list[str]:
    return re.findall(r'class="activity-subject[^"]*" href="[^"]*">([^<]*)</a>', part)


def links(part: str) -> list[str]:
    return [text.strip() for text in re.findall(r'<a class="me-auto text-break" href="[^"]*">([^<]*)</a>', part)]


@pytest.fixture
def people(org, pipeline) -> dict[str, Membership]:
    now = timezone.now()
    zone = zone_far_from_midnight(now)
    members = {
        "rep": make_member(org, Role.SALES, full_name="Rita Rep"),
        "manager": make_member(org, Role.MANAGER, full_name="Mario Manager"),
        "other": make_member(org, Role.SALES, full_name="Otto Other"),
    }
    for m in members.values():
        m.user.time_zone = zone
        m.user.save(update_fields=["time_zone"])
    with scope(organization=org):
        team = Team.objects.create(organization=org, name="Iberia")
        team.members.add(members["rep"], members["manager"])
    return members


@pytest.fixture
def rep_day(org, people) -> dict[str, Any]:
    """Rita's agenda, deals and leads, with what must not show next to what must."""
    rep, manager, other = people["rep"], people["manager"], people["other"]
    now = timezone.now()
    day = MyDay.for_user(rep.user, now)
    with scope(organization=org):
        # deals, created by Rita: she owns them
        make_deal(rep, title="Acme 50 seats", amount="12500.00", expected_close_date=day.today.isoformat())
        make_deal(
            rep,
            title="Beta renewal",
            amount="900.00",
            expected_close_date=(day.month_end + dt.timedelta(days=1)).isoformat(),
        )
        old = make_deal(rep, title="Old deal", amount="300.00")
        worked = make_deal(rep, title="Worked-on deal", amount="400.00")
        won = make_deal(rep, title="Won deal", amount="500.00", expected_close_date=day.today.isoformat())
        Deal.objects.filter(pk__in=[old.pk, worked.pk]).update(updated_at=now - dt.timedelta(days=30))
        Deal.objects.filter(pk=worked.pk).update(last_activity_at=now - dt.timedelta(days=2))
        Deal.objects.filter(pk=won.pk).update(status="won")
        # leads
        contact_create(actor=rep, data={"first_name": "Lucía", "last_name": "Lead", "lifecycle_stage": "lead"})
        stale_lead = contact_create(
            actor=rep, data={"first_name": "Old", "last_name": "Lead", "lifecycle_stage": "lead"}
        )
        contact_create(actor=rep, data={"first_name": "Carl", "last_name": "Customer", "lifecycle_stage": "customer"})
        moved = contact_create(
            actor=manager, data={"first_name": "Moved", "last_name": "Lead", "lifecycle_stage": "lead"}
        )
        Contact.objects.filter(pk__in=[stale_lead.pk, moved.pk]).update(created_at=now - dt.timedelta(days=10))
        contact_update(actor=manager, contact=moved, data={"owner": rep.user.pk})
        # activities
        for subject, due, assignee, done in [
            ("Call Ana", now - dt.timedelta(hours=2), rep, None),
            ("Send proposal", now - dt.timedelta(days=3), rep, None),
            ("Demo Acme", now + dt.timedelta(hours=1), rep, None),
            ("Tomorrow's call", day.end_of_today + dt.timedelta(hours=1), rep, None),
            ("Already done", now - dt.timedelta(hours=1), rep, now),
            ("Otto's call", now - dt.timedelta(hours=1), other, None),
        ]:
            ActivityFactory(organization=org, subject=subject, due_at=due, assignee=assignee.user, done_at=done)
    return {"day": day}


def home_url(org) -> str:
    return reverse("org:home", args=[org.slug])


def test_slash_leads_to_the_home_page_of_the_active_organisation(client_in, org):
    assert client_in.get("/")["Location"] == home_url(org)


def test_a_rep_sees_their_day(org, people, rep_day):
    html = login_client(people["rep"]).get(home_url(org)).content.decode()

    assert activity_subjects(section(html, "home-overdue")) == ["Send proposal", "Call Ana"]
    assert "Overdue (2)" in html
    assert activity_subjects(section(html, "home-today")) == ["Demo Acme"]
    assert "Today (1)" in html
    month = rep_day["day"].month_start.strftime("%B")
    assert f"Closing in {month} (1)" in html
    assert links(section(html, "home-closing")) == ["Acme 50 seats"]
    assert "12,500.00 EUR" in section(html, "home-closing")
    assert links(section(html, "home-stale")) == ["Old deal"]
    assert "Going stale (1)" in html
    assert links(section(html, "home-leads-title")) == ["Lucía Lead", "Moved Lead"]
    assert "New leads for me (2)" in html
    assert links(section(html, "home-recent")) == [
        "Carl Customer",
        "Old Lead",
        "Lucía Lead",
        "Won deal",
        "Worked-on deal",
        "Old deal",
        "Beta renewal",
        "Acme 50 seats",
    ]
    assert 'id="home-team"' not in html  # a rep has no "my team"


def test_a_manager_sees_their_teams_counts(org, people, rep_day):
    html = login_client(people["manager"]).get(home_url(org)).content.decode()

    team = html[html.index('id="home-team"') :]
    headers = re.findall(r'<th scope="col" class="text-end">([^<]*)</th>', team)
    assert headers == ["Overdue", "Due today", "Closing this month", "Going stale", "New leads"]
    rows = re.findall(r'<tr data-member="(\d+)">.*?</tr>', team, flags=re.S)
    assert rows == [str(people["rep"].user_id)]  # Otto is not in Mario's team
    cells = re.findall(r'<td class="text-end[^"]*">(\d+)</td>', team)
    assert cells == ["2", "1", "1", "1", "2"]
    # the manager's own day is empty: each section says what it is for and how to start
    assert "Nothing overdue and nothing due today." in html
    assert "No deal of yours is expected to close this month." in html
    assert "No lead was assigned to you in the last 7 days." in html
    assert "The contacts, companies and deals you create or change appear here" not in html  # Mario moved a lead


def test_an_owner_sees_every_member_and_a_rep_without_data_sees_empty_states(org, actor, people, rep_day):
    actor.user.time_zone = people["rep"].user.time_zone  # the team's "today" is the viewer's: far from midnight too
    actor.user.save(update_fields=["time_zone"])
    html = login_client(actor).get(home_url(org)).content.decode()

    team = html[html.index('id="home-team"') :]
    members = re.findall(
        r'<tr data-member="\d+">\s*<th scope="row" class="fw-normal"><a href="[^"]*">([^<]*)</a>', team
    )
    assert members == ["Mario Manager", "Otto Other", "Rita Rep"]
    cells = re.findall(r'<td class="text-end[^"]*">(\d+)</td>', team)
    assert cells == [*["0", "0", "0", "0", "0"], *["1", "0", "0", "0", "0"], *["2", "1", "1", "1", "2"]]

    newcomer = make_member(org, Role.SALES, full_name="Nora New")
    empty = login_client(newcomer).get(home_url(org)).content.decode()
    assert "Nothing overdue and nothing due today." in empty
    assert "None of your open deals has gone 14 days without a change or an activity." in empty
    assert "The contacts, companies and deals you create or change appear here" in empty


def test_an_activity_is_done_in_place_with_one_click(org, people, rep_day):
    client = login_client(people["rep"])
    with scope(organization=org):
        call = Activity.objects.get(subject="Call Ana")
    html = client.get(home_url(org)).content.decode()
    complete = reverse("sales:activity_complete", args=[org.slug, call.pk])
    assert f'hx-post="{complete}?quick=1"' in html

    row = client.post(f"{complete}?quick=1", headers={"HX-Request": "true"})

    assert row.status_code == 200
    fragment = row.content.decode()
    assert fragment.lstrip().startswith('<li class="list-group-item activity-row activity-done"')
    assert reverse("sales:activity_reopen", args=[org.slug, call.pk]) + "?quick=1" in fragment
    with scope(organization=org):
        call.refresh_from_db()
    assert call.done_at is not None
    after = client.get(home_url(org)).content.decode()
    assert activity_subjects(section(after, "home-overdue")) == ["Send proposal"]


def test_completing_another_members_activity_from_home_is_404(org, people, rep_day):
    with scope(organization=org):
        otto = Activity.objects.get(subject="Otto's call")
    client = login_client(make_member(org, Role.SALES, full_name="Nora New"))

    response = client.post(reverse("sales:activity_complete", args=[org.slug, otto.pk]) + "?quick=1")

    assert response.status_code == 404
    with scope(organization=org):
        otto.refresh_from_db()
    assert otto.done_at is None


def checklist_state(client: Client, org) -> dict[str, bool]:
    html = client.get(home_url(org)).content.decode()
    if 'id="home-checklist"' not in html:
        return {}
    items = re.findall(r'class="list-group-item [^"]*checklist-item( checklist-done)?" data-checklist="(\w+)"', html)
    return {name: bool(done) for done, name in items}


def test_the_checklist_ticks_from_real_actions_and_is_dismissed_for_good(client_in, org, actor):
    assert checklist_state(client_in, org) == {
        "invite": False,
        "contacts": False,
        "mailbox": False,
        "tracker": False,
        "web_form": False,
        "pipeline": False,
    }

    with scope(organization=org):
        invitation_create(actor=actor, email="colleague@example.com", role=Role.SALES)
        contact_create(actor=actor, data={"first_name": "José"})
    assert checklist_state(client_in, org) == {
        "invite": True,
        "contacts": True,
        "mailbox": False,
        "tracker": False,
        "web_form": False,
        "pipeline": False,
    }
    # the board's offer of a first pipeline sets it up
    client_in.post(reverse("sales:pipeline_create_default", args=[org.slug]))
    assert checklist_state(client_in, org)["pipeline"] is True
    assert "2 of 6 steps done" not in client_in.get(home_url(org)).content.decode()
    assert "3 of 6 steps done" in client_in.get(home_url(org)).content.decode()

    dismissed = client_in.post(reverse("org:checklist_dismiss", args=[org.slug]), headers={"HX-Request": "true"})

    assert (dismissed.status_code, dismissed.content) == (200, b"")
    assert checklist_state(client_in, org) == {}
    actor.refresh_from_db()
    first = actor.checklist_dismissed_at
    assert first is not None
    # again (another tab): nothing changes; the other members still have theirs
    assert client_in.post(reverse("org:checklist_dismiss", args=[org.slug]))["Location"] == home_url(org)
    actor.refresh_from_db()
    assert actor.checklist_dismissed_at == first
    colleague = make_member(org, Role.SALES)
    assert checklist_state(login_client(colleague), org)["invite"] is True


def test_a_colleague_who_joined_ticks_the_invite_step(org, actor):
    with scope(organization=org):
        assert not Invitation.objects.exists()
    make_member(org, Role.SALES)
    assert checklist_state(login_client(actor), org)["invite"] is True


def test_dismissing_needs_post_and_another_organisation_is_404(client_in, org, other_org):
    assert client_in.get(reverse("org:checklist_dismiss", args=[org.slug])).status_code == 405
    assert client_in.post(reverse("org:checklist_dismiss", args=[other_org.slug])).status_code == 404
    assert client_in.get(reverse("org:home", args=[other_org.slug])).status_code == 404


def test_home_queries_do_not_grow_with_rows(org, people, rep_day):
    rep, manager = people["rep"], people["manager"]
    now = timezone.now()

    def grow() -> None:
        with scope(organization=org):
            for n in range(5):
                make_deal(rep, title=f"More {n}", amount="1.00", expected_close_date=rep_day["day"].today.isoformat())
                contact_create(actor=rep, data={"first_name": f"Lead {n}", "lifecycle_stage": "lead"})
                contact_create(actor=rep, data={"first_name": f"Lead {n}", "lifecycle_stage": "lead"})
                ActivityFactory(
                    organization=org, subject=f"Late {n}", due_at=now - dt.timedelta(hours=n + 1), assignee=rep.user
                )
                ActivityFactory(
                    organization=org, subject=f"Soon {n}", due_at=now + dt.timedelta(minutes=n + 1), assignee=rep.user
                )
        new = make_member(org, Role.SALES, full_name=f"Extra {now.microsecond}")
        with scope(organization=org):
            Team.objects.get(name="Iberia").members.add(new)

    for member in (rep, manager):
        client = login_client(member)
        assert_same_queries(lambda c=client: c.get(home_url(org)), grow)


def test_without_javascript_the_done_button_posts_and_comes_back_home(org, people, rep_day):
    client = login_client(people["rep"])
    with scope(organization=org):
        demo = Activity.objects.get(subject="Demo Acme")

    response = client.post(
        reverse("sales:activity_complete", args=[org.slug, demo.pk]), {"next": home_url(org)}, follow=True
    )

    assert response.redirect_chain == [(home_url(org), 302)]
    html = response.content.decode()
    assert "Marked as done." in html
    assert activity_subjects(section(html, "home-today")) == []
    assert "Nothing else due today." in html


def test_an_old_lead_routed_to_me_by_an_assignment_rule_is_new_for_me(org, actor, people):
    rep = people["rep"]
    with scope(organization=org):
        AssignmentRule.objects.create(
            organization=org, name="Spain", applies_to=AssignmentTarget.LEADS, countries=["ES"], user=rep.user
        )
        waiting = contact_create(
            actor=actor, data={"first_name": "Ana", "last_name": "Waiting", "country": "ES", "owner": None}
        )
        Contact.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
        assert links(section(login_client(rep).get(home_url(org)).content.decode(), "home-leads-title")) == []

        lead_assign(actor=actor, contact=Contact.objects.get(pk=waiting.pk))

    html = login_client(rep).get(home_url(org)).content.decode()
    assert links(section(html, "home-leads-title")) == ["Ana Waiting"]
    assert "New leads for me (1)" in html
