"""Writes of tracking sites: the websites that send events with the tracker snippet.

A site is settings (organisation admins only): its public key identifies it in the snippet, its
allowed origins are the only pages whose browsers may post events (CORS), its consent mode and
Do-Not-Track choice decide what the snippet sends before the visitor agrees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_org_admin
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.validation import Errors, add_error, clean_bool
from vinculo.touchpoints.models import ConsentMode, TrackingSite, new_public_key
from vinculo.touchpoints.selectors.sites import forget_site

SITE_FIELDS = (
    "name",
    "allowed_origins",
    "consent_mode",
    "honor_dnt",
    "create_leads",
    "session_timeout_minutes",
    "is_active",
)
AUDITED = [*SITE_FIELDS, "public_key"]
MAX_ORIGINS = 20
MIN_TIMEOUT, MAX_TIMEOUT = 5, 240


def normalize_origin(value: str) -> str | None:
    """`https://www.example.com/` → `https://www.example.com`; None when it is not an origin."""
    text = value.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment:
        return None
    if parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _origins(value: Any, errors: Errors) -> list[str]:
    """A list of origins, or text with one origin per line (the settings form)."""
    items = value.splitlines() if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        add_error(errors, "allowed_origins", _("Give a list of origins."))
        return []
    origins: list[str] = []
    for item in items:
        if not isinstance(item, str):
            add_error(errors, "allowed_origins", _("Give a list of origins."))
            return []
        if not item.strip():
            continue
        origin = normalize_origin(item)
        if origin is None:
            add_error(
                errors,
                "allowed_origins",
                _("“%(value)s” is not an origin: write the scheme and host, e.g. https://www.example.com.")
                % {"value": item.strip()[:100]},
            )
            continue
        if origin not in origins:
            origins.append(origin)
    if not origins and "allowed_origins" not in errors:
        add_error(errors, "allowed_origins", _("Give at least one origin the tracker runs on."))
    if len(origins) > MAX_ORIGINS:
        add_error(errors, "allowed_origins", _("At most %(n)s origins.") % {"n": MAX_ORIGINS})
    return origins


def _apply(site: TrackingSite, data: Mapping[str, Any]) -> None:
    errors: Errors = {}
    unknown = sorted(set(data) - set(SITE_FIELDS))
    for name in unknown:
        add_error(errors, name, _("Unknown field."))
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not name.strip():
            add_error(errors, "name", _("This field is required."))
        elif len(name.strip()) > 100:
            add_error(errors, "name", _("At most %(n)s characters.") % {"n": 100})
        else:
            site.name = name.strip()
    if "allowed_origins" in data:
        site.allowed_origins = _origins(data["allowed_origins"], errors)
    if "consent_mode" in data:
        if data["consent_mode"] not in ConsentMode.values:
            add_error(
                errors, "consent_mode", _("Choose one of: %(choices)s.") % {"choices": ", ".join(ConsentMode.values)}
            )
        else:
            site.consent_mode = data["consent_mode"]
    for flag in ("honor_dnt", "create_leads", "is_active"):
        if flag in data:
            setattr(site, flag, bool(clean_bool(data[flag], flag, errors)))
    if "session_timeout_minutes" in data:
        raw = data["session_timeout_minutes"]
        try:
            if isinstance(raw, bool):
                raise ValueError
            minutes = int(str(raw).strip())
        except (TypeError, ValueError):
            add_error(errors, "session_timeout_minutes", _("Enter a whole number."))
        else:
            if not MIN_TIMEOUT <= minutes <= MAX_TIMEOUT:
                add_error(
                    errors,
                    "session_timeout_minutes",
                    _("Enter a number of minutes between %(min)s and %(max)s.")
                    % {"min": MIN_TIMEOUT, "max": MAX_TIMEOUT},
                )
            else:
                site.session_timeout_minutes = minutes
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def tracking_site_create(*, actor: Membership, data: Mapping[str, Any]) -> TrackingSite:
    require_org_admin(actor)
    site = TrackingSite(organization_id=actor.organization_id)
    errors: Errors = {}
    if "name" not in data:
        add_error(errors, "name", _("This field is required."))
    if "allowed_origins" not in data:
        add_error(errors, "allowed_origins", _("Give at least one origin the tracker runs on."))
    try:
        _apply(site, data)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                if message not in errors.get(field, []):
                    add_error(errors, field, message)
    if errors:
        raise ValidationError(errors)
    site.save()
    forget_site(site.public_key)
    audit_create(instance=site, actor=actor.user, values=snapshot(site, AUDITED), organization=actor.organization)
    return site


@transaction.atomic
def tracking_site_update(*, actor: Membership, site: TrackingSite, data: Mapping[str, Any]) -> TrackingSite:
    """Change the given fields only (PATCH semantics)."""
    require_org_admin(actor)
    site = TrackingSite.objects.select_for_update().get(pk=site.pk)
    before = snapshot(site, AUDITED)
    _apply(site, data)
    site.save()
    forget_site(site.public_key)
    changes = diff(before, snapshot(site, AUDITED))
    if changes:
        audit_update(instance=site, actor=actor.user, changes=changes, organization=actor.organization)
    return site


@transaction.atomic
def tracking_site_rotate_key(*, actor: Membership, site: TrackingSite) -> TrackingSite:
    """A new public key: the old snippet stops being accepted (e.g. the key was abused)."""
    require_org_admin(actor)
    site = TrackingSite.objects.select_for_update().get(pk=site.pk)
    before = snapshot(site, AUDITED)
    forget_site(site.public_key)
    site.public_key = new_public_key()
    site.save(update_fields=["public_key", "updated_at"])
    audit_update(
        instance=site, actor=actor.user, changes=diff(before, snapshot(site, AUDITED)), organization=actor.organization
    )
    return site


@transaction.atomic
def tracking_site_delete(*, actor: Membership, site: TrackingSite) -> None:
    require_org_admin(actor)
    audit_delete(instance=site, actor=actor.user, values=snapshot(site, AUDITED), organization=actor.organization)
    forget_site(site.public_key)
    site.delete()
