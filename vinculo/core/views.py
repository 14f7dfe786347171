"""What every organisation page shares: HTMX-aware rendering and the 403 page for a refused role.

Views parse the request, call a selector or a service and render the page, or only the named
partial when HTMX asks (`template.html#partial`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

View = Callable[..., HttpResponse]


def is_htmx(request: HttpRequest) -> bool:
    """An HTMX request that wants a fragment (a history restore wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page, or only `partial` of it for HTMX. Varies on HX-Request so caches keep both apart."""
    name = f"{template}#{partial}" if partial and is_htmx(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    message = str(exc) or _("You are not allowed to do this.")
    if is_htmx(request):
        return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
    return render(request, "forbidden.html", {"message": message}, status=403)


def bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def org_view(view: View) -> View:
    """A page under /o/<org>/: a role that may not do something gets the 403 page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return forbidden(request, exc)

    return wrapper


def favicon(request: HttpRequest) -> HttpResponse:
    """`/favicon.ico`, asked for by browsers on pages that name no icon (a PDF, a feed): the app icon."""
    return HttpResponsePermanentRedirect(staticfiles_storage.url("vinculo/favicon-32.png"))


def asks_for_json(request: HttpRequest) -> bool:
    """A page's own script asking for a JSON answer (Accept: application/json) instead of a page."""
    return "application/json" in request.headers.get("Accept", "")


def validation_error_items(exc: ValidationError) -> list[dict[str, str]]:
    """A service's ValidationError as the API's error items: [{"field": …, "message": …}]."""
    if hasattr(exc, "error_dict"):
        return [{"field": key, "message": str(m)} for key, msgs in exc.message_dict.items() for m in msgs]
    return [{"field": "__all__", "message": str(m)} for m in exc.messages]


def local_url(request: HttpRequest, target: str | None) -> str | None:
    """`target` when it is a path of this site (a `next`, a stored link), else None: never another
    host, another scheme, or a scheme-relative `//host/…`."""
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return None


def safe_next(request: HttpRequest, fallback: str = "") -> str:
    """Where a form asked to go afterwards (`next` in the POST, else the query string), if it is a
    path of this site; else `fallback`."""
    return local_url(request, request.POST.get("next") or request.GET.get("next")) or fallback
