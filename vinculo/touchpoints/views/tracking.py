"""Pages of the website tracker under /o/<org>/: tracking sites (settings, with the install
snippet), the live Visitors page, a visitor's detail and the identity conflicts to review.

Public (outside /o/): the tracker script itself at /t/vinculo.js, the same file for every site
(the site is the `data-key` of the script tag), cached by browsers for a day and loadable from
any origin.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.permissions import can_manage_org, can_write, require_org_admin
from vinculo.core.forms import ServiceErrorsMixin, StyledFormMixin
from vinculo.core.pagination import paginate, requested_page
from vinculo.core.views import is_htmx, org_view, render_page
from vinculo.touchpoints.models import ConsentMode, IdentityConflict, TrackingSite, Visitor
from vinculo.touchpoints.selectors import visitors as visitor_selectors
from vinculo.touchpoints.selectors.sites import last_events, tracking_site_queryset
from vinculo.touchpoints.services import sites as services
from vinculo.touchpoints.services.stitching import identity_conflict_resolve

SCRIPT_PATH = Path(__file__).resolve().parent.parent / "static" / "touchpoints" / "vinculo.js"
SCRIPT_MAX_AGE = 86400


# --- the public script ----------------------------------------------------------------------------


@cache
def _script() -> tuple[bytes, str]:
    body = SCRIPT_PATH.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@require_GET
def tracker_script(request: HttpRequest) -> HttpResponse:
    body, etag = _script()
    if request.headers.get("If-None-Match") == etag:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}, stale-while-revalidate=604800"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def install_snippet(request: HttpRequest, site: TrackingSite) -> str:
    """The one script tag to paste into every page of the site: only its key. The consent mode and
    the Do-Not-Track choice are read from the server (GET /api/v1/track/config), so a page cannot
    forget or contradict them, and changing them needs no new snippet."""
    src = request.build_absolute_uri(reverse("public:tracker_script"))
    return f'<script async src="{src}" data-key="{site.public_key}"></script>'


# --- tracking sites ---------------------------------------------------------------------------------


class TrackingSiteForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"), required=False, widget=forms.TextInput(attrs={"maxlength": "100"})
    )
    allowed_origins = forms.CharField(
        label=gettext_lazy("Allowed origins"),
        required=False,
        help_text=gettext_lazy("One per line, e.g. https://www.example.com. Only these pages may send events."),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "none"}),
    )
    consent_mode = forms.ChoiceField(
        label=gettext_lazy("Before the visitor consents"),
        choices=ConsentMode.choices,
        widget=forms.Select(attrs={"aria-describedby": "consent-mode-help"}),
    )
    honor_dnt = forms.BooleanField(label=gettext_lazy("Honour Do-Not-Track"), required=False)
    create_leads = forms.BooleanField(label=gettext_lazy("Identified visitors become leads"), required=False)
    session_timeout_minutes = forms.IntegerField(
        label=gettext_lazy("Session timeout (minutes)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 5, "max": 240}),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False)

    @staticmethod
    def initial_for(site: TrackingSite | None) -> dict[str, Any]:
        if site is None:
            return {
                "consent_mode": ConsentMode.OPT_IN,
                "honor_dnt": True,
                "create_leads": True,
                "session_timeout_minutes": 30,
                "is_active": True,
            }
        return {
            "name": site.name,
            "allowed_origins": "\n".join(site.allowed_origins or []),
            "consent_mode": site.consent_mode,
            "honor_dnt": site.honor_dnt,
            "create_leads": site.create_leads,
            "session_timeout_minutes": site.session_timeout_minutes,
            "is_active": site.is_active,
        }

    def service_data(self) -> dict[str, Any]:
        data = self.data
        values = {
            "name": data.get("name", ""),
            "allowed_origins": data.get("allowed_origins", ""),
            "consent_mode": data.get("consent_mode", ""),
            "honor_dnt": "honor_dnt" in data,
            "create_leads": "create_leads" in data,
            "is_active": "is_active" in data,
        }
        if str(data.get("session_timeout_minutes", "")).strip():  # empty: keep the current (or default) value
            values["session_timeout_minutes"] = data["session_timeout_minutes"]
        return values


def _site_list_url(request: OrgRequest) -> str:
    return reverse("touchpoints:tracking_site_list", args=[request.org.slug])


@org_view
@require_GET
def tracking_site_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    sites = list(tracking_site_queryset())
    last = last_events(sites)
    context = {
        "nav": "tracking",
        "sites": [
            {"site": s, "snippet": install_snippet(request, s), "snippet_id": f"snippet-{s.pk}", "last": last.get(s.pk)}
            for s in sites
        ],
        "can_manage": can_manage_org(request.membership),
    }
    return render_page(request, "touchpoints/tracking/site_list.html", context)


@org_view
@require_GET
def tracking_site_check(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """ "Check installation": the last event the site sent (for HTMX, the site's status line only)."""
    site = get_object_or_404(TrackingSite, pk=pk)
    if not is_htmx(request):
        return redirect(f"{_site_list_url(request)}#site-{site.pk}")
    context = {"site": site, "last": last_events([site]).get(site.pk)}
    return render(request, "touchpoints/tracking/_install_check.html", context)


def _site_form_page(
    request: OrgRequest, form: TrackingSiteForm, site: TrackingSite | None, status: int = 200
) -> HttpResponse:
    context = {
        "nav": "tracking",
        "form": form,
        "site": site,
        "snippet": install_snippet(request, site) if site else "",
        "last": last_events([site]).get(site.pk) if site else None,
    }
    return render(request, "touchpoints/tracking/site_form.html", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def tracking_site_create(request: OrgRequest, org_slug: str) -> HttpResponse:
    require_org_admin(request.membership)
    if request.method == "GET":
        return _site_form_page(request, TrackingSiteForm(initial=TrackingSiteForm.initial_for(None)), None)
    form = TrackingSiteForm(request.POST)
    form.is_valid()
    try:
        site = services.tracking_site_create(actor=request.membership, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _site_form_page(request, form, None, status=422)
    messages.success(request, _("Site %(name)s created: paste its snippet into your pages.") % {"name": site.name})
    return redirect(reverse("touchpoints:tracking_site_edit", args=[request.org.slug, site.pk]))


@org_view
@require_http_methods(["GET", "POST"])
def tracking_site_edit(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    site = get_object_or_404(TrackingSite, pk=pk)
    require_org_admin(request.membership)
    if request.method == "GET":
        return _site_form_page(request, TrackingSiteForm(initial=TrackingSiteForm.initial_for(site)), site)
    form = TrackingSiteForm(request.POST)
    form.is_valid()
    try:
        site = services.tracking_site_update(actor=request.membership, site=site, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _site_form_page(request, form, site, status=422)
    messages.success(request, _("Site %(name)s saved.") % {"name": site.name})
    return redirect(_site_list_url(request))


@org_view
@require_POST
def tracking_site_rotate_key(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """A new public key (the old snippet stops being accepted at once): for a key being abused."""
    site = get_object_or_404(TrackingSite, pk=pk)
    require_org_admin(request.membership)
    services.tracking_site_rotate_key(actor=request.membership, site=site)
    messages.success(request, _("New key created: replace the snippet on your pages."))
    return redirect(reverse("touchpoints:tracking_site_edit", args=[request.org.slug, site.pk]))


@org_view
@require_http_methods(["GET", "POST"])
def tracking_site_delete(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    site = get_object_or_404(TrackingSite, pk=pk)
    require_org_admin(request.membership)
    if request.method == "POST":
        services.tracking_site_delete(actor=request.membership, site=site)
        messages.success(request, _("Site %(name)s deleted.") % {"name": site.name})
        return redirect(_site_list_url(request))
    context = {
        "nav": "tracking",
        "object": site,
        "title": _("Delete tracking site"),
        "question": _(
            "Delete the site %(name)s? Its snippet stops being accepted at once; the events already "
            "recorded stay on the timelines."
        )
        % {"name": site.name},
        "cancel_url": _site_list_url(request),
    }
    return render(request, "confirm_delete.html", context)


# --- visitors -----------------------------------------------------------------------------------------


@org_view
@require_GET
def visitor_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    """Recent visitors, most recently seen first; the table refreshes itself every 5 s (HTMX)."""
    kind = request.GET.get("kind", "all")
    if kind not in visitor_selectors.VISITOR_FILTERS:
        kind = "all"
    page_number = requested_page(request)
    page = paginate(visitor_selectors.visitor_queryset(kind=kind), page=page_number, per_page=50)
    live_since = visitor_selectors.live_since()
    context = {
        "nav": "visitors",
        "page": page,
        "visitors": page.items,
        "kind": kind,
        "kinds": [("all", _("All")), ("identified", _("Identified")), ("anonymous", _("Anonymous"))],
        "live_since": live_since,
        "live_count": sum(1 for v in page.items if v.last_seen_at >= live_since) if page_number == 1 else None,
        "now": timezone.now(),
    }
    return render_page(request, "touchpoints/tracking/visitor_list.html", context, partial="table")


@org_view
@require_GET
def visitor_detail(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    visitor: Visitor = get_object_or_404(Visitor.objects.select_related("contact", "site"), pk=pk)
    context = {
        "nav": "visitors",
        "visitor": visitor,
        "sessions": visitor_selectors.visitor_sessions(visitor),
        "events": visitor_selectors.visitor_events(visitor),
        "conflicts": list(visitor.conflicts.select_related("contact", "other_contact")),
    }
    return render_page(request, "touchpoints/tracking/visitor_detail.html", context)


# --- identity conflicts ----------------------------------------------------------------------------------


@org_view
@require_GET
def identity_conflict_list(request: OrgRequest, org_slug: str) -> HttpResponse:
    status = request.GET.get("status", IdentityConflict.Status.OPEN)
    if status not in IdentityConflict.Status.values:
        status = IdentityConflict.Status.OPEN
    conflicts = list(visitor_selectors.identity_conflict_queryset(status=status)[:200])
    context = {
        "nav": "visitors",
        "conflicts": conflicts,
        "status": status,
        "can_write": can_write(request.membership),
    }
    return render_page(request, "touchpoints/tracking/identity_conflict_list.html", context)


@org_view
@require_POST
def identity_conflict_resolve_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    conflict = get_object_or_404(IdentityConflict, pk=pk)
    move = request.POST.get("action") == "move"
    identity_conflict_resolve(actor=request.membership, conflict=conflict, move_to_other=move)
    messages.success(request, _("Conflict resolved."))
    return redirect(reverse("touchpoints:identity_conflict_list", args=[request.org.slug]))


urlpatterns: list[URLPattern] = [
    path("settings/tracking/", tracking_site_list, name="tracking_site_list"),
    path("settings/tracking/new/", tracking_site_create, name="tracking_site_create"),
    path("settings/tracking/<int:pk>/", tracking_site_edit, name="tracking_site_edit"),
    path("settings/tracking/<int:pk>/delete/", tracking_site_delete, name="tracking_site_delete"),
    path("settings/tracking/<int:pk>/rotate-key/", tracking_site_rotate_key, name="tracking_site_rotate_key"),
    path("settings/tracking/<int:pk>/check/", tracking_site_check, name="tracking_site_check"),
    path("visitors/", visitor_list, name="visitor_list"),
    path("visitors/<int:pk>/", visitor_detail, name="visitor_detail"),
    path("visitors/conflicts/", identity_conflict_list, name="identity_conflict_list"),
    path("visitors/conflicts/<int:pk>/resolve/", identity_conflict_resolve_view, name="identity_conflict_resolve"),
]
public_urlpatterns: list[URLPattern] = [
    path("t/vinculo.js", tracker_script, name="tracker_script"),
]
