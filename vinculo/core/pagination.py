"""Page-number pagination whose count stops at a cap, so a list over a million rows stays fast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

COUNT_CAP = 10_000
MAX_PAGE = 1_000_000  # keeps OFFSET within what every database accepts


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int  # exact when not `total_capped`, else a lower bound (COUNT_CAP)
    total_capped: bool

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < self.total or (self.total_capped and len(self.items) == self.per_page)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)


def requested_page(request: HttpRequest) -> int:
    """The page `?page=` asks for: 1 when it is missing or not a positive whole number of at most
    six digits (a page list never goes that far, and a huge one would overflow the offset)."""
    value = request.GET.get("page", "1")
    return int(value) if value.isdigit() and 0 < len(value) < 7 and int(value) > 0 else 1


def paginate(queryset: QuerySet[Any], *, page: int, per_page: int, count_cap: int = COUNT_CAP) -> Page:
    offset = (page - 1) * per_page
    items = list(queryset[offset : offset + per_page])
    if page == 1 and len(items) < per_page:
        total, capped = len(items), False
    else:
        total = queryset.order_by()[: count_cap + 1].count()
        capped = total > count_cap
        total = min(total, count_cap)
        if capped:  # past the cap the count is a lower bound: at least what this page reaches
            total = max(total, offset + len(items))
    return Page(items=items, number=page, per_page=per_page, total=total, total_capped=capped)
