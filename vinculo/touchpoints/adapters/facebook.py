"""Facebook Lead Ads (the Page's `leadgen` webhook) turned into leads.

Signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`. Subscribing:
Facebook first sends `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`; we answer the
challenge when the verify token is this integration's (shown on its page).

Facebook's webhook carries only ids (`leadgen_id`, `form_id`, `page_id`, `ad_id`; as JSON numbers
in Meta's documented sample, as strings in the dashboard's test): each such change is a `LeadPing`,
and a fetch job reads the lead from the Graph API (`GET /<leadgen_id>?fields=…`, GRAPH_LEAD_FIELDS)
and its form (`GET /<form_id>?fields=…`, GRAPH_FORM_FIELDS: the form's name and the text of its
custom disclaimer checkboxes) with the Page access token; `lead_from_graph` turns what they answer
into a Lead. A change that already carries the lead's `field_data` (relays such as Zapier or Make,
or a Graph API lead object posted as is) is a Lead at once, as before.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from vinculo.core.validation import in_date_range
from vinculo.touchpoints.adapters import (
    Lead,
    LeadPing,
    PayloadError,
    field_key,
    header,
    hmac_sha256,
    items,
    obj,
    same,
)

KIND = "facebook_leads"
NETWORK = "facebook"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_LEADS = 100
# what the fetch job asks the Graph API for (the Lead object's fields, facebook_business/adobjects/lead.py)
GRAPH_LEAD_FIELDS = (
    "id,created_time,ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,form_id,"
    "field_data,custom_disclaimer_responses,is_organic,platform"
)
GRAPH_FORM_FIELDS = "id,name,legal_content{custom_disclaimer{title,checkboxes{key,text}}}"
_GRAPH_ID = re.compile(r"^[0-9]{1,32}$")


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


def graph_id(value: Any) -> str:
    """A Graph id as text (they come as JSON numbers or strings); '' when neither."""
    return str(value)[:100] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _lead_id(value: Mapping[str, Any]) -> str:
    return graph_id(value.get("leadgen_id") or value.get("id"))


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


def _lead(value: Mapping[str, Any], lead_id: str, field_data: list[Any]) -> Lead:
    answers: dict[str, str] = {}
    for item in field_data[:100]:
        if not isinstance(item, Mapping):
            continue
        name = field_key(item.get("name"))
        if not name:
            continue
        raw = item.get("values")
        parts = [str(v) for v in raw if isinstance(v, str | int | float)] if isinstance(raw, list) else []
        answers[name] = ", ".join(parts)[:500]
    consents = [
        {
            "key": _text(c.get("checkbox_key"))[:64] or "consent",
            "text": _text(c.get("text"))[:2000],
            "granted": c.get("is_checked") in (True, "1", 1, "true"),
        }
        for c in items(value.get("custom_disclaimer_responses"))
        if isinstance(c, Mapping)
    ]
    details: dict[str, Any] = {
        name: graph_id(value.get(name))
        for name in ("ad_id", "adset_id", "campaign_id")
        if graph_id(value.get(name)) not in ("", "0")
    }
    if _text(value.get("adset_name")):
        details["adset_name"] = _text(value.get("adset_name"))[:200]
    if _text(value.get("platform")):
        details["platform"] = _text(value.get("platform"))[:20]
    if isinstance(value.get("is_organic"), bool):
        details["is_organic"] = value["is_organic"]
    return Lead(
        external_id=lead_id,
        answers=answers,
        occurred_at=_time(value.get("created_time")),
        campaign=(_text(value.get("campaign_name")) or _text(value.get("adset_name")))[:100],
        ad_name=_text(value.get("ad_name"))[:200],
        form_id=graph_id(value.get("form_id"))[:64],
        consents=consents,
        profile_url=_text(answers.get("facebook_profile_url") or value.get("profile_url"))[:500],
        details=details,
    )


def _ping(value: Mapping[str, Any], lead_id: str) -> LeadPing:
    hint = {name: graph_id(value.get(name)) for name in ("page_id", "ad_id", "adgroup_id") if graph_id(value.get(name))}
    created = _time(value.get("created_time"))
    if created is not None:
        hint["created_time"] = created.isoformat()
    return LeadPing(external_id=lead_id, form_id=graph_id(value.get("form_id"))[:64], hint=hint)


def to_leads(payload: Any) -> list[Lead | LeadPing]:
    """Each leadgen change: a Lead when it carries its `field_data`, else a LeadPing to fetch."""
    values = _values(payload)
    if not values:
        raise PayloadError({"entry": [_("No leadgen change in this body.")]})
    if len(values) > MAX_LEADS:
        raise PayloadError({"entry": [_("At most %(n)s leads per delivery.") % {"n": MAX_LEADS}]})
    leads: list[Lead | LeadPing] = []
    errors: dict[str, list[str]] = {}
    for index, value in enumerate(values):
        lead_id = _lead_id(value)
        if not lead_id:
            errors.setdefault(f"leads.{index}.leadgen_id", []).append(_("This field is required."))
            continue
        field_data = value.get("field_data")
        if isinstance(field_data, list):
            leads.append(_lead(value, lead_id, field_data))
        elif not _GRAPH_ID.match(lead_id):
            errors.setdefault(f"leads.{index}.leadgen_id", []).append(_("Not a Facebook lead id."))
        elif "field_data" in value:
            errors.setdefault(f"leads.{index}.field_data", []).append(_("Give a list of answers."))
        else:
            leads.append(_ping(value, lead_id))
    if errors:
        raise PayloadError(errors)
    return leads


def lead_from_graph(lead: Any, form: Any = None) -> Lead:
    """A lead as the Graph API answers `GET /<leadgen_id>` (and, when read, its form: the form's
    name and the text of each custom disclaimer checkbox, as the consent's proof)."""
    if not isinstance(lead, Mapping) or not _lead_id(lead):
        raise PayloadError({"id": [_("The Graph API answered without the lead.")]})
    field_data = lead.get("field_data")
    if not isinstance(field_data, list):
        raise PayloadError({"field_data": [_("The Graph API answered without the lead's answers.")]})
    found = _lead(lead, _lead_id(lead), field_data)
    form = obj(form)
    found.form_name = _text(form.get("name"))[:200]
    disclaimer = obj(obj(form.get("legal_content")).get("custom_disclaimer"))
    texts = {
        _text(box.get("key")): _text(box.get("text"))
        for box in items(obj(disclaimer).get("checkboxes"))
        if isinstance(box, Mapping)
    }
    for consent in found.consents:
        consent["text"] = consent["text"] or texts.get(consent["key"], "")[:2000]
    return found
