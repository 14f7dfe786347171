"""LinkedIn Lead Gen Forms turned into leads.

Signature: `X-LI-Signature` = hex HMAC-SHA256 of the raw body with the app's client secret (LinkedIn
prefixes it with `hmacsha256=`; both forms are accepted). Registering the webhook: LinkedIn sends
`GET ?challengeCode=…` and expects `{"challengeCode": …, "challengeResponse": <hex HMAC-SHA256(client
secret, challengeCode)>}`.

LinkedIn's notification names the response (`leadGenFormResponse` URN); the answers are then read
with the Lead Sync API (`leadFormResponses`), and only the form (`leadForms`) says which question is
which field. Offline, Vínculo accepts the lead form response posted with its answers — one object,
or `{"elements": [...]}` as the API lists them — with the form's questions either in `leadForm`
(`content.questions[].questionId/predefinedField/name`) or on each answer (`name`).
Predefined fields become lower-case names (`FIRST_NAME` → `first_name`, `LINKEDIN_PROFILE_LINK` →
`linkedin_profile_link`); consents come from `formResponse.consentResponses` with their text from
`leadForm.content.consents`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from vinculo.core.validation import in_date_range
from vinculo.touchpoints.adapters import Lead, PayloadError, header, hmac_sha256, items, obj, same

KIND = "linkedin_leads"
NETWORK = "linkedin"
SIGNATURE_HEADER = "X-LI-Signature"
MAX_LEADS = 100


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> str | None:
    signature = header(headers, SIGNATURE_HEADER).removeprefix("hmacsha256=")
    if not signature:
        return _("Missing %(header)s header.") % {"header": SIGNATURE_HEADER}
    if not same(hmac_sha256(secret, body).hex(), signature.lower()):
        return _("Invalid signature.")
    return None


def handshake(query: Mapping[str, str], secret: str) -> tuple[int, dict[str, str]] | None:
    code = query.get("challengeCode")
    if code is None:
        return None
    if not code or len(code) > 200:
        return 400, {"detail": _("Missing challengeCode.")}
    return 200, {"challengeCode": code, "challengeResponse": hmac_sha256(secret, code.encode()).hex()}


def topic(headers: Mapping[str, str], payload: Any) -> str:
    action = payload.get("leadAction") if isinstance(payload, Mapping) else None
    return f"lead.{str(action).lower()[:20]}" if isinstance(action, str) else "lead.created"


def _responses(payload: Any) -> list[Mapping[str, Any]]:
    if not isinstance(payload, Mapping):
        return []
    if isinstance(payload.get("elements"), list):
        return [e for e in payload["elements"] if isinstance(e, Mapping)]
    return [payload]


def _response_id(response: Mapping[str, Any]) -> str:
    value = response.get("id") or response.get("leadGenFormResponse")
    return str(value)[:100] if isinstance(value, str | int) and not isinstance(value, bool) else ""


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


def _answer(details: Any) -> str:
    if not isinstance(details, Mapping):
        return ""
    text = details.get("textQuestionAnswer")
    if isinstance(text, Mapping):
        return _text(text.get("answer"))
    choice = details.get("multipleChoiceAnswer")
    if isinstance(choice, Mapping):
        return ", ".join(str(o) for o in items(choice.get("options")) if isinstance(o, str | int))
    return ""


def _field_name(value: Any) -> str:
    return value.strip().lower()[:64] if isinstance(value, str) else ""


def to_leads(payload: Any) -> list[Lead]:
    responses = _responses(payload)
    if not responses:
        raise PayloadError({"body": [_("Give an object.")]})
    if len(responses) > MAX_LEADS:
        raise PayloadError({"elements": [_("At most %(n)s leads per delivery.") % {"n": MAX_LEADS}]})
    leads: list[Lead] = []
    errors: dict[str, list[str]] = {}
    for index, response in enumerate(responses):
        lead_id = _response_id(response)
        form = obj(response.get("leadForm"))
        content = obj(form.get("content")) or form
        names: dict[str, str] = {}
        for question in items(content.get("questions")):
            if isinstance(question, Mapping):
                names[str(question.get("questionId"))] = _field_name(question.get("predefinedField")) or _field_name(
                    question.get("name")
                )
        consent_texts = {
            str(c.get("consentId")): _localized(c.get("content") or c.get("text"))
            for c in items(content.get("consents"))
            if isinstance(c, Mapping)
        }
        form_response = response.get("formResponse")
        if not lead_id:
            errors.setdefault(f"leads.{index}.id", []).append(_("This field is required."))
            continue
        if not isinstance(form_response, Mapping) or not isinstance(form_response.get("answers"), list):
            errors.setdefault(f"leads.{index}.formResponse.answers", []).append(
                _(
                    "The lead's answers are not in the payload: Vínculo cannot fetch them from the Lead Sync API. "
                    "Post the lead form response with its answers (see the webhooks documentation)."
                )
            )
            continue
        answers: dict[str, str] = {}
        for answer in form_response["answers"][:100]:
            if not isinstance(answer, Mapping):
                continue
            name = _field_name(answer.get("name")) or names.get(str(answer.get("questionId")), "")
            if name:
                answers[name] = _answer(answer.get("answerDetails"))[:500]
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
        leads.append(
            Lead(
                external_id=lead_id,
                answers=answers,
                occurred_at=occurred,
                campaign=(_text(sponsored.get("campaignName")) or _text(response.get("campaignName")))[:100],
                form_id=_text(response.get("versionedLeadGenFormUrn"))[:200],
                consents=consents,
                profile_url=answers.get("linkedin_profile_link", "")[:500],
            )
        )
    if errors:
        raise PayloadError(errors)
    return leads
