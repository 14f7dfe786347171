"""Integration pages (settings: the webhook sources, their secrets and deliveries), the contact's
social profiles, and the public webhook endpoint `/hooks/<token>/`.

Integrations are for owners and admins only: whoever holds an integration's secret writes orders
and contacts into the organisation. Social profiles are edited by whoever may change the contact.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.permissions import can_change_record, require_org_admin
from vinculo.accounts.throttle import client_ip
from vinculo.contacts.models import Contact
from vinculo.contacts.panels import Panel, register_panel
from vinculo.contacts.selectors import contact_queryset
from vinculo.core.forms import ServiceErrorsMixin, StyledFormMixin
from vinculo.core.pagination import paginate
from vinculo.core.views import org_view, render_page
from vinculo.touchpoints import crypto
from vinculo.touchpoints.adapters import facebook
from vinculo.touchpoints.crypto import SecretUnreadable
from vinculo.touchpoints.models import Integration, IntegrationKind, LeadFetch, SocialProfile, WebhookDelivery
from vinculo.touchpoints.selectors import integrations as selectors
from vinculo.touchpoints.services import integrations as services
from vinculo.touchpoints.services import lead_fetch, social_leads
from vinculo.touchpoints.services import webhooks as hooks

RECENT_FETCHES = 50

# --- forms -----------------------------------------------------------------------------------------


def _mapping_text(mapping: dict[str, str]) -> str:
    return "\n".join(f"{source} = {target}" for source, target in mapping.items())


class IntegrationForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    # the service checks the value (one message for an unknown kind, the service's)
    kind = forms.CharField(
        label=gettext_lazy("Kind"), required=False, widget=forms.Select(choices=[("", "—"), *IntegrationKind.choices])
    )
    name = forms.CharField(
        label=gettext_lazy("Name"), required=False, widget=forms.TextInput(attrs={"maxlength": "100"})
    )
    secret = forms.CharField(
        label=gettext_lazy("Signing secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy(
            "Shopify, Facebook and LinkedIn sign with their own secret: paste it here. "
            "Leave empty to keep the current one (or, for a new integration, to have one generated)."
        ),
    )
    access_token = forms.CharField(
        label=gettext_lazy("Access token"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Facebook and LinkedIn lead ads: the Page access token (Facebook) or access token (LinkedIn) "
            "that leads are read with. Stored encrypted and never shown again; leave empty to keep the "
            "current one."
        ),
    )
    default_campaign = forms.CharField(
        label=gettext_lazy("Campaign"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": "100"}),
        help_text=gettext_lazy("Lead ads: recorded when the lead does not name its campaign."),
    )
    field_mapping = forms.CharField(
        label=gettext_lazy("Field mapping"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Lead ads: one “form field = contact field” per line, e.g. “preferred_city = city” or "
            "“budget = custom.budget”; “field =” ignores a field. Added to the standard mapping."
        ),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False)

    def __init__(self, *args: Any, creating: bool = True, kind: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["kind"]
            if kind not in services.LEAD_KINDS:
                del self.fields["access_token"]

    @staticmethod
    def initial_for(integration: Integration) -> dict[str, Any]:
        return {
            "name": integration.name,
            "default_campaign": integration.default_campaign,
            "field_mapping": _mapping_text(integration.field_mapping or {}),
            "is_active": integration.is_active,
        }

    def service_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            name: self.cleaned_data.get(name, "")
            for name in ("name", "secret", "access_token", "default_campaign")
            if name in self.fields
        }
        if "kind" in self.fields:
            data["kind"] = self.cleaned_data.get("kind", "")
        data["is_active"] = bool(self.cleaned_data.get("is_active"))
        mapping: dict[str, str] = {}
        for line in (self.cleaned_data.get("field_mapping") or "").splitlines():
            if line.strip():
                source, _sep, target = line.partition("=")
                mapping[source.strip()] = target.strip()
        data["field_mapping"] = mapping
        return data


class SocialProfileForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    network = forms.ChoiceField(
        label=gettext_lazy("Network"), required=False, choices=[(n, n.capitalize()) for n in social_leads.NETWORKS]
    )
    url = forms.CharField(
        label=gettext_lazy("Address"),
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://www.linkedin.com/in/…", "maxlength": "500"}),
    )
    handle = forms.CharField(
        label=gettext_lazy("User name"), required=False, widget=forms.TextInput(attrs={"maxlength": "150"})
    )

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name, "") for name in ("network", "url", "handle")}


# --- integrations ------------------------------------------------------------------------------------


def _list_url(request: OrgRequest) -> str:
    return reverse("touchpoints:integration_list", args=[request.org.slug])


def webhook_url(request: HttpRequest, integration: Integration) -> str:
    return request.build_absolute_uri(reverse("public:webhook", args=[integration.token]))


@org_view
@require_GET
def integration_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    require_org_admin(request.membership)
    context = {"integrations": list(selectors.integration_list()), "nav": "integrations"}
    return render_page(request, "touchpoints/integrations/list.html", context)


def _form_page(
    request: OrgRequest, form: IntegrationForm, integration: Integration | None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "integration": integration, "nav": "integrations"}
    return render_page(request, "touchpoints/integrations/form.html", context, status=status)


def _detail_page(request: OrgRequest, integration: Integration, *, secret: str = "", status: int = 200) -> HttpResponse:
    number = request.GET.get("page", "1")
    page = paginate(
        selectors.delivery_list(integration=integration),
        page=int(number) if number.isdigit() and 0 < int(number) <= 10_000 else 1,
        per_page=50,
    )
    verify_token = ""
    lead_ads = integration.kind in services.LEAD_KINDS
    if integration.kind == IntegrationKind.FACEBOOK_LEADS:
        try:
            verify_token = facebook.verify_token(services.integration_secret(integration))
        except SecretUnreadable:
            verify_token = ""
    context = {
        "integration": integration,
        "webhook_url": webhook_url(request, integration),
        "secret": secret,
        "verify_token": verify_token,
        "page": page,
        "lead_ads": lead_ads,
        "token_status": services.token_status(integration),
        "token_help": lead_fetch.token_help(integration.kind),
        "fetches": list(selectors.lead_fetch_list(integration=integration)[:RECENT_FETCHES]) if lead_ads else [],
        "fetch_counts": selectors.lead_fetch_counts(integration) if lead_ads else {},
        "nav": "integrations",
    }
    return render_page(request, "touchpoints/integrations/detail.html", context, partial="deliveries", status=status)


def _secret_key(integration: Integration) -> str:
    return f"touchpoints-integration-secret-{integration.pk}"


def _show_secret_once(request: OrgRequest, integration: Integration, secret: str) -> HttpResponse:
    """Redirect to the integration's page, which shows the new secret once (then forgets it): a
    reload cannot create another integration, and the session only holds the secret encrypted."""
    request.session[_secret_key(integration)] = crypto.encrypt(secret)
    return redirect("touchpoints:integration_detail", request.org.slug, integration.pk)


@org_view
@require_http_methods(["GET", "POST"])
def integration_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    require_org_admin(request.membership)
    if request.method == "GET":
        return _form_page(
            request, IntegrationForm(initial={"is_active": True, "kind": request.GET.get("kind", "")}), None
        )
    form = IntegrationForm(request.POST)
    form.is_valid()
    try:
        integration, secret = services.integration_create(actor=request.membership, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _form_page(request, form, None, status=422)
    messages.success(request, _("Integration “%(name)s” created.") % {"name": integration.name})
    return _show_secret_once(request, integration, secret)


@org_view
@require_GET
def integration_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    require_org_admin(request.membership)
    sealed = request.session.pop(_secret_key(integration), "")
    try:
        secret = crypto.decrypt(sealed) if isinstance(sealed, str) else ""
    except SecretUnreadable:
        secret = ""
    return _detail_page(request, integration, secret=secret)


@org_view
@require_http_methods(["GET", "POST"])
def integration_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    require_org_admin(request.membership)
    if request.method == "GET":
        initial = IntegrationForm.initial_for(integration)
        return _form_page(request, IntegrationForm(initial=initial, creating=False, kind=integration.kind), integration)
    form = IntegrationForm(request.POST, creating=False, kind=integration.kind)
    form.is_valid()
    try:
        integration = services.integration_update(
            actor=request.membership, integration=integration, data=form.service_data()
        )
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _form_page(request, form, integration, status=422)
    messages.success(request, _("Integration “%(name)s” saved.") % {"name": integration.name})
    return redirect("touchpoints:integration_detail", request.org.slug, integration.pk)


@org_view
@require_POST
def integration_rotate_secret_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    secret = services.integration_rotate_secret(actor=request.membership, integration=integration)
    messages.success(request, _("A new secret replaces the old one; update it in the sending shop or app."))
    return _show_secret_once(request, integration, secret)


@org_view
@require_http_methods(["GET", "POST"])
def integration_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    require_org_admin(request.membership)
    if request.method == "POST":
        services.integration_delete(actor=request.membership, integration=integration)
        messages.success(request, _("Integration “%(name)s” deleted.") % {"name": integration.name})
        return redirect(_list_url(request))
    context = {
        "object": integration,
        "title": _("Delete integration"),
        "question": _(
            "Delete the integration “%(name)s” and its deliveries? Its address stops working; the orders and "
            "contacts it brought stay."
        )
        % {"name": integration.name},
        "cancel_url": reverse("touchpoints:integration_detail", args=[request.org.slug, integration.pk]),
    }
    return render_page(request, "confirm_delete.html", context)


@org_view
@require_GET
def webhook_delivery_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    delivery: WebhookDelivery = get_object_or_404(WebhookDelivery.objects.select_related("integration"), pk=pk)
    require_org_admin(request.membership)
    context = {
        "delivery": delivery,
        "integration": delivery.integration,
        "order": selectors.delivery_order(delivery),
        "leads": selectors.delivery_leads(delivery),
        "fetches": list(selectors.delivery_lead_fetches(delivery)),
        "nav": "integrations",
    }
    return render_page(request, "touchpoints/integrations/delivery.html", context)


@org_view
@require_POST
def webhook_delivery_retry_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    delivery: WebhookDelivery = get_object_or_404(WebhookDelivery.objects.select_related("integration"), pk=pk)
    try:
        delivery = hooks.delivery_retry(actor=request.membership, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if delivery.status == WebhookDelivery.Status.FAILED:
            messages.error(request, _("The delivery failed again: %(error)s") % {"error": delivery.last_error})
        else:
            messages.success(request, _("The delivery was processed."))
    return redirect("touchpoints:webhook_delivery_detail", request.org.slug, delivery.pk)


@org_view
@require_POST
def lead_fetch_retry_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    fetch: LeadFetch = get_object_or_404(LeadFetch.objects.select_related("integration"), pk=pk)
    try:
        fetch = lead_fetch.lead_fetch_retry(actor=request.membership, fetch=fetch)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if fetch.state == LeadFetch.State.DONE:
            messages.success(request, _("The lead was read and captured."))
        elif fetch.state in (LeadFetch.State.FAILED, LeadFetch.State.WAITING_TOKEN):
            messages.error(request, _("The lead could not be read: %(error)s") % {"error": fetch.last_error})
        else:
            messages.success(request, _("The lead will be read again in a moment."))
    url = reverse("touchpoints:integration_detail", args=[request.org.slug, fetch.integration_id])
    return redirect(f"{url}#lead-fetch-{fetch.pk}")


# --- social profiles -----------------------------------------------------------------------------------


def _contact_url(request: OrgRequest, contact: Contact) -> str:
    return reverse("contacts:contact_detail", args=[request.org.slug, contact.pk])


def _profile_form_page(
    request: OrgRequest, form: SocialProfileForm, contact: Contact, profile: SocialProfile | None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "contact": contact, "profile": profile}
    return render_page(request, "touchpoints/integrations/social_profile_form.html", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def social_profile_create_view(request: OrgRequest, org_slug: str, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(contact_queryset(actor=request.membership), pk=contact_id)
    if request.method == "GET":
        return _profile_form_page(
            request, SocialProfileForm(initial={"network": request.GET.get("network", "linkedin")}), contact, None
        )
    form = SocialProfileForm(request.POST)
    form.is_valid()
    try:
        social_leads.social_profile_create(actor=request.membership, contact=contact, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _profile_form_page(request, form, contact, None, status=422)
    messages.success(request, _("Social profile added."))
    return redirect(_contact_url(request, contact))


def _visible_profile(request: OrgRequest, pk: int) -> SocialProfile:
    profile: SocialProfile = get_object_or_404(SocialProfile.objects.select_related("contact"), pk=pk)
    get_object_or_404(contact_queryset(actor=request.membership), pk=profile.contact_id)
    return profile


@org_view
@require_http_methods(["GET", "POST"])
def social_profile_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    profile = _visible_profile(request, pk)
    if request.method == "GET":
        initial = {"network": profile.network, "url": profile.url, "handle": profile.handle}
        return _profile_form_page(request, SocialProfileForm(initial=initial), profile.contact, profile)
    form = SocialProfileForm(request.POST)
    form.is_valid()
    try:
        social_leads.social_profile_update(actor=request.membership, profile=profile, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _profile_form_page(request, form, profile.contact, profile, status=422)
    messages.success(request, _("Social profile saved."))
    return redirect(_contact_url(request, profile.contact))


@org_view
@require_http_methods(["GET", "POST"])
def social_profile_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    profile = _visible_profile(request, pk)
    if request.method == "POST":
        social_leads.social_profile_delete(actor=request.membership, profile=profile)
        messages.success(request, _("Social profile removed."))
        return redirect(_contact_url(request, profile.contact))
    context = {
        "object": profile,
        "title": _("Remove social profile"),
        "question": _("Remove the %(network)s profile of %(name)s?")
        % {"network": profile.network, "name": profile.contact},
        "cancel_url": _contact_url(request, profile.contact),
    }
    return render_page(request, "confirm_delete.html", context)


def social_profiles_panel(request: HttpRequest, contact: Contact) -> dict[str, Any]:
    """The "Social profiles" panel of a contact's page."""
    actor = request.membership  # type: ignore[attr-defined]
    return {
        "record": contact,
        "profiles": list(selectors.social_profiles_of(contact)),
        "can_change": can_change_record(actor, contact),
    }


def register() -> None:
    """The contact panel (idempotent). Called when this module is imported (with the URLconf); the
    lead may move the call to TouchpointsConfig.ready()."""
    register_panel(
        "contact",
        Panel(
            name="touchpoints.social_profiles",
            template="touchpoints/integrations/panel_social_profiles.html",
            loader=social_profiles_panel,
            order=40,
        ),
    )


register()


# --- the public endpoint ----------------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook_view(request: HttpRequest, token: str) -> HttpResponse:
    """POST /hooks/<token>/ (a delivery) and GET (a source's subscription check)."""
    if request.method == "GET":
        integration = hooks.integration_by_token(token)
        if integration is None or hooks.rate_limit_wait(token=token, ip=client_ip(request)):
            answer = (
                hooks.error(404, _("Unknown webhook address."))
                if integration is None
                else hooks.error(429, _("Too many requests; try again later."))
            )
        else:
            answer = hooks.webhook_handshake(integration=integration, query=request.GET)
    else:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > hooks.max_body_bytes():
            answer = hooks.error(413, hooks.too_large_message())
        else:
            answer = hooks.webhook_receive(
                token=token, headers=request.headers, body=request.body, ip=client_ip(request), now=timezone.now()
            )
    if isinstance(answer.body, str):
        response: HttpResponse = HttpResponse(
            answer.body, status=answer.status, content_type="text/plain; charset=utf-8"
        )
    else:
        response = JsonResponse(answer.body, status=answer.status, json_dumps_params={"ensure_ascii": False})
    for name, value in answer.headers.items():
        response[name] = value
    return response


urlpatterns: list[URLPattern] = [
    path("settings/integrations/", integration_list_view, name="integration_list"),
    path("settings/integrations/new/", integration_create_view, name="integration_create"),
    path("settings/integrations/<int:pk>/", integration_detail_view, name="integration_detail"),
    path("settings/integrations/<int:pk>/edit/", integration_edit_view, name="integration_edit"),
    path(
        "settings/integrations/<int:pk>/rotate-secret/",
        integration_rotate_secret_view,
        name="integration_rotate_secret",
    ),
    path("settings/integrations/<int:pk>/delete/", integration_delete_view, name="integration_delete"),
    path("settings/webhook-deliveries/<int:pk>/", webhook_delivery_detail_view, name="webhook_delivery_detail"),
    path("settings/webhook-deliveries/<int:pk>/retry/", webhook_delivery_retry_view, name="webhook_delivery_retry"),
    path("settings/lead-fetches/<int:pk>/retry/", lead_fetch_retry_view, name="lead_fetch_retry"),
    path("contacts/<int:contact_id>/social-profiles/new/", social_profile_create_view, name="social_profile_create"),
    path("social-profiles/<int:pk>/edit/", social_profile_edit_view, name="social_profile_edit"),
    path("social-profiles/<int:pk>/delete/", social_profile_delete_view, name="social_profile_delete"),
]
public_urlpatterns: list[URLPattern] = [
    path("hooks/<str:token>/", webhook_view, name="webhook"),
]
