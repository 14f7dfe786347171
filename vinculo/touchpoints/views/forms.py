"""Web form pages: the builder (fields added, removed and moved with HTMX, a live preview), the
embed snippet and the submissions; and the public side: the hosted page
/f/<key>/, the embed script and its JSON, the submission endpoint and the double opt-in link.

Public routes find their organisation by the form's public key (or the signed confirmation link)
and run inside that organisation's scope; everything else is under /o/<org>/ like every page.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_scopes import scope

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.selectors import assignable_users
from vinculo.accounts.throttle import client_ip
from vinculo.core.json_input import JSONInputError, json_parse
from vinculo.core.request_errors import REQUEST_DATA_ERRORS, request_data_error, too_many_fields_message
from vinculo.core.views import is_htmx, org_view, render_page
from vinculo.messaging.selectors.consent import submission_consent_list, subscription_type_list
from vinculo.touchpoints.models import FormSubmission, WebForm
from vinculo.touchpoints.selectors import forms as selectors
from vinculo.touchpoints.services import forms as services

MAX_JSON_BODY = 64 * 1024

# --- the builder's state <-> the service's data ----------------------------------------------------


def _int(value: Any, default: int = 0, maximum: int = 100) -> int:
    try:
        return max(0, min(int(value), maximum))
    except (TypeError, ValueError):
        return default


def _builder_data(post: QueryDict) -> dict[str, Any]:
    """The builder form's fields as the service's data (rows `fields-<i>-<attr>`, `consents-<i>-<attr>`)."""
    fields = []
    for i in range(_int(post.get("fields-TOTAL"), maximum=services.MAX_FIELDS + 5)):
        kind = post.get(f"fields-{i}-type", "text")
        row: dict[str, Any] = {
            "name": post.get(f"fields-{i}-name", ""),
            "label": post.get(f"fields-{i}-label", ""),
            "type": kind,
            "required": post.get(f"fields-{i}-required") == "on",
            "maps_to": post.get(f"fields-{i}-maps_to", ""),
        }
        if kind == "select":
            row["options"] = [line for line in post.get(f"fields-{i}-options", "").splitlines() if line.strip()]
        fields.append(row)
    consents = [
        {
            "key": post.get(f"consents-{i}-key", ""),
            "text": post.get(f"consents-{i}-text", ""),
            "required": post.get(f"consents-{i}-required") == "on",
        }
        for i in range(_int(post.get("consents-TOTAL"), maximum=services.MAX_CONSENTS + 5))
    ]
    return {
        "name": post.get("name", ""),
        "fields": fields,
        "consents": consents,
        "submit_label": post.get("submit_label", ""),
        "success_message": post.get("success_message", ""),
        "redirect_url": post.get("redirect_url", ""),
        "double_opt_in": post.get("double_opt_in") == "on",
        "notify_owner": post.get("notify_owner") == "on",
        "owner": post.get("owner", ""),
        "allowed_origins": post.get("allowed_origins", "").split(),
        "is_active": post.get("is_active") == "on",
    }


def _form_data(form: WebForm) -> dict[str, Any]:
    return {
        "name": form.name,
        "fields": list(form.fields or []),
        "consents": list(form.consents or []),
        "submit_label": form.submit_label,
        "success_message": form.success_message,
        "redirect_url": form.redirect_url,
        "double_opt_in": form.double_opt_in,
        "notify_owner": form.notify_owner,
        "owner": str(form.owner_id or ""),
        "allowed_origins": list(form.allowed_origins or []),
        "is_active": form.is_active,
    }


NEW_FORM = {
    "name": "",
    "fields": [
        {"name": "first_name", "label": "", "type": "text", "required": False, "maps_to": "first_name"},
        {"name": "email", "label": "", "type": "email", "required": True, "maps_to": "email"},
    ],
    "consents": [],
    "submit_label": "",
    "success_message": "",
    "redirect_url": "",
    "double_opt_in": False,
    "notify_owner": True,
    "owner": "",
    "allowed_origins": [],
    "is_active": True,
}


def _apply_action(data: dict[str, Any], action: str) -> None:
    """A builder button: add, remove or move a field or a consent checkbox (no saving)."""
    verb, _sep, index = action.partition(":")
    i = _int(index, default=-1, maximum=100)
    rows_key = "consents" if verb.endswith("_consent") else "fields"
    rows = data[rows_key]
    if verb == "add_field" and len(rows) < services.MAX_FIELDS:
        rows.append({"name": "", "label": "", "type": "text", "required": False, "maps_to": ""})
    elif verb == "add_consent" and len(rows) < services.MAX_CONSENTS:
        rows.append({"key": "", "text": "", "required": False})
    elif verb in ("remove_field", "remove_consent") and 0 <= i < len(rows):
        rows.pop(i)
    elif verb in ("up_field", "up_consent") and 0 < i < len(rows):
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif verb in ("down_field", "down_consent") and 0 <= i < len(rows) - 1:
        rows[i + 1], rows[i] = rows[i], rows[i + 1]
    elif verb == "order_field":  # after a drag: every row's old index, in the new order
        order = [_int(n, default=-1) for n in index.split(",")]
        if sorted(order) == list(range(len(rows))):
            data["fields"] = [rows[n] for n in order]


def _rows(rows: list[dict[str, Any]], prefix: str, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Each row with its own errors (`fields.2.name` → row 2, `name`)."""
    out = []
    for i, row in enumerate(rows):
        mine = {
            key.removeprefix(f"{prefix}.{i}.") if key != f"{prefix}.{i}" else "row": messages
            for key, messages in errors.items()
            if key == f"{prefix}.{i}" or key.startswith(f"{prefix}.{i}.")
        }
        values = dict(row)
        if isinstance(values.get("options"), list):
            values["options_text"] = "\n".join(values["options"])
        out.append({"index": i, "values": values, "errors": mine, "last": i == len(rows) - 1})
    return out


def _builder_context(
    request: OrgRequest, data: dict[str, Any], errors: dict[str, list[str]], form: WebForm | None
) -> dict[str, Any]:
    top = {k: v for k, v in errors.items() if not k.startswith(("fields.", "consents."))}
    subscription_types = list(subscription_type_list(active_only=True))
    keys = {t.key for t in subscription_types}
    consent_rows = _rows(data["consents"], "consents", errors)
    for row in consent_rows:  # a key that is no longer an active type stays visible, with its error
        key = row["values"].get("key") if isinstance(row["values"], dict) else ""
        row["unknown_key"] = bool(key) and key not in keys
    return {
        "nav": "web_forms",
        "web_form": form,
        "data": {**data, "allowed_origins_text": "\n".join(data.get("allowed_origins") or [])},
        "errors": top,
        "form_errors": top.get("__all__", []),
        "has_errors": bool(errors),
        "field_rows": _rows(data["fields"], "fields", errors),
        "consent_rows": consent_rows,
        "field_types": list(services.FIELD_TYPES.items()),
        "mappings": [(key, label) for key, (label, _types) in services.CONTACT_MAPPINGS.items()],
        "users": list(assignable_users(organization=request.org)),
        "subscription_types": subscription_types,
    }


def _builder_page(
    request: OrgRequest,
    data: dict[str, Any],
    form: WebForm | None,
    *,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _builder_context(request, data, errors or {}, form)
    return render_page(request, "touchpoints/forms/builder.html", context, partial="builder", status=status)


def _save(request: OrgRequest, form: WebForm | None) -> HttpResponse:
    data = _builder_data(request.POST)
    action = request.POST.get("action", "save")
    if action != "save":
        _apply_action(data, action)
        return _builder_page(request, data, form)
    try:
        if form is None:
            form = services.web_form_create(actor=request.membership, data=data)
            messages.success(request, _("Form “%(name)s” created.") % {"name": form.name})
        else:
            form = services.web_form_update(actor=request.membership, form=form, data=data)
            messages.success(request, _("Form “%(name)s” saved.") % {"name": form.name})
    except ValidationError as exc:
        return _builder_page(request, data, form, errors=exc.message_dict, status=422)
    target = reverse("touchpoints:web_form_detail", args=[request.org.slug, form.pk])
    if is_htmx(request):
        return HttpResponse(status=204, headers={"HX-Redirect": target})
    return redirect(target)


# --- organisation pages --------------------------------------------------------------------------------


@org_view
@require_GET
def web_form_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    page = selectors.web_form_list(page=_int(request.GET.get("page"), default=1, maximum=10_000) or 1)
    context = {"nav": "web_forms", "page": page, "can_manage": services.can_manage_forms(request.membership)}
    return render(request, "touchpoints/forms/list.html", context)


@org_view
@require_http_methods(["GET", "POST"])
def web_form_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    services.require_form_manager(request.membership)
    if request.method == "GET":
        data = json.loads(json.dumps(NEW_FORM))
        data["fields"][0]["label"] = _("First name")
        data["fields"][1]["label"] = _("E-mail")
        data["owner"] = str(request.user.pk)
        return _builder_page(request, data, None)
    return _save(request, None)


@org_view
@require_http_methods(["GET", "POST"])
def web_form_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    form = selectors.web_form_get(pk=pk)
    services.require_form_manager(request.membership)
    if request.method == "GET":
        return _builder_page(request, _form_data(form), form)
    return _save(request, form)


@org_view
@require_POST
def web_form_builder_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """An HTMX builder button (add/remove/move a row): the builder again, nothing saved."""
    services.require_form_manager(request.membership)
    data = _builder_data(request.POST)
    _apply_action(data, request.POST.get("action", ""))
    context = _builder_context(request, data, {}, None)
    response = render(request, "touchpoints/forms/builder.html#rows", context)
    response["HX-Trigger"] = "builder-changed"  # the preview follows
    return response


@org_view
@require_POST
def web_form_preview_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """The live preview: the form as visitors will see it, from the builder's unsaved state."""
    data = _builder_data(request.POST)
    preview = WebForm(
        name=data["name"],
        fields=[f for f in data["fields"] if isinstance(f, dict)],
        consents=[dict(c, version="") for c in data["consents"]],
        submit_label=data["submit_label"][:60],
    )
    context = {"spec": _spec(preview), "preview": True, "org_name": request.org.name}
    return render(request, "touchpoints/forms/_public_form.html", context)


@org_view
@require_GET
def web_form_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    form = selectors.web_form_get(pk=pk)
    hosted_url = request.build_absolute_uri(reverse("public:web_form_hosted", args=[form.public_key]))
    script_url = request.build_absolute_uri(reverse("public:web_form_embed_script"))
    snippet = f'<div data-vinculo-form="{form.public_key}"></div>\n<script async src="{script_url}"></script>'
    recent = list(selectors.form_submission_queryset().filter(form=form)[:5])
    context = {
        "nav": "web_forms",
        "web_form": form,
        "hosted_url": hosted_url,
        "snippet": snippet,
        "recent": recent,
        "can_manage": services.can_manage_forms(request.membership),
    }
    return render(request, "touchpoints/forms/detail.html", context)


@org_view
@require_http_methods(["GET", "POST"])
def web_form_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    form = selectors.web_form_get(pk=pk)
    services.require_form_manager(request.membership)
    list_url = reverse("touchpoints:web_form_list", args=[request.org.slug])
    if request.method == "POST":
        services.web_form_delete(actor=request.membership, form=form)
        messages.success(request, _("Form “%(name)s” deleted.") % {"name": form.name})
        return redirect(list_url)
    context = {
        "nav": "web_forms",
        "object": form,
        "title": _("Delete form"),
        "question": _(
            "Delete the form “%(name)s” and its submissions? Contacts and their consents (with their proof) stay."
        )
        % {"name": form.name},
        "cancel_url": reverse("touchpoints:web_form_detail", args=[request.org.slug, form.pk]),
    }
    return render(request, "confirm_delete.html", context)


@org_view
@require_GET
def web_form_submissions_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    form = selectors.web_form_get(pk=pk)
    status = request.GET.get("status", "")
    page = selectors.form_submission_list(
        form=form, status=status, page=_int(request.GET.get("page"), default=1, maximum=10_000) or 1
    )
    context = {
        "nav": "web_forms",
        "web_form": form,
        "page": page,
        "status": status if status in FormSubmission.Status.values else "",
        "statuses": FormSubmission.Status.choices,
    }
    return render_page(request, "touchpoints/forms/submissions.html", context, partial="rows")


def _submission_page(
    request: OrgRequest, submission: FormSubmission, *, errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    labels = {s["name"]: s["label"] for s in submission.form.fields or []}
    rows = [(labels.get(k, k), k, v) for k, v in submission.data.items() if k != "_spam"]
    consents = submission_consent_list(submission_ref=submission.pk)
    context = {
        "nav": "web_forms",
        "submission": submission,
        "rows": rows,
        "consents": consents,
        "can_manage": services.can_manage_forms(request.membership),
        "errors": errors or [],
    }
    return render(request, "touchpoints/forms/submission_detail.html", context, status=status)


@org_view
@require_GET
def form_submission_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    return _submission_page(request, selectors.form_submission_get(pk=pk))


@org_view
@require_POST
def form_submission_not_spam_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """ "Not spam": the submission is processed as a normal one; a second click changes nothing."""
    submission = selectors.form_submission_get(pk=pk)
    try:
        result = services.submission_not_spam(actor=request.membership, submission=submission)
    except ValidationError as exc:
        labels = {s["name"]: s["label"] for s in submission.form.fields or []}
        errors = [
            f"{labels.get(field, field)}: {message}" if field != "__all__" else message
            for field, field_messages in exc.message_dict.items()
            for message in field_messages
        ]
        return _submission_page(request, selectors.form_submission_get(pk=pk), errors=errors, status=422)
    if result.status == "unchanged":
        messages.info(request, _("This submission is not marked as spam: nothing to do."))
    else:
        messages.success(request, _("Marked as not spam: the submission was processed."))
    return redirect("touchpoints:form_submission_detail", request.org.slug, submission.pk)


# --- public: the form as visitors see it ------------------------------------------------------------------


def _spec(
    form: WebForm, values: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """What the public form template needs: each field and checkbox with its value and errors."""
    values, errors = values or {}, errors or {}
    prefix = f"vf-{form.public_key or 'preview'}"
    fields = []
    for spec in form.fields or []:
        name = str(spec.get("name") or "")
        value = values.get(name, "")
        fields.append(
            {
                **spec,
                "id": f"{prefix}-{name}",
                "value": value if isinstance(value, str) else "",
                "checked": isinstance(value, str) and value.lower() in services.CHECKED,
                "errors": errors.get(name, []),
            }
        )
    consents = []
    for spec in form.consents or []:
        name = f"consent.{spec.get('key', '')}"
        value = values.get(name, "")
        consents.append(
            {
                **spec,
                "name": name,
                "id": f"{prefix}-consent-{spec.get('key', '')}",
                "checked": isinstance(value, str) and value.lower() in services.CHECKED,
                "errors": errors.get(name, []),
            }
        )
    return {
        "name": form.name,
        "public_key": form.public_key,
        "fields": fields,
        "consents": consents,
        "form_errors": errors.get("__all__", []),
        "has_errors": bool(errors),
        "submit_label": form.submit_label or _("Send"),
        "honeypot": services.HONEYPOT,
        "prefix": prefix,
    }


def _language(request: HttpRequest) -> str:
    """?lang=es wins; then the browser's Accept-Language (LocaleMiddleware); then the default."""
    asked = request.GET.get("lang") or request.POST.get("_lang") or ""
    codes = {code for code, _name in settings.LANGUAGES}
    if asked in codes:
        return asked
    current = translation.get_language_from_request(request, check_path=False)
    return current if current in codes else settings.LANGUAGE_CODE


def _origin_of_site(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}".lower()


def _origin_allowed(request: HttpRequest, form: WebForm) -> bool:
    """No Origin (not a browser), the hosted page's own origin, or one the form allows."""
    origin = request.headers.get("Origin", "")
    if not origin:
        return True
    origin = origin.lower().rstrip("/")
    return origin == _origin_of_site(request) or origin in (form.allowed_origins or [])


def _cors(request: HttpRequest, response: HttpResponse, form: WebForm) -> HttpResponse:
    origin = request.headers.get("Origin", "").rstrip("/")
    if origin and origin.lower() in (form.allowed_origins or []):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
    patch_vary_headers(response, ("Origin",))
    return response


def _preflight(request: HttpRequest, form: WebForm) -> HttpResponse:
    origin = request.headers.get("Origin", "").rstrip("/").lower()
    if not origin or origin not in (form.allowed_origins or []):
        response = JsonResponse({"detail": _("This origin may not use this form."), "errors": []}, status=403)
        patch_vary_headers(response, ("Origin",))
        return response
    return _cors(request, HttpResponse(status=204), form)


@cache
def _embed_script() -> bytes:
    found = finders.find("touchpoints/forms.js")
    if not found:
        raise Http404
    return Path(str(found)).read_bytes()


@require_GET
def web_form_embed_script_view(request: HttpRequest) -> HttpResponse:
    """/f/embed.js: the script that renders `<div data-vinculo-form="KEY">` on the host page."""
    response = HttpResponse(_embed_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _hosted_context(
    request: HttpRequest, form: WebForm, *, values: dict[str, Any] | None = None, errors: dict[str, Any] | None = None
) -> dict[str, Any]:
    language = translation.get_language()
    return {
        "spec": _spec(form, values, errors),
        "org_name": form.organization.name,
        "action": reverse("public:web_form_submit", args=[form.public_key]),
        "fill_token": services.fill_token(form),
        "page_url": request.build_absolute_uri(),
        "language": language,
    }


def _thank_you_origin(url: str) -> str:
    """scheme://host[:port] of the form's thank-you address, as a policy source ("" if none or odd)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port
    except (ValueError, UnicodeError):
        return ""
    if parts.scheme not in ("http", "https") or not re.fullmatch(r"[a-z0-9.-]+", host):
        return ""
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _hosted_page(request: HttpRequest, response: HttpResponse, form: WebForm) -> HttpResponse:
    """The hosted page's Content-Security-Policy: the strict one of every page, plus the origin of
    the form's thank-you address in form-action, as the browser holds the redirect that follows a
    submission to the form-action of the page that sent it."""
    origin = _thank_you_origin(form.redirect_url)
    if origin:

        def page(_request: HttpRequest) -> HttpResponse:
            return response

        csp_update({"form-action": [origin]})(page)(request)  # marks this response for the middleware
    return response


@require_GET
def web_form_hosted_view(request: HttpRequest, public_key: str) -> HttpResponse:
    form = selectors.web_form_by_public_key(public_key)
    if wait := services.view_retry_after(client_ip(request), form=form):
        return _too_many(request, wait, org_name=form.organization.name)
    with translation.override(_language(request)), scope(organization=form.organization):
        response = render(request, "touchpoints/forms/hosted.html", _hosted_context(request, form))
    patch_vary_headers(response, ("Accept-Language",))
    response["Cache-Control"] = "no-store"
    return _hosted_page(request, response, form)


@csrf_exempt
@require_http_methods(["GET", "OPTIONS"])
def web_form_embed_view(request: HttpRequest, public_key: str) -> HttpResponse:
    """The form for the embed script: its HTML (with a fresh fill token) and what to do after."""
    form = selectors.web_form_by_public_key(public_key)
    if request.method == "OPTIONS":
        return _preflight(request, form)
    if not _origin_allowed(request, form):
        return _cors(
            request, JsonResponse({"detail": _("This origin may not use this form."), "errors": []}, status=403), form
        )
    if wait := services.view_retry_after(client_ip(request), form=form):
        return _cors(request, _too_many(request, wait, as_json=True), form)
    with translation.override(_language(request)), scope(organization=form.organization):
        context = _hosted_context(request, form)
        context["page_url"] = ""
        context["action"] = request.build_absolute_uri(context["action"])
        html = render(request, "touchpoints/forms/_public_form.html", context).content.decode()
        body = {
            "html": html,
            "action": context["action"],
            "success_message": form.success_message or _("Thank you! We have received your details."),
            "redirect_url": form.redirect_url,
            "network_error": _("The form could not be sent. Please try again."),
        }
    response = _cors(request, JsonResponse(body), form)
    response["Cache-Control"] = "no-store"
    return response


class _Unreadable(Exception):
    """Submitted data refused before the form sees it: a JSON body over MAX_JSON_BODY (a form of 30
    fields never needs that much: 413), or more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS, in any
    encoding (400; Django refuses to parse such a form body and would answer its bare HTML 400)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _wants_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get("Accept", "")


def _submitted_data(request: HttpRequest) -> dict[str, Any] | None:
    """The submitted fields; None when a JSON body is malformed. Raises _Unreadable."""
    if request.content_type == "application/json":
        if len(request.body) > MAX_JSON_BODY:
            raise _Unreadable(413, _("The form data is too large."))
        try:
            data = json_parse(request.body or b"{}")
        except JSONInputError:
            return None
        if not isinstance(data, dict):
            return None
        if len(data) > settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:
            raise _Unreadable(400, too_many_fields_message())
        return data
    try:
        return {key: request.POST.get(key) for key in request.POST}
    except REQUEST_DATA_ERRORS as exc:
        status, message = request_data_error(exc) or (400, too_many_fields_message())
        raise _Unreadable(status, message) from None


def _too_many(request: HttpRequest, wait: int, *, org_name: str = "", as_json: bool = False) -> HttpResponse:
    """429: JSON for the embed, a polite page for people."""
    message = _("Too many requests from your address. Please try again in a few minutes.")
    response: HttpResponse
    if as_json:
        response = JsonResponse({"detail": message, "errors": []}, status=429)
    else:
        response = render(
            request, "touchpoints/forms/message.html", {"org_name": org_name, "message": message}, status=429
        )
    response["Retry-After"] = str(wait)
    return response


def _json_errors(errors: dict[str, list[str]]) -> list[dict[str, str]]:
    return [{"field": key, "message": str(message)} for key, messages in errors.items() for message in messages]


@csrf_exempt  # posted cross-origin by the embed; the fill token and the origin check guard it
@require_http_methods(["POST", "OPTIONS"])
def web_form_submit_view(request: HttpRequest, public_key: str) -> HttpResponse:
    form = selectors.web_form_by_public_key(public_key)
    if request.method == "OPTIONS":
        return _preflight(request, form)
    wants_json = _wants_json(request)
    try:
        data = _submitted_data(request)
    except _Unreadable as exc:
        if wants_json:
            return _cors(request, JsonResponse({"detail": exc.message, "errors": []}, status=exc.status), form)
        context = {"org_name": form.organization.name, "message": exc.message}  # in the browser's language
        return render(request, "touchpoints/forms/message.html", context, status=exc.status)
    language = _language(request)
    with translation.override(language), scope(organization=form.organization):
        if not _origin_allowed(request, form):
            body = {"detail": _("This origin may not use this form."), "errors": []}
            return _cors(request, JsonResponse(body, status=403), form)
        wait = services.submission_retry_after(form, client_ip(request))
        if wait:
            message = _("Too many submissions from your address. Please try again in a few minutes.")
            response: HttpResponse
            if wants_json:
                response = JsonResponse({"detail": message, "errors": []}, status=429)
            else:
                response = render(
                    request,
                    "touchpoints/forms/message.html",
                    {"org_name": form.organization.name, "message": message},
                    status=429,
                )
            response["Retry-After"] = str(wait)
            return _cors(request, response, form)
        if data is None:
            body = {"detail": _("Send a JSON object of field names and values."), "errors": []}
            return _cors(request, JsonResponse(body, status=400), form)
        meta = services.SubmissionMeta(
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:400],
            page_url=str(data.get("_page") or request.headers.get("Referer", "") or ""),
            language=str(data.get("_lang") or language),
        )
        result = services.form_submit(form=form, data=data, meta=meta)
        if result.status == "invalid":
            if wants_json:
                invalid: dict[str, Any] = {
                    "detail": _("Please correct the fields marked."),
                    "errors": _json_errors(result.errors),
                }
                return _cors(request, JsonResponse(invalid, status=422), form)
            values = {k: v for k, v in data.items() if isinstance(v, str)}
            context = _hosted_context(request, form, values=values, errors=result.errors)
            context["page_url"] = meta.page_url
            if services.fill_age(form, data.get("_ts")) is not None:
                context["fill_token"] = data["_ts"]  # the form was shown then: no new wait to correct it
            page = render(request, "touchpoints/forms/hosted.html", context, status=422)
            return _hosted_page(request, page, form)
        message = form.success_message or _("Thank you! We have received your details.")
        if result.status == FormSubmission.Status.PENDING:
            message = _("Thank you! Please check your inbox: we sent you a link to confirm your e-mail address.")
        if wants_json:
            body = {"detail": message, "status": "ok", "redirect_url": form.redirect_url}
            return _cors(request, JsonResponse(body, status=200), form)
        if form.redirect_url and result.status != FormSubmission.Status.PENDING:
            return redirect(form.redirect_url)
        return render(
            request,
            "touchpoints/forms/message.html",
            {"org_name": form.organization.name, "message": message, "thanks": True},
        )


@require_http_methods(["GET", "POST"])
def web_form_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """The double opt-in link. GET shows a button (mail scanners follow links); POST confirms."""
    language = _language(request)
    with translation.override(language):
        if wait := services.view_retry_after(client_ip(request)):
            return _too_many(request, wait)
        try:
            submission = services.submission_for_token(token)
        except services.ConfirmationExpired:
            message = _("This confirmation link has expired. Please fill in the form again.")
            return render(request, "touchpoints/forms/message.html", {"message": message, "expired": True}, status=410)
        if submission is None:
            raise Http404
        with scope(organization=submission.organization):
            context: dict[str, Any] = {"org_name": submission.organization.name, "token": token}
            if request.method == "GET":
                context["already"] = submission.status == FormSubmission.Status.CONFIRMED
                return render(request, "touchpoints/forms/confirm.html", context)
            services.submission_confirm(submission=submission)
            context["message"] = _("Thank you! Your e-mail address is confirmed.")
            context["thanks"] = True
            return render(request, "touchpoints/forms/message.html", context)


urlpatterns = [
    path("web-forms/", web_form_list_view, name="web_form_list"),
    path("web-forms/new/", web_form_create_view, name="web_form_create"),
    path("web-forms/builder/", web_form_builder_view, name="web_form_builder"),
    path("web-forms/preview/", web_form_preview_view, name="web_form_preview"),
    path("web-forms/<int:pk>/", web_form_detail_view, name="web_form_detail"),
    path("web-forms/<int:pk>/edit/", web_form_edit_view, name="web_form_edit"),
    path("web-forms/<int:pk>/delete/", web_form_delete_view, name="web_form_delete"),
    path("web-forms/<int:pk>/submissions/", web_form_submissions_view, name="web_form_submissions"),
    path("form-submissions/<int:pk>/", form_submission_detail_view, name="form_submission_detail"),
    path("form-submissions/<int:pk>/not-spam/", form_submission_not_spam_view, name="form_submission_not_spam"),
]

public_urlpatterns = [
    path("f/embed.js", web_form_embed_script_view, name="web_form_embed_script"),
    path("f/confirm/<str:token>/", web_form_confirm_view, name="web_form_confirm"),
    path("f/<str:public_key>/", web_form_hosted_view, name="web_form_hosted"),
    path("f/<str:public_key>/embed", web_form_embed_view, name="web_form_embed"),
    path("f/<str:public_key>/submit", web_form_submit_view, name="web_form_submit"),
]
