"""The contact and company lists' `created_after` / `created_before` take days from 1900 to 2200 (a
422 naming the parameter in the API, the reason next to the filter on the pages; 9999-12-31 was a
500), and a timeline cursor whose time cannot be put in UTC is refused like any bad cursor."""

from __future__ import annotations

import base64
import json

import pytest
from django.urls import reverse

RANGE = "Enter a date between 1900 and 2200."


@pytest.fixture
def api(api_client):
    api_client.raise_request_exception = False  # a 500 is an answer to check, not an exception
    return api_client


@pytest.mark.parametrize("kind", ["contacts", "companies"])
@pytest.mark.parametrize("param", ["created_after", "created_before"])
@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_api_lists_refuse_a_creation_day_outside_the_range(api, kind, param, day):
    response = api.get(f"/api/v1/{kind}", {param: day})
    assert response.status_code == 422
    assert response.json() == {"detail": "Some fields are not valid.", "errors": [{"field": param, "message": RANGE}]}


@pytest.mark.parametrize("kind", ["contacts", "companies"])
def test_api_lists_take_the_first_and_last_day(api, contact, company, kind):
    response = api.get(f"/api/v1/{kind}", {"created_after": "1900-01-01", "created_before": "2200-12-31"})
    assert response.status_code == 200
    assert response.json()["total"] == 1


@pytest.mark.parametrize("name", ["contact_list", "company_list"])
def test_pages_show_the_reason_next_to_the_filter_and_list_the_rest(client_in, org, contact, company, name):
    response = client_in.get(reverse(f"contacts:{name}", args=[org.slug]), {"created_before": "9999-12-31"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<div id="filter-error-created_before" class="invalid-feedback d-block">{RANGE}</div>' in html
    assert 'min="1900-01-01" max="2200-12-31" name="created_before"' in html
    assert ("Ana" if name == "contact_list" else "Acme") in html


def _cursor(moment: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"e": [moment, 5]}).encode()).decode()


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_timeline_cursor_whose_time_overflows_utc_is_refused_not_a_500(api, contact, moment):
    response = api.get(f"/api/v1/contacts/{contact.pk}/timeline", {"before": _cursor(moment)})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "before", "message": "This cursor is not valid: use the `next` link of the previous page."}
    ]
