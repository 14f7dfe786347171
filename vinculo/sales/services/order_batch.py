"""Orders imported by the thousand (`POST /api/v1/orders/batch`): years of a shop's history for
the customers' value, at thousands of orders a second.

Each order is the same as one sent to `order_create` (the same validation, the same idempotency by
external id, the same answer to a resend with other values), but a batch reads what its orders
refer to once (contacts, companies, deals, products, price lists, the orders already placed with
its external ids), and writes each chunk of orders in one transaction with one INSERT per table:
the orders, their lines and adjustments, their audit entries, their `order.placed` events (with
their deliveries), the buyers who become customers. A rejected order is reported with its index
and its field errors; the others are stored.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_write
from vinculo.accounts.selectors import visible_to
from vinculo.contacts.models import Company, Contact, LifecycleStage
from vinculo.contacts.services import contacts_set_lifecycle_stage
from vinculo.core.audit import audit_create_many, snapshot
from vinculo.core.bulk import insert_objects, insert_rows
from vinculo.core.events import emit_many
from vinculo.core.validation import Errors, add_error
from vinculo.sales.models import Deal, Order, OrderAdjustment, OrderChannel, OrderLine, Product
from vinculo.sales.pricing import adjustment_values, order_line_values
from vinculo.sales.services.documents import (
    CleanOrder,
    OrderConflict,
    Prefetched,
    differing_fields,
    next_numbers,
    order_clean,
    order_create,
    order_placed_properties,
    stamp_digest,
)
from vinculo.sales.services.order_status import DOCUMENT_AUDITED

MAX_BATCH = 1000
# what the batch needs of a buyer: to link the order, to name it, to make it a customer
CONTACT_COLUMNS = (
    "id",
    "organization_id",
    "company_id",
    "owner_id",
    "first_name",
    "last_name",
    "email",
    "lifecycle_stage",
)
CHUNK = 500  # orders per transaction: short enough not to hold the database long, long enough to be fast


@dataclass
class RowResult:
    """What became of one order of the batch."""

    index: int
    status: str  # created, existing, conflict, rejected
    order: Order | None = None
    errors: Errors = field(default_factory=dict)


def _ids(rows: Sequence[Any], *keys: str) -> set[int]:
    ids: set[int] = set()
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        for key in keys:
            value = row.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
                ids.add(value)
    return ids


def _line_product_ids(rows: Sequence[Any]) -> set[int]:
    lines = [
        line
        for row in rows
        if isinstance(row, Mapping) and isinstance(row.get("lines"), list)
        for line in row["lines"]
        if isinstance(line, Mapping)
    ]
    return _ids(lines, "product")


def _prefetch(actor: Membership, rows: Sequence[Any]) -> Prefetched:
    """Everything the batch's orders name, read once (and only what the actor may use)."""
    contact_ids = _ids(rows, "contact")
    company_ids = _ids(rows, "company")
    deal_ids = _ids(rows, "deal")
    product_ids = _line_product_ids(rows)
    return Prefetched(
        contacts=visible_to(Contact.objects.all(), actor).only(*CONTACT_COLUMNS).in_bulk(list(contact_ids))
        if contact_ids
        else {},
        companies=visible_to(Company.objects.all(), actor).in_bulk(list(company_ids)) if company_ids else {},
        deals=Deal.objects.select_related("pipeline").in_bulk(list(deal_ids)) if deal_ids else {},
        products=Product.objects.in_bulk(list(product_ids)) if product_ids else {},
    )


def _placed(channel: str, external_ids: list[str]) -> dict[str, Order]:
    """The orders already placed with these external ids (through the partial unique index)."""
    if not external_ids:
        return {}
    orders = Order.objects.filter(channel=channel, external_id__in=external_ids).filter(~Q(external_id=""))
    return {order.external_id: order for order in orders.order_by()}


def _write(actor: Membership, chunk: list[tuple[int, CleanOrder]]) -> None:
    """Place the chunk's valid orders: numbers, rows, audit, events, customers, in few statements."""
    organization = actor.organization
    now = timezone.now()
    orders = [clean.order for _index, clean in chunk]
    for order, number in zip(orders, next_numbers(organization, "order", len(orders)), strict=True):
        order.number = number
        order.placed_at = order.placed_at or now
    insert_objects(Order, orders)
    lines: list[dict[str, Any]] = []
    adjustments: list[dict[str, Any]] = []
    for _index, clean in chunk:
        lines.extend(order_line_values(clean.order, clean.lines))
        adjustments.extend(adjustment_values(clean.order, clean.adjustments))
    insert_rows(OrderLine, lines)
    insert_rows(OrderAdjustment, adjustments)
    audit_create_many(
        items=[(order, snapshot(order, DOCUMENT_AUDITED)) for order in orders],
        actor=actor.user,
        organization=organization,
    )
    emit_many(
        organization=organization,
        type="order.placed",
        actor=actor.user,
        rows=[
            (
                clean.order.contact,
                clean.order.company_id,
                order_placed_properties(clean.order, len(clean.lines)),
                clean.order.placed_at,
            )
            for _index, clean in chunk
        ],
    )
    buyers = {order.contact.pk: order.contact for order in orders if order.contact is not None}
    contacts_set_lifecycle_stage(actor=actor, contacts=buyers.values(), stage=LifecycleStage.CUSTOMER)


def _one_by_one(actor: Membership, channel: str, chunk: list[tuple[int, Mapping[str, Any]]]) -> list[RowResult]:
    """A chunk whose bulk write failed (the same external id placed meanwhile by another request):
    each of its orders through `order_create`, which tells them apart."""
    results = []
    for index, data in chunk:
        try:
            with transaction.atomic():
                order, created = order_create(actor=actor, data=data, channel=channel)
        except OrderConflict as exc:
            results.append(
                RowResult(
                    index,
                    "conflict",
                    exc.order,
                    {name: [_("Differs from the order placed with this external id.")] for name in exc.fields},
                )
            )
        except ValidationError as exc:  # a row's own problem: reported with it, the others go on
            results.append(RowResult(index, "rejected", errors=dict(exc.message_dict)))
        else:
            results.append(RowResult(index, "created" if created else "existing", order))
    return results


def orders_import(*, actor: Membership, rows: Sequence[Any], channel: str = OrderChannel.API) -> list[RowResult]:
    """Place up to MAX_BATCH orders, each idempotent by its (required) external id; one result per
    row, in order. Rows are validated like `order_create`'s input; valid ones are written a chunk
    (one transaction) at a time."""
    require_write(actor)
    results: dict[int, RowResult] = {}
    # A batch makes hundreds of thousands of short-lived objects that hold no cycles; the cyclic
    # collector's passes over them cost a tenth of the import (measured), so it waits until the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for start in range(0, len(rows), CHUNK):
            part = list(enumerate(rows[start : start + CHUNK], start=start))
            for result in _import_chunk(actor, channel, part):
                results[result.index] = result
    finally:
        if collecting:
            gc.enable()
    return [results[index] for index in range(len(rows))]


def _import_chunk(actor: Membership, channel: str, part: list[tuple[int, Any]]) -> list[RowResult]:
    results: list[RowResult] = []
    prefetched = _prefetch(actor, [row for _i, row in part])
    external_ids = [
        row["external_id"].strip()
        for _i, row in part
        if isinstance(row, Mapping) and isinstance(row.get("external_id"), str)
    ]
    with transaction.atomic():
        placed = _placed(channel, external_ids)
        valid: list[tuple[int, CleanOrder]] = []
        seen: dict[str, CleanOrder] = {}
        for index, row in part:
            errors: Errors = {}
            if not isinstance(row, Mapping):
                results.append(RowResult(index, "rejected", errors={"__all__": [_("Give an object.")]}))
                continue
            if not isinstance(row.get("external_id"), str) or not row["external_id"].strip():
                add_error(errors, "external_id", _("This field is required."))
            clean = order_clean(actor=actor, data=row, channel=channel, errors=errors, prefetched=prefetched)
            if clean is None or errors:
                results.append(RowResult(index, "rejected", errors=errors))
                continue
            external_id = clean.order.external_id
            existing = placed.get(external_id)
            if existing is not None:
                differing = differing_fields(existing.source_digest or {}, clean)
                if differing:
                    message = _("Differs from the order placed with this external id.")
                    results.append(RowResult(index, "conflict", existing, {name: [message] for name in differing}))
                else:
                    results.append(RowResult(index, "existing", existing))
                continue
            if external_id in seen:  # twice in the same batch: the first one is placed
                first = seen[external_id]
                differing = differing_fields(first.order.source_digest, clean)
                if differing:
                    message = _("Differs from an order earlier in this batch with the same external id.")
                    results.append(RowResult(index, "conflict", first.order, {name: [message] for name in differing}))
                else:
                    results.append(RowResult(index, "existing", first.order))
                continue
            stamp_digest(clean)
            seen[external_id] = clean
            valid.append((index, clean))
        try:
            with transaction.atomic():
                _write(actor, valid)
        except IntegrityError:
            results.extend(_one_by_one(actor, channel, [(index, part[index - part[0][0]][1]) for index, _c in valid]))
        else:
            results.extend(RowResult(index, "created", clean.order) for index, clean in valid)
    return results
