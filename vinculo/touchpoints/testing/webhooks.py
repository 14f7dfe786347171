"""Helpers of the webhook tests: integrations, sample payloads, signed requests."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.test import Client
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


def signed_headers(kind: str, body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    if kind == "orders":
        stamp = int(time.time()) if timestamp is None else timestamp
        return {"X-Vinculo-Timestamp": str(stamp), "X-Vinculo-Signature": generic.sign(secret, body, stamp)}
    if kind == "shopify":
        return {"X-Shopify-Hmac-Sha256": base64_signature(secret, body), "X-Shopify-Topic": "orders/create"}
    if kind == "woocommerce":
        return {"X-WC-Webhook-Signature": base64_signature(secret, body), "X-WC-Webhook-Topic": "order.created"}
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
) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = signed_headers(integration.kind, data, secret=secret) if headers is None else headers
    return (client or Client()).post(
        f"/hooks/{integration.token}/", data=data, content_type="application/json", headers=sent
    )
