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
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
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
from vinculo.contacts.validation import clean_email
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.events import emit
from vinculo.core.validation import (
    MAX_MONEY,
    Errors,
    add_error,
    check_date_range,
    clean_address,
    clean_bool,
    clean_currency,
    clean_date,
    clean_money,
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
    OrderAdjustment,
    OrderChannel,
    OrderLine,
    OrderStatus,
    PriceList,
    Product,
    Quote,
    QuoteLine,
    QuoteStatus,
    SalesDocument,
    StageKind,
)
from vinculo.sales.pricing import (
    AdjustmentInput,
    PricedLine,
    Totals,
    adjustment_rows,
    clean_adjustments,
    compute_totals,
    given,
    order_line_rows,
    order_totals,
    price_lines,
    price_list_for,
    save_line_rows,
    within_range,
)
from vinculo.sales.selectors.documents import order_lookup
from vinculo.sales.services.deals import deal_update
from vinculo.sales.services.order_status import (
    DOCUMENT_AUDITED,
    ORDER_TRANSITIONS,
    lock_order,
    order_move_status,
)
from vinculo.sales.services.refunds import refund_record

QUOTE_FIELDS = ("contact", "company", "deal", "currency", "valid_until", "notes", "lines", "price_list")
ORDER_DETAILS = (
    "total",
    "external_number",
    "external_url",
    "customer_email",
    "billing_address",
    "shipping_address",
    "taxes_included",
    "discount_codes",
    "presentment_currency",
    "presentment_total",
)
ORDER_FIELDS = (
    "contact",
    "company",
    "deal",
    "currency",
    "notes",
    "lines",
    "adjustments",
    "price_list",
    "external_id",
    "placed_at",
    *ORDER_DETAILS,
)
MAX_DISCOUNT_CODES = 50
# an order's own time (a shop's, an import's) may run ahead of ours by a little clock skew, no more
PLACED_AT_SKEW = dt.timedelta(minutes=5)
PREFIXES = {"quote": "Q", "order": "O"}


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


def next_numbers(organization: Organization, kind: str, count: int) -> list[str]:
    """`count` consecutive numbers of `kind` at once (a batch import), reserved like `_next_number`."""
    if count <= 0:
        return []
    counter, _created = DocumentCounter.objects.select_for_update().get_or_create(organization=organization, kind=kind)
    DocumentCounter.objects.filter(pk=counter.pk).update(value=F("value") + count)
    counter.refresh_from_db(fields=["value"])
    first = counter.value - count + 1
    return [f"{PREFIXES[kind]}-{n:05d}" for n in range(first, counter.value + 1)]


def _next_number(organization: Organization, kind: str) -> str:
    """The next number of `kind` ("quote", "order"): the counter row is locked and incremented with
    F(), inside the caller's transaction, so a rolled-back document gives its number back."""
    counter, _created = DocumentCounter.objects.select_for_update().get_or_create(organization=organization, kind=kind)
    DocumentCounter.objects.filter(pk=counter.pk).update(value=F("value") + 1)
    counter.refresh_from_db(fields=["value"])
    return f"{PREFIXES[kind]}-{counter.value:05d}"


@dataclass
class Prefetched:
    """What a batch of orders reads once for all of them instead of once per order: the contacts,
    companies and deals the actor may use, the products, the default price list per currency."""

    contacts: dict[int, Any] = field(default_factory=dict)
    companies: dict[int, Any] = field(default_factory=dict)
    deals: dict[int, Any] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    price_lists: dict[str, PriceList | None] = field(default_factory=dict)


def _prefetched(records: Mapping[int, Any], value: Any, name: str, errors: Errors, message: str) -> Any:
    """`record_by_id` over records already read."""
    if value in (None, ""):
        return None
    try:
        record = records.get(int(value)) if not isinstance(value, bool) else None
    except (TypeError, ValueError, OverflowError):
        record = None
    if record is None:
        add_error(errors, name, message)
    return record


def _apply_customer(
    actor: Membership,
    document: SalesDocument,
    data: Mapping[str, Any],
    errors: Errors,
    prefetched: Prefetched | None = None,
) -> None:
    """Contact, company and deal; a deal alone brings its contact and company."""
    if "contact" in data:
        document.contact = (
            _prefetched(prefetched.contacts, data["contact"], "contact", errors, _("No such contact."))
            if prefetched is not None
            else record_by_id(
                keep_linked(contact_queryset(actor=actor), document.contact_id, data["contact"]),
                data["contact"],
                "contact",
                errors,
                _("No such contact."),
            )
        )
    if "company" in data:
        document.company = (
            _prefetched(prefetched.companies, data["company"], "company", errors, _("No such company."))
            if prefetched is not None
            else record_by_id(
                keep_linked(company_queryset(actor=actor), document.company_id, data["company"]),
                data["company"],
                "company",
                errors,
                _("No such company."),
            )
        )
    if "deal" in data:
        deal = (
            _prefetched(prefetched.deals, data["deal"], "deal", errors, _("No such deal."))
            if prefetched is not None
            else record_by_id(Deal.objects.select_related("pipeline"), data["deal"], "deal", errors, _("No such deal."))
        )
        document.deal = deal
        if deal is not None:
            if not given(data.get("contact")) and document.contact_id is None and deal.contact_id is not None:
                document.contact_id = deal.contact_id
            if not given(data.get("company")) and document.company_id is None and deal.company_id is not None:
                document.company_id = deal.company_id
    if document.contact_id is None and document.company_id is None and not {"contact", "company"} & set(errors):
        add_error(errors, "contact", _("Choose a contact or a company."))


def _apply_common(
    actor: Membership,
    document: SalesDocument,
    data: Mapping[str, Any],
    errors: Errors,
    allowed: tuple[str, ...],
    prefetched: Prefetched | None = None,
) -> PriceList | None:
    reject_unknown(data, allowed, errors)
    _apply_customer(actor, document, data, errors, prefetched)
    if given(data.get("currency")):  # empty keeps the document's (new: the base currency)
        currency = clean_currency(data["currency"], "currency", errors)
        if currency is not None:
            document.currency = currency
    if "notes" in data:
        notes = clean_text(data["notes"], "notes", errors, max_length=5000)
        if notes is not None:
            document.notes = notes
    currency = document.currency if "currency" not in errors else None
    if prefetched is not None and not given(data.get("price_list")) and currency:
        if currency not in prefetched.price_lists:
            prefetched.price_lists[currency] = price_list_for(currency, None, errors)
        return prefetched.price_lists[currency]
    return price_list_for(currency, data.get("price_list"), errors)


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
    _set_order_totals(order, order_totals(lines, [], order.currency), None)
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


def _clean_url(value: Any, field: str, errors: Errors) -> str:
    text = clean_text(value, field, errors, max_length=500, single_line=True) or ""
    if text:
        try:
            URLValidator(schemes=["http", "https"])(text)
        except ValidationError:
            add_error(errors, field, _("Enter a web address starting with https://."))
            return ""
    return text


def _clean_codes(value: Any, errors: Errors) -> list[str]:
    if not given(value):
        return []
    if not isinstance(value, list | tuple) or len(value) > MAX_DISCOUNT_CODES:
        add_error(errors, "discount_codes", _("Give a list of at most %(n)s codes.") % {"n": MAX_DISCOUNT_CODES})
        return []
    codes = [
        clean_text(code, f"discount_codes.{i}", errors, max_length=100, required=True) for i, code in enumerate(value)
    ]
    return [code for code in codes if code]


def _apply_order_details(order: Order, data: Mapping[str, Any], errors: Errors) -> Decimal | None:
    """The order's shop details (ORDER_DETAILS); returns the total the sender gave, if any."""
    order.external_number = clean_text(data.get("external_number"), "external_number", errors, max_length=64) or ""
    order.external_url = _clean_url(data.get("external_url"), "external_url", errors)
    if given(data.get("customer_email")):
        try:
            order.customer_email = clean_email(data["customer_email"])
        except ValidationError as exc:
            errors.setdefault("customer_email", []).extend(exc.messages)
    order.billing_address = clean_address(data.get("billing_address"), "billing_address", errors)
    order.shipping_address = clean_address(data.get("shipping_address"), "shipping_address", errors)
    order.taxes_included = bool(clean_bool(data.get("taxes_included"), "taxes_included", errors))
    order.discount_codes = _clean_codes(data.get("discount_codes"), errors)
    if given(data.get("presentment_currency")):
        order.presentment_currency = clean_currency(data["presentment_currency"], "presentment_currency", errors) or ""
    if given(data.get("presentment_total")) and within_range(data["presentment_total"], "presentment_total", errors):
        order.presentment_total = clean_money(data["presentment_total"], "presentment_total", errors)
    if given(data.get("total")) and within_range(data["total"], "total", errors):
        return clean_money(data["total"], "total", errors)
    return None


def _digest(value: Any) -> str:
    """A short fingerprint of a validated value (texts, numbers, lists and dicts of them, built in
    a fixed order): its repr, hashed."""
    return hashlib.blake2b(repr(value).encode(), digest_size=8).hexdigest()


def _line_key(line: PricedLine) -> list[Any]:
    return [
        line.product.pk if line.product else None,
        line.description,
        str(line.quantity.normalize()),
        str(line.unit_price.normalize()),
        str(line.discount_percent.normalize()),
        str(line.tax_rate.normalize()),
        line.sku,
        line.external_id,
        None if line.subtotal_amount is None else f"{line.subtotal_amount:.2f}",
        None if line.discount_amount is None else f"{line.discount_amount:.2f}",
        None if line.tax_amount is None else f"{line.tax_amount:.2f}",
    ]


def _order_digest(order: Order, lines: list[PricedLine], adjustments: list[AdjustmentInput]) -> dict[str, str]:
    """A digest of each field of the order as validated (so "10.0" and 10 are the same): what a
    resend of the same external id is compared with, field by field."""
    values: dict[str, Any] = {
        "contact": order.contact_id,
        "company": order.company_id,
        "deal": order.deal_id,
        "currency": order.currency,
        "notes": order.notes,
        "placed_at": order.placed_at.astimezone(dt.UTC).isoformat() if order.placed_at else None,
        "lines": [_line_key(line) for line in lines],
        "adjustments": [
            [
                a.kind,
                a.description,
                a.code,
                a.external_id,
                f"{a.amount:.2f}",
                f"{a.discount_amount:.2f}",
                f"{a.tax_amount:.2f}",
                a.included_in_lines,
            ]
            for a in adjustments
        ],
        "total": f"{order.total:.2f}",
        "external_number": order.external_number,
        "external_url": order.external_url,
        "customer_email": order.customer_email,
        "billing_address": order.billing_address,
        "shipping_address": order.shipping_address,
        "taxes_included": order.taxes_included,
        "discount_codes": order.discount_codes,
        "presentment_currency": order.presentment_currency,
        "presentment_total": None if order.presentment_total is None else f"{order.presentment_total:.2f}",
    }
    return {name: _digest(value) for name, value in values.items()}


def _placed_at_text(order: Order) -> str:
    order.placed_at = order.placed_at or timezone.now()
    return order.placed_at.astimezone(dt.UTC).isoformat()


class OrderConflict(DocumentConflict):
    """An order with this external id exists, placed with other values (the API answers 409):
    `fields` names the ones that differ. Nothing is changed."""

    def __init__(self, order: Order, fields: list[str]) -> None:
        super().__init__(
            _("An order with this external id was placed with other values: %(fields)s. It was not changed.")
            % {"fields": ", ".join(fields)}
        )
        self.order = order
        self.fields = fields


def order_by_external_id(channel: str, external_id: str) -> Order | None:
    return next(iter(order_lookup(channel, external_id)[:1]), None)


def _place(
    actor: Membership,
    order: Order,
    lines: list[PricedLine],
    adjustments: list[AdjustmentInput] | None = None,
    *,
    customer: bool = True,
) -> None:
    """Number and save the order, its lines and adjustments, emit `order.placed`, make the contact
    a customer (unless the caller does it for many orders at once: `customer`)."""
    order.placed_at = order.placed_at or timezone.now()
    order.number = _next_number(order.organization, "order")
    order.save()
    OrderLine.objects.bulk_create(order_line_rows(order, lines))
    if adjustments:
        OrderAdjustment.objects.bulk_create(adjustment_rows(order, adjustments))
    audit_create(
        instance=order, actor=actor.user, values=snapshot(order, DOCUMENT_AUDITED), organization=actor.organization
    )
    _emit(order, actor, "order.placed", order_placed_properties(order, len(lines)), occurred_at=order.placed_at)
    contact: Contact | None = order.contact
    if customer and contact is not None and contact.lifecycle_stage != LifecycleStage.CUSTOMER:
        contact_update(actor=actor, contact=contact, data={"lifecycle_stage": LifecycleStage.CUSTOMER})


def order_placed_properties(order: Order, lines: int) -> dict[str, Any]:
    """The properties of `order.placed` (also written in bulk by the batch import)."""
    return {
        "order_id": order.pk,
        "number": order.number,
        "total": _money(order.total),
        "currency": order.currency,
        "channel": order.channel,
        "lines": lines,
    }


def _set_order_totals(order: Order, totals: Totals, given_total: Decimal | None) -> None:
    _set_totals(order, totals)
    order.computed_total = totals.total
    if given_total is not None:  # the shop's own total is the order's, even when its figures do not add up
        order.total = given_total


@dataclass
class CleanOrder:
    """An order validated but not yet saved (`order_clean`), with what it is made of."""

    order: Order
    lines: list[PricedLine]
    adjustments: list[AdjustmentInput]
    digest: dict[str, str]
    sent: frozenset[str] = frozenset()


def order_clean(
    *,
    actor: Membership,
    data: Mapping[str, Any],
    channel: str,
    errors: Errors,
    prefetched: Prefetched | None = None,
) -> CleanOrder | None:
    """Validate an order's input into an unsaved Order with its lines and adjustments; every
    problem goes to `errors` (then None). Shared by `order_create` and the batch import (which
    gives the records it read once for all its orders: `prefetched`)."""
    organization = actor.organization
    external_id = clean_text(data.get("external_id"), "external_id", errors, max_length=128) or ""
    order = Order(
        organization=organization,
        currency=organization.base_currency,
        owner=default_owner(actor),
        channel=channel,
        external_id=external_id,
    )
    price_list = _apply_common(actor, order, data, errors, ORDER_FIELDS, prefetched)
    order.placed_at = _clean_placed_at(data.get("placed_at"), errors)  # type: ignore[assignment]  # None: now
    given_total = _apply_order_details(order, data, errors)
    currency = None if "currency" in errors else order.currency
    lines: list[PricedLine] = []
    if data.get("lines") or given_total is None:  # a shop's order without lines keeps its total (a warning)
        lines = price_lines(
            lines=data.get("lines", []),
            currency=currency,
            price_list=price_list,
            errors=errors,
            order=True,
            products=prefetched.products if prefetched is not None else None,
        )
    adjustments = clean_adjustments(data.get("adjustments"), errors)
    if errors:
        return None
    totals = order_totals(lines, adjustments, order.currency, taxes_included=order.taxes_included)
    if abs(totals.total) > MAX_MONEY:
        add_error(errors, "lines", _("The order's total is too large."))
        return None
    _set_order_totals(order, totals, given_total)
    digest = _order_digest(order, lines, adjustments)
    if "placed_at" not in data:  # "now" is not a value the sender gave
        digest.pop("placed_at")
    return CleanOrder(order, lines, adjustments, digest, frozenset(data))


def stamp_digest(clean: CleanOrder) -> None:
    """Keep with a new order the digest of every field, the time it was placed included (now when
    not given), for resends to be compared with."""
    clean.order.source_digest = {**clean.digest, "placed_at": _digest(_placed_at_text(clean.order))}


def differing_fields(stored: Mapping[str, str], clean: CleanOrder) -> list[str]:
    """The fields sent in `clean` whose values differ from those `stored` (a digest) was made of."""
    return [
        name for name, value in clean.digest.items() if name in clean.sent and name in stored and stored[name] != value
    ]


def _resent(existing: Order, clean: CleanOrder) -> tuple[Order, bool]:
    """A known external id sent again: the same order (200) when the fields sent match what placed
    it, else OrderConflict naming the fields that differ. Fields not sent are not compared, nor is
    an order placed before digests were kept."""
    stored = existing.source_digest or {}
    differing = [
        name for name, value in clean.digest.items() if name in clean.sent and name in stored and stored[name] != value
    ]
    if differing:
        raise OrderConflict(existing, differing)
    return existing, False


@transaction.atomic
def order_create(
    *, actor: Membership, data: Mapping[str, Any], channel: str = OrderChannel.SALES_REP
) -> tuple[Order, bool]:
    """A new order; `(order, created)`. An `external_id` already used in this channel returns the
    order placed with it (`created` false) when the fields sent are the same as those that placed
    it, and raises OrderConflict naming the fields that differ otherwise (nothing is changed):
    importing the same order twice is harmless, and a correction is never silently dropped."""
    require_write(actor)
    errors: Errors = {}
    if channel not in OrderChannel.values or channel == OrderChannel.QUOTE:
        add_error(errors, "channel", _("Choose one of %(expected)s.") % {"expected": "sales_rep, api, ecommerce"})
        raise ValidationError(errors)
    clean = order_clean(actor=actor, data=data, channel=channel, errors=errors)
    if clean is None:
        raise ValidationError(errors)
    order = clean.order
    existing = order_by_external_id(channel, order.external_id) if order.external_id else None
    if existing is not None:
        return _resent(existing, clean)
    stamp_digest(clean)
    try:
        with transaction.atomic():
            _place(actor, order, clean.lines, clean.adjustments)
    except IntegrityError:
        # the same external id placed at the same moment by another request
        existing = order_by_external_id(channel, order.external_id) if order.external_id else None
        if existing is None:
            raise
        return _resent(existing, clean)
    return order, True


@transaction.atomic
def order_set_status(*, actor: Membership, order: Order, status: str) -> Order:
    """Paid, fulfilled, cancelled or refunded, along the allowed transitions (ORDER_TRANSITIONS).
    Marking an order refunded records a refund of what is left of its total, so that revenue
    counts it net; "partially refunded" comes only from refunds."""
    require_write(actor)
    order = lock_order(order)
    if status not in OrderStatus.values:
        raise ValidationError(
            {"status": [_("Choose one of %(expected)s.") % {"expected": ", ".join(OrderStatus.values)}]}
        )
    allowed = ORDER_TRANSITIONS[order.status]
    if status not in allowed or status == OrderStatus.PARTIALLY_REFUNDED:
        raise ValidationError(
            {
                "status": [
                    _("An order that is %(current)s cannot become %(new)s.")
                    % {"current": order.get_status_display().lower(), "new": OrderStatus(status).label.lower()}
                ]
            }
        )
    left = order.total - order.refunded_total
    if status == OrderStatus.REFUNDED and left > 0:
        refund_record(actor=actor, order=order, data={"amount": f"{left:.2f}", "reason": _("Marked as refunded.")})
        return lock_order(order)
    order_move_status(actor=actor, order=order, status=status)
    return order


@transaction.atomic
def order_mark_deleted(*, actor: Membership, order: Order, deleted: bool) -> bool:
    """Mark an order deleted in the shop it came from (or restored there): it stays in the
    customer's history, with the mark, and no longer counts in the customer's value. Whether it changed."""
    require_write(actor)
    order = lock_order(order)
    if (order.deleted_at_source is not None) == deleted:
        return False
    before = {"deleted_at_source": order.deleted_at_source.isoformat() if order.deleted_at_source else None}
    order.deleted_at_source = timezone.now() if deleted else None
    order.save(update_fields=["deleted_at_source", "updated_at"])
    audit_update(
        instance=order,
        actor=actor.user,
        changes=diff(before, {"deleted_at_source": order.deleted_at_source.isoformat() if deleted else None}),  # type: ignore[union-attr]
        organization=actor.organization,
    )
    return True


def order_status_choices(order: Order) -> list[tuple[str, str]]:
    """The statuses this order may move to, for the buttons of its page."""
    return [
        (status, str(OrderStatus(status).label))
        for status in ORDER_TRANSITIONS[order.status]
        if status != OrderStatus.PARTIALLY_REFUNDED
    ]


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
