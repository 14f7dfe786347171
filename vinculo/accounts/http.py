"""The request type of views that run inside an organisation (after TenancyMiddleware)."""

from __future__ import annotations

from django.http import HttpRequest

from vinculo.accounts.models import ApiToken, Membership, Organization, User


class AuthedRequest(HttpRequest):
    """A request from a logged-in user (for type checking; `login_required` views)."""

    user: User  # type: ignore[assignment]


class OrgRequest(AuthedRequest):
    """A request under /o/<slug>/ or an authenticated API call: the organisation is resolved."""

    org: Organization
    membership: Membership
    api_token: ApiToken | None
