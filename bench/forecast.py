"""Issue 3 (Sales): the forecast page at 100,000 deals, server time through the whole Django stack
(middleware, view, selector, template), median and p95, and beside it the raw SQL of its main
aggregate (the open deals grouped by owner, month, currency and category) on a cursor.

- forecast.page: this quarter, by month and rep (the page's default);
- forecast.page.year: the whole year, by quarter and pipeline;
- forecast.raw_sql: the main aggregate of the year's forecast, on a plain cursor.
Target on SQLite: ≤ 500 ms median.

The deals are added to the bench organisation (slug "bench") the first time, in a pipeline
"Bench forecast": spread over 24 months (18 back, 6 ahead), four owners or more, every forecast
category, EUR and USD with an exchange rate, quotas for every owner. Only what is missing is
created, so a second run starts measuring at once.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django_scopes import scope

from bench.harness import Context, bench_member, captured_sql, emit, ensure_pipeline, note, raw_sql

DEALS = 100_000
BATCH = 5_000
PIPELINE = "Bench forecast"
OPEN_CATEGORIES = ["pipeline", "pipeline", "best_case", "commit", "omitted"]


def _month_start(day: dt.date, months_back: int) -> dt.date:
    month = day.year * 12 + day.month - 1 - months_back
    return dt.date(month // 12, month % 12 + 1, 1)


def ensure_deals(org: Any, target: int = DEALS) -> int:
    """Create the missing forecast deals (idempotent: counts what is there first). Returns how many exist."""
    from vinculo.accounts.models import Membership
    from vinculo.sales.models import Deal, ExchangeRate, Quota

    pipeline, stage_list = ensure_pipeline(org, PIPELINE)
    stages = {stage.name: stage for stage in stage_list}
    ExchangeRate.objects.get_or_create(
        organization=org, currency="USD", valid_from=dt.date(2020, 1, 1), defaults={"rate": Decimal("0.92")}
    )
    owners = list(Membership.objects.filter(organization=org).values_list("user_id", flat=True).order_by("user_id"))
    today = dt.date.today()
    first_month = _month_start(today, 18)
    quotas = [
        Quota(organization=org, user_id=user_id, period="month", starts_on=_month_start(today, back), amount=50_000)
        for user_id in owners
        for back in range(-6, 19)
    ]
    Quota.objects.bulk_create(quotas, ignore_conflicts=True)
    existing = Deal.objects.filter(pipeline=pipeline).count()
    missing = target - existing
    if missing <= 0:
        return existing
    started = time.monotonic()
    rng = random.Random(4200 + existing)
    base = org.base_currency
    tz = dt.UTC
    made = 0
    while made < missing:
        batch = []
        for i in range(min(BATCH, missing - made)):
            n = existing + made + i
            created = first_month + dt.timedelta(days=rng.randrange(0, 730))
            roll = rng.random()
            amount = Decimal(rng.randrange(500, 5_000_000)) / 100
            currency = base if rng.random() < 0.7 else "USD"
            fields: dict[str, Any] = {
                "organization": org,
                "title": f"Bench deal {n}",
                "pipeline": pipeline,
                "amount": amount,
                "currency": currency,
                "owner_id": owners[n % len(owners)] if owners and rng.random() < 0.97 else None,
                "created_at": dt.datetime.combine(created, dt.time(9, rng.randrange(60)), tzinfo=tz),
                "position": n,
            }
            closes = created + dt.timedelta(days=rng.randrange(5, 120))
            if roll < 0.35 and closes <= today:
                stage = stages["Won"]
                fields.update(status="won", probability=100, forecast_category="closed")
                fields["closed_at"] = dt.datetime.combine(closes, dt.time(16), tzinfo=tz)
            elif roll < 0.6 and closes <= today:
                stage = stages["Lost"]
                fields.update(status="lost", probability=0, forecast_category="omitted")
                fields["closed_at"] = dt.datetime.combine(closes, dt.time(16), tzinfo=tz)
            else:
                stage = stages[rng.choice(["Qualification", "Proposal", "Negotiation"])]
                fields.update(
                    status="open", probability=stage.probability, forecast_category=rng.choice(OPEN_CATEGORIES)
                )
                fields["expected_close_date"] = max(closes, today - dt.timedelta(days=rng.randrange(0, 60)))
            batch.append(Deal(stage=stage, expected_close_date=fields.pop("expected_close_date", closes), **fields))
        with transaction.atomic():
            Deal.objects.bulk_create(batch, batch_size=1000)
        made += len(batch)
    note(f"created {made:,} forecast deals in {time.monotonic() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sales_deal")  # the planner's statistics for the new rows
    return existing + made


def run(ctx: Context) -> None:
    org, actor = bench_member()
    with scope(organization=org):
        total = ensure_deals(org)
    note(f"organisation {org.slug}: {total:,} deals in the pipeline “{PIPELINE}”")

    page = Client()
    page.force_login(actor.user)
    base = f"/o/{org.slug}/sales/forecast/"
    year = dt.date.today().year
    ctx.request("forecast.page", page, base)
    year_url = f"{base}?start={year}-01-01&end={year}-12-31&period=quarter&group_by=pipeline"
    ctx.request("forecast.page.year", page, year_url)

    # the raw SQL floor: the main aggregate (open deals by group, bucket, currency and category)
    queries = captured_sql(lambda: page.get(year_url))
    main = next(
        ((sql, params) for sql, params in queries if '"sales_deal"' in sql and "expected_close_date" in sql), None
    )
    if main is None:
        note("forecast.raw_sql: the main aggregate was not found; not measured")
        return
    samples = ctx.time_ms(lambda: raw_sql(*main))
    ctx.report_ms("forecast.raw_sql", samples)
    emit("forecast.deals", total, "deals")
