"""What sales tells its members: a deal or an activity given to them by someone else (not when they
take it themselves), and an activity's reminder through the every-minute reminder task, in the bell
and/or by e-mail as the member chose."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.system_actor import make_via, system_actor
from vinculo.contacts.services import contact_create
from vinculo.messaging.models import Notification, OutgoingMessage
from vinculo.messaging.services.notifications import notification_preferences_update
from vinculo.sales.models import AssignmentRule, AssignmentTarget
from vinculo.sales.services.activities import activity_create, activity_update
from vinculo.sales.services.deals import deal_bulk_assign_owner, deal_update
from vinculo.sales.tasks import send_activity_reminders
from vinculo.sales.testing import make_deal

pytestmark = pytest.mark.django_db


def mine(member) -> list[Notification]:
    with scope(organization=member.organization):
        return list(Notification.objects.filter(recipient=member.user).order_by("id"))


def test_a_deal_given_to_a_colleague_notifies_them_with_a_link(actor, org, pipeline, member):
    rep = member(role="sales", full_name="Ana García")
    deal = make_deal(actor, title="Acme 50 seats", owner=rep.user_id)

    [notification] = mine(rep)
    assert notification.sentence == f"{actor.user.full_name} assigned the deal Acme 50 seats to you"
    assert notification.url == f"/o/{org.slug}/deals/{deal.pk}/"
    assert (notification.kind, notification.actor_id) == ("assigned", actor.user_id)


def test_a_new_owner_of_a_deal_is_notified_and_taking_it_myself_is_not(actor, org, pipeline, member):
    rep = member(role="sales", full_name="Ana García")
    other = member(role="sales", full_name="Luis Pérez")
    deal = make_deal(actor, title="Acme 50 seats")  # mine
    with scope(organization=org):
        deal_update(actor=actor, deal=deal, data={"owner": rep.user_id})
        deal_update(actor=actor, deal=deal, data={"amount": "100"})  # the same owner: nothing new
        deal_bulk_assign_owner(actor=actor, ids=[deal.pk], owner=other.user_id)
        deal_update(actor=other, deal=deal, data={"owner": other.user_id})  # already theirs: no change

    assert [n.sentence for n in mine(rep)] == [f"{actor.user.full_name} assigned the deal Acme 50 seats to you"]
    assert [n.sentence for n in mine(other)] == [f"{actor.user.full_name} assigned the deal Acme 50 seats to you"]
    assert mine(actor) == []


def test_an_activity_put_in_a_colleagues_agenda_notifies_them_once_per_assignment(actor, org, member):
    rep = member(role="sales", full_name="Ana García")
    due = timezone.now() + dt.timedelta(days=1)
    with scope(organization=org):
        activity = activity_create(actor=actor, data={"subject": "Call Lucía", "due_at": due, "assignee": rep.user_id})
        activity_update(actor=actor, activity=activity, data={"subject": "Call Lucía back"})
        mine_now = activity_create(actor=actor, data={"subject": "My own", "due_at": due})
        activity_update(actor=actor, activity=mine_now, data={"assignee": rep.user_id})

    assert [(n.sentence, n.url) for n in mine(rep)] == [
        (
            f"{actor.user.full_name} assigned the activity Call Lucía to you",
            f"/o/{org.slug}/activities/{activity.pk}/",
        ),
        (f"{actor.user.full_name} assigned the activity My own to you", f"/o/{org.slug}/activities/{mine_now.pk}/"),
    ]


def _due_activity(member, subject: str = "Call Ana"):
    due = (timezone.now() + dt.timedelta(minutes=5)).replace(second=0, microsecond=0)
    with scope(organization=member.organization):
        return activity_create(actor=member, data={"subject": subject, "due_at": due, "reminder_minutes": 10})


def _run_reminders(capture) -> int:
    with capture(execute=True):
        return send_activity_reminders.call()


def test_a_due_reminder_is_a_notification_and_the_email_by_default(actor, org, django_capture_on_commit_callbacks):
    activity = _due_activity(actor)

    assert _run_reminders(django_capture_on_commit_callbacks) == 1
    assert _run_reminders(django_capture_on_commit_callbacks) == 0

    [notification] = mine(actor)
    assert notification.sentence == f"Reminder: Call Ana at {timezone.localtime(activity.due_at):%H:%M}"
    assert notification.url == f"/o/{org.slug}/activities/{activity.pk}/"
    assert notification.kind == "reminder"
    assert [m.to for m in mail.outbox] == [[actor.user.email]]  # the reminder e-mail, as before
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):  # shown in the reader's time zone
        tokyo = activity.due_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
        assert notification.sentence == f"Reminder: Call Ana at {tokyo:%H:%M}"


@pytest.mark.parametrize(("channel", "notified", "mailed"), [("in_app", 1, 0), ("email", 0, 1), ("none", 0, 0)])
def test_a_reminder_goes_where_the_member_chose(
    actor, org, django_capture_on_commit_callbacks, channel, notified, mailed
):
    with scope(organization=org):
        notification_preferences_update(actor=actor, data={"reminder": channel})
    activity = _due_activity(actor)

    assert _run_reminders(django_capture_on_commit_callbacks) == 1

    assert len(mine(actor)) == notified
    assert OutgoingMessage.dangerously_unscoped.count() == mailed
    assert len(mail.outbox) == mailed
    activity.refresh_from_db()
    assert activity.reminded_at is not None  # reminded once, whatever the channel


def test_a_lead_routed_by_the_rules_notifies_the_rep_saying_which_rule(
    actor, org, member, django_capture_on_commit_callbacks
):
    rep = member(role="sales", full_name="Marta Ruiz")
    AssignmentRule.dangerously_unscoped.create(
        organization=org, name="Spain", applies_to=AssignmentTarget.LEADS, countries=["ES"], user=rep.user
    )
    robot = system_actor(org, via=make_via("website", "Shop"))
    with scope(organization=org), django_capture_on_commit_callbacks(execute=True):
        lead = contact_create(actor=robot, data={"first_name": "Ana", "country": "ES", "lifecycle_stage": "lead"})

    [notification] = mine(rep)
    assert notification.sentence == "The assignment rule “Spain” assigned the lead Ana to you"
    assert notification.url == f"/o/{org.slug}/contacts/{lead.pk}/"
