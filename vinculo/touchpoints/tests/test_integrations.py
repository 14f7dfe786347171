"""Integration settings pages and API: create (the secret shown once, stored encrypted), edit,
rotate, delete; deliveries listed; only owners and admins; bad input refused with 422; list query
counts do not grow with the rows."""

from __future__ import annotations

import pytest
from django_scopes import scope

from vinculo.accounts.testing import login_client
from vinculo.core.testing import count_queries
from vinculo.touchpoints import crypto
from vinculo.touchpoints.adapters import facebook
from vinculo.touchpoints.models import Integration, WebhookDelivery
from vinculo.touchpoints.services.integrations import integration_secret
from vinculo.touchpoints.testing.webhooks import SECRET, make_integration, post, raw

pytestmark = pytest.mark.django_db


def _base(actor):
    return f"/o/{actor.organization.slug}/settings/integrations"


def test_creating_shows_the_address_and_the_generated_secret_once(actor, client_in):
    response = client_in.post(
        f"{_base(actor)}/new/", {"kind": "woocommerce", "name": "Tienda", "secret": "", "is_active": "on"}
    )
    integration = Integration.dangerously_unscoped.get(organization=actor.organization)
    secret = integration_secret(integration)
    assert response.status_code == 302
    assert response["Location"] == f"{_base(actor)}/{integration.pk}/"
    assert secret not in str(dict(client_in.session))  # the session holds it encrypted, once
    page = client_in.get(response["Location"]).content.decode()
    assert secret.startswith("whsec_")
    assert secret in page
    assert f"http://testserver/hooks/{integration.token}/" in page
    assert secret not in integration.secret_encrypted
    assert crypto.decrypt(integration.secret_encrypted) == secret
    again = client_in.get(f"{_base(actor)}/{integration.pk}/").content.decode()
    assert secret not in again
    assert f"/hooks/{integration.token}/" in again


def test_a_typed_secret_is_kept_and_a_facebook_page_shows_its_verify_token(actor, client_in):
    client_in.post(
        f"{_base(actor)}/new/", {"kind": "facebook_leads", "name": "FB", "secret": SECRET, "is_active": "on"}
    )
    integration = Integration.dangerously_unscoped.get(organization=actor.organization)
    assert integration_secret(integration) == SECRET
    page = client_in.get(f"{_base(actor)}/{integration.pk}/").content.decode()
    assert facebook.verify_token(SECRET) in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"kind": "myshop", "name": "X"},
            "kind",
            "Choose one of orders, shopify, woocommerce, facebook_leads, linkedin_leads.",
        ),
        ({"kind": "shopify", "name": ""}, "name", "This field is required."),
        ({"kind": "shopify", "name": "X", "secret": "short"}, "secret", "Between 16 and 200 characters."),
        (
            {"kind": "facebook_leads", "name": "X", "field_mapping": "city = town"},
            "field_mapping",
            "“city”: map it to one of",
        ),
        (
            {"kind": "facebook_leads", "name": "X", "field_mapping": "my city = city"},
            "field_mapping",
            "“my city” is not a field name.",
        ),
    ],
)
def test_bad_input_re_renders_the_form_with_422_and_saves_nothing(actor, client_in, data, field, message):
    response = client_in.post(f"{_base(actor)}/new/", data)
    assert response.status_code == 422
    assert message in response.content.decode().replace("&#x27;", "'")
    assert 'value="X"' in response.content.decode() or data["name"] == ""
    assert not Integration.dangerously_unscoped.filter(organization=actor.organization).exists()


def test_editing_keeps_the_secret_unless_a_new_one_is_typed(actor, client_in):
    integration = make_integration(actor, "facebook_leads")
    response = client_in.post(
        f"{_base(actor)}/{integration.pk}/edit/",
        {
            "name": "FB ads",
            "default_campaign": "Always on",
            "field_mapping": "budget = custom.budget\nzip_code =",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert (integration.name, integration.default_campaign, integration.field_mapping) == (
        "FB ads",
        "Always on",
        {"budget": "custom.budget", "zip_code": ""},
    )
    assert integration_secret(integration) == SECRET
    client_in.post(f"{_base(actor)}/{integration.pk}/edit/", {"name": "FB ads", "secret": "b" * 20})
    integration.refresh_from_db()
    assert integration_secret(integration) == "b" * 20
    assert integration.is_active is False


def test_rotating_shows_a_new_secret_and_the_old_signature_stops_working(actor, client_in):
    integration = make_integration(actor, "shopify")
    response = client_in.post(f"{_base(actor)}/{integration.pk}/rotate-secret/", follow=True)
    integration.refresh_from_db()
    new = integration_secret(integration)
    assert response.redirect_chain == [(f"{_base(actor)}/{integration.pk}/", 302)]
    assert new != SECRET
    assert new in response.content.decode()
    assert new not in client_in.get(f"{_base(actor)}/{integration.pk}/").content.decode()
    assert post(integration, raw("shopify_orders_create.json")).status_code == 401
    assert post(integration, raw("shopify_orders_create.json"), secret=new).status_code == 202


def test_deleting_removes_the_integration_and_its_deliveries(actor, client_in):
    integration = make_integration(actor, "shopify")
    post(integration, raw("shopify_orders_create.json"))
    assert client_in.get(f"{_base(actor)}/{integration.pk}/delete/").status_code == 200
    assert client_in.post(f"{_base(actor)}/{integration.pk}/delete/").status_code == 302
    assert not Integration.dangerously_unscoped.filter(pk=integration.pk).exists()
    assert not WebhookDelivery.dangerously_unscoped.filter(organization=actor.organization).exists()


@pytest.mark.parametrize("role", ["manager", "sales", "marketing", "read_only"])
def test_only_owners_and_admins_manage_integrations(actor, member, role):
    integration = make_integration(actor, "shopify")
    someone = member(role=role)
    client = login_client(someone)
    assert client.get(f"{_base(actor)}/").status_code == 403
    assert client.get(f"{_base(actor)}/{integration.pk}/").status_code == 403
    assert client.post(f"{_base(actor)}/{integration.pk}/rotate-secret/").status_code == 403
    assert client.post(f"{_base(actor)}/new/", {"kind": "shopify", "name": "X"}).status_code == 403
    api = login_client(someone)  # the API takes the session too
    assert api.get("/api/v1/integrations").status_code == 403
    assert api.get(f"/api/v1/integrations/{integration.pk}").status_code == 403
    assert (
        api.post("/api/v1/integrations", {"kind": "shopify", "name": "X"}, content_type="application/json").status_code
        == 403
    )
    assert Integration.dangerously_unscoped.filter(organization=actor.organization).count() == 1
    assert integration_secret(Integration.dangerously_unscoped.get(pk=integration.pk)) == SECRET


def test_an_admin_may(actor, member):
    admin = login_client(member(role="admin"))
    assert admin.get(f"{_base(actor)}/").status_code == 200


def test_the_list_and_the_deliveries_cost_the_same_queries_whatever_their_number(actor, client_in, api_client):
    first = make_integration(actor, "shopify", name="A")
    post(first, raw("shopify_orders_create.json"))

    def count(url: str) -> int:
        client = api_client if url.startswith("/api/") else client_in
        client.get(url)  # the first request of a session may write it; measure the next one
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    urls = [
        f"{_base(actor)}/",
        f"{_base(actor)}/{first.pk}/",
        "/api/v1/integrations",
        f"/api/v1/integrations/{first.pk}/deliveries",
    ]
    before = [count(url) for url in urls]
    for n in range(5):
        other = make_integration(actor, "woocommerce", name=f"B{n}")
        post(other, b"{}", headers={})
        post(first, raw("shopify_orders_create.json"))
        with scope(organization=actor.organization):
            WebhookDelivery.objects.create(organization=actor.organization, integration=other, body={}, status="failed")
    assert [count(url) for url in urls] == before


def test_the_api_manages_integrations(actor, api_client):
    response = api_client.post(
        "/api/v1/integrations",
        {"kind": "linkedin_leads", "name": "LinkedIn", "field_mapping": {"team_size": "custom.team_size"}},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    integration = Integration.dangerously_unscoped.get(pk=body["id"])
    assert body["secret"] == integration_secret(integration)
    assert body["webhook_url"] == f"http://testserver/hooks/{integration.token}/"
    assert (body["kind"], body["name"], body["field_mapping"], body["is_active"]) == (
        "linkedin_leads",
        "LinkedIn",
        {"team_size": "custom.team_size"},
        True,
    )
    got = api_client.get(f"/api/v1/integrations/{integration.pk}").json()
    assert "secret" not in got
    patched = api_client.patch(
        f"/api/v1/integrations/{integration.pk}", {"default_campaign": "Q4"}, content_type="application/json"
    )
    assert patched.json()["default_campaign"] == "Q4"
    bad = api_client.patch(
        f"/api/v1/integrations/{integration.pk}", {"field_mapping": {"a": "nowhere"}}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "field_mapping"
    rotated = api_client.post(f"/api/v1/integrations/{integration.pk}/rotate-secret").json()["secret"]
    integration.refresh_from_db()
    assert rotated == integration_secret(integration)
    listed = api_client.get("/api/v1/integrations").json()
    assert [item["id"] for item in listed["items"]] == [integration.pk]
    assert api_client.delete(f"/api/v1/integrations/{integration.pk}").status_code == 204
    assert not Integration.dangerously_unscoped.filter(pk=integration.pk).exists()


def test_the_api_lists_deliveries_and_shows_one_with_its_body(actor, api_client, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "shopify")
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, raw("shopify_orders_create.json"))
    post(integration, b"[]")
    page = api_client.get(f"/api/v1/integrations/{integration.pk}/deliveries?status=processed").json()
    assert [(d["topic"], d["external_id"], d["status"]) for d in page["items"]] == [
        ("orders/create", "820982911946154508", "processed")
    ]
    delivery = api_client.get(f"/api/v1/webhook-deliveries/{page['items'][0]['id']}").json()
    assert delivery["body"]["name"] == "#1001"
    bad = api_client.get(f"/api/v1/integrations/{integration.pk}/deliveries?status=lost")
    assert bad.status_code == 422


def test_the_delivery_page_links_the_order(actor, client_in, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "shopify")
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, raw("shopify_orders_create.json"))
    delivery = WebhookDelivery.dangerously_unscoped.get(organization=actor.organization)
    page = client_in.get(f"/o/{actor.organization.slug}/settings/webhook-deliveries/{delivery.pk}/").content.decode()
    assert "205.45" in page
    assert "ana.garcia@example.com" in page or "Ana García" in page
    assert 'id="retry"' not in page


def test_another_organisations_integration_is_404(actor, other_actor, client_in, api_client):
    theirs = make_integration(other_actor, "shopify")
    assert client_in.get(f"{_base(actor)}/{theirs.pk}/").status_code == 404
    assert client_in.post(f"{_base(actor)}/{theirs.pk}/rotate-secret/").status_code == 404
    assert api_client.get(f"/api/v1/integrations/{theirs.pk}").status_code == 404
    assert integration_secret(Integration.dangerously_unscoped.get(pk=theirs.pk)) == SECRET
