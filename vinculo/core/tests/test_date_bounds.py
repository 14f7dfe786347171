"""Dates from 1900-01-01 to 2200-12-31, in one place: the service cleaners, the query-parameter
reader, the API schema types and the page fields all refuse the same days with the same message,
and a moment whose offset would carry it past year 1 or 9999 in UTC is a field error, not a crash."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from pydantic import BaseModel, ValidationError

from vinculo.core.api import BoundedDate, BoundedDateTime
from vinculo.core.forms import DateTextField, DateTimeTextField
from vinculo.core.query_params import date_param, search_param, search_words
from vinculo.core.validation import clean_date, clean_datetime

RANGE = "Enter a date between 1900 and 2200."
OUTSIDE = ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"]
EDGES = [("1900-01-01", dt.date(1900, 1, 1)), ("2200-12-31", dt.date(2200, 12, 31))]
OVERFLOWING = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]


@pytest.mark.parametrize("text", OUTSIDE)
def test_clean_date_refuses_days_outside_1900_to_2200(text):
    errors: dict[str, list[str]] = {}
    assert clean_date(text, "valid_from", errors) is None
    assert errors == {"valid_from": [RANGE]}


@pytest.mark.parametrize(("text", "day"), EDGES)
def test_clean_date_takes_the_first_and_the_last_day(text, day):
    errors: dict[str, list[str]] = {}
    assert clean_date(text, "valid_from", errors) == day
    assert errors == {}


def test_clean_date_refuses_a_date_object_outside_the_range_too():
    errors: dict[str, list[str]] = {}
    assert clean_date(dt.date(1, 1, 1), "day", errors) is None
    assert clean_date(dt.datetime(9999, 1, 1), "moment", errors) is None
    assert errors == {"day": [RANGE], "moment": [RANGE]}


@pytest.mark.parametrize(
    "text", [*OVERFLOWING, "1899-12-31T23:59:59+00:00", "2201-01-01T00:00:00Z", "0001-01-01T10:00"]
)
def test_clean_datetime_refuses_moments_outside_the_range_without_overflowing(text):
    errors: dict[str, list[str]] = {}
    assert clean_datetime(text, "due_at", errors, tz=zoneinfo.ZoneInfo("Asia/Tokyo")) is None
    assert errors == {"due_at": [RANGE]}


def test_clean_datetime_takes_the_edges_and_returns_utc():
    errors: dict[str, list[str]] = {}
    first = clean_datetime("1900-01-01T00:00:00+05:00", "due_at", errors, tz=dt.UTC)
    last = clean_datetime("2200-12-31T23:59:59-05:00", "due_at", errors, tz=dt.UTC)
    assert errors == {}
    assert first == dt.datetime(1899, 12, 31, 19, 0, tzinfo=dt.UTC)  # the day as written counts
    assert last == dt.datetime(2201, 1, 1, 4, 59, 59, tzinfo=dt.UTC)


@pytest.mark.parametrize("text", OUTSIDE)
def test_date_param_refuses_days_outside_the_range(text):
    errors: dict[str, str] = {}
    assert date_param(text, "created_after", errors) is None
    assert errors == {"created_after": RANGE}


@pytest.mark.parametrize(("text", "day"), EDGES)
def test_date_param_takes_the_edges(text, day):
    errors: dict[str, str] = {}
    assert date_param(text, "created_after", errors) == day
    assert errors == {}


class Sample(BaseModel):
    day: BoundedDate | None = None
    moment: BoundedDateTime | None = None


@pytest.mark.parametrize(("field", "value"), [("day", d) for d in OUTSIDE] + [("moment", m) for m in OVERFLOWING])
def test_the_api_types_refuse_outside_the_range_with_the_same_message(field, value):
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate({field: value})
    assert [(e["loc"], e["type"], e["msg"]) for e in caught.value.errors()] == [((field,), "date_out_of_range", RANGE)]


def test_the_api_types_take_the_edges():
    sample = Sample.model_validate({"day": "2200-12-31", "moment": "1900-01-01T00:00:00+05:00"})
    assert (sample.day, sample.moment.date()) == (dt.date(2200, 12, 31), dt.date(1900, 1, 1))


def test_the_api_types_document_their_range():
    schema = Sample.model_json_schema()["properties"]["day"]["anyOf"][0]
    assert schema["format"] == "date"
    assert schema["x-date-range"] == ["1900-01-01", "2200-12-31"]


def test_the_page_fields_offer_only_days_inside_the_range():
    assert DateTextField().widget.render("d", None) == '<input type="date" name="d" min="1900-01-01" max="2200-12-31">'
    assert (
        DateTimeTextField().widget.render("m", None)
        == '<input type="datetime-local" name="m" min="1900-01-01T00:00" max="2200-12-31T23:59">'
    )


def test_a_search_of_more_than_200_characters_is_an_error_and_200_is_fine():
    errors: dict[str, str] = {}
    assert search_param("a" * 201, "q", errors) == ""
    assert errors == {"q": "At most 200 characters."}
    assert search_param("a" * 200, "q", {}) == "a" * 200
    assert search_words({"q": "  ana  "}) == ("ana", "")
    assert search_words({"q": "a" * 201}) == ("", "At most 200 characters.")
