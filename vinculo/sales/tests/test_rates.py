"""Exchange rates: managed by managers, the base currency is always 1, totals say what they left out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scope

from vinculo.core.models import AuditEntry
from vinculo.sales.models import ExchangeRate
from vinculo.sales.selectors.deals import DealFilters, board_summaries
from vinculo.sales.services.rates import exchange_rate_create, exchange_rate_delete, exchange_rate_update
from vinculo.sales.testing import make_deal, make_pipeline, stage_named


def test_a_rate_is_stored_from_a_day_on_and_audited(actor):
    with scope(organization=actor.organization):
        rate = exchange_rate_create(
            actor=actor, data={"currency": "usd", "rate": "0.92500000", "valid_from": "2026-01-01"}
        )
    assert (rate.currency, rate.rate, rate.valid_from) == ("USD", Decimal("0.925"), dt.date(2026, 1, 1))
    audit = AuditEntry.dangerously_unscoped.get(object_type="sales.exchangerate")
    assert audit.changes == {
        "currency": [None, "USD"],
        "rate": [None, "0.92500000"],
        "valid_from": [None, "2026-01-01"],
    }


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"currency": "EUR", "rate": "1", "valid_from": "2026-01-01"},
            {"currency": ["EUR is the base currency: its rate is always 1."]},
        ),
        (
            {"currency": "XYZ", "rate": "1", "valid_from": "2026-01-01"},
            {"currency": ["Enter an ISO 4217 currency code, e.g. EUR."]},
        ),
        ({"currency": "USD", "rate": "0", "valid_from": "2026-01-01"}, {"rate": ["Must be at least 1E-8."]}),
        ({"currency": "USD", "rate": "-1.5", "valid_from": "2026-01-01"}, {"rate": ["Must be at least 1E-8."]}),
        ({"currency": "USD", "rate": "abc", "valid_from": "2026-01-01"}, {"rate": ["Enter a number."]}),
        (
            {"currency": "USD", "rate": 0.9, "valid_from": "2026-01-01"},
            {"rate": ['Enter the rate as a decimal string, e.g. "1.0825".']},
        ),
        ({"currency": "USD", "rate": "0.9", "valid_from": "someday"}, {"valid_from": ["Enter a date as YYYY-MM-DD."]}),
        ({"currency": "USD", "rate": "0.9"}, {"valid_from": ["This field is required."]}),
        (
            {"currency": "USD", "rate": "0.9", "valid_from": "2026-01-01", "source": "ECB"},
            {"source": ["Unknown field."]},
        ),
    ],
)
def test_bad_rates_are_refused_and_nothing_is_saved(actor, data, errors):
    with scope(organization=actor.organization), pytest.raises(ValidationError) as exc:
        exchange_rate_create(actor=actor, data=data)
    assert exc.value.message_dict == errors
    assert ExchangeRate.dangerously_unscoped.count() == 0


def test_one_rate_per_currency_and_day(actor):
    with scope(organization=actor.organization):
        first = exchange_rate_create(actor=actor, data={"currency": "USD", "rate": "0.9", "valid_from": "2026-01-01"})
        second = exchange_rate_create(actor=actor, data={"currency": "USD", "rate": "0.95", "valid_from": "2026-02-01"})
        with pytest.raises(ValidationError) as exc:
            exchange_rate_update(actor=actor, rate=second, data={"valid_from": "2026-01-01"})
        assert exc.value.message_dict == {"valid_from": ["There is already a rate for this currency from this day."]}
        exchange_rate_update(actor=actor, rate=first, data={"rate": "0.91"})
        exchange_rate_delete(actor=actor, rate=second)
    assert list(ExchangeRate.dangerously_unscoped.values_list("currency", "rate")) == [("USD", Decimal("0.91"))]


def test_only_managers_change_rates(actor, member):
    rep = member(role="sales")
    with scope(organization=actor.organization), pytest.raises(PermissionDenied):
        exchange_rate_create(actor=rep, data={"currency": "USD", "rate": "0.9", "valid_from": "2026-01-01"})
    assert ExchangeRate.dangerously_unscoped.count() == 0


def test_board_totals_convert_with_the_latest_rate_and_name_missing_ones(actor):
    pipeline = make_pipeline(actor.organization)
    make_deal(actor, amount="1000.00")
    make_deal(actor, amount="100.00", currency="USD")
    make_deal(actor, amount="50.00", currency="GBP")
    with scope(organization=actor.organization):
        exchange_rate_create(actor=actor, data={"currency": "USD", "rate": "0.5", "valid_from": "2020-01-01"})
        exchange_rate_create(actor=actor, data={"currency": "USD", "rate": "0.9", "valid_from": "2021-01-01"})
        summary = board_summaries(actor=actor, pipeline=pipeline, filters=DealFilters())
    column = summary[stage_named(pipeline, "Qualification").pk]
    assert column.count == 3
    assert (column.total.amount, column.total.missing_rates) == (Decimal("1090.00"), ["GBP"])
    assert (column.weighted.amount, column.weighted.missing_rates) == (Decimal("109.00"), ["GBP"])
