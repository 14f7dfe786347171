"""Leads from social lead ads (Facebook Lead Ads, LinkedIn Lead Gen Forms) become contacts, and the
social profiles shown on a contact's page.

A lead's answers go through the integration's field mapping (DEFAULT_MAPPING, overridden per
integration in `field_mapping`; docs/webhooks.md) onto the contact: found by e-mail, or created with
source "social" and no owner. The campaign (from the payload, else the integration's default) is
recorded on the `lead.captured` event and as the contact's custom property `campaign`; consent
answers to a checkbox whose key is one of the organisation's subscription types are recorded in the
consent ledger with the form's text as proof (other answers stay only on the `lead.captured` event); a profile address becomes a SocialProfile.

A lead is captured once: its event carries the message id `<kind>:<lead id>`, and a delivery of a
lead already captured changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_countries import countries

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_change
from vinculo.contacts.models import Contact, SourceChannel
from vinculo.contacts.validation import clean_email, clean_phone
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.events import emit
from vinculo.core.models import Event
from vinculo.core.validation import Errors
from vinculo.messaging.models import ConsentChannel
from vinculo.messaging.services.consent import ConsentProof, consent_record, subscription_type_by_key
from vinculo.touchpoints.adapters import Lead, PayloadError
from vinculo.touchpoints.models import Integration, SocialProfile
from vinculo.touchpoints.services.orders_in import company_for, customer_contact

DEFAULT_MAPPING: dict[str, str] = {
    "full_name": "full_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "work_email": "email",
    "phone_number": "phone",
    "phone": "phone",
    "work_phone_number": "phone",
    "company_name": "company",
    "company": "company",
    "job_title": "job_title",
    "street_address": "street",
    "city": "city",
    "state": "region",
    "province": "region",
    "zip_code": "postal_code",
    "post_code": "postal_code",
    "postal_code": "postal_code",
    "country": "country",
    "linkedin_profile_link": "linkedin",
    "facebook_profile_url": "facebook",
}
TEXT_LIMITS = {"first_name": 100, "last_name": 100, "job_title": 150, "street": 200, "city": 100, "region": 100}
# what a network says about a lead's origin beyond the names, kept on `lead.captured` (event_types.py)
LEAD_DETAILS = ("ad_id", "adset_id", "adset_name", "campaign_id", "platform", "is_organic", "test_lead")
NETWORKS = ("linkedin", "facebook", "instagram", "x", "tiktok", "youtube", "github", "other")
PROFILE_FIELDS = ("network", "url", "handle")


@dataclass
class LeadValues:
    """A lead mapped onto contact fields, validated."""

    lead: Lead
    email: str
    values: dict[str, Any] = field(default_factory=dict)  # first_name … country, custom
    company: str = ""
    profiles: dict[str, str] = field(default_factory=dict)  # network → url


def _country(value: str) -> str:
    value = value.strip()
    if len(value) == 2 and value.upper() in dict(countries):
        return value.upper()
    return countries.by_name(value) or ""


def _url(value: str) -> str:
    try:
        URLValidator(schemes=["https", "http"])(value)
    except ValidationError:
        return ""
    return value[:500]


def map_lead(integration: Integration, lead: Lead, index: int = 0) -> LeadValues:
    """The lead's answers through the mapping; PayloadError when it has no usable e-mail."""
    mapping = {**DEFAULT_MAPPING, **(integration.field_mapping or {})}
    mapped: dict[str, str] = {}
    custom: dict[str, Any] = {}
    for name, answer in lead.answers.items():
        target = mapping.get(name, "")
        if not target or not answer:
            continue
        if target.startswith("custom."):
            custom[target.removeprefix("custom.")] = answer[:500]
        else:
            mapped.setdefault(target, answer)
    try:
        email = clean_email(mapped.get("email"))
    except ValidationError as exc:
        message = exc.messages[0] if mapped.get("email") else _("The lead has no e-mail address.")
        raise PayloadError({f"leads.{index}.email": [message]}) from exc
    values: dict[str, Any] = {}
    full = mapped.get("full_name", "").split(None, 1)
    if full and not (mapped.get("first_name") or mapped.get("last_name")):
        values["first_name"] = full[0]
        values["last_name"] = full[1] if len(full) > 1 else ""
    for key, limit in TEXT_LIMITS.items():
        if mapped.get(key):
            values[key] = mapped[key][:limit]
    if mapped.get("postal_code") and len(mapped["postal_code"]) <= 20:
        values["postal_code"] = mapped["postal_code"]
    if mapped.get("country"):
        values["country"] = _country(mapped["country"])
    if mapped.get("phone"):
        with contextlib.suppress(ValidationError):  # a number we cannot read is dropped, not fatal
            values["phone"] = clean_phone(mapped["phone"], region=values.get("country", ""))
    campaign = lead.campaign or integration.default_campaign
    if campaign:
        custom["campaign"] = campaign[:100]
    values["custom"] = custom
    profiles = {network: _url(mapped[network]) for network in ("linkedin", "facebook") if mapped.get(network)}
    if lead.profile_url:
        network = "linkedin" if integration.kind == "linkedin_leads" else "facebook"
        profiles.setdefault(network, _url(lead.profile_url))
    return LeadValues(
        lead=lead,
        email=email,
        values=values,
        company=mapped.get("company", "")[:200],
        profiles={k: v for k, v in profiles.items() if v},
    )


def lead_message_id(integration: Integration, lead: Lead) -> str:
    return f"{integration.kind}:{lead.external_id}"[:128]


def lead_ingest(*, actor: Membership, integration: Integration, lead: LeadValues, network: str) -> tuple[Contact, bool]:
    """Create or update the lead's contact and record `lead.captured`; (contact, new capture).
    Runs inside the delivery's transaction, with the organisation's scope active."""
    message_id = lead_message_id(integration, lead.lead)
    captured = Event.objects.filter(message_id=message_id).select_related("contact").first()
    if captured is not None and captured.contact is not None:
        return captured.contact, False
    company = company_for(actor, lead.company)
    contact, _created = customer_contact(
        actor=actor,
        email=lead.email,
        values={**lead.values, "company": company},
        source=SourceChannel.SOCIAL,
    )
    for profile_network, url in lead.profiles.items():
        if not SocialProfile.objects.filter(contact=contact, network=profile_network).exists():
            social_profile_create(actor=actor, contact=contact, data={"network": profile_network, "url": url})
    consents = []
    for answer in lead.lead.consents:
        subscription_type = subscription_type_by_key(organization=actor.organization, key=answer["key"])
        recorded = False
        if subscription_type is not None and (subscription_type.is_active or not answer["granted"]):
            text = answer["text"] or _("(consent text not given by %(network)s)") % {"network": network}
            consent_record(
                organization=actor.organization,
                contact=contact,
                subscription_type=subscription_type,
                granted=answer["granted"],
                channel=ConsentChannel.FORM,
                proof=ConsentProof(
                    text=text, source=network, form_name=(lead.lead.form_name or lead.lead.form_id)[:100]
                ),
            )
            recorded = True
        consents.append({"key": answer["key"], "granted": answer["granted"], "recorded": recorded})
    campaign = lead.values.get("custom", {}).get("campaign", "")
    properties = {
        "network": network,
        "campaign": campaign,
        "ad_name": lead.lead.ad_name,
        "form_id": lead.lead.form_id,
        "lead_id": lead.lead.external_id,
        "integration": integration.name,
        "consents": consents,
    }
    if lead.lead.form_name:
        properties["form_name"] = lead.lead.form_name
    properties.update({key: value for key, value in lead.lead.details.items() if key in LEAD_DETAILS})
    emit(
        organization=actor.organization,
        type="lead.captured",
        contact=contact,
        source="social",
        properties=properties,
        occurred_at=lead.lead.occurred_at,
        message_id=message_id,
    )
    return contact, True


# --- social profiles, edited by staff -------------------------------------------------------------


def _apply_profile(profile: SocialProfile, data: Mapping[str, Any], errors: Errors, *, creating: bool) -> None:
    for key in set(data) - set(PROFILE_FIELDS):
        errors.setdefault(key, []).append(_("Unknown field."))
    if creating or "network" in data:
        network = data.get("network")
        if network not in NETWORKS:
            errors.setdefault("network", []).append(
                _("Choose one of %(expected)s.") % {"expected": ", ".join(NETWORKS)}
            )
        else:
            profile.network = network
    if "url" in data:
        url = data["url"].strip() if isinstance(data["url"], str) else data["url"]
        if url in (None, ""):
            profile.url = ""
        elif not isinstance(url, str) or len(url) > 500 or not _url(url):
            errors.setdefault("url", []).append(_("Enter a web address starting with https://."))
        else:
            profile.url = url
    if "handle" in data:
        handle = data["handle"].strip().lstrip("@") if isinstance(data["handle"], str) else data["handle"]
        if handle in (None, ""):
            profile.handle = ""
        elif not isinstance(handle, str) or len(handle) > 150:
            errors.setdefault("handle", []).append(_("At most %(n)s characters.") % {"n": 150})
        else:
            profile.handle = handle
    if not errors and not (profile.url or profile.handle):
        errors.setdefault("url", []).append(_("Give the profile's address or user name."))


def _save_profile(profile: SocialProfile) -> None:
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"network": [_("This contact already has a %(network)s profile.") % {"network": profile.network}]}
        ) from exc


@transaction.atomic
def social_profile_create(*, actor: Membership, contact: Contact, data: Mapping[str, Any]) -> SocialProfile:
    require_change(actor, contact)
    profile = SocialProfile(organization=actor.organization, contact=contact)
    errors: Errors = {}
    _apply_profile(profile, data, errors, creating=True)
    if errors:
        raise ValidationError(errors)
    _save_profile(profile)
    audit_create(
        instance=profile,
        actor=actor.user,
        values=snapshot(profile, list(PROFILE_FIELDS)),
        organization=actor.organization,
    )
    return profile


@transaction.atomic
def social_profile_update(*, actor: Membership, profile: SocialProfile, data: Mapping[str, Any]) -> SocialProfile:
    profile = SocialProfile.objects.select_for_update(of=("self",)).select_related("contact").get(pk=profile.pk)
    require_change(actor, profile.contact)
    before = snapshot(profile, list(PROFILE_FIELDS))
    errors: Errors = {}
    _apply_profile(profile, data, errors, creating=False)
    if errors:
        raise ValidationError(errors)
    _save_profile(profile)
    changes = diff(before, snapshot(profile, list(PROFILE_FIELDS)))
    if changes:
        audit_update(instance=profile, actor=actor.user, changes=changes, organization=actor.organization)
    return profile


@transaction.atomic
def social_profile_delete(*, actor: Membership, profile: SocialProfile) -> None:
    require_change(actor, profile.contact)
    audit_delete(
        instance=profile,
        actor=actor.user,
        values=snapshot(profile, list(PROFILE_FIELDS)),
        organization=actor.organization,
    )
    profile.delete()


__all__ = [
    "DEFAULT_MAPPING",
    "NETWORKS",
    "LeadValues",
    "lead_ingest",
    "map_lead",
    "social_profile_create",
    "social_profile_delete",
    "social_profile_update",
]
