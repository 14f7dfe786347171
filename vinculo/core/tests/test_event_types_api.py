"""GET /api/v1/event-types: the catalogue in the request's language, for token and session alike."""

from __future__ import annotations

from django.test import Client

from vinculo.core.event_types import all_event_types

URL = "/api/v1/event-types"

CONTACT_DELETED_EN = {
    "name": "contact.deleted",
    "label": "Contact deleted",
    "sentence": "%(actor)s deleted the contact %(name)s",
    "icon": "person-x",
    "kind": "record",
    "properties": {"contact_id": "integer", "name": "string"},
    "emitted_by": "contacts",
    "delivered": True,
    "high_volume": False,
}


def _by_name(response) -> dict[str, dict]:
    return {item["name"]: item for item in response.json()["items"]}


def test_every_type_is_listed_by_name_with_the_patterns_last(api_client):
    response = api_client.get(URL)

    assert response.status_code == 200
    names = [item["name"] for item in response.json()["items"]]
    assert names == [t.name for t in all_event_types()]
    assert names[-1] == "web.*"
    assert names[:-1] == sorted(names[:-1])
    assert len(names) == 40


def test_a_type_in_english(api_client):
    response = api_client.get(URL, headers={"Accept-Language": "en"})

    items = _by_name(response)
    assert items["contact.deleted"] == CONTACT_DELETED_EN
    assert items["page.viewed"] == {
        "name": "page.viewed",
        "label": "Page viewed",
        "sentence": "%(contact)s viewed %(url)s",
        "icon": "globe",
        "kind": "web",
        "properties": {
            "url": "url",
            "title": "string",
            "path": "string",
            "referrer": "url",
            "utm_source": "string",
            "utm_medium": "string",
            "utm_campaign": "string",
            "utm_term": "string",
            "utm_content": "string",
            "properties": "object",
        },
        "emitted_by": "touchpoints",
        "delivered": True,
        "high_volume": True,
    }
    assert items["web.*"] == {
        "name": "web.*",
        "label": "Website event",
        "sentence": "%(contact)s on the website: %(name)s",
        "icon": "globe",
        "kind": "web",
        "properties": {"url": "url"},
        "emitted_by": "touchpoints",
        "delivered": True,
        "high_volume": False,
    }


def test_a_type_in_spanish(api_client):
    response = api_client.get(URL, headers={"Accept-Language": "es-ES,es;q=0.9"})

    assert response.status_code == 200
    assert _by_name(response)["contact.deleted"] == {
        **CONTACT_DELETED_EN,
        "label": "Contacto eliminado",
        "sentence": "%(actor)s eliminó el contacto %(name)s",
    }


def test_a_session_reads_it_too(client_in):
    response = client_in.get(URL)

    assert response.status_code == 200
    assert _by_name(response)["contact.deleted"] == CONTACT_DELETED_EN


def test_without_credentials_it_is_401(db):
    response = Client().get(URL)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required: send a Bearer token or log in.", "errors": []}


def test_it_is_read_only(api_client):
    response = api_client.post(URL, data={}, content_type="application/json")

    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_the_openapi_document_describes_it(db):
    schema = Client().get("/api/v1/openapi.json").json()

    operation = schema["paths"][URL]["get"]
    assert operation["operationId"] == "event_type_list"
    assert operation["tags"] == ["event-types"]
    assert operation["security"] == [{"OrgAuth": []}]
    assert sorted(operation["responses"]) == ["200", "401", "422"]
