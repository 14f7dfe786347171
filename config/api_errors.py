"""Every API error is `{"detail": …, "errors": [{"field": …, "message": …}]}` with the right status."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError


def _field_of(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload", "filters")]
    # ninja puts the parameter name first for body schemas (e.g. ["body", "payload", "email"])
    return ".".join(parts) or "__all__"


def _clean_message(message: str) -> str:
    return message.removeprefix("Value error, ")


def error_response(
    api: NinjaAPI, request: HttpRequest, *, status: int, detail: str, errors: list[dict[str, str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


def django_validation_errors(exc: DjangoValidationError) -> list[dict[str, str]]:
    if hasattr(exc, "error_dict"):
        return [{"field": field, "message": str(m)} for field, errs in exc.message_dict.items() for m in errs]
    return [{"field": "__all__", "message": str(m)} for m in exc.messages]


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = []
        for err in exc.errors:
            if err.get("type") == "json_invalid" or (
                "JSON" in str(err.get("msg", ""))
                and err.get("loc", [None])[0] == "body"
                and len(err.get("loc", [])) <= 1
            ):
                return error_response(
                    api,
                    request,
                    status=400,
                    detail=_("The body is not valid JSON."),
                    errors=[{"field": "body", "message": _clean_message(str(err.get("msg", "")))}],
                )
            errors.append({"field": _field_of(err.get("loc", [])), "message": _clean_message(str(err.get("msg", "")))})
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
        return error_response(api, request, status=exc.status_code, detail=str(exc))
