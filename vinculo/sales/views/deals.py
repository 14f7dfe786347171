"""Deal pages: the board (drag and drop, move endpoint, "load more"), the list, a deal's page, its
forms; leads and their conversion; the sales settings (pipelines, stages, lost reasons, rates).

Views parse the request, call a selector or a service and render the page, or only the named
partial when HTMX asks. The board's move endpoint answers JSON to the board's script (the new
column summaries, or why the move was refused) and redirects a plain form post back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.models import Membership, Team
from vinculo.accounts.permissions import (
    can_change_record,
    can_delete_record,
    can_write,
    require_change,
    require_delete,
    require_write,
)
from vinculo.accounts.selectors import assignable_users
from vinculo.contacts import selectors as contact_selectors
from vinculo.contacts.filters import ListFilters
from vinculo.contacts.list_registry import chosen_columns, get_spec
from vinculo.contacts.list_state import list_state, page_links, sort_links
from vinculo.contacts.models import Contact, LifecycleStage
from vinculo.contacts.record_links import viewer_of
from vinculo.contacts.templatetags.contacts_ui import audit_value
from vinculo.core.event_story import RecordLink, attach_stories
from vinculo.core.formatting import format_money
from vinculo.core.pagination import requested_page
from vinculo.core.query_params import search_words
from vinculo.core.views import is_htmx, org_view, safe_next
from vinculo.core.views import render_page as _render
from vinculo.sales.forms_deals import (
    DealForm,
    ExchangeRateForm,
    LeadConvertForm,
    LostReasonForm,
    PipelineForm,
    StageForm,
)
from vinculo.sales.forms_documents import lines_from_post
from vinculo.sales.models import Deal, Pipeline, StageKind
from vinculo.sales.selectors import deals as deal_selectors
from vinculo.sales.selectors import pipelines as pipeline_selectors
from vinculo.sales.selectors import products as product_selectors
from vinculo.sales.selectors.currency import BaseTotal
from vinculo.sales.selectors.deals import BOARD_PAGE, BOARD_PARAMS, DealFilters, parse_deal_filters
from vinculo.sales.services import deals as deal_services
from vinculo.sales.services import leads as lead_services
from vinculo.sales.services import pipelines as pipeline_services
from vinculo.sales.services import rates as rate_services
from vinculo.sales.views.documents import display_lines, line_editor_rows, stored_line_values
from vinculo.sales.views.pickers import attach_pickers

CHOICES_LIMIT = 200
LIST_SORTS = {"title": "title", "amount": "-amount", "close": "close", "created": "-created"}


# --- helpers -------------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _owners(request: OrgRequest) -> list[Any]:
    return list(assignable_users(organization=request.org))


def _teams() -> list[Team]:
    return list(Team.objects.order_by("name", "id"))


def _error_list(exc: ValidationError) -> list[dict[str, str]]:
    if hasattr(exc, "error_dict"):
        return [{"field": key, "message": str(m)} for key, msgs in exc.message_dict.items() for m in msgs]
    return [{"field": "__all__", "message": str(m)} for m in exc.messages]


def _choose_pipeline(pipelines: list[Pipeline], filters: DealFilters) -> Pipeline | None:
    if filters.pipeline:
        chosen = next((p for p in pipelines if p.pk == filters.pipeline), None)
        if chosen is not None:
            return chosen
        filters.errors["pipeline"] = _("No such pipeline.")
        filters.pipeline = None
    return next((p for p in pipelines if p.is_default), pipelines[0] if pipelines else None)


# --- the board -----------------------------------------------------------------------------------


def closed_period_choices() -> list[tuple[str, str]]:
    """The board's choice of which won and lost deals to show (CLOSED_PERIODS, in order)."""
    return [
        ("this_month", _("Closed this month")),
        ("last_month", _("Closed last month")),
        ("this_quarter", _("Closed this quarter")),
        ("this_year", _("Closed this year")),
        ("all", _("All closed deals")),
    ]


def _summary_context(board_base: str, total: BaseTotal) -> dict[str, Any]:
    return {"amount": format_money(total.amount, board_base), "missing": ", ".join(total.missing_rates)}


def _column_context(column: Any, base_currency: str) -> dict[str, Any]:
    return {
        "column": column,
        "next_offset": BOARD_PAGE if column.has_more else None,
        "total": _summary_context(base_currency, column.summary.total),
        "weighted": _summary_context(base_currency, column.summary.weighted),
    }


@org_view
@require_GET
def deal_board_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    filters = parse_deal_filters(request.GET, strict=False, allowed=BOARD_PARAMS)
    pipelines = list(pipeline_selectors.pipeline_list())
    pipeline = _choose_pipeline(pipelines, filters)
    context: dict[str, Any] = {
        "nav": "deals",
        "pipelines": pipelines,
        "pipeline": pipeline,
        "filters": filters,
        "can_write": can_write(actor),
        "can_manage": pipeline_services.can_manage_pipelines(actor),
        "board_url": reverse("sales:deal_board", args=[request.org.slug]),
    }
    if pipeline is None:
        # where to go once the default pipeline exists: the deal form that sent the member here
        context["next"] = safe_next(request)
        return render(request, "sales/deals/board_empty.html", context)
    data = deal_selectors.board(actor=actor, pipeline=pipeline, filters=filters)
    filter_query = filters.querystring("pipeline")
    context.update(
        {
            "board": data,
            "columns": [_column_context(c, data.base_currency) for c in data.columns],
            "owners": _owners(request),
            "teams": _teams(),
            "closed_periods": closed_period_choices(),
            "lost_reasons": list(pipeline_selectors.lost_reason_list(active_only=True)),
            "filter_query": filter_query,
            "querystring": filters.querystring(),
            "page_size": BOARD_PAGE,
            "is_htmx": is_htmx(request),
        }
    )
    return _render(request, "sales/deals/board.html", context, partial="board")


@org_view
@require_GET
def stage_cards_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """More cards of one column ("load more"), from `offset`, as HTML list items."""
    stage = pipeline_selectors.stage_get(pk=pk)
    filters = parse_deal_filters(request.GET, strict=False, allowed=BOARD_PARAMS)
    raw = request.GET.get("offset", "0")
    offset = int(raw) if raw.isdigit() and len(raw) < 9 else 0
    cards = deal_selectors.column_cards(
        actor=request.membership, stage=stage, filters=filters, offset=offset, limit=BOARD_PAGE + 1
    )
    context = {
        "stage": stage,
        "cards": cards[:BOARD_PAGE],
        "next_offset": offset + BOARD_PAGE if len(cards) > BOARD_PAGE else None,
        "filter_query": filters.querystring("pipeline"),
        "can_write": can_write(request.membership),
    }
    return render(request, "sales/deals/_cards.html", context)


def _board_summaries_json(request: OrgRequest, deal: Deal) -> dict[str, str]:
    """The re-rendered summary of every column of the deal's pipeline, under the board's filters."""
    raw = request.POST.get("filters", "")[:2000]
    filters = parse_deal_filters(dict(parse_qsl(raw)), strict=False, allowed=BOARD_PARAMS)
    pipeline = pipeline_selectors.pipeline_get(pk=deal.pipeline_id)
    summaries = deal_selectors.board_summaries(actor=request.membership, pipeline=pipeline, filters=filters)
    html: dict[str, str] = {}
    for stage in pipeline.stages.all():
        column = deal_selectors.BoardColumn(
            stage=stage, summary=summaries.get(stage.pk, deal_selectors.ColumnSummary()), cards=[]
        )
        html[str(stage.pk)] = render_to_string(
            "sales/deals/board.html#column_summary",
            _column_context(column, request.org.base_currency),
            request=request,
        )
    return html


@org_view
@require_POST
def deal_move_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Move a card: `stage`, `before` (the card it goes above; empty for the bottom), `lost_reason`.

    For the board's script (Accept: application/json): 200 with the columns' new summaries, or
    403/422 JSON saying why not. A plain form post goes back to `next` with a message.
    """
    actor = request.membership
    deal = deal_selectors.deal_get(actor=actor, pk=pk)
    fallback = reverse("sales:deal_detail", args=[request.org.slug, deal.pk])
    try:
        deal = deal_services.deal_move(
            actor=actor,
            deal=deal,
            stage=request.POST.get("stage"),
            before=request.POST.get("before"),
            lost_reason=request.POST.get("lost_reason"),
        )
    except PermissionDenied as exc:
        if _wants_json(request):
            return JsonResponse({"detail": str(exc), "errors": []}, status=403)
        raise
    except ValidationError as exc:
        errors = _error_list(exc)
        if _wants_json(request):
            detail = " ".join(e["message"] for e in errors)
            return JsonResponse({"detail": detail, "errors": errors}, status=422)
        for error in errors:
            messages.error(request, error["message"])
        return redirect(safe_next(request, fallback))
    message = _("“%(title)s” moved to %(stage)s.") % {"title": deal.title, "stage": deal.stage.name}
    if _wants_json(request):
        return JsonResponse(
            {
                "detail": message,
                "deal": {
                    "id": deal.pk,
                    "stage": deal.stage_id,
                    "status": deal.status,
                    "probability": deal.probability,
                },
                "columns": _board_summaries_json(request, deal),
            }
        )
    messages.success(request, message)
    return redirect(safe_next(request, fallback))


@org_view
@require_POST
def pipeline_create_default_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """The board's offer when the organisation has no pipeline yet: the usual five stages. Then
    the board, or `next` (the deal form the member had opened, with its contact and company)."""
    try:
        pipeline = pipeline_services.pipeline_create(actor=request.membership, name=_("Sales"))
    except ValidationError as exc:
        for error in _error_list(exc):
            messages.error(request, error["message"])
        return redirect("sales:deal_board", request.org.slug)
    messages.success(request, _("Pipeline %(name)s created.") % {"name": pipeline.name})
    board = reverse("sales:deal_board", args=[request.org.slug]) + f"?pipeline={pipeline.pk}"
    return redirect(safe_next(request, board))


# --- the list ------------------------------------------------------------------------------------


def _page_base(filters: DealFilters, extra: str) -> str:
    """The list's query without the page: the filters, a chosen page size, the view and columns."""
    size = f"per_page={filters.per_page}" if filters.per_page != DealFilters.per_page else ""
    return "&".join(p for p in (filters.querystring("stale_days"), extra, size) if p)


BULK_ACTIONS = {"assign_owner", "move", "delete"}


@org_view
@require_GET
def deal_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _list_response(request, request.GET)


def _list_response(
    request: OrgRequest, params: Any, *, bulk_errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    actor = request.membership
    state = list_state(actor=actor, kind="deals", params=params if isinstance(params, QueryDict) else QueryDict())
    filters = parse_deal_filters(state.params, strict=False)
    page = deal_selectors.deal_list(actor=actor, filters=filters)
    pipelines = list(pipeline_selectors.pipeline_list())
    context = {
        **state.context(actor),
        "view_teams": list(actor.teams.order_by("name", "id")),
        "nav": "deals",
        "page": page,
        "filters": filters,
        "pipelines": pipelines,
        "owners": _owners(request),
        "teams": _teams(),
        "statuses": Deal._meta.get_field("status").choices,
        "list_url": reverse("sales:deal_list", args=[request.org.slug]),
        "querystring": "&".join(p for p in (filters.querystring("stale_days"), state.extra_query) if p),
        "sort": sort_links(
            LIST_SORTS,
            current=filters.sort,
            default=deal_selectors.DEFAULT_SORT,
            base="&".join(p for p in (filters.querystring("sort", "stale_days"), state.extra_query) if p),
        ),
        "page_links": page_links(page, _page_base(filters, state.extra_query)),
        "can_write": can_write(actor),
        "is_htmx": is_htmx(request),
        "lost_reasons": list(pipeline_selectors.lost_reason_list(active_only=True)) if can_write(actor) else [],
        "bulk_url": reverse("sales:deal_bulk", args=[request.org.slug]),
        "bulk_errors": bulk_errors or [],
        "bulk_posted": request.POST if bulk_errors else {},
        "selected_ids": request.POST.getlist("ids") if bulk_errors else [],
    }
    return _render(request, "sales/deals/list.html", context, partial="results", status=status)


@org_view
@require_http_methods(["GET", "POST"])
def deal_inline_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Inline edit of a deal's stage or owner from the list: GET `field=` the cell's editor, GET
    without it the row, POST saves through the deal's services and answers the row."""
    actor = request.membership
    deal = deal_selectors.deal_get(actor=actor, pk=pk)
    source = request.POST if request.method == "POST" else request.GET
    field = source.get("field", "")
    spec = get_spec("deals")
    assert spec is not None
    columns = chosen_columns(spec, [source.get("columns", "")]) or list(spec.default_columns)
    context: dict[str, Any] = {
        "deal": deal,
        "columns": columns,
        "columns_param": ",".join(columns),
        "can_write": can_write(actor),
        "selected_ids": [],
        "row_id": f"deal-row-{deal.pk}",
        "inline_url": reverse("sales:deal_inline", args=[request.org.slug, deal.pk]),
    }
    if field and field not in ("stage", "owner"):
        return HttpResponse(
            _("This column cannot be changed here. Allowed: %(names)s.") % {"names": "stage, owner"},
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    if request.method == "GET" and not field:
        return render(request, "sales/deals/_deal_row.html", context)
    require_change(actor, deal)
    if field == "stage":
        editor = {
            "field": "stage",
            "label": _("Stage"),
            "choices": [(s.pk, s.name) for s in deal.pipeline.stages.order_by("position", "id")],
            "current": deal.stage_id,
        }
    else:
        editor = {
            "field": "owner",
            "label": _("Owner"),
            "choices": [(u.pk, str(u)) for u in _owners(request)],
            "current": deal.owner_id or "",
        }
    if request.method == "POST":
        if not field:
            return HttpResponse(_("Say which column to change."), status=422, content_type="text/plain; charset=utf-8")
        value = request.POST.get("value", "")
        try:
            if field == "stage":
                deal_services.deal_move(
                    actor=actor, deal=deal, stage=value, lost_reason=request.POST.get("lost_reason") or None
                )
            else:
                deal_services.deal_update(actor=actor, deal=deal, data={"owner": value or None})
        except ValidationError as exc:
            context.update(editor)
            context["error"] = " ".join(e["message"] for e in _error_list(exc))
            return render(request, "contacts/_inline_form.html", context, status=422)
        context["deal"] = deal_selectors.deal_get(actor=actor, pk=deal.pk)
        return render(request, "sales/deals/_deal_row.html", context)
    context.update(editor)
    return render(request, "contacts/_inline_form.html", context)


@org_view
@require_POST
def deal_bulk_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """An action on the deals ticked in the list: give them an owner, move them, delete them."""
    actor = request.membership
    require_write(actor)
    next_query = request.POST.get("next", "")[:2000]
    params = QueryDict(next_query)
    list_url = reverse("sales:deal_list", args=[request.org.slug]) + (f"?{next_query}" if next_query else "")
    action, ids = request.POST.get("action", ""), request.POST.getlist("ids")
    if action not in BULK_ACTIONS:
        return _list_response(
            request, params, bulk_errors=[_("Choose what to do with the selected deals.")], status=422
        )
    try:
        if action == "assign_owner":
            count = deal_services.deal_bulk_assign_owner(actor=actor, ids=ids, owner=request.POST.get("owner") or None)
            message = ngettext("Owner given to %(n)s deal.", "Owner given to %(n)s deals.", count)
        elif action == "move":
            count = deal_services.deal_bulk_move(
                actor=actor, ids=ids, stage=request.POST.get("stage"), lost_reason=request.POST.get("lost_reason")
            )
            message = ngettext("%(n)s deal moved.", "%(n)s deals moved.", count)
        elif not request.POST.get("confirm"):
            return _bulk_delete_confirm(request, ids, next_query, list_url)
        else:
            count = deal_services.deal_bulk_delete(actor=actor, ids=ids)
            message = ngettext("%(n)s deal deleted.", "%(n)s deals deleted.", count)
    except ValidationError as exc:
        return _list_response(request, params, bulk_errors=[e["message"] for e in _error_list(exc)], status=422)
    messages.success(request, message % {"n": count})
    return redirect(list_url)


def _bulk_delete_confirm(request: OrgRequest, ids: list[str], next_query: str, list_url: str) -> HttpResponse:
    clean = [int(v) for v in ids if v.isdigit() and 0 < len(v) < 19][: deal_services.MAX_BULK]
    deals = list(deal_selectors.deal_queryset(actor=request.membership).filter(pk__in=clean).order_by("title", "id"))
    context = {
        "nav": "deals",
        "deals": deals,
        "forbidden": [d for d in deals if not can_delete_record(request.membership, d)],
        "next": next_query,
        "cancel_url": list_url,
    }
    return render(request, "sales/deals/bulk_delete_confirm.html", context)


# --- a deal's page -------------------------------------------------------------------------------


@org_view
@require_GET
def deal_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    deal = deal_selectors.deal_get(actor=actor, pk=pk)
    pipeline = pipeline_selectors.pipeline_get(pk=deal.pipeline_id)
    line_items = deal_selectors.deal_line_items(deal=deal)
    totals = deal_services.line_item_totals(line_items)
    events = deal_selectors.deal_events(deal=deal)
    deal_link = RecordLink(deal.title, reverse("sales:deal_detail", args=[request.org.slug, deal.pk]))
    attach_stories(events, replace(viewer_of(request), known={("deal", deal.pk): deal_link}))
    context = {
        "nav": "deals",
        "deal": deal,
        "pipeline": pipeline,
        "weighted": format_money(deal.weighted_amount, deal.currency),
        "amount": format_money(deal.amount, deal.currency),
        "line_rows": display_lines(line_items),
        "line_totals": totals,
        "line_net": deal_services.net_total(totals),
        "events": events,
        "activities": deal_selectors.deal_activities(deal=deal),
        "history": _labelled_history(deal_selectors.deal_history(deal=deal)),
        "lost_reasons": list(pipeline_selectors.lost_reason_list(active_only=True)),
        "can_change": can_change_record(actor, deal),
        "can_delete": can_delete_record(actor, deal),
        "can_write": can_write(actor),
        "stale": _is_stale(deal),
    }
    return render(request, "sales/deals/detail.html", context)


# --- a deal's products (line items) ---------------------------------------------------------------


def _line_items_page(
    request: OrgRequest,
    deal: Deal,
    lines: list[dict[str, Any]],
    *,
    exc: ValidationError | None = None,
    status: int = 200,
) -> HttpResponse:
    """The line editor of the quote form (HTMX rows, live totals) for the deal's products."""
    chosen = {int(row["product"]) for row in lines if str(row.get("product", "")).isdigit()}
    errors = exc.message_dict if exc is not None else {}
    context = {
        "nav": "deals",
        "deal": deal,
        "rows": line_editor_rows(lines or [{}], exc),
        "products": product_selectors.product_choices(include=chosen),
        "line_url": reverse("sales:quote_line_row", args=[request.org.slug]),
        "preview_url": reverse("sales:deal_line_items_preview", args=[request.org.slug, deal.pk]),
        "has_errors": exc is not None,
        "lines_error": [
            message for name, messages_ in errors.items() if not name.startswith("lines.") for message in messages_
        ],
    }
    return render(request, "sales/deals/line_items.html", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def deal_line_items_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Edit the deal's products; saving sets the deal's amount to their net total (tax excluded)."""
    actor = request.membership
    deal = deal_selectors.deal_get(actor=actor, pk=pk)
    require_change(actor, deal)
    if request.method == "GET":
        return _line_items_page(request, deal, stored_line_values(deal_selectors.deal_line_items(deal=deal)))
    lines = lines_from_post(request.POST)
    try:
        deal_services.deal_set_line_items(actor=actor, deal=deal, lines=lines)
    except ValidationError as exc:
        return _line_items_page(request, deal, lines, exc=exc, status=422)
    messages.success(request, _("Products saved."))
    return redirect("sales:deal_detail", request.org.slug, deal.pk)


@org_view
@require_POST
def deal_line_items_preview_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """The totals of what the line editor holds (HTMX; nothing is saved)."""
    actor = request.membership
    deal = deal_selectors.deal_get(actor=actor, pk=pk)
    totals, errors = deal_services.deal_line_items_preview(actor=actor, deal=deal, lines=lines_from_post(request.POST))
    context = {
        "totals": totals,
        "errors": errors,
        "currency": deal.currency,
        "net": deal_services.net_total(totals),
        "amount": deal.amount,
    }
    return render(request, "sales/deals/_line_items_totals.html", context)


def _labelled_history(entries: list[Any]) -> list[Any]:
    """Each audit entry with `rows`: (the field's translated name, before, after) of its changes."""
    for entry in entries:
        rows = []
        for name, (before, after) in sorted(entry.changes.items()):
            try:
                label = str(getattr(Deal._meta.get_field(name), "verbose_name", name))
            except FieldDoesNotExist:
                label = name.replace("_", " ")
            rows.append((label, audit_value(before), audit_value(after)))
        entry.rows = rows
    return entries


def _is_stale(deal: Deal) -> bool:
    deal_selectors.mark_stale([deal], stale_before=deal_selectors.stale_cutoff(DealFilters()))
    return bool(deal.is_stale)  # type: ignore[attr-defined]


def _visible_or_current(queryset: Any, current_id: int | None) -> list[Any]:
    records = list(queryset[:CHOICES_LIMIT])
    if current_id and current_id not in {r.pk for r in records}:
        current = queryset.model.objects.filter(pk=current_id).first()
        if current is not None:
            records.insert(0, current)
    return records


def _deal_form(request: OrgRequest, data: Any = None, *, deal: Deal | None = None, **kwargs: Any) -> DealForm:
    actor = request.membership
    source = data if data is not None else kwargs.get("initial", {})
    contact_id = _as_id(source.get("contact"))
    company_id = _as_id(source.get("company"))
    contacts = contact_selectors.contact_queryset(actor=actor).order_by("last_name", "first_name", "id")
    companies = contact_selectors.company_queryset(actor=actor).order_by("name", "id")
    reasons = pipeline_selectors.lost_reason_list()
    form = DealForm(
        data,
        pipelines=list(pipeline_selectors.pipeline_list()),
        owners=_owners(request),
        contacts=_visible_or_current(contacts.only("id", "first_name", "last_name", "email"), contact_id),
        companies=_visible_or_current(companies.only("id", "name"), company_id),
        lost_reasons=[r for r in reasons if r.is_active or (deal is not None and r.pk == deal.lost_reason_id)],
        **kwargs,
    )
    return attach_pickers(form, request.org.slug, {"contact": "contact", "company": "company"})


def _as_id(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 18 else None


def _form_page(request: OrgRequest, form: DealForm, deal: Deal | None, *, status: int = 200) -> HttpResponse:
    context = {
        "nav": "deals",
        "form": form,
        "deal": deal,
    }
    return render(request, "sales/deals/form.html", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def deal_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    require_write(actor)
    if request.method == "GET":
        default = pipeline_selectors.pipeline_default()
        if default is None:  # the board offers the default pipeline, then brings the member back here
            messages.info(request, _("Create a pipeline first."))
            board = reverse("sales:deal_board", args=[request.org.slug])
            return redirect(f"{board}?{urlencode({'next': request.get_full_path()})}")
        initial = {
            "pipeline": request.GET.get("pipeline") or str(default.pk),
            "stage": request.GET.get("stage", ""),
            "currency": request.org.base_currency,
            "owner": str(request.user.pk),
            "contact": request.GET.get("contact", ""),
            "company": request.GET.get("company", ""),
            "forecast_category": "pipeline",
            "amount": "0.00",
        }
        # started from a contact or a company: its company and owner come along
        known = deal_selectors.deal_context_from(
            actor=actor, contact_id=_as_id(initial["contact"]), company_id=_as_id(initial["company"])
        )
        if known.get("owner") and known["owner"] not in {str(u.pk) for u in _owners(request)}:
            del known["owner"]  # no longer a member who may own deals: the deal stays yours
        initial.update(known)
        return _form_page(request, _deal_form(request, initial=initial), None)
    form = _deal_form(request, request.POST)
    form.is_valid()
    try:
        deal = deal_services.deal_create(actor=actor, data=form.data_for_service())
    except ValidationError as exc:
        form.apply_errors(exc)
        return _form_page(request, form, None, status=422)
    messages.success(request, _("Deal created."))
    return redirect("sales:deal_detail", request.org.slug, deal.pk)


@org_view
@require_http_methods(["GET", "POST"])
def deal_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    deal = deal_selectors.deal_get(actor=actor, pk=pk)
    require_change(actor, deal)
    if request.method == "GET":
        return _form_page(request, _deal_form(request, initial=DealForm.initial_for(deal), deal=deal), deal)
    form = _deal_form(request, request.POST, deal=deal)
    form.is_valid()
    try:
        deal_services.deal_update(actor=actor, deal=deal, data=form.data_for_service(deal))
    except ValidationError as exc:
        form.apply_errors(exc)
        return _form_page(request, form, deal, status=422)
    messages.success(request, _("Deal saved."))
    return redirect("sales:deal_detail", request.org.slug, deal.pk)


@org_view
@require_http_methods(["GET", "POST"])
def deal_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    deal = deal_selectors.deal_get(actor=actor, pk=pk)
    require_delete(actor, deal)
    if request.method == "POST":
        deal_services.deal_delete(actor=actor, deal=deal)
        messages.success(request, _("Deal %(title)s deleted.") % {"title": deal.title})
        return redirect("sales:deal_list", request.org.slug)
    context = {
        "nav": "deals",
        "object": deal,
        "title": _("Delete deal"),
        "question": _("Delete the deal %(title)s? Its line items go with it. This cannot be undone.")
        % {"title": deal.title},
        "cancel_url": reverse("sales:deal_detail", args=[request.org.slug, deal.pk]),
    }
    return render(request, "confirm_delete.html", context)


# --- leads ---------------------------------------------------------------------------------------


@org_view
@require_GET
def lead_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    query, query_error = search_words(request.GET)
    filters = ListFilters(
        q=query, stage=LifecycleStage.LEAD, sort="-created", page=requested_page(request), per_page=50
    )
    page = contact_selectors.contact_list(actor=actor, filters=filters)
    context = {
        "nav": "leads",
        "page": page,
        "query": query,
        "q_error": query_error,
        "page_links": page_links(page, filters.querystring_without("page", "stage")),
        "list_url": reverse("sales:lead_list", args=[request.org.slug]),
        "can_write": can_write(actor),
        "is_htmx": is_htmx(request),
    }
    return _render(request, "sales/deals/lead_list.html", context, partial="results")


def _convert_form(request: OrgRequest, contact: Contact, data: Any = None) -> LeadConvertForm:
    actor = request.membership
    companies = contact_selectors.company_queryset(actor=actor).order_by("name", "id").only("id", "name")
    initial = None
    if data is None:
        default = pipeline_selectors.pipeline_default()
        initial = {
            "company": str(contact.company_id or ""),
            "create_deal": True,
            "deal_title": str(contact.company or contact),
            "deal_currency": request.org.base_currency,
            "deal_pipeline": str(default.pk) if default else "",
        }
    form = LeadConvertForm(
        data,
        initial=initial,
        pipelines=list(pipeline_selectors.pipeline_list()),
        companies=_visible_or_current(companies, contact.company_id),
    )
    return attach_pickers(form, request.org.slug, {"company": "company"})


@org_view
@require_http_methods(["GET", "POST"])
def lead_convert_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Qualify a lead: link or create its company, make it a prospect, open a deal."""
    actor = request.membership
    contact = contact_selectors.contact_get(actor=actor, pk=pk)
    require_change(actor, contact)
    status = 200
    if request.method == "GET":
        form = _convert_form(request, contact)
    else:
        form = _convert_form(request, contact, request.POST)
        form.is_valid()
        try:
            result = lead_services.lead_convert(actor=actor, contact=contact, **form.conversion_args())
        except ValidationError as exc:
            form.apply_errors(exc, LeadConvertForm.ERROR_FIELDS)
            status = 422
        else:
            messages.success(request, _("%(name)s is now a prospect.") % {"name": result.contact})
            if result.deal is not None:
                return redirect("sales:deal_detail", request.org.slug, result.deal.pk)
            return redirect("contacts:contact_detail", request.org.slug, contact.pk)
    context = {"nav": "leads", "contact": contact, "form": form, "is_lead": contact.lifecycle_stage == "lead"}
    return render(request, "sales/deals/lead_convert.html", context, status=status)


# --- sales settings ------------------------------------------------------------------------------


def _settings_page(request: OrgRequest, *, failed: tuple[str, Any] | None = None, status: int = 200) -> HttpResponse:
    """The settings page; `failed` = (key, form) puts a refused form back with its errors."""
    failed_key, failed_form = failed if failed is not None else ("", None)

    def form_for(key: str, cls: type, initial: dict[str, Any]) -> Any:
        if key == failed_key:
            return failed_form
        return cls(initial=initial, auto_id=f"{key}-%s")

    pipelines = list(pipeline_selectors.pipeline_list(with_counts=True))
    for pipeline in pipelines:
        pipeline.form = form_for(f"pipeline-{pipeline.pk}", PipelineForm, {"name": pipeline.name})  # type: ignore[attr-defined]
        pipeline.stage_form = form_for(f"new-stage-{pipeline.pk}", StageForm, {"kind": StageKind.OPEN})  # type: ignore[attr-defined]
        pipeline.delete_error = failed_form if failed_key == f"delete-pipeline-{pipeline.pk}" else None  # type: ignore[attr-defined]
        stages = list(pipeline.stages.all())
        for stage in stages:
            stage.form = form_for(  # type: ignore[attr-defined]
                f"stage-{stage.pk}",
                StageForm,
                {"name": stage.name, "probability": stage.probability, "kind": stage.kind},
            )
            stage.others = [s for s in stages if s.pk != stage.pk]  # type: ignore[attr-defined]
            stage.delete_error = failed_form if failed_key == f"delete-stage-{stage.pk}" else None  # type: ignore[attr-defined]
    reasons = list(pipeline_selectors.lost_reason_list())
    for reason in reasons:
        reason.form = form_for(  # type: ignore[attr-defined]
            f"reason-{reason.pk}", LostReasonForm, {"name": reason.name, "is_active": reason.is_active}
        )
    rates = list(pipeline_selectors.exchange_rate_list())
    for rate in rates:
        rate.form = form_for(  # type: ignore[attr-defined]
            f"rate-{rate.pk}",
            ExchangeRateForm,
            {"currency": rate.currency, "rate": rate.rate, "valid_from": rate.valid_from.isoformat()},
        )
    context = {
        "nav": "sales_settings",
        "pipelines": pipelines,
        "reasons": reasons,
        "rates": rates,
        "new_pipeline_form": form_for("new-pipeline", PipelineForm, {}),
        "new_reason_form": form_for("new-reason", LostReasonForm, {"is_active": True}),
        "new_rate_form": form_for("new-rate", ExchangeRateForm, {}),
        "can_manage": pipeline_services.can_manage_pipelines(request.membership),
        "base_currency": request.org.base_currency,
    }
    return render(request, "sales/settings/index.html", context, status=status)


def _settings_url(request: OrgRequest, anchor: str = "") -> str:
    return reverse("sales:sales_settings", args=[request.org.slug]) + (f"#{anchor}" if anchor else "")


def _settings_write(
    request: OrgRequest, key: str, form: Any, action: Any, success: str, anchor: str = ""
) -> HttpResponse:
    """Run `action(data)` (a service call) with what the form carries; errors re-render with 422."""
    pipeline_services.require_pipeline_admin(request.membership)
    form.is_valid()
    try:
        action({name: request.POST[name] for name in form.fields if name in request.POST} | _checkboxes(request, form))
    except ValidationError as exc:
        form.apply_errors(exc)
        return _settings_page(request, failed=(key, form), status=422)
    messages.success(request, success)
    return redirect(_settings_url(request, anchor))


def _checkboxes(request: OrgRequest, form: Any) -> dict[str, Any]:
    return {
        name: name in request.POST
        for name, field in form.fields.items()
        if isinstance(field, django_forms.BooleanField) and "_present" in request.POST
    }


@org_view
@require_GET
def sales_settings_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _settings_page(request)


@org_view
@require_POST
def pipeline_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = PipelineForm(request.POST, auto_id="new-pipeline-%s")
    return _settings_write(
        request,
        "new-pipeline",
        form,
        lambda data: pipeline_services.pipeline_create(actor=request.membership, name=data.get("name", "")),
        _("Pipeline created with the usual stages."),
        "pipelines",
    )


@org_view
@require_POST
def pipeline_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    pipeline = pipeline_selectors.pipeline_get(pk=pk)
    form = PipelineForm(request.POST, auto_id=f"pipeline-{pk}-%s")
    extra = {"is_default": True} if request.POST.get("is_default") else {}
    return _settings_write(
        request,
        f"pipeline-{pk}",
        form,
        lambda data: pipeline_services.pipeline_update(actor=request.membership, pipeline=pipeline, data=data | extra),
        _("Pipeline saved."),
        f"pipeline-{pk}",
    )


@org_view
@require_POST
def pipeline_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    pipeline = pipeline_selectors.pipeline_get(pk=pk)
    form = PipelineForm(request.POST, auto_id=f"delete-pipeline-{pk}-%s")
    return _settings_write(
        request,
        f"delete-pipeline-{pk}",
        form,
        lambda data: pipeline_services.pipeline_delete(actor=request.membership, pipeline=pipeline),
        _("Pipeline %(name)s deleted.") % {"name": pipeline.name},
        "pipelines",
    )


@org_view
@require_POST
def pipeline_stage_create_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    pipeline = pipeline_selectors.pipeline_get(pk=pk)
    form = StageForm(request.POST, auto_id=f"new-stage-{pk}-%s")
    return _settings_write(
        request,
        f"new-stage-{pk}",
        form,
        lambda data: pipeline_services.stage_create(actor=request.membership, pipeline=pipeline, data=data),
        _("Stage added."),
        f"pipeline-{pk}",
    )


@org_view
@require_POST
def stage_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """Save a stage's name, probability and kind; or only move it (`position`, the up/down buttons)."""
    stage = pipeline_selectors.stage_get(pk=pk)
    form = StageForm(request.POST, auto_id=f"stage-{pk}-%s")
    position = request.POST.get("position")
    if position not in (None, ""):
        return _settings_write(
            request,
            f"stage-{pk}",
            form,
            lambda data: pipeline_services.stage_update(
                actor=request.membership, stage=stage, data={"position": position}
            ),
            _("Stages reordered."),
            f"pipeline-{stage.pipeline_id}",
        )
    return _settings_write(
        request,
        f"stage-{pk}",
        form,
        lambda data: pipeline_services.stage_update(actor=request.membership, stage=stage, data=data),
        _("Stage saved."),
        f"pipeline-{stage.pipeline_id}",
    )


@org_view
@require_POST
def stage_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    stage = pipeline_selectors.stage_get(pk=pk)
    form = StageForm(request.POST, auto_id=f"delete-stage-{pk}-%s")
    move_to = request.POST.get("move_to") or None
    return _settings_write(
        request,
        f"delete-stage-{pk}",
        form,
        lambda data: pipeline_services.stage_delete(actor=request.membership, stage=stage, move_to=move_to),
        _("Stage %(name)s deleted.") % {"name": stage.name},
        f"pipeline-{stage.pipeline_id}",
    )


@org_view
@require_POST
def lost_reason_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = LostReasonForm(request.POST, auto_id="new-reason-%s")
    return _settings_write(
        request,
        "new-reason",
        form,
        lambda data: lost_services_create(request.membership, data),
        _("Lost reason added."),
        "lost-reasons",
    )


def lost_services_create(actor: Membership, data: dict[str, Any]) -> Any:
    data.setdefault("is_active", True)
    return pipeline_services.lost_reason_create(actor=actor, data=data)


@org_view
@require_POST
def lost_reason_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    reason = pipeline_selectors.lost_reason_get(pk=pk)
    form = LostReasonForm(request.POST, auto_id=f"reason-{pk}-%s")
    return _settings_write(
        request,
        f"reason-{pk}",
        form,
        lambda data: pipeline_services.lost_reason_update(actor=request.membership, reason=reason, data=data),
        _("Lost reason saved."),
        "lost-reasons",
    )


@org_view
@require_POST
def lost_reason_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    reason = pipeline_selectors.lost_reason_get(pk=pk)
    form = LostReasonForm(request.POST, auto_id=f"delete-reason-{pk}-%s")
    return _settings_write(
        request,
        f"reason-{pk}",
        form,
        lambda data: pipeline_services.lost_reason_delete(actor=request.membership, reason=reason),
        _("Lost reason %(name)s deleted.") % {"name": reason.name},
        "lost-reasons",
    )


@org_view
@require_POST
def exchange_rate_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    form = ExchangeRateForm(request.POST, auto_id="new-rate-%s")
    return _settings_write(
        request,
        "new-rate",
        form,
        lambda data: rate_services.exchange_rate_create(actor=request.membership, data=data),
        _("Exchange rate added."),
        "exchange-rates",
    )


@org_view
@require_POST
def exchange_rate_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    rate = pipeline_selectors.exchange_rate_get(pk=pk)
    form = ExchangeRateForm(request.POST, auto_id=f"rate-{pk}-%s")
    return _settings_write(
        request,
        f"rate-{pk}",
        form,
        lambda data: rate_services.exchange_rate_update(actor=request.membership, rate=rate, data=data),
        _("Exchange rate saved."),
        "exchange-rates",
    )


@org_view
@require_POST
def exchange_rate_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    rate = pipeline_selectors.exchange_rate_get(pk=pk)
    form = ExchangeRateForm(request.POST, auto_id=f"delete-rate-{pk}-%s")
    return _settings_write(
        request,
        f"rate-{pk}",
        form,
        lambda data: rate_services.exchange_rate_delete(actor=request.membership, rate=rate),
        _("Exchange rate deleted."),
        "exchange-rates",
    )


urlpatterns = [
    path("deals/", deal_list_view, name="deal_list"),
    path("deals/board/", deal_board_view, name="deal_board"),
    path("deals/board/stages/<int:pk>/", stage_cards_view, name="stage_cards"),
    path("deals/board/default-pipeline/", pipeline_create_default_view, name="pipeline_create_default"),
    path("deals/new/", deal_create_view, name="deal_create"),
    path("deals/<int:pk>/inline/", deal_inline_view, name="deal_inline"),
    path("deals/bulk/", deal_bulk_view, name="deal_bulk"),
    path("deals/<int:pk>/", deal_detail_view, name="deal_detail"),
    path("deals/<int:pk>/edit/", deal_edit_view, name="deal_edit"),
    path("deals/<int:pk>/delete/", deal_delete_view, name="deal_delete"),
    path("deals/<int:pk>/move/", deal_move_view, name="deal_move"),
    path("deals/<int:pk>/products/", deal_line_items_view, name="deal_line_items"),
    path("deals/<int:pk>/products/preview/", deal_line_items_preview_view, name="deal_line_items_preview"),
    path("leads/", lead_list_view, name="lead_list"),
    path("leads/<int:pk>/convert/", lead_convert_view, name="lead_convert"),
    path("sales/settings/", sales_settings_view, name="sales_settings"),
    path("sales/settings/pipelines/", pipeline_create_view, name="pipeline_create"),
    path("sales/settings/pipelines/<int:pk>/", pipeline_edit_view, name="pipeline_edit"),
    path("sales/settings/pipelines/<int:pk>/delete/", pipeline_delete_view, name="pipeline_delete"),
    path("sales/settings/pipelines/<int:pk>/stages/", pipeline_stage_create_view, name="pipeline_stage_create"),
    path("sales/settings/stages/<int:pk>/", stage_edit_view, name="stage_edit"),
    path("sales/settings/stages/<int:pk>/delete/", stage_delete_view, name="stage_delete"),
    path("sales/settings/lost-reasons/", lost_reason_create_view, name="lost_reason_create"),
    path("sales/settings/lost-reasons/<int:pk>/", lost_reason_edit_view, name="lost_reason_edit"),
    path("sales/settings/lost-reasons/<int:pk>/delete/", lost_reason_delete_view, name="lost_reason_delete"),
    path("sales/settings/exchange-rates/", exchange_rate_create_view, name="exchange_rate_create"),
    path("sales/settings/exchange-rates/<int:pk>/", exchange_rate_edit_view, name="exchange_rate_edit"),
    path("sales/settings/exchange-rates/<int:pk>/delete/", exchange_rate_delete_view, name="exchange_rate_delete"),
]
