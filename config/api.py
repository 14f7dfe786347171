"""The one NinjaAPI: routers of every app under /api/v1/, errors in one JSON shape.

The interactive docs (/api/v1/docs) use the Swagger UI that django-ninja ships in
`ninja/static/ninja/` (served by WhiteNoise like every static file), not a CDN: that needs
"ninja" in INSTALLED_APPS, otherwise ninja falls back to a template that loads jsDelivr.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.operation import Operation
from ninja.parser import Parser

from config.api_errors import error_body, install_error_handlers
from vinculo.accounts.api import router as accounts_router
from vinculo.contacts.api import router as contacts_router
from vinculo.core.api_auth import OrgAuth
from vinculo.core.event_types_api import router as event_types_router
from vinculo.core.json_input import json_parse
from vinculo.messaging.api import router as messaging_router
from vinculo.sales.api import router as sales_router
from vinculo.touchpoints.api import router as touchpoints_router


def _json_method_not_allowed(view: Callable[..., Any]) -> Callable[..., Any]:
    """ninja answers an unsupported method with a plain-text 405; give it the JSON error shape."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            body = error_body(_("Method %(method)s is not allowed here.") % {"method": request.method})
            return JsonResponse(body, status=405, headers={"Allow": response["Allow"]})
        return response

    return wrapper


def _not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return JsonResponse(error_body(_("Not found.")), status=404)


class BoundedParser(Parser):
    """Request bodies parsed with bounds (vinculo.core.json_input): too deep, NaN or Infinity is a
    400 JSON error like any body that cannot be parsed, never a 500 or a database error."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json_parse(request.body)


class VinculoAPI(NinjaAPI):
    """NinjaAPI with short operation ids and JSON errors for unknown paths and methods."""

    def get_openapi_operation_id(self, operation: Operation) -> str:
        # view names are unique across the API (contact_list, company_get, member_list, …)
        return operation.view_func.__name__

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns: list[URLResolver | URLPattern] = []
        for pattern in super()._get_urls():
            if isinstance(pattern, URLPattern):
                pattern = URLPattern(
                    pattern.pattern, _json_method_not_allowed(pattern.callback), pattern.default_args, pattern.name
                )
            patterns.append(pattern)
        return [*patterns, re_path(r"^.*$", _not_found, name="not-found")]


api = VinculoAPI(
    title="Vínculo API",
    version="1",
    description=(
        "The Vínculo eCRM API. Authenticate with `Authorization: Bearer <token>` "
        "(create tokens in Settings → API tokens) or a logged-in session, whose writes also need the "
        '`X-CSRFToken` header. Errors are `{"detail": …, "errors": [{"field": …, "message": …}]}`.'
    ),
    auth=OrgAuth(),
    parser=BoundedParser(),
    urls_namespace="api",
    docs=Swagger(settings={"validatorUrl": None}),
)
install_error_handlers(api)
api.add_router("", accounts_router)
api.add_router("", contacts_router)
api.add_router("", messaging_router)
api.add_router("", sales_router)
api.add_router("", touchpoints_router)
api.add_router("", event_types_router)
