"""Activity writes: validation, time zones, who may see and change what, audit, timeline events,
deal touch, complete / reopen / delete."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django_scopes import scope

from vinculo.accounts.services import team_create
from vinculo.accounts.testing import make_member
from vinculo.contacts.services import company_create, contact_create
from vinculo.core.models import AuditEntry, Event
from vinculo.sales.models import Activity, Deal
from vinculo.sales.selectors.activities import activity_get, activity_queryset
from vinculo.sales.services.activities import (
    activity_complete,
    activity_create,
    activity_delete,
    activity_reopen,
    activity_update,
)
from vinculo.sales.testing import make_deal, make_pipeline

UTC = dt.UTC


def create(actor, **data):
    data.setdefault("subject", "Call Ana")
    data.setdefault("due_at", "2026-03-02T09:30:00+00:00")
    with scope(organization=actor.organization):
        return activity_create(actor=actor, data=data)


def test_create_stores_utc_and_puts_an_event_on_the_contacts_timeline(actor, contact):
    activity = create(
        actor,
        kind="call",
        due_at="2026-03-02T10:30:00+01:00",
        duration_minutes=45,
        contact=contact.pk,
        location="Phone",
        reminder_minutes=15,
    )

    activity.refresh_from_db()
    assert activity.due_at == dt.datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert (activity.kind, activity.duration_minutes, activity.reminder_minutes) == ("call", 45, 15)
    assert (activity.assignee_id, activity.contact_id, activity.location, activity.sequence) == (
        actor.user_id,
        contact.pk,
        "Phone",
        0,
    )
    event = Event.dangerously_unscoped.get(type="activity.created")
    assert event.contact_id == contact.pk
    assert event.actor_id == actor.user_id
    assert event.properties == {
        "activity_id": activity.pk,
        "kind": "call",
        "subject": "Call Ana",
        "due_at": "2026-03-02T09:30:00+00:00",
        "assignee": str(actor.user),
    }
    audit = AuditEntry.dangerously_unscoped.get(object_type="sales.activity", action="create")
    assert audit.changes["subject"] == [None, "Call Ana"]
    assert audit.changes["due_at"] == [None, "2026-03-02T09:30:00+00:00"]


def test_a_time_without_offset_is_read_in_the_users_time_zone(actor):
    actor.user.time_zone = "Europe/Madrid"
    actor.user.save()

    activity = create(actor, due_at="2026-07-01T09:00")

    assert activity.due_at == dt.datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # CEST is UTC+2


def test_a_time_that_does_not_exist_in_the_users_zone_is_refused(actor):
    actor.user.time_zone = "Europe/Madrid"
    actor.user.save()
    with pytest.raises(ValidationError) as exc:
        create(actor, due_at="2026-03-29T02:30")  # clocks jump from 02:00 to 03:00
    assert exc.value.message_dict == {"due_at": ["This time does not exist in your time zone (the clocks change)."]}


def test_ends_at_sets_the_duration(actor):
    activity = create(actor, due_at="2026-03-02T09:00:00Z", ends_at="2026-03-02T10:15:00Z")
    assert activity.duration_minutes == 75


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"due_at": "tomorrow"}, {"due_at": ["Enter a date and time, e.g. 2026-03-02T09:30:00+01:00."]}),
        ({"due_at": "2026-03-02"}, {"due_at": ["Enter a date and time, e.g. 2026-03-02T09:30:00+01:00."]}),
        ({"due_at": 5}, {"due_at": ["Enter a date and time, e.g. 2026-03-02T09:30:00+01:00."]}),
        ({"subject": ""}, {"subject": ["This field is required."]}),
        ({"duration_minutes": -5}, {"duration_minutes": ["Cannot be negative."]}),
        ({"duration_minutes": 1441}, {"duration_minutes": ["At most 1440 minutes."]}),
        ({"duration_minutes": "long"}, {"duration_minutes": ["Enter a whole number."]}),
        (
            {"due_at": "2026-03-02T10:00:00Z", "ends_at": "2026-03-02T09:00:00Z"},
            {"ends_at": ["The end cannot be before the start."]},
        ),
        ({"reminder_minutes": -1}, {"reminder_minutes": ["Cannot be negative."]}),
        ({"reminder_minutes": 20000}, {"reminder_minutes": ["At most 10080 minutes."]}),
        ({"kind": "lunch"}, {"kind": ["Choose one of task, call, meeting."]}),
        ({"assignee": 987654321}, {"assignee": ["No such member of this organisation."]}),
        ({"deal": 987654321}, {"deal": ["No such deal."]}),
        ({"contact": 987654321}, {"contact": ["No such contact."]}),
        ({"colour": "red"}, {"colour": ["Unknown field."]}),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(actor, data, errors):
    with pytest.raises(ValidationError) as exc:
        create(actor, **data)
    assert exc.value.message_dict == errors
    assert Activity.dangerously_unscoped.count() == 0
    assert Event.dangerously_unscoped.filter(type__startswith="activity.").count() == 0
    assert AuditEntry.dangerously_unscoped.filter(object_type="sales.activity").count() == 0


def test_records_and_members_of_another_organisation_are_refused(actor, other_actor, pipeline):
    make_pipeline(other_actor.organization)
    their_deal = make_deal(other_actor, title="Theirs")
    with scope(organization=other_actor.organization):
        their_contact = contact_create(actor=other_actor, data={"first_name": "Otro"})
    with pytest.raises(ValidationError) as exc:
        create(actor, deal=their_deal.pk, contact=their_contact.pk, assignee=other_actor.user_id)
    assert exc.value.message_dict == {
        "deal": ["No such deal."],
        "contact": ["No such contact."],
        "assignee": ["No such member of this organisation."],
    }
    assert Activity.dangerously_unscoped.count() == 0


def test_an_activity_about_a_deal_touches_the_deal_and_goes_on_its_contacts_timeline(actor, pipeline, contact):
    deal = make_deal(actor, contact=contact.pk)
    assert Deal.dangerously_unscoped.get(pk=deal.pk).last_activity_at is None

    activity = create(actor, deal=deal.pk)

    assert Deal.dangerously_unscoped.get(pk=deal.pk).last_activity_at is not None
    event = Event.dangerously_unscoped.get(type="activity.created")
    assert event.contact_id == contact.pk
    assert event.properties["deal_id"] == deal.pk
    assert activity.deal_id == deal.pk


def test_complete_records_the_outcome_once_and_reopen_undoes_it(actor, pipeline, contact):
    deal = make_deal(actor, contact=contact.pk)
    activity = create(actor, deal=deal.pk)
    Deal.dangerously_unscoped.filter(pk=deal.pk).update(last_activity_at=None)

    with scope(organization=actor.organization):
        done = activity_complete(actor=actor, activity=activity, outcome="  Wants a demo  ")
        again = activity_complete(actor=actor, activity=done, outcome="")

    assert done.done_at is not None
    assert (again.done_at, again.outcome, again.sequence) == (done.done_at, "Wants a demo", 1)
    completed = Event.dangerously_unscoped.filter(type="activity.completed")
    assert completed.count() == 1
    assert completed.get().properties["outcome"] == "Wants a demo"
    assert completed.get().contact_id == contact.pk
    assert Deal.dangerously_unscoped.get(pk=deal.pk).last_activity_at == done.done_at

    with scope(organization=actor.organization):
        reopened = activity_reopen(actor=actor, activity=done)
    assert (reopened.done_at, reopened.outcome, reopened.sequence) == (None, "Wants a demo", 2)
    audits = list(
        AuditEntry.dangerously_unscoped.filter(object_type="sales.activity")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert audits == ["create", "update", "update"]


def test_update_bumps_the_sequence_and_a_new_time_rearms_the_reminder(actor):
    activity = create(actor, reminder_minutes=10)
    Activity.dangerously_unscoped.filter(pk=activity.pk).update(reminded_at=dt.datetime(2026, 3, 2, 9, 20, tzinfo=UTC))
    with scope(organization=actor.organization):
        same = activity_update(actor=actor, activity=activity, data={"subject": "Call Ana"})
        moved = activity_update(actor=actor, activity=activity, data={"due_at": "2026-03-03T09:30:00Z"})
    assert same.sequence == 0
    assert same.reminded_at is not None
    assert (moved.sequence, moved.reminded_at) == (1, None)
    audit = AuditEntry.dangerously_unscoped.get(object_type="sales.activity", action="update")
    assert audit.changes == {"due_at": ["2026-03-02T09:30:00+00:00", "2026-03-03T09:30:00+00:00"]}


def test_update_with_bad_input_changes_nothing(actor):
    activity = create(actor)
    with scope(organization=actor.organization), pytest.raises(ValidationError) as exc:
        activity_update(actor=actor, activity=activity, data={"subject": "New", "duration_minutes": -1})
    assert exc.value.message_dict == {"duration_minutes": ["Cannot be negative."]}
    activity.refresh_from_db()
    assert (activity.subject, activity.duration_minutes, activity.sequence) == ("Call Ana", 30, 0)


def test_sales_reps_see_their_own_their_teams_and_those_about_their_records(actor, member, pipeline):
    rep, teammate, stranger = member(role="sales"), member(role="sales"), member(role="sales")
    with scope(organization=actor.organization):
        team_create(actor=actor, name="Iberia", member_ids=[rep.pk, teammate.pk])
        reps_contact = contact_create(actor=rep, data={"first_name": "Mine"})
    own = create(actor, subject="own", assignee=rep.user_id)
    teams = create(actor, subject="team", assignee=teammate.user_id)
    about_mine = create(actor, subject="about my contact", assignee=stranger.user_id, contact=reps_contact.pk)
    create(actor, subject="strangers", assignee=stranger.user_id)
    create(actor, subject="owners", assignee=actor.user_id)

    with scope(organization=actor.organization):
        seen = set(activity_queryset(actor=rep).values_list("subject", flat=True))
        everything = activity_queryset(actor=actor).count()
        with pytest.raises(Http404):
            activity_get(actor=rep, pk=Activity.objects.get(subject="strangers").pk)
    assert seen == {own.subject, teams.subject, about_mine.subject}
    assert everything == 5


def test_a_rep_cannot_change_what_they_cannot_see_nor_delete_others(actor, member):
    rep = member(role="sales")
    hidden = create(actor, subject="owners")
    with scope(organization=actor.organization):
        team_create(actor=actor, name="Iberia", member_ids=[rep.pk, actor.pk])
    teams = create(actor, subject="team member's")
    with scope(organization=actor.organization):
        Activity.objects.filter(pk=hidden.pk).update(assignee=make_member(actor.organization, "manager").user)
        with pytest.raises(PermissionDenied):
            activity_update(actor=rep, activity=hidden, data={"subject": "x"})
        with pytest.raises(PermissionDenied):
            activity_delete(actor=rep, activity=teams)  # visible (a teammate's) but not theirs
        activity_update(actor=rep, activity=teams, data={"subject": "renamed"})
    assert Activity.dangerously_unscoped.get(pk=hidden.pk).subject == "owners"
    assert Activity.dangerously_unscoped.get(pk=teams.pk).subject == "renamed"


def test_read_only_cannot_write(actor, member):
    reader = member(role="read_only")
    activity = create(actor)
    with scope(organization=actor.organization):
        with pytest.raises(PermissionDenied):
            activity_create(actor=reader, data={"subject": "x", "due_at": "2026-03-02T09:00:00Z"})
        with pytest.raises(PermissionDenied):
            activity_complete(actor=reader, activity=activity)
        assert activity_get(actor=reader, pk=activity.pk) == activity  # but reads everything
    assert Activity.dangerously_unscoped.get().done_at is None


def test_delete_is_audited(actor, contact):
    activity = create(actor, contact=contact.pk)
    with scope(organization=actor.organization):
        activity_delete(actor=actor, activity=activity)
    assert Activity.dangerously_unscoped.count() == 0
    audit = AuditEntry.dangerously_unscoped.get(object_type="sales.activity", action="delete")
    assert audit.changes["subject"] == ["Call Ana", None]


def test_a_company_activity_goes_on_the_companys_timeline(actor):
    with scope(organization=actor.organization):
        company = company_create(actor=actor, data={"name": "Acme"})
    create(actor, company=company.pk)
    event = Event.dangerously_unscoped.get(type="activity.created")
    assert (event.contact_id, event.company_id) == (None, company.pk)
