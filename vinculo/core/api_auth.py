"""Authentication for the API: the organisation was already resolved by the tenancy middleware
(Bearer token or session); this checks it and enforces token scope and, for sessions, CSRF."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from ninja.errors import HttpError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _csrf_failure(request: HttpRequest) -> str | None:
    checker = CsrfViewMiddleware(lambda r: None)  # type: ignore[arg-type,return-value]
    checker.process_request(request)
    response = checker.process_view(request, lambda r: None, (), {})  # type: ignore[arg-type,return-value]
    if response is None:
        return None
    return "CSRF check failed: send the X-CSRFToken header with session authentication."


class OrgAuth:
    """Accept a request whose organisation is known; read-only tokens and roles cannot write."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Any:
        membership = getattr(request, "membership", None)
        if membership is None:
            return None  # ninja answers 401
        token = getattr(request, "api_token", None)
        if request.method not in SAFE_METHODS:
            if token is not None and token.scope != "read_write":
                raise HttpError(403, "This API token is read-only.")
            if token is None and (failure := _csrf_failure(request)):
                raise HttpError(403, failure)
        return membership


# ninja reads these attributes to describe the security scheme in the OpenAPI document
def openapi_security_schema() -> dict[str, Any]:
    return {"type": "http", "scheme": "bearer"}
