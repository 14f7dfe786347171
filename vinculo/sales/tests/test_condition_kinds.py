"""The condition kinds of `sales` (vinculo/sales/condition_kinds.py): orders, spend and average order
value in the base currency net of refunds, last order date, products and product lines bought, open
deals by stage and pipeline; exact members, validation, and another organisation's rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scope

from vinculo.contacts.conditions import compile_definition, validate_definition
from vinculo.contacts.factories import ContactFactory
from vinculo.contacts.models import Contact
from vinculo.sales.factories import DealFactory, OrderFactory, ProductFactory
from vinculo.sales.models import DealStatus, ExchangeRate, OrderLine, OrderStatus
from vinculo.sales.testing import make_pipeline, stage_named

pytestmark = pytest.mark.django_db
D = Decimal


def ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def _order(
    org: Any, contact: Any, total: str, *, currency: str = "EUR", days: float = 1, product: Any = None, **extra: Any
) -> Any:
    order = OrderFactory(
        organization=org, contact=contact, total=D(total), currency=currency, placed_at=ago(days), **extra
    )
    if product is not None:
        OrderLine.dangerously_unscoped.create(
            organization=org,
            order=order,
            product=product,
            description=product.name,
            unit_price=D(total),
            total=D(total),
        )
    return order


@pytest.fixture
def shop(org: Any, other_org: Any) -> dict[str, Any]:
    """Ana: 100.00 EUR with 20.00 refunded (10 days ago, a Widget of Hardware) and 100.00 USD at 0.90
    (40 days ago): two orders, 170.00 spent, 85.00 on average. Luis: a cancelled and a deleted order
    (both with a Widget) that do not count, and 1,000.00 GBP without a rate (30 days ago). Eva: no
    order, an open deal in Proposal; Luis's deal in Proposal is won."""
    ana = ContactFactory(organization=org, first_name="Ana", city="Madrid")
    luis = ContactFactory(organization=org, first_name="Luis", city="Lisboa")
    eva = ContactFactory(organization=org, first_name="Eva", city="Madrid")
    widget = ProductFactory(organization=org, name="Widget", product_line="Hardware")
    course = ProductFactory(organization=org, name="Course", product_line="Training")
    ExchangeRate.dangerously_unscoped.create(
        organization=org, currency="USD", rate=D("0.9"), valid_from=ago(400).date()
    )
    _order(org, ana, "100.00", days=10, product=widget, refunded_total=D("20.00"))
    _order(org, ana, "100.00", currency="USD", days=40)
    _order(org, luis, "500.00", product=widget, status=OrderStatus.CANCELLED)
    _order(org, luis, "50.00", product=widget, deleted_at_source=ago(1))
    _order(org, luis, "1000.00", currency="GBP", days=30, product=course)
    pipeline = make_pipeline(org)
    proposal = stage_named(pipeline, "Proposal")
    DealFactory(organization=org, pipeline=pipeline, stage=proposal, contact=eva)
    DealFactory(organization=org, pipeline=pipeline, stage=proposal, contact=luis, status=DealStatus.WON)
    # rows of another organisation naming Eva never make her match
    theirs = ProductFactory(organization=other_org, name="Theirs", product_line="Hardware")
    _order(other_org, eva, "9000.00", product=theirs)
    their_pipeline = make_pipeline(other_org)
    DealFactory(
        organization=other_org, pipeline=their_pipeline, stage=stage_named(their_pipeline, "Proposal"), contact=ana
    )
    return {
        "widget": widget,
        "course": course,
        "pipeline": pipeline,
        "proposal": proposal,
        "theirs": theirs,
        "their_pipeline": their_pipeline,
    }


def one(org: Any, **leaf: Any) -> list[str]:
    with scope(organization=org):
        q = compile_definition({"all": [leaf]}, org)
        return sorted(Contact.objects.filter(q).values_list("first_name", flat=True))


MEASURE_CASES = [
    ("orders_count", "gte", 1, ["Ana", "Luis"]),
    ("orders_count", "eq", 0, ["Eva"]),
    ("orders_count", "gt", 1, ["Ana"]),
    ("orders_count", "lt", 2, ["Eva", "Luis"]),
    ("orders_count", "lte", 1, ["Eva", "Luis"]),
    ("orders_count", "ne", 2, ["Eva", "Luis"]),
    ("orders_count", "ne", 0, ["Ana", "Luis"]),
    ("total_spent", "gt", "100", ["Ana"]),
    ("total_spent", "eq", "170.00", ["Ana"]),
    ("total_spent", "gte", 170, ["Ana"]),
    ("total_spent", "gt", "170.01", []),
    ("total_spent", "lt", 100, ["Eva", "Luis"]),
    ("total_spent", "eq", 0, ["Eva", "Luis"]),
    ("average_order_value", "eq", "85", ["Ana"]),
    ("average_order_value", "lt", 1000, ["Ana"]),
    ("average_order_value", "gt", 85, []),
]


@pytest.mark.parametrize(("kind", "op", "value", "expected"), MEASURE_CASES)
def test_orders_and_spend(org, shop, kind, op, value, expected):
    assert one(org, kind=kind, op=op, value=value) == expected


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("in_last", 20, ["Ana"]),
        ("more_than_ago", 20, ["Luis"]),
        ("is_empty", None, ["Eva"]),
        ("is_set", None, ["Ana", "Luis"]),
    ],
)
def test_last_order_date(org, shop, op, value, expected):
    leaf = {"kind": "last_order_date", "op": op} | ({} if value is None else {"value": value})
    assert one(org, **leaf) == expected


def test_last_order_on_a_day(org, shop):
    assert one(org, kind="last_order_date", op="on", value=timezone.localdate(ago(10)).isoformat()) == ["Ana"]
    assert one(org, kind="last_order_date", op="before", value=timezone.localdate(ago(10)).isoformat()) == ["Luis"]


def test_products_and_lines_bought(org, shop):
    assert one(org, kind="bought_product", op="has_any", value=[shop["widget"].pk]) == ["Ana"]
    assert one(org, kind="bought_product", op="has_any", value=[shop["widget"].pk, shop["course"].pk]) == [
        "Ana",
        "Luis",
    ]
    assert one(org, kind="bought_product", op="has_none", value=[shop["widget"].pk]) == ["Eva", "Luis"]
    assert one(org, kind="bought_product_line", op="in", value=["Hardware"]) == ["Ana"]
    assert one(org, kind="bought_product_line", op="not_in", value=["Hardware", "Training"]) == ["Eva"]


def test_open_deals(org, shop):
    assert one(org, kind="open_deal_stage", op="has_any", value=[shop["proposal"].pk]) == ["Eva"]
    assert one(org, kind="open_deal_stage", op="has_none", value=[shop["proposal"].pk]) == ["Ana", "Luis"]
    assert one(org, kind="open_deal_pipeline", op="has_any", value=[shop["pipeline"].pk]) == ["Eva"]


def test_combined_with_contact_fields(org, shop):
    definition = {
        "all": [
            {"kind": "city", "op": "eq", "value": "Madrid"},
            {
                "any": [
                    {"kind": "total_spent", "op": "gt", "value": 150},
                    {"kind": "open_deal_stage", "op": "has_any", "value": [shop["proposal"].pk]},
                ]
            },
        ]
    }
    with scope(organization=org):
        q = compile_definition(definition, org)
        assert sorted(Contact.objects.filter(q).values_list("first_name", flat=True)) == ["Ana", "Eva"]


def test_records_of_another_organisation_are_refused(org, other_org, shop):
    their_stage = stage_named(shop["their_pipeline"], "Proposal")
    cases = [
        (
            {"kind": "bought_product", "op": "has_any", "value": [shop["theirs"].pk]},
            f"No such record: {shop['theirs'].pk}.",
        ),
        ({"kind": "open_deal_stage", "op": "has_any", "value": [their_stage.pk]}, f"No such record: {their_stage.pk}."),
        (
            {"kind": "open_deal_pipeline", "op": "has_none", "value": [shop["their_pipeline"].pk]},
            f"No such record: {shop['their_pipeline'].pk}.",
        ),
        (
            {"kind": "bought_product_line", "op": "in", "value": ["Software"]},
            "Unknown value: Software. Allowed: Hardware, Training.",
        ),
        ({"kind": "total_spent", "op": "gt", "value": "lots"}, "Enter a number."),
        ({"kind": "orders_count", "op": "gt", "value": None}, "Enter a number."),
        ({"kind": "last_order_date", "op": "in_last", "value": -5}, "Enter a number of days from 0 to 36500."),
    ]
    with scope(organization=org):
        for leaf, message in cases:
            assert validate_definition({"all": [leaf]}, org) == {"conditions.0.value": message}, leaf
        assert validate_definition({"all": [{"kind": "total_spent", "op": "contains", "value": 1}]}, org) == {
            "conditions.0.op": "The operator “contains” does not apply to an amount. Allowed: eq, ne, gt, gte, lt, lte."
        }
