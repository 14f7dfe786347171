"""Issue 3 (Sales): the deal board with 10,000 open deals, and moving a card, server time through the
whole Django stack (Client: middleware, URL routing, view, template or JSON), median and p95, and
beside each figure the raw SQL of its main queries on a cursor, measured in the same run.

- deals.board: the board page of the pipeline "Bench board" (10,000 open deals over three open
  stages): the column totals (one GROUP BY stage, currency), the rates, the first 50 cards of
  each column; raw_sql replays the page's deal queries (aggregate and cards) on a cursor;
- deals.move: POST a card to another stage through the move endpoint, as the board's script does
  (JSON answer with every column's new summary); raw_sql replays the move's SQL (lock, position,
  update, audit row, timeline event, summaries) in a transaction that is rolled back.
Targets on SQLite: board ≤ 150 ms, move ≤ 30 ms median.

The deals are added to the bench organisation (slug "bench") the first time, with bulk_create;
only what is missing is created, so a second run starts measuring at once.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import statistics
import time
import uuid
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django_scopes import scope

from bench.harness import Context, bench_member, captured_sql, emit, ensure_pipeline, note, raw_sql

DEALS = 10_000
BATCH = 5_000
PIPELINE = "Bench board"
OPEN_WEIGHTS = (5, 3, 2)  # how the open deals spread over the three open stages
SALES_TABLES = ("sales_", "core_event", "core_auditentry")
HEX = re.compile(r"[0-9a-f]{32}")


def ensure_deals(org: Any, target: int = DEALS) -> Any:
    """The pipeline with `target` open deals (idempotent: only the missing ones are created)."""
    from vinculo.accounts.models import Membership
    from vinculo.contacts.models import Contact
    from vinculo.sales.models import Deal, ExchangeRate

    pipeline, stages = ensure_pipeline(org, PIPELINE)
    if not ExchangeRate.objects.filter(currency="USD").exists():
        ExchangeRate.objects.create(
            organization=org, currency="USD", rate=Decimal("0.92"), valid_from=dt.date(2020, 1, 1)
        )
    have = Deal.objects.filter(pipeline=pipeline, status="open").count()
    missing = target - have
    if missing <= 0:
        return pipeline
    started = time.monotonic()
    rng = random.Random(7 + have)
    owners: list[int | None] = [*Membership.objects.filter(organization=org).values_list("user_id", flat=True), None]
    contacts: list[tuple[int | None, int | None]] = [
        *Contact.objects.order_by("id").values_list("id", "company_id")[:5000]
    ] or [(None, None)]
    open_stages = stages[:3]
    positions = {
        s.pk: (Deal.objects.filter(stage=s).order_by("-position").values_list("position", flat=True).first() or 0) + 1
        for s in open_stages
    }
    now = dt.datetime.now(dt.UTC)
    for offset in range(0, missing, BATCH):
        rows = []
        for n in range(min(BATCH, missing - offset)):
            stage = rng.choices(open_stages, weights=OPEN_WEIGHTS)[0]
            contact_id, company_id = rng.choice(contacts)
            positions[stage.pk] += 1
            touched = now - dt.timedelta(days=rng.randint(0, 40))
            rows.append(
                Deal(
                    organization=org,
                    pipeline=pipeline,
                    stage=stage,
                    status="open",
                    title=f"Bench deal {have + offset + n + 1}",
                    contact_id=contact_id,
                    company_id=company_id,
                    amount=Decimal(rng.randrange(500, 5_000_000)) / 100,
                    currency="USD" if rng.random() < 0.15 else org.base_currency,
                    probability=stage.probability,
                    owner_id=rng.choice(owners),
                    expected_close_date=now.date() + dt.timedelta(days=rng.randint(-30, 180)),
                    position=positions[stage.pk],
                    stage_entered_at=touched,
                    created_at=touched - dt.timedelta(days=rng.randint(0, 200)),
                )
            )
        with transaction.atomic():
            Deal.objects.bulk_create(rows, batch_size=1000)
    # updated_at is auto_now: age half of the deals so that the board has stale ones to mark
    Deal.objects.filter(
        pipeline=pipeline, id__in=Deal.objects.filter(pipeline=pipeline).values("id")[: target // 2]
    ).update(updated_at=now - dt.timedelta(days=30))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    note(f"added {missing:,} deals to {PIPELINE!r} in {time.monotonic() - started:.1f} s")
    return pipeline


def _captured(fn: Any) -> list[tuple[str, Any]]:
    """The SQL statements `fn` runs that touch the sales tables (not session or auth)."""
    return [(sql, params) for sql, params in captured_sql(fn) if any(t in sql for t in SALES_TABLES)]


def _replay(statements: list[tuple[str, Any]]) -> None:
    event_id = None  # the id of the replayed event row, for its outbox rows
    for sql, params in statements:
        if sql.lstrip().upper().startswith("SELECT"):
            raw_sql(sql, params)
            continue
        if event_id is not None and sql.startswith('INSERT INTO "core_eventdelivery"'):
            params = _with_event_id(sql, params, event_id)
        returned = _execute(sql, params)
        if sql.startswith('INSERT INTO "core_event" ') and returned:
            event_id = returned[0][0]


def _with_event_id(sql: str, params: Any, event_id: int) -> Any:
    """The outbox rows (event, consumer) of a replayed event point at the replayed event: the
    original's rows are still there, and the pair is unique."""
    columns = [c.strip().strip('"') for c in sql[sql.index("(") + 1 : sql.index(")")].split(",")]
    if "event_id" not in columns or not isinstance(params, list | tuple):
        return params
    width, at = len(columns), columns.index("event_id")
    return [event_id if i % width == at else p for i, p in enumerate(params)]


def _fresh_ids(params: Any) -> Any:
    """An event's message_id is unique: a replayed INSERT gets a new one (same length, same work)."""
    if not isinstance(params, list | tuple):
        return params
    return [uuid.uuid4().hex if isinstance(p, str) and len(p) == 32 and HEX.fullmatch(p) else p for p in params]


def _execute(sql: str, params: Any) -> list[tuple[Any, ...]]:
    """Run a write; what it returns (INSERT … RETURNING), if anything."""
    with connection.cursor() as cursor:
        cursor.execute(sql, _fresh_ids(params) if "INSERT" in sql else params)
        return cursor.fetchall() if cursor.description else []


def run(ctx: Context) -> None:
    from vinculo.sales.models import Deal

    org, actor = bench_member()
    with scope(organization=org):
        pipeline = ensure_deals(org)
        stages = list(pipeline.stages.order_by("position"))
        total = Deal.objects.filter(pipeline=pipeline, status="open").count()
        deal = Deal.objects.filter(stage=stages[0]).order_by("position", "id").first()
    note(f"pipeline {PIPELINE!r}: {total:,} open deals over {len(stages)} stages")

    client = Client()
    client.force_login(actor.user)
    board_url = f"/o/{org.slug}/deals/board/?pipeline={pipeline.pk}"
    ctx.request("deals.board", client, board_url)
    board_sql = _captured(lambda: client.get(board_url))
    ctx.report_ms("deals.board.raw_sql", ctx.time_ms(lambda: _replay(board_sql)))

    assert deal is not None
    move_url = f"/o/{org.slug}/deals/{deal.pk}/move/"
    headers = {"Accept": "application/json"}
    targets = [stages[1].pk, stages[0].pk]
    turn = [0]

    def move() -> None:
        turn[0] += 1
        response = client.post(move_url, {"stage": targets[turn[0] % 2], "before": ""}, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"move answered {response.status_code}: {response.content[:200]!r}")

    cpu: list[float] = []
    ctx.report_ms("deals.move", ctx.time_ms(move, cpu))
    emit("deals.move.cpu.p50", statistics.median(cpu), "ms")
    move_sql = _captured(move)
    emit("deals.move.queries", len(move_sql), "queries")

    def replay_move() -> None:
        with transaction.atomic():
            _replay(move_sql)
            transaction.set_rollback(True)

    ctx.report_ms("deals.move.raw_sql", ctx.time_ms(replay_move))
