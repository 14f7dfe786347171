"""Tracking sites: services, settings pages, API CRUD, and the public tracker script route."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import api_client_for, login_client
from vinculo.core.models import AuditEntry
from vinculo.core.testing import assert_same_queries
from vinculo.touchpoints.models import TrackingSite
from vinculo.touchpoints.services import sites as services
from vinculo.touchpoints.testing.tracking import make_site, page, post_batch

pytestmark = pytest.mark.django_db

VALID = {"name": "Shop", "allowed_origins": ["https://www.shop.example/", "http://localhost:8080"]}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


# --- services ----------------------------------------------------------------------------------------


def test_create_normalises_origins_and_audits(actor, org):
    with scope(organization=org):
        site = services.tracking_site_create(actor=actor, data=VALID)

    assert site.allowed_origins == ["https://www.shop.example", "http://localhost:8080"]
    assert site.public_key.startswith("pk_")
    assert (site.consent_mode, site.honor_dnt, site.create_leads, site.session_timeout_minutes) == (
        "opt_in",
        True,
        True,
        30,
    )
    assert AuditEntry.dangerously_unscoped.filter(object_type="touchpoints.trackingsite", action="create").count() == 1


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {},
            {"name": ["This field is required."], "allowed_origins": ["Give at least one origin the tracker runs on."]},
        ),
        ({**VALID, "name": " "}, {"name": ["This field is required."]}),
        ({**VALID, "name": "x" * 101}, {"name": ["At most 100 characters."]}),
        ({**VALID, "allowed_origins": []}, {"allowed_origins": ["Give at least one origin the tracker runs on."]}),
        (
            {**VALID, "allowed_origins": ["www.shop.example"]},
            {
                "allowed_origins": [
                    "“www.shop.example” is not an origin: write the scheme and host, e.g. https://www.example.com."
                ]
            },
        ),
        (
            {**VALID, "allowed_origins": ["https://shop.example/path"]},
            {
                "allowed_origins": [
                    "“https://shop.example/path” is not an origin: write the scheme and host, e.g. https://www.example.com."
                ]
            },
        ),
        (
            {**VALID, "allowed_origins": "nope"},
            {"allowed_origins": ["“nope” is not an origin: write the scheme and host, e.g. https://www.example.com."]},
        ),
        ({**VALID, "allowed_origins": 5}, {"allowed_origins": ["Give a list of origins."]}),
        ({**VALID, "consent_mode": "always"}, {"consent_mode": ["Choose one of: opt_in, cookieless, implied."]}),
        (
            {**VALID, "session_timeout_minutes": 2},
            {"session_timeout_minutes": ["Enter a number of minutes between 5 and 240."]},
        ),
        ({**VALID, "session_timeout_minutes": "x"}, {"session_timeout_minutes": ["Enter a whole number."]}),
        ({**VALID, "honor_dnt": "maybe"}, {"honor_dnt": ["Enter true or false."]}),
        ({**VALID, "colour": "red"}, {"colour": ["Unknown field."]}),
    ],
)
def test_create_refuses_bad_input_and_changes_nothing(actor, org, data, errors):
    with scope(organization=org), pytest.raises(ValidationError) as caught:
        services.tracking_site_create(actor=actor, data=data)

    assert caught.value.message_dict == errors
    assert TrackingSite.dangerously_unscoped.count() == 0


def test_only_admins_manage_sites(member, org):
    sales = member(Role.SALES)
    with scope(organization=org), pytest.raises(PermissionDenied):
        services.tracking_site_create(actor=sales, data=VALID)


def test_update_rotate_and_delete_forget_the_cached_key(actor, org):
    with scope(organization=org):
        site = services.tracking_site_create(actor=actor, data=VALID)
    old_key = site.public_key
    assert post_batch(site, [page()], origin=None).status_code == 202  # the key is now cached

    with scope(organization=org):
        services.tracking_site_update(actor=actor, site=site, data={"is_active": False})
    assert post_batch(old_key, [page()], origin=None).status_code == 401

    with scope(organization=org):
        services.tracking_site_update(actor=actor, site=site, data={"is_active": True})
        rotated = services.tracking_site_rotate_key(actor=actor, site=site)
    assert rotated.public_key != old_key
    assert post_batch(old_key, [page()], origin=None).status_code == 401
    assert post_batch(rotated.public_key, [page()], origin=None).status_code == 202

    with scope(organization=org):
        services.tracking_site_delete(actor=actor, site=rotated)
    assert post_batch(rotated.public_key, [page()], origin=None).status_code == 401


# --- pages ------------------------------------------------------------------------------------------


def test_the_list_shows_each_sites_install_snippet_with_only_its_key(client_in, org):
    """The consent mode and Do-Not-Track choice are not in the snippet: it reads them from the server."""
    site = make_site(org, consent_mode="cookieless", honor_dnt=False)

    response = client_in.get(reverse("touchpoints:tracking_site_list", args=[org.slug]))

    assert response.status_code == 200
    snippet = f'<script async src="http://testserver/t/vinculo.js" data-key="{site.public_key}"></script>'
    assert snippet in response.content.decode().replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')


def test_the_list_page_query_count_does_not_grow(client_in, org):
    url = reverse("touchpoints:tracking_site_list", args=[org.slug])
    make_site(org)

    response = assert_same_queries(
        lambda: client_in.get(url), lambda: [make_site(org, name=f"Site {n}") for n in range(5)]
    )

    assert response.status_code == 200


def test_create_page_creates_and_shows_the_snippet(client_in, org):
    url = reverse("touchpoints:tracking_site_create", args=[org.slug])

    response = client_in.post(
        url,
        {
            "name": "Shop",
            "allowed_origins": "https://shop.example\nhttps://www.shop.example/",
            "consent_mode": "opt_in",
            "honor_dnt": "on",
            "session_timeout_minutes": "45",
            "is_active": "on",
        },
    )

    site = TrackingSite.dangerously_unscoped.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("touchpoints:tracking_site_edit", args=[org.slug, site.pk])
    assert (site.allowed_origins, site.create_leads, site.session_timeout_minutes) == (
        ["https://shop.example", "https://www.shop.example"],
        False,
        45,
    )
    assert site.public_key in client_in.get(response["Location"]).content.decode()


def test_create_page_shows_errors_and_keeps_input(client_in, org):
    url = reverse("touchpoints:tracking_site_create", args=[org.slug])

    response = client_in.post(url, {"name": "Shop", "allowed_origins": "shop.example", "consent_mode": "opt_in"})

    assert response.status_code == 422
    body = response.content.decode()
    assert "is not an origin: write the scheme and host" in body
    assert 'value="Shop"' in body
    assert TrackingSite.dangerously_unscoped.count() == 0


def test_edit_and_delete_pages(client_in, org):
    site = make_site(org)
    edit = reverse("touchpoints:tracking_site_edit", args=[org.slug, site.pk])

    assert client_in.get(edit).status_code == 200
    response = client_in.post(
        edit,
        {"name": "Renamed", "allowed_origins": "https://shop.example", "consent_mode": "cookieless", "is_active": "on"},
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.name, site.consent_mode, site.honor_dnt) == ("Renamed", "cookieless", False)

    delete = reverse("touchpoints:tracking_site_delete", args=[org.slug, site.pk])
    assert client_in.get(delete).status_code == 200
    assert client_in.post(delete).status_code == 302
    assert TrackingSite.dangerously_unscoped.count() == 0


def test_a_sales_member_cannot_edit_sites(member, org):
    site = make_site(org)
    client = login_client(member(Role.SALES))

    assert client.get(reverse("touchpoints:tracking_site_edit", args=[org.slug, site.pk])).status_code == 403
    assert client.post(reverse("touchpoints:tracking_site_delete", args=[org.slug, site.pk])).status_code == 403
    assert TrackingSite.dangerously_unscoped.count() == 1


# --- API ----------------------------------------------------------------------------------------------


def test_api_crud(api_client, org):
    created = api_client.post("/api/v1/tracking-sites", data=json.dumps(VALID), content_type="application/json")
    assert created.status_code == 201
    site_id = created.json()["id"]
    assert created.json()["allowed_origins"] == ["https://www.shop.example", "http://localhost:8080"]

    listed = api_client.get("/api/v1/tracking-sites")
    assert [s["id"] for s in listed.json()["items"]] == [site_id]

    patched = api_client.patch(
        f"/api/v1/tracking-sites/{site_id}",
        data=json.dumps({"consent_mode": "cookieless"}),
        content_type="application/json",
    )
    assert (patched.status_code, patched.json()["consent_mode"]) == (200, "cookieless")
    assert api_client.get(f"/api/v1/tracking-sites/{site_id}").json()["name"] == "Shop"

    assert api_client.delete(f"/api/v1/tracking-sites/{site_id}").status_code == 204
    assert TrackingSite.dangerously_unscoped.count() == 0


def test_api_bad_input_is_422_with_field_errors(api_client):
    response = api_client.post(
        "/api/v1/tracking-sites",
        data=json.dumps({"name": "Shop", "allowed_origins": ["shop.example"]}),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "allowed_origins",
            "message": "“shop.example” is not an origin: write the scheme and host, e.g. https://www.example.com.",
        }
    ]
    null = api_client.patch(
        "/api/v1/tracking-sites/1", data=json.dumps({"name": None}), content_type="application/json"
    )
    assert null.status_code == 404


def test_api_patch_refuses_null(api_client, org):
    site = make_site(org)

    response = api_client.patch(
        f"/api/v1/tracking-sites/{site.pk}", data=json.dumps({"name": None}), content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "name", "message": "This field cannot be null."}]


def test_api_sites_of_another_organisation_are_404(other_actor, org):
    theirs = make_site(other_actor.organization)
    mine = api_client_for(other_actor)  # sanity: the owner sees it
    assert mine.get(f"/api/v1/tracking-sites/{theirs.pk}").status_code == 200

    from vinculo.accounts.testing import make_member

    stranger = api_client_for(make_member(org, Role.OWNER))
    assert stranger.get(f"/api/v1/tracking-sites/{theirs.pk}").status_code == 404


# --- the public script -----------------------------------------------------------------------------------


def test_the_tracker_script_is_public_cached_and_cors_open(db):
    response = Client().get("/t/vinculo.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=86400, stale-while-revalidate=604800"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert b"vinculo_aid" in response.content
    again = Client().get("/t/vinculo.js", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_the_rotate_key_button_gives_a_new_key(client_in, org):
    site = make_site(org)
    old_key = site.public_key

    response = client_in.post(reverse("touchpoints:tracking_site_rotate_key", args=[org.slug, site.pk]))

    assert response.status_code == 302
    site.refresh_from_db()
    assert site.public_key != old_key
    assert site.public_key.startswith("pk_")
    assert client_in.get(reverse("touchpoints:tracking_site_rotate_key", args=[org.slug, site.pk])).status_code == 405
