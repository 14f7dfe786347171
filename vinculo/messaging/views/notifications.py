"""The member's notifications: the bell's menu (HTMX), the page listing them all, opening one (which
marks it read and goes to its record), marking one or all read, and the channel of each kind.

A member only ever reaches their own notifications in the organisation: another member's, or
another organisation's, answers 404 like a missing one."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vinculo.accounts.forms import add_service_errors
from vinculo.accounts.http import OrgRequest
from vinculo.core.pagination import requested_page
from vinculo.core.views import is_htmx, local_url, org_view, render_page
from vinculo.messaging.models import Notification
from vinculo.messaging.notification_kinds import NotificationChannel, notification_kind_list
from vinculo.messaging.selectors import notifications as selectors
from vinculo.messaging.services import notifications as services

ORDERS = {"newest": gettext_lazy("Newest first"), "unread": gettext_lazy("Unread first")}


def _notification(request: OrgRequest, pk: int) -> Notification:
    """One of the member's own notifications; 404 for anyone else's, here or elsewhere."""
    found = selectors.notification_queryset(actor=request.membership).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _list_url(request: OrgRequest) -> str:
    return reverse("messaging:notification_list", args=[request.org.slug])


def _bell(request: OrgRequest) -> HttpResponse:
    """The bell's menu: the latest few, with the unread count (also swapped into the badge)."""
    context = {
        "latest": selectors.notification_latest(actor=request.membership),
        "unread_count": selectors.notification_unread_count(actor=request.membership),
    }
    return render_page(request, "messaging/notifications/_bell_menu.html", context)


@org_view
@require_GET
def notification_bell_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _bell(request)


@org_view
@require_GET
def notification_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    order = request.GET.get("order", "newest")
    if order not in ORDERS:
        order = "newest"
    unread_only = request.GET.get("unread") == "1"
    page = selectors.notification_list(
        actor=request.membership,
        order=cast(selectors.Order, order),
        unread_only=unread_only,
        page=requested_page(request),
    )
    query = f"order={order}" + ("&unread=1" if unread_only else "")
    context: dict[str, Any] = {
        "nav": "notifications",
        "page": page,
        "order": order,
        "orders": ORDERS,
        "unread_only": unread_only,
        "query": query,
        "unread_count": selectors.notification_unread_count(actor=request.membership),
    }
    return render_page(request, "messaging/notifications/list.html", context, partial="results")


@org_view
@require_GET
def notification_open_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Opening a notification marks it read and goes to what it is about."""
    notification = services.notification_mark_read(actor=request.membership, notification=_notification(request, pk))
    return redirect(local_url(request, notification.url) or _list_url(request))


@org_view
@require_POST
def notification_read_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    notification = services.notification_mark_read(actor=request.membership, notification=_notification(request, pk))
    if is_htmx(request):
        context = {"n": notification, "unread_count": selectors.notification_unread_count(actor=request.membership)}
        return render_page(request, "messaging/notifications/_item.html", context)
    return redirect(_list_url(request))


@org_view
@require_POST
def notification_read_all_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    marked = services.notification_mark_all_read(actor=request.membership)
    if is_htmx(request):
        if request.POST.get("from") == "bell":
            return _bell(request)
        return HttpResponse(status=204, headers={"HX-Redirect": _list_url(request)})
    if marked:
        messages.success(request, _("All notifications marked read."))
    return redirect(_list_url(request))


# --- channels per kind -----------------------------------------------------------------------------


class NotificationSettingsForm(forms.Form):
    """One choice per notification kind: in the app, by e-mail, both, or not at all."""

    def __init__(self, *args: Any, initial_channels: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in notification_kind_list():
            self.fields[kind.key] = forms.ChoiceField(
                label=str(kind.label),
                help_text=str(kind.description),
                choices=NotificationChannel.choices,
                initial=initial_channels.get(kind.key, kind.default_channel),
                widget=forms.Select(attrs={"class": "form-select"}),
            )


@org_view
@require_http_methods(["GET", "POST"])
def notification_settings_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    current = selectors.notification_preferences(actor=request.membership)
    form = NotificationSettingsForm(request.POST or None, initial_channels=current)
    status = 200
    if request.method == "POST":
        valid = form.is_valid()
        unknown = sorted(set(request.POST) - set(form.fields) - {"csrfmiddlewaretoken"})
        if unknown:
            form.add_error(None, _("There is no notification kind “%(kind)s”.") % {"kind": unknown[0]})
        elif valid:
            try:
                services.notification_preferences_update(actor=request.membership, data=form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Your notification settings are saved."))
                target = reverse("messaging:notification_settings", args=[request.org.slug])
                if is_htmx(request):
                    return HttpResponse(status=204, headers={"HX-Redirect": target})
                return redirect(target)
        status = 422
    context = {"nav": "notifications", "form": form}
    return render_page(
        request, "messaging/notifications/settings.html", context, partial="settings-form", status=status
    )
