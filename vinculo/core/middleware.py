"""Request-level guards that apply before any view runs."""

from __future__ import annotations

import io
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from vinculo.core.chunked_body import BODY_OVER_LIMIT, body_limit

# machine clients (the API, webhooks) get the JSON error shape; people get a plain sentence
JSON_PATHS = ("/api/", "/hooks/")


class BodySizeLimitMiddleware:
    """Refuse oversized bodies with 413 before they are read (API: JSON error shape): a declared
    Content-Length over the limit, or a chunked body found longer (vinculo.core.chunked_body).

    A path with a larger limit of its own has its body read here, within that limit: Django would
    otherwise refuse it against the general DATA_UPLOAD_MAX_MEMORY_SIZE when the view reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        message = ""
        general = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit and general and length > general and length <= limit:
            request._body = request.read()  # type: ignore[attr-defined]  # read within this path's own limit
            request._stream = io.BytesIO(request._body)  # type: ignore[attr-defined]
        if limit and length > limit:
            message = _("The request body is too large (%(size)s bytes; the limit is %(limit)s).") % {
                "size": length,
                "limit": limit,
            }
        elif request.META.get(BODY_OVER_LIMIT):
            message = _("The request body is too large (more than %(limit)s bytes).") % {"limit": limit}
        if message:
            if request.path.startswith(JSON_PATHS):
                return JsonResponse({"detail": message, "errors": []}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
