"""Pieces every app's API router shares: the error and list-page schemas, and paging links."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field

from vinculo.core.pagination import Page

MAX_PAGE = 1_000_000  # keeps OFFSET within what every database accepts


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
