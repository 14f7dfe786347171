"""Quotas: a rep's revenue target per month or quarter, in the organisation's base currency.

A quota is keyed by (rep, period, first day of the period), so setting one is an upsert; an empty
amount in the grid removes it. Only owners, admins and managers set quotas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership, User
from vinculo.accounts.permissions import require_manager
from vinculo.contacts.services import clean_member
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.validation import Errors, add_error, clean_date, clean_money, reject_unknown
from vinculo.sales.models import Quota

QUOTA_FIELDS = ("user", "period", "starts_on", "amount")


def period_start(day: dt.date, period: str) -> dt.date:
    """The first day of the month or quarter containing `day`."""
    if period == Quota.Period.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day.replace(day=1)


def _clean_quota(actor: Membership, data: Mapping[str, Any], errors: Errors, prefix: str = "") -> dict[str, Any]:
    """{"user", "period", "starts_on", "amount"} checked; errors under `prefix` + field name."""
    for key in set(data) - set(QUOTA_FIELDS):
        add_error(errors, prefix + key, _("Unknown field."))
    cleaned: dict[str, Any] = {}
    if data.get("user") in (None, ""):
        add_error(errors, prefix + "user", _("This field is required."))
    else:
        cleaned["user"] = clean_member(actor, data.get("user"), prefix + "user", errors)
    period = data.get("period") or Quota.Period.MONTH
    if period not in Quota.Period.values:
        add_error(errors, prefix + "period", _("Choose one of %(expected)s.") % {"expected": "month, quarter"})
    cleaned["period"] = period
    starts_on = clean_date(data.get("starts_on"), prefix + "starts_on", errors)
    if starts_on is None and prefix + "starts_on" not in errors:
        add_error(errors, prefix + "starts_on", _("This field is required."))
    elif starts_on is not None and period in Quota.Period.values and starts_on != period_start(starts_on, period):
        message = (
            _("A quarter starts on 1 January, April, July or October.")
            if period == Quota.Period.QUARTER
            else _("A month starts on its first day.")
        )
        add_error(errors, prefix + "starts_on", message)
    cleaned["starts_on"] = starts_on
    if data.get("amount") in (None, ""):
        add_error(errors, prefix + "amount", _("This field is required."))
    else:
        cleaned["amount"] = clean_money(data.get("amount"), prefix + "amount", errors)
    return cleaned


def _save(actor: Membership, user: User, period: str, starts_on: dt.date, amount: Decimal) -> Quota:
    quota, created = Quota.objects.select_for_update().get_or_create(
        organization=actor.organization, user=user, period=period, starts_on=starts_on, defaults={"amount": amount}
    )
    if created:
        audit_create(
            instance=quota,
            actor=actor.user,
            values=snapshot(quota, list(QUOTA_FIELDS)),
            organization=actor.organization,
        )
    elif quota.amount != amount:
        before = snapshot(quota, list(QUOTA_FIELDS))
        quota.amount = amount
        quota.save(update_fields=["amount", "updated_at"])
        audit_update(
            instance=quota,
            actor=actor.user,
            changes=diff(before, snapshot(quota, list(QUOTA_FIELDS))),
            organization=actor.organization,
        )
    return quota


@transaction.atomic
def quota_set(*, actor: Membership, data: Mapping[str, Any]) -> Quota:
    """Create or change the quota of a rep for a period (upsert on rep, period, first day)."""
    require_manager(actor)
    errors: Errors = {}
    cleaned = _clean_quota(actor, data, errors)
    if errors:
        raise ValidationError(errors)
    return _save(actor, cleaned["user"], cleaned["period"], cleaned["starts_on"], cleaned["amount"])


@transaction.atomic
def quota_update(*, actor: Membership, quota: Quota, data: Mapping[str, Any]) -> Quota:
    """Change the amount of a quota (the rep and the period name the quota; they do not change)."""
    require_manager(actor)
    errors: Errors = {}
    reject_unknown(data, ("amount",), errors)
    amount = None
    if "amount" in data:
        amount = clean_money(data["amount"], "amount", errors)
    if errors:
        raise ValidationError(errors)
    if amount is None:
        return quota
    return _save(actor, quota.user, quota.period, quota.starts_on, amount)


@transaction.atomic
def quota_delete(*, actor: Membership, quota: Quota) -> None:
    require_manager(actor)
    audit_delete(
        instance=quota, actor=actor.user, values=snapshot(quota, list(QUOTA_FIELDS)), organization=actor.organization
    )
    quota.delete()


@transaction.atomic
def quota_grid_save(*, actor: Membership, period: str, cells: Sequence[tuple[Any, Any, Any]]) -> int:
    """Save a grid of (user id, first day, amount) cells at once: all or nothing.

    An empty amount removes that quota. Errors are keyed `<user>-<YYYY-MM-DD>`, the cell's name.
    Returns how many quotas were created, changed or removed.
    """
    require_manager(actor)
    errors: Errors = {}
    cleaned: list[tuple[str, dict[str, Any] | None, Any, Any]] = []
    for user_id, starts_on, amount in cells:
        key = f"{user_id}-{starts_on}"
        if amount in (None, ""):
            cleaned.append((key, None, user_id, starts_on))
            continue
        cell_errors: Errors = {}
        values: dict[str, Any] | None = _clean_quota(
            actor, {"user": user_id, "period": period, "starts_on": starts_on, "amount": amount}, cell_errors
        )
        for messages in cell_errors.values():
            for message in messages:
                add_error(errors, key, message)
        cleaned.append((key, values, user_id, starts_on))
    if errors:
        raise ValidationError(errors)
    changes = 0
    for _key, values, user_id, starts_on in cleaned:
        if values is None:
            day = clean_date(starts_on, "starts_on", {})
            existing = list(Quota.objects.filter(user_id=user_id, period=period, starts_on=day)) if day else []
            for quota in existing:
                quota_delete(actor=actor, quota=quota)
                changes += 1
            continue
        before = Quota.objects.filter(
            user=values["user"], period=period, starts_on=values["starts_on"], amount=values["amount"]
        ).exists()
        if not before:
            _save(actor, values["user"], period, values["starts_on"], values["amount"])
            changes += 1
    return changes
