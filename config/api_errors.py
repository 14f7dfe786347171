"""Every API error is `{"detail": …, "errors": [{"field": …, "message": …}]}` with the right status.

`field` is the plain name of the offending input (`emails`, `emails.0`, `phones.1.kind`, `page`):
ninja's location prefixes (`body`, the body parameter's name, `query`, `path`) are removed.
Pydantic's English messages are replaced by translated ones for the common error types.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from vinculo.core.json_input import JSONInputError
from vinculo.core.request_errors import request_data_error

logger = logging.getLogger("vinculo.api")

PARAM_SOURCES = frozenset({"body", "query", "path", "header", "cookie", "form", "file"})
# ninja raises HttpError(400, "Cannot parse request body …") when the body is not JSON
UNPARSABLE_BODY = "Cannot parse request body"


def error_body(detail: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "errors": errors or []}


def error_response(
    api: NinjaAPI, request: HttpRequest, *, status: int, detail: str, errors: list[dict[str, str]] | None = None
) -> HttpResponse:
    return api.create_response(request, error_body(detail, errors), status=status)


def field_of(loc: Sequence[Any]) -> str:
    """`("body", "payload", "emails", 0)` → `"emails.0"`; `("query", "page")` → `"page"`."""
    parts = list(loc)
    source = parts.pop(0) if parts and parts[0] in PARAM_SOURCES else None
    if source == "body" and parts:
        parts.pop(0)  # ninja wraps a body schema in the name of the view's parameter
    if parts:
        return ".".join(str(p) for p in parts)
    return "body" if source == "body" else "__all__"


def pydantic_message(error: dict[str, Any]) -> str:
    """A translated message for the error types a client meets; pydantic's own text otherwise."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    simple = {
        "missing": _("This field is required."),
        "extra_forbidden": _("Unknown field."),
        "string_type": _("Enter text."),
        "int_type": _("Enter a whole number."),
        "int_parsing": _("Enter a whole number."),
        "int_from_float": _("Enter a whole number."),
        "bool_type": _("Enter true or false."),
        "bool_parsing": _("Enter true or false."),
        "list_type": _("Give a list."),
        "dict_type": _("Give an object."),
        "model_type": _("Give an object."),
        "model_attributes_type": _("Give an object."),
        "date_parsing": _("Enter a date as YYYY-MM-DD."),
        "date_from_datetime_parsing": _("Enter a date as YYYY-MM-DD."),
        "string_pattern_mismatch": _("Enter a valid value."),
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_too_long":
        return _("At most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("At least %(n)s characters.") % {"n": ctx.get("min_length")}
    if kind == "too_long":
        return _("At most %(n)s items.") % {"n": ctx.get("max_length")}
    if kind == "too_short":
        return _("At least %(n)s items.") % {"n": ctx.get("min_length")}
    if kind in ("enum", "literal_error"):
        return _("Choose one of %(expected)s.") % {"expected": ctx.get("expected", "")}
    if kind in ("greater_than_equal", "greater_than"):
        return _("Must be at least %(n)s.") % {"n": ctx.get("ge", ctx.get("gt"))}
    if kind in ("less_than_equal", "less_than"):
        return _("Must be at most %(n)s.") % {"n": ctx.get("le", ctx.get("lt"))}
    return str(error.get("msg", "")).removeprefix("Value error, ")


def django_validation_errors(exc: DjangoValidationError) -> list[dict[str, str]]:
    if hasattr(exc, "error_dict"):
        return [{"field": field, "message": str(m)} for field, errs in exc.message_dict.items() for m in errs]
    return [{"field": "__all__", "message": str(m)} for m in exc.messages]


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [{"field": field_of(err.get("loc", ())), "message": pydantic_message(err)} for err in exc.errors]
        return error_response(api, request, status=422, detail=_("Some fields are not valid."), errors=errors)

    @api.exception_handler(DjangoValidationError)
    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return error_response(
            api, request, status=422, detail=_("Some fields are not valid."), errors=django_validation_errors(exc)
        )

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, status=404, detail=_("Not found."))

    @api.exception_handler(PermissionDenied)
    def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(api, request, status=403, detail=str(exc) or _("You are not allowed to do this."))

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = error_response(
            api, request, status=401, detail=_("Authentication required: send a Bearer token or log in.")
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        cause = exc.__cause__
        if exc.status_code == 400 and isinstance(cause, JSONInputError):  # too deep, NaN, NUL: say where
            return error_response(
                api,
                request,
                status=cause.status,
                detail=cause.message if cause.status == 400 else _("Some fields are not valid."),
                errors=[{"field": cause.field, "message": cause.message}],
            )
        if exc.status_code == 400 and str(exc).startswith(UNPARSABLE_BODY):
            message = _("The body is not valid JSON.")
            return error_response(
                api, request, status=400, detail=message, errors=[{"field": "body", "message": message}]
            )
        return error_response(api, request, status=exc.status_code, detail=str(exc))

    @api.exception_handler(SuspiciousOperation)
    def on_unreadable_request(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        # Django refused to read the query string or body (5,000 fields, …): a 400/413, not a 500
        status, detail = request_data_error(exc) or (400, _("The request could not be understood."))
        return error_response(api, request, status=status, detail=detail)

    @api.exception_handler(IntegrityError)
    def on_conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # services turn the conflicts they expect into field errors; this is a race they did not see
        logger.warning("API write conflict on %s %s: %s", request.method, request.path, exc)
        return error_response(
            api, request, status=409, detail=_("This conflicts with a change made at the same time. Try again.")
        )

    @api.exception_handler(Exception)
    def on_server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        # never a stack trace in a response, even with DEBUG on (ninja's default shows one)
        logger.exception("API error on %s %s", request.method, request.path)
        return error_response(api, request, status=500, detail=_("Something went wrong on our side."))
