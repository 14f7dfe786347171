"""The consent table moves from touchpoints to messaging with its rows (docs/adr/0004): free-text
purposes become subscription types per organisation, withdrawals become ledger rows of their own,
double opt-in rows keep their state, forms keep naming their checkboxes, and the current state is
computed. Run on SQLite and on PostgreSQL (scripts/with-postgres.sh)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# contacts as they were then too: a later contacts migration (a NOT NULL column) would otherwise be
# in the table but not in the historical model the test writes through
# (and organisations: accounts 0005 added a NOT NULL country)
CONTACTS_THEN = ("contacts", "0003_list_indexes_end_with_the_sort")
ACCOUNTS_THEN = ("accounts", "0004_membership_checklist_dismissed_at")
BEFORE = [("touchpoints", "0001_initial"), ("messaging", "0001_initial"), CONTACTS_THEN, ACCOUNTS_THEN]
AFTER = [
    ("touchpoints", "0002_consent_moves_to_messaging"),
    ("messaging", "0003_consent"),
    CONTACTS_THEN,
    ACCOUNTS_THEN,
]
T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_the_consent_table_moves_to_messaging_with_its_rows():
    latest = _latest()
    try:
        old = _migrate(BEFORE)
        Organization = old.get_model("accounts", "Organization")
        Contact = old.get_model("contacts", "Contact")
        WebForm = old.get_model("touchpoints", "WebForm")
        FormSubmission = old.get_model("touchpoints", "FormSubmission")
        Consent = old.get_model("touchpoints", "Consent")
        acme = Organization.objects.create(name="Acme", slug="acme-migration")
        other = Organization.objects.create(name="Other", slug="other-migration")
        ana = Contact.objects.create(organization=acme, first_name="Ana")
        bea = Contact.objects.create(organization=acme, first_name="Bea")
        otto = Contact.objects.create(organization=other, first_name="Otto")
        form = WebForm.objects.create(
            organization=acme,
            name="Contact us",
            fields=[],
            consents=[
                {"key": "newsletter", "text": "News", "version": "2", "required": False},
                {"key": "events", "text": "Events", "version": "1", "required": False},
            ],
        )
        pending = FormSubmission.objects.create(organization=acme, form=form, contact=bea, status="pending")
        confirmed = FormSubmission.objects.create(organization=acme, form=form, contact=ana, status="confirmed")

        def consent(org, contact, purpose, **values):
            values.setdefault("text", f"{purpose} text")
            return Consent.objects.create(organization=org, contact=contact, purpose=purpose, **values)

        ana_news = consent(
            acme,
            ana,
            "newsletter",
            text_version="2",
            source=f"web_form:{form.pk}",
            submission=confirmed,
            ip="203.0.113.7",
            page_url="https://example.com/",
            confirmed_at=T0 + dt.timedelta(hours=1),
            created_at=T0,
        )
        consent(acme, ana, "Partner Offers!", withdrawn_at=T0 + dt.timedelta(days=2), created_at=T0)
        consent(acme, bea, "newsletter", submission=pending, created_at=T0)
        consent(acme, bea, "linkedin_consent_3", granted=False, source="linkedin", created_at=T0)
        consent(other, otto, "newsletter", created_at=T0)

        new = _migrate(AFTER)
        SubscriptionType = new.get_model("messaging", "SubscriptionType")
        Ledger = new.get_model("messaging", "Consent")
        ContactSubscription = new.get_model("messaging", "ContactSubscription")
        NewWebForm = new.get_model("touchpoints", "WebForm")
        types = list(
            SubscriptionType.objects.order_by("organization_id", "key").values_list(
                "organization__slug", "key", "name", "lawful_basis", "opt_mode", "is_active"
            )
        )
        assert types == [
            ("acme-migration", "events", "Events", "consent", "opt_in", True),
            ("acme-migration", "linkedin_consent_3", "Linkedin consent 3", "consent", "opt_in", True),
            ("acme-migration", "newsletter", "Newsletter", "consent", "opt_in", True),
            ("acme-migration", "partner_offers", "Partner Offers!", "consent", "opt_in", True),
            ("other-migration", "newsletter", "Newsletter", "consent", "opt_in", True),
        ]
        rows = list(
            Ledger.objects.order_by("id").values_list(
                "contact__first_name",
                "subscription_type__key",
                "status",
                "channel",
                "needs_confirmation",
                "submission_ref",
                "created_at",
            )
        )
        assert rows == [
            ("Ana", "newsletter", "granted", "form", True, confirmed.pk, T0),
            ("Ana", "partner_offers", "granted", "form", False, None, T0),
            ("Bea", "newsletter", "granted", "form", True, pending.pk, T0),
            ("Bea", "linkedin_consent_3", "withdrawn", "form", False, None, T0),
            ("Otto", "newsletter", "granted", "form", False, None, T0),
            ("Ana", "partner_offers", "withdrawn", "manual", False, None, T0 + dt.timedelta(days=2)),
        ]
        kept = Ledger.objects.get(pk=ana_news.pk)
        assert (kept.text, kept.text_version, kept.source, kept.ip, kept.page_url, kept.confirmed_at) == (
            "newsletter text",
            "2",
            f"web_form:{form.pk}",
            "203.0.113.7",
            "https://example.com/",
            T0 + dt.timedelta(hours=1),
        )
        states = sorted(
            ContactSubscription.objects.values_list("contact__first_name", "subscription_type__key", "status")
        )
        assert states == [
            ("Ana", "newsletter", "subscribed"),
            ("Ana", "partner_offers", "unsubscribed"),
            ("Bea", "linkedin_consent_3", "unsubscribed"),
            ("Bea", "newsletter", "pending"),
            ("Otto", "newsletter", "subscribed"),
        ]
        assert [c["key"] for c in NewWebForm.objects.get(pk=form.pk).consents] == ["newsletter", "events"]
        table = Ledger._meta.db_table
        assert table == "messaging_consent"
        assert "touchpoints_consent" not in connection.introspection.table_names()

        back = _migrate(BEFORE)  # and back again: the free-text purposes and the withdrawal stamp
        OldConsent = back.get_model("touchpoints", "Consent")
        assert sorted(
            OldConsent.objects.values_list("contact__first_name", "purpose", "granted", "withdrawn_at", "submission_id")
        ) == [
            ("Ana", "newsletter", True, None, confirmed.pk),
            ("Ana", "partner_offers", True, T0 + dt.timedelta(days=2), None),
            ("Bea", "linkedin_consent_3", False, None, None),
            ("Bea", "newsletter", True, None, pending.pk),
            ("Otto", "newsletter", True, None, None),
        ]
    finally:
        _migrate(latest)
