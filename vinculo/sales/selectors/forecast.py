"""The sales forecast: for a range of months or quarters, per rep, team or pipeline, what was won,
what is committed, the best case, the weighted pipeline, the quota and the attainment, all in the
organisation's base currency.

- won: deals won (status won) whose `closed_at` falls in the period, less what was refunded on
  their orders (selectors.revenue);
- commit: open deals in the "commit" forecast category expected to close in the period;
- best case: commit plus the open "best case" deals;
- weighted: Σ amount × probability / 100 of the open deals expected to close in the period
  (deals whose forecast category is "omitted" are left out, as the category says);
- quota: the reps' quotas for the period (a month without its own quota gets a third of its
  quarter's; a quarter without its own quota gets the sum of its months'); attainment = won / quota.

Everything is summed in SQL, grouped by (owner or pipeline, month or quarter, currency): two
queries whatever the number of deals, then one conversion per currency (selectors.currency).
The month or quarter of a deal is a CASE over the period's bucket boundaries, computed here as
instants in the organisation's time zone (daylight saving included): plain comparisons that both
SQLite and PostgreSQL evaluate natively, where Trunc* with a time zone calls a Python function per
row on SQLite.
Team figures fold the per-owner rows into each owner's teams (a rep in two teams counts in both;
the total counts every deal once). Amounts are converted at the rates valid on the last day of
the period, or today for a period that has not ended; a currency without a rate is left out and
reported in `missing_rates`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, DateField, DecimalField, F, Sum, Value, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from vinculo.accounts.models import Organization, Team, User
from vinculo.core.validation import date_range_message, in_date_range
from vinculo.sales.models import Deal, DealStatus, ForecastCategory, Pipeline, Quota
from vinculo.sales.selectors.currency import CENT, rates_on, to_base
from vinculo.sales.selectors.revenue import won_deal_refunds

PERIODS = ("month", "quarter")
FORECAST_GROUPS = ("owner", "team", "pipeline")
MAX_BUCKETS = 36  # months (or quarters) in one report
METRICS = ("won", "commit", "best_case", "weighted")
Sums = dict[str, dict[str, Decimal]]  # metric -> currency -> amount


# --- the period range and grouping, parsed from a query string -------------------------------------


@dataclass(frozen=True)
class ReportParams:
    start: dt.date
    end: dt.date
    period: str
    group_by: str


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def bucket_start(day: dt.date, period: str) -> dt.date:
    return quarter_start(day) if period == "quarter" else day.replace(day=1)


def next_bucket(day: dt.date, period: str) -> dt.date:
    months = 3 if period == "quarter" else 1
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def buckets_between(start: dt.date, end: dt.date, period: str) -> list[dt.date]:
    days = []
    day = bucket_start(start, period)
    while day <= end:
        days.append(day)
        day = next_bucket(day, period)
    return days


def _parse_day(value: str, *, end: bool) -> tuple[dt.date | None, str]:
    """YYYY-MM-DD, or YYYY-MM (the month's first day, or its last for an end), from 1900 to 2200;
    else None and the error."""
    value = value.strip()
    try:
        day = dt.date.fromisoformat(value + "-01" if len(value) == 7 else value)
    except ValueError:
        return None, _("Enter a date as YYYY-MM-DD.")
    if not in_date_range(day):
        return None, date_range_message()
    if len(value) == 7 and end:
        day = next_bucket(day, "month") - dt.timedelta(days=1)
    return day, ""


def parse_report_params(
    params: Mapping[str, Any], *, groups: Iterable[str], default_group: str, today: dt.date | None = None
) -> ReportParams:
    """start, end (this quarter by default), period (month or quarter) and group_by from a query
    string. The range is widened to whole periods. Raises ValidationError with field errors."""
    groups = tuple(groups)
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    period = (params.get("period") or "month").strip()
    if period not in PERIODS:
        errors["period"] = [_("Choose one of %(expected)s.") % {"expected": ", ".join(PERIODS)}]
        period = "month"
    group_by = (params.get("group_by") or default_group).strip()
    if group_by not in groups:
        errors["group_by"] = [_("Choose one of %(expected)s.") % {"expected": ", ".join(groups)}]
    start = quarter_start(today)
    end = next_bucket(start, "quarter") - dt.timedelta(days=1)
    for name in ("start", "end"):
        raw = params.get(name)
        if raw in (None, ""):
            continue
        day, error = _parse_day(str(raw)[:20], end=name == "end")
        if day is None:
            errors[name] = [error]
        elif name == "start":
            start = day
        else:
            end = day
    if "start" not in errors and "end" not in errors:
        if end < start:
            errors["end"] = [_("The end of the period cannot be before its start.")]
        else:
            start = bucket_start(start, period)
            end = next_bucket(bucket_start(end, period), period) - dt.timedelta(days=1)
            if len(buckets_between(start, end, period)) > MAX_BUCKETS:
                errors["end"] = [_("At most %(n)s months or quarters at once.") % {"n": MAX_BUCKETS}]
    if errors:
        raise ValidationError(errors)
    return ReportParams(start=start, end=end, period=period, group_by=group_by)


def bucket_label(day: dt.date, period: str) -> str:
    if period == "quarter":
        return _("Q%(n)s %(year)s") % {"n": (day.month - 1) // 3 + 1, "year": day.year}
    return date_format(day, "M Y")


def period_bounds(organization: Organization, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime, Any]:
    """[start, end] as aware datetimes [from, to) in the organisation's time zone, and the zone."""
    try:
        tz: Any = zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return since, until, tz


def as_day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def rates_for(organization: Organization, end: dt.date) -> dict[str, Decimal]:
    return rates_on(organization=organization, day=min(end, timezone.localdate()))


# --- results -----------------------------------------------------------------------------------------


@dataclass
class Figures:
    won: Decimal = Decimal("0.00")
    commit: Decimal = Decimal("0.00")
    best_case: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")
    quota: Decimal | None = None
    attainment: Decimal | None = None  # won / quota in %, one decimal


@dataclass
class ForecastRow:
    key: int | None
    label: str
    figures: Figures


@dataclass
class ForecastBucket:
    starts_on: dt.date
    label: str
    figures: Figures


@dataclass
class Forecast:
    params: ReportParams
    currency: str
    rows: list[ForecastRow]
    buckets: list[ForecastBucket]
    total: Figures
    missing_rates: list[str] = field(default_factory=list)


def _empty() -> Sums:
    return {metric: defaultdict(Decimal) for metric in METRICS}


def _add(sums: Sums, metric: str, currency: str, amount: Decimal | None) -> None:
    if amount:
        sums[metric][currency] += amount


def _attainment(won: Decimal, quota: Decimal | None) -> Decimal | None:
    if not quota:
        return None
    return (won * 100 / quota).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def _figures(sums: Sums, rates: Mapping[str, Decimal], missing: set[str], quota: Decimal | None) -> Figures:
    converted = {}
    for metric in METRICS:
        total = to_base(sums[metric], rates)
        missing.update(total.missing_rates)
        converted[metric] = total.amount
    return Figures(**converted, quota=quota, attainment=_attainment(converted["won"], quota))


def bucket_expression(field_name: str, buckets: list[dt.date], uppers: list[Any]) -> Case:
    """The bucket (its first day) of `field_name`, for rows already limited to [first bucket, last
    upper): nested `CASE WHEN field < upper THEN … ELSE … END` halving the buckets at each level, so
    that a row costs about log₂(buckets) comparisons (4 for a year by month) rather than up to one
    per bucket."""
    if len(buckets) == 1:
        return Case(default=Value(buckets[0]), output_field=DateField())
    half = len(buckets) // 2
    return Case(
        When(
            **{f"{field_name}__lt": uppers[half - 1]}, then=bucket_expression(field_name, buckets[:half], uppers[:half])
        ),
        default=bucket_expression(field_name, buckets[half:], uppers[half:]),
        output_field=DateField(),
    )


def _deal_sums(
    params: ReportParams, organization: Organization, key: str
) -> list[tuple[Any, dt.date, str, str, Decimal]]:
    """(group key, bucket, metric, currency, amount) rows: two GROUP BY queries."""
    since, until, tz = period_bounds(organization, params.start, params.end)
    buckets = buckets_between(params.start, params.end, params.period)
    following = [next_bucket(day, params.period) for day in buckets]
    instants = [dt.datetime.combine(day, dt.time.min, tzinfo=tz) for day in following]
    won = (
        Deal.objects.filter(status=DealStatus.WON, closed_at__gte=since, closed_at__lt=until)
        .annotate(bucket=bucket_expression("closed_at", buckets, instants))
        .values(key, "bucket", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    rows: list[tuple[Any, dt.date, str, str, Decimal]] = [
        (r[key], as_day(r["bucket"]), "won", r["currency"], r["total"]) for r in won
    ]
    # won revenue is net of what was refunded on the deals' orders
    refunds = (
        won_deal_refunds(since=since, until=until)
        .annotate(bucket=bucket_expression("deal__closed_at", buckets, instants))
        .values(f"deal__{key}", "bucket", "currency")
        .annotate(total=Sum("refunded_total"))
        .order_by()
    )
    rows.extend((r[f"deal__{key}"], as_day(r["bucket"]), "won", r["currency"], -r["total"]) for r in refunds)
    weighted_field = DecimalField(max_digits=20, decimal_places=2)
    open_deals = (
        Deal.objects.filter(
            status=DealStatus.OPEN, expected_close_date__gte=params.start, expected_close_date__lte=params.end
        )
        .exclude(forecast_category=ForecastCategory.OMITTED)
        .annotate(bucket=bucket_expression("expected_close_date", buckets, following))
        .values(key, "bucket", "currency", "forecast_category")
        .annotate(total=Sum("amount"), weighted=Sum(F("amount") * F("probability"), output_field=weighted_field))
        .order_by()
    )
    for r in open_deals:
        bucket, currency, category = as_day(r["bucket"]), r["currency"], r["forecast_category"]
        rows.append((r[key], bucket, "weighted", currency, (r["weighted"] or Decimal(0)) / 100))
        if category == ForecastCategory.COMMIT:
            rows.append((r[key], bucket, "commit", currency, r["total"]))
            rows.append((r[key], bucket, "best_case", currency, r["total"]))
        elif category == ForecastCategory.BEST_CASE:
            rows.append((r[key], bucket, "best_case", currency, r["total"]))
    return rows


def quotas_by_user(params: ReportParams) -> dict[int, dict[dt.date, Decimal]]:
    """user id -> bucket -> quota, following the month/quarter rule in the module docstring."""
    monthly: dict[int, dict[dt.date, Decimal]] = defaultdict(dict)
    quarterly: dict[int, dict[dt.date, Decimal]] = defaultdict(dict)
    rows = Quota.objects.filter(starts_on__gte=quarter_start(params.start), starts_on__lte=params.end).values_list(
        "user_id", "period", "starts_on", "amount"
    )
    for user_id, period, starts_on, amount in rows:
        (quarterly if period == Quota.Period.QUARTER else monthly)[user_id][starts_on] = amount
    result: dict[int, dict[dt.date, Decimal]] = defaultdict(dict)
    for user_id in set(monthly) | set(quarterly):
        for bucket in buckets_between(params.start, params.end, params.period):
            if params.period == "quarter":
                if bucket in quarterly[user_id]:
                    value: Decimal | None = quarterly[user_id][bucket]
                else:
                    months = [
                        monthly[user_id].get(m)
                        for m in buckets_between(bucket, next_bucket(bucket, "quarter") - dt.timedelta(days=1), "month")
                    ]
                    value = (
                        sum((m for m in months if m is not None), Decimal(0))
                        if any(m is not None for m in months)
                        else None
                    )
            elif bucket in monthly[user_id]:
                value = monthly[user_id][bucket]
            elif quarter_start(bucket) in quarterly[user_id]:
                value = (quarterly[user_id][quarter_start(bucket)] / 3).quantize(CENT, rounding=ROUND_HALF_EVEN)
            else:
                value = None
            if value is not None:
                result[user_id][bucket] = value
    return result


def _team_memberships(organization: Organization) -> tuple[dict[int, list[int]], dict[int, str]]:
    """owner user id -> team ids, and team id -> name."""
    through = Team.members.through
    pairs = through.objects.filter(team__organization=organization).values_list("membership__user_id", "team_id")
    teams_of: dict[int, list[int]] = defaultdict(list)
    for user_id, team_id in pairs:
        teams_of[user_id].append(team_id)
    names = dict(Team.objects.values_list("id", "name"))
    return teams_of, names


def forecast(*, organization: Organization, params: ReportParams) -> Forecast:
    """The forecast figures per group and per month/quarter (see the module docstring)."""
    key = "pipeline_id" if params.group_by == "pipeline" else "owner_id"
    rows = _deal_sums(params, organization, key)
    quotas = quotas_by_user(params)
    rates = rates_for(organization, params.end)
    teams_of: dict[int, list[int]] = {}
    team_names: dict[int, str] = {}
    if params.group_by == "team":
        teams_of, team_names = _team_memberships(organization)

    def groups_of(owner_or_pipeline: Any) -> list[Any]:
        if params.group_by != "team":
            return [owner_or_pipeline]
        return teams_of.get(owner_or_pipeline, []) or [None]

    by_group: dict[Any, Sums] = defaultdict(_empty)
    by_bucket: dict[dt.date, Sums] = defaultdict(_empty)
    total = _empty()
    for group_key, bucket, metric, currency, amount in rows:
        for group in groups_of(group_key):
            _add(by_group[group], metric, currency, amount)
        _add(by_bucket[bucket], metric, currency, amount)
        _add(total, metric, currency, amount)

    quota_of_group: dict[Any, Decimal] = defaultdict(Decimal)
    quota_of_bucket: dict[dt.date, Decimal] = defaultdict(Decimal)
    for user_id, per_bucket in quotas.items():
        amount = sum(per_bucket.values(), Decimal(0))
        if params.group_by == "owner":
            quota_of_group[user_id] += amount
        elif params.group_by == "team":
            for team_id in teams_of.get(user_id, []):
                quota_of_group[team_id] += amount
        for bucket, value in per_bucket.items():
            quota_of_bucket[bucket] += value
    for group in quota_of_group:
        by_group.setdefault(group, _empty())

    labels = _labels(params.group_by, [g for g in by_group if g is not None], team_names)
    missing: set[str] = set()
    has_quota = params.group_by != "pipeline"
    result_rows = [
        ForecastRow(
            key=group,
            label=labels.get(group, "") if group is not None else _none_label(params.group_by),
            figures=_figures(sums, rates, missing, quota_of_group.get(group) if has_quota else None),
        )
        for group, sums in by_group.items()
    ]
    result_rows.sort(key=lambda row: (row.key is None, row.label.casefold(), row.key or 0))
    all_quotas = sum(quota_of_bucket.values(), Decimal(0)) if quotas else None
    buckets = [
        ForecastBucket(
            starts_on=day,
            label=bucket_label(day, params.period),
            figures=_figures(by_bucket[day], rates, missing, quota_of_bucket.get(day) if quotas else None),
        )
        for day in buckets_between(params.start, params.end, params.period)
    ]
    return Forecast(
        params=params,
        currency=organization.base_currency,
        rows=result_rows,
        buckets=buckets,
        total=_figures(total, rates, missing, all_quotas),
        missing_rates=sorted(missing),
    )


def _none_label(group_by: str) -> str:
    return _("No team") if group_by == "team" else _("Unassigned")


def _labels(group_by: str, keys: list[Any], team_names: Mapping[int, str]) -> dict[Any, str]:
    if group_by == "pipeline":
        return dict(Pipeline.objects.filter(pk__in=keys).values_list("id", "name"))
    if group_by == "team":
        return {k: team_names.get(k, "") for k in keys}
    return {user.pk: str(user) for user in User.objects.filter(pk__in=keys).only("id", "full_name", "email")}
