"""Assignment pages: the ordered rules (drag, or the up/down buttons, to reorder), the fallback
owner, the "test the rules" form, zones and days out of office.

Every member may look (knowing why a deal is yours is the point); owners, admins and managers
change rules, zones and the fallback owner; each member sets their own days out of office.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.models import Team
from vinculo.accounts.permissions import can_write, require_manager
from vinculo.accounts.selectors import assignable_users
from vinculo.core.views import is_htmx, org_view, render_page
from vinculo.sales.forms_assignment import (
    AssignmentPreviewForm,
    AssignmentRuleForm,
    FallbackOwnerForm,
    OutOfOfficeForm,
    ZoneForm,
)
from vinculo.sales.models import AssignmentRule, OutOfOffice, Zone
from vinculo.sales.services import assignment as services
from vinculo.sales.services.assignment import can_manage_assignment

# --- helpers -----------------------------------------------------------------------------------------


def _users(request: OrgRequest) -> list[Any]:
    return list(assignable_users(organization=request.org))


def _zones() -> list[Zone]:
    return list(Zone.objects.order_by("name", "id"))


def _rule_list_url(request: OrgRequest) -> str:
    return reverse("sales:assignment_rule_list", args=[request.org.slug])


def _rules() -> list[AssignmentRule]:
    return list(AssignmentRule.objects.select_related("zone", "team", "user").order_by("position", "id"))


# --- the rules page --------------------------------------------------------------------------------


def _rule_list_page(
    request: OrgRequest,
    *,
    fallback_form: FallbackOwnerForm | None = None,
    preview_form: AssignmentPreviewForm | None = None,
    preview: services.Assignment | None = None,
    status: int = 200,
) -> HttpResponse:
    users, zones = _users(request), _zones()
    settings_row = services.assignment_settings_get(organization_id=request.org.pk)
    rules = _rules()
    context = {
        "nav": "assignment",
        "rules": [(rule, services.describe_rule(rule)) for rule in rules],
        "can_manage": can_manage_assignment(request.membership),
        "fallback_owner": settings_row.fallback_owner,
        "fallback_form": fallback_form
        or FallbackOwnerForm(initial={"fallback_owner": str(settings_row.fallback_owner_id or "")}, users=users),
        "preview_form": preview_form or AssignmentPreviewForm(zones=zones),
        "preview": preview,
    }
    return render(request, "sales/assignment/rule_list.html", context, status=status)


@org_view
@require_GET
def assignment_rule_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _rule_list_page(request)


def _rule_form_page(
    request: OrgRequest, form: AssignmentRuleForm, rule: AssignmentRule | None, *, status: int = 200
) -> HttpResponse:
    context = {"nav": "assignment", "form": form, "rule": rule}
    return render(request, "sales/assignment/rule_form.html", context, status=status)


def _rule_form(request: OrgRequest, data: Any = None, initial: dict[str, Any] | None = None) -> AssignmentRuleForm:
    teams = list(Team.objects.order_by("name", "id"))
    return AssignmentRuleForm(data, initial=initial, zones=_zones(), users=_users(request), teams=teams)


@org_view
@require_http_methods(["GET", "POST"])
def assignment_rule_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    require_manager(request.membership)
    if request.method == "GET":
        return _rule_form_page(request, _rule_form(request, initial={"is_active": True, "applies_to": "both"}), None)
    form = _rule_form(request, request.POST)
    form.is_valid()
    try:
        rule = services.assignment_rule_create(actor=request.membership, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _rule_form_page(request, form, None, status=422)
    messages.success(request, _("Rule “%(name)s” created.") % {"name": rule.name})
    return redirect(_rule_list_url(request))


@org_view
@require_http_methods(["GET", "POST"])
def assignment_rule_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    rule = get_object_or_404(AssignmentRule, pk=pk)
    require_manager(request.membership)
    if request.method == "GET":
        return _rule_form_page(request, _rule_form(request, initial=AssignmentRuleForm.initial_for(rule)), rule)
    form = _rule_form(request, request.POST)
    form.is_valid()
    try:
        rule = services.assignment_rule_update(actor=request.membership, rule=rule, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _rule_form_page(request, form, rule, status=422)
    messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
    return redirect(_rule_list_url(request))


@org_view
@require_http_methods(["GET", "POST"])
def assignment_rule_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    rule = get_object_or_404(AssignmentRule, pk=pk)
    require_manager(request.membership)
    if request.method == "POST":
        services.assignment_rule_delete(actor=request.membership, rule=rule)
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
        return redirect(_rule_list_url(request))
    context = {
        "nav": "assignment",
        "object": rule,
        "title": _("Delete rule"),
        "question": _("Delete the rule “%(name)s”? Deals it assigned keep their owners.") % {"name": rule.name},
        "cancel_url": _rule_list_url(request),
    }
    return render(request, "confirm_delete.html", context)


def _rules_partial(request: OrgRequest) -> HttpResponse:
    context = {
        "rules": [(rule, services.describe_rule(rule)) for rule in _rules()],
        "can_manage": can_manage_assignment(request.membership),
    }
    return render(request, "sales/assignment/rule_list.html#rules", context)


def _reordered(request: OrgRequest, reorder: Callable[[], object]) -> HttpResponse:
    """Run `reorder` (a change of the rules' order): the refused reason as text (422), else the
    rules again for HTMX, or back to the list."""
    try:
        reorder()
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=422, content_type="text/plain; charset=utf-8")
    if is_htmx(request):
        return _rules_partial(request)
    return redirect(_rule_list_url(request))


@org_view
@require_POST
def assignment_rule_move_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """One step up or down (buttons that work without JavaScript)."""
    rule = get_object_or_404(AssignmentRule, pk=pk)
    direction = request.POST.get("direction", "")
    return _reordered(
        request, lambda: services.assignment_rule_move(actor=request.membership, rule=rule, direction=direction)
    )


@org_view
@require_POST
def assignment_rule_reorder_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """The new order after a drag (SortableJS posts every rule's id in order)."""
    ids = request.POST.getlist("ids")
    return _reordered(request, lambda: services.assignment_rule_reorder(actor=request.membership, ids=ids))


@org_view
@require_POST
def assignment_settings_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = FallbackOwnerForm(request.POST, users=_users(request))
    form.is_valid()
    try:
        services.assignment_settings_update(actor=request.membership, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _rule_list_page(request, fallback_form=form, status=422)
    messages.success(request, _("Fallback owner saved."))
    return redirect(_rule_list_url(request))


@org_view
@require_GET
def assignment_test_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """Which rep a hypothetical deal or lead would go to, and why (nothing is assigned)."""
    form = AssignmentPreviewForm(request.GET, zones=_zones())
    form.is_valid()
    status = 200
    preview = None
    try:
        preview = services.assignment_preview(actor=request.membership, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        status = 422
    if is_htmx(request):
        context = {"preview_form": form, "preview": preview}
        return render(request, "sales/assignment/rule_list.html#preview", context, status=status)
    return _rule_list_page(request, preview_form=form, preview=preview, status=status)


# --- zones -------------------------------------------------------------------------------------------


def _zone_list_url(request: OrgRequest) -> str:
    return reverse("sales:zone_list", args=[request.org.slug])


@org_view
@require_GET
def zone_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    context = {"nav": "assignment", "zones": _zones(), "can_manage": can_manage_assignment(request.membership)}
    return render_page(request, "sales/assignment/zone_list.html", context)


def _zone_form_page(request: OrgRequest, form: ZoneForm, zone: Zone | None, *, status: int = 200) -> HttpResponse:
    return render(
        request, "sales/assignment/zone_form.html", {"nav": "assignment", "form": form, "zone": zone}, status=status
    )


@org_view
@require_http_methods(["GET", "POST"])
def zone_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    require_manager(request.membership)
    if request.method == "GET":
        return _zone_form_page(request, ZoneForm(), None)
    form = ZoneForm(request.POST)
    form.is_valid()
    try:
        zone = services.zone_create(actor=request.membership, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _zone_form_page(request, form, None, status=422)
    messages.success(request, _("Zone %(name)s created.") % {"name": zone.name})
    return redirect(_zone_list_url(request))


@org_view
@require_http_methods(["GET", "POST"])
def zone_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    zone = get_object_or_404(Zone, pk=pk)
    require_manager(request.membership)
    if request.method == "GET":
        return _zone_form_page(request, ZoneForm(initial=ZoneForm.initial_for(zone)), zone)
    form = ZoneForm(request.POST)
    form.is_valid()
    try:
        zone = services.zone_update(actor=request.membership, zone=zone, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _zone_form_page(request, form, zone, status=422)
    messages.success(request, _("Zone %(name)s saved.") % {"name": zone.name})
    return redirect(_zone_list_url(request))


@org_view
@require_http_methods(["GET", "POST"])
def zone_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    zone = get_object_or_404(Zone, pk=pk)
    require_manager(request.membership)
    if request.method == "POST":
        services.zone_delete(actor=request.membership, zone=zone)
        messages.success(request, _("Zone %(name)s deleted.") % {"name": zone.name})
        return redirect(_zone_list_url(request))
    context = {
        "nav": "assignment",
        "object": zone,
        "title": _("Delete zone"),
        "question": _("Delete the zone %(name)s? Its deals stay, without a zone; rules lose this condition.")
        % {"name": zone.name},
        "cancel_url": _zone_list_url(request),
    }
    return render(request, "confirm_delete.html", context)


# --- out of office -----------------------------------------------------------------------------------


def _out_of_office_url(request: OrgRequest) -> str:
    return reverse("sales:out_of_office_list", args=[request.org.slug])


def _out_of_office_page(request: OrgRequest, form: OutOfOfficeForm | None = None, *, status: int = 200) -> HttpResponse:
    users = _users(request)
    rows = list(OutOfOffice.objects.select_related("user").order_by("-starts_on", "id")[:200])
    manager = can_manage_assignment(request.membership)
    context = {
        "nav": "assignment",
        "rows": [(row, manager or row.user_id == request.user.pk) for row in rows],
        "form": form or OutOfOfficeForm(initial={"user": str(request.user.pk)}, users=users),
        "can_add": can_write(request.membership),
    }
    return render(request, "sales/assignment/out_of_office_list.html", context, status=status)


@org_view
@require_GET
def out_of_office_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _out_of_office_page(request)


@org_view
@require_POST
def out_of_office_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = OutOfOfficeForm(request.POST, users=_users(request))
    form.is_valid()
    try:
        services.out_of_office_create(actor=request.membership, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _out_of_office_page(request, form, status=422)
    messages.success(request, _("Days out of office saved."))
    return redirect(_out_of_office_url(request))


@org_view
@require_http_methods(["GET", "POST"])
def out_of_office_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    away: OutOfOffice = get_object_or_404(OutOfOffice.objects.select_related("user"), pk=pk)
    users = _users(request)
    if request.method == "GET":
        services.require_out_of_office_change(request.membership, away.user_id)
        form = OutOfOfficeForm(initial=OutOfOfficeForm.initial_for(away), users=users)
        return render(request, "sales/assignment/out_of_office_form.html", {"nav": "assignment", "form": form})
    form = OutOfOfficeForm(request.POST, users=users)
    form.is_valid()
    try:
        services.out_of_office_update(actor=request.membership, away=away, data=form.service_data())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        context = {"nav": "assignment", "form": form}
        return render(request, "sales/assignment/out_of_office_form.html", context, status=422)
    messages.success(request, _("Days out of office saved."))
    return redirect(_out_of_office_url(request))


@org_view
@require_POST
def out_of_office_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    away = get_object_or_404(OutOfOffice, pk=pk)
    services.out_of_office_delete(actor=request.membership, away=away)
    messages.success(request, _("Days out of office removed."))
    return redirect(_out_of_office_url(request))


urlpatterns = [
    path("sales/assignment/", assignment_rule_list_view, name="assignment_rule_list"),
    path("sales/assignment/new/", assignment_rule_create_view, name="assignment_rule_create"),
    path("sales/assignment/reorder/", assignment_rule_reorder_view, name="assignment_rule_reorder"),
    path("sales/assignment/settings/", assignment_settings_view, name="assignment_settings"),
    path("sales/assignment/test/", assignment_test_view, name="assignment_test"),
    path("sales/assignment/<int:pk>/", assignment_rule_edit_view, name="assignment_rule_edit"),
    path("sales/assignment/<int:pk>/delete/", assignment_rule_delete_view, name="assignment_rule_delete"),
    path("sales/assignment/<int:pk>/move/", assignment_rule_move_view, name="assignment_rule_move"),
    path("sales/zones/", zone_list_view, name="zone_list"),
    path("sales/zones/new/", zone_create_view, name="zone_create"),
    path("sales/zones/<int:pk>/", zone_edit_view, name="zone_edit"),
    path("sales/zones/<int:pk>/delete/", zone_delete_view, name="zone_delete"),
    path("sales/out-of-office/", out_of_office_list_view, name="out_of_office_list"),
    path("sales/out-of-office/new/", out_of_office_create_view, name="out_of_office_create"),
    path("sales/out-of-office/<int:pk>/", out_of_office_edit_view, name="out_of_office_edit"),
    path("sales/out-of-office/<int:pk>/delete/", out_of_office_delete_view, name="out_of_office_delete"),
]
