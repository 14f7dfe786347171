"""Dates outside 1900–2200 are refused with a field error wherever a date is typed or sent in sales
(deals, exchange rates, quotes, orders, activities, out of office, quotas, and the list, agenda and
report parameters), through the API and the pages, and nothing is saved; the first and the last
day are taken. Year 1 or 9999 with an offset (which cannot be put in UTC) is a 422, never a 500."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from vinculo.accounts.testing import login_client
from vinculo.sales.models import Activity, Deal, ExchangeRate, Order, OutOfOffice, Quota, Quote

RANGE = "Enter a date between 1900 and 2200."
BAD_DAYS = ["0001-01-01", "1899-12-31", "2201-01-01"]
GOOD_DAYS = ["1900-01-01", "2200-12-31"]
BAD_MOMENTS = [
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "1899-12-31T23:59:59+00:00",
    "2201-01-01T00:00:00Z",
]
INVALID = {"detail": "Some fields are not valid."}


@pytest.fixture
def api(api_client: Client) -> Client:
    """The API client, answering errors as a remote client sees them (a 500 is a response here)."""
    api_client.raise_request_exception = False
    return api_client


def send(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def refused(response: Any, field: str) -> bool:
    assert response.status_code == 422, response.content
    assert response.json() == {**INVALID, "errors": [{"field": field, "message": RANGE}]}
    return True


def page(org: Any, name: str, *args: Any) -> str:
    return reverse(f"sales:{name}", args=[org.slug, *args])


# --- API: writes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("day", BAD_DAYS)
def test_api_deal_expected_close_date_outside_the_range_is_refused(api, deal, pipeline, day):
    assert refused(
        send(api, "post", "/api/v1/deals", {"title": "Tents", "expected_close_date": day}), "expected_close_date"
    )
    assert refused(send(api, "patch", f"/api/v1/deals/{deal.pk}", {"expected_close_date": day}), "expected_close_date")
    assert list(Deal.dangerously_unscoped.values_list("pk", "expected_close_date")) == [(deal.pk, None)]


@pytest.mark.parametrize("day", GOOD_DAYS)
def test_api_deal_expected_close_date_on_the_edges_is_taken(api, pipeline, day):
    response = send(api, "post", "/api/v1/deals", {"title": "Tents", "expected_close_date": day})
    assert response.status_code == 201, response.content
    assert Deal.dangerously_unscoped.get().expected_close_date == dt.date.fromisoformat(day)


@pytest.mark.parametrize("day", BAD_DAYS)
def test_api_exchange_rate_day_outside_the_range_is_refused(api, day):
    body = {"currency": "USD", "rate": "1.1", "valid_from": day}
    assert refused(send(api, "post", "/api/v1/exchange-rates", body), "valid_from")
    assert ExchangeRate.dangerously_unscoped.count() == 0


@pytest.mark.parametrize("day", GOOD_DAYS)
def test_api_exchange_rate_day_on_the_edges_is_taken(api, day):
    response = send(api, "post", "/api/v1/exchange-rates", {"currency": "USD", "rate": "1.1", "valid_from": day})
    assert response.status_code == 201, response.content
    assert ExchangeRate.dangerously_unscoped.get().valid_from == dt.date.fromisoformat(day)


LINES = [{"description": "Consulting", "unit_price": "10"}]


@pytest.mark.parametrize("day", BAD_DAYS)
def test_api_quote_valid_until_outside_the_range_is_refused(api, contact, day):
    body = {"contact": contact.pk, "valid_until": day, "lines": LINES}
    assert refused(send(api, "post", "/api/v1/quotes", body), "valid_until")
    assert Quote.dangerously_unscoped.count() == 0


@pytest.mark.parametrize("day", GOOD_DAYS)
def test_api_quote_valid_until_on_the_edges_is_taken(api, contact, day):
    response = send(api, "post", "/api/v1/quotes", {"contact": contact.pk, "valid_until": day, "lines": LINES})
    assert response.status_code == 201, response.content
    assert Quote.dangerously_unscoped.get().valid_until == dt.date.fromisoformat(day)


@pytest.mark.parametrize("moment", BAD_MOMENTS)
def test_api_order_placed_at_outside_the_range_is_refused_not_a_500(api, contact, moment):
    body = {"contact": contact.pk, "placed_at": moment, "lines": LINES}
    assert refused(send(api, "post", "/api/v1/orders", body), "placed_at")
    assert Order.dangerously_unscoped.count() == 0


def test_api_order_placed_on_the_first_day_is_taken(api, contact):
    body = {"contact": contact.pk, "placed_at": "1900-01-01T00:00:00+00:00", "lines": LINES}
    response = send(api, "post", "/api/v1/orders", body)
    assert response.status_code == 201, response.content
    assert Order.dangerously_unscoped.get().placed_at == dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("field", ["due_at", "ends_at"])
@pytest.mark.parametrize("moment", BAD_MOMENTS)
def test_api_activity_time_outside_the_range_is_refused_not_a_500(api, field, moment):
    body = {"subject": "Call", "due_at": "2030-01-15T09:00:00+00:00", field: moment}
    assert refused(send(api, "post", "/api/v1/activities", body), field)
    assert Activity.dangerously_unscoped.count() == 0


@pytest.mark.parametrize(
    ("moment", "stored"),
    [
        ("1900-01-01T09:00:00+00:00", dt.datetime(1900, 1, 1, 9, tzinfo=dt.UTC)),
        ("2200-12-31T23:00", dt.datetime(2200, 12, 31, 23, tzinfo=dt.UTC)),  # read in the user's zone (UTC)
    ],
)
def test_api_activity_time_on_the_edges_is_taken(api, moment, stored):
    response = send(api, "post", "/api/v1/activities", {"subject": "Call", "due_at": moment})
    assert response.status_code == 201, response.content
    assert Activity.dangerously_unscoped.get().due_at == stored


@pytest.mark.parametrize("field", ["starts_on", "ends_on"])
@pytest.mark.parametrize("day", BAD_DAYS)
def test_api_out_of_office_day_outside_the_range_is_refused(api, actor, field, day):
    body = {"user": actor.user_id, "starts_on": "1950-01-01", "ends_on": "1950-01-02", field: day}
    assert refused(send(api, "post", "/api/v1/out-of-office", body), field)
    assert OutOfOffice.dangerously_unscoped.count() == 0


def test_api_out_of_office_on_the_edges_is_taken(api, actor):
    body = {"user": actor.user_id, "starts_on": "1900-01-01", "ends_on": "2200-12-31"}
    assert send(api, "post", "/api/v1/out-of-office", body).status_code == 201
    assert list(OutOfOffice.dangerously_unscoped.values_list("starts_on", "ends_on")) == [
        (dt.date(1900, 1, 1), dt.date(2200, 12, 31))
    ]


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-01", "2201-01-01"])
def test_api_quota_month_outside_the_range_is_refused(api, actor, day):
    body = {"user": actor.user_id, "period": "month", "starts_on": day, "amount": "1000"}
    assert refused(send(api, "post", "/api/v1/quotas", body), "starts_on")
    assert Quota.dangerously_unscoped.count() == 0


@pytest.mark.parametrize("day", ["1900-01-01", "2200-12-01"])
def test_api_quota_month_on_the_edges_is_taken(api, actor, day):
    body = {"user": actor.user_id, "period": "month", "starts_on": day, "amount": "1000"}
    assert send(api, "post", "/api/v1/quotas", body).status_code == 201
    assert Quota.dangerously_unscoped.get().starts_on == dt.date.fromisoformat(day)


# --- API: list and report parameters --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/v1/activities", {"from": "0001-01-01T00:00:00+05:00"}, "from"),
        ("/api/v1/activities", {"to": "9999-12-31T23:59:59-05:00"}, "to"),
        ("/api/v1/deals", {"close_after": "1899-12-31"}, "close_after"),
        ("/api/v1/deals", {"close_before": "9999-12-31"}, "close_before"),
        ("/api/v1/deals", {"close_month": "9999-12"}, "close_month"),
        ("/api/v1/deals", {"close_month": "0000-01"}, "close_month"),
        ("/api/v1/forecast", {"end": "9999-12-31"}, "end"),
        ("/api/v1/forecast", {"end": "9999-12"}, "end"),
        ("/api/v1/effectiveness", {"start": "0001-01"}, "start"),
        ("/api/v1/effectiveness", {"start": "2201-01-01"}, "start"),
    ],
)
def test_api_list_and_report_parameters_outside_the_range_are_422(api, pipeline, url, params, field):
    assert refused(api.get(url, params), field)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/activities", {"from": "1900-01-01T00:00:00+05:00", "to": "2200-12-31T23:59:59-05:00"}),
        ("/api/v1/deals", {"close_after": "1900-01-01", "close_before": "2200-12-31"}),
        ("/api/v1/deals", {"close_month": "2200-12"}),
        ("/api/v1/forecast", {"start": "2200-11", "end": "2200-12-31"}),
        ("/api/v1/effectiveness", {"start": "1900-01-01", "end": "1900-02"}),
    ],
)
def test_api_list_and_report_parameters_on_the_edges_answer_200(api, pipeline, url, params):
    assert api.get(url, params).status_code == 200


# --- pages ----------------------------------------------------------------------------------------


@pytest.fixture
def browser(actor) -> Client:
    client = login_client(actor)
    client.raise_request_exception = False
    return client


def test_page_deal_form_refuses_a_close_date_outside_the_range_and_saves_nothing(browser, org, pipeline):
    data = {"title": "Tents", "pipeline": pipeline.pk, "currency": "EUR", "forecast_category": "pipeline"}
    data["expected_close_date"] = "0001-01-01"
    response = browser.post(page(org, "deal_create"), data)
    assert response.status_code == 422
    assert response.context["form"].errors == {"expected_close_date": [RANGE]}
    assert 'value="0001-01-01"' in response.content.decode()
    assert Deal.dangerously_unscoped.count() == 0
    browser.post(page(org, "deal_create"), {**data, "expected_close_date": "2200-12-31"})
    assert Deal.dangerously_unscoped.get().expected_close_date == dt.date(2200, 12, 31)


def test_page_exchange_rate_refuses_a_day_outside_the_range(browser, org):
    data = {"currency": "USD", "rate": "0.9", "valid_from": "2201-01-01"}
    response = browser.post(page(org, "exchange_rate_create"), data)
    assert response.status_code == 422
    assert RANGE in response.content.decode()
    assert ExchangeRate.dangerously_unscoped.count() == 0
    browser.post(page(org, "exchange_rate_create"), {**data, "valid_from": "1900-01-01"})
    assert ExchangeRate.dangerously_unscoped.get().valid_from == dt.date(1900, 1, 1)


def test_page_quote_refuses_a_valid_until_outside_the_range(browser, org, contact):
    data = {
        "contact": str(contact.pk),
        "currency": "EUR",
        "valid_until": "1899-12-31",
        "line_description": ["Consulting"],
        "line_quantity": ["1"],
        "line_unit_price": ["10"],
    }
    response = browser.post(page(org, "quote_create"), data)
    assert response.status_code == 422
    assert f'id="id_valid_until_error">{RANGE}</div>' in response.content.decode()
    assert Quote.dangerously_unscoped.count() == 0


def test_page_activity_refuses_a_time_outside_the_range(browser, org, actor):
    data = {"kind": "task", "subject": "Call", "due_at": "0001-01-01T09:00", "assignee": str(actor.user_id)}
    response = browser.post(page(org, "activity_create"), data)
    assert response.status_code == 422
    assert f'id="id_due_at_error">{RANGE}</div>' in response.content.decode()
    assert 'min="1900-01-01T00:00" max="2200-12-31T23:59"' in response.content.decode()
    assert Activity.dangerously_unscoped.count() == 0


def test_page_out_of_office_refuses_a_day_outside_the_range(browser, org, actor):
    data = {"user": actor.user_id, "starts_on": "2026-05-01", "ends_on": "9999-12-31"}
    response = browser.post(page(org, "out_of_office_create"), data)
    assert response.status_code == 422
    assert f'id="id_ends_on_error">{RANGE}</div>' in response.content.decode()
    assert OutOfOffice.dangerously_unscoped.count() == 0


@pytest.mark.parametrize("view", ["day", "week", "month"])
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_page_agenda_of_a_day_outside_the_range_shows_today_and_says_why(browser, org, view, day):
    response = browser.get(page(org, "agenda"), {"date": day, "view": view})
    assert response.status_code == 200
    assert "Enter a date between 1900 and 2200; showing today." in response.content.decode()


@pytest.mark.parametrize("name", ["deal_list", "deal_board"])
def test_page_deals_filtered_by_a_month_outside_the_range_say_why(browser, org, pipeline, name):
    response = browser.get(page(org, name), {"close_month": "9999-12"})
    assert response.status_code == 200
    assert RANGE in response.content.decode()


@pytest.mark.parametrize("name", ["forecast", "effectiveness"])
def test_page_reports_of_a_period_outside_the_range_are_422_with_the_reason(browser, org, name):
    response = browser.get(page(org, name), {"start": "0001-01", "end": "9999-12-31"})
    assert response.status_code == 422
    assert response.content.decode().count(RANGE) == 2


def test_page_effectiveness_csv_of_a_period_outside_the_range_is_422(browser, org):
    response = browser.get(page(org, "effectiveness_csv"), {"end": "9999-12-31"})
    assert response.status_code == 422
    assert response.content.decode() == f"end: {RANGE}"
