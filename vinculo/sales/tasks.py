"""Background tasks of the sales app. Thin and idempotent: safe to run twice, or late."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, IntegerField, Value
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from vinculo.messaging.models import MessageKind
from vinculo.messaging.services.outgoing import message_queue
from vinculo.sales.models import Activity
from vinculo.sales.notifications import notify_reminder
from vinculo.sales.services.activities import MAX_REMINDER_MINUTES, user_tz

logger = logging.getLogger(__name__)

# a reminder whose activity began more than this long ago is not sent any more (the scheduler was
# down): a reminder after the fact is noise
REMINDER_GRACE = dt.timedelta(hours=1)
REMINDER_BATCH = 500


def due_reminder_ids(*, now: dt.datetime, limit: int = REMINDER_BATCH) -> list[int]:
    """Activities of every organisation whose reminder time (due_at − reminder_minutes) has come,
    not done, not reminded yet, not begun more than REMINDER_GRACE ago, assigned to an active
    member of the activity's organisation."""
    minutes = ExpressionWrapper(
        Cast("reminder_minutes", IntegerField()) * Value(dt.timedelta(minutes=1), output_field=DurationField()),
        output_field=DurationField(),
    )
    return list(
        Activity.dangerously_unscoped.filter(
            done_at__isnull=True,
            reminded_at__isnull=True,
            reminder_minutes__isnull=False,
            assignee__is_active=True,
            assignee__memberships__organization=F("organization"),  # still a member there
            due_at__gte=now - REMINDER_GRACE,
            due_at__lte=now + dt.timedelta(minutes=MAX_REMINDER_MINUTES),
        )
        .annotate(remind_at=ExpressionWrapper(F("due_at") - minutes, output_field=DateTimeField()))
        .filter(remind_at__lte=now)
        .order_by("due_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def _queue_reminder(activity: Activity) -> None:
    """The e-mail to the assignee, in their language, with times in their time zone; queued in
    the caller's transaction (the worker sends it, retrying if the mail server is away). One per
    activity and due time, however often this runs."""
    user = activity.assignee
    assert user is not None
    url = settings.SITE_URL + reverse("sales:activity_detail", args=[activity.organization.slug, activity.pk])
    with timezone.override(user_tz(user)):
        local_due = timezone.localtime(activity.due_at)
        context = {
            "activity": activity,
            "user": user,
            "organization": activity.organization,
            "due": local_due,
            "url": url,
        }
        message_queue(
            organization=activity.organization,
            kind=MessageKind.SYSTEM,
            to=user.email,
            subject=lambda: (
                _("Reminder: %(subject)s at %(time)s")
                % {"subject": activity.subject, "time": local_due.strftime("%H:%M")}
            ),
            template="sales/agenda/email/reminder",
            context=context,
            language=user.language,
            idempotency_key=f"activity-reminder:{activity.pk}:{activity.due_at.isoformat()}",
        )


def remind(activity_id: int, *, now: dt.datetime) -> bool:
    """Remind the assignee (a notification, the e-mail, or both, as they chose) and set
    `reminded_at` in the same transaction; False when another run holds the row or already
    reminded it."""
    with transaction.atomic():
        rows = Activity.dangerously_unscoped.filter(pk=activity_id, reminded_at__isnull=True, done_at__isnull=True)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        activity = rows.first()
        if activity is None or activity.assignee_id is None or activity.reminder_minutes is None:
            return False
        if activity.due_at - dt.timedelta(minutes=activity.reminder_minutes) > now:  # moved meanwhile
            return False
        Activity.dangerously_unscoped.filter(pk=activity.pk).update(reminded_at=now)
        # in the bell and/or by e-mail, as the assignee chose for reminders
        notify_reminder(activity=activity, mail=lambda: _queue_reminder(activity))
    return True


@task()
def send_activity_reminders() -> int:
    """E-mail every assignee whose activity's reminder time has come (enqueued every minute by
    `manage.py scheduler`). Idempotent: a reminder is queued once, however often this runs, and two
    workers running it at once skip each other's rows; the outgoing-mail worker sends it and
    retries it. Returns how many were queued."""
    now = timezone.now()
    queued = 0
    for activity_id in due_reminder_ids(now=now):
        try:
            queued += remind(activity_id, now=now)
        except ValidationError as exc:  # an assignee whose address is not one
            logger.warning("reminder of activity %s not queued: %s", activity_id, exc)
    return queued
