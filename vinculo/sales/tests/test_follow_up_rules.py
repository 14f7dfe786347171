"""Follow-up rules: a deal entering a stage gets that stage's activities in its owner's agenda,
exactly once per event (the subscriber may run twice), at 09:00 in the owner's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django_scopes import scope

from vinculo.core.models import AuditEntry, Event
from vinculo.core.testing import count_queries
from vinculo.sales import subscribers
from vinculo.sales.models import Activity, FollowUpRule
from vinculo.sales.services.deals import deal_move
from vinculo.sales.services.follow_ups import (
    follow_up_due_at,
    follow_up_rule_create,
    follow_up_rule_delete,
    follow_up_rule_update,
    follow_ups_for_event,
)
from vinculo.sales.testing import make_deal, make_pipeline, stage_named

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def subscribed():
    """The consumers as SalesConfig.ready() registers them."""
    subscribers.register()


def rule(org, stage, subject, days_after=1, kind="call", **extra):
    return FollowUpRule.dangerously_unscoped.create(
        organization=org, stage=stage, subject=subject, days_after=days_after, kind=kind, **extra
    )


def test_the_immediate_task_backend_is_used(settings):
    assert settings.TASKS["default"]["BACKEND"] == "vinculo.core.testing.tasks.WorkerLikeImmediateBackend"


def test_moving_a_deal_into_a_stage_creates_its_follow_ups_once(
    actor, member, org, pipeline, subscribed, django_capture_on_commit_callbacks
):
    rep = member(role="sales")
    rep.user.time_zone = "America/New_York"
    rep.user.save()
    proposal = stage_named(pipeline, "Proposal")
    call = rule(org, proposal, "Call about the proposal", days_after=2)
    send = rule(org, proposal, "Send the proposal", days_after=1, kind="task")
    rule(org, proposal, "Inactive", days_after=1, is_active=False)
    rule(org, stage_named(pipeline, "Negotiation"), "Other stage")
    deal = make_deal(actor, title="Big one", owner=rep.user_id)

    with django_capture_on_commit_callbacks(execute=True), scope(organization=org):
        deal_move(actor=actor, deal=deal, stage=proposal.pk)

    event = Event.dangerously_unscoped.get(type="deal.stage_changed")
    activities = list(Activity.dangerously_unscoped.filter(follow_up_rule__isnull=False).order_by("due_at"))
    assert [(a.subject, a.kind, a.assignee_id, a.deal_id) for a in activities] == [
        ("Send the proposal", "task", rep.user_id, deal.pk),
        ("Call about the proposal", "call", rep.user_id, deal.pk),
    ]
    assert [a.follow_up_rule_id for a in activities] == [send.pk, call.pk]
    assert [a.source_key for a in activities] == [
        f"follow-up:{send.pk}:{event.pk}",
        f"follow-up:{call.pk}:{event.pk}",
    ]
    moved_day = event.occurred_at.astimezone(NEW_YORK).date()
    for activity, days in zip(activities, (1, 2), strict=True):
        local = activity.due_at.astimezone(NEW_YORK)
        assert (local.date(), local.time()) == (moved_day + dt.timedelta(days=days), dt.time(9, 0))

    # the same event delivered again (a consumer run twice): nothing more
    assert follow_ups_for_event(event_id=event.pk) == []
    subscribers.create_follow_ups(event)
    assert Activity.dangerously_unscoped.filter(follow_up_rule__isnull=False).count() == 2
    assert Event.dangerously_unscoped.filter(type="activity.created").count() == 2


def test_a_new_deal_gets_the_follow_ups_of_its_first_stage(
    actor, org, pipeline, subscribed, django_capture_on_commit_callbacks
):
    rule(org, stage_named(pipeline, "Qualification"), "Qualify the lead", days_after=0)
    with django_capture_on_commit_callbacks(execute=True):
        deal = make_deal(actor, title="New")

    activity = Activity.dangerously_unscoped.get()
    assert (activity.subject, activity.deal_id, activity.assignee_id) == ("Qualify the lead", deal.pk, actor.user_id)
    created = Event.dangerously_unscoped.get(type="deal.created")
    assert activity.source_key.endswith(f":{created.pk}")
    assert activity.due_at == dt.datetime.combine(created.occurred_at.date(), dt.time(9, 0), tzinfo=dt.UTC)


def test_moving_back_into_the_stage_later_is_a_new_event_with_new_follow_ups(
    actor, org, pipeline, subscribed, django_capture_on_commit_callbacks
):
    proposal, negotiation = stage_named(pipeline, "Proposal"), stage_named(pipeline, "Negotiation")
    rule(org, proposal, "Call")
    deal = make_deal(actor)
    with django_capture_on_commit_callbacks(execute=True), scope(organization=org):
        deal_move(actor=actor, deal=deal, stage=proposal.pk)
        deal_move(actor=actor, deal=deal, stage=negotiation.pk)
        deal_move(actor=actor, deal=deal, stage=proposal.pk)
    assert Activity.dangerously_unscoped.filter(subject="Call").count() == 2


def test_a_deleted_deal_or_another_event_type_creates_nothing(actor, org, pipeline):
    rule(org, stage_named(pipeline, "Qualification"), "Qualify")
    make_deal(actor)
    event = Event.dangerously_unscoped.get(type="deal.created")
    Activity.dangerously_unscoped.all().delete()
    with scope(organization=org):
        from vinculo.sales.models import Deal

        Deal.objects.all().delete()
    assert follow_ups_for_event(event_id=event.pk) == []
    other = Event.dangerously_unscoped.create(organization=org, type="contact.created", properties={"deal_id": 1})
    assert follow_ups_for_event(event_id=other.pk) == []
    assert follow_ups_for_event(event_id=987654321) == []
    assert Activity.dangerously_unscoped.count() == 0


def test_due_time_is_nine_in_the_owners_zone():
    madrid = zoneinfo.ZoneInfo("Europe/Madrid")
    entered = dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC)  # already the 29th in Madrid
    assert follow_up_due_at(entered_at=entered, days_after=2, tz=madrid) == dt.datetime(
        2026, 3, 31, 7, 0, tzinfo=dt.UTC
    )


# --- rules: services -----------------------------------------------------------------------------------


def test_managers_create_update_and_delete_rules_with_audit(actor, org, pipeline):
    proposal = stage_named(pipeline, "Proposal")
    with scope(organization=org):
        created = follow_up_rule_create(
            actor=actor, data={"stage": proposal.pk, "kind": "call", "subject": "Call", "days_after": 2}
        )
        follow_up_rule_update(actor=actor, rule=created, data={"days_after": 3, "is_active": False})
        follow_up_rule_delete(actor=actor, rule=created)
    assert FollowUpRule.dangerously_unscoped.count() == 0
    actions = list(
        AuditEntry.dangerously_unscoped.filter(object_type="sales.followuprule")
        .order_by("id")
        .values_list("action", "changes")
    )
    assert actions[1] == ("update", {"days_after": [2, 3], "is_active": [True, False]})
    assert [a for a, _c in actions] == ["create", "update", "delete"]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"subject": "x", "days_after": 400}, {"days_after": ["Enter a number of days between 0 and 365."]}),
        ({"subject": "x", "days_after": -1}, {"days_after": ["Enter a number of days between 0 and 365."]}),
        ({"subject": "x", "days_after": "soon"}, {"days_after": ["Enter a whole number."]}),
        ({"subject": ""}, {"subject": ["This field is required."]}),
        ({"subject": "x", "kind": "fax"}, {"kind": ["Choose one of task, call, meeting."]}),
        ({"subject": "x", "stage": 987654321}, {"stage": ["No such stage."]}),
    ],
)
def test_bad_rules_are_refused(actor, org, pipeline, data, errors):
    data = {"stage": stage_named(pipeline, "Proposal").pk, **data}
    with scope(organization=org), pytest.raises(ValidationError) as exc:
        follow_up_rule_create(actor=actor, data=data)
    assert exc.value.message_dict == errors
    assert FollowUpRule.dangerously_unscoped.count() == 0


def test_a_stage_of_another_organisation_is_no_such_stage(actor, other_actor, org):
    theirs = make_pipeline(other_actor.organization)
    with scope(organization=org), pytest.raises(ValidationError) as exc:
        follow_up_rule_create(actor=actor, data={"stage": stage_named(theirs, "Won").pk, "subject": "x"})
    assert exc.value.message_dict == {"stage": ["No such stage."]}


def test_sales_reps_cannot_change_rules(actor, member, org, pipeline):
    rep = member(role="sales")
    with scope(organization=org), pytest.raises(PermissionDenied):
        follow_up_rule_create(actor=rep, data={"stage": stage_named(pipeline, "Won").pk, "subject": "x"})
    assert FollowUpRule.dangerously_unscoped.count() == 0


# --- rules: pages -----------------------------------------------------------------------------------------


def url(org, name, *args):
    return reverse(f"sales:{name}", args=[org.slug, *args])


def test_rule_pages_create_edit_and_delete(client_in, org, pipeline):
    proposal = stage_named(pipeline, "Proposal")
    page = client_in.get(url(org, "follow_up_rule_create"))
    assert page.status_code == 200
    assert f'<option value="{proposal.pk}">Sales › Proposal</option>' in page.content.decode()

    response = client_in.post(
        url(org, "follow_up_rule_create"),
        {"stage": proposal.pk, "kind": "call", "subject": "Call in 2 days", "days_after": "2", "is_active": "on"},
    )
    assert response.status_code == 302
    created = FollowUpRule.dangerously_unscoped.get()
    assert (created.stage_id, created.kind, created.subject, created.days_after, created.is_active) == (
        proposal.pk,
        "call",
        "Call in 2 days",
        2,
        True,
    )
    listing = client_in.get(url(org, "follow_up_rule_list")).content.decode()
    assert "Call in 2 days" in listing
    assert "2 days later" in listing

    response = client_in.post(
        url(org, "follow_up_rule_edit", created.pk),
        {"stage": proposal.pk, "kind": "task", "subject": "Send proposal", "days_after": "1"},
    )
    assert response.status_code == 302
    created.refresh_from_db()
    assert (created.kind, created.subject, created.days_after, created.is_active) == ("task", "Send proposal", 1, False)

    assert client_in.post(url(org, "follow_up_rule_delete", created.pk)).status_code == 302
    assert FollowUpRule.dangerously_unscoped.count() == 0


def test_rule_form_errors_are_shown_next_to_the_fields(client_in, org, pipeline):
    response = client_in.post(
        url(org, "follow_up_rule_create"),
        {"stage": stage_named(pipeline, "Won").pk, "kind": "call", "subject": "Thanks", "days_after": "999"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert '<div class="invalid-feedback d-block" id="id_days_after_error">' in html
    assert "Enter a number of days between 0 and 365." in html
    assert 'value="Thanks"' in html
    assert FollowUpRule.dangerously_unscoped.count() == 0


def test_a_sales_rep_sees_the_rules_but_cannot_add_one(org, member, pipeline):
    from vinculo.accounts.testing import login_client

    rule(org, stage_named(pipeline, "Proposal"), "Call")
    client = login_client(member(role="sales"))
    listing = client.get(url(org, "follow_up_rule_list"))
    assert listing.status_code == 200
    assert "Call" in listing.content.decode()
    assert url(org, "follow_up_rule_create") not in listing.content.decode()
    assert client.get(url(org, "follow_up_rule_create")).status_code == 403


@pytest.mark.parametrize("rows", [1, 6])
def test_rule_list_query_counts_do_not_grow_with_rows(client_in, api_client, org, rows):

    pipeline = make_pipeline(org)
    for n in range(rows):
        stage = stage_named(pipeline, ("Qualification", "Proposal", "Negotiation")[n % 3])
        rule(org, stage, f"Rule {n}", days_after=n)
    page_url, api_url = url(org, "follow_up_rule_list"), "/api/v1/follow-up-rules"
    client_in.get(page_url), api_client.get(api_url)  # first uses write the session and the token's last use
    with count_queries() as page_queries:
        page = client_in.get(page_url)
    with count_queries() as api_queries:
        listed = api_client.get(api_url)
    assert page.content.decode().count('class="list-group-item d-flex') == rows
    assert len(listed.json()["items"]) == rows
    assert (len(page_queries), len(api_queries)) == (6, 3)  # the page: with the bell's unread count
