"""Shopify's order webhooks (Admin REST `orders/create`, `orders/updated`, `orders/paid`,
`orders/cancelled`, `orders/fulfilled`) and `refunds/create`, turned into the generic order or
refund (docs/webhooks.md).

Signature: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body with the app's secret
(shown in the shop's notification settings). The topic is in `X-Shopify-Topic`. A body wrapped as
the Admin API answers it (`{"order": {…}}`, `{"refund": {…}}`) is read the same way.

Figures are the shop's own, in the shop's currency (`shop_money` of the `*_set` amounts; the
customer's currency, `presentment_money`, is kept beside them):
- a line: its `price` and `quantity`, its discount the sum of its `discount_allocations` (else its
  `total_discount`), its tax the sum of its `tax_lines`;
- shipping lines become shipping adjustments with their own discount allocations and tax lines;
- each discount application becomes a discount row naming its code, already inside the lines'
  (or the shipping's) amounts; what `total_discounts` holds beyond the allocations is a discount of
  the whole order, counted once;
- tax in `total_tax` beyond the lines' and the shipping's is an order-level tax; duties, additional
  fees and tips are adjustments of their own;
- `total_price` is the order's total, kept even when the figures above do not add up to it (the
  order then carries a warning).
Refunds (in `refunds/create`, and in the `refunds` of an order body): the money that went back is
the sum of the successful refund transactions (in shop money); the lines are `refund_line_items`,
the shipping `refund_shipping_lines` or `order_adjustments` of kind `shipping_refund`.
The status: the topic first (`orders/cancelled`, `orders/fulfilled`, `orders/paid`), then
cancelled (`cancelled_at`), refunded, voided (cancelled), fulfilled, partially refunded, paid;
otherwise placed. Prices that include tax (`taxes_included`) keep their tax inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from vinculo.touchpoints.adapters import (
    PayloadError,
    decimal_or_zero,
    header,
    items,
    obj,
    payload_id,
    verify_base64_hmac,
)

KIND = "shopify"
SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
TOPIC_STATUS = {"orders/cancelled": "cancelled", "orders/fulfilled": "fulfilled", "orders/paid": "paid"}
CENT = Decimal("0.01")


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> str | None:
    return verify_base64_hmac(headers, body, secret, SIGNATURE_HEADER)


def topic(headers: Mapping[str, str], payload: Any) -> str:
    return header(headers, TOPIC_HEADER)[:64] or "orders/create"


def _unwrap(payload: Any) -> Any:
    """The order or refund itself, whether sent bare (webhooks) or wrapped (the Admin API)."""
    if isinstance(payload, Mapping) and len(payload) == 1:
        for key in ("order", "refund"):
            if isinstance(payload.get(key), Mapping):
                return payload[key]
    return payload


def external_id(payload: Any) -> str:
    return payload_id(_unwrap(payload))


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _id(value: Any) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _money(item: Mapping[str, Any], key: str, which: str = "shop_money") -> Decimal:
    """An amount in the shop's currency: `<key>_set.shop_money.amount`, else `<key>`."""
    money = obj(obj(item.get(f"{key}_set")).get(which))
    if money.get("amount") not in (None, ""):
        return decimal_or_zero(money["amount"])
    return decimal_or_zero(item.get(key)) if which == "shop_money" else Decimal(0)


def _has_presentment(item: Mapping[str, Any], key: str) -> bool:
    return obj(obj(item.get(f"{key}_set")).get("presentment_money")).get("amount") not in (None, "")


def _cents(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_EVEN))


def _allocations(item: Mapping[str, Any], which: str = "shop_money") -> list[tuple[int | None, Decimal]]:
    """(discount application index, amount) of an item's discount allocations."""
    result = []
    for allocation in items(item.get("discount_allocations")):
        if isinstance(allocation, Mapping):
            index = allocation.get("discount_application_index")
            result.append((index if isinstance(index, int) else None, _money(allocation, "amount", which)))
    return result


def _tax(item: Mapping[str, Any], which: str = "shop_money") -> Decimal:
    return sum((_money(t, "price", which) for t in items(item.get("tax_lines")) if isinstance(t, Mapping)), Decimal(0))


def _tax_rate(item: Mapping[str, Any]) -> str:
    rate = sum(
        (decimal_or_zero(t.get("rate")) for t in items(item.get("tax_lines")) if isinstance(t, Mapping)), Decimal(0)
    )
    return _cents(rate * 100)


def _line_discount(item: Mapping[str, Any], which: str = "shop_money") -> Decimal:
    """The line's discount: its `discount_allocations` (current API), else `total_discount`."""
    allocations = _allocations(item, which)
    if allocations:
        return sum((amount for _index, amount in allocations), Decimal(0))
    return _money(item, "total_discount", which)


def _status(payload: Mapping[str, Any], topic: str) -> str:
    financial = str(payload.get("financial_status") or "")
    if topic in TOPIC_STATUS and not (topic == "orders/paid" and financial in ("refunded", "partially_refunded")):
        return TOPIC_STATUS[topic]
    if payload.get("cancelled_at"):
        return "cancelled"
    if financial in ("refunded", "voided"):
        return "refunded" if financial == "refunded" else "cancelled"
    if payload.get("fulfillment_status") == "fulfilled":
        return "fulfilled"
    if financial == "partially_refunded":
        return "partially_refunded"
    if financial == "paid":
        return "paid"
    return "placed"


def _address(address: Mapping[str, Any]) -> dict[str, str]:
    name = _text(address.get("name")) or " ".join(
        p for p in (_text(address.get("first_name")), _text(address.get("last_name"))) if p
    )
    return {
        "name": name,
        "company": _text(address.get("company")),
        "street": ", ".join(p for p in (_text(address.get("address1")), _text(address.get("address2"))) if p),
        "city": _text(address.get("city")),
        "region": _text(address.get("province")),
        "postal_code": _text(address.get("zip")),
        "country": _text(address.get("country_code")),
        "phone": _text(address.get("phone")),
    }


def admin_url(payload: Mapping[str, Any]) -> str:
    """The order's page in the shop's admin: https://<shop>.myshopify.com/admin/orders/<id>, the shop
    read from the order's status page address (the webhook body does not name the shop otherwise)."""
    status_url = _text(payload.get("order_status_url"))
    order_id = _id(payload.get("id"))
    if not status_url or not order_id:
        return ""
    parts = urlsplit(status_url)
    if parts.scheme != "https" or not parts.hostname:
        return ""
    return f"https://{parts.hostname}/admin/orders/{order_id}"


def _presentment_known(item: Mapping[str, Any]) -> bool:
    """Whether every amount of a line (its price, discounts, taxes) is also given in the customer's
    currency: only then is its total there known."""
    if not _has_presentment(item, "price"):
        return False
    parts = [(a, "amount") for a in items(item.get("discount_allocations")) if isinstance(a, Mapping)]
    parts += [(t, "price") for t in items(item.get("tax_lines")) if isinstance(t, Mapping)]
    return all(_has_presentment(part, key) or not _money(part, key) for part, key in parts)


def _line(item: Mapping[str, Any]) -> dict[str, Any]:
    quantity = item.get("quantity")
    price = _money(item, "price") if item.get("price_set") else item.get("price")
    line: dict[str, Any] = {
        "external_id": _id(item.get("id")),
        "sku": _text(item.get("sku")),
        "name": _text(item.get("name")) or _text(item.get("title")),
        "quantity": quantity,
        "unit_price": _cents(price) if isinstance(price, Decimal) else price,
        "discount_amount": _cents(_line_discount(item)),
        "tax_amount": _cents(_tax(item)),
        "tax_rate": _tax_rate(item),
    }
    if _presentment_known(item):
        gross = _money(item, "price", "presentment_money") * decimal_or_zero(quantity)
        line["presentment_total"] = _cents(
            gross - _line_discount(item, "presentment_money") + _tax(item, "presentment_money")
        )
    return line


def _shipping(item: Mapping[str, Any]) -> dict[str, Any]:
    discount = sum((amount for _index, amount in _allocations(item)), Decimal(0))
    row: dict[str, Any] = {
        "kind": "shipping",
        "description": _text(item.get("title")) or _text(item.get("code")) or _("Shipping"),
        "external_id": _id(item.get("id")),
        "amount": _cents(_money(item, "price")),
        "discount_amount": _cents(discount),
        "tax_amount": _cents(_tax(item)),
    }
    if _presentment_known(item):
        presentment = sum((amount for _i, amount in _allocations(item, "presentment_money")), Decimal(0))
        row["presentment_total"] = _cents(
            _money(item, "price", "presentment_money") - presentment + _tax(item, "presentment_money")
        )
    return row


def _discount_rows(order: Mapping[str, Any], allocated: dict[int | None, Decimal]) -> list[dict[str, Any]]:
    """One row per discount application, with what was allocated of it (inside the lines' or the
    shipping's amounts, so not counted again)."""
    rows = []
    for index, application in enumerate(items(order.get("discount_applications"))):
        if not isinstance(application, Mapping):
            continue
        amount = allocated.get(index, Decimal(0))
        if amount <= 0:
            continue
        rows.append(
            {
                "kind": "discount",
                "description": _text(application.get("title")) or _text(application.get("description")),
                "code": _text(application.get("code")),
                "amount": _cents(-amount),
                "included_in_lines": True,
            }
        )
    return rows


def _set_amount(order: Mapping[str, Any], key: str) -> Decimal:
    """An order-level `<key>` amount (shop money), from `<key>` itself or its `_set`."""
    if order.get(key) not in (None, "") and not isinstance(order.get(key), Mapping):
        return decimal_or_zero(order.get(key))
    return _money(order, key)


def _order_adjustments(order: Mapping[str, Any], lines: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    taxes_included = bool(order.get("taxes_included"))
    shipping_items = [item for item in items(order.get("shipping_lines")) if isinstance(item, Mapping)]
    adjustments = [_shipping(item) for item in shipping_items]
    allocated: dict[int | None, Decimal] = {}
    for item in [*lines, *shipping_items]:
        for index, amount in _allocations(item):
            allocated[index] = allocated.get(index, Decimal(0)) + amount
    adjustments.extend(_discount_rows(order, allocated))
    on_items = sum((_line_discount(item) for item in lines), Decimal(0)) + sum(
        (amount for item in shipping_items for _i, amount in _allocations(item)), Decimal(0)
    )
    order_discount = _set_amount(order, "total_discounts") - on_items
    if order_discount > 0:
        codes = [_text(c.get("code")) for c in items(order.get("discount_codes")) if isinstance(c, Mapping)]
        adjustments.append(
            {
                "kind": "discount",
                "description": _("Discount on the order"),
                "code": ", ".join(c for c in codes if c)[:100],
                "amount": _cents(-order_discount),
            }
        )
    taxed = sum((_tax(item) for item in [*lines, *shipping_items]), Decimal(0))
    order_tax = _set_amount(order, "total_tax") - taxed
    if order_tax > 0:
        titles = [_text(t.get("title")) for t in items(order.get("tax_lines")) if isinstance(t, Mapping)]
        adjustments.append(
            {
                "kind": "tax",
                "description": ", ".join(t for t in titles if t)[:300] or _("Tax"),
                "amount": _cents(order_tax),
                "included_in_lines": taxes_included,
            }
        )
    for kind, key, description in (
        ("duty", "original_total_duties", _("Duties")),
        ("fee", "original_total_additional_fees", _("Additional fees")),
    ):
        amount = _money(order, key)
        if amount > 0:
            row: dict[str, Any] = {"kind": kind, "description": description, "amount": _cents(amount)}
            if _has_presentment(order, key):
                row["presentment_total"] = _cents(_money(order, key, "presentment_money"))
            adjustments.append(row)
    tip = decimal_or_zero(order.get("total_tip_received"))
    if tip > 0:
        adjustments.append({"kind": "tip", "description": _("Tip"), "amount": _cents(tip)})
    return adjustments


def _refund_amount(refund: Mapping[str, Any]) -> Decimal | None:
    """What went back: the successful refund transactions, in shop money (None when there are none)."""
    transactions = [
        t
        for t in items(refund.get("transactions"))
        if isinstance(t, Mapping) and t.get("kind") == "refund" and t.get("status") in ("success", None)
    ]
    if not transactions:
        return None
    return sum((_money(t, "amount") for t in transactions), Decimal(0))


def to_refund(refund: Mapping[str, Any]) -> dict[str, Any]:
    """A Shopify refund as the generic refund (docs/webhooks.md)."""
    lines = []
    for item in items(refund.get("refund_line_items")):
        if not isinstance(item, Mapping):
            continue
        line_item = obj(item.get("line_item"))
        lines.append(
            {
                "line_external_id": _id(item.get("line_item_id")) or _id(line_item.get("id")),
                "description": _text(line_item.get("name")) or _text(line_item.get("title")),
                "quantity": item.get("quantity"),
                "amount": _cents(_money(item, "subtotal")),
                "tax_amount": _cents(_money(item, "total_tax")),
            }
        )
    shipping = sum(
        (
            _money(item, "subtotal_amount")
            for item in items(refund.get("refund_shipping_lines"))
            if isinstance(item, Mapping)
        ),
        Decimal(0),
    )
    shipping += sum(
        (
            -_money(item, "amount") - _money(item, "tax_amount")
            for item in items(refund.get("order_adjustments"))
            if isinstance(item, Mapping) and item.get("kind") == "shipping_refund"
        ),
        Decimal(0),
    )
    amount = _refund_amount(refund)
    result: dict[str, Any] = {
        "type": "refund",
        "order_external_id": _id(refund.get("order_id")),
        "external_id": _id(refund.get("id")),
        "refunded_at": refund.get("processed_at") or refund.get("created_at"),
        "reason": _text(refund.get("note")),
        "shipping_amount": _cents(shipping),
        "lines": lines,
    }
    if amount is not None:
        result["amount"] = _cents(amount)
    return result


def _embedded(refund: dict[str, Any]) -> dict[str, Any]:
    """A refund listed in its order's body: the order is the one around it."""
    return {key: value for key, value in refund.items() if key not in ("type", "order_external_id")}


def to_order(payload: Any, topic: str) -> dict[str, Any]:
    payload = _unwrap(payload)
    if not isinstance(payload, Mapping):
        raise PayloadError({"body": [_("Give an object.")]})
    if topic.startswith("refunds/"):
        return to_refund(payload)
    customer = obj(payload.get("customer"))
    billing, shipping = obj(payload.get("billing_address")), obj(payload.get("shipping_address"))
    address = billing or shipping
    line_items = [item for item in items(payload.get("line_items")) if isinstance(item, Mapping)]
    lines: list[Any] = [_line(item) if isinstance(item, Mapping) else item for item in items(payload.get("line_items"))]
    order: dict[str, Any] = {
        "external_id": _id(payload.get("id")),
        "number": _text(payload.get("name")),
        "url": admin_url(payload),
        "created_at": payload.get("created_at"),
        "currency": payload.get("currency"),
        "status": _status(payload, topic),
        "taxes_included": bool(payload.get("taxes_included")),
        "customer": {
            "email": _text(customer.get("email")) or _text(payload.get("email")) or _text(payload.get("contact_email")),
            "first_name": _text(customer.get("first_name")) or _text(address.get("first_name")),
            "last_name": _text(customer.get("last_name")) or _text(address.get("last_name")),
            "phone": _text(customer.get("phone")) or _text(address.get("phone")) or _text(payload.get("phone")),
            "company": _text(address.get("company")),
            "address": {
                "street": ", ".join(p for p in (_text(address.get("address1")), _text(address.get("address2"))) if p),
                "city": _text(address.get("city")),
                "region": _text(address.get("province")),
                "postal_code": _text(address.get("zip")),
                "country": _text(address.get("country_code")),
            },
        },
        "billing_address": _address(billing) if billing else {},
        "shipping_address": _address(shipping) if shipping else {},
        "lines": lines,
        "adjustments": _order_adjustments(payload, line_items),
        "discount_codes": [
            _text(c.get("code"))[:100]
            for c in items(payload.get("discount_codes"))
            if isinstance(c, Mapping) and _text(c.get("code"))
        ],
        "refunds": [_embedded(to_refund(r)) for r in items(payload.get("refunds")) if isinstance(r, Mapping)],
        "totals": {"total": _cents(_set_amount(payload, "total_price")) if _has_total(payload) else None},
    }
    presentment = _text(payload.get("presentment_currency"))
    if presentment and _has_presentment(payload, "total_price"):
        order["presentment_currency"] = presentment
        order["presentment_total"] = _cents(_money(payload, "total_price", "presentment_money"))
    return order


def _has_total(payload: Mapping[str, Any]) -> bool:
    return payload.get("total_price") not in (None, "") or bool(obj(payload.get("total_price_set")))
