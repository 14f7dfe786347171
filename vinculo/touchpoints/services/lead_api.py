"""Reading leads from the networks' APIs: Facebook's Graph API and LinkedIn's REST API.

Only the fetch jobs (services/lead_fetch.py) call this module, from the task worker. Every request
goes through `vinculo.core.outbound.http_connection` (the address rules; the tests allow the local
fake server with VINCULO_ALLOW_PRIVATE_TARGETS) with a timeout, to the base URL of the settings
VINCULO_FACEBOOK_GRAPH_URL / VINCULO_LINKEDIN_API_URL, with the access token in the
`Authorization: Bearer` header (never in the address, so that it stays out of logs).

What a network answers is sorted into what the job does next:
- TokenRefused: the token expired, was revoked, or lacks a permission (Graph codes 190, 102, 10,
  200–299; LinkedIn 401, 403): the integration needs a new token, its jobs wait for it;
- RateLimited: too many calls (Graph codes 4, 17, 32, 613, 80000–80014; HTTP 429): retry after the
  wait the network gives (Retry-After, Meta's `estimated_time_to_regain_access`, LinkedIn's daily
  quota until midnight UTC) or the job's own back-off;
- LeadNotFound: the lead does not exist or may not be read with this token (Graph code 100 with
  subcode 33; LinkedIn 404): the job fails with the network's message;
- Unavailable: the network could not be reached, timed out, answered 5xx or a transient error:
  retry with back-off;
- Refused: any other refusal (a request the network will never accept): the job fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from vinculo.core.json_input import JSONInputError, json_parse
from vinculo.core.outbound import OutboundError, http_connection
from vinculo.touchpoints.adapters import facebook

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
MAX_ANSWER_BYTES = 2 * 1024 * 1024
GRAPH_TOKEN_CODES = frozenset({102, 190, 10})
GRAPH_RATE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
GRAPH_TEMPORARY_CODES = frozenset({1, 2})


class LeadApiError(Exception):
    """A network did not give the lead; `message` is the network's own words (or ours when it
    gave none)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TokenRefused(LeadApiError):
    """The access token is expired, revoked or lacks a permission."""


class RateLimited(LeadApiError):
    """Too many calls: `wait_seconds` when the network says how long to wait."""

    def __init__(self, message: str, wait_seconds: int | None = None) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds


class LeadNotFound(LeadApiError):
    """The lead (or its form) does not exist, or this token may not read it."""


class Unavailable(LeadApiError):
    """The network could not be reached or failed for now: try again later."""


class Refused(LeadApiError):
    """The network refused the request for good."""


@dataclass
class ApiAnswer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def _get(url: str, headers: Mapping[str, str], *, network: str) -> ApiAnswer:
    """One GET through the address rules; Unavailable when no answer came (the reason is logged)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection = http_connection(url, timeout=TIMEOUT_SECONDS)
    except ValueError as exc:
        logger.error("%s API address %r is not an http(s) URL", network, url.split("?")[0])
        raise Unavailable(_("Could not connect to %(network)s.") % {"network": network}) from exc
    try:
        connection.request(
            "GET", target, headers={"Accept": "application/json", "User-Agent": "Vinculo", **dict(headers)}
        )
        response = connection.getresponse()
        raw = response.read(MAX_ANSWER_BYTES + 1)
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
    except (OSError, OutboundError, http.client.HTTPException) as exc:
        logger.warning("could not reach %s at %s: %r", network, parts.netloc, exc)
        raise Unavailable(_("Could not connect to %(network)s.") % {"network": network}) from exc
    finally:
        connection.close()
    body: Any = None
    if len(raw) <= MAX_ANSWER_BYTES:
        try:
            body = json_parse(raw)
        except JSONInputError:
            body = None
    return ApiAnswer(status=response.status, body=body, headers=answer_headers)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _retry_after(headers: Mapping[str, str]) -> int | None:
    value = headers.get("retry-after", "").strip()
    return min(int(value), 86400) if value.isdigit() else None


# --- Facebook -----------------------------------------------------------------------------------


def _regain_access_seconds(headers: Mapping[str, str]) -> int | None:
    """Meta's `X-Business-Use-Case-Usage` header: the longest `estimated_time_to_regain_access`
    (minutes) among the business objects it lists."""
    try:
        usage = json.loads(headers.get("x-business-use-case-usage", "") or "null")
    except ValueError:
        return None
    minutes = [
        _int(entry.get("estimated_time_to_regain_access"))
        for entries in (usage.values() if isinstance(usage, Mapping) else [])
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, Mapping)
    ]
    found = [m for m in minutes if m]
    return min(max(found) * 60, 86400) if found else None


def _graph_checked(answer: ApiAnswer) -> dict[str, Any]:
    """The Graph API's answer, or the error it stands for."""
    error = answer.body.get("error") if isinstance(answer.body, Mapping) else None
    if 200 <= answer.status < 300 and isinstance(answer.body, dict) and error is None:
        return answer.body
    error = error if isinstance(error, Mapping) else {}
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    message = str(error.get("message") or f"HTTP {answer.status}")[:1000]
    if code in GRAPH_TOKEN_CODES or (code is not None and 200 <= code <= 299):
        raise TokenRefused(message)
    if code in GRAPH_RATE_CODES or answer.status == 429:
        raise RateLimited(message, _retry_after(answer.headers) or _regain_access_seconds(answer.headers))
    if code == 100 and subcode == 33:
        raise LeadNotFound(message)
    if error.get("is_transient") is True or code in GRAPH_TEMPORARY_CODES or answer.status >= 500:
        raise Unavailable(message)
    raise Refused(message)


def _graph_get(path: str, *, token: str, app_secret: str, fields: str) -> dict[str, Any]:
    query = {"fields": fields}
    if app_secret:  # required when the app asks for it ("Require App Secret"), harmless otherwise
        query["appsecret_proof"] = hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    url = f"{settings.VINCULO_FACEBOOK_GRAPH_URL}/{quote(path, safe='')}?{urlencode(query)}"
    return _graph_checked(_get(url, {"Authorization": f"Bearer {token}"}, network="Facebook"))


def facebook_lead(*, token: str, app_secret: str, lead_id: str) -> dict[str, Any]:
    """`GET /<leadgen_id>?fields=…`: the lead with its answers, ad, ad set, campaign and consents."""
    return _graph_get(lead_id, token=token, app_secret=app_secret, fields=facebook.GRAPH_LEAD_FIELDS)


def facebook_form(*, token: str, app_secret: str, form_id: str) -> dict[str, Any]:
    """`GET /<form_id>?fields=…`: the form's name and its custom disclaimer checkboxes' text."""
    return _graph_get(form_id, token=token, app_secret=app_secret, fields=facebook.GRAPH_FORM_FIELDS)


# --- LinkedIn -----------------------------------------------------------------------------------


def _until_midnight_utc(now: dt.datetime) -> int:
    midnight = (now.astimezone(dt.UTC) + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((midnight - now).total_seconds()) + 60


def _linkedin_checked(answer: ApiAnswer, now: dt.datetime) -> dict[str, Any]:
    if 200 <= answer.status < 300 and isinstance(answer.body, dict):
        return answer.body
    body = answer.body if isinstance(answer.body, Mapping) else {}
    message = str(body.get("message") or f"HTTP {answer.status}")[:1000]
    if answer.status in (401, 403):
        raise TokenRefused(message)
    if answer.status == 429:
        wait = _retry_after(answer.headers)
        if wait is None and " DAY " in f" {message} ":
            wait = _until_midnight_utc(now)  # LinkedIn's quotas are per day (UTC)
        raise RateLimited(message, wait)
    if answer.status == 404:
        raise LeadNotFound(message)
    if answer.status >= 500 or 200 <= answer.status < 300:  # a 2xx that is not a JSON object
        raise Unavailable(message)
    raise Refused(message)


def _linkedin_get(path: str, *, token: str, now: dt.datetime) -> dict[str, Any]:
    url = f"{settings.VINCULO_LINKEDIN_API_URL}/{path}"
    headers = {
        "Authorization": f"Bearer {token}",
        "LinkedIn-Version": settings.VINCULO_LINKEDIN_VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }
    return _linkedin_checked(_get(url, headers, network="LinkedIn"), now)


def linkedin_lead(*, token: str, lead_id: str, now: dt.datetime) -> dict[str, Any]:
    """`GET /leadFormResponses/<id>`: the lead form response with its answers by question id."""
    return _linkedin_get(f"leadFormResponses/{quote(lead_id, safe='')}", token=token, now=now)


def linkedin_form(*, token: str, form_id: str, now: dt.datetime) -> dict[str, Any]:
    """`GET /leadForms/<id>`: the form's name, questions (predefined fields, options) and consents."""
    return _linkedin_get(f"leadForms/{quote(form_id, safe='')}", token=token, now=now)
