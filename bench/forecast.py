"""The forecast page at 100,000 deals, all inside the viewed year (the worst case): server time
through the whole Django stack (middleware, view, selector, template), median and p95, and beside
each the raw SQL of the same deal aggregates on a plain cursor (`.raw`).

- forecast.page: the year by month and rep (the page's default layout, widened to the year);
- forecast.page.year: the same year by quarter and pipeline;
- forecast.page.raw / forecast.page.year.raw: the page's deal aggregates (won, refunded on won deals,
  open) on a cursor.
Target: ≤ 100 ms median on SQLite and PostgreSQL.

The deals are placed relative to a fixed anchor year (YEAR), not today, so that the figure is the
same whatever day it runs: every won or lost deal closes in YEAR, every open deal is expected to
close in YEAR. They are added to the bench organisation (slug "bench") the first time, in a pipeline
"Bench forecast YEAR": four owners or more, every forecast category, EUR and USD with an exchange
rate, monthly quotas for every owner. Only what is missing is created, so a second run starts
measuring at once; deals of the earlier layout (pipeline "Bench forecast", spread over 24 months
around today) are removed, as they would fall partly outside the year.
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
YEAR = 2025
PIPELINE = f"Bench forecast {YEAR}"
OLD_PIPELINE = "Bench forecast"
OPEN_CATEGORIES = ["pipeline", "pipeline", "best_case", "commit", "omitted"]


def ensure_deals(org: Any, target: int = DEALS) -> int:
    """Create the missing forecast deals (idempotent: counts what is there first). Returns how many exist."""
    from vinculo.accounts.models import Membership
    from vinculo.sales.models import Deal, ExchangeRate, Pipeline, Quota

    old = Deal.objects.filter(pipeline__name=OLD_PIPELINE)
    if old.exists():
        removed, _kinds = old.delete()
        Pipeline.objects.filter(name=OLD_PIPELINE).delete()
        note(f"removed {removed:,} rows of the earlier forecast layout")
    pipeline, stage_list = ensure_pipeline(org, PIPELINE)
    stages = {stage.name: stage for stage in stage_list}
    ExchangeRate.objects.get_or_create(
        organization=org, currency="USD", valid_from=dt.date(2020, 1, 1), defaults={"rate": Decimal("0.92")}
    )
    owners = list(Membership.objects.filter(organization=org).values_list("user_id", flat=True).order_by("user_id"))
    first_day = dt.date(YEAR, 1, 1)
    days_in_year = (dt.date(YEAR + 1, 1, 1) - first_day).days
    quotas = [
        Quota(organization=org, user_id=user_id, period="month", starts_on=dt.date(YEAR, month, 1), amount=50_000)
        for user_id in owners
        for month in range(1, 13)
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
            closes = first_day + dt.timedelta(days=rng.randrange(0, days_in_year))
            created = closes - dt.timedelta(days=rng.randrange(5, 120))
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
            if roll < 0.35:
                stage = stages["Won"]
                fields.update(status="won", probability=100, forecast_category="closed")
                fields["closed_at"] = dt.datetime.combine(closes, dt.time(16), tzinfo=tz)
            elif roll < 0.6:
                stage = stages["Lost"]
                fields.update(status="lost", probability=0, forecast_category="omitted")
                fields["closed_at"] = dt.datetime.combine(closes, dt.time(16), tzinfo=tz)
            else:
                stage = stages[rng.choice(["Qualification", "Proposal", "Negotiation"])]
                fields.update(
                    status="open", probability=stage.probability, forecast_category=rng.choice(OPEN_CATEGORIES)
                )
            batch.append(Deal(stage=stage, expected_close_date=closes, **fields))
        with transaction.atomic():
            Deal.objects.bulk_create(batch, batch_size=1000)
        made += len(batch)
    note(f"created {made:,} forecast deals in {time.monotonic() - started:.0f} s")
    with connection.cursor() as cursor:
        # the planner's statistics for the new rows; on PostgreSQL also the visibility map, without
        # which the forecast's index-only scans visit the table (autovacuum would do it, later)
        cursor.execute("ANALYZE sales_deal" if connection.vendor == "sqlite" else "VACUUM ANALYZE sales_deal")
    return existing + made


def _deal_queries(page: Client, url: str) -> list[tuple[str, Any]]:
    """The page's deal aggregates (won by closing time, refunds of won deals' orders by the same
    buckets, open by expected close date), as sent."""
    queries = captured_sql(lambda: page.get(url))
    return [(sql, params) for sql, params in queries if '"sales_deal"' in sql and "SUM(" in sql.upper()]


def run(ctx: Context) -> None:
    org, actor = bench_member()
    with scope(organization=org):
        total = ensure_deals(org)
    note(f"organisation {org.slug}: {total:,} deals in the pipeline “{PIPELINE}”, all in {YEAR}")

    page = Client()
    page.force_login(actor.user)
    base = f"/o/{org.slug}/sales/forecast/"
    views = {
        "forecast.page": f"{base}?start={YEAR}-01-01&end={YEAR}-12-31&period=month&group_by=owner",
        "forecast.page.year": f"{base}?start={YEAR}-01-01&end={YEAR}-12-31&period=quarter&group_by=pipeline",
    }
    for name, url in views.items():
        if ctx.request(name, page, url) != 200:
            continue
        # the floor: the same deal aggregates on a plain cursor, results fetched
        main = _deal_queries(page, url)
        if len(main) != 3:
            note(f"{name}.raw: expected the three deal aggregates, found {len(main)}; not measured")
            continue
        ctx.report_ms(f"{name}.raw", ctx.time_ms(lambda main=main: [raw_sql(*query) for query in main]))
    emit("forecast.deals", total, "deals")
