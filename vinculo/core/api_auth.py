"""Authentication for the API: the organisation was already resolved by the tenancy middleware
(Bearer token or session); this checks it and enforces token scope and, for sessions, CSRF."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security.base import AuthBase

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _csrf_failed(request: HttpRequest) -> bool:
    """Django's own CSRF check, run for session requests (ninja's views are CSRF-exempt)."""
    checker = CsrfViewMiddleware(lambda r: None)  # type: ignore[arg-type,return-value]
    request.csrf_processing_done = False  # type: ignore[attr-defined]
    checker.process_request(request)
    return checker.process_view(request, lambda r: None, (), {}) is not None  # type: ignore[arg-type,return-value]


class OrgAuth(AuthBase):
    """Accept a request whose organisation is known; read-only tokens cannot write.

    Roles are checked by the services (a read-only member writing gets 403 from there).
    Shown in the OpenAPI document as an HTTP Bearer scheme; the session works too.
    """

    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_description = (
        "An organisation's API token: `Authorization: Bearer vin_…`. "
        "A logged-in session works too; its writes need the `X-CSRFToken` header."
    )
    # ninja's docs page reads `csrf` to send the CSRF token with "Try it out" requests
    csrf = True

    def __call__(self, request: HttpRequest) -> Any:
        membership = getattr(request, "membership", None)
        if membership is None:
            return None  # ninja answers 401
        token = getattr(request, "api_token", None)
        if request.method not in SAFE_METHODS:
            if token is not None and token.scope != "read_write":
                raise HttpError(403, _("This API token is read-only."))
            if token is None and _csrf_failed(request):
                raise HttpError(403, _("CSRF check failed: send the X-CSRFToken header with session authentication."))
        return membership
