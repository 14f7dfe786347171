"""The public pages a message links to, outside /o/<slug>/ and without login: the preference
centre (`/p/<token>/`) and the one-click unsubscribe address of List-Unsubscribe (`/u/<token>/`).
Each finds its organisation and contact by the signed token alone; a wrong token is 404."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_scopes import scope

from vinculo.accounts.throttle import client_ip
from vinculo.messaging.services import preferences as services
from vinculo.messaging.services.consent import ConsentProof
from vinculo.messaging.services.suppression import address_is_suppressed

ONE_CLICK = {"List-Unsubscribe": ["One-Click"]}


def _language(target: services.LinkTarget) -> str:
    """The contact's language, else the organisation's."""
    codes = {code for code, _name in settings.LANGUAGES}
    for language in (target.contact.language, target.organization.language):
        if language in codes:
            return language
    return settings.LANGUAGE_CODE


def _proof(request: HttpRequest, source: str) -> ConsentProof:
    return ConsentProof(source=source, ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:400])


def _page(
    request: HttpRequest,
    target: services.LinkTarget,
    *,
    saved: bool = False,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    with scope(organization=target.organization):
        context = {
            "org_name": target.organization.name,
            "rows": services.contact_preferences(target.contact),
            "action": services.contact_links(target.contact).preferences_url,
            "suppressed": bool(target.contact.email)
            and address_is_suppressed(target.organization, target.contact.email),
            "saved": saved,
            "error": error,
        }
    return render(request, "messaging/public/preferences.html", context, status=status)


@require_http_methods(["GET", "POST"])
def preferences_view(request: HttpRequest, token: str) -> HttpResponse:
    """The preference centre: the organisation's active subscription types with the contact's
    state; POST saves the boxes ticked, or unsubscribes from everything."""
    target = services.preference_link_target(token)
    if target is None:
        raise Http404
    with translation.override(_language(target)):
        if request.method == "GET":
            return _page(request, target)
        try:
            services.preferences_save(
                target=target,
                subscribed_keys=request.POST.getlist("subscribed"),
                everything=request.POST.get("everything") == "1",
                proof=_proof(request, "preference_centre"),
            )
        except ValidationError as exc:
            return _page(request, target, error=" ".join(exc.message_dict.get("subscribed", [])), status=400)
        return _page(request, target, saved=True)


@csrf_exempt  # mail providers POST without cookies (RFC 8058)
@require_http_methods(["GET", "POST"])
def one_click_view(request: HttpRequest, token: str) -> HttpResponse:
    """List-Unsubscribe: a POST whose body is exactly `List-Unsubscribe=One-Click` unsubscribes at
    once (again: 200, nothing written); any other body is 400. GET never unsubscribes (scanners
    follow links): it shows the preference centre."""
    target = services.unsubscribe_link_target(token)
    if target is None:
        raise Http404
    with translation.override(_language(target)):
        if request.method == "GET":
            return _page(request, target)
        if dict(request.POST.lists()) != ONE_CLICK:
            message = _("This address unsubscribes only with the body “List-Unsubscribe=One-Click”.")
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        services.one_click_unsubscribe(target=target, proof=_proof(request, "list_unsubscribe"))
        return HttpResponse(_("You are unsubscribed."), content_type="text/plain; charset=utf-8")


public_urlpatterns = [
    path("p/<str:token>/", preferences_view, name="preferences"),
    path("u/<str:token>/", one_click_view, name="one_click"),
]
