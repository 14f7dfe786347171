"""Writes of the customer database. Each is atomic, checks the actor's role, records the audit
trail and emits its domain event; views, API endpoints, tasks and commands call these."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf.locale import LANG_INFO
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership, User
from vinculo.accounts.permissions import (
    MANAGE_ALL_ROLES,
    require_change,
    require_delete,
    require_manager,
    require_write,
)
from vinculo.accounts.system_actor import default_owner
from vinculo.contacts.models import Company, Contact, ContactEmail, ContactPhone, Note, PhoneKind, Tag
from vinculo.contacts.selectors import company_queryset, contact_queryset
from vinculo.contacts.validation import clean_custom, clean_domain, clean_email, clean_phone
from vinculo.core.audit import audit_create, audit_delete, audit_update, audit_update_many, diff, snapshot
from vinculo.core.events import emit, emit_many
from vinculo.core.search import normalize
from vinculo.core.validation import reject_unknown

CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "external_id",
    "job_title",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "language",
    "time_zone",
    "lifecycle_stage",
    "source",
    "custom",
)
CONTACT_RELATIONS = ("company", "owner", "emails", "phones", "tags")
COMPANY_FIELDS = (
    "name",
    "domain",
    "industry",
    "size",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "custom",
)
COMPANY_RELATIONS = ("owner", "tags")
MAX_EMAILS = 10
MAX_PHONES = 10
MAX_TAGS = 50


def _errors_of(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def clean_member(actor: Membership, value: Any, field: str, errors: dict[str, list[str]]) -> User | None:
    """The user of the actor's organisation that `value` (a user or its id) names; None when empty,
    and None with an error on `field` when it names nobody of this organisation."""
    if value in (None, ""):
        return None
    if isinstance(value, User):
        value = value.pk
    try:
        return User.objects.get(pk=int(value), memberships__organization_id=actor.organization_id)
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        errors.setdefault(field, []).append(_("No such member of this organisation."))
        return None


def _owner(actor: Membership, value: Any, errors: dict[str, list[str]]) -> User | None:
    return clean_member(actor, value, "owner", errors)


def _company(
    actor: Membership, value: Any, errors: dict[str, list[str]], current_id: int | None = None
) -> Company | None:
    """A company the actor can see (a sales rep cannot link to a company hidden from them);
    keeping the contact's current company is always allowed."""
    if value in (None, ""):
        return None
    if isinstance(value, Company):
        value = value.pk
    try:
        pk = int(value)
        if pk == current_id:
            return Company.objects.get(pk=pk)
        return company_queryset(actor=actor).get(pk=pk)
    except (Company.DoesNotExist, ValueError, TypeError, OverflowError):
        errors.setdefault("company", []).append(_("No such company."))
        return None


def _tag_names(value: Any, errors: dict[str, list[str]]) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        errors.setdefault("tags", []).append(_("Give a list of tag names."))
        return None
    names: dict[str, str] = {}
    for item in value:
        name = (item.name if isinstance(item, Tag) else item) if item is not None else ""
        if not isinstance(name, str) or not name.strip():
            errors.setdefault("tags", []).append(_("A tag name cannot be empty."))
            return None
        if len(name.strip()) > 50:
            errors.setdefault("tags", []).append(_("A tag name has at most 50 characters."))
            return None
        names.setdefault(name.strip().lower(), name.strip())
    if len(names) > MAX_TAGS:
        errors.setdefault("tags", []).append(_("At most %(n)s tags.") % {"n": MAX_TAGS})
        return None
    return list(names.values())


def _resolve_tags(organization_id: int, names: list[str]) -> list[Tag]:
    """Existing tags by name (any case); the missing ones are created."""
    if not names:
        return []
    existing = {
        t.name.lower(): t
        for t in Tag.objects.annotate(lname=Lower("name")).filter(lname__in=[n.lower() for n in names])
    }
    tags: list[Tag] = []
    for name in names:
        tag: Tag | None = existing.get(name.lower())
        if tag is None:
            tag, _created = Tag.objects.get_or_create(organization_id=organization_id, name=name)
        tags.append(tag)
    return tags


def _emails(value: Any, errors: dict[str, list[str]]) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        errors.setdefault("emails", []).append(_("Give a list of e-mail addresses."))
        return None
    if len(value) > MAX_EMAILS:
        errors.setdefault("emails", []).append(_("At most %(n)s e-mail addresses.") % {"n": MAX_EMAILS})
        return None
    cleaned: list[str] = []
    for item in value:
        try:
            email = clean_email(item)
        except ValidationError as exc:
            errors.setdefault("emails", []).extend(exc.messages)
            continue
        if email not in cleaned:
            cleaned.append(email)
    return cleaned


def _phones(value: Any, region: str, errors: dict[str, list[str]]) -> list[tuple[str, str]] | None:
    """Each phone as a string or {"number": …, "kind": …}; returns (E.164, kind) pairs."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        errors.setdefault("phones", []).append(_("Give a list of phone numbers."))
        return None
    if len(value) > MAX_PHONES:
        errors.setdefault("phones", []).append(_("At most %(n)s phone numbers.") % {"n": MAX_PHONES})
        return None
    cleaned: list[tuple[str, str]] = []
    for item in value:
        number, kind = (
            (item.get("number"), item.get("kind") or PhoneKind.MOBILE)
            if isinstance(item, dict)
            else (item, PhoneKind.MOBILE)
        )
        if kind not in PhoneKind.values:
            errors.setdefault("phones", []).append(_("Unknown phone kind “%(kind)s”.") % {"kind": str(kind)[:20]})
            continue
        try:
            e164 = clean_phone(number, region=region)
        except ValidationError as exc:
            errors.setdefault("phones", []).extend(exc.messages)
            continue
        if e164 not in [n for n, _k in cleaned]:
            cleaned.append((e164, kind))
    return cleaned


def _set_scalars(
    instance: Any, data: Mapping[str, Any], fields: Iterable[str], errors: dict[str, list[str]]
) -> list[str]:
    changed = []
    for name in fields:
        if name not in data:
            continue
        value = data[name]
        if name == "custom":
            try:
                value = clean_custom(value)
            except ValidationError as exc:
                errors.setdefault("custom", []).extend(exc.messages)
                continue
        elif name == "domain":
            try:
                value = clean_domain(value)
            except ValidationError as exc:
                errors.setdefault("domain", []).extend(exc.messages)
                continue
        elif name == "country":
            value = (value or "").upper() if isinstance(value, str) or value is None else value
        elif value is None:
            value = ""
        if not isinstance(value, str | dict):
            errors.setdefault(name, []).append(_("Enter text."))
            continue
        if isinstance(value, str):
            value = value.strip()
        setattr(instance, name, value)
        changed.append(name)
    return changed


def _field_check(instance: Any, fields: list[str], errors: dict[str, list[str]]) -> None:
    """Django's own field validation (length, choices, country codes) for the given fields."""
    exclude = [f.name for f in instance._meta.fields if f.name not in fields]
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for key, messages in _errors_of(exc).items():
            errors.setdefault(key, []).extend(messages)


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(dict(errors.items()))


def contact_search_text(contact: Contact, emails: list[str], phones: list[str]) -> str:
    """The text the search index reads of a contact (also written by the demo data's bulk insert)."""
    digits = [p.lstrip("+") for p in phones]
    return normalize(contact.first_name, contact.last_name, *emails, *phones, *digits, contact.job_title, contact.city)


def _contact_snapshot(contact: Contact) -> dict[str, Any]:
    values = snapshot(contact, list(CONTACT_FIELDS))
    values["country"] = str(contact.country or "")
    values["company"] = str(contact.company) if contact.company_id else None
    values["owner"] = str(contact.owner) if contact.owner_id else None
    values["emails"] = [e.email for e in contact.emails.all()] if contact.pk else []
    values["phones"] = [p.number for p in contact.phones.all()] if contact.pk else []
    values["tags"] = sorted(t.name for t in contact.tags.all()) if contact.pk else []
    return values


def _save_contact_children(contact: Contact, emails: list[str] | None, phones: list[tuple[str, str]] | None) -> None:
    org_id = contact.organization_id
    if emails is not None:
        taken = ContactEmail.objects.filter(email__in=emails).exclude(contact=contact).select_related("contact").first()
        if taken is not None:
            raise ValidationError(
                {
                    "emails": [
                        _("%(email)s already belongs to %(name)s.") % {"email": taken.email, "name": taken.contact}
                    ]
                }
            )
        ContactEmail.objects.filter(contact=contact).delete()
        try:
            with transaction.atomic():
                ContactEmail.objects.bulk_create(
                    [
                        ContactEmail(organization_id=org_id, contact=contact, email=e, is_primary=i == 0)
                        for i, e in enumerate(emails)
                    ]
                )
        except IntegrityError as exc:
            raise ValidationError(
                {"emails": [_("One of these e-mail addresses already belongs to another contact.")]}
            ) from exc
        contact.email = emails[0] if emails else ""
    if phones is not None:
        ContactPhone.objects.filter(contact=contact).delete()
        ContactPhone.objects.bulk_create(
            [
                ContactPhone(organization_id=org_id, contact=contact, number=n, kind=k, is_primary=i == 0)
                for i, (n, k) in enumerate(phones)
            ]
        )
        contact.phone = phones[0][0] if phones else ""


def _apply_contact(actor: Membership, contact: Contact, data: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Validate `data` onto `contact` (unsaved); returns changed model fields and the relations."""
    errors: dict[str, list[str]] = {}
    reject_unknown(data, CONTACT_FIELDS + CONTACT_RELATIONS, errors)
    changed = _set_scalars(contact, data, CONTACT_FIELDS, errors)
    relations: dict[str, Any] = {}
    if "company" in data:
        contact.company = _company(actor, data["company"], errors, current_id=contact.company_id)
        changed.append("company")
    if "owner" in data:
        contact.owner = _owner(actor, data["owner"], errors)
        changed.append("owner")
    if "emails" in data:
        relations["emails"] = _emails(data["emails"], errors)
    if "phones" in data:
        relations["phones"] = _phones(data["phones"], str(contact.country or ""), errors)
    if "tags" in data:
        relations["tags"] = _tag_names(data["tags"], errors)
    _field_check(contact, [c for c in changed if c not in ("company", "owner", "custom")], errors)
    if contact.language and contact.language not in {code for code, _n in _language_choices()}:
        errors.setdefault("language", []).append(_("Unknown language code."))
    if contact.time_zone and contact.time_zone not in zoneinfo.available_timezones():
        errors.setdefault("time_zone", []).append(_("Unknown time zone."))
    taken = (
        "external_id" in changed
        and contact.external_id
        and "external_id" not in errors
        and contact_by_external_id(contact.external_id).exclude(pk=contact.pk).exists()
    )
    if taken:
        errors.setdefault("external_id", []).append(_("Another contact has this external id."))
    has_email = bool(relations.get("emails")) if "emails" in relations else bool(contact.email)
    if not (contact.first_name or contact.last_name or has_email) and "first_name" not in errors:
        errors.setdefault("first_name", []).append(_("Give the contact a name or an e-mail address."))
    _raise(errors)
    return changed, relations


def _save_unique(contact: Contact) -> None:
    """Save; the same external id saved at the same moment by another request is a field error."""
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError as exc:
        raise ValidationError({"external_id": [_("Another contact has this external id.")]}) from exc


def contact_by_external_id(external_id: str) -> QuerySet[Contact]:
    """The contact with this external id, through the unique index on (organization, external_id)
    WHERE external_id <> '' (the query repeats the condition, so that SQLite can use the index)."""
    return Contact.objects.filter(external_id=external_id).filter(~Q(external_id="")).order_by()


def _owner_property(record: Contact | Company) -> dict[str, int]:
    """The owner's id on a created record's event, or on an update that gave it another owner: what
    notifies the new owner (vinculo/messaging), which the owner's name in `changes` cannot tell."""
    return {"owner_id": record.owner_id} if record.owner_id else {}


def _language_choices() -> list[tuple[str, str]]:
    return [(code, info.get("name", code)) for code, info in LANG_INFO.items() if "name" in info]


@transaction.atomic
def contact_create(*, actor: Membership, data: Mapping[str, Any]) -> Contact:
    require_write(actor)
    contact = Contact(organization_id=actor.organization_id)
    _changed, relations = _apply_contact(actor, contact, data)
    if contact.owner_id is None and "owner" not in data:
        contact.owner = default_owner(actor)
    _save_unique(contact)
    _save_contact_children(contact, relations.get("emails"), relations.get("phones"))
    if relations.get("tags"):
        contact.tags.set(_resolve_tags(actor.organization_id, relations["tags"]))
    contact.search_text = contact_search_text(
        contact, relations.get("emails") or [], [n for n, _k in relations.get("phones") or []]
    )
    contact.save(update_fields=["email", "phone", "search_text"])
    audit_create(instance=contact, actor=actor.user, values=_contact_snapshot(contact), organization=actor.organization)
    emit(
        organization=actor.organization,
        type="contact.created",
        contact=contact,
        actor=actor.user,
        properties={"name": str(contact), "source": contact.source, **_owner_property(contact)},
    )
    return contact


@transaction.atomic
def contact_update(*, actor: Membership, contact: Contact, data: Mapping[str, Any]) -> Contact:
    """Change the given fields only (PATCH semantics); lists given replace the old ones."""
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins
    contact = Contact.objects.select_for_update(of=("self",)).select_related("company", "owner").get(pk=contact.pk)
    require_change(actor, contact)
    before = _contact_snapshot(contact)
    _changed, relations = _apply_contact(actor, contact, data)
    _save_contact_children(contact, relations.get("emails"), relations.get("phones"))
    if "tags" in relations and relations["tags"] is not None:
        contact.tags.set(_resolve_tags(actor.organization_id, relations["tags"]))
    emails = [e.email for e in contact.emails.all()]
    phones = [p.number for p in contact.phones.all()]
    contact.search_text = contact_search_text(contact, emails, phones)
    _save_unique(contact)
    after = _contact_snapshot(contact)
    changes = diff(before, after)
    if changes:
        audit_update(instance=contact, actor=actor.user, changes=changes, organization=actor.organization)
        emit(
            organization=actor.organization,
            type="contact.updated",
            contact=contact,
            actor=actor.user,
            properties={"changes": changes, **(_owner_property(contact) if "owner" in changes else {})},
        )
    return contact


def _upsert_match(data: Mapping[str, Any]) -> Contact | None:
    """The contact an upsert updates: the one with its external id, else the one with one of its
    e-mail addresses (in the order given)."""
    external_id = data.get("external_id")
    if isinstance(external_id, str) and external_id.strip():
        match = contact_by_external_id(external_id.strip()).first()
        if match is not None:
            return match
    emails = data.get("emails")
    if isinstance(emails, list | tuple):
        cleaned = []
        for value in emails:
            try:
                cleaned.append(clean_email(value))
            except ValidationError:
                continue  # the update (or the creation) says what is wrong with it
        rows = {row.email: row.contact_id for row in ContactEmail.objects.filter(email__in=cleaned)}
        for email in cleaned:
            if email in rows:
                return Contact.objects.get(pk=rows[email])
    return None


@transaction.atomic
def contact_upsert(*, actor: Membership, data: Mapping[str, Any]) -> tuple[Contact, bool]:
    """Create the contact, or update the one it already is: `(contact, created)`. A contact is
    matched by `external_id`, else by one of its `emails`. An update changes the fields given and
    adds the e-mail addresses, phones and tags given to the contact's own (it removes none): an
    import run twice, or from two systems, leaves one contact with everything it knew."""
    require_write(actor)
    match = _upsert_match(data)
    if match is None:
        return contact_create(actor=actor, data=data), True
    changes = dict(data)
    if "emails" in changes and isinstance(changes["emails"], list | tuple):
        known = [e.email for e in match.emails.all()]
        changes["emails"] = known + [e for e in changes["emails"] if not _same_email(e, known)]
    if "phones" in changes and isinstance(changes["phones"], list | tuple):
        known_phones = [{"number": p.number, "kind": p.kind} for p in match.phones.all()]
        numbers = {p["number"] for p in known_phones}
        changes["phones"] = known_phones + [
            p for p in changes["phones"] if not (isinstance(p, Mapping) and p.get("number") in numbers)
        ]
    if "tags" in changes and isinstance(changes["tags"], list | tuple):
        changes["tags"] = sorted({t.name for t in match.tags.all()} | set(changes["tags"]))
    return contact_update(actor=actor, contact=match, data=changes), False


def _same_email(value: Any, known: list[str]) -> bool:
    try:
        return clean_email(value) in known
    except ValidationError:
        return False


@transaction.atomic
def contacts_set_lifecycle_stage(*, actor: Membership, contacts: Iterable[Contact], stage: str) -> int:
    """Move many contacts to a lifecycle stage at once (a batch of orders makes its buyers
    customers): one UPDATE, one INSERT of audit entries, one of `contact.updated` events, as
    `contact_update` would write them one by one. Contacts already there are left alone; how many moved."""
    require_write(actor)
    moving = [contact for contact in contacts if contact.lifecycle_stage != stage]
    if not moving:
        return 0
    changes = [(contact, {"lifecycle_stage": [contact.lifecycle_stage, stage]}) for contact in moving]
    Contact.objects.filter(pk__in=[c.pk for c in moving]).update(lifecycle_stage=stage, updated_at=timezone.now())
    for contact in moving:
        contact.lifecycle_stage = stage
    audit_update_many(items=changes, actor=actor.user, organization=actor.organization)
    emit_many(
        organization=actor.organization,
        type="contact.updated",
        actor=actor.user,
        rows=[(contact, None, {"changes": diff_}, None) for contact, diff_ in changes],
    )
    return len(moving)


@transaction.atomic
def contact_delete(*, actor: Membership, contact: Contact) -> None:
    require_delete(actor, contact)
    pk, name = contact.pk, str(contact)
    audit_delete(instance=contact, actor=actor.user, values=_contact_snapshot(contact), organization=actor.organization)
    contact.delete()
    emit(
        organization=actor.organization,
        type="contact.deleted",
        actor=actor.user,
        properties={"contact_id": pk, "name": name},
    )


def _bulk_id(value: Any) -> int:
    """A record id as a positive 64-bit integer (a larger one would overflow the database driver)."""
    number = int(value)
    if not 0 < number < 2**63:
        raise ValueError(value)
    return number


def _bulk(actor: Membership, ids: Iterable[Any]) -> list[Contact]:
    clean_ids = []
    for value in ids:
        try:
            clean_ids.append(_bulk_id(value))
        except (TypeError, ValueError):
            raise ValidationError({"ids": [_("Contact ids must be whole numbers.")]}) from None
    if not clean_ids:
        raise ValidationError({"ids": [_("Select at least one contact.")]})
    if len(clean_ids) > 500:
        raise ValidationError({"ids": [_("At most 500 contacts at once.")]})
    return list(
        contact_queryset(actor=actor)
        .filter(pk__in=clean_ids)
        .select_related("company", "owner")
        .prefetch_related("emails", "phones", "tags")
    )


@transaction.atomic
def contact_bulk_assign_owner(*, actor: Membership, ids: Iterable[Any], owner: Any) -> int:
    contacts = _bulk(actor, ids)
    for contact in contacts:
        contact_update(actor=actor, contact=contact, data={"owner": owner})
    return len(contacts)


@transaction.atomic
def contact_bulk_tag(*, actor: Membership, ids: Iterable[Any], tag: str, remove: bool = False) -> int:
    contacts = _bulk(actor, ids)
    for contact in contacts:
        names = [t.name for t in contact.tags.all()]
        new = [n for n in names if n.lower() != tag.strip().lower()] if remove else [*names, tag]
        contact_update(actor=actor, contact=contact, data={"tags": new})
    return len(contacts)


@transaction.atomic
def contact_bulk_delete(*, actor: Membership, ids: Iterable[Any]) -> int:
    contacts = _bulk(actor, ids)
    for contact in contacts:
        require_delete(actor, contact)
    for contact in contacts:
        contact_delete(actor=actor, contact=contact)
    return len(contacts)


# --- companies ----------------------------------------------------------------------------------


def _company_snapshot(company: Company) -> dict[str, Any]:
    values = snapshot(company, list(COMPANY_FIELDS))
    values["country"] = str(company.country or "")
    values["owner"] = str(company.owner) if company.owner_id else None
    values["tags"] = sorted(t.name for t in company.tags.all()) if company.pk else []
    return values


def _apply_company(actor: Membership, company: Company, data: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    reject_unknown(data, COMPANY_FIELDS + COMPANY_RELATIONS, errors)
    changed = _set_scalars(company, data, COMPANY_FIELDS, errors)
    relations: dict[str, Any] = {}
    if "owner" in data:
        company.owner = _owner(actor, data["owner"], errors)
        changed.append("owner")
    if "tags" in data:
        relations["tags"] = _tag_names(data["tags"], errors)
    if "phone" in changed and company.phone:
        try:
            company.phone = clean_phone(company.phone, region=str(company.country or ""))
        except ValidationError as exc:
            errors.setdefault("phone", []).extend(exc.messages)
    _field_check(company, [c for c in changed if c not in ("owner", "custom", "phone")], errors)
    if not company.name and "name" not in errors:
        errors.setdefault("name", []).append(_("This field is required."))
    if company.domain and "domain" not in errors:
        clash = Company.objects.filter(domain=company.domain).exclude(pk=company.pk).first()
        if clash is not None:
            errors.setdefault("domain", []).append(
                _("%(domain)s is already the domain of %(name)s.") % {"domain": company.domain, "name": clash.name}
            )
    _raise(errors)
    return changed, relations


def _save_company(company: Company) -> None:
    company.search_text = normalize(company.name, company.domain, company.industry, company.city)
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError as exc:
        raise ValidationError({"domain": [_("Another company already has this domain.")]}) from exc


@transaction.atomic
def company_create(*, actor: Membership, data: Mapping[str, Any]) -> Company:
    require_write(actor)
    company = Company(organization_id=actor.organization_id)
    _changed, relations = _apply_company(actor, company, data)
    if company.owner_id is None and "owner" not in data:
        company.owner = default_owner(actor)
    _save_company(company)
    if relations.get("tags"):
        company.tags.set(_resolve_tags(actor.organization_id, relations["tags"]))
    audit_create(instance=company, actor=actor.user, values=_company_snapshot(company), organization=actor.organization)
    emit(
        organization=actor.organization,
        type="company.created",
        company=company,
        actor=actor.user,
        properties={"name": company.name, **_owner_property(company)},
    )
    return company


@transaction.atomic
def company_update(*, actor: Membership, company: Company, data: Mapping[str, Any]) -> Company:
    company = Company.objects.select_for_update(of=("self",)).select_related("owner").get(pk=company.pk)
    require_change(actor, company)
    before = _company_snapshot(company)
    _changed, relations = _apply_company(actor, company, data)
    _save_company(company)
    if "tags" in relations and relations["tags"] is not None:
        company.tags.set(_resolve_tags(actor.organization_id, relations["tags"]))
    changes = diff(before, _company_snapshot(company))
    if changes:
        audit_update(instance=company, actor=actor.user, changes=changes, organization=actor.organization)
        emit(
            organization=actor.organization,
            type="company.updated",
            company=company,
            actor=actor.user,
            properties={"changes": changes, **(_owner_property(company) if "owner" in changes else {})},
        )
    return company


@transaction.atomic
def company_delete(*, actor: Membership, company: Company) -> None:
    """Delete a company; its contacts stay, without a company."""
    require_delete(actor, company)
    pk, name = company.pk, company.name
    audit_delete(instance=company, actor=actor.user, values=_company_snapshot(company), organization=actor.organization)
    company.delete()
    emit(
        organization=actor.organization,
        type="company.deleted",
        actor=actor.user,
        properties={"company_id": pk, "name": name},
    )


def _bulk_companies(actor: Membership, ids: Iterable[Any]) -> list[Company]:
    clean_ids = []
    for value in ids:
        try:
            clean_ids.append(_bulk_id(value))
        except (TypeError, ValueError):
            raise ValidationError({"ids": [_("Company ids must be whole numbers.")]}) from None
    if not clean_ids:
        raise ValidationError({"ids": [_("Select at least one company.")]})
    if len(clean_ids) > 500:
        raise ValidationError({"ids": [_("At most 500 companies at once.")]})
    return list(company_queryset(actor=actor).filter(pk__in=clean_ids).select_related("owner").prefetch_related("tags"))


@transaction.atomic
def company_bulk_assign_owner(*, actor: Membership, ids: Iterable[Any], owner: Any) -> int:
    companies = _bulk_companies(actor, ids)
    for company in companies:
        company_update(actor=actor, company=company, data={"owner": owner})
    return len(companies)


@transaction.atomic
def company_bulk_tag(*, actor: Membership, ids: Iterable[Any], tag: str, remove: bool = False) -> int:
    companies = _bulk_companies(actor, ids)
    for company in companies:
        names = [t.name for t in company.tags.all()]
        new = [n for n in names if n.lower() != tag.strip().lower()] if remove else [*names, tag]
        company_update(actor=actor, company=company, data={"tags": new})
    return len(companies)


@transaction.atomic
def company_bulk_delete(*, actor: Membership, ids: Iterable[Any]) -> int:
    companies = _bulk_companies(actor, ids)
    for company in companies:
        require_delete(actor, company)
    for company in companies:
        company_delete(actor=actor, company=company)
    return len(companies)


# --- notes ----------------------------------------------------------------------------------------


def _clean_body(body: Any) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ValidationError({"body": [_("Write something in the note.")]})
    if len(body) > 10000:
        raise ValidationError({"body": [_("A note has at most 10,000 characters.")]})
    return body.strip()


@transaction.atomic
def note_create(
    *, actor: Membership, body: Any, contact: Contact | None = None, company: Company | None = None
) -> Note:
    require_write(actor)
    if (contact is None) == (company is None):
        raise ValidationError({"__all__": [_("A note belongs to one contact or one company.")]})
    note = Note.objects.create(
        organization_id=actor.organization_id,
        contact=contact,
        company=company,
        author=actor.user,
        body=_clean_body(body),
    )
    audit_create(instance=note, actor=actor.user, values=snapshot(note, ["body"]), organization=actor.organization)
    if contact is not None:
        Contact.objects.filter(pk=contact.pk).update(last_activity_at=note.created_at)
    emit(
        organization=actor.organization,
        type="note.added",
        contact=contact,
        company=company,
        actor=actor.user,
        properties={"note_id": note.pk, "excerpt": note.body[:140]},
    )
    return note


def _require_note_author_or_manager(actor: Membership, note: Note) -> None:
    require_write(actor)
    if note.author_id != actor.user_id and actor.role not in MANAGE_ALL_ROLES:
        raise PermissionDenied(_("Only the author or a manager can change this note."))


@transaction.atomic
def note_update(*, actor: Membership, note: Note, body: Any) -> Note:
    _require_note_author_or_manager(actor, note)
    before = snapshot(note, ["body"])
    note.body = _clean_body(body)
    note.save(update_fields=["body", "updated_at"])
    audit_update(
        instance=note, actor=actor.user, changes=diff(before, snapshot(note, ["body"])), organization=actor.organization
    )
    return note


@transaction.atomic
def note_delete(*, actor: Membership, note: Note) -> None:
    _require_note_author_or_manager(actor, note)
    audit_delete(instance=note, actor=actor.user, values=snapshot(note, ["body"]), organization=actor.organization)
    note.delete()


# --- tags -----------------------------------------------------------------------------------------


def _clean_tag(data: Mapping[str, Any], tag: Tag) -> None:
    errors: dict[str, list[str]] = {}
    reject_unknown(data, ("name", "color"), errors)
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not name.strip():
            errors.setdefault("name", []).append(_("This field is required."))
        elif len(name.strip()) > 50:
            errors.setdefault("name", []).append(_("A tag name has at most 50 characters."))
        else:
            tag.name = name.strip()
            clash = Tag.objects.annotate(lname=Lower("name")).filter(lname=tag.name.lower()).exclude(pk=tag.pk).exists()
            if clash:
                errors.setdefault("name", []).append(_("A tag with this name already exists."))
    if "color" in data:
        color = data["color"]
        if not isinstance(color, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            errors.setdefault("color", []).append(_("Use a colour like #1a2b3c."))
        else:
            tag.color = color.lower()
    _raise(errors)


@transaction.atomic
def tag_create(*, actor: Membership, data: Mapping[str, Any]) -> Tag:
    require_write(actor)
    tag = Tag(organization_id=actor.organization_id)
    if "name" not in data:
        raise ValidationError({"name": [_("This field is required.")]})
    _clean_tag(data, tag)
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError as exc:
        raise ValidationError({"name": [_("A tag with this name already exists.")]}) from exc
    audit_create(
        instance=tag, actor=actor.user, values=snapshot(tag, ["name", "color"]), organization=actor.organization
    )
    return tag


@transaction.atomic
def tag_update(*, actor: Membership, tag: Tag, data: Mapping[str, Any]) -> Tag:
    """Rename or recolour a tag. Tags are organisation-wide (every record that carries one changes
    with it), so, like deleting one, this is for managers and admins; anyone who may write creates
    tags and puts them on records."""
    require_manager(actor, _("Only managers and admins can rename or recolour tags."))
    before = snapshot(tag, ["name", "color"])
    _clean_tag(data, tag)
    try:
        with transaction.atomic():
            tag.save(update_fields=["name", "color", "updated_at"])
    except IntegrityError as exc:
        raise ValidationError({"name": [_("A tag with this name already exists.")]}) from exc
    audit_update(
        instance=tag,
        actor=actor.user,
        changes=diff(before, snapshot(tag, ["name", "color"])),
        organization=actor.organization,
    )
    return tag


@transaction.atomic
def tag_delete(*, actor: Membership, tag: Tag) -> None:
    if actor.role not in MANAGE_ALL_ROLES:
        raise PermissionDenied(_("Only managers and admins can delete tags."))
    audit_delete(
        instance=tag, actor=actor.user, values=snapshot(tag, ["name", "color"]), organization=actor.organization
    )
    tag.delete()


def contact_activity_bump(*, contact_id: int, at: dt.datetime) -> None:
    """Move a contact's last-activity time forward to `at`, never back: a derived value that comes
    out the same whatever order its sources (tracker batches, stitching, notes) are processed in."""
    Contact.objects.filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at), pk=contact_id).update(
        last_activity_at=at
    )
