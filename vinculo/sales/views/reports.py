"""Sales reports: the forecast, the effectiveness report (with its CSV export) and the quota grid.

The report pages take their period range and grouping from the query string (bookmarkable); bad
parameters re-render the page with the errors next to the fields (status 422) and the figures of
the default period. HTMX requests get only the results partial.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vinculo.accounts.http import OrgRequest
from vinculo.accounts.selectors import assignable_users
from vinculo.core.csv_export import csv_response
from vinculo.core.currencies import minor_unit
from vinculo.core.formatting import number_separators
from vinculo.core.views import org_view, render_page
from vinculo.sales.models import Quota
from vinculo.sales.selectors.effectiveness import EFFECTIVENESS_GROUPS, EffectivenessReport, effectiveness
from vinculo.sales.selectors.forecast import (
    FORECAST_GROUPS,
    PERIODS,
    Forecast,
    ReportParams,
    bucket_label,
    buckets_between,
    forecast,
    parse_report_params,
)
from vinculo.sales.services.assignment import can_manage_assignment
from vinculo.sales.services.quotas import quota_grid_save

REPORT_FIELDS = ("start", "end", "period", "group_by")


def _report_params(
    request: OrgRequest, *, groups: tuple[str, ...], default_group: str
) -> tuple[ReportParams, dict[str, list[str]]]:
    """The parameters, or the defaults and the errors when some are wrong."""
    try:
        return parse_report_params(request.GET, groups=groups, default_group=default_group), {}
    except ValidationError as exc:
        return parse_report_params({}, groups=groups, default_group=default_group), exc.message_dict


def _form_values(request: OrgRequest, params: ReportParams, errors: dict[str, list[str]]) -> dict[str, str]:
    """What the filter form shows: the user's input where it was wrong, else the range used."""
    values = {
        "start": params.start.isoformat(),
        "end": params.end.isoformat(),
        "period": params.period,
        "group_by": params.group_by,
    }
    if errors:
        values.update({k: request.GET.get(k, "")[:20] for k in REPORT_FIELDS if k in request.GET})
    return values


def _group_choices(groups: tuple[str, ...]) -> list[tuple[str, str]]:
    names = {
        "owner": _("Rep"),
        "team": _("Team"),
        "pipeline": _("Pipeline"),
        "zone": _("Zone"),
        "product_line": _("Product line"),
        "month": _("Month"),
        "quarter": _("Quarter"),
    }
    return [(g, names[g]) for g in groups]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _chart_number_format(currency: str) -> dict[str, Any]:
    """How reports.js writes the chart's amounts (axis, tooltips): as the table beside it does
    (vinculo.core.formatting), in the page's language."""
    decimal, thousands = number_separators()
    return {"decimal": decimal, "thousands": thousands, "decimals": minor_unit(currency), "currency": currency}


def forecast_chart(result: Forecast) -> dict[str, Any]:
    """The chart's data (json_script → reports.js): one bar group per month or quarter."""
    buckets = result.buckets
    return {
        "type": "forecast",
        "currency": result.currency,
        "number_format": _chart_number_format(result.currency),
        "labels": [b.label for b in buckets],
        "series": [
            {"key": "won", "label": _("Won"), "kind": "bar", "data": [_money(b.figures.won) for b in buckets]},
            {"key": "commit", "label": _("Commit"), "kind": "bar", "data": [_money(b.figures.commit) for b in buckets]},
            {
                "key": "best_case",
                "label": _("Best case"),
                "kind": "bar",
                "data": [_money(b.figures.best_case) for b in buckets],
            },
            {
                "key": "weighted",
                "label": _("Weighted pipeline"),
                "kind": "bar",
                "data": [_money(b.figures.weighted) for b in buckets],
            },
            {"key": "quota", "label": _("Quota"), "kind": "line", "data": [_money(b.figures.quota) for b in buckets]},
        ],
    }


@org_view
@require_GET
def forecast_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    params, errors = _report_params(request, groups=FORECAST_GROUPS, default_group="owner")
    result = forecast(organization=request.org, params=params)
    context = {
        "nav": "forecast",
        "report": result,
        "errors": errors,
        "values": _form_values(request, params, errors),
        "periods": [("month", _("Month")), ("quarter", _("Quarter"))],
        "groups": _group_choices(FORECAST_GROUPS),
        "group_label": dict(_group_choices(FORECAST_GROUPS))[params.group_by],
        "chart": forecast_chart(result),
        "can_set_quotas": can_manage_assignment(request.membership),
    }
    return render_page(
        request, "sales/reports/forecast.html", context, partial="results", status=422 if errors else 200
    )


# --- effectiveness ------------------------------------------------------------------------------------


def effectiveness_header(report: EffectivenessReport) -> list[str]:
    group = dict(_group_choices(EFFECTIVENESS_GROUPS))[report.params.group_by]
    currency = report.currency
    return [
        group,
        _("Deals won"),
        _("Deals lost"),
        _("Win rate (%)"),
        _("Revenue (%(currency)s)") % {"currency": currency},
        _("Average deal size (%(currency)s)") % {"currency": currency},
        _("Average sales cycle (days)"),
        _("Activities done"),
    ]


def effectiveness_chart(report: EffectivenessReport) -> dict[str, Any]:
    rows = report.rows
    return {
        "type": "effectiveness",
        "currency": report.currency,
        "number_format": _chart_number_format(report.currency),
        "labels": [r.label for r in rows],
        "series": [
            {"key": "revenue", "label": _("Revenue"), "kind": "bar", "data": [_money(r.figures.revenue) for r in rows]},
            {
                "key": "win_rate",
                "label": _("Win rate (%)"),
                "kind": "line",
                "axis": "percent",
                "data": [str(r.figures.win_rate) if r.figures.win_rate is not None else None for r in rows],
            },
        ],
    }


@org_view
@require_GET
def effectiveness_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    params, errors = _report_params(request, groups=EFFECTIVENESS_GROUPS, default_group="owner")
    report = effectiveness(organization=request.org, params=params)
    query = QueryDict(mutable=True)
    query.update(dict(_form_values(request, params, {}).items()))
    context = {
        "nav": "effectiveness",
        "report": report,
        "errors": errors,
        "values": _form_values(request, params, errors),
        "periods": [("month", _("Month")), ("quarter", _("Quarter"))],
        "groups": _group_choices(EFFECTIVENESS_GROUPS),
        "header": effectiveness_header(report),
        "chart": effectiveness_chart(report),
        "csv_url": reverse("sales:effectiveness_csv", args=[request.org.slug]) + "?" + query.urlencode(),
    }
    return render_page(
        request, "sales/reports/effectiveness.html", context, partial="results", status=422 if errors else 200
    )


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


@org_view
@require_GET
def effectiveness_csv_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """The effectiveness table as CSV, headers in the user's language; bad parameters: 422 text."""
    try:
        params = parse_report_params(request.GET, groups=EFFECTIVENESS_GROUPS, default_group="owner")
    except ValidationError as exc:
        lines = [f"{field}: {message}" for field, errs in exc.message_dict.items() for message in errs]
        return HttpResponse("\n".join(lines), status=422, content_type="text/plain; charset=utf-8")
    report = effectiveness(organization=request.org, params=params)
    name = f"effectiveness-{params.group_by}-{params.start:%Y%m%d}-{params.end:%Y%m%d}.csv"
    response, writer = csv_response(name)
    writer.writerow(effectiveness_header(report))
    for label, figures in [*((r.label, r.figures) for r in report.rows), (_("Total"), report.total)]:
        writer.writerow(
            [
                label,
                figures.won,
                figures.lost,
                _cell(figures.win_rate),
                _cell(figures.revenue),
                _cell(figures.average_deal_size),
                _cell(figures.cycle_days),
                figures.activities,
            ]
        )
    return response


# --- quotas -------------------------------------------------------------------------------------------


def _quota_year(request: OrgRequest) -> int:
    value = request.GET.get("year", "")
    if value.isdigit() and len(value) == 4 and 2000 <= int(value) <= 2100:
        return int(value)
    return timezone.localdate().year


def _quota_grid(
    request: OrgRequest,
    *,
    year: int,
    period: str,
    typed: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    columns = [(day, bucket_label(day, period)) for day in buckets_between(start, end, period)]
    users = list(assignable_users(organization=request.org))
    saved = {
        (user_id, day): amount
        for user_id, day, amount in Quota.objects.filter(
            period=period, starts_on__gte=start, starts_on__lte=end
        ).values_list("user_id", "starts_on", "amount")
    }
    errors = errors or {}
    rows = []
    for user in users:
        cells = []
        for day, label in columns:
            name = f"q-{user.pk}-{day.isoformat()}"
            key = f"{user.pk}-{day.isoformat()}"
            value = typed.get(name, "") if typed is not None else _cell(saved.get((user.pk, day)))
            cells.append({"name": name, "label": label, "value": value, "errors": errors.get(key, [])})
        rows.append({"user": user, "cells": cells})
    context = {
        "nav": "quotas",
        "year": year,
        "period": period,
        "periods": [("month", _("Month")), ("quarter", _("Quarter"))],
        "columns": columns,
        "rows": rows,
        "has_errors": bool(errors),
        "can_edit": can_manage_assignment(request.membership),
        "currency": request.org.base_currency,
        "years": [year - 1, year + 1],
    }
    return render_page(request, "sales/reports/quota_list.html", context, status=status)


@org_view
@require_http_methods(["GET", "POST"])
def quota_list_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    """Reps × months (or quarters) of a year; managers edit the cells and save them at once."""
    year = _quota_year(request)
    period = request.GET.get("period", "month")
    if period not in PERIODS:
        period = "month"
    if request.method == "GET":
        return _quota_grid(request, year=year, period=period)
    typed = {k: str(v).strip()[:30] for k, v in request.POST.items() if k.startswith("q-")}
    cells = []
    for name, amount in typed.items():
        parts = name.split("-", 2)
        if len(parts) == 3:
            cells.append((parts[1], parts[2], amount))
    try:
        changes = quota_grid_save(actor=request.membership, period=period, cells=cells)
    except ValidationError as exc:
        return _quota_grid(request, year=year, period=period, typed=typed, errors=exc.message_dict, status=422)
    messages.success(request, _("Quotas saved (%(n)s changed).") % {"n": changes})
    return redirect(reverse("sales:quota_list", args=[request.org.slug]) + f"?year={year}&period={period}")


urlpatterns = [
    path("sales/forecast/", forecast_view, name="forecast"),
    path("sales/effectiveness/", effectiveness_view, name="effectiveness"),
    path("sales/effectiveness.csv", effectiveness_csv_view, name="effectiveness_csv"),
    path("sales/quotas/", quota_list_view, name="quota_list"),
]
