"""Reads of quotes and orders: lists (one query per page, whatever the number of rows) and the
documents with their lines and customers for the detail, print and PDF views."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.accounts.selectors import visible_to
from vinculo.contacts.selectors import contact_queryset
from vinculo.sales.models import (
    DealLineItem,
    Order,
    OrderAdjustment,
    OrderLine,
    Quote,
    QuoteLine,
    Refund,
    RefundLine,
)
from vinculo.sales.selectors.deals import deal_line_items, deal_queryset

LIST_RELATED = ("contact", "company", "owner")


def _search(queryset: QuerySet[Any], q: str) -> QuerySet[Any]:
    if not q:
        return queryset
    return queryset.filter(
        Q(number__icontains=q)
        | Q(contact__first_name__icontains=q)
        | Q(contact__last_name__icontains=q)
        | Q(company__name__icontains=q)
    )


def quote_list(*, actor: Membership, q: str = "", status: str = "") -> QuerySet[Quote]:
    queryset = visible_to(Quote.objects.all(), actor).select_related(*LIST_RELATED)
    if status:
        queryset = queryset.filter(status=status)
    return _search(queryset, q).order_by("-created_at", "-id")


def quote_get(*, actor: Membership, pk: Any) -> Quote:
    """The quote with its lines, or 404 (missing, another organisation's, or hidden from a rep)."""
    lines = Prefetch("lines", queryset=QuoteLine.objects.select_related("product").order_by("position", "id"))
    try:
        return (
            visible_to(Quote.objects.all(), actor)
            .select_related("organization", "contact", "company", "deal", "owner")
            .prefetch_related(lines)
            .get(pk=int(pk))
        )
    except (Quote.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def quote_order(*, quote: Quote) -> Order | None:
    """The order an accepted quote became."""
    return Order.objects.filter(quote=quote).first()


def order_list(*, actor: Membership, q: str = "", status: str = "", contact_id: int | None = None) -> QuerySet[Order]:
    queryset = visible_to(Order.objects.all(), actor).select_related(*LIST_RELATED)
    if status:
        queryset = queryset.filter(status=status)
    if contact_id is not None:
        queryset = queryset.filter(contact_id=contact_id)
    return _search(queryset, q).order_by("-placed_at", "-id")


def order_lookup(channel: str, external_id: str) -> QuerySet[Order]:
    """The order placed with `external_id` in `channel`, read through the unique index on
    (organization, channel, external_id) WHERE external_id <> '': the query repeats the index's
    condition, without which SQLite cannot use a partial index and reads the whole order table."""
    return Order.objects.filter(channel=channel, external_id=external_id).filter(~Q(external_id="")).order_by()


def order_get(*, actor: Membership, pk: Any) -> Order:
    """The order with its lines, adjustments and refunds, or 404 (missing, another
    organisation's, or hidden from a rep)."""
    lines = Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("position", "id"))
    adjustments = Prefetch("adjustments", queryset=OrderAdjustment.objects.order_by("position", "id"))
    refunds = Prefetch(
        "refunds",
        queryset=Refund.objects.order_by("refunded_at", "id").prefetch_related(
            Prefetch("lines", queryset=RefundLine.objects.order_by("position", "id"))
        ),
    )
    try:
        return (
            visible_to(Order.objects.all(), actor)
            .select_related("organization", "contact", "company", "deal", "owner", "quote")
            .prefetch_related(lines, adjustments, refunds)
            .get(pk=int(pk))
        )
    except (Order.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def order_warnings(order: Order) -> list[str]:
    """What the order's page and the API say is not right with its figures."""
    warnings = []
    if not order.figures_add_up:
        warnings.append(
            _(
                "The shop's figures do not add up: its total is %(total)s %(currency)s, but the lines and "
                "adjustments add up to %(computed)s %(currency)s. The shop's total is kept."
            )
            % {"total": order.total, "computed": order.computed_total, "currency": order.currency}
        )
    if order.deleted_at_source:
        warnings.append(_("This order was deleted in the shop."))
    return warnings


def refund_get(*, pk: int) -> Refund:
    """A refund with its lines (the caller has checked its order is visible)."""
    return Refund.objects.prefetch_related(
        Prefetch("lines", queryset=RefundLine.objects.order_by("position", "id"))
    ).get(pk=pk)


def quote_context_from(
    *, actor: Membership, deal_id: int | None, contact_id: int | None
) -> tuple[dict[str, str], list[DealLineItem]]:
    """What a new quote started from a deal (or a contact) already knows, as the quote form's
    initial values, and the lines to start with: a deal gives itself, its contact, its company
    (else its contact's), its currency and its products; a contact gives its company. A record
    the member may not see gives nothing."""
    known: dict[str, str] = {}
    lines: list[DealLineItem] = []
    if deal_id is not None:
        deal = deal_queryset(actor=actor).select_related("contact").filter(pk=deal_id).first()
        if deal is not None:
            known["deal"] = str(deal.pk)
            known["currency"] = deal.currency
            if deal.contact_id:
                known["contact"] = str(deal.contact_id)
            company_id = deal.company_id or (deal.contact.company_id if deal.contact is not None else None)
            if company_id:
                known["company"] = str(company_id)
            lines = deal_line_items(deal=deal)
    elif contact_id is not None:
        contact = contact_queryset(actor=actor).filter(pk=contact_id).values("company_id").first()
        if contact is not None and contact["company_id"]:
            known["company"] = str(contact["company_id"])
    return known, lines
