"""Consent over the API: subscription types (CRUD, admins write) and a contact's consents."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import login_client
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.messaging.models import Consent, ContactSubscription, SubscriptionType
from vinculo.messaging.testing import make_subscription_type, record

API = "/api/v1"


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    return getattr(client, method)(f"{API}{path}", json.dumps(body), content_type="application/json")


def test_subscription_types_crud(api_client, org):
    created = send(
        api_client,
        "post",
        "/subscription-types",
        {"key": "updates", "name": "Product updates", "lawful_basis": "legitimate_interest"},
    )
    assert created.status_code == 201
    body = created.json()
    subscription_type = SubscriptionType.dangerously_unscoped.get()
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "id": subscription_type.pk,
        "key": "updates",
        "name": "Product updates",
        "description": "",
        "lawful_basis": "legitimate_interest",
        "opt_mode": "opt_out",
        "is_active": True,
    }
    listed = api_client.get(f"{API}/subscription-types").json()
    assert [t["key"] for t in listed["items"]] == ["updates"]
    assert api_client.get(f"{API}/subscription-types/{subscription_type.pk}").json()["name"] == "Product updates"
    patched = send(
        api_client,
        "patch",
        f"/subscription-types/{subscription_type.pk}",
        {"description": "Monthly", "is_active": False},
    )
    assert patched.status_code == 200
    assert (patched.json()["description"], patched.json()["is_active"]) == ("Monthly", False)
    assert api_client.delete(f"{API}/subscription-types/{subscription_type.pk}").status_code == 204
    assert SubscriptionType.dangerously_unscoped.count() == 0


def test_bad_subscription_types_answer_422_with_field_errors(api_client, org):
    make_subscription_type(org, "newsletter")
    response = send(
        api_client, "post", "/subscription-types", {"key": "newsletter", "name": "Again", "opt_mode": "opt_out"}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "key", "message": "Another subscription type already has this key."},
        {"field": "opt_mode", "message": "Consent must be given: a type based on consent is opt-in."},
    ]
    shape = send(api_client, "post", "/subscription-types", {"key": "x", "name": "X", "lawful_basis": "whim"})
    assert shape.status_code == 422
    assert [e["field"] for e in shape.json()["errors"]] == ["lawful_basis"]
    assert SubscriptionType.dangerously_unscoped.count() == 1


def test_a_type_with_consent_records_cannot_be_deleted(api_client, actor, org):
    newsletter = make_subscription_type(org, "newsletter")
    with scope(organization=org):
        ana = contact_create(actor=actor, data={"first_name": "Ana"})
    record(ana, newsletter)
    response = api_client.delete(f"{API}/subscription-types/{newsletter.pk}")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "__all__", "message": "Consent was recorded for this subscription type: deactivate it instead."}
    ]
    assert SubscriptionType.dangerously_unscoped.count() == 1


def test_only_owners_and_admins_write_subscription_types(org, member):
    newsletter = make_subscription_type(org, "newsletter")
    marketing = login_client(member(Role.MARKETING))
    assert marketing.get(f"{API}/subscription-types").status_code == 200
    assert send(marketing, "post", "/subscription-types", {"key": "x", "name": "X"}).status_code == 403
    assert send(marketing, "patch", f"/subscription-types/{newsletter.pk}", {"name": "Y"}).status_code == 403
    assert marketing.delete(f"{API}/subscription-types/{newsletter.pk}").status_code == 403
    assert list(SubscriptionType.dangerously_unscoped.values_list("key", "name")) == [("newsletter", "Newsletter")]


def test_a_contacts_consents_are_recorded_and_read(api_client, actor, org):
    make_subscription_type(org, "newsletter", name="Newsletter")
    make_subscription_type(org, "updates", name="Updates", lawful_basis="legitimate_interest", opt_mode="opt_out")
    with scope(organization=org):
        ana = contact_create(actor=actor, data={"first_name": "Ana"})
    granted = send(
        api_client,
        "post",
        f"/contacts/{ana.pk}/consents",
        {"subscription_type": "newsletter", "granted": True, "text": "Yes, news.", "text_version": "4"},
    )
    assert granted.status_code == 201
    body = granted.json()
    assert (body["status"], body["pending"], body["channel"], body["text"], body["text_version"]) == (
        "granted",
        False,
        "api",
        "Yes, news.",
        "4",
    )
    assert body["actor"]["id"] == actor.user_id
    refused = send(
        api_client, "post", f"/contacts/{ana.pk}/consents", {"subscription_type": "updates", "granted": False}
    )
    assert refused.status_code == 201
    read = api_client.get(f"{API}/contacts/{ana.pk}/consents").json()
    assert [(s["subscription_type"]["key"], s["status"], s["consenting"]) for s in read["subscriptions"]] == [
        ("newsletter", "subscribed", True),
        ("updates", "unsubscribed", False),
    ]
    assert [(h["subscription_type"]["key"], h["status"]) for h in read["history"]] == [
        ("updates", "withdrawn"),
        ("newsletter", "granted"),
    ]
    assert Event.dangerously_unscoped.filter(type__in=["consent.granted", "consent.withdrawn"]).count() == 2


def test_an_unknown_subscription_type_is_refused_and_nothing_is_saved(api_client, actor, org, other_actor):
    make_subscription_type(other_actor.organization, "partners")
    with scope(organization=org):
        ana = contact_create(actor=actor, data={"first_name": "Ana"})
    for body, errors in (
        (
            {"subscription_type": "partners", "granted": True, "text": "Yes"},
            [{"field": "subscription_type", "message": "There is no subscription type with the key “partners”."}],
        ),
        ({"subscription_type": "partners"}, [{"field": "granted", "message": "This field is required."}]),
    ):
        response = send(api_client, "post", f"/contacts/{ana.pk}/consents", body)
        assert response.status_code == 422
        assert response.json()["errors"] == errors
    assert Consent.dangerously_unscoped.count() == 0
    assert ContactSubscription.dangerously_unscoped.count() == 0


def test_another_organisations_ids_are_404(api_client, org, other_actor):
    theirs = make_subscription_type(other_actor.organization, "newsletter")
    with scope(organization=other_actor.organization):
        otto = contact_create(actor=other_actor, data={"first_name": "Otto"})
    record(otto, theirs)
    assert api_client.get(f"{API}/subscription-types/{theirs.pk}").status_code == 404
    assert send(api_client, "patch", f"/subscription-types/{theirs.pk}", {"name": "Mine"}).status_code == 404
    assert api_client.delete(f"{API}/subscription-types/{theirs.pk}").status_code == 404
    assert api_client.get(f"{API}/contacts/{otto.pk}/consents").status_code == 404
    withdrawal = {"subscription_type": "newsletter", "granted": False}
    assert send(api_client, "post", f"/contacts/{otto.pk}/consents", withdrawal).status_code == 404
    assert api_client.get(f"{API}/subscription-types").json()["items"] == []
    assert list(SubscriptionType.dangerously_unscoped.values_list("name", flat=True)) == ["Newsletter"]
    assert Consent.dangerously_unscoped.count() == 1


def test_list_query_counts_do_not_grow(api_client, actor, org):
    with scope(organization=org):
        ana = contact_create(actor=actor, data={"first_name": "Ana"})

    def counts() -> tuple[int, int, int]:
        api_client.get(f"{API}/subscription-types")  # the token's last use is written once a minute
        with CaptureQueriesContext(connection) as listed:
            types = api_client.get(f"{API}/subscription-types").json()["items"]
        with CaptureQueriesContext(connection) as consents:
            api_client.get(f"{API}/contacts/{ana.pk}/consents")
        return len(types), len(listed), len(consents)

    record(ana, make_subscription_type(org, "t0"))
    one = counts()
    for n in range(1, 6):
        record(ana, make_subscription_type(org, f"t{n}"))
    six = counts()
    assert (one[0], six[0]) == (1, 6)
    # token, membership, the page; token, membership, the contact, its states, the types, its ledger
    assert one[1:] == six[1:] == (3, 6)
