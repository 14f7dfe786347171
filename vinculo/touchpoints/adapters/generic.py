"""The generic JSON order webhook (docs/webhooks.md), for shops Vínculo has no adapter for.

Signature: `X-Vinculo-Timestamp: <unix seconds>` and
`X-Vinculo-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>`. The timestamp is
inside the MAC and must be within five minutes of our clock, so an old captured request cannot be
replayed later; a replay within the window is harmless (orders are idempotent by external id).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from vinculo.touchpoints.adapters import header, hmac_sha256, same

KIND = "orders"
TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "X-Vinculo-Signature"
TIMESTAMP_HEADER = "X-Vinculo-Timestamp"
TOPIC_HEADER = "X-Vinculo-Topic"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value a sender computes (also used by the tests and the docs' example)."""
    return "sha256=" + hmac_sha256(secret, f"{timestamp}.".encode() + body).hex()


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> str | None:
    signature = header(headers, SIGNATURE_HEADER)
    stamp = header(headers, TIMESTAMP_HEADER)
    if not signature or not stamp:
        return _("Missing %(signature)s or %(timestamp)s header.") % {
            "signature": SIGNATURE_HEADER,
            "timestamp": TIMESTAMP_HEADER,
        }
    if not stamp.isdigit() or len(stamp) > 12:
        return _("%(header)s must be a Unix time in seconds.") % {"header": TIMESTAMP_HEADER}
    if abs(now.timestamp() - int(stamp)) > TOLERANCE_SECONDS:
        return _("The timestamp is more than 5 minutes away from the server's clock (replay refused).")
    if not same(sign(secret, body, int(stamp)), signature):
        return _("Invalid signature.")
    return None


def topic(headers: Mapping[str, str], payload: Any) -> str:
    return header(headers, TOPIC_HEADER)[:64] or "orders/upsert"


def external_id(payload: Any) -> str:
    value = payload.get("external_id") if isinstance(payload, dict) else None
    return str(value)[:100] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def to_order(payload: Any, topic: str) -> Any:
    """The generic format is Vínculo's own: nothing to translate."""
    return payload
