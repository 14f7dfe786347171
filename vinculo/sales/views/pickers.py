"""The record pickers' search: `GET …/sales/pickers/<kind>/?q=` (contact, company, deal, product) answers the matching records as
JSON for the typeahead of a form's contact, company, deal or product select (static/sales/picker.js)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django import forms
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vinculo.accounts.http import OrgRequest
from vinculo.core.views import org_view
from vinculo.sales.selectors.pickers import PICKER_KINDS, picker_search


@org_view
@require_GET
def picker_view(request: OrgRequest, org_slug: str, kind: str) -> HttpResponse:
    """`{"results": [{"id", "label", "detail"}, …]}`: at most 20 records the member may see."""
    if kind not in PICKER_KINDS:
        raise Http404
    items = picker_search(actor=request.membership, kind=kind, q=request.GET.get("q", ""))
    return JsonResponse({"results": [asdict(item) for item in items]})


def picker_attrs(org_slug: str, kind: str) -> dict[str, str]:
    """The data attributes that make a record <select> a picker (see picker.js)."""
    placeholders = {
        "contact": _("Type a name, e-mail or company…"),
        "company": _("Type a company name…"),
        "deal": _("Type a deal title…"),
        "product": _("Type a product name or SKU…"),
    }
    return {
        "data-picker": reverse(f"sales:picker_{kind}", args=[org_slug]),
        "data-picker-placeholder": placeholders[kind],
        "data-picker-empty": _("No matches."),
    }


def attach_pickers(form: forms.BaseForm, org_slug: str, fields: dict[str, str]) -> Any:
    """Make the form's record selects pickers: `fields` maps a field name to a picker kind."""
    for name, kind in fields.items():
        if name in form.fields:
            form.fields[name].widget.attrs.update(picker_attrs(org_slug, kind))
    return form


urlpatterns: list[URLPattern] = [
    path(f"sales/pickers/{kind}/", picker_view, {"kind": kind}, name=f"picker_{kind}") for kind in PICKER_KINDS
]
