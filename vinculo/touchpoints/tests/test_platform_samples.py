"""The platforms' own published sample bodies, unedited, through the signed webhook to stored
orders and refunds: each order's total is the shop's, each refund's amount the money it gave back.

The samples are third-party files and are not kept in this repository: this module reads them from
the folder named by VINCULO_SHOP_SAMPLES (default /work/shared/data/shop-samples), where their
SOURCES.md says where each one comes from (Shopify's Admin API Python library's test fixtures,
WooCommerce's REST API documentation), and is skipped when the folder is not there. The same
shapes, written for Vínculo, are in tests/payloads and always run (test_shop_payloads.py).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from vinculo.sales.models import Order, Refund
from vinculo.touchpoints.models import WebhookDelivery
from vinculo.touchpoints.testing.webhooks import deliver, make_integration

SAMPLES = Path(os.environ.get("VINCULO_SHOP_SAMPLES", "/work/shared/data/shop-samples"))
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no platform samples in {SAMPLES} (VINCULO_SHOP_SAMPLES)"),
]


def _files(pattern: str) -> list[str]:
    return sorted(p.name for p in SAMPLES.glob(pattern)) if SAMPLES.is_dir() else []


def _load(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def _shopify_orders(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("orders"), list):
        return body["orders"]
    return [body.get("order", body)]


@pytest.mark.parametrize("name", _files("shopify*order*.json"))
def test_a_shopify_sample_order_is_stored_with_the_shops_total(actor, name):
    integration = make_integration(actor, "shopify")
    for order in _shopify_orders(_load(name)):
        response = deliver(integration, order, topic="orders/create")
        assert response.status_code == 202, response.content
        stored = Order.dangerously_unscoped.get(external_id=f"shopify:{order['id']}")
        assert stored.total == Decimal(order["total_price"])
        assert WebhookDelivery.dangerously_unscoped.filter(status="failed").count() == 0


@pytest.mark.parametrize("name", _files("shopify*refund*.json"))
def test_a_shopify_sample_refund_is_recorded(actor, name):
    integration = make_integration(actor, "shopify")
    refund = _load(name)
    refund = refund.get("refund", refund)
    order_ids = {refund["order_id"]}
    for order_file in _files("shopify*order*.json"):
        for order in _shopify_orders(_load(order_file)):
            if order["id"] in order_ids:
                deliver(integration, order, topic="orders/create")
    if not Order.dangerously_unscoped.exists():
        pytest.skip(f"the order of {name} is not among the samples")
    response = deliver(integration, {"refund": refund}, topic="refunds/create")
    assert response.status_code == 202, response.content
    stored = Refund.dangerously_unscoped.get()
    paid_back = sum(
        (Decimal(t["amount"]) for t in refund.get("transactions", []) if t.get("kind") == "refund"), Decimal(0)
    )
    assert stored.amount == paid_back


@pytest.mark.parametrize("name", _files("woocommerce*orders*.json"))
def test_a_woocommerce_sample_order_is_stored_with_the_shops_total(actor, name):
    integration = make_integration(actor, "woocommerce")
    body = _load(name)
    orders = body if isinstance(body, list) else body.get("update", [body]) if "update" in body else [body]
    for order in orders:
        if not isinstance(order, dict) or "line_items" not in order:
            continue
        response = deliver(integration, order, topic="order.updated")
        assert response.status_code == 202, response.content
        stored = Order.dangerously_unscoped.get(external_id=f"woocommerce:{order['id']}")
        assert stored.total == Decimal(order["total"])
        refunded = sum((-Decimal(r["total"]) for r in order.get("refunds", [])), Decimal(0))
        assert stored.refunded_total == refunded
