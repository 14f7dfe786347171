"""Record pickers: the contacts, companies, deals or products whose name matches what a member types
in a form's picker, searched over the whole organisation (not a first page of choices), at most
PICKER_LIMIT of them, and only those the member may see (a sales rep who sees only their own and
their teams' records finds only those)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from vinculo.accounts.models import Membership
from vinculo.contacts.filters import ListFilters
from vinculo.contacts.selectors import company_list, contact_list, contact_queryset
from vinculo.sales.models import DealStatus, Product
from vinculo.sales.selectors.deals import deal_queryset

PICKER_KINDS = ("contact", "company", "deal", "product")
PICKER_LIMIT = 20
MAX_QUERY = 200


@dataclass(frozen=True)
class PickerItem:
    id: int
    label: str
    detail: str = ""


def _contact_item(contact: Any) -> PickerItem:
    detail = " · ".join(part for part in (contact.email, contact.company.name if contact.company else "") if part)
    return PickerItem(id=contact.pk, label=str(contact), detail=detail)


def _product_item(product: Product) -> PickerItem:
    return PickerItem(id=product.pk, label=product.name, detail=product.sku)


def picker_search(*, actor: Membership, kind: str, q: str) -> list[PickerItem]:
    """The first PICKER_LIMIT records of `kind` matching every word of `q` (all of them, in name
    order, for an empty `q`). Contacts match by name, e-mail or company name (the contacts search),
    companies by name, deals (open ones, as forms link open deals) by title, products (active ones)
    by name or SKU."""
    q = " ".join(q.split())[:MAX_QUERY]
    if kind == "contact":
        contacts = list(contact_list(actor=actor, filters=ListFilters(q=q, per_page=PICKER_LIMIT)).items)
        if q and len(contacts) < PICKER_LIMIT:
            # then the people of the companies whose name matches (the contacts' own search text
            # holds names, e-mails and phones, not the company's name)
            companies = company_list(actor=actor, filters=ListFilters(q=q, per_page=PICKER_LIMIT)).items
            more = (
                contact_queryset(actor=actor)
                .filter(company__in=[c.pk for c in companies])
                .exclude(pk__in=[c.pk for c in contacts])
                .select_related("company")
                .order_by("last_name", "first_name", "id")[: PICKER_LIMIT - len(contacts)]
            )
            contacts += list(more)
        return [_contact_item(c) for c in contacts]
    if kind == "company":
        companies = company_list(actor=actor, filters=ListFilters(q=q, per_page=PICKER_LIMIT)).items
        return [PickerItem(id=c.pk, label=c.name, detail=c.domain or "") for c in companies]
    if kind == "deal":
        deals = deal_queryset(actor=actor).filter(status=DealStatus.OPEN)
        for word in q.split()[:10]:
            deals = deals.filter(title__icontains=word)
        return [PickerItem(id=d.pk, label=d.title) for d in deals.order_by("title", "id")[:PICKER_LIMIT]]
    if kind == "product":
        products = Product.objects.filter(is_active=True)
        for word in q.split()[:10]:
            products = products.filter(Q(name__icontains=word) | Q(sku__icontains=word))
        return [_product_item(p) for p in products.order_by("name", "id")[:PICKER_LIMIT]]
    raise ValueError(kind)
