"""Issue 12 (marketing): counting a segment of three conditions over the whole organisation.

- segments.count: `compile_definition` + `Contact.objects.filter(q).count()` of a definition with a
  field (lifecycle stage is customer or lead), a behaviour ("page.viewed at least once in the last
  30 days") and commerce (total spent, net of refunds in the base currency, more than 100), over the
  bench organisation (1,000,000 contacts and about 10,000,000 events at full scale);
- segments.count.raw: the same SQL on a cursor, printed beside it with its query plan.
Target: ≤ 1 s at 1,000,000 contacts on SQLite. Measured here on SQLite (the bench data set of
1,000,000 contacts, 6.5 million events and 24,000 orders; a shared 2-core machine, load about 2):
count 531 ms median (p95 626 ms), its SQL on a cursor 497 ms; 6,215 members. The plan reads the
events' `event_org_type_contact` index only (covering) and the orders through `order_contact_placed`.
"""

from __future__ import annotations

from typing import Any

from django_scopes import scope

from bench.harness import Context, bench_member, captured_sql, emit, note, query_plan, raw_sql

DEFINITION: dict[str, Any] = {
    "all": [
        {"kind": "lifecycle_stage", "op": "in", "value": ["customer", "lead"]},
        {"kind": "event", "op": "did", "value": "page.viewed", "days": 30},
        {"kind": "total_spent", "op": "gt", "value": 100},
    ]
}


def run(ctx: Context) -> None:
    from vinculo.contacts.conditions import compile_definition
    from vinculo.contacts.models import Contact

    org, _actor = bench_member()
    with scope(organization=org):

        def count() -> int:
            return Contact.objects.filter(compile_definition(DEFINITION, org)).count()

        members = count()
        total = Contact.objects.count()
        note(f"segments.count: {members:,} of {total:,} contacts match {DEFINITION}")
        sql, params = captured_sql(count)[-1]
        note(f"segments.count SQL: {sql} {params!r}")
        for line in query_plan(sql, params):
            note(f"  plan: {line}")
        ctx.report_ms("segments.count", ctx.time_ms(count))
        ctx.report_ms("segments.count.raw", ctx.time_ms(lambda: raw_sql(sql, params)))
        emit("segments.count.members", members, "contacts")
