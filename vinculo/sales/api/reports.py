"""Sales reports over the API: the forecast and the effectiveness report (the same parameters and
numbers as the pages), and the reps' quotas.

Money is a decimal string in the organisation's base currency (`currency`); currencies left out
for want of an exchange rate are listed in `missing_rates`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictInt

from vinculo.accounts.api import UserRef, request_actor
from vinculo.core.api import (
    DATE_RANGE_EXTENSION,
    DATE_RANGE_TEXT,
    GET_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    InSchema,
    PageOut,
    page_out,
    sent_fields,
)
from vinculo.core.pagination import paginate
from vinculo.sales.models import Quota
from vinculo.sales.selectors.effectiveness import EFFECTIVENESS_GROUPS, effectiveness
from vinculo.sales.selectors.forecast import FORECAST_GROUPS, forecast, parse_report_params
from vinculo.sales.services import quotas as quota_services

router = Router(tags=["reports"])
MoneyIn = Annotated[str | int, Field(description='A decimal string such as "12500.00" (or a whole number).')]


# --- parameters -------------------------------------------------------------------------------------


class ReportQuery(Schema):
    start: str = Field(
        "",
        max_length=10,
        description="First day (YYYY-MM-DD or YYYY-MM); this quarter by default. " + DATE_RANGE_TEXT,
        json_schema_extra=DATE_RANGE_EXTENSION,
    )
    end: str = Field(
        "",
        max_length=10,
        description="Last day (YYYY-MM-DD or YYYY-MM); this quarter by default. " + DATE_RANGE_TEXT,
        json_schema_extra=DATE_RANGE_EXTENSION,
    )
    period: str = Field("month", max_length=10, description="Buckets of the series: month or quarter.")


class ForecastQuery(ReportQuery):
    group_by: str = Field("owner", max_length=20, description="owner, team or pipeline.")


class EffectivenessQuery(ReportQuery):
    group_by: str = Field("owner", max_length=20, description="owner, zone, product_line, month or quarter.")


# --- output -------------------------------------------------------------------------------------------


class ForecastFigures(Schema):
    won: Decimal
    commit: Decimal
    best_case: Decimal
    weighted: Decimal
    quota: Decimal | None = Field(description="Null for pipelines and where no quota is set.")
    attainment: Decimal | None = Field(description="Won ÷ quota in %, one decimal; null without a quota.")


class ForecastRowOut(Schema):
    key: int | None = Field(description="The user, team or pipeline id; null for unassigned / no team.")
    label: str
    figures: ForecastFigures


class ForecastBucketOut(Schema):
    starts_on: dt.date
    label: str
    figures: ForecastFigures


class ReportRange(Schema):
    start: dt.date
    end: dt.date
    period: str
    group_by: str


class ForecastOut(Schema):
    params: ReportRange
    currency: str
    rows: list[ForecastRowOut]
    buckets: list[ForecastBucketOut]
    total: ForecastFigures
    missing_rates: list[str]


class EffectivenessFigures(Schema):
    won: int
    lost: int
    win_rate: Decimal | None = Field(description="Won ÷ (won + lost) in %; null when nothing closed.")
    revenue: Decimal
    average_deal_size: Decimal | None
    cycle_days: Decimal | None = Field(description="Average days from creation to close of the won deals.")
    activities: int


class EffectivenessRowOut(Schema):
    key: str | None = Field(description="The user, zone id, product line or first day of the month/quarter.")
    label: str
    figures: EffectivenessFigures

    @staticmethod
    def resolve_key(obj: Any) -> str | None:
        key = obj.key
        if key is None:
            return None
        return key.isoformat() if isinstance(key, dt.date) else str(key)


class EffectivenessOut(Schema):
    params: ReportRange
    currency: str
    rows: list[EffectivenessRowOut]
    total: EffectivenessFigures
    missing_rates: list[str]


class QuotaOut(Schema):
    id: int
    user: UserRef
    period: Quota.Period
    starts_on: dt.date
    amount: Decimal


class QuotaPage(PageOut):
    items: list[QuotaOut]


class QuotaIn(InSchema):
    """A quota is keyed by rep, period and first day: posting the same key again changes its amount."""

    user: StrictInt = Field(description="A member's user id.")
    period: Quota.Period = Quota.Period.MONTH
    starts_on: str = Field(
        max_length=10,
        description="The first day of the month or quarter, YYYY-MM-DD. " + DATE_RANGE_TEXT,
        json_schema_extra=DATE_RANGE_EXTENSION,
    )
    amount: MoneyIn


class QuotaPatch(InSchema):
    amount: MoneyIn | None = None


class QuotaQuery(Schema):
    year: int | None = Field(None, ge=2000, le=2100)
    period: Quota.Period | None = None
    user: int | None = Field(None, ge=1)
    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(50, ge=1, le=200)


# --- operations ---------------------------------------------------------------------------------------


@router.get("/forecast", response={200: ForecastOut, **READ_ERRORS})
def forecast_get(request: HttpRequest, query: Query[ForecastQuery]) -> Any:
    """Won, commit, best case, weighted pipeline, quota and attainment per rep, team or pipeline and
    per month or quarter, as on the forecast page."""
    actor = request_actor(request)
    params = parse_report_params(query.dict(), groups=FORECAST_GROUPS, default_group="owner")
    return forecast(organization=actor.organization, params=params)


@router.get("/effectiveness", response={200: EffectivenessOut, **READ_ERRORS})
def effectiveness_get(request: HttpRequest, query: Query[EffectivenessQuery]) -> Any:
    """Win rate, revenue, average deal size, sales cycle and activities done per zone, product line,
    rep, month or quarter, as on the effectiveness page."""
    actor = request_actor(request)
    params = parse_report_params(query.dict(), groups=EFFECTIVENESS_GROUPS, default_group="owner")
    return effectiveness(organization=actor.organization, params=params)


@router.get("/quotas", response={200: QuotaPage, **READ_ERRORS}, tags=["quotas"])
def quota_list(request: HttpRequest, query: Query[QuotaQuery]) -> dict[str, Any]:
    quotas = Quota.objects.select_related("user").order_by("starts_on", "user__full_name", "id")
    if query.year is not None:
        quotas = quotas.filter(starts_on__year=query.year)
    if query.period is not None:
        quotas = quotas.filter(period=query.period)
    if query.user is not None:
        quotas = quotas.filter(user_id=query.user)
    return page_out(request, paginate(quotas, page=query.page, per_page=query.per_page))


@router.post("/quotas", response={200: QuotaOut, 201: QuotaOut, **WRITE_ERRORS}, tags=["quotas"])
def quota_set(request: HttpRequest, payload: QuotaIn) -> Status[Quota]:
    """Set a rep's quota for a period: 201 when new, 200 when an existing one changed."""
    data = payload.model_dump(mode="json")
    day = _day_or_none(payload.starts_on)
    existed = (
        day is not None and Quota.objects.filter(user_id=payload.user, period=payload.period, starts_on=day).exists()
    )
    quota = quota_services.quota_set(actor=request_actor(request), data=data)
    return Status(200 if existed else 201, Quota.objects.select_related("user").get(pk=quota.pk))


def _day_or_none(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _quota(quota_id: int) -> Quota:
    return get_object_or_404(Quota.objects.select_related("user"), pk=quota_id)


@router.get("/quotas/{quota_id}", response={200: QuotaOut, **GET_ERRORS}, tags=["quotas"])
def quota_get(request: HttpRequest, quota_id: int) -> Quota:
    return _quota(quota_id)


@router.patch("/quotas/{quota_id}", response={200: QuotaOut, **WRITE_ERRORS}, tags=["quotas"])
def quota_update(request: HttpRequest, quota_id: int, payload: QuotaPatch) -> Quota:
    quota = _quota(quota_id)
    data = sent_fields(payload)
    quota_services.quota_update(actor=request_actor(request), quota=quota, data=data)
    return _quota(quota_id)


@router.delete("/quotas/{quota_id}", response={204: None, **WRITE_ERRORS}, tags=["quotas"])
def quota_delete(request: HttpRequest, quota_id: int) -> Status[None]:
    quota_services.quota_delete(actor=request_actor(request), quota=_quota(quota_id))
    return Status(204, None)
