"""WooCommerce's order webhooks (`order.created`, `order.updated`, `order.deleted`,
`order.restored`; REST API v3 order bodies) turned into the generic order (docs/webhooks.md).

Signature: `X-WC-Webhook-Signature` = base64 HMAC-SHA256 of the raw body with the webhook's secret.
The topic is in `X-WC-Webhook-Topic`. When a webhook is saved WooCommerce sends a ping whose body is
`webhook_id=<n>` (form-encoded, unsigned): it is answered 200 and not stored.

Figures are WooCommerce's own: a line's `subtotal` (before coupons) is its amount before discount
and its unit price that divided by the quantity (to four decimals: WooCommerce's own `price` is an
unrounded float, 3.3333333333333335 for 10.00 / 3), its discount `subtotal` − `total`, its tax
`total_tax`; shipping and fee lines become adjustments with their taxes; each coupon is a discount
row naming its code, already inside the lines' amounts; `refunds` (id, reason, amount) become
refunds, dated with the order's last change (the order body does not say when each was made).
Names arrive with HTML entities (`&amp;`, `&#8211;`): they are decoded. The order's page in the
shop's admin comes from its REST link. Statuses: pending, on-hold and failed → placed; processing
→ paid; completed → fulfilled; cancelled → cancelled; refunded → refunded. `order.deleted` (a body
with the id only) marks the order deleted in the shop; `order.restored` clears the mark.
"""

from __future__ import annotations

import html
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
UNIT = Decimal("0.0001")


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


def _cents(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_EVEN))


def _id(value: Any) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _unit_price(item: Mapping[str, Any]) -> Any:
    """The price of one unit: the line's subtotal over its quantity, to four decimals (else the
    line's own `price`, as text)."""
    quantity = decimal_or_zero(item.get("quantity"))
    if quantity > 0 and item.get("subtotal") not in (None, ""):
        return str((decimal_or_zero(item.get("subtotal")) / quantity).quantize(UNIT, rounding=ROUND_HALF_EVEN))
    price = item.get("price")
    return repr(price) if isinstance(price, float) else price


def _address(address: Mapping[str, Any]) -> dict[str, str]:
    return {
        "name": " ".join(p for p in (_text(address.get("first_name")), _text(address.get("last_name"))) if p),
        "company": _text(address.get("company")),
        "street": ", ".join(p for p in (_text(address.get("address_1")), _text(address.get("address_2"))) if p),
        "city": _text(address.get("city")),
        "region": _text(address.get("state")),
        "postal_code": _text(address.get("postcode")),
        "country": _text(address.get("country")),
        "phone": _text(address.get("phone")),
    }


def admin_url(payload: Mapping[str, Any]) -> str:
    """The order's page in the shop's admin, from the order's own REST link
    (https://shop/wp-json/wc/v3/orders/<id> → https://shop/wp-admin/post.php?post=<id>&action=edit)."""
    order_id = _id(payload.get("id"))
    for link in items(obj(payload.get("_links")).get("self")):
        href = obj(link).get("href")
        if isinstance(href, str) and href.startswith("https://") and "/wp-json/" in href and order_id:
            return f"{href.split('/wp-json/')[0]}/wp-admin/post.php?post={order_id}&action=edit"
    return ""


def _utc(value: Any) -> Any:
    """A `*_gmt` time (no offset, UTC) as ISO 8601 with its zone."""
    return f"{value}Z" if isinstance(value, str) and value and value[-1] != "Z" else value


def _line(item: Mapping[str, Any]) -> dict[str, Any]:
    subtotal, total = decimal_or_zero(item.get("subtotal")), decimal_or_zero(item.get("total"))
    tax = decimal_or_zero(item.get("total_tax"))
    return {
        "external_id": _id(item.get("id")),
        "sku": _text(item.get("sku")),
        "name": _text(item.get("name")),
        "quantity": item.get("quantity"),
        "unit_price": _unit_price(item),
        "subtotal": _cents(subtotal),
        "discount_amount": _cents(subtotal - total),
        "tax_amount": _cents(tax),
        "tax_rate": percent_of(tax, total),
    }


def _adjustments(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for item in items(payload.get("shipping_lines")):
        if isinstance(item, Mapping):
            rows.append(
                {
                    "kind": "shipping",
                    "description": _text(item.get("method_title")) or _("Shipping"),
                    "external_id": _id(item.get("id")),
                    "amount": _cents(decimal_or_zero(item.get("total"))),
                    "tax_amount": _cents(decimal_or_zero(item.get("total_tax"))),
                }
            )
    for item in items(payload.get("fee_lines")):
        if isinstance(item, Mapping):
            rows.append(
                {
                    "kind": "fee",
                    "description": _text(item.get("name")) or _("Fee"),
                    "external_id": _id(item.get("id")),
                    "amount": _cents(decimal_or_zero(item.get("total"))),
                    "tax_amount": _cents(decimal_or_zero(item.get("total_tax"))),
                }
            )
    for item in items(payload.get("coupon_lines")):
        if isinstance(item, Mapping):
            rows.append(
                {
                    "kind": "discount",
                    "description": _("Coupon"),
                    "code": _text(item.get("code"))[:100],
                    "external_id": _id(item.get("id")),
                    "amount": _cents(-decimal_or_zero(item.get("discount"))),
                    "included_in_lines": True,
                }
            )
    return rows


def _refunds(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    when = _utc(payload.get("date_modified_gmt")) or _utc(payload.get("date_created_gmt"))
    return [
        {
            "external_id": _id(item.get("id")),
            "amount": _cents(abs(decimal_or_zero(item.get("total")))),
            "reason": _text(item.get("reason"))[:500],
            "refunded_at": when,
        }
        for item in items(payload.get("refunds"))
        if isinstance(item, Mapping)
    ]


def to_order(payload: Any, topic: str) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise PayloadError({"body": [_("Give an object.")]})
    if topic == "order.deleted":
        return {"type": "order_deleted", "external_id": external_id(payload)}
    billing = obj(payload.get("billing"))
    shipping = obj(payload.get("shipping"))
    lines: list[Any] = [_line(item) if isinstance(item, Mapping) else item for item in items(payload.get("line_items"))]
    street = ", ".join(p for p in (_text(billing.get("address_1")), _text(billing.get("address_2"))) if p)
    order: dict[str, Any] = {
        "external_id": external_id(payload),
        "number": _text(str(payload.get("number") or "")),
        "url": admin_url(payload),
        "created_at": _utc(payload.get("date_created_gmt")),
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
        "billing_address": _address(billing) if billing else {},
        "shipping_address": _address(shipping) if any(_text(v) for v in shipping.values()) else {},
        "lines": lines,
        "adjustments": _adjustments(payload),
        "discount_codes": [row["code"] for row in _adjustments(payload) if row.get("code")],
        "refunds": _refunds(payload),
        "totals": {"total": payload.get("total")},
    }
    if topic == "order.restored":
        order["restored"] = True
    return order
