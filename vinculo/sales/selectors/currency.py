"""Amounts in the organisation's base currency, through its exchange-rate table.

Sums are taken per currency in SQL and converted afterwards (one rate per currency), so a total
over 100,000 deals is a GROUP BY, not 100,000 conversions. A currency without a rate is reported,
never silently counted as 1:1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from django.utils import timezone

from vinculo.accounts.models import Organization
from vinculo.sales.models import ExchangeRate

CENT = Decimal("0.01")


def rates_on(*, organization: Organization, day: dt.date | None = None) -> dict[str, Decimal]:
    """currency → units of base currency per unit, the latest rate valid on `day` (today by default).

    Must run inside the organisation's scope. The base currency is always 1.
    """
    day = day or timezone.localdate()
    rates: dict[str, Decimal] = {}
    for currency, rate in (
        ExchangeRate.objects.filter(valid_from__lte=day)
        .order_by("currency", "-valid_from", "-id")
        .values_list("currency", "rate")
    ):
        rates.setdefault(currency, rate)
    rates[organization.base_currency] = Decimal(1)
    return rates


@dataclass
class BaseTotal:
    """A sum converted to the base currency; `missing_rates` lists currencies left out for want of a rate."""

    amount: Decimal = Decimal("0.00")
    missing_rates: list[str] = field(default_factory=list)


def to_base(
    sums: Mapping[str, Decimal | None] | Iterable[tuple[str, Decimal | None]], rates: Mapping[str, Decimal]
) -> BaseTotal:
    """Convert `{currency: sum}` (or (currency, sum) pairs) to one base-currency total, rounded once."""
    pairs = sums.items() if isinstance(sums, Mapping) else sums
    total = Decimal(0)
    missing: list[str] = []
    for currency, amount in pairs:
        if amount is None:
            continue
        rate = rates.get(currency)
        if rate is None:
            if amount and currency not in missing:
                missing.append(currency)
            continue
        total += amount * rate
    return BaseTotal(amount=total.quantize(CENT, rounding=ROUND_HALF_EVEN), missing_rates=sorted(missing))
