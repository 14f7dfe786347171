"""Revenue net of refunds, for the reports and the customer's value.

A won deal's revenue is its amount less what was refunded on its orders (in the deal's currency):
the forecast's "won" and the effectiveness report's revenue subtract `won_deal_refunds`, one
GROUP BY over the orders that have refunds (few), beside their own queries. A customer's value is
what their orders came to, less their refunds; cancelled orders and orders deleted in the shop
do not count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum

from vinculo.sales.models import DealStatus, Order, OrderStatus


def won_deal_refunds(*, since: dt.datetime, until: dt.datetime) -> QuerySet[Order]:
    """The orders with refunds of the deals won between `since` and `until`, in their deal's
    currency: group them by `deal__…` and sum `refunded_total` to take the refunds off the won
    amounts."""
    return Order.objects.filter(
        deal__status=DealStatus.WON,
        deal__closed_at__gte=since,
        deal__closed_at__lt=until,
        refunded_total__gt=0,
        currency=F("deal__currency"),
    )


@dataclass(frozen=True)
class CustomerValue:
    """What a customer's orders came to in one currency."""

    currency: str
    orders: int
    total: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        return self.total - self.refunded


def counted_orders() -> QuerySet[Order]:
    """The orders that count towards what customers spent: not cancelled, not deleted in the shop."""
    return Order.objects.exclude(status=OrderStatus.CANCELLED).filter(deleted_at_source__isnull=True)


def customer_value(about: Q) -> list[CustomerValue]:
    """Per currency, the orders matching `about` (a contact's, a company's), their total and their
    refunds; cancelled orders and those deleted in the shop are left out. One query."""
    rows = (
        counted_orders()
        .filter(about)
        .values("currency")
        .annotate(n=Count("id"), total=Sum("total"), refunded=Sum("refunded_total"))
        .order_by("currency")
    )
    return [
        CustomerValue(row["currency"], row["n"], row["total"] or Decimal(0), row["refunded"] or Decimal(0))
        for row in rows
    ]
