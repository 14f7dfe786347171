"""Shopify's order webhooks (Admin REST `orders/create`, `orders/updated`, `orders/paid`,
`orders/cancelled`, …) turned into the generic order.

Signature: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body with the app's secret
(shown in the shop's notification settings). The topic is in `X-Shopify-Topic`.

Mapping: the order `id` is the external id; the customer is `customer` (or `email`) with the
billing address; a line's discount is its `total_discount` as a percentage of the line (rounded to
two decimals), its tax rate the sum of its `tax_lines` rates; shipping lines become lines too.
The status: cancelled (`cancelled_at` set) before refunded/voided, before fulfilled
(`fulfillment_status`), before paid (`financial_status` paid or partially refunded); otherwise placed.
Prices that include tax (`taxes_included`) are kept as given with a tax rate of 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.utils.translation import gettext as _

from vinculo.touchpoints.adapters import (
    PayloadError,
    decimal_or_zero,
    header,
    items,
    obj,
    payload_id,
    percent_of,
    verify_base64_hmac,
)

KIND = "shopify"
SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> str | None:
    return verify_base64_hmac(headers, body, secret, SIGNATURE_HEADER)


def topic(headers: Mapping[str, str], payload: Any) -> str:
    return header(headers, TOPIC_HEADER)[:64] or "orders/create"


def external_id(payload: Any) -> str:
    return payload_id(payload)


def _tax_rate(item: Mapping[str, Any], taxes_included: bool) -> str:
    if taxes_included:
        return "0.00"
    rate = sum(
        (decimal_or_zero(t.get("rate")) for t in items(item.get("tax_lines")) if isinstance(t, Mapping)), Decimal(0)
    )
    return str((rate * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def _line_discount(item: Mapping[str, Any]) -> Decimal:
    """The line's discount: its `discount_allocations` (current API), else `total_discount`."""
    allocations = [a for a in items(item.get("discount_allocations")) if isinstance(a, Mapping)]
    if allocations:
        return sum((decimal_or_zero(a.get("amount")) for a in allocations), Decimal(0))
    return decimal_or_zero(item.get("total_discount"))


def _status(payload: Mapping[str, Any]) -> str:
    financial = str(payload.get("financial_status") or "")
    if payload.get("cancelled_at"):
        return "cancelled"
    if financial in ("refunded", "voided"):
        return "refunded" if financial == "refunded" else "cancelled"
    if payload.get("fulfillment_status") == "fulfilled":
        return "fulfilled"
    if financial in ("paid", "partially_refunded"):
        return "paid"
    return "placed"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def to_order(payload: Any, topic: str) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise PayloadError({"body": [_("Give an object.")]})
    customer = obj(payload.get("customer"))
    address = obj(payload.get("billing_address")) or obj(payload.get("shipping_address"))
    taxes_included = bool(payload.get("taxes_included"))
    lines: list[Any] = []
    for item in items(payload.get("line_items")):
        if not isinstance(item, Mapping):
            lines.append(item)
            continue
        quantity = item.get("quantity")
        gross = decimal_or_zero(item.get("price")) * decimal_or_zero(quantity)
        lines.append(
            {
                "sku": _text(item.get("sku")),
                "name": _text(item.get("name")) or _text(item.get("title")),
                "quantity": quantity,
                "unit_price": item.get("price"),
                "discount_percent": percent_of(_line_discount(item), gross),
                "tax_rate": _tax_rate(item, taxes_included),
            }
        )
    for item in items(payload.get("shipping_lines")):
        if isinstance(item, Mapping) and decimal_or_zero(item.get("price")) > 0:
            lines.append(
                {
                    "sku": "",
                    "name": _text(item.get("title")) or _("Shipping"),
                    "quantity": 1,
                    "unit_price": item.get("price"),
                    "discount_percent": "0.00",
                    "tax_rate": _tax_rate(item, taxes_included),
                }
            )
    return {
        "external_id": external_id(payload),
        "number": _text(payload.get("name")),
        "created_at": payload.get("created_at"),
        "currency": payload.get("currency"),
        "status": _status(payload),
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
        "lines": lines,
        "totals": {"total": payload.get("total_price")},
    }
