"""Facebook Lead Ads (the Page's `leadgen` webhook) turned into leads.

Signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`. Subscribing:
Facebook first sends `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`; we answer the
challenge when the verify token is this integration's (shown on its page).

Facebook's webhook only carries ids (`leadgen_id`, `form_id`, `page_id`, `ad_id`); the answers are
then read from the Graph API (`GET /<leadgen_id>`) with a Page access token. Vínculo cannot reach
Facebook from here, so it accepts the change value *with* the lead's `field_data` included, as
relays (Zapier, Make, a small proxy that calls the Graph API) and Facebook's test tool payloads give
it, or a Graph API lead object posted as is. A change without `field_data` is refused with that
reason (422), stored as a failed delivery that can be retried once relayed with its answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from vinculo.core.validation import in_date_range
from vinculo.touchpoints.adapters import Lead, PayloadError, header, hmac_sha256, items, same

KIND = "facebook_leads"
NETWORK = "facebook"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_LEADS = 100


def verify_token(secret: str) -> str:
    """The token to type into the app's webhook settings: derived from the secret, so it changes
    when the secret is rotated."""
    return hmac_sha256(secret, b"vinculo facebook verify token").hex()[:32]


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> str | None:
    signature = header(headers, SIGNATURE_HEADER)
    if not signature:
        return _("Missing %(header)s header.") % {"header": SIGNATURE_HEADER}
    if not same("sha256=" + hmac_sha256(secret, body).hex(), signature):
        return _("Invalid signature.")
    return None


def handshake(query: Mapping[str, str], secret: str) -> tuple[int, str] | None:
    """(status, plain-text body) for the subscription check, or None when the query is not one."""
    if "hub.mode" not in query and "hub.challenge" not in query:
        return None
    if query.get("hub.mode") != "subscribe" or not same(verify_token(secret), query.get("hub.verify_token", "")):
        return 403, _("Wrong verify token.")
    challenge = query.get("hub.challenge", "")
    if not challenge or len(challenge) > 200:
        return 400, _("Missing hub.challenge.")
    return 200, challenge


def topic(headers: Mapping[str, str], payload: Any) -> str:
    return "leadgen"


def _values(payload: Any) -> list[Mapping[str, Any]]:
    """The lead objects of a webhook body (each change's value), or the body itself (a Graph API lead)."""
    if not isinstance(payload, Mapping):
        return []
    if "entry" not in payload:
        return [payload]
    values: list[Mapping[str, Any]] = []
    for entry in items(payload.get("entry")):
        if not isinstance(entry, Mapping):
            continue
        for change in items(entry.get("changes")):
            if (
                isinstance(change, Mapping)
                and change.get("field") == "leadgen"
                and isinstance(change.get("value"), Mapping)
            ):
                values.append(change["value"])
    return values


def _lead_id(value: Mapping[str, Any]) -> str:
    lead_id = value.get("leadgen_id") or value.get("id")
    return str(lead_id)[:100] if isinstance(lead_id, str | int) and not isinstance(lead_id, bool) else ""


def external_id(payload: Any) -> str:
    ids = [_lead_id(v) for v in _values(payload)]
    return ",".join(i for i in ids if i)[:128]


def _time(value: Any) -> datetime | None:
    """When the lead was created; None (the time it is received) when unreadable or outside
    1900–2200: a lead is not refused for its time."""
    parsed: datetime | None = None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**11:
        parsed = datetime.fromtimestamp(value, tz=dt.UTC)
    elif isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("+0000", "+00:00"))
        except ValueError:
            return None
    if parsed is None or not in_date_range(parsed):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def to_leads(payload: Any) -> list[Lead]:
    values = _values(payload)
    if not values:
        raise PayloadError({"entry": [_("No leadgen change in this body.")]})
    if len(values) > MAX_LEADS:
        raise PayloadError({"entry": [_("At most %(n)s leads per delivery.") % {"n": MAX_LEADS}]})
    leads: list[Lead] = []
    errors: dict[str, list[str]] = {}
    for index, value in enumerate(values):
        lead_id = _lead_id(value)
        if not lead_id:
            errors.setdefault(f"leads.{index}.leadgen_id", []).append(_("This field is required."))
            continue
        field_data = value.get("field_data")
        if not isinstance(field_data, list):
            errors.setdefault(f"leads.{index}.field_data", []).append(
                _(
                    "The lead's answers are not in the payload: Vínculo cannot fetch them from the Graph API. "
                    "Relay the lead with its field_data (see the webhooks documentation)."
                )
            )
            continue
        answers: dict[str, str] = {}
        for item in field_data[:100]:
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                continue
            raw = item.get("values")
            parts = [str(v) for v in raw if isinstance(v, str | int | float)] if isinstance(raw, list) else []
            answers[item["name"].strip().lower()[:64]] = ", ".join(parts)[:500]
        consents = [
            {
                "key": _text(c.get("checkbox_key"))[:64] or "consent",
                "text": _text(c.get("text"))[:2000],
                "granted": c.get("is_checked") in (True, "1", 1, "true"),
            }
            for c in items(value.get("custom_disclaimer_responses"))
            if isinstance(c, Mapping)
        ]
        leads.append(
            Lead(
                external_id=lead_id,
                answers=answers,
                occurred_at=_time(value.get("created_time")),
                campaign=(_text(value.get("campaign_name")) or _text(value.get("adset_name")))[:100],
                ad_name=_text(value.get("ad_name"))[:200],
                form_id=str(value.get("form_id") or "")[:64],
                consents=consents,
                profile_url=_text(answers.get("facebook_profile_url") or value.get("profile_url"))[:500],
            )
        )
    if errors:
        raise PayloadError(errors)
    return leads
