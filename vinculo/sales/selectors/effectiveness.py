"""How well the sales team sells, for a range of months or quarters, by zone, product line, rep,
month or quarter:

- win rate: won / (won + lost) of the deals closed in the period, in %;
- revenue: the amount won less what was refunded on the won deals' orders, in the base currency;
  average deal size: revenue / deals won
  (deals in a currency without a rate are left out of both, and reported);
- sales cycle: the average number of days from a won deal's creation to its close;
- activities: the activities (tasks, calls, meetings) marked done in the period.

Two GROUP BY queries (closed deals; done activities) whatever the number of rows, then one
currency conversion per group.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum
from django.db.models.functions import TruncMonth, TruncQuarter
from django.utils.translation import gettext as _

from vinculo.accounts.models import Organization, User
from vinculo.sales.models import Activity, Deal, DealStatus, Zone
from vinculo.sales.selectors.currency import CENT, to_base
from vinculo.sales.selectors.forecast import (
    ReportParams,
    as_day,
    bucket_label,
    buckets_between,
    period_bounds,
    rates_for,
)
from vinculo.sales.selectors.revenue import won_deal_refunds

EFFECTIVENESS_GROUPS = ("owner", "zone", "product_line", "month", "quarter")
ONE_DECIMAL = Decimal("0.1")
SECONDS_PER_DAY = Decimal(86400)


@dataclass
class Effectiveness:
    won: int = 0
    lost: int = 0
    win_rate: Decimal | None = None  # %
    revenue: Decimal = Decimal("0.00")
    average_deal_size: Decimal | None = None
    cycle_days: Decimal | None = None
    activities: int = 0


@dataclass
class EffectivenessRow:
    key: Any
    label: str
    figures: Effectiveness


@dataclass
class EffectivenessReport:
    params: ReportParams
    currency: str
    rows: list[EffectivenessRow]
    total: Effectiveness
    missing_rates: list[str] = field(default_factory=list)


@dataclass
class _Acc:
    """What is summed per group before conversion."""

    won: int = 0
    lost: int = 0
    revenue: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    won_by_currency: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cycle: dt.timedelta = dt.timedelta(0)
    activities: int = 0

    def merge(self, other: _Acc) -> None:
        self.won += other.won
        self.lost += other.lost
        for currency, amount in other.revenue.items():
            self.revenue[currency] += amount
        for currency, n in other.won_by_currency.items():
            self.won_by_currency[currency] += n
        self.cycle += other.cycle
        self.activities += other.activities


def _deal_key(group_by: str, tz: Any, prefix: str = "") -> Any:
    """The deal's group (`prefix`: the path to the deal, for rows that belong to one)."""
    if group_by == "month":
        return TruncMonth(f"{prefix}closed_at", tzinfo=tz)
    if group_by == "quarter":
        return TruncQuarter(f"{prefix}closed_at", tzinfo=tz)
    return F(prefix + {"owner": "owner_id", "zone": "zone_id", "product_line": "product_line"}[group_by])


def _activity_key(group_by: str, tz: Any) -> Any:
    if group_by == "month":
        return TruncMonth("done_at", tzinfo=tz)
    if group_by == "quarter":
        return TruncQuarter("done_at", tzinfo=tz)
    return F({"owner": "assignee_id", "zone": "deal__zone_id", "product_line": "deal__product_line"}[group_by])


def _normal_key(group_by: str, value: Any) -> Any:
    if group_by in ("month", "quarter"):
        return as_day(value) if value is not None else None
    if group_by == "product_line":
        return value or None
    return value


def _finish(acc: _Acc, rates: Mapping[str, Decimal], missing: set[str]) -> Effectiveness:
    revenue = to_base(acc.revenue, rates)
    missing.update(revenue.missing_rates)
    counted = sum(n for currency, n in acc.won_by_currency.items() if currency in rates)
    closed = acc.won + acc.lost
    return Effectiveness(
        won=acc.won,
        lost=acc.lost,
        win_rate=(Decimal(acc.won * 100) / closed).quantize(ONE_DECIMAL, ROUND_HALF_EVEN) if closed else None,
        revenue=revenue.amount,
        average_deal_size=(revenue.amount / counted).quantize(CENT, ROUND_HALF_EVEN) if counted else None,
        cycle_days=(
            (Decimal(acc.cycle.total_seconds()) / SECONDS_PER_DAY / acc.won).quantize(ONE_DECIMAL, ROUND_HALF_EVEN)
            if acc.won
            else None
        ),
        activities=acc.activities,
    )


def effectiveness(*, organization: Organization, params: ReportParams) -> EffectivenessReport:
    """The effectiveness figures per group (see the module docstring)."""
    since, until, tz = period_bounds(organization, params.start, params.end)
    group_by = params.group_by
    cycle = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    deals = (
        Deal.objects.filter(status__in=[DealStatus.WON, DealStatus.LOST], closed_at__gte=since, closed_at__lt=until)
        .annotate(key=_deal_key(group_by, tz))
        .values("key", "status", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), cycle=Sum(cycle))
        .order_by()
    )
    groups: dict[Any, _Acc] = defaultdict(_Acc)
    for row in deals:
        acc = groups[_normal_key(group_by, row["key"])]
        if row["status"] == DealStatus.WON:
            acc.won += row["n"]
            acc.revenue[row["currency"]] += row["total"] or Decimal(0)
            acc.won_by_currency[row["currency"]] += row["n"]
            acc.cycle += row["cycle"] or dt.timedelta(0)
        else:
            acc.lost += row["n"]
    refunds = (
        won_deal_refunds(since=since, until=until)
        .annotate(key=_deal_key(group_by, tz, prefix="deal__"))
        .values("key", "currency")
        .annotate(total=Sum("refunded_total"))
        .order_by()
    )
    for refunded in refunds:  # revenue is net of what was refunded on the won deals' orders
        groups[_normal_key(group_by, refunded["key"])].revenue[refunded["currency"]] -= refunded["total"]
    activities = (
        Activity.objects.filter(done_at__gte=since, done_at__lt=until)
        .annotate(key=_activity_key(group_by, tz))
        .values("key")
        .annotate(n=Count("id"))
        .order_by()
    )
    for done in activities:
        groups[_normal_key(group_by, done["key"])].activities += done["n"]

    rates = rates_for(organization, params.end)
    missing: set[str] = set()
    total = _Acc()
    for acc in groups.values():
        total.merge(acc)
    if group_by in ("month", "quarter"):
        keys: list[Any] = buckets_between(params.start, params.end, group_by)
        labels = {day: bucket_label(day, group_by) for day in keys}
    else:
        keys = sorted(groups, key=lambda k: (k is None, str(k)))
        labels = _labels(group_by, [k for k in keys if k is not None])
        keys.sort(key=lambda k: (k is None, labels.get(k, "").casefold(), str(k)))
    rows = [
        EffectivenessRow(
            key=key,
            label=labels.get(key, "") if key is not None else _none_label(group_by),
            figures=_finish(groups.get(key) or _Acc(), rates, missing),
        )
        for key in keys
    ]
    return EffectivenessReport(
        params=params,
        currency=organization.base_currency,
        rows=rows,
        total=_finish(total, rates, missing),
        missing_rates=sorted(missing),
    )


def _none_label(group_by: str) -> str:
    return {
        "owner": _("Unassigned"),
        "zone": _("No zone"),
        "product_line": _("No product line"),
    }.get(group_by, "")


def _labels(group_by: str, keys: list[Any]) -> dict[Any, str]:
    if group_by == "owner":
        return {u.pk: str(u) for u in User.objects.filter(pk__in=keys).only("id", "full_name", "email")}
    if group_by == "zone":
        return dict(Zone.objects.filter(pk__in=keys).values_list("id", "name"))
    return {k: str(k) for k in keys}
