"""Tenancy is sacred: every route, with another organisation's ids, answers 404 and changes nothing.

The walker enumerates every URL pattern (pages and API operations alike). A route with an id in its
path must be mapped to the kind of record it takes (ROUTE_OBJECTS or the naming rule in
`object_kind`, tests/site_map.py), and a route that is neither organisation-scoped nor in
PUBLIC_ROUTES fails the suite, so a new route cannot go untested.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django_scopes import scope

from tests.site_map import PUBLIC_ROUTES, all_routes, fill, object_kind, one_of_every_kind
from vinculo.accounts.models import ApiToken, Invitation, Membership, Organization, Team
from vinculo.accounts.testing import api_client_for, login_client
from vinculo.contacts.models import Company, Contact, ContactEmail, Note, SavedView, Tag
from vinculo.contacts.services import contact_create
from vinculo.core.models import AuditEntry, Event, OrgScopedModel
from vinculo.messaging import models as messaging
from vinculo.sales import models as sales
from vinculo.touchpoints import models as tp

MARKER = "Forastero"  # in every name of the other organisation's data; must never show up


def _org_models(module: Any) -> list[Any]:
    return [
        model
        for model in vars(module).values()
        if isinstance(model, type) and issubclass(model, OrgScopedModel) and not model._meta.abstract
    ]


SALES_MODELS = _org_models(sales)
TOUCHPOINTS_MODELS = _org_models(tp)
MESSAGING_MODELS = _org_models(messaging)


def _state_of(org: Organization) -> str:
    """Everything the organisation owns, with change stamps, to prove nothing changed."""
    rows: dict[str, Any] = {}
    for model in (
        Contact,
        Company,
        Note,
        Tag,
        SavedView,
        Team,
        ApiToken,
        Invitation,
        ContactEmail,
        Event,
        AuditEntry,
        *SALES_MODELS,
        *TOUCHPOINTS_MODELS,
        *MESSAGING_MODELS,
    ):
        rows[model.__name__] = sorted(
            (obj["id"], str(obj.get("updated_at")), str(obj.get("revoked_at", "")))
            for obj in model.dangerously_unscoped.filter(organization=org).values()
        )
    rows["members"] = sorted(Membership.objects.filter(organization=org).values_list("id", "role"))
    rows["tags_of_contacts"] = sorted(
        Contact.tags.through.objects.filter(contact__organization=org).values_list("contact_id", "tag_id")
    )
    return json.dumps(rows, default=str)


def _request(client: Client, method: str, url: str) -> int:
    """A request with a body that would be valid for the route, so that only existence decides."""
    if "/notes" in url:
        body = json.dumps({"body": "x"})
    elif "/consents" in url:
        body = json.dumps({"subscription_type": "newsletter", "granted": False})
    else:
        body = json.dumps({})
    kwargs: dict[str, Any] = {}
    if method in ("post", "patch", "put"):
        if url.startswith("/api/"):
            kwargs = {"data": body, "content_type": "application/json"}
        else:
            kwargs = {
                "data": {
                    "name": "x",
                    "first_name": "x",
                    "body": "x",
                    "role": "admin",
                    "action": "delete",
                    "ids": ["1"],
                    "confirm": "1",
                    "subscription_type": "newsletter",
                }
            }
    response = getattr(client, method)(url, **kwargs)
    return response.status_code


@pytest.mark.django_db
def test_every_route_is_covered_by_the_tenancy_walker():
    unknown = []
    for name, route, kwargs in all_routes():
        if name in PUBLIC_ROUTES:
            continue
        if not (route.startswith(("/o/", "/api/"))):
            unknown.append(name or route)
            continue
        for kwarg in kwargs:
            if kwarg != "org_slug":
                object_kind(name, kwarg)  # raises for an unmapped id
    assert unknown == [], f"routes outside /o/ and /api/ must be listed in PUBLIC_ROUTES: {unknown}"


@pytest.mark.django_db
def test_other_organisations_ids_answer_404_everywhere_and_change_nothing(actor, other_actor):
    other = one_of_every_kind(other_actor, MARKER)
    before = _state_of(other_actor.organization)
    page_client = login_client(actor)
    api_client = api_client_for(actor)
    checked = 0
    for name, route, kwargs in all_routes():
        object_kwargs = [k for k in kwargs if k != "org_slug"]
        if name in PUBLIC_ROUTES or not object_kwargs:
            continue
        values = {k: other[object_kind(name, k)] for k in object_kwargs}
        values["org_slug"] = actor.organization.slug  # my organisation, their record
        url = fill(route, values)
        client = api_client if url.startswith("/api/") else page_client
        statuses = {m: _request(client, m, url) for m in ("get", "post", "patch", "put", "delete")}
        assert set(statuses.values()) <= {404, 405}, f"{name} {url}: {statuses}"
        assert 404 in statuses.values(), f"{name} {url}: {statuses}"
        missing_url = fill(route, {**dict.fromkeys(object_kwargs, 987654321), "org_slug": actor.organization.slug})
        missing = {m: _request(client, m, missing_url) for m in ("get", "post", "patch", "put", "delete")}
        assert statuses == missing, f"{name}: another organisation's id must answer exactly like a missing one"
        checked += 1
    assert checked >= 30
    assert _state_of(other_actor.organization) == before


@pytest.mark.django_db
def test_another_organisations_slug_answers_404_on_every_page(actor, other_actor):
    other = one_of_every_kind(other_actor, MARKER)
    before = _state_of(other_actor.organization)
    client = login_client(actor)
    checked = 0
    for name, route, kwargs in all_routes():
        if not route.startswith("/o/"):
            continue
        values = {k: other[object_kind(name, k)] for k in kwargs if k != "org_slug"}
        values["org_slug"] = other["org_slug"]
        url = fill(route, values)
        for method in ("get", "post"):
            status = _request(client, method, url)
            assert status == 404, f"{name} {method.upper()} {url}: {status}"
        checked += 1
    assert checked >= 20
    assert _state_of(other_actor.organization) == before


@pytest.mark.django_db
def test_no_list_or_search_shows_another_organisations_data(actor, other_actor):
    one_of_every_kind(other_actor, MARKER)
    with scope(organization=actor.organization):
        contact_create(actor=actor, data={"first_name": "Propio", "last_name": "Uno"})
    page_client = login_client(actor)
    api_client = api_client_for(actor)
    checked = 0
    for name, route, kwargs in all_routes():
        if name in PUBLIC_ROUTES or [k for k in kwargs if k != "org_slug"]:
            continue
        url = fill(route, {"org_slug": actor.organization.slug})
        client = api_client if url.startswith("/api/") else page_client
        for query in ("", "?q=forast", "?q=uno", "?q=teammate"):  # parts of the marked names
            response = client.get(url + query)
            assert response.status_code in (200, 302, 405), f"{name} {url}{query}: {response.status_code}"
            assert MARKER.lower() not in response.content.decode().lower(), (
                f"{name} {url}{query} shows another organisation's data"
            )
        checked += 1
    assert checked >= 10


@pytest.mark.django_db
def test_a_token_only_reaches_its_own_organisation(actor, other_actor):
    other = one_of_every_kind(other_actor, MARKER)
    with scope(organization=actor.organization):
        mine = contact_create(actor=actor, data={"first_name": "Propio"})
    client = api_client_for(actor)
    assert client.get(f"/api/v1/contacts/{mine.pk}").status_code == 200
    assert client.get(f"/api/v1/contacts/{other['contact']}").status_code == 404
    # a header naming another organisation does not switch a token's organisation
    response = client.get(f"/api/v1/contacts/{other['contact']}", headers={"X-Organization": other["org_slug"]})
    assert response.status_code == 404
