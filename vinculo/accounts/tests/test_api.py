"""The accounts API (/api/v1/me, /api/v1/members) and what every API request shares: authentication
by token or session, the error shape for unknown paths and methods, the OpenAPI document and docs."""

from __future__ import annotations

import re

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django_scopes import scope

from vinculo.accounts.models import ApiToken, Membership, Organization, Role, User
from vinculo.accounts.services import api_token_revoke
from vinculo.accounts.testing import PASSWORD, api_client_for, login_client, make_member
from vinculo.core.models import AuditEntry
from vinculo.core.testing import count_queries
from vinculo.core.testing.fuzz import fuzz_api

API = "/api/v1"


def me_of(membership: Membership, token: dict[str, str] | None) -> dict[str, object]:
    user, org = membership.user, membership.organization
    return {
        "user": {
            "id": user.pk,
            "name": user.full_name,
            "email": user.email,
            "language": user.language,
            "time_zone": user.time_zone,
        },
        "organization": {
            "id": org.pk,
            "name": org.name,
            "slug": org.slug,
            "base_currency": "EUR",
            "language": "en",
            "time_zone": "UTC",
            "country": "",
        },
        "role": membership.role,
        "can_write": membership.role != Role.READ_ONLY and (token is None or token["scope"] == "read_write"),
        "can_manage_organization": membership.role in (Role.OWNER, Role.ADMIN),
        "token": token,
    }


# --- /me ------------------------------------------------------------------------------------------------


def test_me_with_a_token_shows_the_user_organisation_role_and_token(api_client, actor):
    token = ApiToken.dangerously_unscoped.get()

    response = api_client.get(f"{API}/me")

    assert response.status_code == 200
    assert response.json() == me_of(actor, {"name": "tests", "prefix": token.prefix, "scope": "read_write"})


def test_me_with_a_read_only_token_cannot_write(actor):
    client = api_client_for(actor, "read")

    body = client.get(f"{API}/me").json()

    assert (body["can_write"], body["token"]["scope"]) == (False, "read")


# --- /organization --------------------------------------------------------------------------------------


def organization_of(org) -> dict[str, object]:
    org.refresh_from_db()
    return {
        "id": org.pk,
        "name": org.name,
        "slug": org.slug,
        "base_currency": org.base_currency,
        "language": org.language,
        "time_zone": org.time_zone,
        "country": str(org.country),
    }


def test_the_organisation_settings_are_read_and_changed_field_by_field(api_client, actor, org):
    assert api_client.get(f"{API}/organization").json() == organization_of(org)

    response = api_client.patch(f"{API}/organization", {"country": "es"}, content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {
        "id": org.pk,
        "name": org.name,
        "slug": org.slug,
        "base_currency": "EUR",
        "language": "en",
        "time_zone": "UTC",
        "country": "ES",
    }
    assert response.json() == organization_of(org)
    entry = AuditEntry.dangerously_unscoped.get(organization=org, object_type="accounts.organization", action="update")
    assert (entry.actor, entry.changes) == (actor.user, {"country": ["", "ES"]})

    changed = api_client.patch(
        f"{API}/organization",
        {"time_zone": "Europe/London", "country": "", "name": None},
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert (changed.json()["time_zone"], changed.json()["country"], changed.json()["name"]) == (
        "Europe/London",
        "",
        org.name,
    )


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"country": "XX"}, "country", "Use a two-letter ISO 3166 country code such as ES, or leave it empty."),
        (
            {"name": "Renamed", "country": "ZZ"},
            "country",
            "Use a two-letter ISO 3166 country code such as ES, or leave it empty.",
        ),
        ({"country": "ESP"}, "country", "At most 2 characters."),
        ({"country": 34}, "country", "Enter text."),
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "Unknown time zone."),
        ({"region": "ES"}, "region", "Unknown field."),
    ],
)
def test_a_bad_organisation_setting_is_a_field_error_and_nothing_changes(api_client, org, payload, field, message):
    before = organization_of(org)

    response = api_client.patch(f"{API}/organization", payload, content_type="application/json")

    assert response.status_code == 422
    assert response.json() == {"detail": "Some fields are not valid.", "errors": [{"field": field, "message": message}]}
    assert organization_of(org) == before
    assert not AuditEntry.dangerously_unscoped.filter(organization=org, action="update").exists()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SALES, Role.READ_ONLY])
def test_only_owners_and_admins_change_the_organisation(org, member, role):
    client = login_client(member(role))  # only owners and admins may issue tokens: a session
    before = organization_of(org)

    response = client.patch(f"{API}/organization", {"country": "ES"}, content_type="application/json")

    assert response.status_code == 403
    assert organization_of(org) == before
    assert client.get(f"{API}/organization").json() == before


def test_an_admin_changes_the_organisation_but_not_with_a_read_only_token(org, member):
    admin = member(Role.ADMIN)

    refused = api_client_for(admin, "read").patch(
        f"{API}/organization", {"country": "ES"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert str(Organization.objects.get(pk=org.pk).country) == ""

    allowed = api_client_for(admin).patch(f"{API}/organization", {"country": "ES"}, content_type="application/json")
    assert (allowed.status_code, allowed.json()["country"]) == (200, "ES")


def test_a_session_uses_the_chosen_or_the_last_opened_organisation(member):
    manager = member(Role.MANAGER)
    elsewhere = make_member(role=Role.READ_ONLY).organization
    Membership.objects.create(user=manager.user, organization=elsewhere, role=Role.SALES)
    client = login_client(manager)

    for org, role in ((manager.organization, "manager"), (elsewhere, "sales"), (manager.organization, "manager")):
        chosen = client.get(f"{API}/me", headers={"X-Organization": org.slug}).json()
        assert (chosen["organization"]["id"], chosen["role"], chosen["token"]) == (org.pk, role, None)
        session = client.session
        session["vinculo_active_org"] = org.slug  # what opening a page of that organisation stores
        session.save()
        assert client.get(f"{API}/me").json()["organization"]["id"] == org.pk


def test_me_as_read_only_member(member):
    read_only = member(Role.READ_ONLY)

    response = login_client(read_only).get(f"{API}/me")

    assert response.json() == me_of(read_only, None)


# --- /members -------------------------------------------------------------------------------------------


def test_members_lists_the_organisations_members_by_name(api_client, actor, member, other_actor):
    ana = member(Role.SALES, full_name="Ana Alonso", email="ana@example.com")
    zoe = member(Role.READ_ONLY, full_name="Zoe Zapata", email="zoe@example.com")

    response = api_client.get(f"{API}/members")

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": m.pk,
                "user": {"id": m.user_id, "name": m.user.full_name, "email": m.user.email},
                "role": m.role,
                "teams": [],
                "joined_at": DjangoJSONEncoder().default(m.created_at),
            }
            for m in (ana, actor, zoe)  # "User N" sorts between Ana and Zoe
        ],
        "page": 1,
        "per_page": 50,
        "total": 3,
        "total_capped": False,
        "next": None,
    }


def test_members_pages(api_client, member):
    for i in range(4):
        member(full_name=f"Member {i}")

    first = api_client.get(f"{API}/members?per_page=2").json()

    assert (len(first["items"]), first["total"], first["next"]) == (
        2,
        5,
        "http://testserver/api/v1/members?per_page=2&page=2",
    )
    assert api_client.get(f"{API}/members?per_page=0").json() == {
        "detail": "Some fields are not valid.",
        "errors": [{"field": "per_page", "message": "Must be at least 1."}],
    }


def test_members_list_uses_the_same_queries_for_5_and_50_members(api_client, actor, member):
    def queries() -> int:
        assert api_client.get(f"{API}/members?per_page=4").status_code == 200
        with count_queries() as captured:
            assert api_client.get(f"{API}/members?per_page=4").status_code == 200
        return len(captured.captured_queries)

    for _ in range(4):
        member()
    small = queries()
    for _ in range(45):
        member()

    assert queries() == small
    assert small <= 6


# --- authentication -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/me", "/organization", "/members"])
def test_no_credentials_answer_401(db, path):
    response = Client().get(f"{API}{path}")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required: send a Bearer token or log in.", "errors": []}
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_answers_401(actor):
    client = api_client_for(actor)
    with scope(organization=actor.organization):
        api_token_revoke(actor=actor, token=ApiToken.dangerously_unscoped.get())

    response = client.get(f"{API}/me")

    assert (response.status_code, response.json()) == (401, {"detail": "Invalid or revoked API token.", "errors": []})


def test_a_token_stops_working_when_its_creator_leaves(actor, member):
    admin = member(Role.ADMIN)
    client = api_client_for(admin)
    admin.delete()

    assert client.get(f"{API}/me").status_code == 401


def test_a_logged_in_user_without_an_organisation_answers_401(db):
    user = User.objects.create_user(email="lonely@example.com", password=PASSWORD, full_name="Lonely")
    client = Client()
    client.force_login(user)

    assert client.get(f"{API}/me").status_code == 401


def test_a_session_cannot_pick_an_organisation_it_does_not_belong_to(actor, other_org):
    client = login_client(actor)

    response = client.get(f"{API}/members", headers={"X-Organization": other_org.slug})
    missing = client.get(f"{API}/members", headers={"X-Organization": "no-such-organisation"})

    assert (response.status_code, response.json()) == (404, {"detail": "No such organisation.", "errors": []})
    assert (missing.status_code, missing.json()) == (response.status_code, response.json())


# --- errors shared by every endpoint ----------------------------------------------------------------------


def test_an_unknown_path_answers_a_json_404(api_client):
    response = api_client.get(f"{API}/no-such-thing")

    assert (response.status_code, response.json()) == (404, {"detail": "Not found.", "errors": []})


def test_an_unsupported_method_answers_a_json_405(api_client):
    response = api_client.put(f"{API}/me", "{}", content_type="application/json")

    assert response.status_code == 405
    assert response.json() == {"detail": "Method PUT is not allowed here.", "errors": []}
    assert response["Allow"] == "GET"


# --- OpenAPI and the interactive docs ---------------------------------------------------------------------


PUBLIC_OPERATIONS = {"track_batch", "track_config"}  # the tracker: its public key in the body or query


def test_openapi_document_describes_every_operation_with_bearer_security(db):
    response = Client().get(f"{API}/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["OrgAuth"]["type"] == "http"
    assert schema["components"]["securitySchemes"]["OrgAuth"]["scheme"] == "bearer"
    operations = {
        (method.upper(), path.removeprefix(API)): op["operationId"]
        for path, item in schema["paths"].items()
        for method, op in item.items()
        # the accounts, contacts, consent, notification and core operations; the sales ones are listed in the sales tests
        if set(op.get("tags", []))
        & {
            "accounts",
            "contacts",
            "companies",
            "notes",
            "tags",
            "timeline",
            "search",
            "event-types",
            "subscription types",
            "consents",
            "web forms",
            "outgoing messages",
            "notifications",
            "saved views",
        }
    }
    assert operations == {
        ("GET", "/event-types"): "event_type_list",
        ("GET", "/me"): "me",
        ("GET", "/organization"): "organization_get",
        ("PATCH", "/organization"): "organization_update",
        ("GET", "/members"): "member_list",
        ("GET", "/contacts"): "contact_list",
        ("POST", "/contacts"): "contact_create",
        ("POST", "/contacts/upsert"): "contact_upsert",
        ("GET", "/contacts/{contact_id}"): "contact_get",
        ("PATCH", "/contacts/{contact_id}"): "contact_update",
        ("DELETE", "/contacts/{contact_id}"): "contact_delete",
        ("GET", "/contacts/{contact_id}/notes"): "contact_note_list",
        ("POST", "/contacts/{contact_id}/notes"): "contact_note_create",
        ("GET", "/contacts/{contact_id}/timeline"): "contact_timeline",
        ("GET", "/companies"): "company_list",
        ("POST", "/companies"): "company_create",
        ("GET", "/companies/{company_id}"): "company_get",
        ("PATCH", "/companies/{company_id}"): "company_update",
        ("DELETE", "/companies/{company_id}"): "company_delete",
        ("GET", "/companies/{company_id}/notes"): "company_note_list",
        ("POST", "/companies/{company_id}/notes"): "company_note_create",
        ("GET", "/companies/{company_id}/timeline"): "company_timeline",
        ("GET", "/notes/{note_id}"): "note_get",
        ("PATCH", "/notes/{note_id}"): "note_update",
        ("DELETE", "/notes/{note_id}"): "note_delete",
        ("GET", "/tags"): "tag_list",
        ("POST", "/tags"): "tag_create",
        ("GET", "/tags/{tag_id}"): "tag_get",
        ("PATCH", "/tags/{tag_id}"): "tag_update",
        ("DELETE", "/tags/{tag_id}"): "tag_delete",
        ("GET", "/search"): "search",
        ("GET", "/subscription-types"): "subscription_type_list",
        ("POST", "/subscription-types"): "subscription_type_create",
        ("GET", "/subscription-types/{subscription_type_id}"): "subscription_type_get",
        ("PATCH", "/subscription-types/{subscription_type_id}"): "subscription_type_update",
        ("DELETE", "/subscription-types/{subscription_type_id}"): "subscription_type_delete",
        ("GET", "/contacts/{contact_id}/consents"): "contact_consent_list",
        ("POST", "/contacts/{contact_id}/consents"): "contact_consent_record",
        ("GET", "/web-forms"): "web_form_list",
        ("POST", "/web-forms"): "web_form_create",
        ("GET", "/web-forms/{web_form_id}"): "web_form_get",
        ("PATCH", "/web-forms/{web_form_id}"): "web_form_update",
        ("DELETE", "/web-forms/{web_form_id}"): "web_form_delete",
        ("GET", "/web-forms/{web_form_id}/submissions"): "web_form_submission_list",
        ("POST", "/form-submissions/{form_submission_id}/not-spam"): "form_submission_not_spam",
        ("GET", "/outgoing-messages"): "outgoing_message_list",
        ("GET", "/outgoing-messages/{outgoing_message_id}"): "outgoing_message_get",
        ("POST", "/outgoing-messages/{outgoing_message_id}/retry"): "outgoing_message_retry",
        ("GET", "/notifications"): "notification_list",
        ("POST", "/notifications/read-all"): "notification_read_all",
        ("POST", "/notifications/{notification_id}/read"): "notification_read",
        ("GET", "/notifications/preferences"): "notification_preferences_get",
        ("PATCH", "/notifications/preferences"): "notification_preferences_update",
        ("GET", "/saved-views"): "saved_view_list",
        ("POST", "/saved-views"): "saved_view_create",
        ("GET", "/saved-views/{saved_view_id}"): "saved_view_get",
        ("PATCH", "/saved-views/{saved_view_id}"): "saved_view_update",
        ("DELETE", "/saved-views/{saved_view_id}"): "saved_view_delete",
    }
    for item in schema["paths"].values():
        for op in item.values():
            if op["operationId"] in PUBLIC_OPERATIONS:
                assert "security" not in op
                continue
            assert op["security"] == [{"OrgAuth": []}]
            assert "422" in op["responses"]
    contact_in = schema["components"]["schemas"]["ContactIn"]
    assert contact_in["additionalProperties"] is False
    assert contact_in["properties"]["first_name"]["maxLength"] == 100
    contact_list = schema["paths"][f"{API}/contacts"]["get"]
    assert [p["name"] for p in contact_list["parameters"]] == [
        "q",
        "owner",
        "tag",
        "country",
        "created_after",
        "created_before",
        "stage",
        "company",
        "sort",
        "page",
        "per_page",
    ]


@pytest.fixture
def plain_static_files(settings):
    """Static URLs without a collectstatic manifest, as in development."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def test_docs_page_serves_swagger_ui_from_our_own_static_files(db, plain_static_files):
    response = Client().get(f"{API}/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets == [
        "/static/ninja/swagger-ui.css",
        "/static/ninja/favicon.svg",
        "/static/ninja/favicon.png",
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui-init.js",
    ]
    assert "cdn" not in html
    assert '"url": "/api/v1/openapi.json"' in html
    assert '"validatorUrl": null' in html  # Swagger UI would otherwise call validator.swagger.io
    for asset in assets:
        served = Client().get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content)


def test_docs_page_sends_the_csrf_token_for_a_logged_in_session(actor, plain_static_files):
    html = login_client(actor).get(f"{API}/docs").content.decode()

    assert re.search(r'data-csrf-token="[A-Za-z0-9]{64}"', html)
    assert 'data-api-csrf="true"' in html


# --- OpenAPI fuzzing ---------------------------------------------------------------------------------------


@pytest.mark.fuzz
def test_fuzzing_the_accounts_api_finds_no_server_error_and_no_schema_violation(actor, member):
    member(Role.SALES)
    headers = {"Authorization": api_client_for(actor).defaults["HTTP_AUTHORIZATION"]}

    fuzz_api(headers, r"^/api/v1/(me|organization|members)$", max_examples=8, known_ids={})
