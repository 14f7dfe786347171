"""Refunds: money given back on an order, in full or in part, as records of their own.

A refund names what it gave back (`amount`), the lines and quantities it was for, the shipping it
returned, why and when. A shop's refund keeps the shop's id: the same refund sent twice (a
`refunds/create` and then an `orders/updated` that lists it) is stored once. Recording one adds
its amount to the order's `refunded_total` (the order row is locked, so two refunds never race),
makes the order partially refunded, or refunded when nothing is left, and puts `order.refunded`
on the customer's timeline. Revenue figures count orders net of their refunds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_write
from vinculo.core.audit import audit_create, snapshot
from vinculo.core.currencies import minor_unit
from vinculo.core.events import emit
from vinculo.core.formatting import format_number
from vinculo.core.validation import (
    Errors,
    add_error,
    check_date_range,
    clean_decimal,
    clean_money,
    clean_text,
    reject_unknown,
)
from vinculo.sales.models import Order, OrderLine, OrderStatus, Refund, RefundLine
from vinculo.sales.pricing import MAX_LINES, MAX_QUANTITY, given, within_range
from vinculo.sales.services.order_status import lock_order, order_advance_status

REFUND_FIELDS = ("external_id", "amount", "reason", "refunded_at", "shipping_amount", "lines")
REFUND_LINE_FIELDS = ("order_line", "line_external_id", "description", "quantity", "amount", "tax_amount")
# a shop's clock may run a little ahead of ours
REFUNDED_AT_SKEW = dt.timedelta(minutes=5)
REFUND_AUDITED = ("external_id", "amount", "currency", "shipping_amount", "reason", "refunded_at")


@dataclass
class RefundLineInput:
    order_line: int | None
    line_external_id: str
    description: str
    quantity: Decimal
    amount: Decimal
    tax_amount: Decimal


@dataclass
class RefundInput:
    """A validated refund (`refund_clean`); `amount` None: the lines, their tax and the shipping."""

    external_id: str = ""
    amount: Decimal | None = None
    reason: str = ""
    refunded_at: dt.datetime | None = None
    shipping_amount: Decimal = Decimal("0.00")
    lines: list[RefundLineInput] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        if self.amount is not None:
            return self.amount
        return self.shipping_amount + sum((line.amount + line.tax_amount for line in self.lines), Decimal(0))


def _external(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _moment(value: Any, name: str, errors: Errors) -> dt.datetime | None:
    """An aware ISO 8601 moment (a trailing Z allowed), within the date bounds, not in the future."""
    if not given(value):
        return None
    moment = value if isinstance(value, dt.datetime) else None
    if isinstance(value, str) and len(value) <= 40:
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None or timezone.is_naive(moment):
        add_error(errors, name, _("Enter a date and time with its time zone, e.g. 2026-11-29T10:30:00+01:00."))
        return None
    if not check_date_range(moment, name, errors):
        return None
    if moment > timezone.now() + REFUNDED_AT_SKEW:
        add_error(errors, name, _("A refund cannot be in the future."))
        return None
    return moment


def _amount(value: Any, name: str, errors: Errors) -> Decimal | None:
    if not within_range(value, name, errors):
        return None
    return clean_money(value, name, errors)


def _line(raw: Any, prefix: str, errors: Errors) -> RefundLineInput | None:
    if not isinstance(raw, Mapping):
        add_error(errors, prefix, _("Give an object."))
        return None
    before = sum(len(messages) for messages in errors.values())
    for key in raw:
        if key not in REFUND_LINE_FIELDS:
            add_error(errors, f"{prefix}.{key}", _("Unknown field."))
    order_line = raw.get("order_line")
    if given(order_line) and (isinstance(order_line, bool) or not isinstance(order_line, int) or order_line < 1):
        add_error(errors, f"{prefix}.order_line", _("Enter the id of a line of this order."))
    external = clean_text(_external(raw.get("line_external_id")), f"{prefix}.line_external_id", errors, max_length=64)
    description = clean_text(raw.get("description"), f"{prefix}.description", errors, max_length=300) or ""
    quantity = Decimal(0)
    if given(raw.get("quantity")) and within_range(raw["quantity"], f"{prefix}.quantity", errors):
        quantity = clean_decimal(
            raw["quantity"], f"{prefix}.quantity", errors, places=3, minimum=Decimal(0), maximum=MAX_QUANTITY
        ) or Decimal(0)
    amount = _amount(raw.get("amount"), f"{prefix}.amount", errors) if given(raw.get("amount")) else Decimal("0.00")
    tax = _amount(raw.get("tax_amount"), f"{prefix}.tax_amount", errors) if given(raw.get("tax_amount")) else None
    if sum(len(messages) for messages in errors.values()) != before:
        return None
    return RefundLineInput(
        order_line=order_line if given(order_line) else None,
        line_external_id=external or "",
        description=description,
        quantity=quantity,
        amount=amount or Decimal("0.00"),
        tax_amount=tax or Decimal("0.00"),
    )


def refund_clean(data: Any, errors: Errors, *, prefix: str = "") -> RefundInput | None:
    """A refund's input validated without reading the database (the webhook answers 422 at once);
    errors under `<prefix><field>`."""
    if not isinstance(data, Mapping):
        add_error(errors, prefix.rstrip(".") or "body", _("Give an object."))
        return None
    before = sum(len(messages) for messages in errors.values())
    unknown: Errors = {}
    reject_unknown(data, REFUND_FIELDS, unknown)
    for key, messages in unknown.items():
        errors.setdefault(f"{prefix}{key}", []).extend(messages)
    external_id = clean_text(_external(data.get("external_id")), f"{prefix}external_id", errors, max_length=128) or ""
    amount = _amount(data["amount"], f"{prefix}amount", errors) if given(data.get("amount")) else None
    reason = clean_text(data.get("reason"), f"{prefix}reason", errors, max_length=500) or ""
    refunded_at = _moment(data.get("refunded_at"), f"{prefix}refunded_at", errors)
    shipping = Decimal("0.00")
    if given(data.get("shipping_amount")):
        shipping = _amount(data["shipping_amount"], f"{prefix}shipping_amount", errors) or Decimal("0.00")
    lines: list[RefundLineInput] = []
    raw_lines = data.get("lines") or []
    if not isinstance(raw_lines, list):
        add_error(errors, f"{prefix}lines", _("Give a list."))
    elif len(raw_lines) > MAX_LINES:
        add_error(errors, f"{prefix}lines", _("At most %(n)s lines.") % {"n": MAX_LINES})
    else:
        for index, raw in enumerate(raw_lines):
            line = _line(raw, f"{prefix}lines.{index}", errors)
            if line is not None:
                lines.append(line)
    if amount is None and not lines and not shipping and sum(len(m) for m in errors.values()) == before:
        add_error(errors, f"{prefix}amount", _("Give the amount refunded, or the lines and shipping it was for."))
    if sum(len(messages) for messages in errors.values()) != before:
        return None
    return RefundInput(external_id, amount, reason, refunded_at, shipping, lines)


def refund_lookup(order: Order, external_id: str) -> QuerySet[Refund]:
    """The order's refund with this id, through the partial unique index on (organization, order,
    external_id) WHERE external_id <> '' (its condition repeated, so that SQLite can use it)."""
    return Refund.objects.filter(order=order, external_id=external_id).filter(~Q(external_id="")).order_by()


def refund_by_external_id(order: Order, external_id: str) -> Refund | None:
    return next(iter(refund_lookup(order, external_id)[:1]), None)


def _line_rows(order: Order, refund: Refund, lines: list[RefundLineInput], errors: Errors) -> list[RefundLine]:
    """The refund's line rows, each tied to the order's line it names (by id, or by the shop's line
    id; a shop's line id that the order does not have is kept as text, unlinked)."""
    order_lines = list(OrderLine.objects.filter(order=order))
    by_id = {line.pk: line for line in order_lines}
    by_external = {line.external_id: line for line in order_lines if line.external_id}
    rows = []
    for position, line in enumerate(lines):
        target: OrderLine | None = None
        if line.order_line is not None:
            target = by_id.get(line.order_line)
            if target is None:
                add_error(errors, f"lines.{position}.order_line", _("This order has no such line."))
                continue
        elif line.line_external_id:
            target = by_external.get(line.line_external_id)
        if target is not None and line.quantity > target.quantity:
            add_error(
                errors,
                f"lines.{position}.quantity",
                _("The line has %(n)s units.") % {"n": target.quantity.normalize()},
            )
            continue
        rows.append(
            RefundLine(
                organization_id=order.organization_id,
                refund=refund,
                order_line=target,
                description=line.description or (target.description if target else ""),
                quantity=line.quantity,
                amount=line.amount,
                tax_amount=line.tax_amount,
                position=position,
            )
        )
    return rows


@transaction.atomic
def refund_record(*, actor: Membership, order: Order, data: Mapping[str, Any] | RefundInput) -> tuple[Refund, bool]:
    """Record a refund of `order`: (refund, created). A refund whose `external_id` this order
    already has is returned as it is (`created` false). Refused (ValidationError) when it would give
    back more than is left of the order's total."""
    require_write(actor)
    order = lock_order(order)
    errors: Errors = {}
    clean = data if isinstance(data, RefundInput) else refund_clean(data, errors)
    if clean is None:
        raise ValidationError(errors)
    if clean.external_id:
        existing = refund_by_external_id(order, clean.external_id)
        if existing is not None:
            return existing, False
    amount = clean.total
    left = order.total - order.refunded_total
    if amount > left:
        add_error(
            errors,
            "amount",
            _("At most %(left)s %(currency)s can still be refunded on this order.")
            % {"left": format_number(max(left, Decimal(0)), minor_unit(order.currency)), "currency": order.currency},
        )
    refund = Refund(
        organization_id=order.organization_id,
        order=order,
        external_id=clean.external_id,
        amount=amount,
        currency=order.currency,
        shipping_amount=clean.shipping_amount,
        reason=clean.reason,
        refunded_at=clean.refunded_at or timezone.now(),
    )
    rows = _line_rows(order, refund, clean.lines, errors)
    if errors:
        raise ValidationError(errors)
    refund.save()
    RefundLine.objects.bulk_create(rows)
    order.refunded_total += amount
    order.save(update_fields=["refunded_total", "updated_at"])
    audit_create(
        instance=refund,
        actor=actor.user,
        values=snapshot(refund, list(REFUND_AUDITED)) | {"order": order.number},
        organization=actor.organization,
    )
    full = order.refunded_total >= order.total
    emit(
        organization=order.organization,
        type="order.refunded",
        contact=order.contact,
        company=order.company,
        actor=actor.user,
        occurred_at=refund.refunded_at,
        properties={
            "order_id": order.pk,
            "number": order.number,
            "refund_id": refund.pk,
            "amount": f"{amount:.2f}",
            "currency": order.currency,
            "refunded_total": f"{order.refunded_total:.2f}",
            "total": f"{order.total:.2f}",
            "full": full,
            "reason": refund.reason,
            "lines": len(rows),
        },
    )
    if amount > 0 and order.status != OrderStatus.CANCELLED:
        order_advance_status(
            actor=actor, order=order, status=OrderStatus.REFUNDED if full else OrderStatus.PARTIALLY_REFUNDED
        )
    return refund, True
