"""The catalogue and sales documents API: products, price lists and their items, quotes and orders.

The schemas check the shape of the input (types, unknown fields); every rule about the data is the
services', shared with the pages. Routes with an id look the record up before anything else, so
another organisation's id answers 404 whatever the body. Amounts are decimal strings ("1250.50").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import StrictInt

from vinculo.accounts.api import UserRef, request_actor
from vinculo.core.api import (
    DATE_RANGE_EXTENSION,
    DATE_RANGE_TEXT,
    GET_ERRORS,
    MAX_PAGE,
    READ_ERRORS,
    WRITE_ERRORS,
    BoundedDate,
    InSchema,
    PageOut,
    Ref,
    SearchText,
    page_out,
    sent_fields,
)
from vinculo.core.pagination import paginate
from vinculo.sales.models import OrderChannel, OrderStatus, PriceList, PriceListItem, Product, Quote, QuoteStatus
from vinculo.sales.pricing import MAX_LINES
from vinculo.sales.selectors import documents as document_selectors
from vinculo.sales.selectors import products as product_selectors
from vinculo.sales.services import documents as document_services
from vinculo.sales.services import products as product_services
from vinculo.sales.services import quote_email

router = Router()

RecordId = StrictInt
Amount = Annotated[str | int | float, Field(description='A decimal string with at most two decimals, e.g. "1250.50".')]
Number = Annotated[str | int | float, Field(description='A decimal string, e.g. "2.5".')]
Currency = Annotated[str, Field(max_length=3, description="ISO 4217, e.g. EUR.")]


# --- output schemas -------------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    name: str
    sku: str
    product_line: str
    description: str
    tax_rate: Decimal
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductPage(PageOut):
    items: list[ProductOut]


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    is_default: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class PriceListPage(PageOut):
    items: list[PriceListOut]


class PriceListItemOut(Schema):
    id: int
    price_list_id: int
    product: Ref
    unit_price: Decimal
    currency: str

    @staticmethod
    def resolve_currency(obj: PriceListItem) -> str:
        return obj.price_list.currency


class PriceListItemPage(PageOut):
    items: list[PriceListItemOut]


class LineOut(Schema):
    id: int
    product: Ref | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal


class DocumentSummary(Schema):
    id: int
    number: str
    status: str
    contact: Ref | None
    company: Ref | None
    owner: UserRef | None
    currency: str
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    created_at: dt.datetime


class QuoteSummary(DocumentSummary):
    status: QuoteStatus
    valid_until: dt.date | None


class QuoteOut(QuoteSummary):
    deal: Ref | None
    notes: str
    accepted_at: dt.datetime | None
    lines: list[LineOut]
    updated_at: dt.datetime

    @staticmethod
    def resolve_lines(obj: Quote) -> list[Any]:
        return list(obj.lines.all())


class QuotePage(PageOut):
    items: list[QuoteSummary]


class OrderSummary(DocumentSummary):
    status: OrderStatus
    channel: OrderChannel
    external_id: str
    placed_at: dt.datetime


class OrderOut(OrderSummary):
    deal: Ref | None
    quote: Ref | None
    notes: str
    lines: list[LineOut]
    updated_at: dt.datetime

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())


class OrderPage(PageOut):
    items: list[OrderSummary]


# --- input schemas --------------------------------------------------------------------------------


class ProductIn(InSchema):
    name: Annotated[str, Field(max_length=200)] | None = None
    sku: Annotated[str, Field(max_length=64)] | None = None
    product_line: Annotated[str, Field(max_length=100)] | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    tax_rate: Number | None = Field(None, description="Percent, 0–100.")
    is_active: bool | None = None


class PriceListIn(InSchema):
    name: Annotated[str, Field(max_length=100)] | None = None
    currency: Currency | None = None
    is_default: bool | None = Field(None, description="The default list of its currency prices new lines.")


class PriceListItemIn(InSchema):
    product: RecordId | None = None
    unit_price: Amount | None = None


class LineIn(InSchema):
    """A product line (its price from the price list unless given) or a free-text line."""

    product: RecordId | None = None
    description: Annotated[str, Field(max_length=300)] | None = None
    quantity: Number | None = Field(None, description="Greater than zero; 1 when left out.")
    unit_price: Amount | None = Field(None, description="Left out: the price list's price of the product.")
    discount_percent: Number | None = None
    tax_rate: Number | None = Field(None, description="Left out: the product's tax rate.")


class QuoteIn(InSchema):
    contact: RecordId | None = None
    company: RecordId | None = None
    deal: RecordId | None = None
    currency: Currency | None = Field(None, description="Defaults to the organisation's base currency.")
    price_list: RecordId | None = Field(None, description="Prices the lines; the currency's default list if left out.")
    valid_until: BoundedDate | None = None
    notes: Annotated[str, Field(max_length=5000)] | None = None
    lines: Annotated[list[LineIn], Field(max_length=MAX_LINES)] | None = None


class OrderIn(InSchema):
    contact: RecordId | None = None
    company: RecordId | None = None
    deal: RecordId | None = None
    currency: Currency | None = None
    price_list: RecordId | None = None
    notes: Annotated[str, Field(max_length=5000)] | None = None
    lines: Annotated[list[LineIn], Field(max_length=MAX_LINES)] | None = None
    external_id: Annotated[str, Field(max_length=128)] | None = Field(
        None, description="The order's id in your system: sending it again returns the same order (200)."
    )
    channel: OrderChannel | None = Field(None, description="api (default) or ecommerce.")
    placed_at: str | None = Field(
        None,
        description="When it was placed (ISO 8601 with a time zone); now when left out. Not in the future. "
        + DATE_RANGE_TEXT,
        json_schema_extra=DATE_RANGE_EXTENSION,
    )


class OrderStatusIn(InSchema):
    status: OrderStatus | None = None


class ListQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=200)
    q: SearchText = Field("", description="Part of the number or of the customer's name.")


class ProductListQuery(ListQuery):
    q: SearchText = Field("", description="Part of the name, SKU or product line.")
    active: bool | None = None


class QuoteListQuery(ListQuery):
    status: QuoteStatus | None = None


class OrderListQuery(ListQuery):
    status: OrderStatus | None = None
    contact: int | None = Field(None, ge=1, description="A contact id.")


def _conflict(exc: document_services.DocumentConflict) -> HttpError:
    return HttpError(409, exc.message)


# --- products -------------------------------------------------------------------------------------


@router.get("/products", response={200: ProductPage, **READ_ERRORS}, tags=["products"])
def product_list(request: HttpRequest, query: Query[ProductListQuery]) -> dict[str, Any]:
    request_actor(request)
    queryset = product_selectors.product_list(q=query.q, active=query.active)
    return page_out(request, paginate(queryset, page=query.page, per_page=query.per_page))


@router.post("/products", response={201: ProductOut, **WRITE_ERRORS}, tags=["products"])
def product_create(request: HttpRequest, payload: ProductIn) -> Status[Product]:
    return Status(201, product_services.product_create(actor=request_actor(request), data=sent_fields(payload)))


@router.get("/products/{product_id}", response={200: ProductOut, **GET_ERRORS}, tags=["products"])
def product_get(request: HttpRequest, product_id: int) -> Product:
    request_actor(request)
    return product_selectors.product_get(pk=product_id)


@router.patch("/products/{product_id}", response={200: ProductOut, **WRITE_ERRORS}, tags=["products"])
def product_update(request: HttpRequest, product_id: int, payload: ProductIn) -> Product:
    product = product_selectors.product_get(pk=product_id)
    return product_services.product_update(actor=request_actor(request), product=product, data=sent_fields(payload))


@router.delete("/products/{product_id}", response={204: None, **WRITE_ERRORS}, tags=["products"])
def product_delete(request: HttpRequest, product_id: int) -> Status[None]:
    product = product_selectors.product_get(pk=product_id)
    product_services.product_delete(actor=request_actor(request), product=product)
    return Status(204, None)


# --- price lists ----------------------------------------------------------------------------------


@router.get("/price-lists", response={200: PriceListPage, **READ_ERRORS}, tags=["products"])
def price_list_list(request: HttpRequest, query: Query[ListQuery]) -> dict[str, Any]:
    request_actor(request)
    queryset = product_selectors.price_list_list()
    if query.q:
        queryset = queryset.filter(name__icontains=query.q)
    return page_out(request, paginate(queryset, page=query.page, per_page=query.per_page))


@router.post("/price-lists", response={201: PriceListOut, **WRITE_ERRORS}, tags=["products"])
def price_list_create(request: HttpRequest, payload: PriceListIn) -> Status[PriceList]:
    return Status(201, product_services.price_list_create(actor=request_actor(request), data=sent_fields(payload)))


@router.get("/price-lists/{price_list_id}", response={200: PriceListOut, **GET_ERRORS}, tags=["products"])
def price_list_get(request: HttpRequest, price_list_id: int) -> PriceList:
    request_actor(request)
    return product_selectors.price_list_get(pk=price_list_id)


@router.patch("/price-lists/{price_list_id}", response={200: PriceListOut, **WRITE_ERRORS}, tags=["products"])
def price_list_update(request: HttpRequest, price_list_id: int, payload: PriceListIn) -> PriceList:
    price_list = product_selectors.price_list_get(pk=price_list_id)
    return product_services.price_list_update(
        actor=request_actor(request), price_list=price_list, data=sent_fields(payload)
    )


@router.delete("/price-lists/{price_list_id}", response={204: None, **WRITE_ERRORS}, tags=["products"])
def price_list_delete(request: HttpRequest, price_list_id: int) -> Status[None]:
    price_list = product_selectors.price_list_get(pk=price_list_id)
    product_services.price_list_delete(actor=request_actor(request), price_list=price_list)
    return Status(204, None)


@router.get("/price-lists/{price_list_id}/items", response={200: PriceListItemPage, **GET_ERRORS}, tags=["products"])
def price_list_item_list(request: HttpRequest, price_list_id: int, query: Query[ListQuery]) -> dict[str, Any]:
    request_actor(request)
    price_list = product_selectors.price_list_get(pk=price_list_id)
    queryset = product_selectors.price_list_items(price_list=price_list)
    if query.q:
        queryset = queryset.filter(product__name__icontains=query.q)
    return page_out(request, paginate(queryset, page=query.page, per_page=query.per_page))


@router.post("/price-lists/{price_list_id}/items", response={201: PriceListItemOut, **WRITE_ERRORS}, tags=["products"])
def price_list_item_create(request: HttpRequest, price_list_id: int, payload: PriceListItemIn) -> Status[Any]:
    price_list = product_selectors.price_list_get(pk=price_list_id)
    item = product_services.price_list_item_create(
        actor=request_actor(request), price_list=price_list, data=sent_fields(payload)
    )
    return Status(201, item)


@router.get("/price-list-items/{price_list_item_id}", response={200: PriceListItemOut, **GET_ERRORS}, tags=["products"])
def price_list_item_get(request: HttpRequest, price_list_item_id: int) -> PriceListItem:
    request_actor(request)
    return product_selectors.price_list_item_get(pk=price_list_item_id)


@router.patch(
    "/price-list-items/{price_list_item_id}", response={200: PriceListItemOut, **WRITE_ERRORS}, tags=["products"]
)
def price_list_item_update(request: HttpRequest, price_list_item_id: int, payload: PriceListItemIn) -> PriceListItem:
    item = product_selectors.price_list_item_get(pk=price_list_item_id)
    return product_services.price_list_item_update(actor=request_actor(request), item=item, data=sent_fields(payload))


@router.delete("/price-list-items/{price_list_item_id}", response={204: None, **WRITE_ERRORS}, tags=["products"])
def price_list_item_delete(request: HttpRequest, price_list_item_id: int) -> Status[None]:
    item = product_selectors.price_list_item_get(pk=price_list_item_id)
    product_services.price_list_item_delete(actor=request_actor(request), item=item)
    return Status(204, None)


# --- quotes ---------------------------------------------------------------------------------------


@router.get("/quotes", response={200: QuotePage, **READ_ERRORS}, tags=["quotes"])
def quote_list(request: HttpRequest, query: Query[QuoteListQuery]) -> dict[str, Any]:
    queryset = document_selectors.quote_list(actor=request_actor(request), q=query.q, status=query.status or "")
    return page_out(request, paginate(queryset, page=query.page, per_page=query.per_page))


@router.post("/quotes", response={201: QuoteOut, **WRITE_ERRORS}, tags=["quotes"])
def quote_create(request: HttpRequest, payload: QuoteIn) -> Status[Quote]:
    actor = request_actor(request)
    data = sent_fields(payload)
    data.setdefault("lines", [])
    quote = document_services.quote_create(actor=actor, data=data)
    return Status(201, document_selectors.quote_get(actor=actor, pk=quote.pk))


@router.get("/quotes/{quote_id}", response={200: QuoteOut, **GET_ERRORS}, tags=["quotes"])
def quote_get(request: HttpRequest, quote_id: int) -> Quote:
    return document_selectors.quote_get(actor=request_actor(request), pk=quote_id)


@router.patch("/quotes/{quote_id}", response={200: QuoteOut, **WRITE_ERRORS}, tags=["quotes"])
def quote_update(request: HttpRequest, quote_id: int, payload: QuoteIn) -> Quote:
    """Change a draft quote; lines given replace all its lines."""
    actor = request_actor(request)
    quote = document_selectors.quote_get(actor=actor, pk=quote_id)
    document_services.quote_update(actor=actor, quote=quote, data=sent_fields(payload))
    return document_selectors.quote_get(actor=actor, pk=quote_id)


@router.delete("/quotes/{quote_id}", response={204: None, **WRITE_ERRORS}, tags=["quotes"])
def quote_delete(request: HttpRequest, quote_id: int) -> Status[None]:
    actor = request_actor(request)
    quote = document_selectors.quote_get(actor=actor, pk=quote_id)
    try:
        document_services.quote_delete(actor=actor, quote=quote)
    except document_services.DocumentConflict as exc:
        raise _conflict(exc) from None
    return Status(204, None)


class QuoteSendIn(InSchema):
    to: str = Field("", max_length=254, description="The recipient's address (e-mails the quote).")
    subject: str = Field("", max_length=300, description="Required when e-mailing.")
    message: str = Field("", max_length=20000, description="Plain text above the attached PDF.")
    idempotency_key: str = Field(
        "", max_length=100, description="Sending the same key again for this quote e-mails it once."
    )


@router.post("/quotes/{quote_id}/send", response={200: QuoteOut, **WRITE_ERRORS}, tags=["quotes"])
def quote_send(request: HttpRequest, quote_id: int, payload: QuoteSendIn | None = None) -> Quote:
    """Without a body (or with an empty one): mark a draft as sent. With `to`, `subject` and
    `message`: e-mail the quote as a PDF (queued; sent by the worker) and mark a draft as sent;
    a draft or an already sent quote can be e-mailed. An address on the organisation's
    suppression list answers 422 with the reason and nothing is sent."""
    actor = request_actor(request)
    quote = document_selectors.quote_get(actor=actor, pk=quote_id)
    fields = sent_fields(payload) if payload is not None else {}
    try:
        if fields:
            quote_email.quote_email(
                actor=actor,
                quote=quote,
                to=fields.get("to", ""),
                subject=fields.get("subject", ""),
                message=fields.get("message", ""),
                idempotency_key=fields.get("idempotency_key", ""),
            )
        else:
            document_services.quote_send(actor=actor, quote=quote)
    except document_services.DocumentConflict as exc:
        raise _conflict(exc) from None
    return document_selectors.quote_get(actor=actor, pk=quote_id)


@router.post("/quotes/{quote_id}/accept", response={201: OrderOut, **WRITE_ERRORS}, tags=["quotes"])
def quote_accept(request: HttpRequest, quote_id: int) -> Status[Any]:
    """The customer accepted: the quote's order is placed (201). Accepting again answers 409."""
    actor = request_actor(request)
    quote = document_selectors.quote_get(actor=actor, pk=quote_id)
    try:
        order = document_services.quote_accept(actor=actor, quote=quote)
    except document_services.DocumentConflict as exc:
        raise _conflict(exc) from None
    return Status(201, document_selectors.order_get(actor=actor, pk=order.pk))


@router.post("/quotes/{quote_id}/decline", response={200: QuoteOut, **WRITE_ERRORS}, tags=["quotes"])
def quote_decline(request: HttpRequest, quote_id: int) -> Quote:
    actor = request_actor(request)
    quote = document_selectors.quote_get(actor=actor, pk=quote_id)
    try:
        document_services.quote_decline(actor=actor, quote=quote)
    except document_services.DocumentConflict as exc:
        raise _conflict(exc) from None
    return document_selectors.quote_get(actor=actor, pk=quote_id)


# --- orders ---------------------------------------------------------------------------------------


@router.get("/orders", response={200: OrderPage, **READ_ERRORS}, tags=["orders"])
def order_list(request: HttpRequest, query: Query[OrderListQuery]) -> dict[str, Any]:
    queryset = document_selectors.order_list(
        actor=request_actor(request), q=query.q, status=query.status or "", contact_id=query.contact
    )
    return page_out(request, paginate(queryset, page=query.page, per_page=query.per_page))


@router.post("/orders", response={200: OrderOut, 201: OrderOut, **WRITE_ERRORS}, tags=["orders"])
def order_create(request: HttpRequest, payload: OrderIn) -> Status[Any]:
    """Place an order (201). With an `external_id` already placed in the same channel, the existing
    order is returned unchanged (200), so a retried request never places it twice."""
    actor = request_actor(request)
    data = sent_fields(payload)
    channel = data.pop("channel", None) or OrderChannel.API
    data.setdefault("lines", [])
    order, created = document_services.order_create(actor=actor, data=data, channel=channel)
    return Status(201 if created else 200, document_selectors.order_get(actor=actor, pk=order.pk))


@router.get("/orders/{order_id}", response={200: OrderOut, **GET_ERRORS}, tags=["orders"])
def order_get(request: HttpRequest, order_id: int) -> Any:
    return document_selectors.order_get(actor=request_actor(request), pk=order_id)


@router.post("/orders/{order_id}/status", response={200: OrderOut, **WRITE_ERRORS}, tags=["orders"])
def order_set_status(request: HttpRequest, order_id: int, payload: OrderStatusIn) -> Any:
    """Mark an order paid, fulfilled, cancelled or refunded."""
    actor = request_actor(request)
    order = document_selectors.order_get(actor=actor, pk=order_id)
    if payload.status is None:
        raise ValidationError({"status": [_("This field is required.")]})
    document_services.order_set_status(actor=actor, order=order, status=payload.status)
    return document_selectors.order_get(actor=actor, pk=order_id)
