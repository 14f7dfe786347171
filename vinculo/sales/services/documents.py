"""Writes of sales documents: quotes (draft → sent → accepted/declined) and orders.

Lines are priced, validated and totalled by `pricing.py`, the same way for quotes, orders, deals
and the form's totals preview (`document_preview`).

Numbers come from a per-organisation `DocumentCounter` row, locked and incremented with F() in
the same transaction as the document, and taken only after every check has passed: a refused
document consumes no number, and two documents never share one.

Accepting a quote places its order in the same transaction (`quote_accept`); a new order marks its
contact as a customer (through `contact_update`, so the change is audited) and emits
`order.placed` on the customer's timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership, Organization
from vinculo.accounts.permissions import require_write
from vinculo.accounts.system_actor import default_owner
from vinculo.contacts.models import Contact, LifecycleStage
from vinculo.contacts.selectors import company_queryset, contact_queryset
from vinculo.contacts.services import contact_update
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.events import emit
from vinculo.core.validation import (
    Errors,
    add_error,
    check_date_range,
    clean_currency,
    clean_date,
    clean_text,
    keep_linked,
    record_by_id,
    reject_unknown,
)
from vinculo.sales.models import (
    Deal,
    DealStatus,
    DocumentCounter,
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    PriceList,
    Quote,
    QuoteLine,
    QuoteStatus,
    SalesDocument,
    StageKind,
)
from vinculo.sales.pricing import (
    PricedLine,
    Totals,
    compute_totals,
    given,
    price_lines,
    price_list_for,
    save_line_rows,
)
from vinculo.sales.services.deals import deal_update

QUOTE_FIELDS = ("contact", "company", "deal", "currency", "valid_until", "notes", "lines", "price_list")
ORDER_FIELDS = ("contact", "company", "deal", "currency", "notes", "lines", "price_list", "external_id", "placed_at")
# an order's own time (a shop's, an import's) may run ahead of ours by a little clock skew, no more
PLACED_AT_SKEW = dt.timedelta(minutes=5)
DOCUMENT_AUDITED = ["number", "status", "contact", "company", "deal", "currency", "notes", "total"]
PREFIXES = {"quote": "Q", "order": "O"}
# what an order may become from each status; cancelled and refunded are final
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    OrderStatus.PLACED: (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.CANCELLED),
    OrderStatus.PAID: (OrderStatus.FULFILLED, OrderStatus.REFUNDED, OrderStatus.CANCELLED),
    OrderStatus.FULFILLED: (OrderStatus.REFUNDED,),
    OrderStatus.CANCELLED: (),
    OrderStatus.REFUNDED: (),
}


class DocumentConflict(Exception):
    """The document is not in a state that allows this (the API answers 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def document_preview(*, actor: Membership, data: Mapping[str, Any]) -> tuple[Totals, Errors]:
    """The totals the form would save, with the errors that would refuse it (nothing is written)."""
    errors: Errors = {}
    currency = clean_currency(data.get("currency") or actor.organization.base_currency, "currency", errors)
    price_list = price_list_for(currency, data.get("price_list"), errors)
    lines = price_lines(lines=data.get("lines", []), currency=currency, price_list=price_list, errors=errors)
    return compute_totals(lines), errors


# --- shared document pieces -----------------------------------------------------------------------


def _next_number(organization: Organization, kind: str) -> str:
    """The next number of `kind` ("quote", "order"): the counter row is locked and incremented with
    F(), inside the caller's transaction, so a rolled-back document gives its number back."""
    counter, _created = DocumentCounter.objects.select_for_update().get_or_create(organization=organization, kind=kind)
    DocumentCounter.objects.filter(pk=counter.pk).update(value=F("value") + 1)
    counter.refresh_from_db(fields=["value"])
    return f"{PREFIXES[kind]}-{counter.value:05d}"


def _apply_customer(actor: Membership, document: SalesDocument, data: Mapping[str, Any], errors: Errors) -> None:
    """Contact, company and deal; a deal alone brings its contact and company."""
    if "contact" in data:
        document.contact = record_by_id(
            keep_linked(contact_queryset(actor=actor), document.contact_id, data["contact"]),
            data["contact"],
            "contact",
            errors,
            _("No such contact."),
        )
    if "company" in data:
        document.company = record_by_id(
            keep_linked(company_queryset(actor=actor), document.company_id, data["company"]),
            data["company"],
            "company",
            errors,
            _("No such company."),
        )
    if "deal" in data:
        deal = record_by_id(Deal.objects.select_related("pipeline"), data["deal"], "deal", errors, _("No such deal."))
        document.deal = deal
        if deal is not None:
            if not given(data.get("contact")) and document.contact_id is None and deal.contact_id is not None:
                document.contact_id = deal.contact_id
            if not given(data.get("company")) and document.company_id is None and deal.company_id is not None:
                document.company_id = deal.company_id
    if document.contact_id is None and document.company_id is None and not {"contact", "company"} & set(errors):
        add_error(errors, "contact", _("Choose a contact or a company."))


def _apply_common(
    actor: Membership, document: SalesDocument, data: Mapping[str, Any], errors: Errors, allowed: tuple[str, ...]
) -> PriceList | None:
    reject_unknown(data, allowed, errors)
    _apply_customer(actor, document, data, errors)
    if given(data.get("currency")):  # empty keeps the document's (new: the base currency)
        currency = clean_currency(data["currency"], "currency", errors)
        if currency is not None:
            document.currency = currency
    if "notes" in data:
        notes = clean_text(data["notes"], "notes", errors, max_length=5000)
        if notes is not None:
            document.notes = notes
    currency_ok = "currency" not in errors
    return price_list_for(document.currency if currency_ok else None, data.get("price_list"), errors)


def _set_totals(document: SalesDocument, totals: Totals) -> None:
    document.subtotal = totals.subtotal
    document.discount_total = totals.discount_total
    document.tax_total = totals.tax_total
    document.total = totals.total


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _emit(
    document: SalesDocument,
    actor: Membership | None,
    type: str,
    properties: dict[str, Any],
    occurred_at: dt.datetime | None = None,
) -> None:
    """An event on the contact's timeline (and the company's: the document's or the contact's)."""
    emit(
        organization=document.organization,
        type=type,
        contact=document.contact,
        company=document.company,
        actor=actor.user if actor is not None else None,
        properties=properties,
        occurred_at=occurred_at,
    )


def _clean_placed_at(value: Any, errors: Errors) -> dt.datetime | None:
    """When an order was placed, as an aware ISO 8601 date-time; not in the future."""
    if not given(value):
        return None
    try:
        when = value if isinstance(value, dt.datetime) else parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well-formed but impossible, e.g. month 13
        when = None
    if when is None or timezone.is_naive(when):
        add_error(errors, "placed_at", _("Enter a date and time with its time zone, e.g. 2026-11-29T10:30:00+01:00."))
        return None
    if not check_date_range(when, "placed_at", errors):  # year 1 at +05:00 cannot even be put in UTC
        return None
    if when > timezone.now() + PLACED_AT_SKEW:
        add_error(errors, "placed_at", _("An order cannot be placed in the future."))
        return None
    return when


def _quote_properties(quote: Quote) -> dict[str, Any]:
    return {"quote_id": quote.pk, "number": quote.number, "total": _money(quote.total), "currency": quote.currency}


# --- quotes ---------------------------------------------------------------------------------------


@transaction.atomic
def quote_create(*, actor: Membership, data: Mapping[str, Any]) -> Quote:
    """A draft quote with its lines and totals, numbered Q-00001, Q-00002, … per organisation."""
    require_write(actor)
    organization = actor.organization
    quote = Quote(organization=organization, currency=organization.base_currency, owner=actor.user)
    errors: Errors = {}
    price_list = _apply_common(actor, quote, data, errors, QUOTE_FIELDS)
    if "valid_until" in data:
        quote.valid_until = clean_date(data["valid_until"], "valid_until", errors)
    currency = None if "currency" in errors else quote.currency
    lines = price_lines(lines=data.get("lines", []), currency=currency, price_list=price_list, errors=errors)
    if errors:
        raise ValidationError(errors)
    totals = compute_totals(lines)
    _set_totals(quote, totals)
    quote.number = _next_number(organization, "quote")
    quote.save()
    save_line_rows(QuoteLine, "quote", quote, lines)
    audit_create(instance=quote, actor=actor.user, values=snapshot(quote, DOCUMENT_AUDITED), organization=organization)
    _emit(quote, actor, "quote.created", {**_quote_properties(quote), "lines": len(lines)})
    return quote


def _lock_quote(quote: Quote) -> Quote:
    return (
        Quote.objects.select_for_update(of=("self",))
        .select_related("organization", "contact", "company", "deal")
        .get(pk=quote.pk)
    )


def _refuse_unless_draft(quote: Quote) -> None:
    if quote.status != QuoteStatus.DRAFT:
        raise ValidationError(
            {
                "status": [
                    _("Only draft quotes can be changed; this one is %(status)s.")
                    % {"status": quote.get_status_display().lower()}
                ]
            }
        )


@transaction.atomic
def quote_update(*, actor: Membership, quote: Quote, data: Mapping[str, Any]) -> Quote:
    """Change a draft quote (PATCH semantics). Lines given replace all the lines; a new currency
    needs its lines given again (their prices were in the old one)."""
    require_write(actor)
    quote = _lock_quote(quote)
    _refuse_unless_draft(quote)
    before = snapshot(quote, DOCUMENT_AUDITED)
    old_currency = quote.currency
    errors: Errors = {}
    price_list = _apply_common(actor, quote, data, errors, QUOTE_FIELDS)
    if "valid_until" in data:
        quote.valid_until = clean_date(data["valid_until"], "valid_until", errors)
    lines: list[PricedLine] | None = None
    if "lines" in data:
        currency = None if "currency" in errors else quote.currency
        lines = price_lines(lines=data["lines"], currency=currency, price_list=price_list, errors=errors)
    elif quote.currency != old_currency and "currency" not in errors:
        add_error(errors, "currency", _("Give the lines again when you change the currency."))
    elif "price_list" in data and not errors:
        add_error(errors, "price_list", _("A price list prices the lines given with it."))
    if errors:
        raise ValidationError(errors)
    if lines is not None:
        _set_totals(quote, compute_totals(lines))
        quote.lines.all().delete()
        save_line_rows(QuoteLine, "quote", quote, lines)
    quote.save()
    audit_update(
        instance=quote,
        actor=actor.user,
        changes=diff(before, snapshot(quote, DOCUMENT_AUDITED)),
        organization=actor.organization,
    )
    return quote


@transaction.atomic
def quote_send(*, actor: Membership, quote: Quote) -> Quote:
    """Mark a draft as sent to the customer (it can no longer be edited)."""
    require_write(actor)
    quote = _lock_quote(quote)
    if quote.status != QuoteStatus.DRAFT:
        raise DocumentConflict(
            _("Only a draft can be sent; this quote is %(status)s.") % {"status": quote.get_status_display().lower()}
        )
    return _set_quote_status(actor, quote, QuoteStatus.SENT, "quote.sent")


def _set_quote_status(actor: Membership, quote: Quote, status: str, event: str) -> Quote:
    before = snapshot(quote, DOCUMENT_AUDITED)
    quote.status = status
    fields = ["status", "updated_at"]
    if status == QuoteStatus.ACCEPTED:
        quote.accepted_at = timezone.now()
        fields.append("accepted_at")
    quote.save(update_fields=fields)
    audit_update(
        instance=quote,
        actor=actor.user,
        changes=diff(before, snapshot(quote, DOCUMENT_AUDITED)),
        organization=actor.organization,
    )
    _emit(quote, actor, event, _quote_properties(quote))
    return quote


def _refuse_closed(quote: Quote) -> None:
    if quote.status == QuoteStatus.ACCEPTED:
        raise DocumentConflict(_("This quote has already been accepted."))
    if quote.status == QuoteStatus.DECLINED:
        raise DocumentConflict(_("This quote was declined."))


@transaction.atomic
def quote_accept(*, actor: Membership, quote: Quote) -> Order:
    """The customer accepts: the quote is closed and its order placed (channel "quote", the same
    lines and totals), its deal is won when its pipeline has a won stage; all in one transaction.
    Accepting twice is refused (the quote row is locked, so two clicks cannot both pass)."""
    require_write(actor)
    quote = _lock_quote(quote)
    _refuse_closed(quote)
    _set_quote_status(actor, quote, QuoteStatus.ACCEPTED, "quote.accepted")
    lines = [PricedLine.from_stored(line) for line in quote.lines.select_related("product").order_by("position", "id")]
    order = Order(
        organization=quote.organization,
        contact=quote.contact,
        company=quote.company,
        deal=quote.deal,
        currency=quote.currency,
        owner=quote.owner if quote.owner_id else actor.user,
        notes=quote.notes,
        channel=OrderChannel.QUOTE,
        quote=quote,
    )
    _set_totals(order, compute_totals(lines))
    _place(actor, order, lines)
    deal = quote.deal
    if deal is not None and deal.status != DealStatus.WON:
        won = deal.pipeline.stages.filter(kind=StageKind.WON).order_by("position", "id").first()
        if won is not None:
            deal_update(actor=actor, deal=deal, data={"stage": won.pk})
    return order


@transaction.atomic
def quote_decline(*, actor: Membership, quote: Quote) -> Quote:
    require_write(actor)
    quote = _lock_quote(quote)
    _refuse_closed(quote)
    return _set_quote_status(actor, quote, QuoteStatus.DECLINED, "quote.declined")


@transaction.atomic
def quote_delete(*, actor: Membership, quote: Quote) -> None:
    """Only a draft can be deleted: a sent quote is part of the customer's history."""
    require_write(actor)
    quote = _lock_quote(quote)
    if quote.status != QuoteStatus.DRAFT:
        raise DocumentConflict(_("Only a draft quote can be deleted."))
    audit_delete(
        instance=quote, actor=actor.user, values=snapshot(quote, DOCUMENT_AUDITED), organization=actor.organization
    )
    quote.delete()


# --- orders ---------------------------------------------------------------------------------------


def _place(actor: Membership, order: Order, lines: list[PricedLine]) -> None:
    """Number and save the order and its lines, emit `order.placed`, make the contact a customer."""
    order.placed_at = order.placed_at or timezone.now()
    order.number = _next_number(order.organization, "order")
    order.save()
    save_line_rows(OrderLine, "order", order, lines)
    audit_create(
        instance=order, actor=actor.user, values=snapshot(order, DOCUMENT_AUDITED), organization=actor.organization
    )
    _emit(
        order,
        actor,
        "order.placed",
        {
            "order_id": order.pk,
            "number": order.number,
            "total": _money(order.total),
            "currency": order.currency,
            "channel": order.channel,
            "lines": len(lines),
        },
        occurred_at=order.placed_at,
    )
    contact: Contact | None = order.contact
    if contact is not None and contact.lifecycle_stage != LifecycleStage.CUSTOMER:
        contact_update(actor=actor, contact=contact, data={"lifecycle_stage": LifecycleStage.CUSTOMER})


@transaction.atomic
def order_create(
    *, actor: Membership, data: Mapping[str, Any], channel: str = OrderChannel.SALES_REP
) -> tuple[Order, bool]:
    """A new order; `(order, created)`. An `external_id` already used in this channel returns the
    order placed with it, unchanged (`created` false): importing the same order twice is harmless."""
    require_write(actor)
    organization = actor.organization
    errors: Errors = {}
    if channel not in OrderChannel.values or channel == OrderChannel.QUOTE:
        add_error(errors, "channel", _("Choose one of %(expected)s.") % {"expected": "sales_rep, api, ecommerce"})
        raise ValidationError(errors)
    external_id = clean_text(data.get("external_id"), "external_id", errors, max_length=128) or ""
    if external_id:
        existing = Order.objects.filter(channel=channel, external_id=external_id).first()
        if existing is not None:
            return existing, False
    order = Order(
        organization=organization,
        currency=organization.base_currency,
        owner=default_owner(actor),
        channel=channel,
        external_id=external_id,
    )
    price_list = _apply_common(actor, order, data, errors, ORDER_FIELDS)
    order.placed_at = _clean_placed_at(data.get("placed_at"), errors)  # type: ignore[assignment]  # None: now
    currency = None if "currency" in errors else order.currency
    lines = price_lines(lines=data.get("lines", []), currency=currency, price_list=price_list, errors=errors)
    if errors:
        raise ValidationError(errors)
    _set_totals(order, compute_totals(lines))
    try:
        with transaction.atomic():
            _place(actor, order, lines)
    except IntegrityError:
        # the same external id placed at the same moment by another request
        existing = Order.objects.filter(channel=channel, external_id=external_id).first() if external_id else None
        if existing is None:
            raise
        return existing, False
    return order, True


@transaction.atomic
def order_set_status(*, actor: Membership, order: Order, status: str) -> Order:
    """Paid, fulfilled, cancelled or refunded, along the allowed transitions (ORDER_TRANSITIONS)."""
    require_write(actor)
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("organization", "contact", "company")
        .get(pk=order.pk)
    )
    if status not in OrderStatus.values:
        raise ValidationError(
            {"status": [_("Choose one of %(expected)s.") % {"expected": ", ".join(OrderStatus.values)}]}
        )
    allowed = ORDER_TRANSITIONS[order.status]
    if status not in allowed:
        raise ValidationError(
            {
                "status": [
                    _("An order that is %(current)s cannot become %(new)s.")
                    % {"current": order.get_status_display().lower(), "new": OrderStatus(status).label.lower()}
                ]
            }
        )
    before = snapshot(order, DOCUMENT_AUDITED)
    old = order.status
    order.status = status
    order.save(update_fields=["status", "updated_at"])
    audit_update(
        instance=order,
        actor=actor.user,
        changes=diff(before, snapshot(order, DOCUMENT_AUDITED)),
        organization=actor.organization,
    )
    _emit(
        order,
        actor,
        "order.status_changed",
        {"order_id": order.pk, "number": order.number, "from": old, "to": status, "total": _money(order.total)},
    )
    return order


def order_status_choices(order: Order) -> list[tuple[str, str]]:
    """The statuses this order may move to, for the buttons of its page."""
    return [(status, str(OrderStatus(status).label)) for status in ORDER_TRANSITIONS[order.status]]


__all__ = [
    "DocumentConflict",
    "PricedLine",
    "Totals",
    "compute_totals",
    "document_preview",
    "order_create",
    "order_set_status",
    "price_lines",
    "quote_accept",
    "quote_create",
    "quote_decline",
    "quote_delete",
    "quote_send",
    "quote_update",
]


# what services.quote_email shares with the quote services above
lock_quote = _lock_quote
quote_properties = _quote_properties
emit_document_event = _emit
