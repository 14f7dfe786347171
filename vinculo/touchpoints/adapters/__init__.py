"""Adapters of the webhook sources: one module per kind of integration.

Each adapter knows three things about its source and nothing about the database:
- how its requests are signed (`verify`, answering None when the signature holds, else the reason);
- what a request is about (`topic`, `external_id`);
- how its body becomes Vínculo's own shape: the documented generic order (adapters of shops,
  `to_order`) or a list of leads (adapters of lead ads, `to_leads`).

`for_kind(kind)` returns the module of an integration kind.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from types import ModuleType
from typing import Any

from django.utils.translation import gettext as _


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def same(expected: str, given: str) -> bool:
    """Constant-time comparison of two signatures (text)."""
    return hmac.compare_digest(expected.encode(), given.encode())


def base64_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac_sha256(secret, body)).decode()


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value, whatever its case ('' when absent)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, item in headers.items():
            if key.lower() == lowered:
                value = item
                break
    return (value or "").strip()


def verify_base64_hmac(headers: Mapping[str, str], body: bytes, secret: str, name: str) -> str | None:
    """None when header `name` holds the base64 HMAC-SHA256 of the body (Shopify, WooCommerce),
    else the reason."""
    signature = header(headers, name)
    if not signature:
        return _("Missing %(header)s header.") % {"header": name}
    if not same(base64_signature(secret, body), signature):
        return _("Invalid signature.")
    return None


def payload_id(payload: Any) -> str:
    """The payload's own "id" as text ('' when missing or not a string or a number)."""
    value = payload.get("id") if isinstance(payload, dict) else None
    return str(value)[:100] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def decimal_or_zero(value: Any) -> Decimal:
    """A shop's amount (text or number) as a Decimal; 0 when empty or not a number."""
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except (ArithmeticError, ValueError):
        return Decimal(0)


def percent_of(part: Decimal, whole: Decimal) -> str:
    """`part` as a percentage of `whole`, to cents ("0.00" when either is not positive)."""
    if whole <= 0 or part <= 0:
        return "0.00"
    return str((part * 100 / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def obj(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one (hostile or partial payloads)."""
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    """`value` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def field_key(value: Any) -> str:
    """A form field's name as Vínculo keys it: lower case, accents dropped, anything but letters,
    digits, `_`, `.` and `-` as `_` ("Custom question 0" → "custom_question_0"); '' if not text."""
    if not isinstance(value, str):
        return ""
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return _NOT_IN_KEY.sub("_", plain.strip().lower()).strip("_")[:64]


_NOT_IN_KEY = re.compile(r"[^a-z0-9_.\-]+")


@dataclass
class Lead:
    """A lead as any lead-ads source gives it: the answers keyed by the source's field names.

    `details` holds what the network says about where the lead came from beyond the names (ad,
    ad set and campaign ids, platform, organic or test lead): recorded on the `lead.captured`
    event when given."""

    external_id: str
    answers: dict[str, str]
    occurred_at: datetime | None = None
    campaign: str = ""
    form_id: str = ""
    ad_name: str = ""
    consents: list[dict[str, Any]] = field(default_factory=list)  # {"key", "text", "granted"}
    profile_url: str = ""
    form_name: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class LeadPing:
    """A lead a network announced by id only (Facebook's `leadgen` change, LinkedIn's
    `LEAD_ACTION`): its answers are read from the network's API by a fetch job. `hint` keeps what
    the announcement said (page, ad, form, time) for the job's page."""

    external_id: str
    form_id: str = ""
    hint: dict[str, Any] = field(default_factory=dict)


class PayloadError(Exception):
    """The payload is signed but cannot be understood: `errors` maps fields to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def for_kind(kind: str) -> ModuleType:
    # cycle within the package: each adapter imports PayloadError from this __init__
    from vinculo.touchpoints.adapters import facebook, generic, linkedin, shopify, woocommerce

    modules: dict[str, ModuleType] = {
        "orders": generic,
        "shopify": shopify,
        "woocommerce": woocommerce,
        "facebook_leads": facebook,
        "linkedin_leads": linkedin,
    }
    return modules[kind]
