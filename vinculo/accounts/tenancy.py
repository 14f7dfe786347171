"""Resolve the organisation of a request once, and run the rest of the request inside its scope.

- Pages under /o/<slug>/: the logged-in user's membership in that organisation; a slug the user
  is not a member of answers 404, exactly like one that does not exist.
- The API under /api/: a Bearer token (its organisation and its creator's membership), or the
  session user's active organisation (the one last opened; `X-Organization: <slug>` chooses).
Everything after this middleware runs inside `django_scopes.scope(organization=org)`, so a query
of tenant data is filtered to that organisation, and one outside any scope raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django_scopes import scope

from vinculo.accounts.models import Membership
from vinculo.accounts.selectors import api_token_authenticate

ORG_PATH = re.compile(r"^/o/(?P<slug>[-a-zA-Z0-9_]+)/")
ACTIVE_ORG_SESSION_KEY = "vinculo_active_org"


class TenancyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.org = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.api_token = None  # type: ignore[attr-defined]
        path = request.path_info
        if path.startswith("/api/"):
            denied = self._resolve_api(request)
            if denied is not None:
                return denied
        elif match := ORG_PATH.match(path):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = (
                Membership.objects.select_related("organization", "user")
                .filter(user=request.user, organization__slug=match["slug"])
                .first()
            )
            if membership is None:
                raise Http404(_("No such organisation."))
            request.org = membership.organization  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            if request.session.get(ACTIVE_ORG_SESSION_KEY) != membership.organization.slug:
                request.session[ACTIVE_ORG_SESSION_KEY] = membership.organization.slug
        org = request.org  # type: ignore[attr-defined]
        if org is None:
            return self.get_response(request)
        with scope(organization=org):
            return self.get_response(request)

    def _resolve_api(self, request: HttpRequest) -> HttpResponse | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            kind, _sep, raw = header.partition(" ")
            token = api_token_authenticate(raw.strip()) if kind.lower() == "bearer" else None
            if token is None:
                return JsonResponse(
                    {"detail": _("Invalid or revoked API token."), "errors": []},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            request.org = token.organization  # type: ignore[attr-defined]
            request.membership = token.membership  # type: ignore[attr-defined]
            request.api_token = token  # type: ignore[attr-defined]
            request.user = token.membership.user  # type: ignore[attr-defined]
            return None
        if request.user.is_authenticated:
            memberships = Membership.objects.select_related("organization", "user").filter(user=request.user)
            if asked := request.META.get("HTTP_X_ORGANIZATION"):
                membership = memberships.filter(organization__slug=asked).first()
                if membership is None:  # not a member: the same answer as no such organisation
                    return JsonResponse({"detail": _("No such organisation."), "errors": []}, status=404)
            else:
                slug = request.session.get(ACTIVE_ORG_SESSION_KEY)
                membership = (
                    memberships.filter(organization__slug=slug).first() if slug else None
                ) or memberships.first()
            if membership is not None:
                request.org = membership.organization  # type: ignore[attr-defined]
                request.membership = membership  # type: ignore[attr-defined]
        return None
