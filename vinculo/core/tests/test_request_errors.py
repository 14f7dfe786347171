"""Requests Django refuses while reading them (issue 9: 5,000 fields answered Django's bare HTML
400): more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS, in the body or the query string. Pages answer
the app's 400 page with the reason, machine clients the JSON error shape, never a 500. The public
web-form endpoint is tested in vinculo/touchpoints/tests/test_forms_public.py."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.test import Client, RequestFactory

from vinculo.core.request_errors import bad_request_view

pytestmark = pytest.mark.django_db

FIELDS = {f"f{i}": "x" for i in range(5000)}
MESSAGE = "Too many fields: at most 2000."


def _is_the_400_page(response, message: str) -> bool:
    html = response.content.decode()
    return (
        response.status_code == 400
        and response["Content-Type"] == "text/html; charset=utf-8"
        and "<title>Bad request · " in html
        and '<h1 class="h4 mt-3">Bad request</h1>' in html
        and f'<p class="text-body-secondary" id="reason">{message}</p>' in html
    )


def test_a_page_posted_5000_urlencoded_fields_answers_the_400_page():
    response = Client().post("/accounts/login/", urlencode(FIELDS), content_type="application/x-www-form-urlencoded")

    assert _is_the_400_page(response, MESSAGE)


def test_a_page_posted_5000_multipart_fields_answers_the_400_page():
    response = Client().post("/accounts/login/", FIELDS)  # the test client's default: multipart/form-data

    assert _is_the_400_page(response, MESSAGE)


def test_a_logged_in_page_posted_5000_fields_answers_the_400_page_with_the_navigation(client_in, org):
    response = client_in.post(f"/o/{org.slug}/contacts/new/", FIELDS)

    assert _is_the_400_page(response, MESSAGE)
    assert 'aria-label="Main navigation"' in response.content.decode()  # rendered for the member


def test_a_page_asked_with_5000_query_parameters_answers_the_400_page():
    response = Client().get("/accounts/login/?" + urlencode(FIELDS))

    assert _is_the_400_page(response, MESSAGE)


def test_the_api_asked_with_5000_query_parameters_answers_the_json_400_not_a_500(api_client):
    response = api_client.get("/api/v1/contacts?" + urlencode(FIELDS))

    assert response.status_code == 400
    assert response.json() == {"detail": MESSAGE, "errors": []}


@pytest.mark.parametrize(
    ("path", "accept", "exception", "status", "detail"),
    [
        ("/hooks/x/", "", TooManyFieldsSent(), 400, MESSAGE),
        ("/api/v1/contacts", "", RequestDataTooBig(), 413, "The request body is too large (more than 1048576 bytes)."),
        ("/f/key/submit", "application/json", TooManyFieldsSent(), 400, MESSAGE),
        ("/hooks/x/", "", SuspiciousOperation("bad"), 400, "The request could not be understood."),
    ],
)
def test_machine_clients_get_the_json_error_shape(path, accept, exception, status, detail):
    request = RequestFactory().post(path, headers={"Accept": accept} if accept else {})

    response = bad_request_view(request, exception)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.content.decode() == f'{{"detail": "{detail}", "errors": []}}'


def test_any_other_bad_request_of_a_page_is_the_400_page_without_details():
    request = RequestFactory().get("/accounts/login/", headers={"Accept": "text/html,application/json"})

    response = bad_request_view(request, SuspiciousOperation("Invalid HTTP_HOST header"))

    assert _is_the_400_page(response, "The request could not be understood.")
    assert "HTTP_HOST" not in response.content.decode()
