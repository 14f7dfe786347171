"""Writes of integrations: the webhook sources (shops, lead ads) an organisation connects.

Only owners and admins manage them: an integration's secret lets whoever holds it write orders and
contacts into the organisation. The signing secret is stored encrypted (vinculo.touchpoints.crypto)
and shown once, when it is created or rotated; for the sources that choose their own secret
(Shopify's app secret, Facebook's app secret, LinkedIn's client secret) it is typed in instead.
Lead-ad integrations also keep the access token their leads are read with (a Facebook Page access
token, a LinkedIn access token): encrypted the same way, write-only (pages and API say only whether
one is saved, and whether the network refused it).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_org_admin
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.validation import Errors, add_error
from vinculo.touchpoints import crypto
from vinculo.touchpoints.models import Integration, IntegrationKind
from vinculo.touchpoints.services.lead_fetch import lead_fetches_resume

FIELDS = ("kind", "name", "secret", "access_token", "field_mapping", "default_campaign", "is_active")
AUDITED = ["kind", "name", "default_campaign", "is_active", "field_mapping"]
MAX_MAPPING = 50
MIN_SECRET = 16
MAX_SECRET = 200
MIN_ACCESS_TOKEN = 20
MAX_ACCESS_TOKEN = 2000
# where a lead's answer can go (docs/webhooks.md); "custom.<key>" is a custom property, "" ignores it
LEAD_TARGETS = (
    "full_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "linkedin",
    "facebook",
)
LEAD_KINDS = (IntegrationKind.FACEBOOK_LEADS, IntegrationKind.LINKEDIN_LEADS)
_ACCESS_TOKEN = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces: what both networks issue
_SOURCE_NAME = re.compile(r"^[a-z0-9_.\-]{1,64}$")
_CUSTOM_KEY = re.compile(r"^custom\.[A-Za-z_][A-Za-z0-9_]{0,63}$")


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def integration_secret(integration: Integration) -> str:
    """The plain signing secret (raises crypto.SecretUnreadable after a key change)."""
    return crypto.decrypt(integration.secret_encrypted)


def clean_field_mapping(value: Any, errors: Errors) -> dict[str, str] | None:
    """{source field name: target}; a target is one of LEAD_TARGETS, custom.<key>, or "" (ignore)."""
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        add_error(errors, "field_mapping", _("Give an object of source field names and targets."))
        return None
    if len(value) > MAX_MAPPING:
        add_error(errors, "field_mapping", _("At most %(n)s fields.") % {"n": MAX_MAPPING})
        return None
    cleaned: dict[str, str] = {}
    for source, target in value.items():
        name = source.strip().lower() if isinstance(source, str) else ""
        if not _SOURCE_NAME.match(name):
            add_error(errors, "field_mapping", _("“%(name)s” is not a field name.") % {"name": str(source)[:64]})
            continue
        if not isinstance(target, str) or not (target == "" or target in LEAD_TARGETS or _CUSTOM_KEY.match(target)):
            add_error(
                errors,
                "field_mapping",
                _("“%(name)s”: map it to one of %(targets)s, custom.<key>, or nothing.")
                % {"name": name, "targets": ", ".join(LEAD_TARGETS)},
            )
            continue
        cleaned[name] = target
    return cleaned


def clean_access_token(integration: Integration, value: Any, errors: Errors) -> str | None:
    """The access token typed in (None when none was given): lead-ad integrations only, as the
    network issues it."""
    if value in (None, ""):
        return None
    if integration.kind not in LEAD_KINDS:
        add_error(errors, "access_token", _("Only Facebook and LinkedIn lead integrations use an access token."))
        return None
    token = value.strip() if isinstance(value, str) else None
    if token is None or not MIN_ACCESS_TOKEN <= len(token) <= MAX_ACCESS_TOKEN or not _ACCESS_TOKEN.match(token):
        add_error(
            errors,
            "access_token",
            _("Paste the access token as the network shows it: %(min)s to %(max)s characters, without spaces.")
            % {"min": MIN_ACCESS_TOKEN, "max": MAX_ACCESS_TOKEN},
        )
        return None
    return token


def token_status(integration: Integration) -> str:
    """`not_needed` (not a lead-ad integration), `missing`, `refused` (needs a new token) or `saved`."""
    if integration.kind not in LEAD_KINDS:
        return "not_needed"
    if integration.token_error:
        return "refused"
    return "saved" if integration.access_token_encrypted else "missing"


def _apply(integration: Integration, data: Mapping[str, Any], errors: Errors, *, creating: bool) -> str | None:
    """Validate `data` onto `integration`; returns the new plain secret if one was given (the
    access token is checked by `clean_access_token`, once the kind is known)."""
    for key in set(data) - set(FIELDS):
        add_error(errors, key, _("Unknown field."))
    if creating:
        kind = data.get("kind")
        if kind not in IntegrationKind.values:
            add_error(
                errors, "kind", _("Choose one of %(expected)s.") % {"expected": ", ".join(IntegrationKind.values)}
            )
        else:
            integration.kind = kind
    elif "kind" in data and data["kind"] != integration.kind:
        add_error(errors, "kind", _("The kind of an integration cannot change; create another one."))
    if creating or "name" in data:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            add_error(errors, "name", _("This field is required."))
        elif len(name.strip()) > 100:
            add_error(errors, "name", _("At most %(n)s characters.") % {"n": 100})
        else:
            integration.name = name.strip()
    if "default_campaign" in data:
        campaign = data["default_campaign"] if data["default_campaign"] is not None else ""
        if not isinstance(campaign, str) or len(campaign.strip()) > 100:
            add_error(errors, "default_campaign", _("At most %(n)s characters.") % {"n": 100})
        else:
            integration.default_campaign = campaign.strip()
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            add_error(errors, "is_active", _("Enter true or false."))
        else:
            integration.is_active = data["is_active"]
    if "field_mapping" in data:
        mapping = clean_field_mapping(data["field_mapping"], errors)
        if mapping is not None:
            integration.field_mapping = mapping
    secret = data.get("secret")
    if secret in (None, ""):
        return None
    if not isinstance(secret, str) or not MIN_SECRET <= len(secret.strip()) <= MAX_SECRET:
        add_error(
            errors, "secret", _("Between %(min)s and %(max)s characters.") % {"min": MIN_SECRET, "max": MAX_SECRET}
        )
        return None
    return secret.strip()


@transaction.atomic
def integration_create(*, actor: Membership, data: Mapping[str, Any]) -> tuple[Integration, str]:
    """A new integration and its plain secret (typed in, or generated): the only time it is shown."""
    require_org_admin(actor)
    integration = Integration(organization=actor.organization)
    errors: Errors = {}
    secret = _apply(integration, data, errors, creating=True)
    access_token = clean_access_token(integration, data.get("access_token"), errors) if integration.kind else None
    if errors:
        raise ValidationError(errors)
    secret = secret or new_secret()
    integration.secret_encrypted = crypto.encrypt(secret)
    integration.access_token_encrypted = crypto.encrypt(access_token or "")
    integration.save()
    audit_create(
        instance=integration, actor=actor.user, values=snapshot(integration, AUDITED), organization=actor.organization
    )
    return integration, secret


@transaction.atomic
def integration_update(*, actor: Membership, integration: Integration, data: Mapping[str, Any]) -> Integration:
    """Change the given fields; a non-empty `secret` or `access_token` replaces the stored one. A
    new access token clears the network's refusal and queues the leads that waited for it."""
    require_org_admin(actor)
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    before = snapshot(integration, AUDITED)
    errors: Errors = {}
    secret = _apply(integration, data, errors, creating=False)
    access_token = clean_access_token(integration, data.get("access_token"), errors)
    if errors:
        raise ValidationError(errors)
    fields = ["name", "default_campaign", "is_active", "field_mapping", "updated_at"]
    changes = diff(before, snapshot(integration, AUDITED))
    if secret:
        integration.secret_encrypted = crypto.encrypt(secret)
        fields.append("secret_encrypted")
        changes["secret"] = ["…", "…"]
    if access_token:
        integration.access_token_encrypted = crypto.encrypt(access_token)
        integration.token_error, integration.token_error_at = "", None
        fields += ["access_token_encrypted", "token_error", "token_error_at"]
        changes["access_token"] = ["…", "…"]
    integration.save(update_fields=fields)
    if access_token:
        lead_fetches_resume(integration=integration)
    if changes:
        audit_update(instance=integration, actor=actor.user, changes=changes, organization=actor.organization)
    return integration


@transaction.atomic
def integration_rotate_secret(*, actor: Membership, integration: Integration) -> str:
    """A new generated secret replaces the old one at once (the old signature stops working)."""
    require_org_admin(actor)
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    secret = new_secret()
    integration.secret_encrypted = crypto.encrypt(secret)
    integration.save(update_fields=["secret_encrypted", "updated_at"])
    audit_update(
        instance=integration, actor=actor.user, changes={"secret": ["…", "rotated"]}, organization=actor.organization
    )
    return secret


@transaction.atomic
def integration_delete(*, actor: Membership, integration: Integration) -> None:
    """Its deliveries go with it; orders and contacts it created stay."""
    require_org_admin(actor)
    audit_delete(
        instance=integration, actor=actor.user, values=snapshot(integration, AUDITED), organization=actor.organization
    )
    integration.delete()
