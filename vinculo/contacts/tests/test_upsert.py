"""Contacts upserted by external id or e-mail (POST /api/v1/contacts/upsert): a known address or
id updates the contact (its e-mails, phones and tags added to, never removed) instead of the 422 of
POST /contacts; bad input changes nothing; another organisation's contact is never matched."""

from __future__ import annotations

import json

import pytest
from django_scopes import scope

from vinculo.contacts.models import Contact, ContactEmail
from vinculo.contacts.services import contact_create
from vinculo.contacts.testing import make_contact
from vinculo.core.models import AuditEntry

pytestmark = pytest.mark.django_db
URL = "/api/v1/contacts/upsert"


def post(client, body, url=URL):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_a_new_contact_is_created_then_found_again_by_its_external_id(api_client):
    first = post(api_client, {"external_id": "shop-77", "first_name": "Ana", "emails": ["ana@example.com"]})
    assert first.status_code == 201, first.content
    assert (first.json()["external_id"], first.json()["emails"]) == ("shop-77", ["ana@example.com"])
    again = post(
        api_client,
        {"external_id": "shop-77", "last_name": "García", "emails": ["ana.garcia@work.example"], "tags": ["vip"]},
    )
    assert again.status_code == 200, again.content
    data = again.json()
    assert (data["id"], data["first_name"], data["last_name"]) == (first.json()["id"], "Ana", "García")
    assert data["emails"] == ["ana@example.com", "ana.garcia@work.example"]
    assert data["tags"] == ["vip"]
    assert Contact.dangerously_unscoped.count() == 1


def test_a_known_address_updates_its_contact_instead_of_a_422(api_client, actor):
    contact = make_contact(actor, first_name="Luis", emails=["luis@example.com"], tags=["newsletter"])
    refused = post(api_client, {"first_name": "Luis", "emails": ["luis@example.com"]}, url="/api/v1/contacts")
    assert refused.status_code == 422
    response = post(api_client, {"emails": ["LUIS@example.com"], "job_title": "Buyer", "tags": ["vip"]})
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["id"], data["job_title"], data["emails"], data["tags"]) == (
        contact.pk,
        "Buyer",
        ["luis@example.com"],
        ["newsletter", "vip"],
    )
    entry = AuditEntry.dangerously_unscoped.filter(object_type="contacts.contact", action="update").get()
    assert entry.changes == {"job_title": ["", "Buyer"], "tags": [["newsletter"], ["newsletter", "vip"]]}


def test_the_external_id_wins_over_the_address(api_client, actor):
    by_id = make_contact(actor, first_name="Por id", external_id="erp-1")
    make_contact(actor, first_name="Por correo", emails=["otro@example.com"])
    response = post(api_client, {"external_id": "erp-1", "first_name": "Renamed"})
    assert (response.status_code, response.json()["id"], response.json()["first_name"]) == (200, by_id.pk, "Renamed")


def test_an_address_of_another_contact_is_refused_on_the_matched_one_and_nothing_changes(api_client, actor):
    make_contact(actor, first_name="Uno", external_id="erp-1")
    make_contact(actor, first_name="Dos", emails=["dos@example.com"])
    response = post(api_client, {"external_id": "erp-1", "emails": ["dos@example.com"], "first_name": "Cambiado"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "emails", "message": "dos@example.com already belongs to Dos."}]
    assert Contact.dangerously_unscoped.get(external_id="erp-1").first_name == "Uno"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"external_id": "x" * 129, "first_name": "A"},
            [{"field": "external_id", "message": "At most 128 characters."}],
        ),
        (
            {"emails": ["not-an-address"]},
            [
                {"field": "emails", "message": "“not-an-address” is not a valid e-mail address."},
                {"field": "first_name", "message": "Give the contact a name or an e-mail address."},
            ],
        ),
        ({"first_name": ""}, [{"field": "first_name", "message": "Give the contact a name or an e-mail address."}]),
        ({"first_name": "A", "colour": "red"}, [{"field": "colour", "message": "Unknown field."}]),
    ],
)
def test_bad_upserts_are_refused_and_change_nothing(api_client, body, errors):
    response = post(api_client, body)
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == errors
    assert not Contact.dangerously_unscoped.exists()


def test_another_organisations_contact_is_never_matched(api_client, other_actor, actor):
    with scope(organization=other_actor.organization):
        theirs = contact_create(
            actor=other_actor, data={"first_name": "Forastero", "external_id": "erp-9", "emails": ["f@example.com"]}
        )
    response = post(api_client, {"external_id": "erp-9", "first_name": "Mío", "emails": ["f@example.com"]})
    assert response.status_code == 201
    assert response.json()["id"] != theirs.pk
    theirs.refresh_from_db()
    assert theirs.first_name == "Forastero"
    assert ContactEmail.dangerously_unscoped.filter(email="f@example.com").count() == 2


def test_two_contacts_cannot_share_an_external_id(api_client, actor):
    make_contact(actor, first_name="Uno", external_id="erp-1")
    other = make_contact(actor, first_name="Dos")
    response = api_client.patch(
        f"/api/v1/contacts/{other.pk}", data=json.dumps({"external_id": "erp-1"}), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "external_id", "message": "Another contact has this external id."}]
    other.refresh_from_db()
    assert other.external_id == ""
