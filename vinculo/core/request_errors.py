"""Requests Django refuses while reading them, answered in the shape the client expects.

Django reads request data lazily: the first read of request.GET, request.POST or request.FILES
raises TooManyFieldsSent (more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS), TooManyFilesSent, or
RequestDataTooBig (a body past DATA_UPLOAD_MAX_MEMORY_SIZE found while parsing it). They are
SuspiciousOperation, which Django answers through handler400: by default a bare HTML page, to an
API client too. `request_data_error` says what is wrong (a status and a sentence) once for every
place that answers: the 400 handler (`bad_request_view`, config/urls.py), the API's error handlers
and the public web-form endpoint.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

from vinculo.core.middleware import JSON_PATHS

REQUEST_DATA_ERRORS = (TooManyFieldsSent, TooManyFilesSent, RequestDataTooBig)


def too_many_fields_message() -> str:
    return _("Too many fields: at most %(n)s.") % {"n": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}


def request_data_error(exc: BaseException) -> tuple[int, str] | None:
    """(status, message) for a request whose data Django refused to read; None for anything else."""
    if isinstance(exc, TooManyFieldsSent):
        return 400, too_many_fields_message()
    if isinstance(exc, TooManyFilesSent):
        return 400, _("Too many files: at most %(n)s.") % {"n": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return 413, _("The request body is too large (more than %(limit)s bytes).") % {"limit": limit}
    return None


def wants_json(request: HttpRequest) -> bool:
    """A machine client: the API and webhooks, or a request that asks for JSON and not a page."""
    accept = request.headers.get("Accept", "")
    return request.path.startswith(JSON_PATHS) or ("application/json" in accept and "text/html" not in accept)


def bad_request_view(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: the JSON error shape for machine clients, the 400 page for people. Only a
    request-data error is explained; any other bad request (a forged Host header, …) says no more
    than that, and its page is rendered without the request, which may not be trusted."""
    problem = request_data_error(exception)
    status, reason = problem or (400, _("The request could not be understood."))
    if wants_json(request):
        return JsonResponse({"detail": reason, "errors": []}, status=status)
    body = loader.get_template("400.html").render({"reason": reason}, request if problem else None)
    return HttpResponse(body, status=status)
