"""Contact and company pages: lists with bulk actions, detail with notes, timeline and history,
forms, search and tags. Views parse the request, call a selector or a service and render the
page, or only the named partial when HTMX asks (`template.html#partial`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import (
    MANAGE_ALL_ROLES,
    can_change_record,
    can_delete_record,
    can_write,
    require_change,
    require_delete,
    require_write,
)
from vinculo.accounts.selectors import assignable_users
from vinculo.contacts import selectors, services
from vinculo.contacts.filters import ListFilters, parse_filters
from vinculo.contacts.forms import BulkAction, BulkForm, CompanyForm, ContactForm, NoteForm, TagForm
from vinculo.contacts.list_state import list_state, page_links, sort_links
from vinculo.contacts.models import Company, Contact, LifecycleStage, Note, SourceChannel, Tag
from vinculo.contacts.panels import panels_for
from vinculo.contacts.record_links import viewer_of
from vinculo.contacts.templatetags.contacts_ui import can_edit_note
from vinculo.contacts.timeline_deliveries import annotate_deliveries
from vinculo.core.audit import audit_history
from vinculo.core.countries import country_choices
from vinculo.core.event_story import attach_stories
from vinculo.core.pagination import requested_page
from vinculo.core.query_params import search_words
from vinculo.core.views import bad_request, is_htmx, org_view
from vinculo.core.views import render_page as _render

HISTORY_PER_PAGE = 25
TIMELINE_PER_PAGE = 30
COMPANY_CHOICES_LIMIT = 200
# the first click on a column sorts this way; a second click on the same column reverses it
SORT_COLUMNS = {"name": "name", "created": "-created", "updated": "-updated"}
LIST_KINDS = {
    "contacts": {
        "template": "contacts/contact_list.html",
        "url": "contacts:contact_list",
        "bulk_url": "contacts:contact_bulk",
        "selector": selectors.contact_list,
        "bulk_assign": services.contact_bulk_assign_owner,
        "bulk_tag": services.contact_bulk_tag,
        "bulk_delete": services.contact_bulk_delete,
        "queryset": selectors.contact_queryset,
    },
    "companies": {
        "template": "contacts/company_list.html",
        "url": "contacts:company_list",
        "bulk_url": "contacts:company_bulk",
        "selector": selectors.company_list,
        "bulk_assign": services.company_bulk_assign_owner,
        "bulk_tag": services.company_bulk_tag,
        "bulk_delete": services.company_bulk_delete,
        "queryset": selectors.company_queryset,
    },
}

FILTER_FIELDS = {
    "contacts": ("q", "owner", "stage", "tag", "country", "created_after", "created_before"),
    "companies": ("q", "owner", "tag", "country", "industry", "created_after", "created_before"),
}


# --- helpers -----------------------------------------------------------------------------------


def _owners(request: OrgRequest) -> list[Any]:
    return list(assignable_users(organization=request.org))


def _company_choices(actor: Membership) -> list[Company]:
    page = selectors.company_list(actor=actor, filters=ListFilters(per_page=COMPANY_CHOICES_LIMIT))
    return page.items


def _company_or_none(actor: Membership, value: Any) -> Company | None:
    """The company chosen in a form, when the actor can see it (to keep it in the select)."""
    if not value:
        return None
    try:
        return selectors.company_get(actor=actor, pk=value)
    except Http404:
        return None


# --- lists -----------------------------------------------------------------------------------


def _querystring(filters: ListFilters, *without: str, extra: str = "") -> str:
    """The list's filters as a query string, without some; a chosen page size is kept, and
    `extra` (the saved view and chosen columns) is added."""
    query = filters.querystring_without(*without)
    if filters.per_page != ListFilters.per_page:
        query = "&".join(p for p in (query, f"per_page={filters.per_page}") if p)
    return "&".join(p for p in (query, extra) if p)


def _list_response(
    request: OrgRequest,
    kind: str,
    params: QueryDict,
    *,
    bulk_form: BulkForm | None = None,
    status: int = 200,
) -> HttpResponse:
    spec = LIST_KINDS[kind]
    actor = request.membership
    state = list_state(actor=actor, kind=kind, params=params)
    params = state.params
    filters = parse_filters(params, kind=kind, strict=False)
    page = spec["selector"](actor=actor, filters=filters, columns=state.columns)  # type: ignore[operator]
    owners = _owners(request)
    filter_fields = FILTER_FIELDS[kind]
    context: dict[str, Any] = {
        "nav": kind,
        "page": page,
        "filters": filters,
        "params": params,
        "list_url": reverse(spec["url"], args=[request.org.slug]),  # type: ignore[arg-type]
        "bulk_url": reverse(spec["bulk_url"], args=[request.org.slug]),  # type: ignore[arg-type]
        "querystring": _querystring(filters, extra=state.extra_query),
        "page_links": page_links(page, _querystring(filters, "page", extra=state.extra_query)),
        "sort": sort_links(
            SORT_COLUMNS,
            current=filters.sort,
            default="name",
            base=_querystring(filters, "sort", "page", extra=state.extra_query),
        ),
        **state.context(actor),
        "view_teams": list(actor.teams.order_by("name", "id")),
        "filter_fields": filter_fields,
        "other_errors": [message for name, message in filters.errors.items() if name not in filter_fields],
        "owners": owners,
        "tags": list(selectors.tag_list()),
        "countries": country_choices(),
        "bulk_form": bulk_form or BulkForm(owners=owners),
        "selected_ids": request.POST.getlist("ids") if bulk_form is not None else [],
        "can_write": can_write(actor),
        "is_htmx": is_htmx(request),
    }
    if kind == "contacts":
        context["stages"] = LifecycleStage.choices
        context["search_placeholder"] = _("Name, e-mail, phone, city…")
        if filters.company:
            company = _company_or_none(actor, filters.company)
            context["company_filter"] = company.name if company else ""
            context["company_filter_clear"] = _querystring(filters, "company", "page")
    else:
        context["search_placeholder"] = _("Name, domain, industry, city…")
        context["industries"] = selectors.company_industries(actor=actor)
    return _render(request, spec["template"], context, partial="results", status=status)  # type: ignore[arg-type]


@org_view
@require_GET
def contact_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _list_response(request, "contacts", request.GET)


@org_view
@require_GET
def company_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _list_response(request, "companies", request.GET)


def _clean_ids(values: list[str]) -> list[int] | None:
    ids = [int(v) for v in values if v.isdigit() and 0 < len(v) < 19]
    return ids if len(ids) == len(values) else None


def _bulk(request: OrgRequest, kind: str) -> HttpResponse:
    spec = LIST_KINDS[kind]
    actor = request.membership
    next_query = request.POST.get("next", "")[:2000]
    params = QueryDict(next_query)
    list_url = reverse(spec["url"], args=[request.org.slug]) + (f"?{next_query}" if next_query else "")  # type: ignore[arg-type]
    form = BulkForm(request.POST, owners=_owners(request))
    if not form.is_valid():
        return _list_response(request, kind, params, bulk_form=form, status=422)
    action, ids = form.cleaned_data["action"], form.cleaned_data["ids"]
    try:
        if action == BulkAction.ASSIGN_OWNER:
            count = spec["bulk_assign"](actor=actor, ids=ids, owner=form.cleaned_data["owner"])  # type: ignore[operator]
            message = ngettext("Owner assigned to %(n)s record.", "Owner assigned to %(n)s records.", count)
        elif action in (BulkAction.ADD_TAG, BulkAction.REMOVE_TAG):
            remove = action == BulkAction.REMOVE_TAG
            count = spec["bulk_tag"](actor=actor, ids=ids, tag=form.cleaned_data["tag"], remove=remove)  # type: ignore[operator]
            message = (
                ngettext("Tag removed from %(n)s record.", "Tag removed from %(n)s records.", count)
                if remove
                else ngettext("Tag added to %(n)s record.", "Tag added to %(n)s records.", count)
            )
        elif not form.cleaned_data["confirm"]:
            return _bulk_delete_confirm(request, kind, form, next_query, list_url)
        else:
            count = spec["bulk_delete"](actor=actor, ids=ids)  # type: ignore[operator]
            message = ngettext("%(n)s record deleted.", "%(n)s records deleted.", count)
    except ValidationError as exc:
        errors = {("tag" if key == "tags" else key): value for key, value in exc.message_dict.items()}
        form.apply_service_errors(ValidationError(errors))
        return _list_response(request, kind, params, bulk_form=form, status=422)
    messages.success(request, message % {"n": count})
    return redirect(list_url)


def _bulk_delete_confirm(
    request: OrgRequest, kind: str, form: BulkForm, next_query: str, list_url: str
) -> HttpResponse:
    """The confirmation step: how many of the selected rows will go, and whether all may."""
    ids = _clean_ids(form.cleaned_data["ids"])
    if ids is None:
        form.add_error(None, _("Ids must be whole numbers."))
        return _list_response(request, kind, QueryDict(next_query), bulk_form=form, status=422)
    queryset = LIST_KINDS[kind]["queryset"](actor=request.membership)  # type: ignore[operator]
    records = list(queryset.filter(pk__in=ids[:500]).select_related(None).only("id", "owner_id", *_name_fields(kind)))
    forbidden = [r for r in records if not can_delete_record(request.membership, r)]
    context = {
        "nav": kind,
        "kind": kind,
        "records": records,
        "forbidden": forbidden,
        "next": next_query,
        "cancel_url": list_url,
    }
    return render(request, "contacts/bulk_delete_confirm.html", context)


def _name_fields(kind: str) -> tuple[str, ...]:
    return ("first_name", "last_name", "email") if kind == "contacts" else ("name",)


@org_view
@require_POST
def contact_bulk_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _bulk(request, "contacts")


@org_view
@require_POST
def company_bulk_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    return _bulk(request, "companies")


# --- timeline, notes and history (shared by contacts and companies) ------------------------------


def _kinds(request: HttpRequest) -> list[str]:
    return [k for k in request.GET.getlist("kind") if k in selectors.TIMELINE_KINDS][:1]


def _timeline_context(
    request: OrgRequest, *, contact: Contact | None = None, company: Company | None = None
) -> dict[str, Any]:
    kinds = _kinds(request)
    before = request.GET.get("before", "")[:4000]
    page = selectors.timeline(
        contact=contact, company=company, kinds=set(kinds) or None, before=before, limit=TIMELINE_PER_PAGE
    )
    events = [entry.item for entry in page.entries if entry.kind == "event"]
    attach_stories(events, viewer_of(request, contact=contact, company=company))
    annotate_deliveries(request.membership, request.org.slug, page.entries)
    subject: Contact | Company = contact if contact is not None else company  # type: ignore[assignment]
    url_name = "contacts:contact_timeline" if contact is not None else "contacts:company_timeline"
    detail_name = "contacts:contact_detail" if contact is not None else "contacts:company_detail"
    return {
        "timeline": page,
        "timeline_kind": kinds[0] if kinds else "",
        "timeline_kinds": list(selectors.TIMELINE_KINDS),
        "timeline_url": reverse(url_name, args=[request.org.slug, subject.pk]),
        "detail_url": reverse(detail_name, args=[request.org.slug, subject.pk]),
        "show_contact": company is not None,
    }


@dataclass
class HistoryPage:
    """A page of audit entries and whether older ones exist (no count: one query per page)."""

    items: list[Any]
    number: int
    has_next: bool


def _history(object_type: str, object_id: int, page_number: int = 1) -> HistoryPage:
    start = (page_number - 1) * HISTORY_PER_PAGE
    rows = list(audit_history(object_type=object_type, object_id=object_id)[start : start + HISTORY_PER_PAGE + 1])
    return HistoryPage(rows[:HISTORY_PER_PAGE], page_number, len(rows) > HISTORY_PER_PAGE)


def _timeline_response(
    request: OrgRequest, *, contact: Contact | None = None, company: Company | None = None
) -> HttpResponse:
    try:
        context = _timeline_context(request, contact=contact, company=company)
    except ValueError:
        return bad_request(_("This link to older entries is not valid."))
    if not is_htmx(request) and not request.GET.get("before"):
        query = f"?kind={context['timeline_kind']}" if context["timeline_kind"] else ""
        return redirect(context["detail_url"] + query)
    partial = "entries" if request.GET.get("before") else "panel"
    response = render(request, f"contacts/_timeline.html#{partial}", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _history_response(request: OrgRequest, subject: Contact | Company, object_type: str) -> HttpResponse:
    history = _history(object_type, subject.pk, requested_page(request))
    url_name = "contacts:contact_history" if isinstance(subject, Contact) else "contacts:company_history"
    context = {
        "subject": subject,
        "history": history,
        "history_url": reverse(url_name, args=[request.org.slug, subject.pk]),
        "subject_url": _detail_url(request, subject),
        "nav": "contacts" if isinstance(subject, Contact) else "companies",
    }
    return _render(request, "contacts/history.html", context, partial="entries")


def _note_create(
    request: OrgRequest,
    *,
    contact: Contact | None = None,
    company: Company | None = None,
    page: Callable[[NoteForm], HttpResponse],
) -> HttpResponse:
    form = NoteForm(request.POST)
    form.is_valid()
    try:
        note = services.note_create(
            actor=request.membership, body=form.cleaned_data.get("body", ""), contact=contact, company=company
        )
    except ValidationError as exc:
        form.apply_service_errors(exc)
        if is_htmx(request):
            return render(
                request, "contacts/_note_form.html", _note_form_context(request, form, contact, company), status=422
            )
        return page(form)
    if is_htmx(request):
        context = _note_form_context(request, NoteForm(), contact, company)
        context.update({"note": note, "show_contact": company is not None})
        return render(request, "contacts/_note_created.html", context)
    messages.success(request, _("Note added."))
    subject = contact if contact is not None else company
    return redirect(_detail_url(request, subject))  # type: ignore[arg-type]


def _note_form_context(
    request: OrgRequest, form: NoteForm, contact: Contact | None, company: Company | None
) -> dict[str, Any]:
    if contact is not None:
        action = reverse("contacts:contact_note_create", args=[request.org.slug, contact.pk])
    else:
        assert company is not None
        action = reverse("contacts:company_note_create", args=[request.org.slug, company.pk])
    return {"note_form": form, "note_action": action}


def _detail_url(request: OrgRequest, subject: Contact | Company) -> str:
    name = "contacts:contact_detail" if isinstance(subject, Contact) else "contacts:company_detail"
    return reverse(name, args=[request.org.slug, subject.pk])


def _note_subject_url(request: OrgRequest, note: Note) -> str:
    if note.contact_id is not None:
        return reverse("contacts:contact_detail", args=[request.org.slug, note.contact_id]) + f"#note-{note.pk}"
    return reverse("contacts:company_detail", args=[request.org.slug, note.company_id]) + f"#note-{note.pk}"


def _in_company(request: HttpRequest) -> bool:
    """Whether a note is shown on a company's timeline (which names each note's contact)."""
    return request.GET.get("in") == "company"


@org_view
@require_GET
def note_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    """One note as it appears on the timeline (HTMX: the "cancel" of an edit)."""
    note = selectors.note_get(actor=request.membership, pk=pk)
    if not is_htmx(request):
        return redirect(_note_subject_url(request, note))
    return render(request, "contacts/_note.html", {"note": note, "show_contact": _in_company(request)})


@org_view
@require_http_methods(["GET", "POST"])
def note_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    note = selectors.note_get(actor=request.membership, pk=pk)
    if not can_edit_note(note, request.membership):
        raise PermissionDenied(_("Only the author or a manager can change this note."))
    context: dict[str, Any] = {
        "note": note,
        "cancel_url": _note_subject_url(request, note),
        "show_contact": _in_company(request),
    }
    if request.method == "GET":
        context["form"] = NoteForm(initial={"body": note.body}, auto_id=f"note-{note.pk}-%s")
        return _render(request, "contacts/note_edit.html", context, partial="form")
    form = NoteForm(request.POST, auto_id=f"note-{note.pk}-%s")
    form.is_valid()
    try:
        note = services.note_update(actor=request.membership, note=note, body=form.cleaned_data.get("body", ""))
    except ValidationError as exc:
        form.apply_service_errors(exc)
        context["form"] = form
        return _render(request, "contacts/note_edit.html", context, partial="form", status=422)
    if is_htmx(request):
        return render(request, "contacts/_note.html", {"note": note, "show_contact": _in_company(request)})
    messages.success(request, _("Note saved."))
    return redirect(_note_subject_url(request, note))


@org_view
@require_POST
def note_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    note = selectors.note_get(actor=request.membership, pk=pk)
    back = _note_subject_url(request, note).split("#")[0]
    services.note_delete(actor=request.membership, note=note)
    if is_htmx(request):
        return HttpResponse("")
    messages.success(request, _("Note deleted."))
    return redirect(back)


# --- contacts --------------------------------------------------------------------------------


def _contact_detail(request: OrgRequest, contact: Contact, *, note_form: NoteForm | None = None) -> HttpResponse:
    actor = request.membership
    context = {
        "nav": "contacts",
        "contact": contact,
        "can_write": can_write(actor),
        "can_change": can_change_record(actor, contact),
        "can_delete": can_delete_record(actor, contact),
        "history": _history("contacts.contact", contact.pk),
        "history_url": reverse("contacts:contact_history", args=[request.org.slug, contact.pk]),
        "panels": panels_for(request, "contact", contact),
        **_timeline_context(request, contact=contact),
        **_note_form_context(request, note_form or NoteForm(), contact, None),
    }
    return render(request, "contacts/contact_detail.html", context, status=422 if note_form else 200)


@org_view
@require_GET
def contact_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    contact = selectors.contact_get(actor=request.membership, pk=pk)
    try:
        return _contact_detail(request, contact)
    except ValueError:
        return bad_request(_("This link to older entries is not valid."))


@org_view
@require_GET
def contact_timeline_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    contact = selectors.contact_get(actor=request.membership, pk=pk)
    return _timeline_response(request, contact=contact)


@org_view
@require_GET
def contact_history_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    contact = selectors.contact_get(actor=request.membership, pk=pk)
    return _history_response(request, contact, "contacts.contact")


@org_view
@require_POST
def contact_note_create_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    contact = selectors.contact_get(actor=request.membership, pk=pk)
    return _note_create(request, contact=contact, page=lambda form: _contact_detail(request, contact, note_form=form))


def _contact_form_page(
    request: OrgRequest, form: ContactForm, contact: Contact | None, *, status: int = 200
) -> HttpResponse:
    context = {
        "nav": "contacts",
        "form": form,
        "contact": contact,
        "company_options_url": reverse("contacts:company_options", args=[request.org.slug]),
    }
    return render(request, "contacts/contact_form.html", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def contact_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    require_write(actor)
    owners, companies = _owners(request), _company_choices(actor)
    if request.method == "GET":
        company = _company_or_none(actor, request.GET.get("company"))
        initial = {
            "owner": str(request.user.pk),
            "lifecycle_stage": LifecycleStage.LEAD,
            "source": SourceChannel.MANUAL,
            "company": str(company.pk) if company else "",
        }
        form = ContactForm(initial=initial, owners=owners, companies=companies, selected_company=company)
        return _contact_form_page(request, form, None)
    selected = _company_or_none(actor, request.POST.get("company"))
    form = ContactForm(request.POST, owners=owners, companies=companies, selected_company=selected)
    if form.is_valid():
        try:
            contact = services.contact_create(actor=actor, data=form.service_data())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Contact created."))
            return redirect("contacts:contact_detail", request.org.slug, contact.pk)
    return _contact_form_page(request, form, None, status=422)


@org_view
@require_http_methods(["GET", "POST"])
def contact_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    contact = selectors.contact_get(actor=actor, pk=pk)
    require_change(actor, contact)
    owners, companies = _owners(request), _company_choices(actor)
    if request.method == "GET":
        form = ContactForm(
            initial=ContactForm.initial_for(contact),
            owners=owners,
            companies=companies,
            selected_company=contact.company,
        )
        return _contact_form_page(request, form, contact)
    selected = _company_or_none(actor, request.POST.get("company"))
    form = ContactForm(request.POST, owners=owners, companies=companies, selected_company=selected)
    if form.is_valid():
        try:
            services.contact_update(actor=actor, contact=contact, data=form.service_data())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("contacts:contact_detail", request.org.slug, contact.pk)
    return _contact_form_page(request, form, contact, status=422)


@org_view
@require_http_methods(["GET", "POST"])
def contact_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    contact = selectors.contact_get(actor=actor, pk=pk)
    require_delete(actor, contact)
    if request.method == "POST":
        services.contact_delete(actor=actor, contact=contact)
        messages.success(request, _("Contact %(name)s deleted.") % {"name": contact})
        return redirect("contacts:contact_list", request.org.slug)
    context = {
        "nav": "contacts",
        "object": contact,
        "title": _("Delete contact"),
        "question": _("Delete the contact %(name)s? Its notes and timeline go with it. This cannot be undone.")
        % {"name": contact},
        "cancel_url": _detail_url(request, contact),
    }
    return render(request, "confirm_delete.html", context)


# --- companies -------------------------------------------------------------------------------


def _company_detail(request: OrgRequest, company: Company, *, note_form: NoteForm | None = None) -> HttpResponse:
    actor = request.membership
    contacts = selectors.company_contacts(actor=actor, company=company, limit=100)
    context = {
        "nav": "companies",
        "company": company,
        "contacts": contacts,
        "contacts_capped": len(contacts) >= 100,
        "can_write": can_write(actor),
        "can_change": can_change_record(actor, company),
        "can_delete": can_delete_record(actor, company),
        "history": _history("contacts.company", company.pk),
        "history_url": reverse("contacts:company_history", args=[request.org.slug, company.pk]),
        "panels": panels_for(request, "company", company),
        **_timeline_context(request, company=company),
        **_note_form_context(request, note_form or NoteForm(), None, company),
    }
    return render(request, "contacts/company_detail.html", context, status=422 if note_form else 200)


@org_view
@require_GET
def company_detail_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    company = selectors.company_get(actor=request.membership, pk=pk)
    try:
        return _company_detail(request, company)
    except ValueError:
        return bad_request(_("This link to older entries is not valid."))


@org_view
@require_GET
def company_timeline_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    company = selectors.company_get(actor=request.membership, pk=pk)
    return _timeline_response(request, company=company)


@org_view
@require_GET
def company_history_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    company = selectors.company_get(actor=request.membership, pk=pk)
    return _history_response(request, company, "contacts.company")


@org_view
@require_POST
def company_note_create_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    company = selectors.company_get(actor=request.membership, pk=pk)
    return _note_create(request, company=company, page=lambda form: _company_detail(request, company, note_form=form))


def _company_form_page(
    request: OrgRequest, form: CompanyForm, company: Company | None, *, status: int = 200
) -> HttpResponse:
    return render(
        request, "contacts/company_form.html", {"nav": "companies", "form": form, "company": company}, status=status
    )


@org_view
@require_http_methods(["GET", "POST"])
def company_create_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    actor = request.membership
    require_write(actor)
    owners = _owners(request)
    if request.method == "GET":
        return _company_form_page(request, CompanyForm(initial={"owner": str(request.user.pk)}, owners=owners), None)
    form = CompanyForm(request.POST, owners=owners)
    if form.is_valid():
        try:
            company = services.company_create(actor=actor, data=form.service_data())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Company created."))
            return redirect("contacts:company_detail", request.org.slug, company.pk)
    return _company_form_page(request, form, None, status=422)


@org_view
@require_http_methods(["GET", "POST"])
def company_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    company = selectors.company_get(actor=actor, pk=pk)
    require_change(actor, company)
    owners = _owners(request)
    if request.method == "GET":
        form = CompanyForm(initial=CompanyForm.initial_for(company), owners=owners)
        return _company_form_page(request, form, company)
    form = CompanyForm(request.POST, owners=owners)
    if form.is_valid():
        try:
            services.company_update(actor=actor, company=company, data=form.service_data())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("Company saved."))
            return redirect("contacts:company_detail", request.org.slug, company.pk)
    return _company_form_page(request, form, company, status=422)


@org_view
@require_http_methods(["GET", "POST"])
def company_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    actor = request.membership
    company = selectors.company_get(actor=actor, pk=pk)
    require_delete(actor, company)
    if request.method == "POST":
        services.company_delete(actor=actor, company=company)
        messages.success(request, _("Company %(name)s deleted.") % {"name": company.name})
        return redirect("contacts:company_list", request.org.slug)
    context = {
        "nav": "companies",
        "object": company,
        "title": _("Delete company"),
        "question": _("Delete the company %(name)s? Its contacts stay, without a company. This cannot be undone.")
        % {"name": company.name},
        "cancel_url": _detail_url(request, company),
    }
    return render(request, "confirm_delete.html", context)


@org_view
@require_GET
def company_options_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """`<option>`s of the companies matching ?q= (the company select's search box)."""
    query = (request.GET.get("company_search") or request.GET.get("q") or "")[:200]
    page = selectors.company_list(actor=request.membership, filters=ListFilters(q=query, per_page=50))
    selected = _company_or_none(request.membership, request.GET.get("company"))
    companies = page.items
    if selected is not None and selected.pk not in {c.pk for c in companies}:
        companies = [selected, *companies]
    context = {"companies": companies, "selected": selected.pk if selected else None, "query": query}
    return render(request, "contacts/_company_options.html", context)


# --- search ----------------------------------------------------------------------------------


@org_view
@require_GET
def search_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    query, query_error = search_words(request.GET)
    results = selectors.global_search(actor=request.membership, query=query)
    context = {"results": results, "search_query": query, "query": query, "q_error": query_error, "limit": 10}
    return _render(request, "contacts/search.html", context, partial="results")


# --- tags ------------------------------------------------------------------------------------


def _tag_data(form: TagForm) -> dict[str, Any]:
    data = {"name": form.cleaned_data.get("name", "")}
    if form.cleaned_data.get("color"):
        data["color"] = form.cleaned_data["color"]
    return data


def _tag_page(
    request: OrgRequest,
    *,
    create_form: TagForm | None = None,
    failed: tuple[Tag, TagForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = []
    for tag in selectors.tag_list():
        if failed is not None and failed[0].pk == tag.pk:
            rows.append((tag, failed[1]))
        else:
            rows.append((tag, TagForm(initial={"name": tag.name, "color": tag.color}, auto_id=f"tag-{tag.pk}-%s")))
    context = {
        "nav": "tags",
        "rows": rows,
        "form": create_form or TagForm(),
        "can_write": can_write(request.membership),
        "can_delete": request.membership.role in MANAGE_ALL_ROLES,
    }
    return render(request, "contacts/tag_list.html", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def tag_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    if request.method == "GET":
        return _tag_page(request)
    form = TagForm(request.POST)
    form.is_valid()
    try:
        tag = services.tag_create(actor=request.membership, data=_tag_data(form))
    except ValidationError as exc:
        form.apply_service_errors(exc)
        return _tag_page(request, create_form=form, status=422)
    messages.success(request, _("Tag %(name)s created.") % {"name": tag.name})
    return redirect("contacts:tag_list", request.org.slug)


@org_view
@require_POST
def tag_edit_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    tag = selectors.tag_get(pk=pk)
    form = TagForm(request.POST, auto_id=f"tag-{tag.pk}-%s")
    form.is_valid()
    try:
        tag = services.tag_update(actor=request.membership, tag=tag, data=_tag_data(form))
    except ValidationError as exc:
        form.apply_service_errors(exc)
        tag = selectors.tag_get(pk=pk)  # the service set the rejected values on the instance
        if is_htmx(request):
            return _tag_row(request, tag, form, status=422)
        return _tag_page(request, failed=(tag, form), status=422)
    if is_htmx(request):
        form = TagForm(initial={"name": tag.name, "color": tag.color}, auto_id=f"tag-{tag.pk}-%s")
        return _tag_row(request, tag, form, saved=True)
    messages.success(request, _("Tag %(name)s saved.") % {"name": tag.name})
    return redirect("contacts:tag_list", request.org.slug)


def _tag_row(request: OrgRequest, tag: Tag, form: TagForm, *, status: int = 200, saved: bool = False) -> HttpResponse:
    context = {
        "tag": tag,
        "form": form,
        "saved": saved,
        "can_write": can_write(request.membership),
        "can_delete": request.membership.role in MANAGE_ALL_ROLES,
    }
    return render(request, "contacts/tag_list.html#row", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def tag_delete_view(request: OrgRequest, org_slug: str, pk: int) -> HttpResponse:
    tag = selectors.tag_get(pk=pk)
    if request.membership.role not in MANAGE_ALL_ROLES:
        raise PermissionDenied(_("Only managers and admins can delete tags."))
    if request.method == "POST":
        services.tag_delete(actor=request.membership, tag=tag)
        messages.success(request, _("Tag %(name)s deleted.") % {"name": tag.name})
        return redirect("contacts:tag_list", request.org.slug)
    context = {
        "nav": "tags",
        "object": tag,
        "title": _("Delete tag"),
        "question": _("Delete the tag %(name)s? It is taken off every contact and company.") % {"name": tag.name},
        "cancel_url": reverse("contacts:tag_list", args=[request.org.slug]),
    }
    return render(request, "confirm_delete.html", context)
