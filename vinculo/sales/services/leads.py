"""Qualifying a lead: the contact (lifecycle stage "lead") becomes a prospect of a company, with a
deal to work on. It is the same contact row, so its whole history stays with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_change, require_write
from vinculo.contacts.models import Company, Contact, LifecycleStage
from vinculo.contacts.selectors import company_queryset
from vinculo.contacts.services import company_create, contact_update
from vinculo.core.events import emit
from vinculo.core.validation import Errors, add_error, clean_text, record_by_id
from vinculo.sales.models import Deal
from vinculo.sales.services.deals import deal_create

DEAL_KEYS = ("title", "amount", "currency", "pipeline", "stage", "expected_close_date")


@dataclass
class Conversion:
    contact: Contact
    company: Company | None
    deal: Deal | None


def _prefixed(exc: ValidationError, prefix: str) -> Errors:
    return {
        f"{prefix}.{key}" if key != "__all__" else prefix: list(messages) for key, messages in exc.message_dict.items()
    }


@transaction.atomic
def lead_convert(
    *,
    actor: Membership,
    contact: Contact,
    company: Any = None,
    company_name: Any = "",
    deal: Mapping[str, Any] | None = None,
) -> Conversion:
    """In one transaction: link (`company`, an id) or create (`company_name`) the company, make the
    contact a prospect of it, open the deal (`deal`, optional) for both, and emit `lead.converted`.

    Errors of the deal come back as `deal.<field>`; nothing is kept when anything fails.
    """
    require_write(actor)
    contact = Contact.objects.select_for_update(of=("self",)).select_related("company").get(pk=contact.pk)
    require_change(actor, contact)
    errors: Errors = {}
    if contact.lifecycle_stage != LifecycleStage.LEAD:
        add_error(
            errors,
            "__all__",
            _("Only leads can be converted; this contact is a %(stage)s.")
            % {"stage": contact.get_lifecycle_stage_display().lower()},
        )
    name = clean_text(company_name, "company_name", errors, max_length=200) or ""
    linked: Company | None = None
    if company not in (None, "") and name:
        add_error(errors, "company", _("Choose an existing company or name a new one, not both."))
    elif company not in (None, ""):
        current = Company.objects.filter(pk=contact.company_id) if contact.company_id else Company.objects.none()
        queryset = company_queryset(actor=actor) | current
        linked = record_by_id(queryset.distinct(), company, "company", errors, _("No such company."))
    if deal is not None and not isinstance(deal, Mapping):
        add_error(errors, "deal", _("Give an object."))
    elif deal is not None:
        for key in set(deal) - set(DEAL_KEYS):
            add_error(errors, f"deal.{key}", _("Unknown field."))
        if not str(deal.get("title") or "").strip():
            add_error(errors, "deal.title", _("This field is required."))
    if errors:
        raise ValidationError(errors)
    if name:
        try:
            linked = company_create(actor=actor, data={"name": name})
        except ValidationError as exc:
            raise ValidationError(_prefixed(exc, "company_name")) from exc
    elif linked is None:
        linked = contact.company
    changes: dict[str, Any] = {"lifecycle_stage": LifecycleStage.PROSPECT}
    if linked is not None and linked.pk != contact.company_id:
        changes["company"] = linked.pk
    contact = contact_update(actor=actor, contact=contact, data=changes)
    new_deal: Deal | None = None
    if deal is not None:
        data = {key: value for key, value in deal.items() if value not in (None, "") or key == "title"}
        data["contact"] = contact.pk
        if linked is not None:
            data["company"] = linked.pk
        try:
            new_deal = deal_create(actor=actor, data=data)
        except ValidationError as exc:
            raise ValidationError(_prefixed(exc, "deal")) from exc
    emit(
        organization=actor.organization,
        type="lead.converted",
        contact=contact,
        actor=actor.user,
        properties={
            "contact_id": contact.pk,
            "company_id": linked.pk if linked else None,
            "company": linked.name if linked else None,
            "company_created": bool(name),
            "deal_id": new_deal.pk if new_deal else None,
            "deal": new_deal.title if new_deal else None,
        },
    )
    return Conversion(contact=contact, company=linked, deal=new_deal)
