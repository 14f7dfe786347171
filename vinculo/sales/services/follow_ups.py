"""Follow-up rules: "when a deal enters this stage, put this activity in its owner's agenda N days
later". Managers configure them; `follow_ups_for_event` applies them to a `deal.created` or
`deal.stage_changed` event (the subscriber in vinculo/sales/subscribers.py calls it).

Applying is idempotent: each activity carries `source_key = "follow-up:<rule>:<event>"`, unique per
organisation, so an event delivered twice (a retried task, a crash after commit) creates nothing
the second time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scope

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_manager
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.models import Event
from vinculo.core.validation import Errors, add_error, clean_text, record_by_id, reject_unknown
from vinculo.sales.models import Activity, ActivityKind, Deal, FollowUpRule, Stage
from vinculo.sales.services.activities import create_from_rule, user_tz

logger = logging.getLogger(__name__)

RULE_FIELDS = ("stage", "kind", "subject", "days_after", "is_active")
AUDITED = ("stage", "kind", "subject", "days_after", "is_active")
MAX_DAYS_AFTER = 365
FOLLOW_UP_TIME = dt.time(9, 0)  # in the deal owner's time zone
STAGE_EVENTS = ("deal.created", "deal.stage_changed")


MANAGERS_ONLY = gettext_lazy("Only owners, admins and managers can change follow-up rules.")


def _apply(rule: FollowUpRule, data: Mapping[str, Any], errors: Errors) -> None:
    reject_unknown(data, RULE_FIELDS, errors)
    if "subject" in data:
        subject = clean_text(data["subject"], "subject", errors, max_length=200, required=True)
        if subject is not None:
            rule.subject = subject
    if "kind" in data:
        if data["kind"] in ActivityKind.values:
            rule.kind = data["kind"]
        else:
            add_error(errors, "kind", _("Choose one of %(expected)s.") % {"expected": ", ".join(ActivityKind.values)})
    if "stage" in data:
        stage = record_by_id(
            Stage.objects.select_related("pipeline"), data["stage"], "stage", errors, _("No such stage.")
        )
        if stage is not None:
            rule.stage = stage
        elif data["stage"] in (None, ""):
            add_error(errors, "stage", _("This field is required."))
    if "days_after" in data:
        value = data["days_after"]
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            days = int(str(value).strip())
        except (TypeError, ValueError):
            add_error(errors, "days_after", _("Enter a whole number."))
        else:
            if not 0 <= days <= MAX_DAYS_AFTER:
                add_error(
                    errors, "days_after", _("Enter a number of days between 0 and %(n)s.") % {"n": MAX_DAYS_AFTER}
                )
            else:
                rule.days_after = days
    if "is_active" in data:
        if isinstance(data["is_active"], bool):
            rule.is_active = data["is_active"]
        else:
            add_error(errors, "is_active", _("Enter true or false."))


@transaction.atomic
def follow_up_rule_create(*, actor: Membership, data: Mapping[str, Any]) -> FollowUpRule:
    require_manager(actor, MANAGERS_ONLY)
    rule = FollowUpRule(organization=actor.organization)
    errors: Errors = {}
    _apply(rule, data, errors)
    for required in ("stage", "subject"):
        if required not in data and required not in errors:
            add_error(errors, required, _("This field is required."))
    if errors:
        raise ValidationError(errors)
    rule.save()
    audit_create(instance=rule, actor=actor.user, values=snapshot(rule, list(AUDITED)), organization=actor.organization)
    return rule


@transaction.atomic
def follow_up_rule_update(*, actor: Membership, rule: FollowUpRule, data: Mapping[str, Any]) -> FollowUpRule:
    require_manager(actor, MANAGERS_ONLY)
    rule = FollowUpRule.objects.select_for_update(of=("self",)).select_related("stage__pipeline").get(pk=rule.pk)
    before = snapshot(rule, list(AUDITED))
    errors: Errors = {}
    _apply(rule, data, errors)
    if errors:
        raise ValidationError(errors)
    changes = diff(before, snapshot(rule, list(AUDITED)))
    if changes:
        rule.save()
        audit_update(instance=rule, actor=actor.user, changes=changes, organization=actor.organization)
    return rule


@transaction.atomic
def follow_up_rule_delete(*, actor: Membership, rule: FollowUpRule) -> None:
    """The rule goes; the activities it created stay (their `follow_up_rule` becomes empty)."""
    require_manager(actor, MANAGERS_ONLY)
    audit_delete(instance=rule, actor=actor.user, values=snapshot(rule, list(AUDITED)), organization=actor.organization)
    rule.delete()


# --- applying the rules -----------------------------------------------------------------------------


def follow_up_due_at(*, entered_at: dt.datetime, days_after: int, tz: dt.tzinfo) -> dt.datetime:
    """09:00 in the owner's time zone, `days_after` days after the day the deal entered the stage."""
    day = entered_at.astimezone(tz).date() + dt.timedelta(days=days_after)
    local = dt.datetime.combine(day, FOLLOW_UP_TIME, tzinfo=tz)
    return local.astimezone(dt.UTC)


def _stage_of(event: Event, deal: Deal) -> Stage | None:
    """The stage the event says the deal entered. `deal.created` names it (`stage_id`, or only its
    name within the deal's pipeline); `deal.stage_changed` gives `to_stage_id`."""
    props = event.properties or {}
    stage_id = props.get("to_stage_id") or props.get("stage_id")
    if isinstance(stage_id, int):
        return Stage.objects.filter(pk=stage_id).first()
    name = props.get("to_stage") or props.get("stage")
    if isinstance(name, str) and name:
        return Stage.objects.filter(pipeline_id=deal.pipeline_id, name=name).first()
    return None


def follow_ups_for_event(*, event_id: int) -> list[Activity]:
    """Create the activities the active rules of the stage a deal entered ask for. Safe to run
    twice for the same event: the second run creates nothing. Returns what was created."""
    event = Event.dangerously_unscoped.select_related("organization").filter(pk=event_id).first()
    if event is None or event.type not in STAGE_EVENTS:
        return []
    with scope(organization=event.organization), transaction.atomic():
        deal_id = (event.properties or {}).get("deal_id")
        deal = Deal.objects.select_related("owner").filter(pk=deal_id).first() if isinstance(deal_id, int) else None
        if deal is None:  # deleted meanwhile
            return []
        stage = _stage_of(event, deal)
        if stage is None:
            return []
        rules = list(FollowUpRule.objects.filter(stage=stage, is_active=True).order_by("days_after", "id"))
        tz = user_tz(deal.owner)
        created = []
        for rule in rules:
            activity = create_from_rule(
                organization=event.organization,
                rule=rule,
                deal=deal,
                due_at=follow_up_due_at(entered_at=event.occurred_at, days_after=rule.days_after, tz=tz),
                source_key=f"follow-up:{rule.pk}:{event.pk}",
            )
            if activity is not None:
                created.append(activity)
        if created:
            logger.info("follow-up rules created %s activities for deal %s", len(created), deal.pk)
        return created
