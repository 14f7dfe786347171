"""The deals API: pipelines and stages, lost reasons, exchange rates, deals (list, CRUD, move), the
board of a pipeline and lead conversion.

Schemas check the shape of the input (types, lengths, unknown fields); every rule about the data is
the services', the same ones the pages call. Money travels as decimal strings ("1250.50").
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictInt

from vinculo.accounts.api import UserRef, request_actor
from vinculo.contacts import selectors as contact_selectors
from vinculo.core.api import (
    DATE_RANGE_EXTENSION,
    GET_ERRORS,
    MAX_PAGE,
    READ_ERRORS,
    WRITE_ERRORS,
    BoundedDate,
    InSchema,
    PageOut,
    PageQuery,
    Ref,
    date_query_param,
    page_out,
    query_param,
    search_query_param,
    sent_fields,
)
from vinculo.core.pagination import paginate
from vinculo.sales.api.documents import LineIn, LineOut
from vinculo.sales.models import (
    Deal,
    DealLineItem,
    DealStatus,
    ExchangeRate,
    ForecastCategory,
    LostReason,
    Pipeline,
    Stage,
    StageKind,
)
from vinculo.sales.pricing import MAX_LINES
from vinculo.sales.selectors import deals as deal_selectors
from vinculo.sales.selectors import pipelines as pipeline_selectors
from vinculo.sales.selectors.deals import BOARD_PARAMS, DEAL_SORTS, MAX_PER_PAGE, parse_deal_filters
from vinculo.sales.services import deals as deal_services
from vinculo.sales.services import leads as lead_services
from vinculo.sales.services import pipelines as pipeline_services
from vinculo.sales.services import rates as rate_services

router = Router(tags=["deals"])

Money = Annotated[str, Field(max_length=32, description='A decimal string with at most two decimals, e.g. "1250.50".')]
Currency = Annotated[str, Field(max_length=8, description="ISO 4217 code, e.g. EUR.")]
RecordId = StrictInt
Name = Annotated[str, Field(max_length=100)]
Percent = Annotated[int, Field(description="A whole percentage, 0 to 100.")]
API_LIST_PARAMS = frozenset(
    {"q", "pipeline", "stage", "status", "owner", "team", "close_after", "close_before", "close_month", "sort"}
) | {"closed_from", "closed_to", "page", "per_page"}
API_BOARD_PARAMS = BOARD_PARAMS - {"pipeline"}


def _money(value: Any) -> str:
    return f"{value:.2f}"


# --- output schemas --------------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    pipeline: int
    name: str
    position: int
    probability: int
    kind: StageKind

    @staticmethod
    def resolve_pipeline(obj: Stage) -> int:
        return obj.pipeline_id


class PipelineOut(Schema):
    id: int
    name: str
    position: int
    is_default: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj: Pipeline) -> list[Stage]:
        return list(obj.stages.all())


class PipelinePage(PageOut):
    items: list[PipelineOut]


class LostReasonOut(Schema):
    id: int
    name: str
    is_active: bool


class LostReasonPage(PageOut):
    items: list[LostReasonOut]


class ExchangeRateOut(Schema):
    id: int
    currency: str
    rate: str = Field(description="Units of the base currency per unit of `currency`, a decimal string.")
    valid_from: dt.date

    @staticmethod
    def resolve_rate(obj: ExchangeRate) -> str:
        return format(obj.rate.normalize(), "f")


class ExchangeRatePage(PageOut):
    items: list[ExchangeRateOut]


class DealOut(Schema):
    id: int
    title: str
    pipeline: Ref
    stage: Ref
    status: DealStatus
    amount: str
    currency: str
    weighted_amount: str = Field(description="amount × probability / 100, rounded to cents.")
    expected_close_date: dt.date | None
    probability: int
    probability_reason: str
    forecast_category: ForecastCategory
    owner: UserRef | None
    contact: Ref | None
    company: Ref | None
    zone: Ref | None
    next_step: str
    source: str
    campaign: str
    product_line: str
    lost_reason: Ref | None
    lost_note: str
    position: int
    stage_entered_at: dt.datetime | None
    last_activity_at: dt.datetime | None
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_amount(obj: Deal) -> str:
        return _money(obj.amount)

    @staticmethod
    def resolve_weighted_amount(obj: Deal) -> str:
        return _money(obj.weighted_amount)


class DealPage(PageOut):
    items: list[DealOut]


class DealLineItemsOut(Schema):
    deal_id: int
    currency: str = Field(description="The deal's currency: every line is priced in it.")
    lines: list[LineOut]
    subtotal: str = Field(description="Sum of quantity × unit price, rounded once to cents.")
    discount_total: str
    net_total: str = Field(description="Subtotal − discounts, tax excluded: the deal's amount while it has lines.")
    tax_total: str
    total: str = Field(description="Net total + tax.")
    amount: str = Field(description="The deal's amount after the change.")


class DealCardOut(Schema):
    id: int
    title: str
    amount: str
    currency: str
    probability: int
    expected_close_date: dt.date | None
    owner: UserRef | None
    contact: Ref | None
    company: Ref | None
    position: int
    is_stale: bool = Field(description="Open and untouched for more than `stale_days` days.")

    @staticmethod
    def resolve_amount(obj: Deal) -> str:
        return _money(obj.amount)


class ColumnOut(Schema):
    stage: StageOut
    count: int
    total: str = Field(description="Sum of the amounts in the base currency.")
    weighted_total: str = Field(description="Sum of amount × probability in the base currency.")
    missing_rates: list[str] = Field(description="Currencies left out of the totals for want of an exchange rate.")
    deals: list[DealCardOut] = Field(description="The first cards of the column, in board order.")
    has_more: bool


class BoardOut(Schema):
    pipeline: Ref
    base_currency: str
    stale_days: int
    columns: list[ColumnOut]


class LeadConversionOut(Schema):
    contact: Ref
    company: Ref | None
    deal: DealOut | None


# --- input schemas ---------------------------------------------------------------------------------


class StageSpecIn(InSchema):
    name: Name
    probability: Percent | None = None
    kind: StageKind = StageKind.OPEN


class PipelineIn(InSchema):
    """A new pipeline; without `stages`, the usual five (Qualification 10 %, Proposal 40 %,
    Negotiation 70 %, Won, Lost). A pipeline needs at least one won and one lost stage."""

    name: Name
    stages: Annotated[list[StageSpecIn], Field(max_length=pipeline_services.MAX_STAGES)] | None = None
    is_default: bool = False


class PipelinePatch(InSchema):
    name: Name | None = None
    is_default: bool | None = None
    position: int | None = None
    stage_order: list[RecordId] | None = Field(None, description="Every stage id of the pipeline, in the new order.")


class StageIn(InSchema):
    pipeline: RecordId
    name: Name
    probability: Percent | None = Field(None, description="Defaults to 10 (open), 100 (won) or 0 (lost).")
    kind: StageKind = StageKind.OPEN
    position: int | None = Field(None, description="Where to insert it; by default before the first closed stage.")


class StagePatch(InSchema):
    name: Name | None = None
    probability: Percent | None = None
    kind: StageKind | None = None
    position: int | None = None


class StageDeleteQuery(Schema):
    move_to: int | None = Field(None, description="The stage of the same pipeline that receives this stage's deals.")


class LostReasonIn(InSchema):
    name: Name
    is_active: bool = True


class LostReasonPatch(InSchema):
    name: Name | None = None
    is_active: bool | None = None


class ExchangeRateIn(InSchema):
    currency: Currency
    rate: Annotated[str, Field(max_length=32, description='Units of base currency per unit, e.g. "1.0825".')]
    valid_from: BoundedDate


class ExchangeRatePatch(InSchema):
    currency: Currency | None = None
    rate: Annotated[str, Field(max_length=32)] | None = None
    valid_from: BoundedDate | None = None


class DealIn(InSchema):
    """A new deal. Without a pipeline, the default one; without a stage, its first; without an
    owner, the assignment rules choose. The probability is the stage's unless a reason is given."""

    title: Annotated[str, Field(max_length=200)]
    pipeline: RecordId | None = None
    stage: RecordId | None = None
    amount: Money = "0"
    currency: Currency | None = Field(None, description="Defaults to the organisation's base currency.")
    expected_close_date: BoundedDate | None = None
    probability: Percent | None = None
    probability_reason: Annotated[str, Field(max_length=200)] = ""
    forecast_category: ForecastCategory | None = None
    owner: RecordId | None = Field(None, description="A member's user id; null for nobody.")
    contact: RecordId | None = None
    company: RecordId | None = None
    zone: RecordId | None = None
    next_step: Annotated[str, Field(max_length=200)] = ""
    source: Annotated[str, Field(max_length=32)] = ""
    campaign: Annotated[str, Field(max_length=100)] = ""
    product_line: Annotated[str, Field(max_length=100)] = ""
    lost_reason: RecordId | None = None
    lost_note: Annotated[str, Field(max_length=500)] = ""


class DealPatch(InSchema):
    """The fields to change; the others stay."""

    title: Annotated[str, Field(max_length=200)] | None = None
    pipeline: RecordId | None = None
    stage: RecordId | None = None
    amount: Money | None = None
    currency: Currency | None = None
    expected_close_date: BoundedDate | None = None
    probability: Percent | None = None
    probability_reason: Annotated[str, Field(max_length=200)] | None = None
    forecast_category: ForecastCategory | None = None
    owner: RecordId | None = None
    contact: RecordId | None = None
    company: RecordId | None = None
    zone: RecordId | None = None
    next_step: Annotated[str, Field(max_length=200)] | None = None
    source: Annotated[str, Field(max_length=32)] | None = None
    campaign: Annotated[str, Field(max_length=100)] | None = None
    product_line: Annotated[str, Field(max_length=100)] | None = None
    lost_reason: RecordId | None = None
    lost_note: Annotated[str, Field(max_length=500)] | None = None


class DealMoveIn(InSchema):
    stage: RecordId | None = Field(None, description="Required: a stage of the deal's pipeline.")
    before: RecordId | None = Field(None, description="The card to go above; null for the bottom of the column.")
    lost_reason: RecordId | None = Field(None, description="Why it was lost, when `stage` is a lost stage.")


class LeadDealIn(InSchema):
    title: Annotated[str, Field(max_length=200)] | None = None
    amount: Money | None = None
    currency: Currency | None = None
    pipeline: RecordId | None = None
    stage: RecordId | None = None
    expected_close_date: BoundedDate | None = None


class LeadConvertIn(InSchema):
    """Link an existing company (`company`) or create one (`company_name`), and optionally open a deal."""

    company: RecordId | None = None
    company_name: Annotated[str, Field(max_length=200)] = ""
    deal: LeadDealIn | None = None


class DealLineItemsIn(InSchema):
    lines: Annotated[list[LineIn], Field(max_length=MAX_LINES)] | None = Field(
        None,
        description="Every line of the deal (they replace the current ones); an empty list removes them all "
        "and leaves the amount as it was.",
    )


# --- pipelines and stages ---------------------------------------------------------------------------


@router.get("/pipelines", response={200: PipelinePage, **READ_ERRORS}, tags=["pipelines"])
def pipeline_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    request_actor(request)
    page = paginate(pipeline_selectors.pipeline_list(), page=paging.page, per_page=paging.per_page)
    return page_out(request, page)


@router.post("/pipelines", response={201: PipelineOut, **WRITE_ERRORS}, tags=["pipelines"])
def pipeline_create(request: HttpRequest, payload: PipelineIn) -> Status[Pipeline]:
    stages = [s.model_dump(mode="json") for s in payload.stages] if payload.stages is not None else None
    pipeline = pipeline_services.pipeline_create(
        actor=request_actor(request), name=payload.name, stages=stages, is_default=payload.is_default or None
    )
    return Status(201, pipeline_selectors.pipeline_get(pk=pipeline.pk))


@router.get("/pipelines/{pipeline_id}", response={200: PipelineOut, **GET_ERRORS}, tags=["pipelines"])
def pipeline_get(request: HttpRequest, pipeline_id: int) -> Pipeline:
    request_actor(request)
    return pipeline_selectors.pipeline_get(pk=pipeline_id)


@router.patch("/pipelines/{pipeline_id}", response={200: PipelineOut, **WRITE_ERRORS}, tags=["pipelines"])
def pipeline_update(request: HttpRequest, pipeline_id: int, payload: PipelinePatch) -> Pipeline:
    pipeline = pipeline_selectors.pipeline_get(pk=pipeline_id)
    pipeline_services.pipeline_update(actor=request_actor(request), pipeline=pipeline, data=sent_fields(payload))
    return pipeline_selectors.pipeline_get(pk=pipeline_id)


@router.delete("/pipelines/{pipeline_id}", response={204: None, **WRITE_ERRORS}, tags=["pipelines"])
def pipeline_delete(request: HttpRequest, pipeline_id: int) -> Status[None]:
    pipeline = pipeline_selectors.pipeline_get(pk=pipeline_id)
    pipeline_services.pipeline_delete(actor=request_actor(request), pipeline=pipeline)
    return Status(204, None)


@router.get("/pipelines/{pipeline_id}/board", response={200: BoardOut, **GET_ERRORS}, tags=["pipelines"])
def pipeline_board(request: HttpRequest, pipeline_id: int) -> dict[str, Any]:
    """One column per stage: count, total and weighted total in the base currency (deals in a
    currency without a rate are listed in `missing_rates`), and the first 50 cards. Filters:
    `owner` (id, me, none), `team`, `close_month` (YYYY-MM), `q`, `stale_days` (default 14), and
    `closed`: the won and lost columns show the deals closed `this_month` (the default, in the
    organisation's time zone), `last_month`, `this_quarter`, `this_year` or `all`.
    The rest of a column, in board order: `GET /deals?stage=<id>&sort=position&page=2`."""
    actor = request_actor(request)
    pipeline = pipeline_selectors.pipeline_get(pk=pipeline_id)
    filters = parse_deal_filters(request.GET, strict=True, allowed=API_BOARD_PARAMS)
    board = deal_selectors.board(actor=actor, pipeline=pipeline, filters=filters)
    columns = [
        {
            "stage": column.stage,
            "count": column.summary.count,
            "total": _money(column.summary.total.amount),
            "weighted_total": _money(column.summary.weighted.amount),
            "missing_rates": sorted(
                set(column.summary.total.missing_rates) | set(column.summary.weighted.missing_rates)
            ),
            "deals": column.cards,
            "has_more": column.has_more,
        }
        for column in board.columns
    ]
    return {
        "pipeline": pipeline,
        "base_currency": board.base_currency,
        "stale_days": filters.stale_days,
        "columns": columns,
    }


@router.post("/stages", response={201: StageOut, **WRITE_ERRORS}, tags=["pipelines"])
def stage_create(request: HttpRequest, payload: StageIn) -> Status[Stage]:
    data = sent_fields(payload)
    pipeline = pipeline_selectors.pipeline_list().filter(pk=data.pop("pipeline")).first()
    if pipeline is None:
        raise ValidationError({"pipeline": [_("No such pipeline.")]})
    return Status(201, pipeline_services.stage_create(actor=request_actor(request), pipeline=pipeline, data=data))


@router.get("/stages/{stage_id}", response={200: StageOut, **GET_ERRORS}, tags=["pipelines"])
def stage_get(request: HttpRequest, stage_id: int) -> Stage:
    request_actor(request)
    return pipeline_selectors.stage_get(pk=stage_id)


@router.patch("/stages/{stage_id}", response={200: StageOut, **WRITE_ERRORS}, tags=["pipelines"])
def stage_update(request: HttpRequest, stage_id: int, payload: StagePatch) -> Stage:
    stage = pipeline_selectors.stage_get(pk=stage_id)
    return pipeline_services.stage_update(actor=request_actor(request), stage=stage, data=sent_fields(payload))


@router.delete("/stages/{stage_id}", response={204: None, **WRITE_ERRORS}, tags=["pipelines"])
def stage_delete(request: HttpRequest, stage_id: int, query: Query[StageDeleteQuery]) -> Status[None]:
    """Delete a stage; one that holds deals needs `?move_to=<stage id>` (its deals move there)."""
    stage = pipeline_selectors.stage_get(pk=stage_id)
    pipeline_services.stage_delete(actor=request_actor(request), stage=stage, move_to=query.move_to)
    return Status(204, None)


# --- lost reasons -----------------------------------------------------------------------------------


@router.get("/lost-reasons", response={200: LostReasonPage, **READ_ERRORS}, tags=["pipelines"])
def lost_reason_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    request_actor(request)
    page = paginate(pipeline_selectors.lost_reason_list(), page=paging.page, per_page=paging.per_page)
    return page_out(request, page)


@router.post("/lost-reasons", response={201: LostReasonOut, **WRITE_ERRORS}, tags=["pipelines"])
def lost_reason_create(request: HttpRequest, payload: LostReasonIn) -> Status[LostReason]:
    return Status(201, pipeline_services.lost_reason_create(actor=request_actor(request), data=sent_fields(payload)))


@router.get("/lost-reasons/{lost_reason_id}", response={200: LostReasonOut, **GET_ERRORS}, tags=["pipelines"])
def lost_reason_get(request: HttpRequest, lost_reason_id: int) -> LostReason:
    request_actor(request)
    return pipeline_selectors.lost_reason_get(pk=lost_reason_id)


@router.patch("/lost-reasons/{lost_reason_id}", response={200: LostReasonOut, **WRITE_ERRORS}, tags=["pipelines"])
def lost_reason_update(request: HttpRequest, lost_reason_id: int, payload: LostReasonPatch) -> LostReason:
    reason = pipeline_selectors.lost_reason_get(pk=lost_reason_id)
    return pipeline_services.lost_reason_update(actor=request_actor(request), reason=reason, data=sent_fields(payload))


@router.delete("/lost-reasons/{lost_reason_id}", response={204: None, **WRITE_ERRORS}, tags=["pipelines"])
def lost_reason_delete(request: HttpRequest, lost_reason_id: int) -> Status[None]:
    reason = pipeline_selectors.lost_reason_get(pk=lost_reason_id)
    pipeline_services.lost_reason_delete(actor=request_actor(request), reason=reason)
    return Status(204, None)


# --- exchange rates ---------------------------------------------------------------------------------


@router.get("/exchange-rates", response={200: ExchangeRatePage, **READ_ERRORS}, tags=["exchange rates"])
def exchange_rate_list(request: HttpRequest, paging: Query[PageQuery]) -> dict[str, Any]:
    request_actor(request)
    page = paginate(pipeline_selectors.exchange_rate_list(), page=paging.page, per_page=paging.per_page)
    return page_out(request, page)


@router.post("/exchange-rates", response={201: ExchangeRateOut, **WRITE_ERRORS}, tags=["exchange rates"])
def exchange_rate_create(request: HttpRequest, payload: ExchangeRateIn) -> Status[ExchangeRate]:
    rate = rate_services.exchange_rate_create(actor=request_actor(request), data=sent_fields(payload))
    return Status(201, rate)


@router.get(
    "/exchange-rates/{exchange_rate_id}", response={200: ExchangeRateOut, **GET_ERRORS}, tags=["exchange rates"]
)
def exchange_rate_get(request: HttpRequest, exchange_rate_id: int) -> ExchangeRate:
    request_actor(request)
    return pipeline_selectors.exchange_rate_get(pk=exchange_rate_id)


@router.patch(
    "/exchange-rates/{exchange_rate_id}", response={200: ExchangeRateOut, **WRITE_ERRORS}, tags=["exchange rates"]
)
def exchange_rate_update(request: HttpRequest, exchange_rate_id: int, payload: ExchangeRatePatch) -> ExchangeRate:
    rate = pipeline_selectors.exchange_rate_get(pk=exchange_rate_id)
    return rate_services.exchange_rate_update(actor=request_actor(request), rate=rate, data=sent_fields(payload))


@router.delete("/exchange-rates/{exchange_rate_id}", response={204: None, **WRITE_ERRORS}, tags=["exchange rates"])
def exchange_rate_delete(request: HttpRequest, exchange_rate_id: int) -> Status[None]:
    rate = pipeline_selectors.exchange_rate_get(pk=exchange_rate_id)
    rate_services.exchange_rate_delete(actor=request_actor(request), rate=rate)
    return Status(204, None)


# --- deals ------------------------------------------------------------------------------------------


def _list_parameters() -> list[dict[str, Any]]:
    return [
        search_query_param("Words of the title."),
        query_param("pipeline", {"type": "integer", "minimum": 1}, "A pipeline id."),
        query_param("stage", {"type": "integer", "minimum": 1}, "A stage id."),
        query_param("status", {"type": "string", "enum": list(DealStatus.values)}, "Open, won or lost."),
        query_param("owner", {"type": "string", "pattern": "^(me|none|[0-9]{1,18})$"}, "A user id, `me` or `none`."),
        query_param("team", {"type": "integer", "minimum": 1}, "A team id: deals owned by its members."),
        date_query_param("close_after", "Expected to close on or after this day."),
        date_query_param("close_before", "Expected to close on or before this day."),
        query_param(
            "close_month",
            {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", **DATE_RANGE_EXTENSION},
            "Expected to close in YYYY-MM, from 1900-01 to 2200-12.",
        ),
        date_query_param("closed_from", "Won or lost on or after this day (the organisation's time zone)."),
        date_query_param("closed_to", "Won or lost on or before this day (the organisation's time zone)."),
        query_param("sort", {"type": "string", "enum": list(DEAL_SORTS), "default": "-created"}, "Sort order."),
        query_param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "Page number."),
        query_param(
            "per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50}, "Page size."
        ),
    ]


@router.get(
    "/deals",
    response={200: DealPage, **READ_ERRORS},
    openapi_extra={"parameters": _list_parameters()},
    description="Deals with the filters, sorting and paging of the deals page. Any other query parameter is "
    "an error (422).",
)
def deal_list(request: HttpRequest) -> dict[str, Any]:
    actor = request_actor(request)
    filters = parse_deal_filters(request.GET, strict=True, allowed=frozenset(API_LIST_PARAMS))
    return page_out(request, deal_selectors.deal_list(actor=actor, filters=filters))


@router.post("/deals", response={201: DealOut, **WRITE_ERRORS})
def deal_create(request: HttpRequest, payload: DealIn) -> Status[Deal]:
    actor = request_actor(request)
    deal = deal_services.deal_create(actor=actor, data=sent_fields(payload))
    return Status(201, deal_selectors.deal_get(actor=actor, pk=deal.pk))


@router.get("/deals/{deal_id}", response={200: DealOut, **GET_ERRORS})
def deal_get(request: HttpRequest, deal_id: int) -> Deal:
    return deal_selectors.deal_get(actor=request_actor(request), pk=deal_id)


@router.patch("/deals/{deal_id}", response={200: DealOut, **WRITE_ERRORS})
def deal_update(request: HttpRequest, deal_id: int, payload: DealPatch) -> Deal:
    actor = request_actor(request)
    deal = deal_selectors.deal_get(actor=actor, pk=deal_id)
    deal_services.deal_update(actor=actor, deal=deal, data=sent_fields(payload))
    return deal_selectors.deal_get(actor=actor, pk=deal_id)


@router.delete("/deals/{deal_id}", response={204: None, **WRITE_ERRORS})
def deal_delete(request: HttpRequest, deal_id: int) -> Status[None]:
    actor = request_actor(request)
    deal_services.deal_delete(actor=actor, deal=deal_selectors.deal_get(actor=actor, pk=deal_id))
    return Status(204, None)


@router.post("/deals/{deal_id}/move", response={200: DealOut, **WRITE_ERRORS})
def deal_move(request: HttpRequest, deal_id: int, payload: DealMoveIn) -> Deal:
    """Move the deal into `stage` (a stage of its pipeline), above the card `before` or at the
    bottom of the column; a lost stage takes a `lost_reason`."""
    actor = request_actor(request)
    deal = deal_selectors.deal_get(actor=actor, pk=deal_id)
    deal_services.deal_move(
        actor=actor, deal=deal, stage=payload.stage, before=payload.before, lost_reason=payload.lost_reason
    )
    return deal_selectors.deal_get(actor=actor, pk=deal_id)


def _line_items_out(deal: Deal, items: list[DealLineItem]) -> dict[str, Any]:
    totals = deal_services.line_item_totals(items)
    return {
        "deal_id": deal.pk,
        "currency": deal.currency,
        "lines": items,
        "subtotal": _money(totals.subtotal),
        "discount_total": _money(totals.discount_total),
        "net_total": _money(deal_services.net_total(totals)),
        "tax_total": _money(totals.tax_total),
        "total": _money(totals.total),
        "amount": _money(deal.amount),
    }


@router.get("/deals/{deal_id}/line-items", response={200: DealLineItemsOut, **GET_ERRORS})
def deal_line_item_list(request: HttpRequest, deal_id: int) -> dict[str, Any]:
    """The deal's products (line items) in order, with their totals and the deal's amount."""
    deal = deal_selectors.deal_get(actor=request_actor(request), pk=deal_id)
    return _line_items_out(deal, deal_selectors.deal_line_items(deal=deal))


@router.put("/deals/{deal_id}/line-items", response={200: DealLineItemsOut, **WRITE_ERRORS})
def deal_line_items_set(request: HttpRequest, deal_id: int, payload: DealLineItemsIn) -> dict[str, Any]:
    """Replace the deal's line items (the same line shape as quotes: a product line takes the price
    of the default price list of the deal's currency unless `unit_price` is given). The deal's amount
    becomes the lines' net total (subtotal − discounts, tax excluded); an empty list removes every
    line and keeps the amount. Errors name the line and field: `lines.0.quantity`."""
    actor = request_actor(request)
    deal = deal_selectors.deal_get(actor=actor, pk=deal_id)
    if payload.lines is None:
        raise ValidationError({"lines": [_("This field is required.")]})
    deal_services.deal_set_line_items(actor=actor, deal=deal, lines=sent_fields(payload)["lines"])
    deal = deal_selectors.deal_get(actor=actor, pk=deal_id)
    return _line_items_out(deal, deal_selectors.deal_line_items(deal=deal))


# --- leads ------------------------------------------------------------------------------------------


@router.post("/leads/{lead_id}/convert", response={200: LeadConversionOut, **WRITE_ERRORS}, tags=["leads"])
def lead_convert(request: HttpRequest, lead_id: int, payload: LeadConvertIn) -> dict[str, Any]:
    """Qualify a lead (a contact in stage "lead"): link or create its company, make it a prospect,
    and open the deal, all or nothing. Errors of the deal are reported as `deal.<field>`."""
    actor = request_actor(request)
    contact = contact_selectors.contact_get(actor=actor, pk=lead_id)
    deal = sent_fields(payload.deal) if payload.deal is not None else None
    result = lead_services.lead_convert(
        actor=actor, contact=contact, company=payload.company, company_name=payload.company_name, deal=deal
    )
    return {
        "contact": result.contact,
        "company": result.company,
        "deal": deal_selectors.deal_get(actor=actor, pk=result.deal.pk) if result.deal else None,
    }
