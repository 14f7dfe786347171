"""The activities list: every activity the member can see in a table, with filters (assignee, kind,
open / done / overdue, due days), sorting, a column chooser and saved views (the lists' machinery
of vinculo/contacts/list_state.py). The agenda (views/agenda.py) shows the same activities by day."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.permissions import can_write
from vinculo.contacts.list_state import list_state, page_links, sort_links
from vinculo.core.views import is_htmx, org_view
from vinculo.core.views import render_page as _render
from vinculo.sales.models import ActivityKind
from vinculo.sales.selectors import activities as selectors

# the first click on a column's title sorts this way; a second click on the same column reverses it
SORT_COLUMNS = {"subject": "subject", "due": "due", "created": "-created"}


@org_view
@require_GET
def activity_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    state = list_state(actor=actor, kind="activities", params=request.GET)
    filters = selectors.parse_activity_list_filters(state.params, strict=False)
    chosen = filters.selection(actor=actor, tz=timezone.get_current_timezone())
    page = selectors.activity_list(actor=actor, filters=chosen)
    extra = state.extra_query
    context = {
        **state.context(actor),
        "view_teams": list(actor.teams.order_by("name", "id")),
        "nav": "agenda",
        "page": page,
        "filters": filters,
        "members": list(selectors.agenda_members(actor=actor)),
        "kinds": ActivityKind.choices,
        "statuses": selectors.ActivityStatus.choices,
        "list_url": reverse("sales:activity_list", args=[request.org.slug]),
        "filtered": bool(filters.querystring("sort", "per_page")),
        "sort": sort_links(
            SORT_COLUMNS,
            current=filters.sort,
            default=selectors.DEFAULT_ACTIVITY_SORT,
            base="&".join(p for p in (filters.querystring("sort"), extra) if p),
        ),
        "page_links": page_links(page, "&".join(p for p in (filters.querystring(), extra) if p)),
        "now": timezone.now(),
        "can_write": can_write(actor),
        "is_htmx": is_htmx(request),
    }
    return _render(request, "sales/activities/list.html", context, partial="results")


urlpatterns: list[URLPattern] = [
    path("activities/", activity_list_view, name="activity_list"),
]
