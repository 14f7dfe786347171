"""`q`, the search words of every list, takes at most 200 characters: the OpenAPI document says so
(maxLength) and the API answers 201 characters with a 422 naming `q` (it used to cut some lists'
searches silently); the pages say why instead of searching for part of what was typed."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django_scopes import scope

from config.api import api
from vinculo.sales.services.products import price_list_create

TOO_LONG = {"detail": "Some fields are not valid.", "errors": [{"field": "q", "message": "At most 200 characters."}]}


def _operations_with_q() -> list[tuple[str, dict[str, Any]]]:
    document = api.get_openapi_schema()
    return [
        (path, parameter["schema"])
        for path, operations in document["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "q"
    ]


def test_every_q_parameter_is_documented_with_its_maximum_length():
    found = _operations_with_q()
    assert [(path, schema.get("maxLength")) for path, schema in found] == [(path, 200) for path, _ in found]
    paths = {path for path, _ in found}
    assert {"/api/v1/contacts", "/api/v1/companies", "/api/v1/deals", "/api/v1/activities", "/api/v1/search"} <= paths


@pytest.fixture
def price_list(actor):
    with scope(organization=actor.organization):
        return price_list_create(actor=actor, data={"name": "Retail", "currency": "EUR"})


@pytest.mark.parametrize("path", sorted({path for path, _ in _operations_with_q()}))
def test_every_list_answers_a_201_character_q_with_422_and_200_characters_with_200(api_client, price_list, path):
    url = path.replace("{price_list_id}", str(price_list.pk))

    too_long = api_client.get(url, {"q": "a" * 201})
    assert too_long.status_code == 422
    assert too_long.json() == TOO_LONG

    assert api_client.get(url, {"q": "a" * 200}).status_code == 200


@pytest.mark.parametrize(
    ("name", "where"),
    [
        (
            "contacts:contact_list",
            '<div id="filter-error-q" class="invalid-feedback d-block">At most 200 characters.</div>',
        ),
        (
            "contacts:company_list",
            '<div id="filter-error-q" class="invalid-feedback d-block">At most 200 characters.</div>',
        ),
        ("sales:deal_list", "<div>At most 200 characters.</div>"),
        ("sales:deal_board", "<div>At most 200 characters.</div>"),
        ("sales:lead_list", 'id="q-error">At most 200 characters.</div>'),
        ("sales:product_list", 'id="q-error">At most 200 characters.</div>'),
        ("sales:quote_list", 'id="q-error">At most 200 characters.</div>'),
        ("sales:order_list", 'id="q-error">At most 200 characters.</div>'),
        ("contacts:search", 'id="q-error">At most 200 characters.</div>'),
    ],
)
def test_pages_say_a_search_of_201_characters_is_too_long(client_in, org, pipeline, name, where):
    response = client_in.get(reverse(name, args=[org.slug]), {"q": "a" * 201})
    assert response.status_code == 200
    assert where in response.content.decode()
    assert (
        "At most 200 characters."
        not in client_in.get(reverse(name, args=[org.slug]), {"q": "a" * 200}).content.decode()
    )
