"""Issue 10 (real platforms, real volumes): orders as shops send them, and orders at scale, through
the whole Django stack (Client: middleware, routing, view, services), median over the runs, and
beside each figure its floor, the raw insert of the same rows, measured in the same run.

- orders.shopify250: a Shopify `orders/create` webhook of 250 lines (built from the documented
  sample's line, about 260 KB), signed, POSTed to /hooks/<token>/ and processed at once (the task
  runs on commit, as the worker would): stored delivery, customer created, order with its 250
  lines, adjustments, audit and `order.placed`. Each run a new order and a new customer (the worst
  case). Floor: orders.shopify250.raw, the INSERT (and COMMIT) of the same order, line and
  adjustment rows.
- orders.api.create at 1,000 and at 1,000,000 orders already in the organisation (BENCH_SCALE=small:
  50,000; BENCH_ORDERS=n to choose): POST /api/v1/orders of 3 lines with a new external id for a
  contact who becomes a customer (the worst case: an audited contact update and two events more).
  The big organisation's orders are written once with bulk SQL inserts and reused; the figure must
  not grow with the table (`orders.api.create.growth`, %). Floor: orders.api.create.raw.
- orders.batch.rate: POST /api/v1/orders/batch of 1,000 orders (3 lines each, each buyer a lead who
  becomes a customer), orders/s, median over the requests; floor orders.batch.raw: the INSERT of
  the same order and line rows (executemany, committed), orders/s.
Every date is fixed (ANCHOR), so that the figures are the same whatever day they are measured.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import time
import uuid
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django_scopes import scope, scopes_disabled

from bench.harness import Context, bench_member, emit, note

ANCHOR = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
BIG_SLUG = "bench-orders"
SMALL_SLUG = "bench-orders-1k"
SMALL_ORDERS = 1_000
BATCH = 1_000
WRITE = 20_000  # rows per bulk INSERT transaction when filling the big table
CREATE_LEADS = 60
BATCH_REQUESTS = int(os.environ.get("BENCH_ORDER_BATCHES", 5))


def _stored_orders(ctx: Context) -> int:
    if os.environ.get("BENCH_ORDERS", "").isdigit():
        return int(os.environ["BENCH_ORDERS"])
    return 1_000_000 if ctx.contacts >= 1_000_000 else 50_000


# --- the organisations and their data -------------------------------------------------------------


def _organisation(slug: str) -> Any:
    """An organisation of the demo user (its owner), made the first time; (org, membership)."""
    from vinculo.accounts.models import Membership, Organization
    from vinculo.accounts.services import organization_create

    _bench_org, bench_actor = bench_member()
    with scopes_disabled():
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            membership = organization_create(owner=bench_actor.user, name=slug)
            Organization.objects.filter(pk=membership.organization_id).update(slug=slug)
            org = Organization.objects.get(pk=membership.organization_id)
        actor = Membership.objects.select_related("user", "organization").get(organization=org, user=bench_actor.user)
    return org, actor


def _api_client(actor: Any) -> Client:
    from vinculo.accounts.services import api_token_create

    with scope(organization=actor.organization):
        issued = api_token_create(actor=actor, name="bench orders", scope="read_write")
    return Client(headers={"Authorization": f"Bearer {issued.secret}"})


def _leads(org: Any, tag: str, count: int) -> list[int]:
    """`count` contacts of `org` named for `tag` (made the first time), all put back to leads: each
    order the benchmark places makes its buyer a customer, the costliest case."""
    from vinculo.contacts.management.commands.demo import RowWriter, allocate_ids
    from vinculo.contacts.models import Contact

    with scope(organization=org), transaction.atomic():
        ids = list(Contact.objects.filter(first_name=tag).order_by("id").values_list("id", flat=True)[:count])
        missing = count - len(ids)
        if missing > 0:
            new = allocate_ids(Contact, missing)
            RowWriter(Contact, ("id", "organization_id", "first_name", "last_name", "search_text")).write(
                (pk, org.pk, tag, f"Lead {pk}", f"{tag.lower()} lead {pk}") for pk in new
            )
            ids += new
        Contact.objects.filter(pk__in=ids).update(lifecycle_stage="lead")
    return ids


def _fill(org: Any, target: int) -> int:
    """The organisation's orders made up to `target` with bulk SQL inserts (one line each), dated
    from ANCHOR backwards; its order counter moved past them. How many it has."""
    from vinculo.contacts.management.commands.demo import RowWriter, allocate_ids
    from vinculo.sales.models import DocumentCounter, Order, OrderLine

    with scope(organization=org):
        have = Order.objects.count()
    if have >= target:
        return have
    started = time.monotonic()
    order_writer = RowWriter(
        Order,
        (
            "id",
            "organization_id",
            "number",
            "currency",
            "subtotal",
            "total",
            "computed_total",
            "status",
            "channel",
            "external_id",
            "placed_at",
            "created_at",
            "updated_at",
        ),
    )
    line_writer = RowWriter(
        OrderLine,
        ("organization_id", "order_id", "description", "quantity", "unit_price", "subtotal", "total", "position"),
    )
    for offset in range(have, target, WRITE):
        n = min(WRITE, target - offset)
        with transaction.atomic():
            ids = allocate_ids(Order, n)
            rows, lines = [], []
            for k, pk in enumerate(ids, start=offset + 1):
                at = ANCHOR - dt.timedelta(minutes=k)
                amount = Decimal(k % 500 + 1)
                rows.append(
                    (pk, org.pk, f"O-{k:07d}", "EUR", amount, amount, amount, "paid", "api", f"hist-{k}", at, at, at)
                )
                lines.append((org.pk, pk, "Item", Decimal(1), amount, amount, amount, 0))
            order_writer.write(rows)
            line_writer.write(lines)
    with scope(organization=org):
        DocumentCounter.objects.update_or_create(organization=org, kind="order", defaults={"value": target})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    note(f"{org.slug}: {target - have:,} orders written in {time.monotonic() - started:.1f} s")
    return target


# --- the raw floor: the same rows, inserted on a cursor --------------------------------------------


def _raw_insert(orders: list[Any], lines: list[Any], adjustments: list[Any] | None = None) -> float:
    """INSERT copies of these rows (new ids, numbers, external ids) with executemany and COMMIT,
    as the endpoints do: what the database itself needs to store them. The copies are deleted
    afterwards (not timed). Returns the seconds taken."""
    from vinculo.contacts.management.commands.demo import RowWriter, allocate_ids
    from vinculo.sales.models import Order, OrderAdjustment, OrderLine

    def columns(model: Any) -> list[str]:
        return [f.attname for f in model._meta.concrete_fields if f.attname != "id"]

    order_cols = columns(Order)
    started = time.perf_counter()
    with transaction.atomic():
        ids = allocate_ids(Order, len(orders))
        new_id = {}
        rows = []
        for pk, order in zip(ids, orders, strict=True):
            new_id[order.pk] = pk
            values = {c: getattr(order, c) for c in order_cols}
            values.update(number=f"R-{uuid.uuid4().hex[:12]}", external_id=f"raw-{uuid.uuid4().hex}")
            rows.append((pk, *(values[c] for c in order_cols)))
        RowWriter(Order, ("id", *order_cols)).write(rows)
        for model, items in ((OrderLine, lines), (OrderAdjustment, adjustments or [])):
            cols = columns(model)
            RowWriter(model, cols).write(
                tuple(new_id[row.order_id] if c == "order_id" else getattr(row, c) for c in cols) for row in items
            )
    seconds = time.perf_counter() - started
    with scopes_disabled(), transaction.atomic():
        Order.objects.filter(pk__in=ids).delete()
    return seconds


def _raw_ms(ctx: Context, name: str, orders: list[Any], lines: list[Any], adjustments: list[Any] | None = None) -> None:
    for _ in range(ctx.warmup):
        _raw_insert(orders, lines, adjustments)
    ctx.report_ms(name, [_raw_insert(orders, lines, adjustments) * 1000 for _ in range(ctx.runs)])


# --- the figures ----------------------------------------------------------------------------------


def _shopify250(ctx: Context, org: Any, actor: Any) -> None:
    from vinculo.sales.models import Order, OrderAdjustment, OrderLine
    from vinculo.touchpoints.adapters import base64_signature
    from vinculo.touchpoints.services.integrations import integration_create
    from vinculo.touchpoints.testing.webhooks import shopify_order_with_lines

    secret = "bench-secret-of-32-characters-!!"
    with scope(organization=org):
        integration, _secret = integration_create(
            actor=actor, data={"kind": "shopify", "name": f"bench {uuid.uuid4().hex[:6]}", "secret": secret}
        )
    template = shopify_order_with_lines(250)
    template["created_at"] = template["processed_at"] = ANCHOR.isoformat()
    run = uuid.uuid4().hex[:8]
    bodies = []
    for n in range(ctx.warmup + ctx.runs + 1):
        order = dict(template, id=9_000_000_000 + n, name=f"#B{n}", email=f"shopify-{run}-{n}@bench.example")
        order["customer"] = {**template["customer"], "id": 8_000_000_000 + n, "email": order["email"]}
        bodies.append(json.dumps(order).encode())
    note(f"orders.shopify250: a body of {len(bodies[0]) / 1024:.0f} KiB")
    client = Client()
    url = f"/hooks/{integration.token}/"
    turn = iter(bodies)

    def post() -> None:
        body = next(turn)
        headers = {"X-Shopify-Hmac-Sha256": base64_signature(secret, body), "X-Shopify-Topic": "orders/create"}
        response = client.post(url, data=body, content_type="application/json", headers=headers)
        if response.status_code != 202:
            raise RuntimeError(f"the webhook answered {response.status_code}: {response.content[:300]!r}")

    ctx.report_ms("orders.shopify250", ctx.time_ms(post))
    with scope(organization=org):
        stored = Order.objects.filter(external_id__startswith="shopify:").order_by("-id").first()
        assert stored is not None, "the order was not stored"
        assert OrderLine.objects.filter(order=stored).count() == 250, "its lines were not stored"
        lines = list(OrderLine.objects.filter(order=stored))
        adjustments = list(OrderAdjustment.objects.filter(order=stored))
        _raw_ms(ctx, "orders.shopify250.raw", [stored], lines, adjustments)


def _create_bodies(leads: list[int], run: str) -> list[dict[str, Any]]:
    return [
        {
            "contact": contact,
            "external_id": f"create-{run}-{n}",
            "placed_at": (ANCHOR + dt.timedelta(minutes=n)).isoformat(),
            "lines": [
                {"description": "Coffee", "quantity": 3, "unit_price": "13.3333", "tax_rate": "10"},
                {"description": "Mug", "quantity": 2, "unit_price": "7.50", "discount_percent": "5"},
                {"description": "Filter papers", "quantity": 1, "unit_price": "3.20"},
            ],
        }
        for n, contact in enumerate(leads)
    ]


def _api_create(ctx: Context, pairs: list[tuple[Any, Any, str]]) -> list[float]:
    """POST /orders in each organisation of `pairs` (org, actor, figure name), the organisations
    taking turns run by run, so that both figures see the same machine (the load of other
    processes changes from second to second). Their medians, in order."""
    from vinculo.sales.models import Order, OrderLine

    runs = ctx.warmup + ctx.runs
    setups = []
    for org, actor, _name in pairs:
        leads = _leads(org, "Createlead", runs + 1)
        setups.append((_api_client(actor), iter(_create_bodies(leads, uuid.uuid4().hex[:8]))))
    samples: list[list[float]] = [[] for _ in pairs]
    for turn in range(runs):
        for (client, bodies), timed in zip(setups, samples, strict=True):
            body = json.dumps(next(bodies))
            started = time.perf_counter()
            response = client.post("/api/v1/orders", data=body, content_type="application/json")
            if response.status_code != 201:
                raise RuntimeError(f"POST /orders answered {response.status_code}: {response.content[:300]!r}")
            if turn >= ctx.warmup:
                timed.append((time.perf_counter() - started) * 1000)
    medians = []
    for (org, _actor, name), timed in zip(pairs, samples, strict=True):
        ctx.report_ms(name, timed)
        medians.append(statistics.median(timed))
        with scope(organization=org):
            stored = Order.objects.filter(external_id__startswith="create-").order_by("-id").first()
            lines = list(OrderLine.objects.filter(order=stored))
            _raw_ms(ctx, f"{name}.raw", [stored], lines)
    return medians


def _batch(ctx: Context, org: Any, actor: Any) -> None:
    from vinculo.sales.models import Order, OrderLine

    client = _api_client(actor)
    rates = []
    run = uuid.uuid4().hex[:8]
    for request in range(BATCH_REQUESTS):
        leads = _leads(org, "Batchlead", BATCH)
        body = json.dumps(
            {
                "orders": [
                    {**order, "external_id": f"batch-{run}-{request}-{n}"}
                    for n, order in enumerate(_create_bodies(leads, run))
                ]
            }
        )
        started = time.perf_counter()
        response = client.post("/api/v1/orders/batch", data=body, content_type="application/json")
        seconds = time.perf_counter() - started
        data = response.json()
        if response.status_code != 200 or data.get("created") != BATCH:
            raise RuntimeError(f"the batch answered {response.status_code}: {str(data)[:300]}")
        rates.append(BATCH / seconds)
    emit("orders.batch.rate", statistics.median(rates), "orders/s")
    note(f"orders.batch: {BATCH_REQUESTS} requests of {BATCH} orders, {len(body) / 1024:.0f} KiB each")
    with scope(organization=org):
        orders = list(Order.objects.filter(external_id__startswith=f"batch-{run}-0-"))
        lines = list(OrderLine.objects.filter(order__in=orders))
    raw = [len(orders) / _raw_insert(orders, lines) for _ in range(BATCH_REQUESTS)]
    emit("orders.batch.raw", statistics.median(raw), "orders/s")


def run(ctx: Context) -> None:
    from django.conf import settings

    settings.VINCULO_WEBHOOK_RATE_LIMITS = {"per_token": 10**9, "per_ip": 10**9, "window_seconds": 60}
    big, big_actor = _organisation(BIG_SLUG)
    small, small_actor = _organisation(SMALL_SLUG)
    target = _stored_orders(ctx)
    stored_big = _fill(big, target)
    stored_small = _fill(small, SMALL_ORDERS)
    note(f"orders stored: {stored_small:,} in {SMALL_SLUG}, {stored_big:,} in {BIG_SLUG}")
    label = "1m" if target == 1_000_000 else f"{target // 1000}k"
    small_p50, big_p50 = _api_create(
        ctx, [(small, small_actor, "orders.api.create.1k"), (big, big_actor, f"orders.api.create.{label}")]
    )
    emit("orders.api.create.p50", big_p50, "ms")
    emit("orders.api.create.growth", (big_p50 / small_p50 - 1) * 100, "%")
    _shopify250(ctx, big, big_actor)
    _batch(ctx, big, big_actor)
