"""Pieces every app's API router shares: the error and list-page schemas, the reference to a related
record, the fields a client sent, dates within bounds, the search parameter, documented query
parameters, and paging links."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Schema
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from vinculo.core.pagination import MAX_PAGE, Page
from vinculo.core.query_params import MAX_SEARCH_LENGTH
from vinculo.core.validation import MAX_DATE, MIN_DATE, date_range_message, in_date_range

# In the OpenAPI document, every date or date-time a client sends carries this range (an
# extension keyword: JSON Schema has no minimum for strings); the schema test checks it is there.
DATE_RANGE_EXTENSION: JsonDict = {"x-date-range": [MIN_DATE.isoformat(), MAX_DATE.isoformat()]}
DATE_RANGE_TEXT = f"From {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}."


class ErrorItem(Schema):
    field: str = Field(description="The input at fault: `emails`, `emails.0`, `page`, `body` or `__all__`.")
    message: str


class ErrorOut(Schema):
    """The body of every error response."""

    detail: str
    errors: list[ErrorItem]


def error_responses(*codes: int) -> dict[Any, type[Schema]]:
    """The `response=` entries documenting these error statuses."""
    return {tuple(codes): ErrorOut}


READ_ERRORS = error_responses(401, 422)
GET_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)


class InSchema(BaseModel):
    """Base of request bodies: an unknown field is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def sent_fields(payload: BaseModel) -> dict[str, Any]:
    """The fields the client sent (not the defaults), as JSON values: a PATCH changes only these,
    and a null stays a null for the services to accept as empty or refuse."""
    return payload.model_dump(mode="json", exclude_unset=True)


def refuse_out_of_range_date(value: Any) -> Any:
    """The pydantic check of BoundedDate and BoundedDateTime: a field error (`date_out_of_range`)
    outside 1900–2200, with the services' message."""
    if not in_date_range(value):
        raise PydanticCustomError("date_out_of_range", date_range_message())
    return value


BoundedDate = Annotated[
    dt.date,
    AfterValidator(refuse_out_of_range_date),
    Field(description=f"A day (YYYY-MM-DD). {DATE_RANGE_TEXT}", json_schema_extra=DATE_RANGE_EXTENSION),
]
BoundedDateTime = Annotated[
    dt.datetime,
    AfterValidator(refuse_out_of_range_date),
    Field(description=f"ISO 8601 date and time. {DATE_RANGE_TEXT}", json_schema_extra=DATE_RANGE_EXTENSION),
]
SearchText = Annotated[str, Field(max_length=MAX_SEARCH_LENGTH)]


class Ref(Schema):
    """A related record: its id and the name it is shown with."""

    id: int
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj)


class PageQuery(Schema):
    """Paging of lists that have no filters."""

    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=200)


class PageOut(Schema):
    """A page of a list; subclasses declare `items`. `total` stops counting at 10,000
    (`total_capped` is then true); follow `next` until it is null."""

    page: int
    per_page: int
    total: int
    total_capped: bool
    next: str | None = Field(description="The URL of the next page, or null on the last one.")


def query_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional query parameter for a list operation's `openapi_extra`; an empty value is
    allowed and means no filter, as when a page's filter form sends an empty field."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "schema": schema,
        "description": description,
    }


def date_query_param(name: str, description: str, *, with_time: bool = False) -> dict[str, Any]:
    """A date query parameter (YYYY-MM-DD), or with `with_time` a moment (ISO 8601, no format
    keyword: without an offset it is read in the caller's time zone), with its range documented."""
    schema: dict[str, Any] = {"type": "string", **({} if with_time else {"format": "date"}), **DATE_RANGE_EXTENSION}
    return query_param(name, schema, f"{description} {DATE_RANGE_TEXT}")


def search_query_param(description: str) -> dict[str, Any]:
    """The `q` query parameter of a list: longer than MAX_SEARCH_LENGTH characters is a 422."""
    return query_param("q", {"type": "string", "maxLength": MAX_SEARCH_LENGTH}, description)


def url_with(request: HttpRequest, **params: Any) -> str:
    """This request's absolute URL with some query parameters replaced."""
    query = request.GET.copy()
    for name, value in params.items():
        query[name] = str(value)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def page_out(request: HttpRequest, page: Page) -> dict[str, Any]:
    return {
        "items": page.items,
        "page": page.number,
        "per_page": page.per_page,
        "total": page.total,
        "total_capped": page.total_capped,
        "next": url_with(request, page=page.number + 1) if page.has_next else None,
    }
