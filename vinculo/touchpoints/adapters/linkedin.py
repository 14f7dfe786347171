"""LinkedIn Lead Sync (Lead Gen Forms) turned into leads.

Signature: `X-LI-Signature` = hex HMAC-SHA256 with the app's client secret of `"hmacsha256=" + raw
body`, as LinkedIn's webhook documentation computes it; the HMAC of the raw body alone (what
relays and Vínculo's earlier versions used), with or without the `hmacsha256=` prefix in the
header, is accepted too. Registering the webhook: LinkedIn sends `GET ?challengeCode=…` and
expects `{"challengeCode": …, "challengeResponse": <hex HMAC-SHA256(client secret, challengeCode)>}`.

LinkedIn's notification (`{"type": "LEAD_ACTION", "leadGenFormResponse": "urn:li:leadGenFormResponse:<id>",
"leadAction": "CREATED", …}`) names the response only: it is a `LeadPing`, and a fetch job reads
the response (`GET /leadFormResponses/<id>`) and its form (`GET /leadForms/<form id>`, which says
which question is which field) with the organisation's access token; `lead_from_api` turns them
into a Lead. A `DELETED` notification gives nothing to fetch.

A lead form response posted with its answers (relays: one object, or `{"elements": [...]}` as the
API lists them) is a Lead at once, with the form's questions either in `leadForm` or `form`
(`content.questions[].questionId/predefinedField/name`) or on each answer (`name`). Predefined
fields become lower-case names (`FIRST_NAME` → `first_name`, `LINKEDIN_PROFILE_LINK` →
`linkedin_profile_link`), other questions their name as a key ("Custom question 0" →
`custom_question_0`); a multiple-choice answer is the chosen options' text; consents come from
`formResponse.consentResponses` with their text from the form's `content.legalInfo.consents`
(or `content.consents`).
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

KIND = "linkedin_leads"
NETWORK = "linkedin"
SIGNATURE_HEADER = "X-LI-Signature"
SIGNATURE_PREFIX = "hmacsha256="
MAX_LEADS = 100
RESPONSE_URN = "urn:li:leadGenFormResponse:"
_RESPONSE_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_FORM_ID = re.compile(r"urn:li:leadGenForm:(\d{1,30})")


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> str | None:
    signature = header(headers, SIGNATURE_HEADER).removeprefix(SIGNATURE_PREFIX).lower()
    if not signature:
        return _("Missing %(header)s header.") % {"header": SIGNATURE_HEADER}
    documented = hmac_sha256(secret, SIGNATURE_PREFIX.encode() + body).hex()
    plain = hmac_sha256(secret, body).hex()
    if not (same(documented, signature) or same(plain, signature)):
        return _("Invalid signature.")
    return None


def handshake(query: Mapping[str, str], secret: str) -> tuple[int, dict[str, str]] | None:
    code = query.get("challengeCode")
    if code is None:
        return None
    if not code or len(code) > 200:
        return 400, {"detail": _("Missing challengeCode.")}
    return 200, {"challengeCode": code, "challengeResponse": hmac_sha256(secret, code.encode()).hex()}


def is_notification(payload: Any) -> bool:
    """LinkedIn's own webhook body (a lead named by its URN), as opposed to a relayed response."""
    return isinstance(payload, Mapping) and (
        payload.get("type") == "LEAD_ACTION"
        or (isinstance(payload.get("leadGenFormResponse"), str) and "formResponse" not in payload)
    )


def topic(headers: Mapping[str, str], payload: Any) -> str:
    action = payload.get("leadAction") if isinstance(payload, Mapping) else None
    return f"lead.{str(action).lower()[:20]}" if isinstance(action, str) else "lead.created"


def _responses(payload: Any) -> list[Mapping[str, Any]]:
    if not isinstance(payload, Mapping):
        return []
    if isinstance(payload.get("elements"), list):
        return [e for e in payload["elements"] if isinstance(e, Mapping)]
    return [payload]


def response_id(value: Any) -> str:
    """A lead form response's id, from the id itself or its URN (`urn:li:leadGenFormResponse:<id>`)."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return ""
    return str(value).strip().removeprefix(RESPONSE_URN)[:100]


def _response_id(response: Mapping[str, Any]) -> str:
    return response_id(response.get("id") or response.get("leadGenFormResponse"))


def form_id(value: Any) -> str:
    """The lead gen form's number in a (versioned) form URN, '' when there is none."""
    found = _FORM_ID.search(value) if isinstance(value, str) else None
    return found.group(1) if found else ""


def external_id(payload: Any) -> str:
    return ",".join(i for i in (_response_id(r) for r in _responses(payload)) if i)[:128]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _localized(value: Any) -> str:
    """LinkedIn's localized text: {"localized": {"en_US": "…"}} or plain text."""
    if isinstance(value, Mapping):
        localized = value.get("localized")
        if isinstance(localized, Mapping):
            return next((_text(v) for v in localized.values() if isinstance(v, str)), "")
        return _text(value.get("text"))
    return _text(value)


def _answer(details: Any, options: Mapping[str, str]) -> str:
    if not isinstance(details, Mapping):
        return ""
    text = details.get("textQuestionAnswer")
    if isinstance(text, Mapping):
        return _text(text.get("answer"))
    choice = details.get("multipleChoiceAnswer")
    if isinstance(choice, Mapping):
        chosen = [o for o in items(choice.get("options")) if isinstance(o, str | int) and not isinstance(o, bool)]
        return ", ".join(options.get(str(o), str(o)) for o in chosen)
    return ""


def _field_name(value: Any) -> str:
    return field_key(value)


def _questions(content: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Field name and option texts (option id → text) of each question, by question id."""
    names: dict[str, str] = {}
    options: dict[str, dict[str, str]] = {}
    for question in items(content.get("questions")):
        if not isinstance(question, Mapping):
            continue
        key = str(question.get("questionId"))
        names[key] = _field_name(question.get("predefinedField")) or _field_name(question.get("name"))
        choices = obj(obj(question.get("questionDetails")).get("multipleChoiceQuestionDetails")).get("options")
        options[key] = {
            str(option.get("id")): _localized(option.get("text"))
            for option in items(choices)
            if isinstance(option, Mapping)
        }
    return names, options


def _consent_texts(content: Mapping[str, Any]) -> dict[str, str]:
    texts = {
        str(c.get("id")): _localized(c.get("consent"))
        for c in items(obj(content.get("legalInfo")).get("consents"))
        if isinstance(c, Mapping)
    }
    texts.update(
        {
            str(c.get("consentId")): _localized(c.get("content") or c.get("text"))
            for c in items(content.get("consents"))
            if isinstance(c, Mapping)
        }
    )
    return texts


def _ping(payload: Mapping[str, Any], index: int, errors: dict[str, list[str]]) -> list[Lead | LeadPing]:
    if str(payload.get("leadAction") or "CREATED").upper() == "DELETED":
        return []  # the member deleted the lead: nothing to read
    lead_id = response_id(payload.get("leadGenFormResponse"))
    if not _RESPONSE_ID.match(lead_id):
        errors.setdefault(f"leads.{index}.leadGenFormResponse", []).append(_("Not a lead form response URN."))
        return []
    hint = {
        name: value
        for name, value in (
            ("form", _text(payload.get("leadGenForm"))[:200]),
            ("owner", ", ".join(str(v)[:100] for v in obj(payload.get("owner")).values())),
            ("lead_type", _text(payload.get("leadType"))[:40]),
        )
        if value
    }
    occurred = payload.get("occurredAt")
    if isinstance(occurred, int) and not isinstance(occurred, bool) and 0 < occurred < 10**14:
        moment = datetime.fromtimestamp(occurred / 1000, tz=dt.UTC)
        if in_date_range(moment):
            hint["occurred_at"] = moment.isoformat()
    return [LeadPing(external_id=lead_id, form_id=form_id(payload.get("leadGenForm")), hint=hint)]


def to_leads(payload: Any) -> list[Lead | LeadPing]:
    """A notification's LeadPing (none for a deleted lead), or the relayed responses' Leads."""
    if is_notification(payload):
        errors: dict[str, list[str]] = {}
        found = _ping(payload, 0, errors)
        if errors:
            raise PayloadError(errors)
        return found
    responses = _responses(payload)
    if not responses:
        raise PayloadError({"body": [_("Give an object.")]})
    if len(responses) > MAX_LEADS:
        raise PayloadError({"elements": [_("At most %(n)s leads per delivery.") % {"n": MAX_LEADS}]})
    leads: list[Lead | LeadPing] = []
    errors = {}
    for index, response in enumerate(responses):
        lead = _lead(response, index, errors)
        if lead is not None:
            leads.append(lead)
    if errors:
        raise PayloadError(errors)
    return leads


def _lead(response: Mapping[str, Any], index: int, errors: dict[str, list[str]]) -> Lead | None:
    lead_id = _response_id(response)
    form = obj(response.get("leadForm")) or obj(response.get("form"))
    content = obj(form.get("content")) or form
    names, options = _questions(content)
    consent_texts = _consent_texts(content)
    form_response = response.get("formResponse")
    if not lead_id:
        errors.setdefault(f"leads.{index}.id", []).append(_("This field is required."))
        return None
    if not isinstance(form_response, Mapping) or not isinstance(form_response.get("answers"), list):
        errors.setdefault(f"leads.{index}.formResponse.answers", []).append(
            _("The lead's answers are not in the payload.")
        )
        return None
    answers: dict[str, str] = {}
    for answer in form_response["answers"][:100]:
        if not isinstance(answer, Mapping):
            continue
        question = str(answer.get("questionId"))
        name = _field_name(answer.get("name")) or names.get(question, "")
        if name:
            answers[name] = _answer(answer.get("answerDetails"), options.get(question, {}))[:500]
    consents = [
        {
            "key": f"linkedin_consent_{c.get('consentId')}"[:64],
            "text": consent_texts.get(str(c.get("consentId")), "")[:2000],
            "granted": c.get("accepted") is True,
        }
        for c in items(form_response.get("consentResponses"))
        if isinstance(c, Mapping)
    ]
    submitted = response.get("submittedAt")
    occurred = (
        datetime.fromtimestamp(submitted / 1000, tz=dt.UTC)
        if isinstance(submitted, int) and not isinstance(submitted, bool) and 0 < submitted < 10**14
        else None
    )
    if occurred is not None and not in_date_range(occurred):  # as unreadable: the time it is received
        occurred = None
    sponsored = obj(obj(response.get("leadMetadata")).get("sponsoredLeadMetadata"))
    details: dict[str, Any] = {}
    if _text(sponsored.get("campaign")):
        details["campaign_id"] = _text(sponsored.get("campaign"))[:100]
    if isinstance(response.get("testLead"), bool):
        details["test_lead"] = response["testLead"]
    return Lead(
        external_id=lead_id,
        answers=answers,
        occurred_at=occurred,
        campaign=(_text(sponsored.get("campaignName")) or _text(response.get("campaignName")))[:100],
        form_id=_text(response.get("versionedLeadGenFormUrn"))[:200],
        consents=consents,
        profile_url=answers.get("linkedin_profile_link", "")[:500],
        form_name=_text(form.get("name"))[:200],
        details=details,
    )


def lead_from_api(response: Any, form: Any = None) -> Lead:
    """A lead as LinkedIn answers `GET /leadFormResponses/<id>`, with its form as `GET
    /leadForms/<form id>` answers (which names the questions the answers refer to by id)."""
    if not isinstance(response, Mapping):
        raise PayloadError({"body": [_("LinkedIn answered without the lead.")]})
    errors: dict[str, list[str]] = {}
    lead = _lead({**response, "leadForm": obj(form)}, 0, errors)
    if lead is None:
        raise PayloadError(errors)
    return lead
