"""Web forms over the API: CRUD, submissions, and the consents they carry (messaging's endpoints)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from vinculo.accounts.models import Role
from vinculo.accounts.testing import api_client_for, login_client
from vinculo.core.models import Event
from vinculo.core.testing import count_queries
from vinculo.messaging.models import Consent
from vinculo.touchpoints.models import WebForm
from vinculo.touchpoints.testing.forms import FIELDS, GOOD, consent_types, make_form, submit

API = "/api/v1"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    return getattr(client, method)(f"{API}{path}", json.dumps(body), content_type="application/json")


def test_web_forms_crud(api_client, actor, org):
    consent_types(org)
    created = send(
        api_client,
        "post",
        "/web-forms",
        {
            "name": "Demo request",
            "fields": [{"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email"}],
            "consents": [{"key": "terms", "text": "I agree.", "required": True}],
            "allowed_origins": ["https://shop.example.com"],
        },
    )
    assert created.status_code == 201
    form = WebForm.dangerously_unscoped.get()
    body = created.json()
    assert body["id"] == form.pk
    assert body["public_key"] == form.public_key
    assert body["fields"] == [
        {"name": "email", "label": "E-mail", "type": "email", "required": True, "maps_to": "email", "options": []}
    ]
    assert body["consents"] == [{"key": "terms", "text": "I agree.", "version": "1", "required": True}]
    assert body["owner"] == {"id": actor.user.pk, "name": actor.user.full_name, "email": actor.user.email}
    assert (body["double_opt_in"], body["notify_owner"], body["is_active"]) == (False, True, True)
    patched = send(
        api_client, "patch", f"/web-forms/{form.pk}", {"consents": [{"key": "terms", "text": "I agree to all."}]}
    )
    assert patched.status_code == 200
    assert patched.json()["consents"] == [
        {"key": "terms", "text": "I agree to all.", "version": "2", "required": False}
    ]
    assert patched.json()["name"] == "Demo request"
    got = api_client.get(f"{API}/web-forms/{form.pk}")
    assert got.json()["consents"][0]["version"] == "2"
    listed = api_client.get(f"{API}/web-forms").json()
    assert [item["name"] for item in listed["items"]] == ["Demo request"]
    assert api_client.delete(f"{API}/web-forms/{form.pk}").status_code == 204
    assert WebForm.dangerously_unscoped.count() == 0


def test_bad_web_forms_get_422_with_fields(api_client, org):
    response = send(
        api_client,
        "post",
        "/web-forms",
        {"name": "X", "fields": [{"name": "email", "label": "E-mail", "type": "text", "maps_to": "email"}]},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "fields.0.type", "message": "A field mapped to email must be of type email."},
        {"field": "fields.0.required", "message": "The e-mail field must be required."},
    ]
    unknown = send(api_client, "post", "/web-forms", {"name": "X", "fields": FIELDS, "colour": "red"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"field": "colour", "message": "Unknown field."}]
    assert WebForm.dangerously_unscoped.count() == 0


def test_read_only_and_sales_tokens_cannot_change_forms(actor, org, member):
    form = make_form(actor)
    message = "Only owners, admins, managers and marketing can change web forms."
    for role in (Role.SALES, Role.READ_ONLY):
        client = login_client(member(role))  # a session (only admins create tokens)
        response = send(client, "patch", f"/web-forms/{form.pk}", {"name": "Hacked"})
        assert (response.status_code, response.json()) == (403, {"detail": message, "errors": []})
        assert client.delete(f"{API}/web-forms/{form.pk}").status_code == 403
    read_token = api_client_for(actor, "read")
    assert send(read_token, "patch", f"/web-forms/{form.pk}", {"name": "Hacked"}).status_code == 403
    assert WebForm.dangerously_unscoped.get().name == "Contact us"


def test_submissions_list(api_client, actor, org):
    form = make_form(actor)
    result = submit(form, **GOOD)
    submit(form, **GOOD, homepage="spam")
    body = api_client.get(f"{API}/web-forms/{form.pk}/submissions?status=accepted").json()
    assert [item["id"] for item in body["items"]] == [result.submission.pk]
    item = body["items"][0]
    assert (item["contact_id"], item["status"], item["ip"], item["page_url"]) == (
        result.contact.pk,
        "accepted",
        "203.0.113.7",
        "https://www.example.com/contact",
    )
    assert item["data"]["email"] == "Ana@Example.com"
    assert len(api_client.get(f"{API}/web-forms/{form.pk}/submissions").json()["items"]) == 2
    bad = api_client.get(f"{API}/web-forms/{form.pk}/submissions?status=nonsense")
    assert bad.status_code == 422


def test_a_contacts_consents_and_withdrawal(api_client, actor, org):
    form = make_form(actor, double_opt_in=True)
    result = submit(form, **GOOD)
    body = api_client.get(f"{API}/contacts/{result.contact.pk}/consents").json()
    assert [
        (c["subscription_type"]["key"], c["status"], c["pending"], c["text_version"], c["ip"]) for c in body["history"]
    ] == [
        ("terms", "granted", True, "1", "203.0.113.7"),
        ("newsletter", "granted", True, "1", "203.0.113.7"),
    ]
    assert body["history"][0]["text"] == "I accept the privacy policy."
    assert body["history"][0]["submission_id"] == result.submission.pk
    assert body["history"][0]["form_name"] == "Contact us"
    assert [(s["subscription_type"]["key"], s["status"], s["consenting"]) for s in body["subscriptions"]] == [
        ("newsletter", "pending", False),
        ("partners", "", False),
        ("terms", "pending", False),
    ]
    withdrawn = send(
        api_client, "post", f"/contacts/{result.contact.pk}/consents", {"subscription_type": "terms", "granted": False}
    )
    assert withdrawn.status_code == 201
    assert (withdrawn.json()["status"], withdrawn.json()["channel"]) == ("withdrawn", "api")
    assert Event.dangerously_unscoped.filter(type="consent.withdrawn").count() == 1


def test_another_organisations_records_are_404(api_client, org, other_actor):
    theirs = make_form(other_actor)
    result = submit(theirs, **GOOD)
    assert api_client.get(f"{API}/web-forms/{theirs.pk}").status_code == 404
    assert send(api_client, "patch", f"/web-forms/{theirs.pk}", {"name": "Mine"}).status_code == 404
    assert api_client.get(f"{API}/web-forms/{theirs.pk}/submissions").status_code == 404
    assert api_client.get(f"{API}/contacts/{result.contact.pk}/consents").status_code == 404
    withdrawal = {"subscription_type": "terms", "granted": False}
    assert send(api_client, "post", f"/contacts/{result.contact.pk}/consents", withdrawal).status_code == 404
    assert Consent.dangerously_unscoped.count() == 2
    assert WebForm.dangerously_unscoped.get().name == "Contact us"


@pytest.mark.parametrize("rows", [1, 6])
def test_list_query_counts_do_not_grow(api_client, actor, org, rows):
    form = None
    for n in range(rows):
        form = make_form(actor, name=f"Form {n}")
        submit(form, **{**GOOD, "email": f"p{n}@example.com"})
    assert form is not None
    contact_id = Consent.dangerously_unscoped.values_list("contact_id", flat=True)[0]
    api_client.get(f"{API}/web-forms")  # the token's last use is written once a minute
    with count_queries() as forms_queries:
        listed = api_client.get(f"{API}/web-forms")
    with count_queries() as submission_queries:
        submissions = api_client.get(f"{API}/web-forms/{form.pk}/submissions")
    with count_queries() as consent_queries:
        consents = api_client.get(f"{API}/contacts/{contact_id}/consents")
    assert len(listed.json()["items"]) == rows
    assert len(submissions.json()["items"]) == 1
    assert len(consents.json()["history"]) == 2
    # token + membership, then the page (forms: with owners and counts in one query)
    assert len(forms_queries) == 3
    assert len(submission_queries) == 4  # token, membership, the form, its submissions
    # token, membership, the contact, its current states, the active types, its ledger
    assert len(consent_queries) == 6
