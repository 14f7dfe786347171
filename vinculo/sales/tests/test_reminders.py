"""Activity reminders: the every-minute task e-mails the assignee once, in their language and
time zone, with a link to the activity; a real SMTP server receives it."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.utils import formats, timezone, translation
from django_scopes import scope

from vinculo.accounts.testing import free_port
from vinculo.messaging.models import OutgoingMessage
from vinculo.messaging.tasks import send_due_messages
from vinculo.sales.models import Activity
from vinculo.sales.services.activities import activity_complete, activity_create
from vinculo.sales.tasks import due_reminder_ids, send_activity_reminders


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the reminder job in a transaction that commits: the queued reminders are sent."""

    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return send_activity_reminders.call()

    return run


def create(member, minutes_ahead: int, reminder: int | None, **data):
    data.setdefault("subject", "Call Ana")
    due = (timezone.now() + dt.timedelta(minutes=minutes_ahead)).replace(second=0, microsecond=0)
    with scope(organization=member.organization):
        return activity_create(actor=member, data={"due_at": due, "reminder_minutes": reminder, **data})


def test_the_reminder_job_runs_every_minute():
    assert django_settings.PERIODIC_TASKS["activity-reminders"] == {
        "task": "vinculo.sales.tasks.send_activity_reminders",
        "cron": "* * * * *",
    }


def test_a_reminder_is_sent_once_when_its_time_has_come(actor, org, settings, run):
    settings.SITE_URL = "https://crm.example.com"
    due = create(actor, minutes_ahead=10, reminder=15, location="Zoom")
    create(actor, minutes_ahead=30, reminder=15, subject="Later")  # reminder in 15 minutes
    create(actor, minutes_ahead=10, reminder=None, subject="No reminder")

    assert run() == 1
    assert run() == 0  # idempotent: already reminded

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [actor.user.email]
    local = timezone.localtime(due.due_at, dt.UTC)
    assert message.subject == f"Reminder: Call Ana at {local:%H:%M}"
    assert f"https://crm.example.com/o/{org.slug}/activities/{due.pk}/" in message.body
    assert "Where: Zoom" in message.body
    due.refresh_from_db()
    assert due.reminded_at is not None
    assert Activity.dangerously_unscoped.get(subject="Later").reminded_at is None


def test_the_email_is_in_the_assignees_language_and_time_zone(actor, org, member, run):
    rep = member(role="sales", language="es")
    rep.user.time_zone = "Europe/Madrid"
    rep.user.save()
    activity = create(actor, minutes_ahead=5, reminder=10, assignee=rep.user_id, subject="Llamar a Ana")

    assert run() == 1

    message = mail.outbox[0]
    local = activity.due_at.astimezone(zoneinfo.ZoneInfo("Europe/Madrid"))
    with translation.override("es"):
        spanish_date = formats.date_format(local, "DATETIME_FORMAT")  # e.g. "2 de marzo de 2026 a las 10:30"
    assert message.to == [rep.user.email]
    assert message.subject.endswith(f" {local:%H:%M}")
    assert f"{spanish_date} (CET)" in message.body or f"{spanish_date} (CEST)" in message.body


def test_done_activities_unassigned_ones_and_long_past_ones_are_not_reminded(actor, org, run):
    done = create(actor, minutes_ahead=5, reminder=10, subject="Done")
    with scope(organization=org):
        activity_complete(actor=actor, activity=done)
    create(actor, minutes_ahead=5, reminder=10, subject="Nobody's", assignee=None)
    create(actor, minutes_ahead=-120, reminder=10, subject="Two hours ago")

    assert due_reminder_ids(now=timezone.now()) == []
    assert run() == 0
    assert mail.outbox == []


def test_a_new_time_sends_the_reminder_again(actor, org, run):
    from vinculo.sales.services.activities import activity_update

    activity = create(actor, minutes_ahead=5, reminder=10)
    assert run() == 1
    with scope(organization=org):
        activity_update(actor=actor, activity=activity, data={"due_at": activity.due_at + dt.timedelta(minutes=2)})
    assert run() == 1
    assert len(mail.outbox) == 2


def test_a_failed_send_is_retried_by_the_outgoing_mail_worker(actor, org, settings, run):
    activity = create(actor, minutes_ahead=5, reminder=10)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 1  # nothing listens

    assert run() == 1
    assert run() == 0  # queued once
    activity.refresh_from_db()
    assert activity.reminded_at is not None
    [queued] = OutgoingMessage.dangerously_unscoped.all()
    assert (queued.state, queued.attempts, queued.to_address) == ("queued", 1, actor.user.email)
    assert queued.last_error.startswith("ConnectionRefusedError")

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutgoingMessage.dangerously_unscoped.filter(pk=queued.pk).update(next_attempt_at=timezone.now())
    assert send_due_messages.call() == 1
    assert [m.to for m in mail.outbox] == [[actor.user.email]]


def test_the_reminder_reaches_a_real_smtp_server(actor, org, smtp_server, run):
    activity = create(actor, minutes_ahead=5, reminder=10, subject="Demo")
    assert run() == 1
    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.rcpt_tos == [actor.user.email]
    assert received.message["Subject"].startswith("Reminder: Demo at ")
    links = re.findall(r"https?://\S+/activities/\d+/", received.body)
    assert links == [f"{django_settings.SITE_URL}/o/{org.slug}/activities/{activity.pk}/"]


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_once(actor, org):
    """The row is re-read inside the transaction: a run that finds it reminded skips it."""
    from vinculo.sales.tasks import remind

    activity = create(actor, minutes_ahead=5, reminder=10)
    now = timezone.now()
    ids = due_reminder_ids(now=now)
    assert ids == [activity.pk]
    assert remind(activity.pk, now=now) is True
    assert remind(activity.pk, now=now) is False  # the second worker, with the same stale list
    assert len(mail.outbox) == 1


def test_no_reminder_to_someone_who_left_or_was_deactivated(actor, org, member, run):
    from vinculo.accounts.models import Membership

    left, deactivated = member(role="sales"), member(role="sales")
    create(actor, minutes_ahead=5, reminder=10, assignee=left.user_id)
    create(actor, minutes_ahead=5, reminder=10, assignee=deactivated.user_id)
    Membership.objects.filter(pk=left.pk).delete()
    deactivated.user.is_active = False
    deactivated.user.save()

    assert run() == 0
    assert mail.outbox == []
