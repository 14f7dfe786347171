"""Helpers of the webhook tests: integrations, sample payloads, signed requests."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.test import Client, TestCase
from django_scopes import scope

from vinculo.accounts.models import Membership
from vinculo.touchpoints.adapters import base64_signature, generic, hmac_sha256
from vinculo.touchpoints.models import Integration
from vinculo.touchpoints.services.integrations import integration_create

PAYLOADS = Path(__file__).parent.parent / "tests" / "payloads"
SECRET = "a-test-secret-of-32-characters!!"


def payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def raw(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def make_integration(actor: Membership, kind: str, **data: Any) -> Integration:
    with scope(organization=actor.organization):
        integration, _secret = integration_create(
            actor=actor, data={"kind": kind, "name": data.pop("name", f"{kind} test"), "secret": SECRET, **data}
        )
    return integration


def signed_headers(
    kind: str, body: bytes, *, secret: str = SECRET, timestamp: int | None = None, topic: str | None = None
) -> dict[str, str]:
    if kind == "orders":
        stamp = int(time.time()) if timestamp is None else timestamp
        headers = {"X-Vinculo-Timestamp": str(stamp), "X-Vinculo-Signature": generic.sign(secret, body, stamp)}
        return {**headers, "X-Vinculo-Topic": topic} if topic else headers
    if kind == "shopify":
        return {"X-Shopify-Hmac-Sha256": base64_signature(secret, body), "X-Shopify-Topic": topic or "orders/create"}
    if kind == "woocommerce":
        return {
            "X-WC-Webhook-Signature": base64_signature(secret, body),
            "X-WC-Webhook-Topic": topic or "order.created",
        }
    if kind == "facebook_leads":
        return {"X-Hub-Signature-256": "sha256=" + hmac_sha256(secret, body).hex()}
    if kind == "linkedin_leads":
        return {"X-LI-Signature": hmac_sha256(secret, body).hex()}
    raise AssertionError(kind)


def post(
    integration: Integration,
    body: bytes | dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    client: Client | None = None,
    secret: str = SECRET,
    topic: str | None = None,
) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = signed_headers(integration.kind, data, secret=secret, topic=topic) if headers is None else headers
    return (client or Client()).post(
        f"/hooks/{integration.token}/", data=data, content_type="application/json", headers=sent
    )


def deliver(integration: Integration, body: bytes | dict[str, Any] | str, *, topic: str | None = None) -> Any:
    """POST a signed delivery (a payload file's name, raw bytes or a dict) and process it at once,
    as the worker would right after the commit. Returns the endpoint's response."""
    data = raw(body) if isinstance(body, str) else body
    with TestCase.captureOnCommitCallbacks(execute=True):
        return post(integration, data, topic=topic)


def shopify_order_with_lines(count: int) -> dict[str, Any]:
    """A Shopify order of `count` lines, each built from the line of the documented sample
    (`shopify_orders_create_order_discount.json`) with its own id, SKU, price and quantity; the
    order's figures recomputed from them (a discount on the order and the shipping kept)."""
    order = payload("shopify_orders_create_order_discount.json")
    template = order["line_items"][0]
    lines = []
    total = Decimal("0.00")
    for n in range(count):
        line = json.loads(json.dumps(template))
        price = Decimal(1 + n % 97) + Decimal(n % 100) / 100
        quantity = 1 + n % 3
        line.update(
            id=900000 + n,
            admin_graphql_api_id=f"gid://shopify/LineItem/{900000 + n}",
            sku=f"GEN-{n:04d}",
            name=f"{template['name']} #{n + 1}",
            title=f"{template['title']} #{n + 1}",
            price=f"{price:.2f}",
            quantity=quantity,
            current_quantity=quantity,
            fulfillable_quantity=quantity,
        )
        for key in ("shop_money", "presentment_money"):
            line["price_set"][key]["amount"] = f"{price:.2f}"
        lines.append(line)
        total += price * quantity
    order["line_items"] = lines
    items = f"{total:.2f}"
    order["total_line_items_price"] = items
    grand = f"{total + Decimal('10.00') - Decimal('20.00'):.2f}"
    order["total_price"] = order["current_total_price"] = grand
    for key, amount in (
        ("total_line_items_price_set", items),
        ("total_price_set", grand),
        ("current_total_price_set", grand),
    ):
        order[key] = {
            "shop_money": {"amount": amount, "currency_code": "USD"},
            "presentment_money": {"amount": amount, "currency_code": "USD"},
        }
    return order
