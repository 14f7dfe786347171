"""The condition kinds of `sales` (vinculo/contacts/conditions.py): number of orders, total spent and
average order value in the organisation's base currency (net of refunds, the orders that count
towards a customer's value: sales/selectors/revenue.py), last order date, products and product lines
bought, open deals by stage and pipeline. Registered from SalesConfig.ready().

Amounts are converted in SQL with today's rate of each currency (sales/selectors/currency.py); an
order in a currency without a rate is left out of the sums and averages, as in the reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Avg, Case, Count, DecimalField, F, Max, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext_lazy

from vinculo.contacts.conditions import (
    CHOICE,
    DATE,
    INVERSE,
    MONEY,
    NUMBER,
    RECORDS,
    ConditionKind,
    date_q,
    holds,
    parse_number,
    register_condition_kind,
)
from vinculo.sales.models import Deal, DealStatus, OrderLine, Pipeline, Product, Stage
from vinculo.sales.selectors.currency import rates_on
from vinculo.sales.selectors.revenue import counted_orders

if TYPE_CHECKING:
    from vinculo.accounts.models import Organization

ORDERS = ("sales.Order", "sales.Refund", "sales.ExchangeRate")
MONEY_FIELD = DecimalField(max_digits=20, decimal_places=2)


def _orders(organization: Organization) -> QuerySet[Any]:
    return counted_orders().filter(organization=organization, contact__isnull=False)


def _net_in_base(organization: Organization) -> Case:
    """An order's total less its refunds in the base currency; NULL without a rate for its currency."""
    net = F("total") - F("refunded_total")
    whens = [
        When(currency=currency, then=net * Value(rate, output_field=MONEY_FIELD))
        for currency, rate in sorted(rates_on(organization=organization).items())
    ]
    return Case(*whens, default=None, output_field=MONEY_FIELD)


def _measured(organization: Organization, measure: Any, op: str, value: Any, *, zero_matches: bool) -> Q:
    """Contacts whose per-contact `measure` of their orders satisfies `op value`. A contact without
    orders has the measure 0 when `zero_matches` tells whether 0 satisfies it; otherwise none."""
    per_contact = _orders(organization).values("contact_id").annotate(m=measure)

    def having(comparison: str) -> QuerySet[Any]:
        if comparison == "ne":
            return per_contact.exclude(m=value).values("contact_id")
        return per_contact.filter(**{"m" if comparison == "eq" else f"m__{comparison}": value}).values("contact_id")

    if zero_matches:
        return ~Q(id__in=having(INVERSE[op]))
    return Q(id__in=having(op))


def _orders_count_q(condition: Mapping[str, Any], organization: Organization) -> Q:
    value = parse_number(condition["value"])
    return _measured(
        organization, Count("id"), condition["op"], value, zero_matches=holds(condition["op"], Decimal(0), value)
    )


def _total_spent_q(condition: Mapping[str, Any], organization: Organization) -> Q:
    value = parse_number(condition["value"])
    op = condition["op"]
    return _measured(
        organization, Sum(_net_in_base(organization)), op, value, zero_matches=holds(op, Decimal(0), value)
    )


def _average_order_q(condition: Mapping[str, Any], organization: Organization) -> Q:
    value = parse_number(condition["value"])
    return _measured(organization, Avg(_net_in_base(organization)), condition["op"], value, zero_matches=False)


def _last_order_q(condition: Mapping[str, Any], organization: Organization) -> Q:
    op = condition["op"]
    buyers = Q(id__in=_orders(organization).values("contact_id"))
    if op in ("is_empty", "is_set"):
        return ~buyers if op == "is_empty" else buyers
    last = _orders(organization).values("contact_id").annotate(m=Max("placed_at"))
    return Q(id__in=last.filter(date_q("m", op, condition.get("value"))).values("contact_id"))


def _bought(organization: Organization, lines: Q, op: str) -> Q:
    orders = _orders(organization).filter(
        id__in=OrderLine.objects.filter(lines, organization=organization).values("order_id")
    )
    found = Q(id__in=orders.values("contact_id"))
    return found if op in ("has_any", "in") else ~found


def _product_q(condition: Mapping[str, Any], organization: Organization) -> Q:
    return _bought(organization, Q(product_id__in=condition["value"]), condition["op"])


def _product_line_q(condition: Mapping[str, Any], organization: Organization) -> Q:
    return _bought(organization, Q(product__product_line__in=condition["value"]), condition["op"])


def _open_deals_q(field: str) -> Any:
    def to_q(condition: Mapping[str, Any], organization: Organization) -> Q:
        deals = Deal.objects.filter(organization=organization, status=DealStatus.OPEN, contact__isnull=False)
        found = Q(id__in=deals.filter(**{f"{field}__in": condition["value"]}).values("contact_id"))
        return found if condition["op"] == "has_any" else ~found

    return to_q


def _known(model: Any) -> Any:
    def known(organization: Organization, ids: list[int]) -> set[int]:
        return set(model.objects.filter(organization=organization, id__in=ids).values_list("id", flat=True))

    return known


def _product_lines(organization: Organization) -> dict[str, str]:
    lines = Product.objects.filter(organization=organization).exclude(product_line="")
    return {line: line for line in lines.order_by("product_line").values_list("product_line", flat=True).distinct()}


def register() -> None:
    for name, label, value_type, to_q in (
        ("orders_count", gettext_lazy("Number of orders"), NUMBER, _orders_count_q),
        ("total_spent", gettext_lazy("Total spent"), MONEY, _total_spent_q),
        ("average_order_value", gettext_lazy("Average order value"), MONEY, _average_order_q),
        ("last_order_date", gettext_lazy("Last order date"), DATE, _last_order_q),
    ):
        register_condition_kind(
            ConditionKind(name=name, label=label, value_type=value_type, to_q=to_q, depends_on=ORDERS)
        )
    register_condition_kind(
        ConditionKind(
            name="bought_product",
            label=gettext_lazy("Bought a product"),
            value_type=RECORDS,
            to_q=_product_q,
            depends_on=(*ORDERS, "sales.OrderLine"),
            known_ids=_known(Product),
        )
    )
    register_condition_kind(
        ConditionKind(
            name="bought_product_line",
            label=gettext_lazy("Bought from a product line"),
            value_type=CHOICE,
            to_q=_product_line_q,
            depends_on=(*ORDERS, "sales.OrderLine", "sales.Product"),
            choices=_product_lines,
        )
    )
    register_condition_kind(
        ConditionKind(
            name="open_deal_stage",
            label=gettext_lazy("Has an open deal in stage"),
            value_type=RECORDS,
            to_q=_open_deals_q("stage_id"),
            depends_on=("sales.Deal",),
            known_ids=_known(Stage),
        )
    )
    register_condition_kind(
        ConditionKind(
            name="open_deal_pipeline",
            label=gettext_lazy("Has an open deal in pipeline"),
            value_type=RECORDS,
            to_q=_open_deals_q("pipeline_id"),
            depends_on=("sales.Deal",),
            known_ids=_known(Pipeline),
        )
    )
