"""Issue 8 (messaging layer): who may be written to for one purpose, asked of every contact.

- consent.consenting: `contacts_consenting(Contact.objects.all(), newsletter).count()` over the
  whole organisation (1,000,000 contacts at full scale), half of them subscribed; `.ids` iterates
  the ids instead of counting them; `.raw` runs the same SQL of the count on a cursor;
- consent.consenting.opt_out: the same for an opt-out type on legitimate interest (everybody but
  the 10 % who unsubscribed).
Target: ≤ 1 s at 1,000,000 contacts. Measured here on SQLite (1,000,000 contacts, a busy 2-core
machine): count 492 ms median (its SQL on a cursor 440 ms), opt-out 301 ms; iterating the 500,000
ids through the ORM 2.0 s (Python, not the query).

The consent ledger rows and the current-state rows are added with one INSERT … SELECT each the
first time (every second contact granted the newsletter, every tenth refused the updates), so a
second run starts measuring at once.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scope

from bench.harness import Context, bench_member, captured_sql, emit, note, raw_sql

NEWSLETTER = "bench_newsletter"
UPDATES = "bench_updates"


def _insert_answers(org: Any, subscription_type: Any, *, every: int, granted: bool) -> None:
    """Ledger rows and current states for every `every`-th contact of the organisation, in SQL."""
    now = timezone.now()
    status, state = ("granted", "subscribed") if granted else ("withdrawn", "unsubscribed")
    common = [org.pk, subscription_type.pk]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_consent (organization_id, contact_id, subscription_type_id, status, channel,"
            " text, text_version, source, form_name, ip, page_url, user_agent, needs_confirmation, reason,"
            " created_at, updated_at)"
            " SELECT %s, c.id, %s, %s, 'import', 'I agree.', '1', 'bench', '', NULL, '', '', %s, '', %s, %s"
            " FROM contacts_contact c WHERE c.organization_id = %s AND c.id %% %s = 0",
            [*common, status, False, now, now, org.pk, every],
        )
        cursor.execute(
            "INSERT INTO messaging_contactsubscription (organization_id, contact_id, subscription_type_id, status,"
            " consent_id, created_at, updated_at)"
            " SELECT %s, k.contact_id, %s, %s, k.id, %s, %s FROM messaging_consent k"
            " WHERE k.organization_id = %s AND k.subscription_type_id = %s",
            [*common, state, now, now, org.pk, subscription_type.pk],
        )


def _ensure_data(org: Any) -> tuple[Any, Any]:
    from vinculo.messaging.models import ContactSubscription, LawfulBasis, OptMode, SubscriptionType

    newsletter, _ = SubscriptionType.objects.get_or_create(
        organization=org, key=NEWSLETTER, defaults={"name": "Bench newsletter"}
    )
    updates, _ = SubscriptionType.objects.get_or_create(
        organization=org,
        key=UPDATES,
        defaults={
            "name": "Bench updates",
            "lawful_basis": LawfulBasis.LEGITIMATE_INTEREST,
            "opt_mode": OptMode.OPT_OUT,
        },
    )
    for subscription_type, every, granted in ((newsletter, 2, True), (updates, 10, False)):
        if not ContactSubscription.objects.filter(subscription_type=subscription_type).exists():
            started = time.monotonic()
            _insert_answers(org, subscription_type, every=every, granted=granted)
            note(f"{subscription_type.key}: consent rows inserted in {time.monotonic() - started:.1f} s")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE messaging_contactsubscription")
    return newsletter, updates


def run(ctx: Context) -> None:
    from vinculo.contacts.models import Contact
    from vinculo.messaging.selectors.consent import contacts_consenting

    org, _actor = bench_member()
    with scope(organization=org):
        newsletter, updates = _ensure_data(org)
        everybody = Contact.objects.all()
        total = everybody.count()
        for name, subscription_type in (("consent.consenting", newsletter), ("consent.consenting.opt_out", updates)):
            consenting = contacts_consenting(everybody, subscription_type)
            count = consenting.count()
            note(f"{name}: {count:,} of {total:,} contacts may be written to for {subscription_type.key}")
            ctx.report_ms(name, ctx.time_ms(consenting.count))
            ((sql, params),) = captured_sql(consenting.count)
            ctx.report_ms(f"{name}.raw", ctx.time_ms(lambda sql=sql, params=params: raw_sql(sql, params)))
        ids = contacts_consenting(everybody, newsletter).values_list("id", flat=True)
        ctx.report_ms("consent.consenting.ids", ctx.time_ms(lambda: sum(1 for _ in ids.iterator(chunk_size=10_000))))
        emit("consent.contacts", total, "contacts")
