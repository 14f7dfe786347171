"""The saved view and the columns a list page shows, read from its address.

`?view=<id>` alone opens the stored view (its filters, sort and columns); once the member changes a
filter, the sort or the columns, the address carries all of them and `view` only says which view
the page started from (so that its owner can update it). `columns=` lists the chosen columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.contacts.list_registry import ListSpec, apply_stored, chosen_columns, get_spec
from vinculo.contacts.models import SavedView, ViewSharing
from vinculo.contacts.saved_views import can_change_view, saved_view_list
from vinculo.core.pagination import Page

PAGING = ("page", "per_page")
# columns hidden below the medium breakpoint (the others below the small one)
HIDE_MD_COLUMNS = frozenset({"company", "tags", "city", "country", "source", "job_title", "last_activity", "size"})


@dataclass
class ListState:
    spec: ListSpec
    params: QueryDict  # what the list's own filter parser reads
    columns: list[str]
    views: list[SavedView]
    view: SavedView | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def columns_param(self) -> str:
        return ",".join(self.columns)

    @property
    def columns_are_default(self) -> bool:
        return self.columns == list(self.spec.default_columns)

    @property
    def extra_query(self) -> str:
        """`view` and `columns`, to add to the list's sort and page links."""
        extra: dict[str, Any] = {}
        if self.view is not None:
            extra["view"] = self.view.pk
        if not self.columns_are_default:
            extra["columns"] = self.columns_param
        return urlencode(extra)

    @property
    def state_query(self) -> str:
        """The filters, sort and columns now shown: what "Save as view" and "Update" store."""
        pairs = [(k, str(v)) for k in self.spec.filters for v in self.params.getlist(k) if v]
        sort = self.params.get("sort")
        if sort:
            pairs.append(("sort", str(sort)))
        pairs.append(("columns", self.columns_param))
        return urlencode(pairs)

    @property
    def hidden_params(self) -> list[tuple[str, str]]:
        """The filters and sort as hidden fields of the column chooser."""
        pairs = [(k, v) for k in (*self.spec.filters, "sort", "per_page") for v in self.params.getlist(k) if v]
        if self.view is not None:
            pairs.append(("view", str(self.view.pk)))
        return pairs

    @property
    def column_choices(self) -> list[dict[str, Any]]:
        return self.spec.column_choices(self.columns)

    def context(self, actor: Membership) -> dict[str, Any]:
        return {
            "list_state": self,
            "columns": self.columns,
            "columns_param": self.columns_param,
            "hide_md_columns": HIDE_MD_COLUMNS,
            "can_change_view": self.view is not None and can_change_view(actor, self.view),
            "view_sharings": ViewSharing.choices,
        }


def list_state(*, actor: Membership, kind: str, params: QueryDict) -> ListState:
    """The list's state: a stored view opened from `?view=<id>`, or what the address says."""
    spec = get_spec(kind)
    assert spec is not None, kind
    views = list(saved_view_list(actor=actor, kind=kind))
    state = ListState(spec=spec, params=params, columns=list(spec.default_columns), views=views)
    raw_id = params.get("view", "")
    if raw_id:
        state.view = next((v for v in views if str(v.pk) == raw_id), None)
        if state.view is None:
            state.notices.append(_("That saved view does not exist or is not shared with you; showing the list."))
    own_keys = {*spec.filters, "sort", "columns"}
    if state.view is not None and not own_keys & set(params):
        applied = apply_stored(spec, filters=state.view.filters, sort=state.view.sort, columns=state.view.columns)
        merged = QueryDict(mutable=True)
        for key in PAGING:
            if key in params:
                merged[key] = str(params.get(key, ""))
        for key, value in applied.params.items():
            merged[key] = value
        state.params = merged
        state.columns = applied.columns
        state.notices.extend(applied.notices)
    else:
        state.columns = chosen_columns(spec, params.getlist("columns")) or list(spec.default_columns)
    return state


def parse_state_query(kind: str, query: str) -> dict[str, Any]:
    """A list's address query (filters, sort, columns) as the parts of a view, for the services to
    check; names the list does not know stay in `filters`, to be refused by name."""
    params = QueryDict(query[:4000])
    filters = {k: params.get(k, "") for k in params if k not in ("sort", "columns", "view", *PAGING)}
    columns = [c for value in params.getlist("columns") for c in value.split(",") if c]
    spec = get_spec(kind)
    if not columns and spec is not None:
        columns = list(spec.default_columns)
    return {"filters": filters, "sort": params.get("sort", ""), "columns": columns}


# --- the links of a list's table: sorting by a column, the pages --------------------------------


def query(*parts: str) -> str:
    """`?a=1&b=2` from the non-empty parts (`?` alone when none: the list without parameters)."""
    joined = "&".join(p for p in parts if p)
    return f"?{joined}" if joined else "?"


def sort_links(first_clicks: Mapping[str, str], *, current: str, default: str, base: str) -> dict[str, dict[str, Any]]:
    """For each sortable column, the link of its header: the first click sorts the way `first_clicks`
    says, a second click on the same column reverses it. `base` is the rest of the list's query."""
    links = {}
    descending = current.startswith("-")
    for column, first in first_clicks.items():
        active = current.lstrip("-") == column
        target = (column if descending else f"-{column}") if active else first
        links[column] = {
            "url": query(base, "" if target == default else f"sort={target}"),
            "active": active,
            "descending": active and descending,
        }
    return links


def page_links(page: Page, base: str) -> dict[str, str]:
    """The previous and next pages' links of a list (`base`: its query without `page`)."""
    links = {}
    if page.has_previous:
        links["previous"] = query(base, f"page={page.number - 1}" if page.number > 2 else "")
    if page.has_next:
        links["next"] = query(base, f"page={page.number + 1}")
    return links
