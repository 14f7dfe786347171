"""An order's status and the moves between statuses, shared by the order services (a rep's button,
a shop's webhook) and the refunds (a refund makes an order partially refunded, or refunded).

Below `documents.py` and `refunds.py`, which both move orders along ORDER_TRANSITIONS.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from vinculo.accounts.models import Membership
from vinculo.core.audit import audit_update, diff, snapshot
from vinculo.core.events import emit
from vinculo.sales.models import Order, OrderStatus

DOCUMENT_AUDITED = ["number", "status", "contact", "company", "deal", "currency", "notes", "total"]
# what an order may become from each status; cancelled and refunded are final
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    OrderStatus.PLACED: (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.CANCELLED),
    OrderStatus.PAID: (
        OrderStatus.FULFILLED,
        OrderStatus.PARTIALLY_REFUNDED,
        OrderStatus.REFUNDED,
        OrderStatus.CANCELLED,
    ),
    OrderStatus.FULFILLED: (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED),
    # partially refunded says more than fulfilled: it stays until the rest is refunded or cancelled
    OrderStatus.PARTIALLY_REFUNDED: (OrderStatus.REFUNDED, OrderStatus.CANCELLED),
    OrderStatus.CANCELLED: (),
    OrderStatus.REFUNDED: (),
}


def status_path(current: str, target: str) -> list[str]:
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


def order_move_status(
    *, actor: Membership, order: Order, status: str, properties: dict[str, Any] | None = None
) -> None:
    """Set the status of a locked order (the caller checked the move), audited, with
    `order.status_changed` on the customer's timeline."""
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
    emit(
        organization=order.organization,
        type="order.status_changed",
        contact=order.contact,
        company=order.company,
        actor=actor.user,
        properties={
            "order_id": order.pk,
            "number": order.number,
            "from": old,
            "to": status,
            "total": f"{order.total:.2f}",
            **(properties or {}),
        },
    )


def order_advance_status(*, actor: Membership, order: Order, status: str) -> bool:
    """Bring a locked order to `status` through the allowed transitions (placed → paid →
    fulfilled, …); a status that cannot be reached any more (paid after cancelled) is left alone.
    Whether it moved."""
    path = status_path(order.status, status)
    for step in path:
        order_move_status(actor=actor, order=order, status=step)
    return bool(path)


def lock_order(order: Order) -> Order:
    """The order's row, locked for the rest of the transaction (two changes never interleave)."""
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("organization", "contact", "company")
        .get(pk=order.pk)
    )
