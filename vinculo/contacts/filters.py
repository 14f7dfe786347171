"""List filters and sorting for contacts and companies, shared by the pages and the API.

Only the fields named here can filter or sort; anything else is a field error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from vinculo.contacts.models import LifecycleStage
from vinculo.core.pagination import MAX_PAGE
from vinculo.core.query_params import MAX_ID, date_param, int_param, search_param
from vinculo.core.search import search_filter

CONTACT_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
COMPANY_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
PAGING_PARAMS = frozenset({"page", "per_page"})
MAX_PER_PAGE = 200


@dataclass
class ListFilters:
    q: str = ""
    owner: str = ""  # a user id, "me" or "none"
    stage: str = ""
    tag: int | None = None
    country: str = ""
    company: int | None = None
    industry: str = ""
    created_after: dt.date | None = None
    created_before: dt.date | None = None
    sort: str = "name"
    page: int = 1
    per_page: int = 50
    errors: dict[str, str] = field(default_factory=dict)

    def querystring_without(self, *names: str) -> str:
        values = {
            "q": self.q,
            "owner": self.owner,
            "stage": self.stage,
            "tag": self.tag or "",
            "country": self.country,
            "company": self.company or "",
            "industry": self.industry,
            "created_after": self.created_after or "",
            "created_before": self.created_before or "",
            "sort": self.sort if self.sort != "name" else "",
        }
        return urlencode({k: v for k, v in values.items() if v and k not in names})


def parse_filters(params: Mapping[str, Any], *, kind: str, strict: bool) -> ListFilters:
    """Read filters from query parameters. `strict` (the API) raises on any error, including
    unknown parameters; the pages keep the valid part and show the errors."""
    allowed = {
        "contacts": {"q", "owner", "stage", "tag", "country", "company", "created_after", "created_before", "sort"},
        "companies": {"q", "owner", "tag", "country", "industry", "created_after", "created_before", "sort"},
    }[kind] | PAGING_PARAMS
    sorts = CONTACT_SORTS if kind == "contacts" else COMPANY_SORTS
    f = ListFilters()
    errors: dict[str, str] = {}
    for name in params:
        if name not in allowed and strict:
            errors[name] = _("Unknown parameter. Allowed: %(names)s.") % {"names": ", ".join(sorted(allowed))}
    get = {k: (params.get(k) or "").strip() for k in allowed}
    f.q = search_param(get["q"], "q", errors)
    if get.get("owner"):
        owner = get["owner"]
        if owner in ("me", "none") or (owner.isascii() and owner.isdigit() and int(owner) <= MAX_ID):
            f.owner = get["owner"]
        else:
            errors["owner"] = _("Use a user id, “me” or “none”.")
    if get.get("stage"):
        if get["stage"] in LifecycleStage.values:
            f.stage = get["stage"]
        else:
            errors["stage"] = _("Unknown stage. Allowed: %(names)s.") % {"names": ", ".join(LifecycleStage.values)}
    if get.get("tag"):
        f.tag = int_param(get["tag"], "tag", errors)
    if get.get("company"):
        f.company = int_param(get["company"], "company", errors)
    if get.get("country"):
        if len(get["country"]) == 2 and get["country"].isalpha():
            f.country = get["country"].upper()
        else:
            errors["country"] = _("Use a two-letter country code (ISO 3166-1).")
    f.industry = get.get("industry", "")[:100]
    if get.get("created_after"):
        f.created_after = date_param(get["created_after"], "created_after", errors)
    if get.get("created_before"):
        f.created_before = date_param(get["created_before"], "created_before", errors)
    if get.get("sort"):
        if get["sort"] in sorts:
            f.sort = get["sort"]
        else:
            errors["sort"] = _("Unknown sort. Allowed: %(names)s.") % {"names": ", ".join(sorts)}
    if get.get("page"):
        f.page = int_param(get["page"], "page", errors, maximum=MAX_PAGE) or 1
    if get.get("per_page"):
        per_page = int_param(get["per_page"], "per_page", errors)
        if per_page is not None and per_page > MAX_PER_PAGE:
            errors["per_page"] = _("At most %(n)s per page.") % {"n": MAX_PER_PAGE}
        elif per_page is not None:
            f.per_page = per_page
    if errors and strict:
        raise ValidationError(errors)
    f.errors = errors
    return f


def apply_filters(queryset: QuerySet[Any], f: ListFilters, *, user_id: int, kind: str) -> QuerySet[Any]:
    if f.q:
        queryset = search_filter(queryset, f.q)
    if f.owner == "me":
        queryset = queryset.filter(owner_id=user_id)
    elif f.owner == "none":
        queryset = queryset.filter(owner__isnull=True)
    elif f.owner:
        queryset = queryset.filter(owner_id=int(f.owner))
    if f.stage and kind == "contacts":
        queryset = queryset.filter(lifecycle_stage=f.stage)
    if f.tag:
        queryset = queryset.filter(Q(tags__id=f.tag))
    if f.country:
        queryset = queryset.filter(country=f.country)
    if f.company and kind == "contacts":
        queryset = queryset.filter(company_id=f.company)
    if f.industry and kind == "companies":
        queryset = queryset.filter(industry__iexact=f.industry)
    # whole days in the viewer's time zone, as ranges the created_at index can answer
    tz = timezone.get_current_timezone()
    if f.created_after:
        queryset = queryset.filter(created_at__gte=dt.datetime.combine(f.created_after, dt.time.min, tz))
    if f.created_before:
        next_day = f.created_before + dt.timedelta(days=1)
        queryset = queryset.filter(created_at__lt=dt.datetime.combine(next_day, dt.time.min, tz))
    sorts = CONTACT_SORTS if kind == "contacts" else COMPANY_SORTS
    return queryset.order_by(*sorts[f.sort])
