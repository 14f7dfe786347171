"""Settings → Suppression list: the addresses the organisation must not e-mail, for owners and
admins: add by hand, remove, import and export as CSV. Another organisation's row is 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vinculo.accounts.forms import add_service_errors
from vinculo.accounts.http import OrgRequest
from vinculo.accounts.permissions import require_org_admin
from vinculo.core.csv_export import csv_response
from vinculo.core.views import org_view, render_page
from vinculo.messaging.forms import SuppressionForm, SuppressionImportForm
from vinculo.messaging.models import SuppressedAddress
from vinculo.messaging.services import suppression as services

SHOWN = 500


def _page(
    request: OrgRequest,
    form: SuppressionForm | None = None,
    import_form: SuppressionImportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = SuppressedAddress.objects.order_by("-created_at", "-id")
    context: dict[str, Any] = {
        "nav": "settings",
        "tab": "suppression",
        "can_manage": True,
        "form": form or SuppressionForm(),
        "import_form": import_form or SuppressionImportForm(),
        "rows": rows[:SHOWN],
        "total": rows.count(),
        "shown": SHOWN,
    }
    return render_page(request, "messaging/suppression.html", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def suppression_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    require_org_admin(request.membership)
    if request.method == "GET":
        return _page(request)
    form = SuppressionForm(request.POST)
    if form.is_valid():
        try:
            row = services.suppression_member_add(actor=request.membership, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(address)s will not be e-mailed.") % {"address": row.address})
            return redirect("messaging:suppression_list", request.org.slug)
    return _page(request, form=form, status=422)


@org_view
@require_POST
def suppression_import_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    require_org_admin(request.membership)
    form = SuppressionImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            added = services.suppression_import(actor=request.membership, content=form.cleaned_data["file"].read())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(count)d addresses added to the suppression list.") % {"count": added})
            return redirect("messaging:suppression_list", request.org.slug)
    return _page(request, import_form=form, status=422)


@org_view
@require_GET
def suppression_export_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    require_org_admin(request.membership)
    response, writer = csv_response(f"suppression-list-{timezone.localdate():%Y-%m-%d}.csv")
    writer.writerow(["address", "reason", "note", "added"])
    for row in SuppressedAddress.objects.order_by("address").iterator():
        writer.writerow([row.address, row.reason, row.note, row.created_at.isoformat()])
    return response


@org_view
@require_POST
def suppressed_address_remove_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    require_org_admin(request.membership)
    row = get_object_or_404(SuppressedAddress, pk=pk)
    services.suppression_member_remove(actor=request.membership, suppressed=row)
    messages.success(request, _("%(address)s may be e-mailed again.") % {"address": row.address})
    return redirect("messaging:suppression_list", request.org.slug)
