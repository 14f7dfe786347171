"""The catalogue and sales documents API: products, price lists and their items, quotes and orders.

The schemas check the shape of the input (types, unknown fields); every rule about the data is the
services', shared with the pages. Routes with an id look the record up before anything else, so
another organisation's id answers 404 whatever the body. Amounts are decimal strings ("1250.50").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
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
    error_responses,
    page_out,
    sent_fields,
)
from vinculo.core.pagination import paginate
from vinculo.sales.models import (
    AdjustmentKind,
    OrderChannel,
    OrderStatus,
    PriceList,
    PriceListItem,
    Product,
    Quote,
    QuoteStatus,
)
from vinculo.sales.pricing import MAX_ADJUSTMENTS, MAX_LINES, unit_price_out
from vinculo.sales.selectors import documents as document_selectors
from vinculo.sales.selectors import products as product_selectors
from vinculo.sales.selectors.documents import order_warnings
from vinculo.sales.services import documents as document_services
from vinculo.sales.services import order_batch as order_batch_services
from vinculo.sales.services import products as product_services
from vinculo.sales.services import quote_email
from vinculo.sales.services import refunds as refund_services

router = Router()

RecordId = StrictInt
Amount = Annotated[str | int | float, Field(description='A decimal string with at most two decimals, e.g. "1250.50".')]
UnitPrice = Annotated[
    str | int | float,
    Field(
        description='At most four decimals (3 for 10.00: 3.3333), as a decimal string ("3.3333") or a JSON '
        "number (3.3333, read as written). A line's amounts (quantity × unit price, its discount, its tax) "
        "are each rounded once to the currency's minor unit (cents; whole units for JPY and other "
        "currencies without decimals)."
    ),
]
ExternalRef = Annotated[
    Annotated[str, Field(max_length=64)] | StrictInt, Field(description="Text, or a number (read as text).")
]
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
    default_price: Decimal | None = Field(
        description="In the organisation's base currency: prices lines in it that no price list prices; null for none."
    )
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


class OrderLineOut(LineOut):
    unit_price: Decimal = Field(description="Up to four decimals: 19.99, 13.3333.")
    sku: str
    external_id: str
    subtotal: Decimal = Field(description="Quantity × unit price, before the discount, rounded once.")
    discount_amount: Decimal
    tax_amount: Decimal
    total: Decimal = Field(description="Subtotal − discount + tax (the tax is not added when prices include it).")
    presentment_total: Decimal | None

    @staticmethod
    def resolve_unit_price(obj: Any) -> Decimal:
        return unit_price_out(obj.unit_price)


class AdjustmentOut(Schema):
    id: int
    kind: AdjustmentKind
    description: str
    code: str
    external_id: str
    amount: Decimal
    discount_amount: Decimal
    tax_amount: Decimal
    total: Decimal = Field(description="Its effect on the order's total (negative for a discount).")
    included_in_lines: bool = Field(description="Already inside the lines' amounts: shown, not counted again.")
    presentment_total: Decimal | None


class RefundLineOut(Schema):
    order_line_id: int | None
    description: str
    quantity: Decimal
    amount: Decimal
    tax_amount: Decimal


class RefundOut(Schema):
    id: int
    order_id: int
    external_id: str
    amount: Decimal = Field(description="What went back to the customer.")
    currency: str
    shipping_amount: Decimal
    reason: str
    refunded_at: dt.datetime
    lines: list[RefundLineOut]
    created_at: dt.datetime

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())


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
    external_number: str = Field(description="The order's own number in the shop (#1001).")
    placed_at: dt.datetime
    refunded_total: Decimal
    net_total: Decimal = Field(description="The total less the refunds.")


class OrderOut(OrderSummary):
    deal: Ref | None
    quote: Ref | None
    notes: str
    external_url: str = Field(description="The order's page in the shop's admin.")
    customer_email: str
    billing_address: dict[str, str]
    shipping_address: dict[str, str]
    taxes_included: bool
    discount_codes: list[str]
    presentment_currency: str = Field(description="The currency the customer paid in, when not the shop's.")
    presentment_total: Decimal | None
    computed_total: Decimal = Field(description="What the lines and the counted adjustments add up to.")
    warnings: list[str] = Field(description="For instance when the shop's figures do not add up to its total.")
    deleted_at_source: dt.datetime | None
    lines: list[OrderLineOut]
    adjustments: list[AdjustmentOut]
    refunds: list[RefundOut]
    updated_at: dt.datetime

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_adjustments(obj: Any) -> list[Any]:
        return list(obj.adjustments.all())

    @staticmethod
    def resolve_refunds(obj: Any) -> list[Any]:
        return list(obj.refunds.all())

    @staticmethod
    def resolve_warnings(obj: Any) -> list[str]:
        return order_warnings(obj)


class OrderPage(PageOut):
    items: list[OrderSummary]


# --- input schemas --------------------------------------------------------------------------------


class ProductIn(InSchema):
    name: Annotated[str, Field(max_length=200)] | None = None
    sku: Annotated[str, Field(max_length=64)] | None = None
    product_line: Annotated[str, Field(max_length=100)] | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    tax_rate: Number | None = Field(None, description="Percent, 0–100.")
    default_price: Amount | None = Field(
        None,
        description="In the organisation's base currency, used when no price list prices the product; null for none.",
    )
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


class OrderLineIn(LineIn):
    """An order's line; a shop's own amounts may be given to the cent (`discount_amount`,
    `tax_amount`): they are then kept as given instead of computed from the percentages."""

    unit_price: UnitPrice | None = Field(None, description="Left out: the price list's price of the product.")
    sku: Annotated[str, Field(max_length=64)] | None = None
    external_id: ExternalRef | None = Field(
        None, description="The line's id in your system (refunds name lines by it)."
    )
    subtotal: Amount | None = Field(
        None,
        description="Quantity × unit price before the discount, to the cent, when your system rounded it itself "
        "(a unit price of four decimals may be a little off).",
    )
    discount_amount: Amount | None = Field(None, description="The line's discount, to the cent (instead of a %).")
    tax_amount: Amount | None = Field(None, description="The line's tax, to the cent (instead of a rate).")
    presentment_total: Amount | None = Field(None, description="The line's total in the customer's currency.")


class AdjustmentIn(InSchema):
    """Something that applies to the whole order rather than to a line."""

    kind: AdjustmentKind
    description: Annotated[str, Field(max_length=300)] | None = None
    code: Annotated[str, Field(max_length=100)] | None = Field(None, description="A discount code.")
    external_id: ExternalRef | None = None
    amount: Amount = Field(description="Negative for a discount; a shipping's price before its discount and tax.")
    discount_amount: Amount | None = Field(None, description="Shipping: its discount.")
    tax_amount: Amount | None = Field(None, description="Shipping, fee: its tax.")
    included_in_lines: bool | None = Field(
        None, description="True when the lines' amounts already include it (a coupon spread over the lines)."
    )
    presentment_total: Amount | None = None


class AddressIn(InSchema):
    name: Annotated[str, Field(max_length=200)] | None = None
    company: Annotated[str, Field(max_length=200)] | None = None
    street: Annotated[str, Field(max_length=300)] | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    region: Annotated[str, Field(max_length=100)] | None = None
    postal_code: Annotated[str, Field(max_length=20)] | None = None
    country: Annotated[str, Field(max_length=2)] | None = Field(None, description="ISO 3166, e.g. ES.")
    phone: Annotated[str, Field(max_length=40)] | None = None


class OrderIn(InSchema):
    contact: RecordId | None = None
    company: RecordId | None = None
    deal: RecordId | None = None
    currency: Currency | None = None
    price_list: RecordId | None = None
    notes: Annotated[str, Field(max_length=5000)] | None = None
    lines: Annotated[list[OrderLineIn], Field(max_length=MAX_LINES)] | None = None
    adjustments: Annotated[list[AdjustmentIn], Field(max_length=MAX_ADJUSTMENTS)] | None = Field(
        None, description="Discounts, shipping, fees, duties, tips, order-level taxes."
    )
    total: Amount | None = Field(
        None,
        description="The total your system computed. Kept as the order's total even when the lines and "
        "adjustments add up to something else (the order then carries a warning); left out: their sum.",
    )
    external_number: Annotated[str, Field(max_length=64)] | None = Field(None, description="Its number there (#1001).")
    external_url: Annotated[str, Field(max_length=500)] | None = Field(None, description="Its page there.")
    customer_email: Annotated[str, Field(max_length=254)] | None = None
    billing_address: AddressIn | None = None
    shipping_address: AddressIn | None = None
    taxes_included: bool | None = Field(None, description="True when the unit prices include the tax.")
    discount_codes: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=50)] | None = None
    presentment_currency: Currency | None = Field(None, description="The currency the customer paid in.")
    presentment_total: Amount | None = Field(None, description="The total in that currency.")
    external_id: Annotated[str, Field(max_length=128)] | None = Field(
        None,
        description="The order's id in your system: sending the same order again returns it unchanged (200); "
        "sending it again with different values answers 409 naming the fields that differ, and changes nothing.",
    )
    channel: OrderChannel | None = Field(None, description="api (default) or ecommerce.")
    placed_at: str | None = Field(
        None,
        description="When it was placed (ISO 8601 with a time zone); now when left out. Not in the future. "
        + DATE_RANGE_TEXT,
        json_schema_extra=DATE_RANGE_EXTENSION,
    )


class RefundLineIn(InSchema):
    order_line: RecordId | None = Field(None, description="The id of the order's line refunded.")
    line_external_id: ExternalRef | None = Field(None, description="Or the line's id in your system.")
    description: Annotated[str, Field(max_length=300)] | None = None
    quantity: Number | None = Field(None, description="Units refunded (at most the line's).")
    amount: Amount | None = Field(None, description="Refunded for the line, before tax.")
    tax_amount: Amount | None = None


class RefundIn(InSchema):
    """Money given back on the order. Without `amount`, the lines, their tax and the shipping
    given make it. At most what is left of the order's total."""

    external_id: (
        Annotated[ExternalRef, Field(description="The refund's id in your system: sent again, it is stored once.")]
        | None
    ) = None
    amount: Amount | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None
    refunded_at: str | None = Field(
        None,
        description="When (ISO 8601 with a time zone); now when left out. Not in the future. " + DATE_RANGE_TEXT,
        json_schema_extra=DATE_RANGE_EXTENSION,
    )
    shipping_amount: Amount | None = Field(None, description="Shipping given back.")
    lines: Annotated[list[RefundLineIn], Field(max_length=MAX_LINES)] | None = None


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


class ConflictOut(Schema):
    detail: str
    errors: list[dict[str, str]] = Field(description="Each field that differs, with a message.")
    order_id: int = Field(description="The order already placed with this external id.")


ORDER_WRITE_ERRORS = {**error_responses(400, 401, 403, 404, 413, 422), 409: ConflictOut}


def conflict_out(exc: document_services.OrderConflict) -> dict[str, Any]:
    """The 409 body of a resent order: each differing field with its message, and the order's id."""
    message = _("Differs from the order placed with this external id.")
    return {
        "detail": exc.message,
        "errors": [{"field": name, "message": message} for name in exc.fields],
        "order_id": exc.order.pk,
    }


@router.post("/orders", response={200: OrderOut, 201: OrderOut, **ORDER_WRITE_ERRORS}, tags=["orders"])
def order_create(request: HttpRequest, payload: OrderIn) -> Status[Any]:
    """Place an order (201). With an `external_id` already placed in the same channel: the same
    values return the existing order unchanged (200), so a retried request never places it twice;
    different values answer 409, naming the fields that differ (`errors`), and change nothing."""
    actor = request_actor(request)
    data = sent_fields(payload)
    channel = data.pop("channel", None) or OrderChannel.API
    data.setdefault("lines", [])
    try:
        order, created = document_services.order_create(actor=actor, data=data, channel=channel)
    except document_services.OrderConflict as exc:
        return Status(409, conflict_out(exc))
    return Status(201 if created else 200, document_selectors.order_get(actor=actor, pk=order.pk))


class OrderBatchIn(InSchema):
    """Up to 1,000 orders, each as `POST /orders` takes it, each with its `external_id`."""

    orders: Annotated[list[Any], Field(min_length=1, max_length=order_batch_services.MAX_BATCH)] = Field(
        description="Each one an order object as `POST /orders` takes it; `external_id` required."
    )
    channel: OrderChannel | None = Field(None, description="api (default) or ecommerce, for every order.")


class BatchRowOut(Schema):
    index: int = Field(description="The order's position in `orders`, from 0.")
    status: Literal["created", "existing", "conflict", "rejected"] = Field(
        description="created; existing (the same order was already placed with this external id: "
        "unchanged); conflict (placed with other values: unchanged, `errors` names them); rejected."
    )
    id: int | None
    number: str | None
    errors: list[dict[str, str]]


class OrderBatchOut(Schema):
    created: int
    existing: int
    conflicts: int
    rejected: int
    results: list[BatchRowOut]


@router.post("/orders/batch", response={200: OrderBatchOut, **WRITE_ERRORS}, tags=["orders"])
def order_batch(request: HttpRequest, payload: OrderBatchIn) -> HttpResponse:
    """Place up to 1,000 orders in one request (a shop's history): each is validated like
    `POST /orders` and idempotent by its `external_id`; a rejected one is reported with its index
    and field errors, the others are stored (in chunks, one transaction each). 200 with one result
    per order, in order. Bodies up to VINCULO_BATCH_MAX_BODY_BYTES (32 MB)."""
    actor = request_actor(request)
    channel = payload.channel or OrderChannel.API
    if channel == OrderChannel.QUOTE:
        raise ValidationError({"channel": [_("Choose one of %(expected)s.") % {"expected": "api, ecommerce"}]})
    results = order_batch_services.orders_import(actor=actor, rows=payload.orders, channel=channel)
    counts = {
        status: sum(1 for r in results if r.status == status)
        for status in ("created", "existing", "conflict", "rejected")
    }
    body = {
        "created": counts["created"],
        "existing": counts["existing"],
        "conflicts": counts["conflict"],
        "rejected": counts["rejected"],
        "results": [
            {
                "index": r.index,
                "status": r.status,
                "id": r.order.pk if r.order is not None else None,
                "number": r.order.number if r.order is not None else None,
                "errors": [{"field": name, "message": str(m)} for name, messages in r.errors.items() for m in messages],
            }
            for r in results
        ],
    }
    # built to OrderBatchOut's shape here: validating a thousand rows again would cost more than the inserts
    return JsonResponse(body)


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


@router.post("/orders/{order_id}/refunds", response={200: RefundOut, 201: RefundOut, **WRITE_ERRORS}, tags=["orders"])
def order_refund_create(request: HttpRequest, order_id: int, payload: RefundIn) -> Status[Any]:
    """Record a refund (201); the order becomes partially refunded, or refunded when nothing is
    left, and `order.refunded` goes on the customer's timeline. A refund with an `external_id`
    this order already has is returned as it is (200)."""
    actor = request_actor(request)
    order = document_selectors.order_get(actor=actor, pk=order_id)
    refund, created = refund_services.refund_record(actor=actor, order=order, data=sent_fields(payload))
    return Status(201 if created else 200, document_selectors.refund_get(pk=refund.pk))
