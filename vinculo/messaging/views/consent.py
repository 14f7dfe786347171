"""Consent pages: the organisation's subscription types under Settings (owners and admins change
them), and the contact page's Consents panel, where staff record that a person withdrew.

Records are looked up inside the organisation's scope: another organisation's id answers 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vinculo.accounts.forms import add_service_errors
from vinculo.accounts.http import OrgRequest
from vinculo.accounts.permissions import can_change_record, can_manage_org, require_org_admin
from vinculo.contacts.models import Contact
from vinculo.contacts.panels import Panel, register_panel
from vinculo.contacts.selectors import contact_queryset
from vinculo.core.views import is_htmx, org_view, render_page
from vinculo.messaging.forms import SubscriptionTypeForm
from vinculo.messaging.models import SubscriptionType
from vinculo.messaging.selectors.consent import contact_consent_status, subscription_type_list
from vinculo.messaging.services import consent as services

# --- Settings: subscription types ------------------------------------------------------------------


def _render(request: OrgRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The page; an HTMX post of the form gets the form back alone (with its errors, 422)."""
    base = {"nav": "settings", "tab": "subscription_types", "can_manage": can_manage_org(request.membership)}
    partial = "type-form" if request.method == "POST" else None
    return render_page(request, template, {**base, **context}, partial=partial, status=status)


def _to_list(request: OrgRequest) -> HttpResponse:
    """Back to the list after a save; an HTMX post is told to go there (HX-Redirect)."""
    target = reverse("messaging:subscription_types", args=[request.org.slug])
    if is_htmx(request):
        return HttpResponse(status=204, headers={"HX-Redirect": target})
    return redirect(target)


def _save(
    request: OrgRequest, form: SubscriptionTypeForm, subscription_type: SubscriptionType | None
) -> SubscriptionType | None:
    """The service's answer for a valid form; None with the errors on the form otherwise."""
    if not form.is_valid():
        return None
    try:
        if subscription_type is None:
            return services.subscription_type_create(actor=request.membership, data=form.cleaned_data)
        return services.subscription_type_update(
            actor=request.membership, subscription_type=subscription_type, data=form.cleaned_data
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None


@org_view
@require_http_methods(["GET", "POST"])
def subscription_types_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = SubscriptionTypeForm(request.POST or None)
    if request.method == "POST":
        require_org_admin(request.membership)
        created = _save(request, form, None)
        if created is not None:
            messages.success(request, _("Subscription type “%(name)s” created.") % {"name": created.name})
            return _to_list(request)
        return _render(
            request, "messaging/subscription_types.html", {"form": form, "types": subscription_type_list()}, 422
        )
    return _render(request, "messaging/subscription_types.html", {"form": form, "types": subscription_type_list()})


@org_view
@require_http_methods(["GET", "POST"])
def subscription_type_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    subscription_type = get_object_or_404(SubscriptionType, pk=pk)
    initial = {f: getattr(subscription_type, f) for f in services.SUBSCRIPTION_TYPE_FIELDS}
    form = SubscriptionTypeForm(request.POST or None, initial=initial)
    context = {"form": form, "subscription_type": subscription_type}
    if request.method == "POST":
        require_org_admin(request.membership)
        saved = _save(request, form, subscription_type)
        if saved is not None:
            messages.success(request, _("Subscription type “%(name)s” saved.") % {"name": saved.name})
            return _to_list(request)
        return _render(request, "messaging/subscription_type_form.html", context, 422)
    if not can_manage_org(request.membership):
        for field in form.fields.values():
            field.disabled = True
    return _render(request, "messaging/subscription_type_form.html", context)


@org_view
@require_POST
def subscription_type_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    require_org_admin(request.membership)
    subscription_type = get_object_or_404(SubscriptionType, pk=pk)
    try:
        services.subscription_type_delete(actor=request.membership, subscription_type=subscription_type)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("messaging:subscription_type_edit", request.org.slug, subscription_type.pk)
    messages.success(request, _("Subscription type “%(name)s” deleted.") % {"name": subscription_type.name})
    return redirect("messaging:subscription_types", request.org.slug)


# --- the contact page's Consents panel ---------------------------------------------------------------


def consents_panel(request: HttpRequest, contact: Contact) -> dict[str, Any]:
    """Where the contact stands for each subscription type, with the proof of its latest answer."""
    actor = request.membership  # type: ignore[attr-defined]
    return {
        "contact": contact,
        "statuses": contact_consent_status(contact),
        "can_change": can_change_record(actor, contact),
    }


@org_view
@require_POST
def contact_consent_record_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Staff record that the person withdrew a subscription type (asked by phone, e-mail, in person)."""
    contact = get_object_or_404(contact_queryset(actor=request.membership), pk=pk)
    data = {
        "subscription_type": request.POST.get("subscription_type", ""),
        "granted": False,
        "reason": request.POST.get("reason", ""),
    }
    try:
        consent = services.contact_consent_record(actor=request.membership, contact=contact, data=data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Withdrawal from “%(name)s” recorded.") % {"name": consent.subscription_type.name})
    if is_htmx(request):
        context = {"panel": consents_panel(request, contact), "org": request.org}
        return render(request, "messaging/panel_consents.html", context)
    return redirect(reverse("contacts:contact_detail", args=[request.org.slug, contact.pk]))


def register_panels() -> None:
    register_panel(
        "contact",
        Panel(name="messaging.consents", template="messaging/panel_consents.html", loader=consents_panel, order=60),
    )
