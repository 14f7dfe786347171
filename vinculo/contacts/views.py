"""Contact and company pages (list, detail, forms, notes, timeline, search)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from vinculo.contacts.filters import parse_filters
from vinculo.contacts.selectors import company_list, contact_list, global_search


def contact_list_view(request: HttpRequest, org_slug: str) -> HttpResponse:
    filters = parse_filters(request.GET, kind="contacts", strict=False)
    page = contact_list(actor=request.membership, filters=filters)  # type: ignore[attr-defined]
    return render(request, "contacts/contact_list.html", {"nav": "contacts", "page": page, "filters": filters})


def company_list_view(request: HttpRequest, org_slug: str) -> HttpResponse:
    filters = parse_filters(request.GET, kind="companies", strict=False)
    page = company_list(actor=request.membership, filters=filters)  # type: ignore[attr-defined]
    return render(request, "contacts/company_list.html", {"nav": "companies", "page": page, "filters": filters})


def search_view(request: HttpRequest, org_slug: str) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    results = global_search(actor=request.membership, query=query)  # type: ignore[attr-defined]
    return render(request, "contacts/search.html", {"results": results, "search_query": query})
