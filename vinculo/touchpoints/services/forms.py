"""Web forms: the organisation's form definitions, and what happens when a visitor sends one.

Definitions (`web_form_create/update/delete`) are validated here: field names unique, mappings
known (contact properties or `custom.<key>`), an e-mail field mapped to `email` (the contact is
matched by it), each consent checkbox naming one of the organisation's subscription types
(`vinculo.messaging`), consent texts versioned (changing a text bumps its version, so the proof of an
older consent keeps naming the text that was shown).

A submission (`form_submit`) runs as the system actor, by way of the form (the contact services
check a role; the visitor has none, and no member did it): spam is answered like a success and stored with status spam only;
a valid submission creates or updates the contact matched by e-mail with the mapped fields given,
stores the submission as received, records each consent with its proof in the messaging layer's
ledger (pending until confirmed with double opt-in), writes the timeline
events, and after commit sends the double opt-in e-mail and the owner's notification.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vinculo.accounts.models import Membership, Role, User
from vinculo.accounts.system_actor import make_via, system_actor
from vinculo.contacts.models import Company, Contact, ContactEmail, LifecycleStage, SourceChannel
from vinculo.contacts.services import clean_member, company_create, contact_create, contact_update
from vinculo.contacts.validation import clean_email, clean_phone
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.events import emit
from vinculo.core.rate_limit import retry_after
from vinculo.core.validation import Errors, add_error, clean_bool, clean_text
from vinculo.messaging.models import ConsentChannel, MessageKind, MessageState, SubscriptionType, SuppressionReason
from vinculo.messaging.services.consent import (
    ConsentProof,
    clean_subscription_type_key,
    consent_confirm,
    consent_record,
    subscription_type_by_key,
)
from vinculo.messaging.services.outgoing import message_queue
from vinculo.messaging.services.preferences import contact_links
from vinculo.touchpoints.models import FormSubmission, WebForm
from vinculo.touchpoints.notifications import notify_form_lead

logger = logging.getLogger(__name__)


FIELD_TYPES = {
    "text": gettext_lazy("Text"),
    "email": gettext_lazy("E-mail"),
    "tel": gettext_lazy("Phone"),
    "textarea": gettext_lazy("Long text"),
    "select": gettext_lazy("Choice"),
    "checkbox": gettext_lazy("Checkbox"),
}
# contact properties a field may fill, with the field types that fit them
CONTACT_MAPPINGS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "first_name": (gettext_lazy("First name"), ("text",)),
    "last_name": (gettext_lazy("Last name"), ("text",)),
    "email": (gettext_lazy("E-mail"), ("email",)),
    "phone": (gettext_lazy("Phone"), ("tel",)),
    "job_title": (gettext_lazy("Job title"), ("text", "select")),
    "company": (gettext_lazy("Company name"), ("text",)),
    "street": (gettext_lazy("Street"), ("text",)),
    "city": (gettext_lazy("City"), ("text", "select")),
    "region": (gettext_lazy("Region"), ("text", "select")),
    "postal_code": (gettext_lazy("Postal code"), ("text",)),
    "country": (gettext_lazy("Country (ISO code)"), ("text", "select")),
    "language": (gettext_lazy("Language (code)"), ("text", "select")),
}
DEFINITION_FIELDS = (
    "name",
    "fields",
    "consents",
    "submit_label",
    "success_message",
    "redirect_url",
    "double_opt_in",
    "notify_owner",
    "owner",
    "allowed_origins",
    "is_active",
)
FIELD_KEYS = {"name", "label", "type", "required", "maps_to", "options"}
CONSENT_KEYS = {"key", "text", "required", "version"}
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CUSTOM_KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
HONEYPOT = "homepage"  # a hidden field people never see; bots fill it
RESERVED_NAMES = frozenset({HONEYPOT})
MAX_FIELDS = 30
MAX_CONSENTS = 10
MAX_OPTIONS = 50
MAX_ORIGINS = 20
MAX_TEXT = 200
MAX_TEXTAREA = 5000
MAX_CONSENT_TEXT = 2000
FORM_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER, Role.MARKETING})
AUDITED = ("name", "fields", "consents", "submit_label", "success_message", "redirect_url", "double_opt_in")
AUDITED_ALL = (*AUDITED, "notify_owner", "owner", "allowed_origins", "is_active")
CHECKED = frozenset({"on", "true", "1", "yes"})
FILL_SALT = "vinculo.touchpoints.forms.fill"
CONFIRM_SALT = "vinculo.touchpoints.forms.confirm"


def _conf(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def min_fill_seconds() -> int:
    """A person needs a few seconds to fill a form in; faster is a bot."""
    return _conf("VINCULO_FORM_MIN_FILL_SECONDS", 3)


def fill_max_age() -> int:
    return _conf("VINCULO_FORM_MAX_AGE_SECONDS", 2 * 24 * 3600)


def confirm_days() -> int:
    return _conf("VINCULO_FORM_CONFIRM_DAYS", 7)


# --- permissions and small cleaners ------------------------------------------------------------


def can_manage_forms(actor: Membership) -> bool:
    return actor.role in FORM_ROLES


def require_form_manager(actor: Membership) -> None:
    if not can_manage_forms(actor):
        raise PermissionDenied(_("Only owners, admins, managers and marketing can change web forms."))


def clean_origin(value: Any) -> str:
    """`https://www.example.com` (scheme, host and port only; lower case)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(_("Enter an origin such as https://www.example.com."))
    parts = urlsplit(value.strip().lower().rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment:
        raise ValidationError(
            _("“%(value)s” is not an origin: give the scheme and host only, e.g. https://www.example.com.")
            % {"value": value.strip()[:100]}
        )
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(_("“%(value)s” has an invalid port.") % {"value": value.strip()[:100]}) from None
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")


# --- definitions --------------------------------------------------------------------------------


def _clean_fields(value: Any, errors: Errors) -> list[dict[str, Any]] | None:
    if not isinstance(value, list | tuple):
        add_error(errors, "fields", _("Give a list of fields."))
        return None
    if not value:
        add_error(errors, "fields", _("Add at least one field."))
        return None
    if len(value) > MAX_FIELDS:
        add_error(errors, "fields", _("At most %(n)s fields.") % {"n": MAX_FIELDS})
        return None
    cleaned: list[dict[str, Any]] = []
    seen_names: set[str] = set()
    seen_mappings: set[str] = set()
    for i, item in enumerate(value):
        at = f"fields.{i}"
        if not isinstance(item, Mapping):
            add_error(errors, at, _("Give an object."))
            continue
        for key in set(item) - FIELD_KEYS:
            add_error(errors, f"{at}.{key}", _("Unknown field."))
        name = clean_text(item.get("name"), f"{at}.name", errors, max_length=40, required=True)
        if name is not None:
            if not NAME_PATTERN.match(name):
                add_error(errors, f"{at}.name", _("Use lower-case letters, digits and _, starting with a letter."))
            elif name in RESERVED_NAMES:
                add_error(errors, f"{at}.name", _("“%(name)s” is reserved; choose another name.") % {"name": name})
            elif name in seen_names:
                add_error(errors, f"{at}.name", _("Another field is already named “%(name)s”.") % {"name": name})
            seen_names.add(name)
        label = clean_text(item.get("label"), f"{at}.label", errors, max_length=MAX_TEXT, required=True)
        kind = item.get("type") or "text"
        if kind not in FIELD_TYPES:
            add_error(errors, f"{at}.type", _("Choose one of %(expected)s.") % {"expected": ", ".join(FIELD_TYPES)})
        required = clean_bool(item.get("required", False), f"{at}.required", errors)
        maps_to = clean_text(item.get("maps_to"), f"{at}.maps_to", errors, max_length=70) or ""
        if maps_to:
            if maps_to.startswith("custom."):
                if not CUSTOM_KEY_PATTERN.match(maps_to.removeprefix("custom.")):
                    add_error(
                        errors,
                        f"{at}.maps_to",
                        _("A custom property name has letters, digits and _, starting with a letter."),
                    )
            elif maps_to not in CONTACT_MAPPINGS:
                add_error(errors, f"{at}.maps_to", _("Unknown contact property “%(name)s”.") % {"name": maps_to[:70]})
            elif kind in FIELD_TYPES and kind not in CONTACT_MAPPINGS[maps_to][1]:
                add_error(
                    errors,
                    f"{at}.type",
                    _("A field mapped to %(property)s must be of type %(types)s.")
                    % {"property": maps_to, "types": ", ".join(CONTACT_MAPPINGS[maps_to][1])},
                )
            if maps_to in seen_mappings:
                add_error(
                    errors, f"{at}.maps_to", _("Another field already fills %(property)s.") % {"property": maps_to}
                )
            seen_mappings.add(maps_to)
        options: list[str] = []
        if kind == "select":
            raw = item.get("options") or []
            if isinstance(raw, str):
                raw = raw.splitlines()
            if not isinstance(raw, list | tuple) or any(not isinstance(o, str) for o in raw):
                add_error(errors, f"{at}.options", _("Give a list of options."))
            else:
                options = [o.strip() for o in raw if o.strip()]
                if not options:
                    add_error(errors, f"{at}.options", _("Give at least one option, one per line."))
                elif len(options) > MAX_OPTIONS:
                    add_error(errors, f"{at}.options", _("At most %(n)s options.") % {"n": MAX_OPTIONS})
                elif any(len(o) > MAX_TEXT for o in options):
                    add_error(errors, f"{at}.options", _("An option has at most %(n)s characters.") % {"n": MAX_TEXT})
                elif len(set(options)) != len(options):
                    add_error(errors, f"{at}.options", _("Options must be different."))
        cleaned.append(
            {
                "name": name or "",
                "label": label or "",
                "type": kind,
                "required": bool(required),
                "maps_to": maps_to,
                **({"options": options} if kind == "select" else {}),
            }
        )
    email_fields = [f for f in cleaned if f["maps_to"] == "email"]
    if not email_fields:
        add_error(
            errors, "fields", _("Add an e-mail field mapped to the contact's e-mail: contacts are matched by it.")
        )
    elif not email_fields[0]["required"]:
        at = f"fields.{cleaned.index(email_fields[0])}.required"
        add_error(errors, at, _("The e-mail field must be required."))
    return cleaned


def _clean_consents(
    value: Any, previous: list[dict[str, Any]], errors: Errors, actor: Membership
) -> list[dict[str, Any]] | None:
    """Consent checkboxes, each for an active subscription type of the organisation (its key);
    the version is kept while the text stays, and bumped when it changes."""
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        add_error(errors, "consents", _("Give a list of consent checkboxes."))
        return None
    if len(value) > MAX_CONSENTS:
        add_error(errors, "consents", _("At most %(n)s consent checkboxes.") % {"n": MAX_CONSENTS})
        return None
    before = {c.get("key"): c for c in previous if isinstance(c, Mapping)}
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        at = f"consents.{i}"
        if not isinstance(item, Mapping):
            add_error(errors, at, _("Give an object."))
            continue
        for key in set(item) - CONSENT_KEYS:
            add_error(errors, f"{at}.{key}", _("Unknown field."))
        key = clean_text(item.get("key"), f"{at}.key", errors, max_length=64, required=True)
        known = key is not None and clean_subscription_type_key(
            key, f"{at}.key", errors, organization=actor.organization
        )
        if key is not None and known:
            if key in seen:
                add_error(errors, f"{at}.key", _("Another checkbox already has the purpose “%(key)s”.") % {"key": key})
            seen.add(key)
        text = clean_text(item.get("text"), f"{at}.text", errors, max_length=MAX_CONSENT_TEXT, required=True)
        required = clean_bool(item.get("required", False), f"{at}.required", errors)
        old = before.get(key)
        if old is None:
            version = "1"
        elif old.get("text") == text:
            version = str(old.get("version") or "1")
        else:
            try:
                version = str(int(old.get("version") or 1) + 1)
            except (TypeError, ValueError):
                version = "2"
        cleaned.append({"key": key or "", "text": text or "", "version": version, "required": bool(required)})
    return cleaned


def _clean_origins(value: Any, errors: Errors) -> list[str] | None:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list | tuple):
        add_error(errors, "allowed_origins", _("Give a list of origins."))
        return None
    if len(value) > MAX_ORIGINS:
        add_error(errors, "allowed_origins", _("At most %(n)s origins.") % {"n": MAX_ORIGINS})
        return None
    cleaned: list[str] = []
    for item in value:
        try:
            origin = clean_origin(item)
        except ValidationError as exc:
            errors.setdefault("allowed_origins", []).extend(exc.messages)
            continue
        if origin not in cleaned:
            cleaned.append(origin)
    return cleaned


def _apply(actor: Membership, form: WebForm, data: Mapping[str, Any], *, creating: bool) -> None:
    errors: Errors = {}
    for key in set(data) - set(DEFINITION_FIELDS):
        add_error(errors, key, _("Unknown field."))
    if creating or "name" in data:
        name = clean_text(data.get("name"), "name", errors, max_length=100, required=True)
        if name is not None:
            form.name = name
    if creating or "fields" in data:
        fields = _clean_fields(data.get("fields"), errors)
        if fields is not None:
            form.fields = fields
    if "consents" in data:
        consents = _clean_consents(data["consents"], list(form.consents or []), errors, actor)
        if consents is not None:
            form.consents = consents
    for key, limit in (("submit_label", 60), ("success_message", 500)):
        if key in data:
            value = clean_text(data[key], key, errors, max_length=limit)
            if value is not None:
                setattr(form, key, value)
    if "redirect_url" in data:
        url = clean_text(data["redirect_url"], "redirect_url", errors, max_length=500)
        if url:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError:
                add_error(errors, "redirect_url", _("Enter a web address starting with https:// or http://."))
                url = None
        if url is not None:
            form.redirect_url = url
    for key in ("double_opt_in", "notify_owner", "is_active"):
        if key in data:
            flag = clean_bool(data[key], key, errors)
            if flag is not None:
                setattr(form, key, flag)
    if "owner" in data:
        form.owner = clean_member(actor, data["owner"], "owner", errors)
    if "allowed_origins" in data:
        origins = _clean_origins(data["allowed_origins"], errors)
        if origins is not None:
            form.allowed_origins = origins
    if errors:
        raise ValidationError(errors)


def _snapshot(form: WebForm) -> dict[str, Any]:
    values = snapshot(form, list(AUDITED_ALL))
    values["owner"] = str(form.owner) if form.owner_id else None
    return values


@transaction.atomic
def web_form_create(*, actor: Membership, data: Mapping[str, Any]) -> WebForm:
    require_form_manager(actor)
    form = WebForm(organization_id=actor.organization_id, owner=actor.user)
    _apply(actor, form, data, creating=True)
    form.save()
    audit_create(instance=form, actor=actor.user, values=_snapshot(form), organization=actor.organization)
    return form


@transaction.atomic
def web_form_update(*, actor: Membership, form: WebForm, data: Mapping[str, Any]) -> WebForm:
    """Change the given settings (PATCH semantics); a changed consent text gets a new version."""
    require_form_manager(actor)
    form = WebForm.objects.select_for_update(of=("self",)).select_related("owner").get(pk=form.pk)
    before = _snapshot(form)
    _apply(actor, form, data, creating=False)
    form.save()
    changes = diff(before, _snapshot(form))
    if changes:
        audit_update(instance=form, actor=actor.user, changes=changes, organization=actor.organization)
    return form


@transaction.atomic
def web_form_delete(*, actor: Membership, form: WebForm) -> None:
    """Delete the form and its submissions; consents keep their proof (the form's name and the
    submission's id stay on them)."""
    require_form_manager(actor)
    audit_delete(instance=form, actor=actor.user, values=_snapshot(form), organization=actor.organization)
    form.delete()


# --- the fill token: a signed timestamp in every rendered form -----------------------------------


def fill_token(form: WebForm, *, issued_at: float | None = None) -> str:
    """Signed "when this form was shown"; a submission sooner than a person can type is spam."""
    stamp = int(time.time() if issued_at is None else issued_at)
    return signing.Signer(salt=FILL_SALT).sign(f"{form.public_key}.{stamp}")


def fill_age(form: WebForm, token: Any) -> float | None:
    """Seconds since the form was shown, or None when the token is missing, forged or another form's."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    try:
        value = signing.Signer(salt=FILL_SALT).unsign(token)
    except signing.BadSignature:
        return None
    key, _sep, stamp = value.rpartition(".")
    if key != form.public_key or not stamp.isdigit():
        return None
    return time.time() - int(stamp)


# --- rate limit ---------------------------------------------------------------------------------


def _retry_after(counters: list[tuple[str, int]]) -> int:
    """Count one hit on each counter; seconds until the window ends when any is over its limit
    (core/rate_limit.py: with a shared cache the limits hold across web processes)."""
    named = [(f"form:{name}", limit) for name, limit in counters]
    return retry_after(named, window=_conf("VINCULO_FORM_RATE_WINDOW_SECONDS", 600))


def submission_retry_after(form: WebForm, ip: str) -> int:
    """Count this sending (valid or not); seconds to wait when the form is sent too often from this
    address, or from everywhere (a flood spread over many addresses)."""
    return _retry_after(
        [
            (f"submit:{form.pk}:{ip}", _conf("VINCULO_FORM_RATE_PER_IP", 10)),
            (f"submit:{form.pk}:*", _conf("VINCULO_FORM_RATE_PER_FORM", 500)),
        ]
    )


def view_retry_after(ip: str, *, form: WebForm | None = None) -> int:
    """Count a public page view (the hosted form, the embed's JSON, a confirmation link) per address:
    generous for people, a wall for scrapers."""
    name = f"view:{form.pk if form is not None else 'confirm'}:{ip}"
    return _retry_after([(name, _conf("VINCULO_FORM_VIEW_RATE_PER_IP", 120))])


def forms_naming_subscription_type(subscription_type: SubscriptionType) -> list[str]:
    """The forms with a checkbox for the type (registered with messaging, which cannot import us)."""
    forms = WebForm.objects.filter(organization_id=subscription_type.organization_id).order_by("name", "id")
    return [
        _("web form “%(name)s”") % {"name": form.name}
        for form in forms.only("name", "consents")
        if any(isinstance(c, Mapping) and c.get("key") == subscription_type.key for c in form.consents or [])
    ]


# --- submissions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionMeta:
    """Where a submission came from: the proof kept with its consents."""

    ip: str | None = None
    user_agent: str = ""
    page_url: str = ""
    language: str = ""


@dataclass
class SubmissionResult:
    status: str  # "accepted", "pending", "spam" or "invalid"
    submission: FormSubmission | None = None
    contact: Contact | None = None
    errors: Errors = field(default_factory=dict)


def _raw(value: Any) -> Any:
    """A value as received, capped (stored for spam too)."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    return str(value)[:MAX_TEXTAREA]


def _clean_value(spec: Mapping[str, Any], value: Any, errors: Errors, region: str) -> Any:
    name, kind, required = spec["name"], spec["type"], spec.get("required", False)
    if kind == "checkbox":
        checked = value is True or (isinstance(value, str) and value.strip().lower() in CHECKED)
        if required and not checked:
            add_error(errors, name, _("Tick this box to continue."))
        return checked
    if isinstance(value, (bool, list | dict)):
        add_error(errors, name, _("Enter text."))
        return None
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            add_error(errors, name, _("This field is required."))
        return ""
    limit = MAX_TEXTAREA if kind == "textarea" else MAX_TEXT
    if len(text) > limit:
        add_error(errors, name, _("At most %(n)s characters.") % {"n": limit})
        return None
    if kind == "email":
        try:
            return clean_email(text)
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
            return None
    if kind == "tel":
        try:
            return clean_phone(text, region=region)
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
            return None
    if kind == "select" and text not in spec.get("options", []):
        add_error(errors, name, _("Choose one of the options."))
        return None
    return text


def _clean_submission(form: WebForm, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, bool], Errors]:
    errors: Errors = {}
    specs = list(form.fields or [])
    country_spec = next((s for s in specs if s.get("maps_to") == "country"), None)
    region = ""
    if country_spec is not None:
        raw_country = data.get(country_spec["name"])
        region = raw_country.strip().upper() if isinstance(raw_country, str) and len(raw_country.strip()) == 2 else ""
    values: dict[str, Any] = {}
    for spec in specs:
        values[spec["name"]] = _clean_value(spec, data.get(spec["name"]), errors, region)
    consents: dict[str, bool] = {}
    for consent in form.consents or []:
        key = f"consent.{consent['key']}"
        raw = data.get(key)
        checked = raw is True or (isinstance(raw, str) and raw.strip().lower() in CHECKED)
        if consent.get("required") and not checked:
            add_error(errors, key, _("Tick this box to continue."))
        consents[consent["key"]] = checked
    return values, consents, errors


def _contact_data(form: WebForm, values: Mapping[str, Any]) -> tuple[str, dict[str, Any], str, str, dict[str, Any]]:
    """(e-mail, scalar contact fields, phone, company name, custom properties) from the mapped fields."""
    email, phone, company_name = "", "", ""
    scalars: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for spec in form.fields or []:
        mapping, value = spec.get("maps_to") or "", values.get(spec["name"])
        if not mapping or value in ("", None) or (value is False and spec["type"] != "checkbox"):
            continue
        if mapping == "email":
            email = value
        elif mapping == "phone":
            phone = value
        elif mapping == "company":
            company_name = value
        elif mapping.startswith("custom."):
            custom[mapping.removeprefix("custom.")] = value
        elif mapping == "country":
            scalars["country"] = str(value).upper()
        elif mapping == "language":
            scalars["language"] = str(value).lower()
        else:
            scalars[mapping] = value
    return email, scalars, phone, company_name, custom


def _field_of(form: WebForm, contact_key: str) -> str:
    """The form field to show a contact service error next to."""
    wanted = {"emails": "email", "phones": "phone"}.get(contact_key, contact_key)
    for spec in form.fields or []:
        mapping = spec.get("maps_to") or ""
        if mapping == wanted or (wanted == "custom" and mapping.startswith("custom.")):
            return str(spec["name"])
    return "__all__"


def _company_named(actor: Membership, name: str) -> Company:
    existing = Company.objects.filter(name__iexact=name).order_by("id").first()
    return existing or company_create(actor=actor, data={"name": name})


def _owner_id(form: WebForm) -> int | None:
    """The form's owner of new contacts, while still a member of the organisation."""
    if (
        form.owner_id
        and Membership.objects.filter(organization_id=form.organization_id, user_id=form.owner_id).exists()
    ):
        return form.owner_id
    return None


def _upsert_contact(form: WebForm, actor: Membership, values: Mapping[str, Any]) -> tuple[Contact, bool]:
    email, scalars, phone, company_name, custom = _contact_data(form, values)
    data: dict[str, Any] = dict(scalars)
    if company_name:
        data["company"] = _company_named(actor, company_name).pk
    match = ContactEmail.objects.filter(email=email).select_related("contact").first()
    if match is None:
        data.update(
            {
                "emails": [email],
                "lifecycle_stage": LifecycleStage.LEAD,
                "source": SourceChannel.FORM,
                "owner": _owner_id(form),
            }
        )
        if phone:
            data["phones"] = [phone]
        if custom:
            data["custom"] = custom
        return contact_create(actor=actor, data=data), True
    contact = match.contact
    if phone and phone not in {p.number for p in contact.phones.all()}:
        data["phones"] = [{"number": p.number, "kind": p.kind} for p in contact.phones.all()] + [phone]
    if custom:
        data["custom"] = {**(contact.custom or {}), **custom}
    if data:
        contact = contact_update(actor=actor, contact=contact, data=data)
    return contact, False


def _clean_page_url(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 2000:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        return ""
    return value


def _spam(form: WebForm, data: Mapping[str, Any], meta: SubmissionMeta, reason: str) -> SubmissionResult:
    names = [s["name"] for s in form.fields or []] + [f"consent.{c['key']}" for c in form.consents or []]
    stored = {name: _raw(data.get(name)) for name in names if name in data}
    stored["_spam"] = str(reason)
    submission = FormSubmission.objects.create(
        organization_id=form.organization_id,
        form=form,
        data=stored,
        status=FormSubmission.Status.SPAM,
        ip=meta.ip,
        user_agent=meta.user_agent[:400],
        page_url=_clean_page_url(meta.page_url),
    )
    return SubmissionResult(status="spam", submission=submission)


def form_submit(*, form: WebForm, data: Mapping[str, Any], meta: SubmissionMeta) -> SubmissionResult:
    """A visitor sends the form. Runs inside the form's organisation scope (the public view sets it).

    Spam (the honeypot filled, sent sooner than a person could, or without a valid fill token) is
    stored with status spam and nothing else happens; the caller answers it like a success.
    Invalid input changes nothing and comes back as field errors."""
    if data.get(HONEYPOT):
        return _spam(form, data, meta, FormSubmission.SpamReason.HONEYPOT)
    age = fill_age(form, data.get("_ts"))
    if age is None:
        return _spam(form, data, meta, FormSubmission.SpamReason.NO_TOKEN)
    if age < min_fill_seconds():
        return _spam(form, data, meta, FormSubmission.SpamReason.TOO_FAST)
    if age > fill_max_age():
        return SubmissionResult(
            status="invalid", errors={"__all__": [_("This form has expired. Reload the page and send it again.")]}
        )
    values, consents, errors = _clean_submission(form, data)
    if errors:
        return SubmissionResult(status="invalid", errors=errors)
    try:
        return _accept(form, data, values, consents, meta)
    except ValidationError as exc:
        mapped: Errors = {}
        raw = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        for key, messages in raw.items():
            mapped.setdefault(_field_of(form, key), []).extend(messages)
        return SubmissionResult(status="invalid", errors=mapped)


@transaction.atomic
def _accept(
    form: WebForm,
    data: Mapping[str, Any],
    values: Mapping[str, Any],
    consents: Mapping[str, bool],
    meta: SubmissionMeta,
    *,
    spam: FormSubmission | None = None,
) -> SubmissionResult:
    """Process a valid submission: into a new row, or into `spam`, a row stored as spam that a
    member said is not (it keeps its time, address and page)."""
    # a visitor is nobody in the organisation: the write is the system's, "by the web form “…”"
    actor = system_actor(form.organization, via=make_via("web_form", form.name))
    contact, created = _upsert_contact(form, actor, values)
    double_opt_in = form.double_opt_in
    stored = {s["name"]: _raw(data.get(s["name"])) for s in form.fields or [] if s["name"] in data}
    stored.update({f"consent.{key}": checked for key, checked in consents.items()})
    page_url = _clean_page_url(meta.page_url)
    outcome = {
        "contact": contact,
        "data": stored,
        "status": FormSubmission.Status.PENDING if double_opt_in else FormSubmission.Status.ACCEPTED,
        "confirm_token": secrets.token_urlsafe(32) if double_opt_in else "",
    }
    if spam is None:
        submission = FormSubmission.objects.create(
            organization_id=form.organization_id,
            form=form,
            ip=meta.ip,
            user_agent=meta.user_agent[:400],
            page_url=page_url,
            **outcome,
        )
    else:
        submission = spam
        for name, value in outcome.items():
            setattr(submission, name, value)
        submission.save(update_fields=[*outcome, "updated_at"])
    emit(
        organization=actor.organization,
        type="form.submitted",
        contact=contact,
        properties={
            "form": form.name,
            "form_id": form.pk,
            "submission_id": submission.pk,
            "page": page_url,
            "new_contact": created,
        },
        source="form",
    )
    proof = ConsentProof(
        source=f"web_form:{form.pk}",
        form_name=form.name,
        submission_ref=submission.pk,
        ip=meta.ip,
        page_url=page_url,
        user_agent=meta.user_agent[:400],
    )
    for spec in form.consents or []:
        if not consents.get(spec["key"]):
            continue
        subscription_type = subscription_type_by_key(organization=actor.organization, key=spec["key"])
        if subscription_type is None or not subscription_type.is_active:
            logger.warning("form %s: consent to %r not recorded, no such active type", form.pk, spec["key"])
            continue
        consent_record(
            organization=actor.organization,
            contact=contact,
            subscription_type=subscription_type,
            granted=True,
            channel=ConsentChannel.FORM,
            proof=dataclasses.replace(proof, text=spec["text"], text_version=str(spec.get("version") or "1")),
            needs_confirmation=double_opt_in,
            event_properties={"form_id": form.pk, "submission_id": submission.pk},
        )
    if double_opt_in:
        _queue_confirmation(form, submission, contact, meta.language)
    if form.notify_owner and contact.owner_id:
        # in the owner's bell and/or the e-mail with what was sent, as they chose
        notify_form_lead(
            form=form,
            submission=submission,
            contact=contact,
            created=created,
            mail=lambda: _queue_owner_notification(form, submission, contact),
        )
    return SubmissionResult(status=submission.status, submission=submission, contact=contact)


@transaction.atomic
def submission_not_spam(*, actor: Membership, submission: FormSubmission) -> SubmissionResult:
    """A member says a submission stored as spam is not: it is processed as if it had just been
    accepted (the contact created or updated, consents recorded with the proof kept when it
    arrived, the events written, the double opt-in and the owner's e-mails sent), exactly once.
    A submission that is not (or no longer) spam is left as it is: status "unchanged".
    Values that do not pass the form's checks are refused with field errors and change nothing."""
    require_form_manager(actor)
    submission = FormSubmission.objects.select_for_update().select_related("form").get(pk=submission.pk)
    if submission.status != FormSubmission.Status.SPAM:
        return SubmissionResult(status="unchanged", submission=submission, contact=submission.contact)
    form = submission.form
    data = {k: v for k, v in (submission.data or {}).items() if k != "_spam"}
    values, consents, errors = _clean_submission(form, data)
    if errors:
        raise ValidationError(errors)
    meta = SubmissionMeta(ip=submission.ip, user_agent=submission.user_agent, page_url=submission.page_url)
    before = {"status": submission.status, "spam": submission.spam_reason}
    result = _accept(form, data, values, consents, meta, spam=submission)
    audit_update(
        instance=submission,
        actor=actor.user,
        changes=diff(before, {"status": submission.status, "spam": ""}),
        organization=actor.organization,
    )
    return result


# --- e-mails ------------------------------------------------------------------------------------


def confirm_token_for(submission: FormSubmission, *, issued_at: float | None = None) -> str:
    stamp = int(time.time() if issued_at is None else issued_at)
    return signing.Signer(salt=CONFIRM_SALT).sign(f"{submission.confirm_token}.{stamp}")


def _site_language(language: str) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


# a confirmation is still sent to someone who once unsubscribed (they are subscribing again), never
# to an address that bounced or complained
CONFIRMATION_BLOCKED_BY = {SuppressionReason.HARD_BOUNCE, SuppressionReason.COMPLAINT}


def _queue_confirmation(form: WebForm, submission: FormSubmission, contact: Contact, language: str) -> None:
    """The double opt-in e-mail, queued with the submission (sent by the worker after commit)."""
    url = settings.SITE_URL + reverse("public:web_form_confirm", args=[confirm_token_for(submission)])
    org_name, days = form.organization.name, confirm_days()
    links = contact_links(contact)  # a confirmation is of no single type: one click unsubscribes from all
    try:
        message = message_queue(
            organization=form.organization,
            kind=MessageKind.TRANSACTIONAL,
            to=contact.email,
            contact=contact,
            subject=lambda: _("Please confirm your e-mail address for %(org)s") % {"org": org_name},
            template="touchpoints/forms/email/confirm",
            context={
                "org_name": org_name,
                "url": url,
                "days": days,
                "form_name": form.name,
                "preferences_url": links.preferences_url,
            },
            language=_site_language(language),
            respect_suppression=CONFIRMATION_BLOCKED_BY,
            unsubscribe_url=links.unsubscribe_url,
            idempotency_key=f"web-form-confirm:{submission.pk}",
        )
    except ValidationError as exc:
        logger.warning("double opt-in e-mail for submission %s not queued: %s", submission.pk, exc)
        return
    if message.state == MessageState.SUPPRESSED:
        logger.info("double opt-in e-mail for submission %s suppressed (%s)", submission.pk, message.suppressed_reason)


def _queue_owner_notification(form: WebForm, submission: FormSubmission, contact: Contact) -> None:
    if contact.owner_id is None:
        return
    owner = User.objects.filter(pk=contact.owner_id, is_active=True).first()
    if owner is None or not owner.email:
        return
    url = settings.SITE_URL + reverse("contacts:contact_detail", args=[form.organization.slug, contact.pk])
    labels = {s["name"]: s["label"] for s in form.fields or []}
    rows = [(labels.get(k, k), v) for k, v in submission.data.items() if not k.startswith("consent.")]
    name = str(contact)
    try:
        message_queue(
            organization=form.organization,
            kind=MessageKind.SYSTEM,
            to=owner.email,
            subject=lambda: _("New form submission: %(form)s from %(name)s") % {"form": form.name, "name": name},
            template="touchpoints/forms/email/owner_notification",
            context={"owner": owner, "form_name": form.name, "contact": name, "url": url, "rows": rows},
            language=_site_language(owner.language),
            idempotency_key=f"web-form-notify:{submission.pk}",
        )
    except ValidationError as exc:
        logger.warning("form notification for submission %s not queued: %s", submission.pk, exc)


# --- double opt-in confirmation -------------------------------------------------------------------


class ConfirmationExpired(Exception):
    """A genuine link, older than the confirmation window."""


def submission_for_token(token: str) -> FormSubmission | None:
    """The pending or confirmed submission a confirmation link names (any organisation: the link
    is the key); None for a forged or unknown link. Raises ConfirmationExpired for an old one."""
    if not isinstance(token, str) or len(token) > 300:
        return None
    try:
        value = signing.Signer(salt=CONFIRM_SALT).unsign(token)
    except signing.BadSignature:
        return None
    secret, _sep, stamp = value.rpartition(".")
    if not secret or not stamp.isdigit():
        return None
    submission = (
        FormSubmission.dangerously_unscoped.select_related("organization", "form").filter(confirm_token=secret).first()
    )
    if submission is None:
        return None
    if time.time() - int(stamp) > confirm_days() * 24 * 3600:
        raise ConfirmationExpired
    return submission


@transaction.atomic
def submission_confirm(*, submission: FormSubmission) -> bool:
    """The visitor followed the e-mail link: the submission and its consents are confirmed and
    `consent.confirmed` goes on the timeline. Returns False when it was already confirmed."""
    submission = (
        FormSubmission.objects.select_for_update(of=("self",))
        .select_related("organization", "contact")
        .get(pk=submission.pk)
    )
    if submission.status != FormSubmission.Status.PENDING:
        return False
    now = timezone.now()
    submission.status = FormSubmission.Status.CONFIRMED
    submission.confirmed_at = now
    submission.save(update_fields=["status", "confirmed_at", "updated_at"])
    consent_confirm(organization=submission.organization, submission_ref=submission.pk, confirmed_at=now)
    return True
