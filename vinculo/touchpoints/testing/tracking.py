"""Helpers for the tracker tests: a site, events as the snippet sends them, posting a batch."""

from __future__ import annotations

import itertools
import json
from typing import Any

from django.test import Client

from vinculo.accounts.models import Organization
from vinculo.touchpoints.models import TrackingSite

ORIGIN = "https://shop.example"
URL = "/api/v1/track/batch"
_ids = itertools.count(1)


def make_site(org: Organization, **fields: Any) -> TrackingSite:
    fields.setdefault("name", "Shop")
    fields.setdefault("allowed_origins", [ORIGIN])
    return TrackingSite.dangerously_unscoped.create(organization=org, **fields)


def page(anonymous_id: str = "anon-1", at: str = "2026-03-02T10:00:00+00:00", **fields: Any) -> dict[str, Any]:
    return {
        "type": "page",
        "message_id": f"m-{next(_ids)}",
        "anonymous_id": anonymous_id,
        "timestamp": at,
        "url": f"{ORIGIN}/",
        "title": "Home",
        **fields,
    }


def track(
    name: str, anonymous_id: str = "anon-1", at: str = "2026-03-02T10:00:00+00:00", **fields: Any
) -> dict[str, Any]:
    return {
        "type": "track",
        "message_id": f"m-{next(_ids)}",
        "anonymous_id": anonymous_id,
        "timestamp": at,
        "name": name,
        **fields,
    }


def identify(
    user_id: str, anonymous_id: str = "anon-1", at: str = "2026-03-02T10:00:00+00:00", **fields: Any
) -> dict[str, Any]:
    return {
        "type": "identify",
        "message_id": f"m-{next(_ids)}",
        "anonymous_id": anonymous_id,
        "timestamp": at,
        "user_id": user_id,
        **fields,
    }


def post_batch(
    site: TrackingSite | str,
    events: list[Any],
    *,
    sent_at: str | None = None,
    origin: str | None = ORIGIN,
    client: Client | None = None,
    content_type: str = "application/json",
    ip: str = "203.0.113.7",
    consent: Any = True,
    **body: Any,
) -> Any:
    """POST a batch as the snippet does; by default from a visitor who consented (`consent=None`:
    not asked yet, the field is left out; any other value is sent as it is)."""
    key = site if isinstance(site, str) else site.public_key
    payload: dict[str, Any] = {"key": key, "events": events, **body}
    if consent is not None:
        payload["consent"] = consent
    if sent_at is not None:
        payload["sent_at"] = sent_at
    headers = {"Origin": origin} if origin else {}
    return (client or Client()).post(
        URL, data=json.dumps(payload), content_type=content_type, headers=headers, REMOTE_ADDR=ip
    )
