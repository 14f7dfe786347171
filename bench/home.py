"""Issue 11 (Everyday experience): the home page, "my day", of a sales rep with 200 open deals and
500 activities, in an organisation of the benchmark's size, server time through the whole Django
stack (Client: middleware, URL routing, view, templates), median and p95; beside it the raw SQL of
the page's queries replayed on a cursor, measured in the same run.

- home: the rep's page: overdue and today's activities, deals closing this month and going
  stale, leads assigned in the last 7 days, recent records from the audit trail;
- home.manager: the same page for the demo owner, who also gets "my team" (a row per member).
Target on SQLite: home ≤ 50 ms median.

The rep ("rep@bench.vinculo.test") and their deals, activities, leads and audit rows are added to
the bench organisation the first time; a second run starts measuring at once.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django_scopes import scope, scopes_disabled

from bench.harness import Context, bench_member, captured_sql, emit, ensure_pipeline, note, raw_sql

REP_EMAIL = "rep@bench.vinculo.test"
PIPELINE = "Bench home"
OPEN_DEALS = 200
ACTIVITIES = 500
LEADS = 240  # 30 of them assigned in the last week
AUDIT_ROWS = 400


def ensure_rep(org: Any) -> Any:
    from vinculo.accounts.models import Membership, Role, User

    user = User.objects.filter(email=REP_EMAIL).first()
    if user is None:
        user = User.objects.create_user(
            email=REP_EMAIL, password=None, full_name="Rita Bench", time_zone="Europe/Madrid"
        )
    membership, _created = Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Role.SALES})
    return Membership.objects.select_related("user", "organization").get(pk=membership.pk)


def ensure_rep_data(org: Any, rep: Any) -> None:
    """200 open deals (20 closing this month, 40 going stale), 500 activities (60 overdue, 12 due
    today, 150 done, the rest ahead), 240 leads (30 new), 400 audit rows of the rep's writes."""
    from vinculo.contacts.models import Contact
    from vinculo.core.models import AuditEntry
    from vinculo.sales.models import Activity, Deal

    if Deal.objects.filter(owner=rep.user, pipeline__name=PIPELINE).exists():
        return
    started = time.monotonic()
    rng = random.Random(11)
    pipeline, stages = ensure_pipeline(org, PIPELINE)
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    with transaction.atomic():
        deals = []
        for n in range(OPEN_DEALS):
            close = today + dt.timedelta(days=rng.randint(40, 200)) if n >= 20 else today.replace(day=1)
            deals.append(
                Deal(
                    organization=org,
                    pipeline=pipeline,
                    stage=stages[n % 3],
                    status="open",
                    title=f"Rep deal {n + 1}",
                    amount=Decimal(rng.randrange(500, 5_000_000)) / 100,
                    currency=org.base_currency,
                    probability=stages[n % 3].probability,
                    owner=rep.user,
                    expected_close_date=close,
                    position=n,
                )
            )
        Deal.objects.bulk_create(deals)
        deal_ids = list(Deal.objects.filter(owner=rep.user, pipeline=pipeline).values_list("id", flat=True))
        Deal.objects.filter(id__in=deal_ids[-40:]).update(updated_at=now - dt.timedelta(days=30))
        leads = [
            Contact(
                organization=org,
                first_name=f"Lead {n + 1}",
                last_name="Bench",
                lifecycle_stage="lead",
                owner=rep.user,
                source="form",
            )
            for n in range(LEADS)
        ]
        Contact.objects.bulk_create(leads)
        lead_ids = list(
            Contact.objects.filter(owner=rep.user, last_name="Bench").order_by("id").values_list("id", flat=True)
        )
        for n, pk in enumerate(lead_ids):
            age = dt.timedelta(days=rng.randint(0, 6)) if n < 30 else dt.timedelta(days=rng.randint(8, 300))
            Contact.objects.filter(pk=pk).update(created_at=now - age)
        activities = []
        for n in range(ACTIVITIES):
            if n < 60:
                due, done = now - dt.timedelta(hours=rng.randint(1, 24 * 60)), None
            elif n < 72:
                due, done = now + dt.timedelta(minutes=rng.randint(1, 300)), None
            elif n < 222:
                due = now - dt.timedelta(hours=rng.randint(1, 24 * 90))
                done = due
            else:
                due, done = now + dt.timedelta(days=rng.randint(1, 120)), None
            activities.append(
                Activity(
                    organization=org,
                    subject=f"Rep activity {n + 1}",
                    due_at=due,
                    done_at=done,
                    assignee=rep.user,
                    deal_id=rng.choice(deal_ids) if n % 2 else None,
                    contact_id=rng.choice(lead_ids) if n % 3 == 0 else None,
                )
            )
        Activity.objects.bulk_create(activities)
        audit = []
        for n in range(AUDIT_ROWS):
            kind, pk = ("sales.deal", rng.choice(deal_ids)) if n % 2 else ("contacts.contact", rng.choice(lead_ids))
            audit.append(
                AuditEntry(
                    organization=org,
                    actor=rep.user,
                    action="update",
                    object_type=kind,
                    object_id=pk,
                    object_repr="",
                    changes={"title": ["a", "b"]},
                )
            )
        AuditEntry.objects.bulk_create(audit)
        for n, entry in enumerate(AuditEntry.objects.filter(actor=rep.user).order_by("id")):
            AuditEntry.objects.filter(pk=entry.pk).update(created_at=now - dt.timedelta(hours=n * 2))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    note(f"added the rep's deals, activities, leads and audit rows in {time.monotonic() - started:.1f} s")


def _page_sql(client: Client, url: str) -> list[tuple[str, Any]]:
    """The SELECTs of the page (not the session's)."""
    return [
        (sql, params)
        for sql, params in captured_sql(lambda: client.get(url))
        if sql.lstrip().upper().startswith("SELECT") and "django_session" not in sql
    ]


def run(ctx: Context) -> None:
    org, owner = bench_member()
    with scopes_disabled():
        rep = ensure_rep(org)
    with scope(organization=org):
        ensure_rep_data(org, rep)
    url = f"/o/{org.slug}/"
    for name, member in (("home", rep), ("home.manager", owner)):
        client = Client()
        client.force_login(member.user)
        if ctx.request(name, client, url) != 200:
            continue
        statements = _page_sql(client, url)
        emit(f"{name}.raw_sql.queries", len(statements), "queries")
        ctx.report_ms(f"{name}.raw_sql", ctx.time_ms(lambda s=statements: [raw_sql(sql, params) for sql, params in s]))
