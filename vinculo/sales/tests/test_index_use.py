"""Every lookup by an indexed key uses its index, on SQLite and on PostgreSQL: the query plan is
read (EXPLAIN QUERY PLAN / EXPLAIN) and must name the index, never a scan of the whole table.

The external-id lookups go through partial unique indexes (`WHERE external_id <> ''`); SQLite uses
a partial index only when the query repeats its condition: without it, placing an order read the
whole order table (13.6 ms at 32,000 orders, the cost of an import growing with its square).
On PostgreSQL, whose planner prefers a sequential scan of a tiny test table, sequential scans are
switched off for the plan: the index must then be usable, which is what is being checked.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q
from django_scopes import scope

from vinculo.contacts.models import ContactEmail
from vinculo.contacts.services import contact_by_external_id
from vinculo.contacts.testing import make_contact
from vinculo.sales.models import Order, OrderChannel, Product
from vinculo.sales.selectors.documents import order_lookup
from vinculo.sales.services.documents import order_create
from vinculo.sales.services.refunds import refund_lookup

pytestmark = pytest.mark.django_db


def plan(queryset) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


def uses(index: str, table: str, text: str) -> None:
    """The plan reads `table` through `index` (SQLite names a unique constraint written inside its
    CREATE TABLE `sqlite_autoindex_<table>_<n>`)."""
    assert index in text or (connection.vendor == "sqlite" and f"sqlite_autoindex_{table}_" in text), text
    if connection.vendor == "sqlite":
        assert f"SCAN {table}" not in text, text
    else:
        assert f"Seq Scan on {table}" not in text, text


@pytest.fixture
def order(actor):
    contact = make_contact(actor, first_name="Ana", emails=["ana@example.com"], external_id="erp-1")
    with scope(organization=actor.organization):
        placed, _created = order_create(
            actor=actor,
            channel=OrderChannel.API,
            data={"contact": contact.pk, "external_id": "A-1", "lines": [{"description": "x", "unit_price": "1"}]},
        )
    return placed


def test_the_order_external_id_lookup_uses_its_index(actor, order):
    with scope(organization=actor.organization):
        uses("order_unique_external_id", "sales_order", plan(order_lookup(OrderChannel.API, "A-1")))


def test_without_the_indexs_condition_sqlite_reads_the_whole_order_table(actor, order):
    """The defect this guards against (SQLite only: PostgreSQL proves the implication itself)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's partial-index rule")
    with scope(organization=actor.organization):
        text = Order.objects.filter(channel=OrderChannel.API, external_id="A-1").explain()
    assert "order_unique_external_id" not in text


def test_the_refund_external_id_lookup_uses_its_index(actor, order):
    with scope(organization=actor.organization):
        uses("refund_unique_external_id", "sales_refund", plan(refund_lookup(order, "R-1")))


def test_the_contact_external_id_lookup_uses_its_index(actor, order):
    with scope(organization=actor.organization):
        uses("contact_unique_external_id", "contacts_contact", plan(contact_by_external_id("erp-1")))


def test_the_product_sku_lookup_of_shop_orders_uses_its_index(actor, order):
    with scope(organization=actor.organization):
        queryset = Product.objects.filter(sku__in=["SKU-1", "SKU-2"]).filter(~Q(sku=""))
        uses("product_unique_sku", "sales_product", plan(queryset))


def test_the_customer_email_lookup_uses_its_index(actor, order):
    """With a few thousand addresses in the organisation (on a handful PostgreSQL's planner may as
    well filter the organisation's index)."""
    contact = ContactEmail.dangerously_unscoped.get(email="ana@example.com").contact
    ContactEmail.dangerously_unscoped.bulk_create(
        ContactEmail(organization=actor.organization, contact=contact, email=f"a{n}@example.com") for n in range(3000)
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_contactemail")
    with scope(organization=actor.organization):
        uses(
            "contact_email_unique", "contacts_contactemail", plan(ContactEmail.objects.filter(email="ana@example.com"))
        )
