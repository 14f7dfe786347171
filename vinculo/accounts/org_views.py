"""Organisation settings: members and roles, invitations, teams, API tokens."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from vinculo.accounts.permissions import can_manage_org
from vinculo.accounts.selectors import member_list


def settings_view(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    return render(
        request,
        "accounts/settings.html",
        {"nav": "settings", "members": member_list(organization=org), "can_manage": can_manage_org(request.membership)},  # type: ignore[attr-defined]
    )
