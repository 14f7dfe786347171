"""WooCommerce's order webhooks (`order.created`, `order.updated`, …; REST API v3 order bodies)
turned into the generic order.

Signature: `X-WC-Webhook-Signature` = base64 HMAC-SHA256 of the raw body with the webhook's secret.
The topic is in `X-WC-Webhook-Topic`. When a webhook is saved WooCommerce sends a ping whose body is
`webhook_id=<n>` (form-encoded, unsigned): it is answered 200 and not stored.

Mapping: the order `id` is the external id; the customer is `billing`; a line's unit price is its
`subtotal` divided by its quantity (before coupons), its discount the difference between `subtotal`
and `total` as a percentage (two decimals), its tax rate `total_tax` over `total`; shipping lines
become lines. Statuses: pending, on-hold and failed → placed; processing → paid; completed →
fulfilled; cancelled → cancelled; refunded → refunded. Prices entered with tax
(`prices_include_tax`) are handled the same way: WooCommerce's line totals are net of tax.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
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

KIND = "woocommerce"
SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
STATUSES = {
    "pending": "placed",
    "on-hold": "placed",
    "failed": "placed",
    "processing": "paid",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "refunded": "refunded",
}
CENT = Decimal("0.01")


def is_ping(body: bytes) -> bool:
    return body.startswith(b"webhook_id=") and len(body) < 64


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> str | None:
    return verify_base64_hmac(headers, body, secret, SIGNATURE_HEADER)


def topic(headers: Mapping[str, str], payload: Any) -> str:
    return header(headers, TOPIC_HEADER)[:64] or "order.created"


def external_id(payload: Any) -> str:
    return payload_id(payload)


def _text(value: Any) -> str:
    """Text as WooCommerce stores it, HTML entities decoded ("&ndash;" → "–")."""
    return html.unescape(value).strip() if isinstance(value, str) else ""


def _unit_price(item: Mapping[str, Any]) -> Any:
    quantity = decimal_or_zero(item.get("quantity"))
    subtotal = decimal_or_zero(item.get("subtotal"))
    if quantity > 0 and subtotal > 0:
        unit = subtotal / quantity
        if unit == unit.quantize(CENT):
            return str(unit.quantize(CENT))
    price = item.get("price")
    return str(price) if isinstance(price, int | float) and not isinstance(price, bool) else price


def to_order(payload: Any, topic: str) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise PayloadError({"body": [_("Give an object.")]})
    billing = obj(payload.get("billing"))
    lines: list[Any] = []
    for item in items(payload.get("line_items")):
        if not isinstance(item, Mapping):
            lines.append(item)
            continue
        subtotal, total = decimal_or_zero(item.get("subtotal")), decimal_or_zero(item.get("total"))
        lines.append(
            {
                "sku": _text(item.get("sku")),
                "name": _text(item.get("name")),
                "quantity": item.get("quantity"),
                "unit_price": _unit_price(item),
                "discount_percent": percent_of(subtotal - total, subtotal),
                "tax_rate": percent_of(decimal_or_zero(item.get("total_tax")), total),
            }
        )
    for item in items(payload.get("shipping_lines")):
        if isinstance(item, Mapping) and decimal_or_zero(item.get("total")) > 0:
            total = decimal_or_zero(item.get("total"))
            lines.append(
                {
                    "sku": "",
                    "name": _text(item.get("method_title")) or _("Shipping"),
                    "quantity": 1,
                    "unit_price": str(total),
                    "discount_percent": "0.00",
                    "tax_rate": percent_of(decimal_or_zero(item.get("total_tax")), total),
                }
            )
    street = ", ".join(p for p in (_text(billing.get("address_1")), _text(billing.get("address_2"))) if p)
    created = payload.get("date_created_gmt")
    return {
        "external_id": external_id(payload),
        "number": _text(str(payload.get("number") or "")),
        "created_at": f"{created}Z" if isinstance(created, str) and created and created[-1] != "Z" else created,
        "currency": payload.get("currency"),
        "status": STATUSES.get(str(payload.get("status") or ""), "placed"),
        "customer": {
            "email": _text(billing.get("email")),
            "first_name": _text(billing.get("first_name")),
            "last_name": _text(billing.get("last_name")),
            "phone": _text(billing.get("phone")),
            "company": _text(billing.get("company")),
            "address": {
                "street": street,
                "city": _text(billing.get("city")),
                "region": _text(billing.get("state")),
                "postal_code": _text(billing.get("postcode")),
                "country": _text(billing.get("country")),
            },
        },
        "lines": lines,
        "totals": {"total": payload.get("total")},
    }
