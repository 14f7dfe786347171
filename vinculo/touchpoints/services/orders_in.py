"""Orders that arrive by webhook: the documented generic order (docs/webhooks.md) validated, then
placed through the sales service `order_create` in the e-commerce channel; its refunds recorded
through `refund_record`.

A message is one of three things (`type`): an order (the default), a refund of an order already
received (`refund`), or an order deleted in the shop (`order_deleted`). An order keeps the shop's
figures: its lines with their own discount and tax amounts, its adjustments (shipping, discounts
with their codes, fees, duties, tips, order-level taxes) and the shop's total, kept even when the
lines and adjustments do not add up to it (the order then shows a warning): a customer's purchase
is never refused for the shop's arithmetic.

Idempotent by external id: an order is stored once per `<kind>:<shop order id>` whatever the number
of deliveries, their order (an update before the create) or their concurrency (deliveries of one
integration are processed one at a time under a row lock), and a refund once per shop refund id.
A later delivery of a known order brings its status forward along the sales transitions (placed →
paid → fulfilled / partially refunded / refunded, or cancelled) and records the refunds it lists;
its lines and figures stay those of the first delivery (the purchase as it was made). A status
that cannot be reached any more (an old `orders/create` after `orders/cancelled`) is left alone.

The customer is found by e-mail, or created with source "ecommerce" and no owner (so that the
assignment rules can route the lead). An existing contact keeps what the CRM knows: only empty
name, phone, address and company are filled from the order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from vinculo.accounts.models import Membership
from vinculo.contacts.models import Company, Contact, ContactEmail, SourceChannel
from vinculo.contacts.services import company_create, contact_create, contact_update
from vinculo.contacts.validation import clean_email, clean_phone
from vinculo.core.validation import (
    Errors,
    add_error,
    check_date_range,
    clean_address,
    clean_currency,
    clean_money,
    clean_text,
)
from vinculo.sales.models import Order, OrderChannel, OrderStatus, Product
from vinculo.sales.pricing import MAX_LINES, clean_adjustments, price_lines, within_range
from vinculo.sales.services.documents import order_by_external_id, order_create, order_mark_deleted
from vinculo.sales.services.order_status import lock_order, order_advance_status
from vinculo.sales.services.refunds import RefundInput, refund_clean, refund_record
from vinculo.touchpoints.adapters import PayloadError
from vinculo.touchpoints.models import Integration

ADDRESS_FIELDS = {"street": 200, "city": 100, "region": 100, "postal_code": 20, "country": 2}
GENERIC_LINE_FIELDS = (
    "sku",
    "name",
    "quantity",
    "unit_price",
    "subtotal",
    "discount_percent",
    "discount_amount",
    "tax_rate",
    "tax_amount",
    "external_id",
    "presentment_total",
)
MESSAGE_TYPES = ("order", "refund", "order_deleted")


@dataclass
class InboundOrder:
    """A valid generic order (what every order adapter produces). `order` is the input of the sales
    service `order_create`, but for the customer and the time, set when it is placed."""

    external_id: str
    currency: str
    status: str
    email: str
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    company: str = ""
    address: dict[str, str] = field(default_factory=dict)
    order: dict[str, Any] = field(default_factory=dict)
    refunds: list[RefundInput] = field(default_factory=list)
    created_at: dt.datetime | None = None
    number: str = ""
    restored: bool = False

    @property
    def lines(self) -> list[dict[str, Any]]:
        return self.order["lines"]

    @property
    def total(self) -> Any:
        return self.order.get("total")


@dataclass
class InboundRefund:
    """A valid generic refund of an order received before (`order_external_id`)."""

    order_external_id: str
    refund: RefundInput


@dataclass
class InboundDeletion:
    """An order deleted in the shop."""

    external_id: str


InboundMessage = InboundOrder | InboundRefund | InboundDeletion


def _object(value: Any, name: str, errors: Errors, *, required: bool = True) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        add_error(errors, name, _("Give an object."))
        return {}
    return value


def _datetime(value: Any, name: str, errors: Errors) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            if not check_date_range(parsed, name, errors):  # year 1 at +05:00 cannot even be put in UTC
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    add_error(errors, name, _("Enter a date and time in ISO 8601, e.g. 2026-11-29T10:15:00Z."))
    return None


def _external_id(value: Any, name: str, errors: Errors) -> str:
    external_id = ""
    if isinstance(value, int) and not isinstance(value, bool):
        external_id = str(value)
    elif isinstance(value, str):
        external_id = value.strip()
    if not external_id:
        add_error(errors, name, _("This field is required."))
    elif len(external_id) > 100:
        add_error(errors, name, _("At most %(n)s characters.") % {"n": 100})
    return external_id


def _order_lines(raw_lines: Any, currency: str | None, errors: Errors, *, total_given: bool) -> list[dict[str, Any]]:
    """The generic lines as the order service's lines (a `name` is its `description`), validated
    with the same rules: quantity required, unit prices with up to four decimals, amounts to the cent.
    An order without lines is kept when it gives its total (it then shows a warning)."""
    if total_given and raw_lines in (None, []):
        return []
    if not isinstance(raw_lines, list) or not raw_lines:
        add_error(errors, "lines", _("Add at least one line."))
        return []
    if len(raw_lines) > MAX_LINES:
        add_error(errors, "lines", _("At most %(n)s lines.") % {"n": MAX_LINES})
        return []
    lines: list[dict[str, Any]] = []
    line_errors: Errors = {}
    for index, raw in enumerate(raw_lines):
        if not isinstance(raw, Mapping):
            lines.append(raw)
            continue
        if raw.get("quantity") in (None, ""):
            add_error(errors, f"lines.{index}.quantity", _("This field is required."))
        if raw.get("unit_price") in (None, ""):
            add_error(errors, f"lines.{index}.unit_price", _("This field is required."))
        line = {("description" if key == "name" else key): value for key, value in raw.items()}
        for key in raw:
            if key not in GENERIC_LINE_FIELDS:
                line.pop(key, None)
                add_error(errors, f"lines.{index}.{key}", _("Unknown field."))
        if not line.get("description") and line.get("sku"):
            line["description"] = line["sku"]
        lines.append(line)
    price_lines(lines=lines, currency=currency, price_list=None, errors=line_errors, order=True, products={})
    for name, messages in line_errors.items():
        name = name.replace(".description", ".name")
        for message in messages:
            if message not in errors.get(name, []):
                add_error(errors, name, message)
    return lines


def _refunds(value: Any, errors: Errors) -> list[RefundInput]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        add_error(errors, "refunds", _("Give a list."))
        return []
    refunds = []
    for index, raw in enumerate(value):
        refund = refund_clean(raw, errors, prefix=f"refunds.{index}.")
        if isinstance(raw, Mapping) and raw.get("external_id") in (None, ""):
            add_error(errors, f"refunds.{index}.external_id", _("This field is required."))
        if refund is not None:
            refunds.append(refund)
    return refunds


def clean_order(data: Any) -> InboundMessage:
    """A generic message validated: an order, a refund or a deletion; PayloadError with every
    field's reasons otherwise."""
    if not isinstance(data, Mapping):
        raise PayloadError({"body": [_("Give an object.")]})
    kind = data.get("type") or "order"
    if kind not in MESSAGE_TYPES:
        raise PayloadError({"type": [_("Choose one of %(expected)s.") % {"expected": ", ".join(MESSAGE_TYPES)}]})
    errors: Errors = {}
    if kind == "order_deleted":
        external_id = _external_id(data.get("external_id"), "external_id", errors)
        if errors:
            raise PayloadError(errors)
        return InboundDeletion(external_id)
    if kind == "refund":
        order_external_id = _external_id(data.get("order_external_id"), "order_external_id", errors)
        refund = refund_clean({k: v for k, v in data.items() if k not in ("type", "order_external_id")}, errors)
        if data.get("external_id") in (None, "") and "external_id" not in errors:
            add_error(errors, "external_id", _("This field is required."))
        if errors or refund is None:
            raise PayloadError(errors)
        return InboundRefund(order_external_id, refund)
    return _clean_inbound_order(data, errors)


def _clean_inbound_order(data: Mapping[str, Any], errors: Errors) -> InboundOrder:
    external_id = _external_id(data.get("external_id"), "external_id", errors)
    currency = clean_currency(data.get("currency"), "currency", errors) or ""
    status = data.get("status") or OrderStatus.PLACED
    if status not in OrderStatus.values:
        add_error(errors, "status", _("Choose one of %(expected)s.") % {"expected": ", ".join(OrderStatus.values)})
    created_at = _datetime(data.get("created_at"), "created_at", errors)
    number = clean_text(data.get("number"), "number", errors, max_length=64) or ""
    customer = _object(data.get("customer"), "customer", errors)
    email = ""
    if customer:
        try:
            email = clean_email(customer.get("email"))
        except ValidationError as exc:
            errors.setdefault("customer.email", []).extend(exc.messages)
    first = clean_text(customer.get("first_name"), "customer.first_name", errors, max_length=100) or ""
    last = clean_text(customer.get("last_name"), "customer.last_name", errors, max_length=100) or ""
    company = clean_text(customer.get("company"), "customer.company", errors, max_length=200) or ""
    phone_text = clean_text(customer.get("phone"), "customer.phone", errors, max_length=40) or ""
    address: dict[str, str] = {}
    raw_address = _object(customer.get("address"), "customer.address", errors, required=False)
    for name, length in ADDRESS_FIELDS.items():
        value = clean_text(
            raw_address.get(name), f"customer.address.{name}", errors, max_length=40 if name == "country" else length
        )
        if value:
            address[name] = value
    if address.get("country"):
        code = address["country"].upper()
        if code not in dict(countries):
            add_error(errors, "customer.address.country", _("Enter an ISO 3166 country code, e.g. ES."))
        address["country"] = code
    phone = ""
    if phone_text:
        try:
            phone = clean_phone(phone_text, region=address.get("country", ""))
        except ValidationError:
            phone = ""  # a shop's free-text phone that is not a number is dropped, not fatal
    totals = _object(data.get("totals"), "totals", errors, required=False)
    total = None
    if totals.get("total") not in (None, "") and within_range(totals["total"], "totals.total", errors):
        total = clean_money(totals["total"], "totals.total", errors)
    lines = _order_lines(data.get("lines"), currency or None, errors, total_given=total is not None)
    adjustments = data.get("adjustments")
    clean_adjustments(adjustments, errors)
    order: dict[str, Any] = {"currency": currency, "lines": lines}
    if adjustments:
        order["adjustments"] = adjustments
    if total is not None:
        order["total"] = str(total)
    url = clean_text(data.get("url"), "url", errors, max_length=500) or ""
    if url and not url.startswith(("https://", "http://")):
        add_error(errors, "url", _("Enter a web address starting with https://."))
    if url:
        order["external_url"] = url
    if number:
        order["external_number"] = number
    if email:
        order["customer_email"] = email
    for name in ("billing_address", "shipping_address"):
        address_given = clean_address(data.get(name), name, errors)
        if address_given:
            order[name] = address_given
    if data.get("taxes_included") is not None:
        if not isinstance(data["taxes_included"], bool):
            add_error(errors, "taxes_included", _("Enter true or false."))
        order["taxes_included"] = data["taxes_included"] is True
    codes = data.get("discount_codes")
    if codes:
        if not isinstance(codes, list) or not all(isinstance(c, str) and 0 < len(c) <= 100 for c in codes):
            add_error(errors, "discount_codes", _("Give a list of codes of at most 100 characters."))
        else:
            order["discount_codes"] = codes[:50]
    if data.get("presentment_currency"):
        order["presentment_currency"] = clean_currency(data["presentment_currency"], "presentment_currency", errors)
        if data.get("presentment_total") not in (None, "") and within_range(
            data["presentment_total"], "presentment_total", errors
        ):
            presentment = clean_money(data["presentment_total"], "presentment_total", errors)
            order["presentment_total"] = None if presentment is None else str(presentment)
    refunds = _refunds(data.get("refunds"), errors)
    restored = data.get("restored", False)
    if not isinstance(restored, bool):
        add_error(errors, "restored", _("Enter true or false."))
    if errors:
        raise PayloadError(errors)
    return InboundOrder(
        external_id=external_id,
        currency=currency,
        status=status,
        email=email,
        first_name=first,
        last_name=last,
        phone=phone,
        company=company,
        address=address,
        order=order,
        refunds=refunds,
        created_at=created_at,
        number=number,
        restored=restored,
    )


# --- placing the order ------------------------------------------------------------------------------


def company_for(actor: Membership, name: str) -> Company | None:
    """The company of that name (any case), created when there is none; None for no name."""
    if not name:
        return None
    company = Company.objects.filter(name__iexact=name).order_by("id").first()
    return company or company_create(actor=actor, data={"name": name, "owner": None})


def _find_contact(email: str) -> Contact | None:
    row = ContactEmail.objects.filter(email=email).select_related("contact").first()
    return row.contact if row is not None else None


def customer_contact(*, actor: Membership, email: str, values: Mapping[str, Any], source: str) -> tuple[Contact, bool]:
    """The contact with this e-mail, its empty fields filled from `values`; or a new one with
    `source` and no owner. `values`: first_name, last_name, phone, street…country, company (a
    Company), job_title, custom (merged). Returns (contact, created)."""
    contact = _find_contact(email)
    if contact is None:
        data: dict[str, Any] = {
            key: values[key] for key in ("first_name", "last_name", "job_title", *ADDRESS_FIELDS) if values.get(key)
        }
        data.update({"emails": [email], "source": source, "owner": None})
        if values.get("phone"):
            data["phones"] = [values["phone"]]
        if values.get("company") is not None:
            data["company"] = values["company"].pk
        if values.get("custom"):
            data["custom"] = dict(values["custom"])
        try:
            with transaction.atomic():
                return contact_create(actor=actor, data=data), True
        except ValidationError as exc:
            # the same address created at the same moment by another source: use that contact
            contact = _find_contact(email) if "emails" in getattr(exc, "error_dict", {}) else None
            if contact is None:
                raise
    changes: dict[str, Any] = {}
    for key in ("first_name", "last_name", "job_title"):
        if values.get(key) and not getattr(contact, key):
            changes[key] = values[key]
    if not any(getattr(contact, key) for key in ADDRESS_FIELDS):
        changes.update({key: values[key] for key in ADDRESS_FIELDS if values.get(key)})
    if values.get("phone") and not contact.phone:
        changes["phones"] = [values["phone"]]
    if values.get("company") is not None and contact.company_id is None:
        changes["company"] = values["company"].pk
    custom = values.get("custom") or {}
    if any(contact.custom.get(k) != v for k, v in custom.items()):
        changes["custom"] = {**contact.custom, **custom}
    if changes:
        contact = contact_update(actor=actor, contact=contact, data=changes)
    return contact, False


def order_external_id(integration: Integration, external_id: str) -> str:
    """The external id an integration's order is stored with: `<kind>:<the shop's id>`."""
    return f"{integration.kind}:{external_id}"


def _notes(integration: Integration, order: InboundOrder) -> str:
    parts = [_("Received from %(integration)s") % {"integration": integration.name}]
    if order.number:
        parts.append(_("shop order %(number)s") % {"number": order.number})
    if order.created_at:
        parts.append(_("placed in the shop at %(time)s") % {"time": order.created_at.isoformat()})
    return ", ".join(parts) + "."


def _stored(integration: Integration, external_id: str) -> Order | None:
    return order_by_external_id(OrderChannel.ECOMMERCE, order_external_id(integration, external_id))


def _place(actor: Membership, integration: Integration, order: InboundOrder) -> tuple[Order, bool]:
    company = company_for(actor, order.company)
    contact, _created = customer_contact(
        actor=actor,
        email=order.email,
        values={
            "first_name": order.first_name,
            "last_name": order.last_name,
            "phone": order.phone,
            "company": company,
            **order.address,
        },
        source=SourceChannel.ECOMMERCE,
    )
    skus = {line["sku"] for line in order.lines if isinstance(line, Mapping) and line.get("sku")}
    products = {p.sku: p.pk for p in Product.objects.filter(sku__in=skus).filter(~Q(sku=""))} if skus else {}
    lines = [
        {**line, "product": products[line["sku"]]} if line.get("sku") in products else dict(line)
        for line in order.lines
    ]
    data: dict[str, Any] = {
        **order.order,
        "contact": contact.pk,
        "lines": lines,
        "external_id": order_external_id(integration, order.external_id),
        "notes": _notes(integration, order),
        # the shop's time, unless it is missing or ahead of ours (a shop's clock may run fast)
        "placed_at": min(order.created_at, timezone.now())
        if order.created_at and timezone.is_aware(order.created_at)
        else None,
    }
    if company is not None:
        data["company"] = company.pk
    return order_create(actor=actor, data=data, channel=OrderChannel.ECOMMERCE)


def order_ingest(
    *, actor: Membership, integration: Integration, order: InboundMessage
) -> tuple[Order | None, bool, bool]:
    """Place (or find) the order, record its refunds and bring its status forward:
    (order, created, changed). Runs inside the delivery's transaction, with the organisation's
    scope active."""
    if isinstance(order, InboundDeletion):
        placed = _stored(integration, order.external_id)
        if placed is None:
            return None, False, False
        return placed, False, order_mark_deleted(actor=actor, order=placed, deleted=True)
    if isinstance(order, InboundRefund):
        placed = _stored(integration, order.order_external_id)
        if placed is None:
            raise ValidationError(
                {
                    "order_external_id": [
                        _("No order %(id)s has been received from this shop yet; retry this delivery after it.")
                        % {"id": order.order_external_id}
                    ]
                }
            )
        _refund, created = refund_record(actor=actor, order=placed, data=order.refund)
        return placed, False, created
    placed = _stored(integration, order.external_id)
    created = False
    if placed is None:
        placed, created = _place(actor, integration, order)
    changed = False
    for refund in order.refunds:
        _refund, recorded = refund_record(actor=actor, order=placed, data=refund)
        changed = changed or recorded
    placed = lock_order(placed)
    if order.status not in (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED) or not order.refunds:
        changed = order_advance_status(actor=actor, order=placed, status=order.status) or changed
    if order.restored and placed.deleted_at_source is not None:
        changed = order_mark_deleted(actor=actor, order=placed, deleted=False) or changed
    return placed, created, changed
