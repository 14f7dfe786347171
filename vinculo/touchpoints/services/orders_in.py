"""Orders that arrive by webhook: the documented generic order (docs/webhooks.md) validated, then
placed through the sales service `order_create` in the e-commerce channel.

Idempotent by external id: an order is stored once per `<kind>:<shop order id>` whatever the number
of deliveries, their order (an update before the create) or their concurrency (deliveries of one
integration are processed one at a time under a row lock, and `order_create` itself returns the
existing order for a known external id). A later delivery only moves the order's status forward
along the sales transitions (placed → paid → fulfilled / refunded, or cancelled); a status that
cannot be reached any more (an old `orders/create` after `orders/cancelled`) is left alone.

The customer is found by e-mail, or created with source "ecommerce" and no owner (so that the
assignment rules can route the lead). An existing contact keeps what the CRM knows: only empty
name, phone, address and company are filled from the order.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
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
    clean_currency,
    clean_decimal,
    clean_money,
    clean_percent,
    clean_text,
)
from vinculo.sales.models import Order, OrderChannel, OrderStatus, Product
from vinculo.sales.pricing import MAX_LINES, MAX_QUANTITY, PricedLine, compute_totals
from vinculo.sales.services.documents import ORDER_TRANSITIONS, order_create, order_set_status
from vinculo.touchpoints.adapters import PayloadError
from vinculo.touchpoints.models import Integration

ADDRESS_FIELDS = {"street": 200, "city": 100, "region": 100, "postal_code": 20, "country": 2}


@dataclass
class InboundLine:
    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal


@dataclass
class InboundOrder:
    """A valid generic order (what every order adapter produces)."""

    external_id: str
    currency: str
    status: str
    email: str
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    company: str = ""
    address: dict[str, str] = field(default_factory=dict)
    lines: list[InboundLine] = field(default_factory=list)
    created_at: dt.datetime | None = None
    number: str = ""
    total: Decimal | None = None


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


def _line(raw: Any, prefix: str, errors: Errors) -> InboundLine | None:
    if not isinstance(raw, Mapping):
        add_error(errors, prefix, _("Give an object."))
        return None
    before = sum(len(v) for v in errors.values())
    sku = clean_text(raw.get("sku"), f"{prefix}.sku", errors, max_length=64) or ""
    name = clean_text(raw.get("name"), f"{prefix}.name", errors, max_length=300, required=not sku) or ""
    quantity = None
    if raw.get("quantity") in (None, ""):
        add_error(errors, f"{prefix}.quantity", _("This field is required."))
    elif isinstance(raw.get("quantity"), float) and not raw["quantity"].is_integer():
        add_error(errors, f"{prefix}.quantity", _('Enter the quantity as a decimal string, e.g. "1.5".'))
    else:
        quantity = clean_decimal(
            raw["quantity"], f"{prefix}.quantity", errors, places=3, minimum=Decimal("-1e12"), maximum=MAX_QUANTITY
        )
        if quantity is not None and quantity <= 0:
            add_error(errors, f"{prefix}.quantity", _("Enter a quantity greater than zero."))
    unit_price = None
    if raw.get("unit_price") in (None, ""):
        add_error(errors, f"{prefix}.unit_price", _("This field is required."))
    else:
        unit_price = clean_money(raw["unit_price"], f"{prefix}.unit_price", errors)
    discount = Decimal(0)
    if raw.get("discount_percent") not in (None, ""):
        discount = clean_percent(raw["discount_percent"], f"{prefix}.discount_percent", errors) or Decimal(0)
    tax = Decimal(0)
    if raw.get("tax_rate") not in (None, ""):
        tax = clean_percent(raw["tax_rate"], f"{prefix}.tax_rate", errors) or Decimal(0)
    if sum(len(v) for v in errors.values()) != before or quantity is None or unit_price is None:
        return None
    return InboundLine(sku, name or sku, quantity, unit_price, discount, tax)


def clean_order(data: Any) -> InboundOrder:
    """The generic order validated; PayloadError with every field's reasons otherwise."""
    errors: Errors = {}
    if not isinstance(data, Mapping):
        raise PayloadError({"body": [_("Give an object.")]})
    raw_id = data.get("external_id")
    external_id = ""
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        external_id = str(raw_id)
    elif isinstance(raw_id, str):
        external_id = raw_id.strip()
    if not external_id:
        add_error(errors, "external_id", _("This field is required."))
    elif len(external_id) > 100:
        add_error(errors, "external_id", _("At most %(n)s characters.") % {"n": 100})
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
    lines: list[InboundLine] = []
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        add_error(errors, "lines", _("Add at least one line."))
    elif len(raw_lines) > MAX_LINES:
        add_error(errors, "lines", _("At most %(n)s lines.") % {"n": MAX_LINES})
    else:
        for index, raw in enumerate(raw_lines):
            line = _line(raw, f"lines.{index}", errors)
            if line is not None:
                lines.append(line)
    total = None
    totals = _object(data.get("totals"), "totals", errors, required=False)
    if totals.get("total") not in (None, ""):
        total = clean_money(totals["total"], "totals.total", errors)
    if total is not None and not errors:
        computed = compute_totals(
            [PricedLine(None, ln.name, ln.quantity, ln.unit_price, ln.discount_percent, ln.tax_rate) for ln in lines]
        ).total
        if abs(computed - total) > Decimal("0.01") * len(lines):
            add_error(
                errors,
                "totals.total",
                _("The lines add up to %(computed)s, not %(total)s.") % {"computed": computed, "total": total},
            )
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
        lines=lines,
        created_at=created_at,
        number=number,
        total=total,
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


def _status_path(current: str, target: str) -> list[str]:
    """The statuses to go through from `current` to `target` ([] when there or unreachable)."""
    if current == target:
        return []
    queue: deque[list[str]] = deque([[current]])
    seen = {current}
    while queue:
        path = queue.popleft()
        for step in ORDER_TRANSITIONS[path[-1]]:
            if step in seen:
                continue
            if step == target:
                return [*path[1:], step]
            seen.add(step)
            queue.append([*path, step])
    return []


def order_external_id(integration: Integration, order: InboundOrder) -> str:
    return f"{integration.kind}:{order.external_id}"


def _notes(integration: Integration, order: InboundOrder) -> str:
    parts = [_("Received from %(integration)s") % {"integration": integration.name}]
    if order.number:
        parts.append(_("shop order %(number)s") % {"number": order.number})
    if order.created_at:
        parts.append(_("placed in the shop at %(time)s") % {"time": order.created_at.isoformat()})
    return ", ".join(parts) + "."


def order_ingest(*, actor: Membership, integration: Integration, order: InboundOrder) -> tuple[Order, bool, bool]:
    """Place (or find) the order and bring its status forward: (order, created, status_changed).
    Runs inside the delivery's transaction, with the organisation's scope active."""
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
    external_id = order_external_id(integration, order)
    placed = Order.objects.filter(channel=OrderChannel.ECOMMERCE, external_id=external_id).first()
    created = False
    if placed is None:
        skus = {line.sku for line in order.lines if line.sku}
        products = {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}
        lines = []
        for line in order.lines:
            row: dict[str, Any] = {
                "description": line.name,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "discount_percent": str(line.discount_percent),
                "tax_rate": str(line.tax_rate),
            }
            if line.sku in products:
                row["product"] = products[line.sku].pk
            lines.append(row)
        data: dict[str, Any] = {
            "contact": contact.pk,
            "currency": order.currency,
            "lines": lines,
            "external_id": external_id,
            "notes": _notes(integration, order),
            # the shop's time, unless it is missing or ahead of ours (a shop's clock may run fast)
            "placed_at": min(order.created_at, timezone.now())
            if order.created_at and timezone.is_aware(order.created_at)
            else None,
        }
        if company is not None:
            data["company"] = company.pk
        placed, created = order_create(actor=actor, data=data, channel=OrderChannel.ECOMMERCE)
    path = _status_path(placed.status, order.status)
    for status in path:
        placed = order_set_status(actor=actor, order=placed, status=status)
    return placed, created, bool(path)
