"""Writes of activities (tasks, calls, meetings) and of the private calendar feeds.

Each write is atomic, checks the actor, records the audit trail and, for creation and completion,
puts an event on the customer's timeline (`activity.created`, `activity.completed`: on the
activity's contact, else its company, else its deal's contact or company). An activity about a
deal marks the deal as touched (`deal_touch`), so the deal does not look stale.

Times are aware datetimes stored in UTC. Text without an offset ("2026-03-02T09:30", what a
datetime-local input sends) is read in the time zone of the person typing it (User.time_zone).
Every change bumps `sequence` (RFC 5545), so calendar apps replace their copy of the event.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership, Organization, User
from vinculo.accounts.permissions import require_write
from vinculo.contacts.selectors import company_queryset, contact_queryset
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.events import emit
from vinculo.core.validation import (
    Errors,
    add_error,
    clean_datetime,
    clean_text,
    keep_linked,
    record_by_id,
    reject_unknown,
)
from vinculo.sales.models import Activity, ActivityKind, CalendarFeed, Deal, FollowUpRule, new_feed_token
from vinculo.sales.notifications import notify_activity_assigned
from vinculo.sales.selectors.activities import activity_queryset, can_delete_activity, visible_deals
from vinculo.sales.services.deals import deal_touch

MAX_DURATION_MINUTES = 24 * 60
MAX_REMINDER_MINUTES = 7 * 24 * 60  # a week ahead at most (the reminder job looks that far)
TEXT_FIELDS = {"subject": 200, "location": 200, "description": 5000, "outcome": 5000}
ACTIVITY_FIELDS = (
    *TEXT_FIELDS,
    "kind",
    "due_at",
    "duration_minutes",
    "ends_at",
    "assignee",
    "contact",
    "company",
    "deal",
    "reminder_minutes",
)
AUDITED = (
    "kind",
    "subject",
    "due_at",
    "duration_minutes",
    "assignee",
    "contact",
    "company",
    "deal",
    "location",
    "description",
    "reminder_minutes",
    "done_at",
    "outcome",
)


def user_tz(user: User | None) -> dt.tzinfo:
    """The user's time zone (User.time_zone), UTC when unknown."""
    try:
        return zoneinfo.ZoneInfo(user.time_zone) if user is not None and user.time_zone else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def clean_minutes(value: Any, field: str, errors: Errors, *, maximum: int) -> int | None:
    """A whole number of minutes between 0 and `maximum`."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        add_error(errors, field, _("Enter a whole number."))
        return None
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        add_error(errors, field, _("Enter a whole number."))
        return None
    if minutes < 0:
        add_error(errors, field, _("Cannot be negative."))
        return None
    if minutes > maximum:
        add_error(errors, field, _("At most %(n)s minutes.") % {"n": maximum})
        return None
    return minutes


def _member(organization_id: int, value: Any, field: str, errors: Errors) -> User | None:
    if value in (None, ""):
        return None
    if isinstance(value, User):
        value = value.pk
    try:
        return User.objects.get(pk=int(value), memberships__organization_id=organization_id, is_active=True)
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        add_error(errors, field, _("No such member of this organisation."))
        return None


def _apply(actor: Membership, activity: Activity, data: Mapping[str, Any], errors: Errors) -> None:
    """Validate `data` onto `activity` (not saved)."""
    reject_unknown(data, ACTIVITY_FIELDS, errors)
    for name, max_length in TEXT_FIELDS.items():
        if name in data:
            value = clean_text(data[name], name, errors, max_length=max_length, required=name == "subject")
            if value is not None:
                setattr(activity, name, value)
    if "kind" in data:
        if data["kind"] in ActivityKind.values:
            activity.kind = data["kind"]
        else:
            add_error(errors, "kind", _("Choose one of %(expected)s.") % {"expected": ", ".join(ActivityKind.values)})
    tz = user_tz(actor.user)
    if "due_at" in data:
        due = clean_datetime(data["due_at"], "due_at", errors, tz=tz)
        if due is not None:
            activity.due_at = due
    if data.get("duration_minutes") not in (None, ""):
        duration = clean_minutes(data["duration_minutes"], "duration_minutes", errors, maximum=MAX_DURATION_MINUTES)
        if duration is not None:
            activity.duration_minutes = duration
    if data.get("ends_at") not in (None, ""):
        ends = clean_datetime(data["ends_at"], "ends_at", errors, tz=tz)
        if ends is not None and activity.due_at is not None and "due_at" not in errors:
            minutes = (ends - activity.due_at).total_seconds() / 60
            if minutes < 0:
                add_error(errors, "ends_at", _("The end cannot be before the start."))
            elif minutes > MAX_DURATION_MINUTES:
                add_error(errors, "ends_at", _("At most %(n)s minutes after the start.") % {"n": MAX_DURATION_MINUTES})
            elif minutes != int(minutes):
                add_error(errors, "ends_at", _("Give the end in whole minutes."))
            else:
                activity.duration_minutes = int(minutes)
    if "reminder_minutes" in data:
        if data["reminder_minutes"] in (None, ""):
            activity.reminder_minutes = None
        else:
            activity.reminder_minutes = clean_minutes(
                data["reminder_minutes"], "reminder_minutes", errors, maximum=MAX_REMINDER_MINUTES
            )
    if "assignee" in data:
        activity.assignee = _member(actor.organization_id, data["assignee"], "assignee", errors)
    if "contact" in data:
        activity.contact = record_by_id(
            keep_linked(contact_queryset(actor=actor), activity.contact_id, data["contact"]),
            data["contact"],
            "contact",
            errors,
            _("No such contact."),
        )
    if "company" in data:
        activity.company = record_by_id(
            keep_linked(company_queryset(actor=actor), activity.company_id, data["company"]),
            data["company"],
            "company",
            errors,
            _("No such company."),
        )
    if "deal" in data:
        activity.deal = record_by_id(
            keep_linked(
                visible_deals(actor=actor).select_related("contact", "company"), activity.deal_id, data["deal"]
            ),
            data["deal"],
            "deal",
            errors,
            _("No such deal."),
        )


def _snapshot(activity: Activity) -> dict[str, Any]:
    return snapshot(activity, list(AUDITED))


def _emit(activity: Activity, actor: User | None, type: str, extra: dict[str, Any] | None = None) -> None:
    """The event on the timeline of whom the activity is about (contact, else company, else the deal's)."""
    contact, company = activity.contact, activity.company
    deal = activity.deal if activity.deal_id is not None else None
    if contact is None and company is None and deal is not None:
        contact, company = deal.contact, deal.company
    emit(
        organization=activity.organization,
        type=type,
        contact=contact,
        company=company if contact is None else None,
        actor=actor,
        properties={
            "activity_id": activity.pk,
            "kind": activity.kind,
            "subject": activity.subject,
            "due_at": activity.due_at.isoformat(),
            "assignee": str(activity.assignee) if activity.assignee_id else None,
            **({"deal_id": activity.deal_id} if activity.deal_id else {}),
            **(extra or {}),
        },
    )


def _created(activity: Activity, actor: User | None) -> Activity:
    audit_create(instance=activity, actor=actor, values=_snapshot(activity), organization=activity.organization)
    _emit(activity, actor, "activity.created")
    if activity.deal_id is not None:
        deal_touch(deal_id=activity.deal_id)
    return activity


@transaction.atomic
def activity_create(*, actor: Membership, data: Mapping[str, Any]) -> Activity:
    """A new activity, assigned to the actor unless `data` names another member (or null)."""
    require_write(actor)
    activity = Activity(organization=actor.organization, assignee=actor.user)
    errors: Errors = {}
    _apply(actor, activity, data, errors)
    for required in ("subject", "due_at"):
        if required not in data and required not in errors:
            add_error(errors, required, _("This field is required."))
    if errors:
        raise ValidationError(errors)
    activity.save()
    _created(activity, actor.user)
    notify_activity_assigned(activity=activity, actor=actor.user, cause=f"v{activity.sequence}")
    return activity


def create_from_rule(
    *, organization: Organization, rule: FollowUpRule, deal: Deal, due_at: dt.datetime, source_key: str
) -> Activity | None:
    """The activity a follow-up rule puts in the deal owner's agenda, or None when this `source_key`
    was already used (a retried event): the unique constraint decides, inside a savepoint."""
    activity = Activity(
        organization=organization,
        kind=rule.kind,
        subject=rule.subject,
        due_at=due_at,
        assignee_id=deal.owner_id,
        deal=deal,
        contact_id=deal.contact_id,
        company_id=deal.company_id if deal.contact_id is None else None,
        follow_up_rule=rule,
        source_key=source_key,
    )
    try:
        with transaction.atomic():
            activity.save()
    except IntegrityError:
        if Activity.dangerously_unscoped.filter(organization=organization, source_key=source_key).exists():
            return None
        raise
    return _created(activity, None)


def _lock(activity: Activity) -> Activity:
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins
    return (
        Activity.objects.select_for_update(of=("self",))
        .select_related("assignee", "contact", "company", "deal__contact", "deal__company")
        .get(pk=activity.pk)
    )


def _require_visible(actor: Membership, activity: Activity) -> None:
    if not activity_queryset(actor=actor).filter(pk=activity.pk).exists():
        raise PermissionDenied(_("You are not allowed to change this activity."))


def _save_changes(actor: Membership, activity: Activity, before: dict[str, Any]) -> dict[str, list[Any]]:
    changes = diff(before, _snapshot(activity))
    if changes:
        activity.sequence += 1
        activity.save()
        audit_update(instance=activity, actor=actor.user, changes=changes, organization=activity.organization)
    return changes


@transaction.atomic
def activity_update(*, actor: Membership, activity: Activity, data: Mapping[str, Any]) -> Activity:
    """Change the given fields only. A new time or reminder sends the reminder again."""
    require_write(actor)
    activity = _lock(activity)
    _require_visible(actor, activity)
    before = _snapshot(activity)
    errors: Errors = {}
    _apply(actor, activity, data, errors)
    if errors:
        raise ValidationError(errors)
    changes = _save_changes(actor, activity, before)
    if "assignee" in changes:
        notify_activity_assigned(activity=activity, actor=actor.user, cause=f"v{activity.sequence}")
    if {"due_at", "reminder_minutes"} & set(changes) and activity.reminded_at is not None:
        activity.reminded_at = None
        activity.save(update_fields=["reminded_at", "updated_at"])
    if changes and activity.deal_id is not None:
        deal_touch(deal_id=activity.deal_id)
    return activity


@transaction.atomic
def activity_complete(*, actor: Membership, activity: Activity, outcome: Any = "") -> Activity:
    """Mark done, with what came of it. Completing a done activity only updates its outcome."""
    require_write(actor)
    activity = _lock(activity)
    _require_visible(actor, activity)
    errors: Errors = {}
    text = clean_text(outcome, "outcome", errors, max_length=TEXT_FIELDS["outcome"])
    if errors:
        raise ValidationError(errors)
    was_done = activity.done_at is not None
    before = _snapshot(activity)
    if not was_done:
        activity.done_at = timezone.now()
    if text or not was_done:
        activity.outcome = text or ""
    _save_changes(actor, activity, before)
    if not was_done:
        _emit(activity, actor.user, "activity.completed", {"outcome": activity.outcome})
        if activity.deal_id is not None:
            deal_touch(deal_id=activity.deal_id, when=activity.done_at)
    return activity


@transaction.atomic
def activity_reopen(*, actor: Membership, activity: Activity) -> Activity:
    """Not done after all: back in the agenda (the outcome is kept)."""
    require_write(actor)
    activity = _lock(activity)
    _require_visible(actor, activity)
    before = _snapshot(activity)
    activity.done_at = None
    _save_changes(actor, activity, before)
    return activity


@transaction.atomic
def activity_delete(*, actor: Membership, activity: Activity) -> None:
    activity = _lock(activity)
    _require_visible(actor, activity)
    if not can_delete_activity(actor, activity):
        raise PermissionDenied(_("You are not allowed to delete this activity."))
    audit_delete(instance=activity, actor=actor.user, values=_snapshot(activity), organization=activity.organization)
    activity.delete()


# --- calendar feeds -------------------------------------------------------------------------------


def calendar_feed_get_or_create(*, actor: Membership) -> CalendarFeed:
    """The actor's private feed in this organisation, created on first use."""
    feed = CalendarFeed.objects.filter(user_id=actor.user_id).first()
    if feed is not None:
        return feed
    try:
        with transaction.atomic():
            feed = CalendarFeed.objects.create(organization=actor.organization, user=actor.user)
            audit_create(
                instance=feed, actor=actor.user, values={"user": str(actor.user)}, organization=feed.organization
            )
    except IntegrityError:  # created meanwhile by another request
        return CalendarFeed.objects.get(user_id=actor.user_id)
    return feed


@transaction.atomic
def calendar_feed_rotate(*, actor: Membership) -> CalendarFeed:
    """A new secret: the old URL stops working at once (404)."""
    feed = calendar_feed_get_or_create(actor=actor)
    feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    feed.token = new_feed_token()
    feed.last_fetched_at = None
    feed.save(update_fields=["token", "last_fetched_at", "updated_at"])
    audit_update(instance=feed, actor=actor.user, changes={"token": ["…", "…"]}, organization=feed.organization)
    return feed


def calendar_feed_fetched(*, feed: CalendarFeed, now: dt.datetime | None = None) -> None:
    """Note when a calendar app last read the feed, at most once a minute (no write per poll)."""
    now = now or timezone.now()
    if feed.last_fetched_at is None or now - feed.last_fetched_at > dt.timedelta(minutes=1):
        CalendarFeed.dangerously_unscoped.filter(pk=feed.pk).update(last_fetched_at=now)
        feed.last_fetched_at = now
