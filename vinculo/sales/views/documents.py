"""Catalogue and sales document pages: products, price lists, quotes (with print view and PDF) and
orders. Views parse the request, call a selector or a service and render the page, or only the
named partial when HTMX asks; refused input comes back as the form with its errors (422)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet, TextChoices
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.permissions import can_write, require_write
from vinculo.contacts.list_state import list_state
from vinculo.contacts.selectors import company_queryset, contact_queryset
from vinculo.core.currencies import minor_unit
from vinculo.core.formatting import format_number
from vinculo.core.pagination import Page, paginate, requested_page
from vinculo.core.query_params import search_words
from vinculo.core.validation import Errors, clean_currency
from vinculo.core.views import org_view
from vinculo.core.views import render_page as _render
from vinculo.sales import pdf
from vinculo.sales.forms_documents import (
    DocumentForm,
    PriceListForm,
    PriceListItemForm,
    ProductForm,
    QuoteEmailForm,
    line_errors,
    lines_from_post,
)
from vinculo.sales.models import DealStatus, LineItem, OrderStatus, QuoteStatus
from vinculo.sales.pricing import CENT, PricedLine, price_list_for, product_prices
from vinculo.sales.selectors import documents as document_selectors
from vinculo.sales.selectors import products as product_selectors
from vinculo.sales.selectors.deals import deal_queryset
from vinculo.sales.services import documents as document_services
from vinculo.sales.services import products as product_services
from vinculo.sales.services import quote_email
from vinculo.sales.services import refunds as refund_services
from vinculo.sales.services.documents import DocumentConflict
from vinculo.sales.views.pickers import attach_pickers

PER_PAGE = 50
CHOICES_LIMIT = 200
T = "sales/documents/"


# --- helpers --------------------------------------------------------------------------------------


def _list_context(request: OrgRequest, queryset: QuerySet[Any], url_name: str, **filters: str) -> dict[str, Any]:
    """A page of `queryset` with its previous/next links keeping the filters."""
    page: Page = paginate(queryset, page=requested_page(request), per_page=PER_PAGE)
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    links = {}
    if page.has_previous:
        links["previous"] = f"?{query}&page={page.number - 1}".replace("?&", "?")
    if page.has_next:
        links["next"] = f"?{query}&page={page.number + 1}".replace("?&", "?")
    return {
        "page": page,
        "page_links": links,
        "list_url": reverse(url_name, args=[request.org.slug]),
        "filters": filters,
        "can_write": can_write(request.membership),
    }


def display_lines(lines: Any) -> list[dict[str, Any]]:
    """Each stored line with its net amount (for display only; stored totals are the rounded ones)."""
    rows = []
    for line in lines:
        priced = PricedLine.from_stored(line)
        rows.append({"line": line, "net": priced.net.quantize(CENT)})
    return rows


# --- products -------------------------------------------------------------------------------------


@org_view
@require_GET
def product_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    q, q_error = search_words(request.GET)
    context = {
        "nav": "products",
        "q": q,
        "q_error": q_error,
        **_list_context(request, product_selectors.product_list(q=q), "sales:product_list", q=q),
    }
    return _render(request, T + "product_list.html", context, partial="results")


def _product_form_page(
    request: OrgRequest, form: ProductForm, product: Any = None, *, status: int = 200
) -> HttpResponse:
    return render(
        request, T + "product_form.html", {"nav": "products", "form": form, "product": product}, status=status
    )


@org_view
@require_http_methods(["GET", "POST"])
def product_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    require_write(request.membership)
    if request.method == "GET":
        return _product_form_page(request, ProductForm())
    form = ProductForm(request.POST)
    if form.is_valid():
        try:
            product = product_services.product_create(actor=request.membership, data=form.service_data())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Product created."))
            return redirect("sales:product_detail", request.org.slug, product.pk)
    return _product_form_page(request, form, status=422)


@org_view
@require_GET
def product_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    product = product_selectors.product_get(pk=pk)
    context = {
        "nav": "products",
        "product": product,
        "prices": product_selectors.product_prices(product=product),
        "can_write": can_write(request.membership),
    }
    return render(request, T + "product_detail.html", context)


@org_view
@require_http_methods(["GET", "POST"])
def product_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    product = product_selectors.product_get(pk=pk)
    require_write(request.membership)
    if request.method == "GET":
        return _product_form_page(request, ProductForm(initial=ProductForm.initial_for(product)), product)
    form = ProductForm(request.POST)
    if form.is_valid():
        try:
            product_services.product_update(actor=request.membership, product=product, data=form.service_data())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Product saved."))
            return redirect("sales:product_detail", request.org.slug, product.pk)
    return _product_form_page(request, form, product, status=422)


@org_view
@require_http_methods(["GET", "POST"])
def product_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    product = product_selectors.product_get(pk=pk)
    require_write(request.membership)
    if request.method == "POST":
        product_services.product_delete(actor=request.membership, product=product)
        messages.success(request, _("Product %(name)s deleted.") % {"name": product})
        return redirect("sales:product_list", request.org.slug)
    context = {
        "nav": "products",
        "title": _("Delete product"),
        "question": _(
            "Delete the product %(name)s and its prices? Quotes and orders keep their lines. This cannot be undone."
        )
        % {"name": product},
        "cancel_url": reverse("sales:product_detail", args=[request.org.slug, product.pk]),
    }
    return render(request, "confirm_delete.html", context)


# --- price lists ----------------------------------------------------------------------------------


@org_view
@require_GET
def price_list_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    context = {
        "nav": "price_lists",
        **_list_context(request, product_selectors.price_list_list(), "sales:price_list_list"),
    }
    return _render(request, T + "price_list_list.html", context, partial="results")


def _price_list_form_page(
    request: OrgRequest, form: PriceListForm, price_list: Any = None, *, status: int = 200
) -> HttpResponse:
    context = {"nav": "price_lists", "form": form, "price_list": price_list}
    return render(request, T + "price_list_form.html", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def price_list_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    require_write(request.membership)
    if request.method == "GET":
        return _price_list_form_page(request, PriceListForm(initial={"currency": request.org.base_currency}))
    form = PriceListForm(request.POST)
    if form.is_valid():
        try:
            price_list = product_services.price_list_create(actor=request.membership, data=form.service_data())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Price list created."))
            return redirect("sales:price_list_detail", request.org.slug, price_list.pk)
    return _price_list_form_page(request, form, status=422)


def _price_list_detail(
    request: OrgRequest, price_list: Any, item_form: PriceListItemForm | None = None
) -> HttpResponse:
    item_form = item_form or PriceListItemForm(products=product_selectors.product_choices())
    attach_pickers(item_form, request.org.slug, {"product": "product"})  # any product, searched as you type
    context = {
        "nav": "price_lists",
        "price_list": price_list,
        "items": list(product_selectors.price_list_items(price_list=price_list)),
        "item_form": item_form,
        "can_write": can_write(request.membership),
    }
    return render(request, T + "price_list_detail.html", context, status=422 if item_form.is_bound else 200)


@org_view
@require_GET
def price_list_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    return _price_list_detail(request, product_selectors.price_list_get(pk=pk))


@org_view
@require_http_methods(["GET", "POST"])
def price_list_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    price_list = product_selectors.price_list_get(pk=pk)
    require_write(request.membership)
    if request.method == "GET":
        initial = {"name": price_list.name, "currency": price_list.currency, "is_default": price_list.is_default}
        return _price_list_form_page(request, PriceListForm(initial=initial), price_list)
    form = PriceListForm(request.POST)
    if form.is_valid():
        try:
            product_services.price_list_update(
                actor=request.membership, price_list=price_list, data=form.service_data()
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Price list saved."))
            return redirect("sales:price_list_detail", request.org.slug, price_list.pk)
    return _price_list_form_page(request, form, price_list, status=422)


@org_view
@require_http_methods(["GET", "POST"])
def price_list_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    price_list = product_selectors.price_list_get(pk=pk)
    require_write(request.membership)
    if request.method == "POST":
        product_services.price_list_delete(actor=request.membership, price_list=price_list)
        messages.success(request, _("Price list %(name)s deleted.") % {"name": price_list.name})
        return redirect("sales:price_list_list", request.org.slug)
    context = {
        "nav": "price_lists",
        "title": _("Delete price list"),
        "question": _("Delete the price list %(name)s and all its prices? This cannot be undone.")
        % {"name": price_list},
        "cancel_url": reverse("sales:price_list_detail", args=[request.org.slug, price_list.pk]),
    }
    return render(request, "confirm_delete.html", context)


@org_view
@require_POST
def price_list_add_item_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    price_list = product_selectors.price_list_get(pk=pk)
    require_write(request.membership)
    picked = _digits(request.POST.get("product"))  # the picker may choose any product, not only the first ones
    products = product_selectors.product_choices(include={picked} if picked is not None else None)
    form = PriceListItemForm(request.POST, products=products)
    form.is_valid()
    try:
        product_services.price_list_item_create(
            actor=request.membership, price_list=price_list, data=form.service_data()
        )
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _price_list_detail(request, price_list, form)
    messages.success(request, _("Price added."))
    return redirect("sales:price_list_detail", request.org.slug, price_list.pk)


@org_view
@require_http_methods(["GET", "POST"])
def price_list_item_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    item = product_selectors.price_list_item_get(pk=pk)
    require_write(request.membership)
    products = [item.product]
    status = 200
    if request.method == "POST":
        form = PriceListItemForm({"product": str(item.product_id), **request.POST.dict()}, products=products)
        form.is_valid()
        try:
            product_services.price_list_item_update(
                actor=request.membership, item=item, data={"unit_price": form.cleaned_data.get("unit_price", "")}
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
            status = 422
        else:
            messages.success(request, _("Price saved."))
            return redirect("sales:price_list_detail", request.org.slug, item.price_list_id)
    else:
        form = PriceListItemForm(
            initial={"product": str(item.product_id), "unit_price": item.unit_price}, products=products
        )
    form.fields["product"].disabled = True
    return render(
        request, T + "price_list_item_form.html", {"nav": "price_lists", "form": form, "item": item}, status=status
    )


@org_view
@require_POST
def price_list_item_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    item = product_selectors.price_list_item_get(pk=pk)
    product_services.price_list_item_delete(actor=request.membership, item=item)
    messages.success(request, _("Price removed."))
    return redirect("sales:price_list_detail", request.org.slug, item.price_list_id)


# --- the line editor shared by quotes and orders --------------------------------------------------


def _document_form(
    request: OrgRequest, data: Any = None, *, kind: str, initial: dict[str, Any] | None = None
) -> DocumentForm:
    """The header form with its choices: the first contacts, companies and open deals the actor
    sees, plus whatever is already chosen."""
    actor = request.membership
    values = data if data is not None else (initial or {})

    def chosen(queryset: QuerySet[Any], name: str) -> list[Any]:
        records = list(queryset[:CHOICES_LIMIT])
        value = str(values.get(name) or "")
        if value.isdigit() and all(str(r.pk) != value for r in records):
            records += list(queryset.filter(pk=int(value)))
        return records

    contacts = chosen(contact_queryset(actor=actor).order_by("first_name", "last_name", "id"), "contact")
    companies = chosen(company_queryset(actor=actor).order_by("name", "id"), "company")
    deals = chosen(deal_queryset(actor=actor).filter(status=DealStatus.OPEN).order_by("title", "id"), "deal")
    form = DocumentForm(
        data,
        initial=initial,
        contacts=contacts,
        companies=companies,
        deals=deals,
        price_lists=product_selectors.price_list_choices(),
        kind=kind,
    )
    return attach_pickers(form, request.org.slug, {"contact": "contact", "company": "company", "deal": "deal"})


def line_editor_rows(lines: list[dict[str, Any]], exc: ValidationError | None = None) -> list[dict[str, Any]]:
    """The rows of the line editor (`_line_row.html`): what was typed, with each row's errors."""
    errors = line_errors(exc, len(lines))
    return [{"values": values, "errors": errors[i]} for i, values in enumerate(lines)]


def _editor_context(
    request: OrgRequest,
    form: DocumentForm,
    lines: list[dict[str, Any]],
    *,
    kind: str,
    document: Any = None,
    exc: ValidationError | None = None,
) -> dict[str, Any]:
    chosen = {int(row["product"]) for row in lines if str(row.get("product", "")).isdigit()}
    return {
        "nav": "quotes" if kind == "quote" else "orders",
        "kind": kind,
        "form": form,
        "document": document,
        "rows": line_editor_rows(lines or [{}], exc),
        "products": product_selectors.product_choices(include=chosen),
        "preview_url": reverse(f"sales:{kind}_preview", args=[request.org.slug]),
        "line_url": reverse("sales:quote_line_row", args=[request.org.slug]),
        "lines_error": exc.message_dict.get("lines", []) if exc is not None else [],
    }


def stored_line_values(lines: Iterable[LineItem]) -> list[dict[str, str]]:
    """Stored lines as the editor's input values."""
    return [
        {
            "product": str(line.product_id or ""),
            "description": line.description,
            # 50, not 5E+1 (what str() of a normalised 50.000 gives)
            "quantity": format(line.quantity.normalize(), "f"),
            "unit_price": str(line.unit_price),
            "discount_percent": str(line.discount_percent),
            "tax_rate": str(line.tax_rate),
        }
        for line in lines
    ]


@org_view
@require_GET
def quote_line_row_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """One empty line row, appended to the form by the "Add line" button (HTMX)."""
    context = {"row": {"values": {}, "errors": {}}, "products": product_selectors.product_choices()}
    return render(request, T + "_line_row.html", context)


def _preview(request: OrgRequest) -> HttpResponse:
    """The totals of what the form holds, computed by the services (nothing is saved)."""
    form = _document_form(request, request.POST, kind="quote")
    form.is_valid()
    data = {k: form.cleaned_data.get(k, "") for k in ("currency", "price_list")}
    totals, errors = document_services.document_preview(
        actor=request.membership, data={**data, "lines": lines_from_post(request.POST)}
    )
    currency = (form.cleaned_data.get("currency") or request.org.base_currency).upper()
    return render(request, T + "_totals.html", {"totals": totals, "errors": errors, "currency": currency})


@org_view
@require_POST
def quote_preview_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _preview(request)


@org_view
@require_POST
def order_preview_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _preview(request)


# --- quotes ---------------------------------------------------------------------------------------


def _document_list(
    request: OrgRequest, kind: str, statuses: type[TextChoices], select: Callable[..., QuerySet[Any]]
) -> HttpResponse:
    """The list page of quotes or orders (`kind`), searched by `q` and filtered by a status; the
    orders list has saved views and a column chooser."""
    actor = request.membership
    state = list_state(actor=actor, kind="orders", params=request.GET) if kind == "order" else None
    params = state.params if state is not None else request.GET
    q, q_error = search_words(params)
    status = params.get("status", "")
    status = status if status in statuses.values else ""
    queryset = select(actor=actor, q=q, status=status)
    context = {
        "nav": f"{kind}s",
        "q": q,
        "q_error": q_error,
        "status": status,
        "statuses": statuses.choices,
        **_list_context(request, queryset, f"sales:{kind}_list", q=q, status=status),
    }
    if state is not None:
        context.update(state.context(actor))
        context["view_teams"] = list(actor.teams.order_by("name", "id"))
        extra = state.extra_query
        if extra:
            context["page_links"] = {k: f"{v}&{extra}" for k, v in context["page_links"].items()}
    return _render(request, f"{T}{kind}_list.html", context, partial="results")


@org_view
@require_GET
def quote_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _document_list(request, "quote", QuoteStatus, document_selectors.quote_list)


@org_view
@require_http_methods(["GET", "POST"])
def quote_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    require_write(request.membership)
    if request.method == "GET":
        initial = {
            "currency": request.org.base_currency,
            **{k: request.GET[k] for k in ("contact", "company", "deal") if request.GET.get(k, "").isdigit()},
        }
        # started from a deal (or a contact): what it already knows comes along, its products too
        known, deal_lines = document_selectors.quote_context_from(
            actor=request.membership,
            deal_id=_digits(initial.get("deal")),
            contact_id=_digits(initial.get("contact")),
        )
        initial.update({k: v for k, v in known.items() if k in ("deal", "currency") or not initial.get(k)})
        form = _document_form(request, kind="quote", initial=initial)
        lines = stored_line_values(deal_lines)
        return render(request, T + "document_form.html", _editor_context(request, form, lines, kind="quote"))
    form = _document_form(request, request.POST, kind="quote")
    lines = lines_from_post(request.POST)
    form.is_valid()
    try:
        quote = document_services.quote_create(actor=request.membership, data=form.service_data(lines))
    except ValidationError as exc:
        form.apply_service_errors(exc)
        context = _editor_context(request, form, lines, kind="quote", exc=exc)
        return render(request, T + "document_form.html", context, status=422)
    messages.success(request, _("Quote %(number)s created.") % {"number": quote.number})
    return redirect("sales:quote_detail", request.org.slug, quote.pk)


@org_view
@require_http_methods(["GET", "POST"])
def quote_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    quote = document_selectors.quote_get(actor=request.membership, pk=pk)
    require_write(request.membership)
    if quote.status != QuoteStatus.DRAFT:
        messages.error(request, _("Only draft quotes can be edited."))
        return redirect("sales:quote_detail", request.org.slug, quote.pk)
    if request.method == "GET":
        initial = {
            "contact": quote.contact_id or "",
            "company": quote.company_id or "",
            "deal": quote.deal_id or "",
            "currency": quote.currency,
            "valid_until": quote.valid_until.isoformat() if quote.valid_until else "",
            "notes": quote.notes,
        }
        form = _document_form(request, kind="quote", initial=initial)
        context = _editor_context(request, form, stored_line_values(quote.lines.all()), kind="quote", document=quote)
        return render(request, T + "document_form.html", context)
    form = _document_form(request, request.POST, kind="quote")
    lines = lines_from_post(request.POST)
    form.is_valid()
    try:
        document_services.quote_update(actor=request.membership, quote=quote, data=form.service_data(lines))
    except ValidationError as exc:
        form.apply_service_errors(exc)
        context = _editor_context(request, form, lines, kind="quote", document=quote, exc=exc)
        return render(request, T + "document_form.html", context, status=422)
    messages.success(request, _("Quote %(number)s saved.") % {"number": quote.number})
    return redirect("sales:quote_detail", request.org.slug, quote.pk)


@org_view
@require_GET
def quote_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    quote = document_selectors.quote_get(actor=request.membership, pk=pk)
    context = {
        "nav": "quotes",
        "quote": quote,
        "rows": display_lines(quote.lines.all()),
        "order": document_selectors.quote_order(quote=quote) if quote.status == QuoteStatus.ACCEPTED else None,
        "can_write": can_write(request.membership),
    }
    return render(request, T + "quote_detail.html", context)


def _quote_action(request: OrgRequest, pk: int, action: str) -> HttpResponse:
    quote = document_selectors.quote_get(actor=request.membership, pk=pk)
    try:
        if action == "send":
            document_services.quote_send(actor=request.membership, quote=quote)
            messages.success(request, _("Quote %(number)s marked as sent.") % {"number": quote.number})
        elif action == "accept":
            order = document_services.quote_accept(actor=request.membership, quote=quote)
            messages.success(
                request,
                _("Quote %(quote)s accepted: order %(order)s placed.") % {"quote": quote.number, "order": order.number},
            )
            return redirect("sales:order_detail", request.org.slug, order.pk)
        elif action == "decline":
            document_services.quote_decline(actor=request.membership, quote=quote)
            messages.success(request, _("Quote %(number)s declined.") % {"number": quote.number})
    except DocumentConflict as exc:
        messages.error(request, exc.message)
    return redirect("sales:quote_detail", request.org.slug, quote.pk)


@org_view
@require_POST
def quote_send_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    return _quote_action(request, pk, "send")


def new_form_key() -> str:
    return secrets.token_urlsafe(16)


@org_view
@require_http_methods(["GET", "POST"])
def quote_email_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """ "Send by e-mail": a small form (to, subject, message) that queues the quote's PDF."""
    quote = document_selectors.quote_get(actor=request.membership, pk=pk)
    require_write(request.membership)
    detail_url = reverse("sales:quote_detail", args=[request.org.slug, quote.pk])
    if request.method == "GET":
        initial = {**quote_email.quote_email_defaults(actor=request.membership, quote=quote), "key": new_form_key()}
        form = QuoteEmailForm(initial=initial)
        return render(request, T + "quote_email.html", {"nav": "quotes", "quote": quote, "form": form})
    form = QuoteEmailForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        emailed = quote_email.quote_email(
            actor=request.membership,
            quote=quote,
            to=data.get("to", ""),
            subject=data.get("subject", ""),
            message=data.get("message", ""),
            idempotency_key=data.get("key", ""),
        )
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return render(request, T + "quote_email.html", {"nav": "quotes", "quote": quote, "form": form}, status=422)
    except DocumentConflict as exc:
        messages.error(request, exc.message)
        return redirect(detail_url)
    messages.success(
        request,
        _("Quote %(number)s is on its way to %(to)s.") % {"number": quote.number, "to": emailed.message.to_address},
    )
    return redirect(detail_url)


@org_view
@require_POST
def quote_accept_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    return _quote_action(request, pk, "accept")


@org_view
@require_POST
def quote_decline_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    return _quote_action(request, pk, "decline")


@org_view
@require_http_methods(["GET", "POST"])
def quote_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    quote = document_selectors.quote_get(actor=request.membership, pk=pk)
    require_write(request.membership)
    detail_url = reverse("sales:quote_detail", args=[request.org.slug, quote.pk])
    if request.method == "POST":
        try:
            document_services.quote_delete(actor=request.membership, quote=quote)
        except DocumentConflict as exc:
            messages.error(request, exc.message)
            return redirect(detail_url)
        messages.success(request, _("Quote %(number)s deleted.") % {"number": quote.number})
        return redirect("sales:quote_list", request.org.slug)
    context = {
        "nav": "quotes",
        "title": _("Delete quote"),
        "question": _("Delete the draft quote %(number)s? This cannot be undone.") % {"number": quote.number},
        "cancel_url": detail_url,
    }
    return render(request, "confirm_delete.html", context)


@org_view
@require_GET
def quote_print_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """The quote as a printable page (the browser's "Print" or "Save as PDF")."""
    quote = document_selectors.quote_get(actor=request.membership, pk=pk)
    context = {"quote": quote, "rows": display_lines(quote.lines.all()), "organization": request.org}
    return render(request, T + "quote_print.html", context)


@org_view
@require_GET
def quote_pdf_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    quote = document_selectors.quote_get(actor=request.membership, pk=pk)
    content = pdf.quote_pdf(quote=quote, organization=request.org)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf.filename(quote.number)}"'
    return response


# --- orders ---------------------------------------------------------------------------------------


@org_view
@require_GET
def order_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _document_list(request, "order", OrderStatus, document_selectors.order_list)


@org_view
@require_http_methods(["GET", "POST"])
def order_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """A rep enters an order taken on the phone or at the counter (phone-friendly form)."""
    require_write(request.membership)
    if request.method == "GET":
        initial = {
            "currency": request.org.base_currency,
            **{k: request.GET[k] for k in ("contact", "company") if request.GET.get(k, "").isdigit()},
        }
        form = _document_form(request, kind="order", initial=initial)
        return render(request, T + "document_form.html", _editor_context(request, form, [], kind="order"))
    form = _document_form(request, request.POST, kind="order")
    lines = lines_from_post(request.POST)
    form.is_valid()
    try:
        order, _created = document_services.order_create(actor=request.membership, data=form.service_data(lines))
    except ValidationError as exc:
        form.apply_service_errors(exc)
        context = _editor_context(request, form, lines, kind="order", exc=exc)
        return render(request, T + "document_form.html", context, status=422)
    messages.success(request, _("Order %(number)s placed.") % {"number": order.number})
    return redirect("sales:order_detail", request.org.slug, order.pk)


def _order_context(request: OrgRequest, order: Any) -> dict[str, Any]:
    lines = list(order.lines.all())
    left = order.total - order.refunded_total
    return {
        "nav": "orders",
        "order": order,
        "lines": lines,
        "adjustments": list(order.adjustments.all()),
        "refunds": list(order.refunds.all()),
        "warnings": document_selectors.order_warnings(order),
        "refundable": f"{left:.2f}" if left > 0 and order.status != OrderStatus.CANCELLED else "",
        "next_statuses": document_services.order_status_choices(order),
        "can_write": can_write(request.membership),
    }


@org_view
@require_GET
def order_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    order = document_selectors.order_get(actor=request.membership, pk=pk)
    return render(request, T + "order_detail.html", _order_context(request, order))


@org_view
@require_POST
def order_refund_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """A rep records money given back on an order (amount and reason); refused input comes back
    as the page with the errors next to the fields (422)."""
    order = document_selectors.order_get(actor=request.membership, pk=pk)
    values = {"amount": request.POST.get("amount", "").strip(), "reason": request.POST.get("reason", "").strip()}
    try:
        refund, _created = refund_services.refund_record(actor=request.membership, order=order, data=values)
    except ValidationError as exc:
        context = {**_order_context(request, order), "refund_errors": exc.message_dict, "refund_values": values}
        return render(request, T + "order_detail.html", context, status=422)
    amount = format_number(refund.amount, minor_unit(refund.currency))
    messages.success(
        request,
        _("%(amount)s %(currency)s refunded on order %(number)s.")
        % {"amount": amount, "currency": refund.currency, "number": order.number},
    )
    return redirect("sales:order_detail", request.org.slug, order.pk)


@org_view
@require_POST
def order_status_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    order = document_selectors.order_get(actor=request.membership, pk=pk)
    try:
        document_services.order_set_status(actor=request.membership, order=order, status=request.POST.get("status", ""))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        order.refresh_from_db(fields=["status"])
        messages.success(
            request,
            _("Order %(number)s is now %(status)s.")
            % {"number": order.number, "status": order.get_status_display().lower()},
        )
    return redirect("sales:order_detail", request.org.slug, order.pk)


def _digits(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 18 else None


@org_view
@require_GET
def product_price_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """What a line of this product is priced at when saved, for the line editor to show as soon as
    the product is picked: `?currency=` (the base currency if left out) and `?price_list=` (the
    currency's default list if left out). `{"unit_price": "250.00" or null, "tax_rate", "description",
    "currency", "message"}`; a bad currency or price list is a 400 with the errors by field."""
    product = product_selectors.product_get(pk=pk)
    errors: Errors = {}
    currency = clean_currency(request.GET.get("currency") or request.org.base_currency, "currency", errors)
    price_list = price_list_for(currency, request.GET.get("price_list") or None, errors) if currency else None
    if errors:
        body = {
            "detail": _("The price cannot be looked up."),
            "errors": [
                {"field": field, "message": message} for field, messages in errors.items() for message in messages
            ],
        }
        return JsonResponse(body, status=400)
    price = product_prices({product.pk: product}, currency=currency, price_list=price_list).get(product.pk)
    message = (
        ""
        if price is not None
        else _("%(product)s has no price in %(currency)s.") % {"product": product.name, "currency": currency}
    )
    return JsonResponse(
        {
            "unit_price": None if price is None else f"{price:.2f}",
            "tax_rate": f"{product.tax_rate:.2f}",
            "description": product.name,
            "currency": currency,
            "message": message,
        }
    )


urlpatterns = [
    path("products/", product_list_view, name="product_list"),
    path("products/<int:pk>/price/", product_price_view, name="product_price"),
    path("products/new/", product_create_view, name="product_create"),
    path("products/<int:pk>/", product_detail_view, name="product_detail"),
    path("products/<int:pk>/edit/", product_edit_view, name="product_edit"),
    path("products/<int:pk>/delete/", product_delete_view, name="product_delete"),
    path("price-lists/", price_list_list_view, name="price_list_list"),
    path("price-lists/new/", price_list_create_view, name="price_list_create"),
    path("price-lists/<int:pk>/", price_list_detail_view, name="price_list_detail"),
    path("price-lists/<int:pk>/edit/", price_list_edit_view, name="price_list_edit"),
    path("price-lists/<int:pk>/delete/", price_list_delete_view, name="price_list_delete"),
    path("price-lists/<int:pk>/items/", price_list_add_item_view, name="price_list_add_item"),
    path("price-list-items/<int:pk>/edit/", price_list_item_edit_view, name="price_list_item_edit"),
    path("price-list-items/<int:pk>/delete/", price_list_item_delete_view, name="price_list_item_delete"),
    path("quotes/", quote_list_view, name="quote_list"),
    path("quotes/new/", quote_create_view, name="quote_create"),
    path("quotes/line/", quote_line_row_view, name="quote_line_row"),
    path("quotes/preview/", quote_preview_view, name="quote_preview"),
    path("quotes/<int:pk>/", quote_detail_view, name="quote_detail"),
    path("quotes/<int:pk>/edit/", quote_edit_view, name="quote_edit"),
    path("quotes/<int:pk>/send/", quote_send_view, name="quote_send"),
    path("quotes/<int:pk>/email/", quote_email_view, name="quote_email"),
    path("quotes/<int:pk>/accept/", quote_accept_view, name="quote_accept"),
    path("quotes/<int:pk>/decline/", quote_decline_view, name="quote_decline"),
    path("quotes/<int:pk>/delete/", quote_delete_view, name="quote_delete"),
    path("quotes/<int:pk>/print/", quote_print_view, name="quote_print"),
    path("quotes/<int:pk>/pdf/", quote_pdf_view, name="quote_pdf"),
    path("orders/", order_list_view, name="order_list"),
    path("orders/new/", order_create_view, name="order_create"),
    path("orders/preview/", order_preview_view, name="order_preview"),
    path("orders/<int:pk>/", order_detail_view, name="order_detail"),
    path("orders/<int:pk>/status/", order_status_view, name="order_status"),
    path("orders/<int:pk>/refund/", order_refund_view, name="order_refund"),
]
