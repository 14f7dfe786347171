"""Pages that serve the list pages: saving, renaming, updating and deleting saved views, and the
inline edit of a contact's or company's owner, stage and tags from a list row."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.permissions import can_write, require_change
from vinculo.accounts.selectors import assignable_users
from vinculo.contacts import saved_views, selectors, services
from vinculo.contacts.list_registry import chosen_columns, get_spec, registered_kinds
from vinculo.contacts.list_state import parse_state_query
from vinculo.contacts.models import Company, Contact, LifecycleStage, SavedView, ViewSharing
from vinculo.core.views import org_view

# --- saved views -----------------------------------------------------------------------------------


def _list_url(request: OrgRequest, view: SavedView | None = None, kind: str = "") -> str:
    spec = get_spec(view.kind if view is not None else kind)
    if spec is None:
        return reverse("contacts:contact_list", args=[request.org.slug])
    url = reverse(spec.url_name, args=[request.org.slug])
    return f"{url}?view={view.pk}" if view is not None else url


def _errors(exc: ValidationError) -> dict[str, str]:
    return {name: " ".join(messages) for name, messages in exc.message_dict.items()}


def _form_page(
    request: OrgRequest,
    *,
    view: SavedView | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "view": view,
        "values": values,
        "errors": errors or {},
        "kinds": registered_kinds(),
        "sharings": ViewSharing.choices,
        "teams": list(request.membership.teams.order_by("name", "id")),
        "cancel_url": _list_url(request, view, values.get("kind", "")),
    }
    return render(request, "contacts/saved_view_form.html", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def saved_view_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """Keep the list's current filters, sort and columns (`query`) under a name."""
    source = request.POST if request.method == "POST" else request.GET
    kind = source.get("kind", "contacts")[:32]
    values = {
        "kind": kind,
        "name": source.get("name", "")[:200],
        "sharing": source.get("sharing", ViewSharing.PRIVATE),
        "team": source.get("team", ""),
        "query": source.get("query", "")[:4000],
    }
    if request.method == "GET":
        return _form_page(request, view=None, values=values)
    data = {k: values[k] for k in ("kind", "name", "sharing", "team")}
    try:
        view = saved_views.saved_view_create(
            actor=request.membership, data={**data, **parse_state_query(kind, values["query"])}
        )
    except ValidationError as exc:
        return _form_page(request, view=None, values=values, errors=_errors(exc), status=422)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(_list_url(request, view))


@org_view
@require_http_methods(["GET", "POST"])
def saved_view_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Rename a view or change whom it is shared with."""
    actor = request.membership
    view = saved_views.saved_view_get(actor=actor, pk=pk)
    saved_views.require_change_view(actor, view)
    values: dict[str, Any] = {
        "kind": view.kind,
        "name": view.name,
        "sharing": view.sharing,
        "team": str(view.team_id or ""),
    }
    if request.method == "GET":
        return _form_page(request, view=view, values=values)
    values.update({k: request.POST.get(k, "")[:200] for k in ("name", "sharing", "team")})
    try:
        saved_views.saved_view_update(actor=actor, view=view, data={k: values[k] for k in ("name", "sharing", "team")})
    except ValidationError as exc:
        view.refresh_from_db()
        return _form_page(request, view=view, values=values, errors=_errors(exc), status=422)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(_list_url(request, view))


@org_view
@require_POST
def saved_view_update_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Store the list's current filters, sort and columns in the view."""
    actor = request.membership
    view = saved_views.saved_view_get(actor=actor, pk=pk)
    saved_views.require_change_view(actor, view)
    try:
        saved_views.saved_view_update(
            actor=actor, view=view, data=parse_state_query(view.kind, request.POST.get("query", ""))
        )
    except ValidationError as exc:
        view.refresh_from_db()
        values = {"kind": view.kind, "name": view.name, "sharing": view.sharing, "team": str(view.team_id or "")}
        return _form_page(request, view=view, values=values, errors=_errors(exc), status=422)
    messages.success(request, _("View “%(name)s” updated.") % {"name": view.name})
    return redirect(_list_url(request, view))


@org_view
@require_http_methods(["GET", "POST"])
def saved_view_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    view = saved_views.saved_view_get(actor=actor, pk=pk)
    saved_views.require_change_view(actor, view)
    if request.method == "POST":
        saved_views.saved_view_delete(actor=actor, view=view)
        messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
        return redirect(_list_url(request, None, view.kind))
    context = {
        "title": _("Delete view"),
        "question": _("Delete the view “%(name)s”? The records in it are not touched.") % {"name": view.name},
        "cancel_url": _list_url(request, view),
    }
    return render(request, "confirm_delete.html", context)


# --- inline edit in the lists ----------------------------------------------------------------------

INLINE_FIELDS = {"contacts": ("owner", "stage", "tags"), "companies": ("owner", "tags")}


def _inline(request: OrgRequest, kind: str, record: Contact | Company) -> HttpResponse:
    """GET `field=`: the cell's editor; GET without it: the row; POST: save through the record's
    service and answer the row as the list shows it (403 for a member who may not change it)."""
    actor = request.membership
    source = request.POST if request.method == "POST" else request.GET
    field = source.get("field", "")
    spec = get_spec(kind)
    assert spec is not None
    columns = chosen_columns(spec, [source.get("columns", "")]) or list(spec.default_columns)
    row_id = f"{'contact' if kind == 'contacts' else 'company'}-row-{record.pk}"
    context: dict[str, Any] = {
        "org": request.org,
        "columns": columns,
        "columns_param": ",".join(columns),
        "can_write": can_write(actor),
        "selected_ids": [],
        "row_id": row_id,
        "contact" if kind == "contacts" else "company": record,
        "inline_url": reverse(
            "contacts:contact_inline" if kind == "contacts" else "contacts:company_inline",
            args=[request.org.slug, record.pk],
        ),
    }
    row_template = "contacts/_contact_row.html" if kind == "contacts" else "contacts/_company_row.html"
    if field and field not in INLINE_FIELDS[kind]:
        return HttpResponse(
            _("This column cannot be changed here. Allowed: %(names)s.") % {"names": ", ".join(INLINE_FIELDS[kind])},
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    if request.method == "GET" and not field:
        return render(request, row_template, context)
    require_change(actor, record)
    if request.method == "POST":
        if not field:
            return HttpResponse(_("Say which column to change."), status=422, content_type="text/plain; charset=utf-8")
        values = request.POST.getlist("value")
        data: dict[str, Any]
        if field == "tags":
            data = {"tags": values}
        elif field == "stage":
            data = {"lifecycle_stage": values[0] if values else ""}
        else:
            data = {"owner": (values[0] or None) if values else None}
        try:
            if isinstance(record, Contact):
                record = services.contact_update(actor=actor, contact=record, data=data)
            else:
                record = services.company_update(actor=actor, company=record, data=data)
        except ValidationError as exc:
            context.update(_editor_context(request, kind, record, field))
            context["error"] = " ".join(m for ms in exc.message_dict.values() for m in ms)
            return render(request, "contacts/_inline_form.html", context, status=422)
        getter = selectors.contact_get if kind == "contacts" else selectors.company_get
        context["contact" if kind == "contacts" else "company"] = getter(actor=actor, pk=record.pk)
        return render(request, row_template, context)
    context.update(_editor_context(request, kind, record, field))
    return render(request, "contacts/_inline_form.html", context)


def _editor_context(request: OrgRequest, kind: str, record: Contact | Company, field: str) -> dict[str, Any]:
    if field == "tags":
        return {
            "field": field,
            "tags": list(selectors.tag_list()),
            "current": {t.pk for t in record.tags.all()},
            "label": _("Tags"),
        }
    if field == "stage":
        assert isinstance(record, Contact)
        return {
            "field": field,
            "choices": LifecycleStage.choices,
            "current": record.lifecycle_stage,
            "label": _("Stage"),
        }
    return {
        "field": field,
        "choices": [(u.pk, str(u)) for u in assignable_users(organization=request.org)],
        "current": record.owner_id or "",
        "label": _("Owner"),
    }


@org_view
@require_http_methods(["GET", "POST"])
def contact_inline_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    return _inline(request, "contacts", selectors.contact_get(actor=request.membership, pk=pk))


@org_view
@require_http_methods(["GET", "POST"])
def company_inline_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    return _inline(request, "companies", selectors.company_get(actor=request.membership, pk=pk))
