"""The organisation's home page, "my day" (/o/<slug>/, where `/` leads after logging in), and the
dismissal of its getting-started checklist. What the sections show comes from the apps through the
registry in accounts/home.py."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vinculo.accounts import services
from vinculo.accounts.home import MyDay, checklist_rows, home_panels, recent_records, team_of, team_rows
from vinculo.accounts.http import OrgRequest
from vinculo.accounts.permissions import can_manage_org
from vinculo.core.views import is_htmx, org_view, render_page


@org_view
@require_GET
def home_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    day = MyDay.for_user(request.user)
    checklist = None if actor.checklist_dismissed_at else checklist_rows(request.org)
    team = team_of(actor)
    team_columns, team_table = team_rows(actor, team, day) if team is not None else ([], [])
    context = {
        "nav": "home",
        "day": day,
        "panels": home_panels(request, day),
        "checklist": checklist,
        "checklist_done": sum(1 for item in checklist or [] if item.done),
        "recent": recent_records(actor, day),
        "team": team,
        "team_columns": team_columns,
        "team_rows": team_table,
        "can_manage_org": can_manage_org(actor),
    }
    return render_page(request, "accounts/home.html", context)


@org_view
@require_POST
def checklist_dismiss_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    services.membership_dismiss_checklist(membership=request.membership)
    if is_htmx(request):
        return HttpResponse("")  # the checklist's card is swapped for nothing
    messages.success(request, _("The getting-started checklist was put away."))
    return redirect("org:home", request.org.slug)
