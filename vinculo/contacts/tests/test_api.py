"""The customer database API under /api/v1: contacts, companies, notes, tags, timelines, search.

Every rejected write also checks that the database did not change (`db_state`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_scopes import scope

from vinculo.accounts.models import Membership, Role
from vinculo.accounts.testing import api_client_for, login_client
from vinculo.contacts import services
from vinculo.contacts.models import Company, Contact, ContactEmail, ContactPhone, Note, Tag
from vinculo.core.models import AuditEntry, Event
from vinculo.core.testing import count_queries, org_scope
from vinculo.core.testing.fuzz import fuzz_api

API = "/api/v1"
INVALID = "Some fields are not valid."
NOT_FOUND = {"detail": "Not found.", "errors": []}


# --- helpers ------------------------------------------------------------------------------------


def send(client: Client, method: str, path: str, data: Any = None, **extra: Any) -> Any:
    body = data if isinstance(data, str | bytes) or data is None else json.dumps(data)
    return getattr(client, method)(API + path, body, content_type="application/json", **extra)


def post(client: Client, path: str, data: Any, **extra: Any) -> Any:
    return send(client, "post", path, data, **extra)


def patch(client: Client, path: str, data: Any, **extra: Any) -> Any:
    return send(client, "patch", path, data, **extra)


def iso(value: dt.datetime | None) -> str | None:
    """A datetime as the API writes it."""
    return None if value is None else DjangoJSONEncoder().default(value)


def invalid(field: str, message: str) -> dict[str, Any]:
    return {"detail": INVALID, "errors": [{"field": field, "message": message}]}


def make_contact(actor: Membership, **data: Any) -> Contact:
    with scope(organization=actor.organization):
        return services.contact_create(actor=actor, data=data)


def make_company(actor: Membership, **data: Any) -> Company:
    with scope(organization=actor.organization):
        return services.company_create(actor=actor, data=data)


def make_note(actor: Membership, body: str, **subject: Any) -> Note:
    with scope(organization=actor.organization):
        return services.note_create(actor=actor, body=body, **subject)


def make_tag(actor: Membership, **data: Any) -> Tag:
    with scope(organization=actor.organization):
        return services.tag_create(actor=actor, data=data)


def db_state() -> dict[str, list[Any]]:
    """Everything an API write could touch, to compare before and after a rejected request."""
    return {
        "contacts": list(Contact.dangerously_unscoped.order_by("pk").values()),
        "emails": list(ContactEmail.dangerously_unscoped.order_by("pk").values_list("contact_id", "email")),
        "phones": list(ContactPhone.dangerously_unscoped.order_by("pk").values_list("contact_id", "number", "kind")),
        "contact_tags": list(Contact.tags.through.objects.order_by("pk").values_list("contact_id", "tag_id")),
        "company_tags": list(Company.tags.through.objects.order_by("pk").values_list("company_id", "tag_id")),
        "companies": list(Company.dangerously_unscoped.order_by("pk").values()),
        "notes": list(Note.dangerously_unscoped.order_by("pk").values()),
        "tags": list(Tag.dangerously_unscoped.order_by("pk").values()),
        "events": list(Event.dangerously_unscoped.order_by("pk").values_list("pk", flat=True)),
        "audit": list(AuditEntry.dangerously_unscoped.order_by("pk").values_list("pk", flat=True)),
    }


def user_ref(membership: Membership) -> dict[str, Any]:
    return {"id": membership.user_id, "name": membership.user.full_name, "email": membership.user.email}


@pytest.fixture
def acme(actor: Membership) -> Company:
    return make_company(actor, name="Acme", domain="acme.example")


@pytest.fixture
def lucia(actor: Membership, acme: Company) -> Contact:
    return make_contact(
        actor,
        first_name="Lucía",
        last_name="García",
        emails=["lucia@example.com"],
        phones=[{"number": "+34600111222"}],
        company=acme.pk,
        tags=["VIP"],
    )


# --- contacts: happy paths ------------------------------------------------------------------------


FULL_CONTACT = {
    "first_name": " Lucía ",
    "last_name": "García",
    "emails": ["Lucia@Example.com", "lucia.garcia@work.example"],
    "phones": [{"number": "+34 600 111 222"}, {"number": "911 222 333", "kind": "work"}],
    "job_title": "CTO",
    "tags": ["VIP", "Partner"],
    "custom": {"plan": "gold", "seats": 12},
    "lifecycle_stage": "prospect",
    "source": "web",
    "country": "es",
    "language": "es",
    "time_zone": "Europe/Madrid",
    "address": {"street": "Calle Mayor 1", "city": "Madrid", "region": "Madrid", "postal_code": "28013"},
}


def test_create_contact_returns_201_and_the_stored_contact(api_client, actor, org, acme):
    response = post(api_client, "/contacts", {**FULL_CONTACT, "company": acme.pk})

    assert response.status_code == 201
    contact = Contact.dangerously_unscoped.get()
    assert response.json() == {
        "id": contact.pk,
        "external_id": "",
        "first_name": "Lucía",
        "last_name": "García",
        "full_name": "Lucía García",
        "emails": ["lucia@example.com", "lucia.garcia@work.example"],
        "phones": [{"number": "+34600111222", "kind": "mobile"}, {"number": "+34911222333", "kind": "work"}],
        "company": {"id": acme.pk, "name": "Acme"},
        "owner": user_ref(actor),
        "job_title": "CTO",
        "tags": ["Partner", "VIP"],
        "custom": {"plan": "gold", "seats": 12},
        "lifecycle_stage": "prospect",
        "source": "web",
        "country": "ES",
        "language": "es",
        "time_zone": "Europe/Madrid",
        "address": {"street": "Calle Mayor 1", "city": "Madrid", "region": "Madrid", "postal_code": "28013"},
        "last_activity_at": None,
        "created_at": iso(contact.created_at),
        "updated_at": iso(contact.updated_at),
    }
    assert contact.organization_id == org.pk
    assert (contact.email, contact.phone) == ("lucia@example.com", "+34600111222")
    assert list(Event.dangerously_unscoped.filter(contact=contact).values_list("type", flat=True)) == [
        "contact.created"
    ]
    assert AuditEntry.dangerously_unscoped.get(object_id=contact.pk, object_type="contacts.contact").action == "create"


def test_create_contact_with_only_an_email_takes_the_defaults(api_client, actor):
    response = post(api_client, "/contacts", {"emails": ["solo@example.com"]})

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("full_name", "owner", "company", "tags", "lifecycle_stage", "source", "custom")} == {
        "full_name": "",
        "owner": user_ref(actor),
        "company": None,
        "tags": [],
        "lifecycle_stage": "lead",
        "source": "manual",
        "custom": {},
    }


def test_create_contact_with_a_null_owner_has_no_owner(api_client):
    response = post(api_client, "/contacts", {"first_name": "Nadie", "owner": None})

    assert response.status_code == 201
    assert response.json()["owner"] is None
    assert Contact.dangerously_unscoped.get().owner_id is None


def test_get_contact_returns_what_create_returned(api_client):
    created = post(api_client, "/contacts", FULL_CONTACT).json()

    response = api_client.get(f"{API}/contacts/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


def test_patch_contact_changes_only_the_given_fields(api_client, actor, lucia):
    response = patch(
        api_client,
        f"/contacts/{lucia.pk}",
        {"last_name": "Gómez", "tags": ["Nuevo"], "company": None, "address": {"city": "Sevilla"}},
    )

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("full_name", "emails", "phones", "company", "tags", "address")} == {
        "full_name": "Lucía Gómez",
        "emails": ["lucia@example.com"],
        "phones": [{"number": "+34600111222", "kind": "mobile"}],
        "company": None,
        "tags": ["Nuevo"],
        "address": {"street": "", "city": "Sevilla", "region": "", "postal_code": ""},
    }
    lucia.refresh_from_db()
    assert (lucia.last_name, lucia.company_id, lucia.city) == ("Gómez", None, "Sevilla")
    assert body["updated_at"] == iso(lucia.updated_at)
    audit = AuditEntry.dangerously_unscoped.filter(object_id=lucia.pk, action="update").get()
    assert audit.changes["last_name"] == ["García", "Gómez"]


def test_patch_contact_lists_replace_and_null_clears(api_client, lucia):
    response = patch(
        api_client,
        f"/contacts/{lucia.pk}",
        {"emails": ["new@example.com", "second@example.com"], "phones": None, "job_title": None},
    )

    assert response.status_code == 200
    assert (response.json()["emails"], response.json()["phones"], response.json()["job_title"]) == (
        ["new@example.com", "second@example.com"],
        [],
        "",
    )
    assert list(ContactEmail.dangerously_unscoped.filter(contact=lucia).values_list("email", flat=True)) == [
        "new@example.com",
        "second@example.com",
    ]
    assert not ContactPhone.dangerously_unscoped.filter(contact=lucia).exists()


def test_patch_contact_with_an_empty_body_changes_nothing(api_client, lucia):
    before = db_state()

    response = patch(api_client, f"/contacts/{lucia.pk}", {})

    assert response.status_code == 200
    assert response.json()["full_name"] == "Lucía García"
    after = db_state()
    for record in (before, after):  # saving refreshes updated_at; nothing else may change
        for row in record["contacts"]:
            row.pop("updated_at")
    assert after == before


def test_delete_contact_answers_204_and_removes_it(api_client, lucia):
    response = api_client.delete(f"{API}/contacts/{lucia.pk}")

    assert response.status_code == 204
    assert response.content == b""
    assert not Contact.dangerously_unscoped.filter(pk=lucia.pk).exists()
    assert AuditEntry.dangerously_unscoped.filter(object_id=lucia.pk, action="delete").count() == 1
    assert api_client.get(f"{API}/contacts/{lucia.pk}").status_code == 404


# --- contacts: list filters, sorting, paging --------------------------------------------------------


@pytest.fixture
def three_contacts(actor: Membership, acme: Company) -> list[Contact]:
    return [
        make_contact(actor, first_name="Ana", last_name="Alonso", lifecycle_stage="lead", country="ES"),
        make_contact(actor, first_name="Bea", last_name="Blanco", lifecycle_stage="customer", company=acme.pk),
        make_contact(actor, first_name="Carla", last_name="Castro", lifecycle_stage="customer", tags=["VIP"]),
    ]


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["full_name"] for item in response.json()["items"]]


def test_list_contacts_returns_a_page_of_contacts(api_client, three_contacts):
    response = api_client.get(f"{API}/contacts")

    assert response.status_code == 200
    body = response.json()
    assert {k: v for k, v in body.items() if k != "items"} == {
        "page": 1,
        "per_page": 50,
        "total": 3,
        "total_capped": False,
        "next": None,
    }
    assert [item["full_name"] for item in body["items"]] == ["Ana Alonso", "Bea Blanco", "Carla Castro"]
    assert body["items"][2]["tags"] == ["VIP"]


def test_list_contacts_filters_and_sorts_like_the_page(api_client, actor, member, three_contacts, acme):
    vip = Tag.dangerously_unscoped.get(name="VIP")
    other = member(Role.SALES)
    make_contact(other, first_name="Dora", last_name="Díaz")

    assert names(api_client.get(f"{API}/contacts?stage=customer&sort=-name")) == ["Carla Castro", "Bea Blanco"]
    assert names(api_client.get(f"{API}/contacts?tag={vip.pk}")) == ["Carla Castro"]
    assert names(api_client.get(f"{API}/contacts?company={acme.pk}")) == ["Bea Blanco"]
    assert names(api_client.get(f"{API}/contacts?country=es")) == ["Ana Alonso"]
    assert names(api_client.get(f"{API}/contacts?owner={other.user_id}")) == ["Dora Díaz"]
    assert names(api_client.get(f"{API}/contacts?owner=me&q=blanc")) == ["Bea Blanco"]
    assert names(api_client.get(f"{API}/contacts?q=diaz")) == ["Dora Díaz"]
    today = timezone.localdate().isoformat()
    assert names(api_client.get(f"{API}/contacts?created_after={today}&created_before={today}&sort=name")) == [
        "Ana Alonso",
        "Bea Blanco",
        "Carla Castro",
        "Dora Díaz",
    ]
    assert names(api_client.get(f"{API}/contacts?created_before=2000-01-01")) == []


def test_list_contacts_pages_with_next_links(api_client, actor):
    for letter in "ABCDE":
        make_contact(actor, first_name=letter, last_name=letter * 2)

    first = api_client.get(f"{API}/contacts?per_page=2").json()
    second = api_client.get(first["next"]).json()
    third = api_client.get(second["next"]).json()

    assert first["next"] == "http://testserver/api/v1/contacts?per_page=2&page=2"
    assert [[i["first_name"] for i in p["items"]] for p in (first, second, third)] == [["A", "B"], ["C", "D"], ["E"]]
    assert [(p["page"], p["total"], p["next"]) for p in (second, third)] == [
        (2, 5, "http://testserver/api/v1/contacts?per_page=2&page=3"),
        (3, 5, None),
    ]


def test_a_page_past_the_end_is_empty_and_keeps_the_exact_total(api_client, three_contacts):
    response = api_client.get(f"{API}/contacts?per_page=2&page=9")

    assert response.json() == {"items": [], "page": 9, "per_page": 2, "total": 3, "total_capped": False, "next": None}


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            "colour=red",
            [
                {
                    "field": "colour",
                    "message": "Unknown parameter. Allowed: company, country, created_after, created_before, "
                    "owner, page, per_page, q, sort, stage, tag.",
                }
            ],
        ),
        (
            "sort=email",
            [{"field": "sort", "message": "Unknown sort. Allowed: name, -name, created, -created, updated, -updated."}],
        ),
        ("sort=", []),
        ("stage=vip", [{"field": "stage", "message": "Unknown stage. Allowed: lead, prospect, customer, churned."}]),
        ("tag=abc", [{"field": "tag", "message": "Enter a whole number."}]),
        ("tag=99999999999999999999", [{"field": "tag", "message": "Must be at most 9223372036854775807."}]),
        ("owner=someone", [{"field": "owner", "message": "Use a user id, “me” or “none”."}]),
        ("owner=99999999999999999999", [{"field": "owner", "message": "Use a user id, “me” or “none”."}]),
        ("owner=²", [{"field": "owner", "message": "Use a user id, “me” or “none”."}]),
        ("country=Spain", [{"field": "country", "message": "Use a two-letter country code (ISO 3166-1)."}]),
        ("created_after=yesterday", [{"field": "created_after", "message": "Enter a date as YYYY-MM-DD."}]),
        ("page=0", [{"field": "page", "message": "Must be at least 1."}]),
        ("page=1000001", [{"field": "page", "message": "Must be at most 1000000."}]),
        ("per_page=201", [{"field": "per_page", "message": "At most 200 per page."}]),
        ("industry=retail", None),  # a companies filter is unknown for contacts
    ],
)
def test_list_contacts_rejects_unknown_or_bad_parameters(api_client, three_contacts, query, errors):
    response = api_client.get(f"{API}/contacts?{query}")

    if errors == []:
        assert response.status_code == 200  # an empty value is no filter
        return
    assert response.status_code == 422
    if errors is None:
        assert [e["field"] for e in response.json()["errors"]] == ["industry"]
    else:
        assert response.json() == {"detail": INVALID, "errors": errors}


# --- contacts: bad input -----------------------------------------------------------------------------


CONTACT_CREATE_ERRORS = [
    ({"first_name": "A", "emails": ["not-an-email"]}, "emails", "“not-an-email” is not a valid e-mail address."),
    ({"first_name": "A", "phones": [{"number": "+34 123"}]}, "phones", "“+34 123” is not a valid phone number."),
    (
        {"first_name": "A", "phones": [{"number": "600111222"}]},
        "phones",
        "“600111222”: start with the country code (e.g. +34) or set the country.",
    ),
    ({"first_name": "x" * 101}, "first_name", "At most 100 characters."),
    ({"first_name": "A", "job_title": "x" * 151}, "job_title", "At most 150 characters."),
    ({"first_name": "A", "address": {"postal_code": "1" * 21}}, "address.postal_code", "At most 20 characters."),
    ({"first_name": "A", "emails": ["a" * 250 + "@x.com"]}, "emails.0", "At most 254 characters."),
    ({"first_name": "A", "tags": ["t" * 51]}, "tags.0", "At most 50 characters."),
    ({"first_name": "A", "emails": [f"a{i}@example.com" for i in range(11)]}, "emails", "At most 10 items."),
    ({"first_name": "A", "nickname": "Al"}, "nickname", "Unknown field."),
    ({"first_name": "A", "address": {"floor": 3}}, "address.floor", "Unknown field."),
    ({"first_name": "A", "phones": [{"number": "+34600111222", "ext": "1"}]}, "phones.0.ext", "Unknown field."),
    ({"first_name": 42}, "first_name", "Enter text."),
    ({"first_name": "A", "emails": "a@example.com"}, "emails", "Give a list."),
    ({"first_name": "A", "emails": [7]}, "emails.0", "Enter text."),
    ({"first_name": "A", "company": "1"}, "company", "Enter a whole number."),
    ({"first_name": "A", "company": True}, "company", "Enter a whole number."),
    ({"first_name": "A", "custom": [1]}, "custom", "Give an object."),
    ({"first_name": "A", "address": "Calle Mayor 1"}, "address", "Give an object."),
    (
        {"first_name": "A", "lifecycle_stage": "vip"},
        "lifecycle_stage",
        "Choose one of 'lead', 'prospect', 'customer' or 'churned'.",
    ),
    (
        {"first_name": "A", "phones": [{"number": "+34600111222", "kind": "fax"}]},
        "phones.0.kind",
        "Choose one of 'mobile', 'work', 'home' or 'other'.",
    ),
    ({"first_name": "A", "phones": [{"kind": "work"}]}, "phones.0.number", "This field is required."),
    ({"first_name": "A", "country": "XX"}, "country", "Value 'XX' is not a valid choice."),
    ({"first_name": "A", "language": "xx"}, "language", "Unknown language code."),
    ({"first_name": "A", "time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone."),
    ({"first_name": "A", "company": 999999}, "company", "No such company."),
    ({"first_name": "A", "company": 2**70}, "company", "No such company."),
    ({"first_name": "A", "owner": 999999}, "owner", "No such member of this organisation."),
    (
        {"first_name": "A", "custom": {"1st": "x"}},
        "custom",
        "“1st” is not a valid property name (letters, digits and _, starting with a letter).",
    ),
    ({"first_name": "A", "custom": {"a": [1]}}, "custom", "“a” must be text, a number, true/false or empty."),
    ({"first_name": "A", "tags": [" "]}, "tags", "A tag name cannot be empty."),
    ({}, "first_name", "Give the contact a name or an e-mail address."),
]


@pytest.mark.parametrize(("payload", "field", "message"), CONTACT_CREATE_ERRORS)
def test_create_contact_rejects_bad_input_and_saves_nothing(api_client, acme, payload, field, message):
    before = db_state()

    response = post(api_client, "/contacts", payload)

    assert response.status_code == 422
    assert response.json() == invalid(field, message)
    assert db_state() == before


def test_create_contact_with_a_taken_email_saves_nothing(api_client, lucia):
    before = db_state()

    response = post(api_client, "/contacts", {"first_name": "Otra", "emails": ["LUCIA@example.com"], "tags": ["New"]})

    assert response.status_code == 422
    assert response.json() == invalid("emails", "lucia@example.com already belongs to Lucía García.")
    assert db_state() == before


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"emails": ["bad@"]}, "emails", "“bad@” is not a valid e-mail address."),
        ({"phones": [{"number": "12"}]}, "phones", "“12”: start with the country code (e.g. +34) or set the country."),
        ({"last_name": "x" * 101}, "last_name", "At most 100 characters."),
        ({"nickname": "Lu"}, "nickname", "Unknown field."),
        ({"owner": "me"}, "owner", "Enter a whole number."),
        ({"tags": "VIP"}, "tags", "Give a list."),
        ({"lifecycle_stage": None}, "lifecycle_stage", "This field cannot be blank."),
        (
            {"first_name": "", "last_name": "", "emails": []},
            "first_name",
            "Give the contact a name or an e-mail address.",
        ),
    ],
)
def test_patch_contact_rejects_bad_input_and_changes_nothing(api_client, lucia, payload, field, message):
    before = db_state()

    response = patch(api_client, f"/contacts/{lucia.pk}", payload)

    assert response.status_code == 422
    assert response.json() == invalid(field, message)
    assert db_state() == before


@pytest.mark.parametrize("method", ["post", "patch"])
def test_invalid_json_answers_400_and_saves_nothing(api_client, lucia, method):
    before = db_state()
    path = "/contacts" if method == "post" else f"/contacts/{lucia.pk}"

    response = send(api_client, method, path, '{"first_name": "Ana",')

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The body is not valid JSON.",
        "errors": [{"field": "body", "message": "The body is not valid JSON."}],
    }
    assert db_state() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [("[]", "Give an object."), ('"Ana"', "Give an object."), ("", "This field is required.")],
)
def test_a_body_that_is_not_an_object_is_rejected(api_client, body, message):
    before = db_state()

    response = post(api_client, "/contacts", body)

    assert response.status_code == 422
    assert response.json() == invalid("body", message)
    assert db_state() == before


def test_a_body_over_1_mib_answers_413_and_saves_nothing(api_client):
    before = db_state()
    body = json.dumps({"first_name": "Ana", "custom": {"blob": "x" * (1024 * 1024)}})

    response = post(api_client, "/contacts", body)

    assert response.status_code == 413
    assert response.json() == {
        "detail": f"The request body is too large ({len(body)} bytes; the limit is 1048576).",
        "errors": [],
    }
    assert db_state() == before


# --- tenancy, roles, authentication --------------------------------------------------------------------


@pytest.fixture
def theirs(other_actor: Membership) -> dict[str, Any]:
    """Records of another organisation, with the names our organisation also uses."""
    company = make_company(other_actor, name="Acme", domain="acme.example")
    contact = make_contact(other_actor, first_name="Lucía", company=company.pk, tags=["VIP"])
    note = make_note(other_actor, "Their secret", contact=contact)
    company_note = make_note(other_actor, "Their company note", company=company)
    return {
        "contact": contact,
        "company": company,
        "note": note,
        "company_note": company_note,
        "tag": Tag.dangerously_unscoped.get(organization=other_actor.organization),
    }


def id_requests(contact: int, company: int, note: int, tag: int) -> list[tuple[str, str, Any]]:
    """Every operation that takes a record id."""
    return [
        ("get", f"/contacts/{contact}", None),
        ("patch", f"/contacts/{contact}", {"first_name": "Hacked"}),
        ("delete", f"/contacts/{contact}", None),
        ("get", f"/contacts/{contact}/notes", None),
        ("post", f"/contacts/{contact}/notes", {"body": "Hello"}),
        ("get", f"/contacts/{contact}/timeline", None),
        ("get", f"/companies/{company}", None),
        ("patch", f"/companies/{company}", {"name": "Hacked"}),
        ("delete", f"/companies/{company}", None),
        ("get", f"/companies/{company}/notes", None),
        ("post", f"/companies/{company}/notes", {"body": "Hello"}),
        ("get", f"/companies/{company}/timeline", None),
        ("get", f"/notes/{note}", None),
        ("patch", f"/notes/{note}", {"body": "Hacked"}),
        ("delete", f"/notes/{note}", None),
        ("get", f"/tags/{tag}", None),
        ("patch", f"/tags/{tag}", {"name": "Hacked"}),
        ("delete", f"/tags/{tag}", None),
    ]


def test_another_organisations_ids_answer_404_like_missing_ones(api_client, theirs, lucia):
    foreign = id_requests(theirs["contact"].pk, theirs["company"].pk, theirs["note"].pk, theirs["tag"].pk)
    missing = id_requests(999999, 999999, 999999, 999999)
    before = db_state()

    for (method, path, data), (_m, missing_path, _d) in zip(foreign, missing, strict=True):
        response = send(api_client, method, path, data)
        answer_for_missing = send(api_client, method, missing_path, data)
        assert (response.status_code, response.json()) == (404, NOT_FOUND), (method, path)
        assert (answer_for_missing.status_code, answer_for_missing.json()) == (404, NOT_FOUND), (method, path)

    assert db_state() == before


def test_another_organisations_records_never_show_in_lists_or_search(api_client, theirs, lucia):
    their_company = theirs["company"].pk

    assert names(api_client.get(f"{API}/contacts")) == ["Lucía García"]
    assert names(api_client.get(f"{API}/contacts?company={their_company}")) == []
    assert [c["name"] for c in api_client.get(f"{API}/companies").json()["items"]] == ["Acme"]
    assert api_client.get(f"{API}/companies").json()["items"][0]["id"] != their_company
    assert [t["name"] for t in api_client.get(f"{API}/tags").json()["items"]] == ["VIP"]
    assert api_client.get(f"{API}/search?q=lucia").json()["contacts"] == [
        {"id": lucia.pk, "name": "Lucía García", "email": "lucia@example.com", "company": lucia_company(lucia)}
    ]


def lucia_company(contact: Contact) -> dict[str, Any]:
    return {"id": contact.company_id, "name": "Acme"}


def test_another_organisations_company_cannot_be_linked(api_client, theirs):
    before = db_state()

    response = post(api_client, "/contacts", {"first_name": "Ana", "company": theirs["company"].pk})

    assert response.status_code == 422
    assert response.json() == invalid("company", "No such company.")
    assert db_state() == before


def test_a_tag_name_used_by_another_organisation_makes_our_own_tag(api_client, org, theirs):
    response = post(api_client, "/contacts", {"first_name": "Ana", "tags": ["vip"]})

    assert response.status_code == 201
    ours = Tag.dangerously_unscoped.get(organization=org)
    with org_scope(org):
        assert (ours.name, list(ours.contacts.values_list("first_name", flat=True))) == ("vip", ["Ana"])
    with org_scope(theirs["tag"].organization):
        assert list(theirs["tag"].contacts.values_list("first_name", flat=True)) == ["Lucía"]


def write_requests(contact: Contact, company: Company, note: Note, tag: Tag) -> list[tuple[str, str, Any]]:
    return [
        ("post", "/contacts", {"first_name": "Ana"}),
        ("patch", f"/contacts/{contact.pk}", {"first_name": "Changed"}),
        ("delete", f"/contacts/{contact.pk}", None),
        ("post", f"/contacts/{contact.pk}/notes", {"body": "Hello"}),
        ("post", "/companies", {"name": "New"}),
        ("patch", f"/companies/{company.pk}", {"name": "Changed"}),
        ("delete", f"/companies/{company.pk}", None),
        ("post", f"/companies/{company.pk}/notes", {"body": "Hello"}),
        ("patch", f"/notes/{note.pk}", {"body": "Changed"}),
        ("delete", f"/notes/{note.pk}", None),
        ("post", "/tags", {"name": "New"}),
        ("patch", f"/tags/{tag.pk}", {"name": "Changed"}),
        ("delete", f"/tags/{tag.pk}", None),
    ]


@pytest.fixture
def ours(actor: Membership, lucia: Contact, acme: Company) -> tuple[Contact, Company, Note, Tag]:
    return lucia, acme, make_note(actor, "Called her", contact=lucia), Tag.dangerously_unscoped.get(name="VIP")


def test_a_read_only_token_cannot_write(actor, ours):
    client = api_client_for(actor, "read")
    before = db_state()

    for method, path, data in write_requests(*ours):
        response = send(client, method, path, data)
        assert (response.status_code, response.json()) == (
            403,
            {"detail": "This API token is read-only.", "errors": []},
        ), (method, path)

    assert db_state() == before
    assert client.get(f"{API}/contacts/{ours[0].pk}").status_code == 200


def test_a_read_only_member_cannot_write(member, ours):
    client = login_client(member(Role.READ_ONLY))
    before = db_state()

    for method, path, data in write_requests(*ours):
        response = send(client, method, path, data)
        assert response.status_code == 403, (method, path, response.content)
        assert response.json()["errors"] == []

    assert db_state() == before
    assert names(client.get(f"{API}/contacts")) == ["Lucía García"]


def test_a_token_of_a_member_demoted_to_read_only_cannot_write(member, ours):
    admin = member(Role.ADMIN)
    client = api_client_for(admin)
    Membership.objects.filter(pk=admin.pk).update(role=Role.READ_ONLY)
    before = db_state()

    response = post(client, "/contacts", {"first_name": "Ana"})

    assert (response.status_code, response.json()) == (403, {"detail": "Your role is read-only.", "errors": []})
    assert patch(client, f"/contacts/{ours[0].pk}", {"first_name": "X"}).status_code == 403
    assert db_state() == before


def test_a_sales_member_does_not_see_records_of_owners_outside_their_team(member, lucia):
    client = login_client(member(Role.SALES))
    before = db_state()

    assert names(client.get(f"{API}/contacts")) == []
    assert client.get(f"{API}/contacts/{lucia.pk}").json() == NOT_FOUND
    assert patch(client, f"/contacts/{lucia.pk}", {"first_name": "X"}).status_code == 404
    assert client.delete(f"{API}/contacts/{lucia.pk}").status_code == 404
    assert db_state() == before


def test_a_session_can_read_and_needs_the_csrf_token_to_write(actor, lucia):
    client = Client(enforce_csrf_checks=True)
    client.force_login(actor.user)
    before = db_state()

    assert client.get(f"{API}/contacts/{lucia.pk}").status_code == 200
    refused = post(client, "/contacts", {"first_name": "Ana"})
    assert (refused.status_code, refused.json()) == (
        403,
        {"detail": "CSRF check failed: send the X-CSRFToken header with session authentication.", "errors": []},
    )
    assert client.delete(f"{API}/contacts/{lucia.pk}").status_code == 403
    assert db_state() == before

    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    accepted = post(client, "/contacts", {"first_name": "Ana"}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201
    assert Contact.dangerously_unscoped.filter(first_name="Ana").count() == 1


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Authentication required: send a Bearer token or log in."),
        ({"Authorization": "Bearer vin_not-a-real-token"}, "Invalid or revoked API token."),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Invalid or revoked API token."),
    ],
)
def test_no_or_a_bad_token_answers_401_and_saves_nothing(lucia, headers, detail):
    client = Client(headers=headers)
    before = db_state()

    for method, path, data in [
        ("get", "/contacts", None),
        ("get", f"/contacts/{lucia.pk}", None),
        ("post", "/contacts", {"first_name": "Ana"}),
        ("delete", f"/contacts/{lucia.pk}", None),
    ]:
        response = send(client, method, path, data)
        assert (response.status_code, response.json()) == (401, {"detail": detail, "errors": []})
        assert response["WWW-Authenticate"] == "Bearer"

    assert db_state() == before


# --- companies -------------------------------------------------------------------------------------------


def test_create_company_returns_201_and_the_stored_company(api_client, actor):
    response = post(
        api_client,
        "/companies",
        {
            "name": "Compañía Ñandú",
            "domain": "https://www.Nandu.example/about",
            "industry": "Retail",
            "size": "11-50",
            "phone": "+34 911 222 333",
            "tags": ["Partner"],
            "custom": {"tier": 2},
            "country": "ES",
            "address": {"city": "Madrid"},
        },
    )

    assert response.status_code == 201
    company = Company.dangerously_unscoped.get()
    assert response.json() == {
        "id": company.pk,
        "name": "Compañía Ñandú",
        "domain": "nandu.example",
        "industry": "Retail",
        "size": "11-50",
        "phone": "+34911222333",
        "owner": user_ref(actor),
        "tags": ["Partner"],
        "custom": {"tier": 2},
        "country": "ES",
        "address": {"street": "", "city": "Madrid", "region": "", "postal_code": ""},
        "created_at": iso(company.created_at),
        "updated_at": iso(company.updated_at),
    }


def test_get_patch_and_delete_a_company(api_client, acme, lucia):
    assert api_client.get(f"{API}/companies/{acme.pk}").json()["domain"] == "acme.example"

    patched = patch(api_client, f"/companies/{acme.pk}", {"industry": "Software", "size": "1-10", "owner": None})
    assert (patched.status_code, patched.json()["industry"], patched.json()["size"], patched.json()["owner"]) == (
        200,
        "Software",
        "1-10",
        None,
    )
    cleared = patch(api_client, f"/companies/{acme.pk}", {"size": None})
    assert cleared.json()["size"] is None

    deleted = api_client.delete(f"{API}/companies/{acme.pk}")
    assert deleted.status_code == 204
    assert not Company.dangerously_unscoped.filter(pk=acme.pk).exists()
    lucia.refresh_from_db()
    assert lucia.company_id is None  # the contact stays, without a company


def test_list_companies_filters_and_sorts(api_client, actor, acme):
    make_company(actor, name="Beta", industry="Retail")
    make_company(actor, name="Gamma", industry="retail", country="PT")

    def company_names(query: str) -> list[str]:
        response = api_client.get(f"{API}/companies?{query}")
        assert response.status_code == 200, response.content
        return [c["name"] for c in response.json()["items"]]

    assert company_names("") == ["Acme", "Beta", "Gamma"]
    assert company_names("industry=RETAIL&sort=-name") == ["Gamma", "Beta"]
    assert company_names("country=pt") == ["Gamma"]
    assert company_names("q=acm") == ["Acme"]
    assert api_client.get(f"{API}/companies?stage=lead").json() == {
        "detail": INVALID,
        "errors": [
            {
                "field": "stage",
                "message": "Unknown parameter. Allowed: country, created_after, created_before, industry, owner, "
                "page, per_page, q, sort, tag.",
            }
        ],
    }


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": "X", "domain": "not a domain"}, "domain", "Enter a web domain such as example.com."),
        ({"name": "X", "domain": "ACME.example"}, "domain", "acme.example is already the domain of Acme."),
        ({"name": "X", "phone": "abc"}, "phone", "“abc”: start with the country code (e.g. +34) or set the country."),
        ({"name": "X", "size": "huge"}, "size", "Choose one of '1-10', '11-50', '51-200', '201-1000' or '1001+'."),
        ({"name": "x" * 201}, "name", "At most 200 characters."),
        ({"name": "X", "industry": "x" * 101}, "industry", "At most 100 characters."),
        ({"name": "X", "employees": 10}, "employees", "Unknown field."),
        ({"name": 5}, "name", "Enter text."),
        ({"name": "X", "owner": "1"}, "owner", "Enter a whole number."),
        ({}, "name", "This field is required."),
        ({"name": " "}, "name", "This field cannot be blank."),
    ],
)
def test_create_company_rejects_bad_input_and_saves_nothing(api_client, acme, payload, field, message):
    before = db_state()

    response = post(api_client, "/companies", payload)

    assert response.status_code == 422
    assert response.json() == invalid(field, message)
    assert db_state() == before


def test_patch_company_rejects_bad_input_and_changes_nothing(api_client, actor, acme):
    beta = make_company(actor, name="Beta")
    before = db_state()

    response = patch(api_client, f"/companies/{beta.pk}", {"domain": "acme.example", "name": None})

    assert response.status_code == 422
    assert response.json() == {
        "detail": INVALID,
        "errors": [
            {"field": "name", "message": "This field cannot be blank."},
            {"field": "domain", "message": "acme.example is already the domain of Acme."},
        ],
    }
    assert db_state() == before


# --- notes -------------------------------------------------------------------------------------------------


def test_notes_on_a_contact_create_list_update_delete(api_client, actor, lucia):
    created = post(api_client, f"/contacts/{lucia.pk}/notes", {"body": "  Called her about the renewal.  "})

    assert created.status_code == 201
    note = Note.dangerously_unscoped.get()
    assert created.json() == {
        "id": note.pk,
        "body": "Called her about the renewal.",
        "author": user_ref(actor),
        "contact": {"id": lucia.pk, "name": "Lucía García"},
        "company": None,
        "created_at": iso(note.created_at),
        "updated_at": iso(note.updated_at),
    }
    listed = api_client.get(f"{API}/contacts/{lucia.pk}/notes").json()
    assert (listed["total"], listed["items"]) == (1, [created.json()])
    assert api_client.get(f"{API}/notes/{note.pk}").json() == created.json()

    updated = patch(api_client, f"/notes/{note.pk}", {"body": "Renewal signed."})
    assert (updated.status_code, updated.json()["body"]) == (200, "Renewal signed.")
    assert Note.dangerously_unscoped.get().body == "Renewal signed."

    assert api_client.delete(f"{API}/notes/{note.pk}").status_code == 204
    assert not Note.dangerously_unscoped.exists()


def test_notes_on_a_company(api_client, actor, acme, lucia):
    make_note(actor, "On Lucía", contact=lucia)

    created = post(api_client, f"/companies/{acme.pk}/notes", {"body": "Annual review"})

    assert created.status_code == 201
    assert (created.json()["company"], created.json()["contact"]) == ({"id": acme.pk, "name": "Acme"}, None)
    listed = api_client.get(f"{API}/companies/{acme.pk}/notes").json()
    assert [n["body"] for n in listed["items"]] == ["Annual review"]  # only the company's own notes


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"body": "   "}, "body", "Write something in the note."),
        ({"body": "x" * 10001}, "body", "At most 10000 characters."),
        ({"body": ["x"]}, "body", "Enter text."),
        ({"body": "x", "pinned": True}, "pinned", "Unknown field."),
        ({}, "body", "This field is required."),
    ],
)
def test_note_bad_input_saves_nothing(api_client, actor, lucia, payload, field, message):
    note = make_note(actor, "Original", contact=lucia)
    before = db_state()

    created = post(api_client, f"/contacts/{lucia.pk}/notes", payload)
    updated = patch(api_client, f"/notes/{note.pk}", payload)

    assert (created.status_code, created.json()) == (422, invalid(field, message))
    assert (updated.status_code, updated.json()) == (422, invalid(field, message))
    assert db_state() == before


def test_only_the_author_or_a_manager_changes_a_note(member, actor, lucia):
    note = make_note(actor, "Mine", contact=lucia)
    marketing = login_client(member(Role.MARKETING))
    before = db_state()

    response = patch(marketing, f"/notes/{note.pk}", {"body": "Theirs now"})

    assert (response.status_code, response.json()) == (
        403,
        {"detail": "Only the author or a manager can change this note.", "errors": []},
    )
    assert marketing.delete(f"{API}/notes/{note.pk}").status_code == 403
    assert db_state() == before


# --- tags --------------------------------------------------------------------------------------------------


# (create, list, get, update, delete and bad input: TestTagApi in test_tags.py)


def test_only_managers_delete_tags(member, lucia):
    tag = Tag.dangerously_unscoped.get(name="VIP")
    sales = login_client(member(Role.SALES))
    before = db_state()

    response = sales.delete(f"{API}/tags/{tag.pk}")

    assert (response.status_code, response.json()) == (
        403,
        {"detail": "Only managers and admins can delete tags.", "errors": []},
    )
    assert db_state() == before


# --- timelines ---------------------------------------------------------------------------------------------


def add_event(contact: Contact, type: str, days_ago: int, **extra: Any) -> Event:
    return Event.dangerously_unscoped.create(
        organization_id=contact.organization_id,
        contact=contact,
        company_id=contact.company_id,
        type=type,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        **extra,
    )


def test_contact_timeline_shows_events_and_notes_newest_first(api_client, actor, lucia):
    opened = add_event(lucia, "email.opened", days_ago=2, source="email", properties={"subject": "Hola"})
    viewed = add_event(lucia, "page.viewed", days_ago=3, properties={"url": "/pricing"})
    note = make_note(actor, "Called her", contact=lucia)
    created = Event.dangerously_unscoped.get(type="contact.created")

    response = api_client.get(f"{API}/contacts/{lucia.pk}/timeline")

    assert response.status_code == 200
    contact_ref = {"id": lucia.pk, "name": "Lucía García"}
    assert response.json() == {
        "items": [
            {
                "kind": "note",
                "at": iso(note.created_at),
                "event": None,
                "note": {
                    "id": note.pk,
                    "body": "Called her",
                    "author": user_ref(actor),
                    "contact": contact_ref,
                    "company": None,
                    "created_at": iso(note.created_at),
                    "updated_at": iso(note.updated_at),
                },
            },
            {
                "kind": "event",
                "at": iso(created.occurred_at),
                "event": {
                    "id": created.pk,
                    "type": "contact.created",
                    "source": "crm",
                    "properties": {"name": "Lucía García", "source": "manual", "owner_id": actor.user_id},
                    "actor": user_ref(actor),
                    "contact": contact_ref,
                    "occurred_at": iso(created.occurred_at),
                    "sentence": f"{actor.user.full_name} added Lucía García to the contacts",
                },
                "note": None,
            },
            {
                "kind": "event",
                "at": iso(opened.occurred_at),
                "event": {
                    "id": opened.pk,
                    "type": "email.opened",
                    "source": "email",
                    "properties": {"subject": "Hola"},
                    "actor": None,
                    "contact": contact_ref,
                    "occurred_at": iso(opened.occurred_at),
                    "sentence": "",  # no campaign to name
                },
                "note": None,
            },
            {
                "kind": "event",
                "at": iso(viewed.occurred_at),
                "event": {
                    "id": viewed.pk,
                    "type": "page.viewed",
                    "source": "crm",
                    "properties": {"url": "/pricing"},
                    "actor": None,
                    "contact": contact_ref,
                    "occurred_at": iso(viewed.occurred_at),
                    "sentence": "Lucía García viewed /pricing",
                },
                "note": None,
            },
        ],
        "next": None,
    }


def timeline_kinds(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [i["event"]["type"] if i["kind"] == "event" else "note" for i in response.json()["items"]]


def test_contact_timeline_filters_by_kind_and_pages_with_a_cursor(api_client, actor, lucia):
    add_event(lucia, "email.opened", days_ago=2)
    add_event(lucia, "page.viewed", days_ago=3)
    make_note(actor, "Called her", contact=lucia)
    url = f"{API}/contacts/{lucia.pk}/timeline"

    assert timeline_kinds(api_client.get(f"{url}?kinds=email")) == ["email.opened"]
    assert timeline_kinds(api_client.get(f"{url}?kinds=note,web")) == ["note", "page.viewed"]

    seen, next_url = [], f"{url}?limit=1"
    while next_url:
        page = api_client.get(next_url)
        seen += timeline_kinds(page)
        next_url = page.json()["next"]
    assert seen == ["note", "contact.created", "email.opened", "page.viewed"]


def test_company_timeline_includes_its_contacts(api_client, actor, acme, lucia):
    make_note(actor, "On the company", company=acme)
    make_note(actor, "On Lucía", contact=lucia)

    response = api_client.get(f"{API}/companies/{acme.pk}/timeline?kinds=note")

    assert response.status_code == 200
    assert [(i["note"]["body"], i["note"]["company"], i["note"]["contact"]) for i in response.json()["items"]] == [
        ("On Lucía", None, {"id": lucia.pk, "name": "Lucía García"}),
        ("On the company", {"id": acme.pk, "name": "Acme"}, None),
    ]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("kinds=note,fax", "kinds", "Unknown kind. Allowed: note, email, web, sales, service, record."),
        ("before=not-a-cursor", "before", "This cursor is not valid: use the `next` link of the previous page."),
        # a well-formed cursor whose id would overflow the database driver
        (
            "before=eyJlIjpbIjIwMjQtMDEtMDFUMDA6MDA6MDArMDA6MDAiLDk5OTk5OTk5OTk5OTk5OTk5OTk5OV19",
            "before",
            "This cursor is not valid: use the `next` link of the previous page.",
        ),
        ("limit=0", "limit", "Must be at least 1."),
        ("limit=101", "limit", "Must be at most 100."),
    ],
)
def test_timeline_rejects_bad_parameters(api_client, lucia, query, field, message):
    response = api_client.get(f"{API}/contacts/{lucia.pk}/timeline?{query}")

    assert response.status_code == 422
    assert response.json() == invalid(field, message)


# --- search ------------------------------------------------------------------------------------------------


def test_search_is_accent_insensitive_and_finds_parts_of_words(api_client, actor, lucia):
    nandu = make_company(actor, name="Compañía Ñandú")

    assert api_client.get(f"{API}/search?q=garcia").json() == {
        "contacts": [
            {"id": lucia.pk, "name": "Lucía García", "email": "lucia@example.com", "company": lucia_company(lucia)}
        ],
        "companies": [],
    }
    assert api_client.get(f"{API}/search?q=nand").json() == {
        "contacts": [],
        "companies": [{"id": nandu.pk, "name": "Compañía Ñandú", "domain": ""}],
    }
    assert api_client.get(f"{API}/search?q=").json() == {"contacts": [], "companies": []}
    assert api_client.get(f"{API}/search?q={'x' * 201}").json() == invalid("q", "At most 200 characters.")


# --- query counts: no N+1 in list endpoints ------------------------------------------------------------------


def queries_for(client: Client, url: str) -> int:
    assert client.get(url).status_code == 200  # warm-up: the token's last-used time is written once a minute
    with count_queries() as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def rich_contacts(actor: Membership, company: Company, start: int, count: int) -> None:
    for i in range(start, start + count):
        contact = make_contact(
            actor,
            first_name=f"P{i:03}",
            emails=[f"p{i}@example.com", f"p{i}@work.example"],
            phones=[{"number": "+34600111222"}, {"number": "+34911222333", "kind": "work"}],
            company=company.pk,
            tags=["A", "B"],
        )
        make_note(actor, f"Note {i}", contact=contact)
        make_note(actor, f"Note {i}", company=company)


@pytest.mark.parametrize(
    "url",
    [
        "/contacts?per_page=4",
        "/contacts?per_page=4&sort=-created&q=example",
        "/companies?per_page=4",
        "/tags?per_page=1",
        "/search?q=p0",
    ],
)
def test_list_endpoints_use_the_same_queries_for_5_and_50_rows(api_client, actor, acme, url):
    rich_contacts(actor, acme, 0, 5)
    for i in range(5):
        make_company(actor, name=f"C{i}", tags=["A"])
    small = queries_for(api_client, API + url)

    rich_contacts(actor, acme, 5, 45)
    for i in range(5, 50):
        make_company(actor, name=f"C{i}", tags=["A"])
    large = queries_for(api_client, API + url)

    assert small == large
    assert large <= 8  # auth (2) + search candidates (1) + page + count + prefetches


@pytest.mark.parametrize("kind", ["contact", "company"])
def test_notes_and_timeline_use_the_same_queries_for_5_and_50_rows(api_client, actor, acme, kind):
    owner = acme if kind == "company" else make_contact(actor, first_name="Ana", company=acme.pk)
    subject = {kind: owner}
    path = f"/{'companies' if kind == 'company' else 'contacts'}/{owner.pk}"

    def add(count: int) -> None:
        for i in range(count):
            make_note(actor, f"Note {i}", **subject)
            if kind == "company":
                make_note(actor, f"Contact note {i}", contact=make_contact(actor, first_name=f"C{i}", company=acme.pk))

    add(5)
    small = (
        queries_for(api_client, f"{API}{path}/notes?per_page=4"),
        queries_for(api_client, f"{API}{path}/timeline?limit=4"),
    )
    add(45)
    large = (
        queries_for(api_client, f"{API}{path}/notes?per_page=4"),
        queries_for(api_client, f"{API}{path}/timeline?limit=4"),
    )

    assert small == large


# --- OpenAPI fuzzing ---------------------------------------------------------------------------------------


@pytest.mark.fuzz
def test_fuzzing_the_contacts_api_finds_no_server_error_and_no_schema_violation(actor, lucia, acme):
    note = make_note(actor, "A note", contact=lucia)
    headers = {"Authorization": api_client_for(actor).defaults["HTTP_AUTHORIZATION"]}
    known_ids = {
        "contact_id": lucia.pk,
        "company_id": acme.pk,
        "note_id": note.pk,
        "tag_id": Tag.dangerously_unscoped.get().pk,
    }

    fuzz_api(headers, r"^/api/v1/(contacts|companies|notes|tags|search)", max_examples=8, known_ids=known_ids)


def test_a_write_race_the_services_did_not_foresee_answers_409_and_saves_nothing(api_client, org, monkeypatch):
    # given a unique constraint that fires after the service's own checks passed (a concurrent write)
    from django.db import IntegrityError, transaction

    @transaction.atomic  # like every service
    def racing_create(**kwargs: Any) -> Contact:
        Contact.dangerously_unscoped.create(organization=org, first_name="Half-saved")
        raise IntegrityError("UNIQUE constraint failed: contacts_contactemail.organization_id, email")

    monkeypatch.setattr(services, "contact_create", racing_create)

    # when
    response = api_client.post(f"{API}/contacts", {"first_name": "Ana"}, content_type="application/json")

    # then: a clear 409 in the error shape, no stack trace, and the service's writes rolled back
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This conflicts with a change made at the same time. Try again.",
        "errors": [],
    }
    assert Contact.dangerously_unscoped.filter(organization=org).count() == 0


@pytest.mark.parametrize(
    ("body", "status", "detail", "field", "message"),
    [
        (
            '{"first_name": ' + "[" * 100_000 + "]" * 100_000 + "}",
            400,
            "The JSON is nested too deeply: at most 32 levels.",
            "body",
            "The JSON is nested too deeply: at most 32 levels.",
        ),
        (
            '{"first_name": "Ana", "custom": {"score": NaN}}',
            422,
            "Some fields are not valid.",
            "custom.score",
            "Enter a finite number: NaN and Infinity are not JSON.",
        ),
    ],
)
def test_a_body_too_deep_or_with_nan_is_refused_with_its_field_and_saves_nothing(
    api_client, body, status, detail, field, message
):
    before = db_state()

    response = send(api_client, "post", "/contacts", body)

    assert response.status_code == status
    assert response.json() == {"detail": detail, "errors": [{"field": field, "message": message}]}
    assert db_state() == before
