"""Writes of the exchange-rate table: how many units of the base currency one unit of another
currency is worth, from a day on. Totals across currencies read it (selectors.currency).

The base currency's rate is always 1 and is not stored. Managed by owners, admins and managers.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.validation import Errors, add_error, clean_currency, clean_date, clean_decimal, reject_unknown
from vinculo.sales.models import ExchangeRate
from vinculo.sales.services.pipelines import require_pipeline_admin

RATE_FIELDS = ("currency", "rate", "valid_from")
MIN_RATE = Decimal("0.00000001")
MAX_RATE = Decimal("9999999999.99999999")


def _snapshot(rate: ExchangeRate) -> dict[str, Any]:
    return snapshot(rate, list(RATE_FIELDS))


def _apply(actor: Membership, rate: ExchangeRate, data: Mapping[str, Any], errors: Errors) -> None:
    reject_unknown(data, RATE_FIELDS, errors)
    creating = rate.pk is None
    if "currency" in data or creating:
        currency = clean_currency(data.get("currency"), "currency", errors)
        if currency is not None and currency == actor.organization.base_currency:
            add_error(
                errors,
                "currency",
                _("%(code)s is the base currency: its rate is always 1.") % {"code": currency},
            )
        elif currency is not None:
            rate.currency = currency
    if "rate" in data or creating:
        value = data.get("rate")
        if value in (None, ""):
            add_error(errors, "rate", _("This field is required."))
        elif isinstance(value, float):
            add_error(errors, "rate", _('Enter the rate as a decimal string, e.g. "1.0825".'))
        else:
            number = clean_decimal(value, "rate", errors, places=8, minimum=MIN_RATE, maximum=MAX_RATE)
            if number is not None:
                rate.rate = number
    if "valid_from" in data or creating:
        day = clean_date(data.get("valid_from"), "valid_from", errors)
        if day is None and "valid_from" not in errors:
            add_error(errors, "valid_from", _("This field is required."))
        elif day is not None:
            rate.valid_from = day
    if not errors:
        clash = ExchangeRate.objects.filter(currency=rate.currency, valid_from=rate.valid_from)
        if rate.pk is not None:
            clash = clash.exclude(pk=rate.pk)
        if clash.exists():
            add_error(errors, "valid_from", _("There is already a rate for this currency from this day."))


@transaction.atomic
def exchange_rate_create(*, actor: Membership, data: Mapping[str, Any]) -> ExchangeRate:
    require_pipeline_admin(actor)
    rate = ExchangeRate(organization=actor.organization)
    errors: Errors = {}
    _apply(actor, rate, data, errors)
    if errors:
        raise ValidationError(errors)
    rate.save()
    audit_create(instance=rate, actor=actor.user, values=_snapshot(rate), organization=actor.organization)
    return rate


@transaction.atomic
def exchange_rate_update(*, actor: Membership, rate: ExchangeRate, data: Mapping[str, Any]) -> ExchangeRate:
    require_pipeline_admin(actor)
    rate = ExchangeRate.objects.select_for_update().get(pk=rate.pk)
    before = _snapshot(rate)
    errors: Errors = {}
    _apply(actor, rate, data, errors)
    if errors:
        raise ValidationError(errors)
    rate.save()
    audit_update(
        instance=rate, actor=actor.user, changes=diff(before, _snapshot(rate)), organization=actor.organization
    )
    return rate


@transaction.atomic
def exchange_rate_delete(*, actor: Membership, rate: ExchangeRate) -> None:
    require_pipeline_admin(actor)
    audit_delete(instance=rate, actor=actor.user, values=_snapshot(rate), organization=actor.organization)
    rate.delete()
