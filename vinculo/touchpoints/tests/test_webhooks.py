"""The public endpoint /hooks/<token>/: signatures per kind, the exact answers to bad requests,
durable deliveries, failures recorded and retried, the subscription handshakes, and tenancy."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create
from vinculo.core.models import AuditEntry, Event
from vinculo.sales.models import Order
from vinculo.touchpoints.adapters import facebook, hmac_sha256
from vinculo.touchpoints.models import WebhookDelivery
from vinculo.touchpoints.services import orders_in
from vinculo.touchpoints.testing.webhooks import SECRET, make_integration, payload, post, raw

pytestmark = pytest.mark.django_db

KINDS_AND_BODIES = [
    ("orders", "generic_order.json"),
    ("shopify", "shopify_orders_create.json"),
    ("woocommerce", "woocommerce_order_created.json"),
    ("facebook_leads", "facebook_leadgen.json"),
    ("linkedin_leads", "linkedin_lead_form_response.json"),
]
WRONG_SIGNATURE = {
    "orders": lambda: {"X-Vinculo-Timestamp": str(int(time.time())), "X-Vinculo-Signature": "sha256=" + "0" * 64},
    "shopify": lambda: {"X-Shopify-Hmac-Sha256": "AAAA"},
    "woocommerce": lambda: {"X-WC-Webhook-Signature": "AAAA"},
    "facebook_leads": lambda: {"X-Hub-Signature-256": "sha256=" + "0" * 64},
    "linkedin_leads": lambda: {"X-LI-Signature": "0" * 64},
}
MISSING_HEADER = {
    "orders": "Missing X-Vinculo-Signature or X-Vinculo-Timestamp header.",
    "shopify": "Missing X-Shopify-Hmac-Sha256 header.",
    "woocommerce": "Missing X-WC-Webhook-Signature header.",
    "facebook_leads": "Missing X-Hub-Signature-256 header.",
    "linkedin_leads": "Missing X-LI-Signature header.",
}


def _deliveries(org):
    return WebhookDelivery.dangerously_unscoped.filter(organization=org)


@pytest.mark.parametrize(("kind", "sample"), KINDS_AND_BODIES)
def test_a_good_signature_is_accepted_for_every_kind(actor, kind, sample, django_capture_on_commit_callbacks):
    integration = make_integration(actor, kind)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(integration, raw(sample))
    delivery = _deliveries(actor.organization).get()
    assert response.status_code == 202
    assert response.json() == {"detail": "Accepted.", "errors": [], "delivery_id": delivery.pk}
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert delivery.attempts == 1
    assert delivery.last_error == ""
    assert delivery.body == payload(sample)
    integration.refresh_from_db()
    assert integration.last_received_at is not None


@pytest.mark.parametrize(("kind", "sample"), KINDS_AND_BODIES)
def test_a_wrong_signature_is_401_and_stores_nothing(actor, kind, sample):
    integration = make_integration(actor, kind)
    response = post(integration, raw(sample), headers=WRONG_SIGNATURE[kind]())
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid signature.",
        "errors": [{"field": "signature", "message": "Invalid signature."}],
    }
    assert _deliveries(actor.organization).count() == 0


@pytest.mark.parametrize(("kind", "sample"), KINDS_AND_BODIES)
def test_a_missing_signature_is_401_with_the_header_named(actor, kind, sample):
    integration = make_integration(actor, kind)
    response = post(integration, raw(sample), headers={})
    assert response.status_code == 401
    assert response.json() == {
        "detail": MISSING_HEADER[kind],
        "errors": [{"field": "signature", "message": MISSING_HEADER[kind]}],
    }
    assert _deliveries(actor.organization).count() == 0


@pytest.mark.parametrize(("kind", "sample"), KINDS_AND_BODIES)
def test_a_signature_made_with_another_secret_is_401(actor, kind, sample):
    integration = make_integration(actor, kind)
    response = post(integration, raw(sample), secret="another-secret-of-enough-length")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid signature."


@pytest.mark.parametrize("age", [400, -400, 86400])
def test_a_generic_delivery_outside_the_five_minutes_is_refused_as_a_replay(actor, age):
    from vinculo.touchpoints.testing.webhooks import signed_headers

    integration = make_integration(actor, "orders")
    body = raw("generic_order.json")
    headers = signed_headers("orders", body, timestamp=int(time.time()) - age)
    response = post(integration, body, headers=headers)
    message = "The timestamp is more than 5 minutes away from the server's clock (replay refused)."
    assert response.status_code == 401
    assert response.json() == {"detail": message, "errors": [{"field": "signature", "message": message}]}
    assert _deliveries(actor.organization).count() == 0


def test_the_timestamp_is_inside_the_mac(actor):
    """Moving an old signature to a fresh timestamp breaks it."""
    from vinculo.touchpoints.testing.webhooks import signed_headers

    integration = make_integration(actor, "orders")
    body = raw("generic_order.json")
    old = signed_headers("orders", body, timestamp=int(time.time()) - 3600)
    old["X-Vinculo-Timestamp"] = str(int(time.time()))
    response = post(integration, body, headers=old)
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid signature."


def test_an_unknown_or_inactive_token_is_404(actor):
    integration = make_integration(actor, "shopify", is_active=False)
    body = raw("shopify_orders_create.json")
    for token in ("no-such-token", integration.token):
        response = Client().post(
            f"/hooks/{token}/", data=body, content_type="application/json", headers={"X-Shopify-Hmac-Sha256": "x"}
        )
        assert response.status_code == 404
        assert response.json() == {"detail": "Unknown webhook address.", "errors": []}
    assert _deliveries(actor.organization).count() == 0


def test_a_body_over_the_webhook_limit_is_413(actor):
    """Refused before it is read (the project's body-size middleware, by Content-Length): over
    VINCULO_WEBHOOK_MAX_BODY_BYTES, 4 MB by default."""
    integration = make_integration(actor, "orders")
    body = json.dumps({"external_id": "1", "padding": "x" * 4 * 1_048_576}).encode()
    response = post(integration, body)
    assert response.status_code == 413
    assert _deliveries(actor.organization).count() == 0


def test_a_body_over_the_limit_without_content_length_is_413_too(actor, settings):
    """The endpoint's own check, for a body whose length was not announced (chunked)."""
    from django.utils import timezone

    from vinculo.touchpoints.services.webhooks import webhook_receive

    settings.VINCULO_WEBHOOK_MAX_BODY_BYTES = 1_048_576
    integration = make_integration(actor, "orders")
    body = b"{" + b" " * 1_048_576 + b"}"
    answer = webhook_receive(token=integration.token, headers={}, body=body, ip="192.0.2.1", now=timezone.now())
    assert (answer.status, answer.body) == (
        413,
        {"detail": "The body is larger than 1048576 bytes.", "errors": []},
    )
    assert _deliveries(actor.organization).count() == 0


@pytest.mark.parametrize(
    ("body", "detail", "message"),
    [
        (b"<xml/>", "The body is not JSON.", "The body is not JSON."),
        (b"\xff\xfe", "The body is not JSON.", "The body is not JSON."),
        (b"[1, 2]", "The body must be a JSON object.", "Give an object."),
    ],
)
def test_a_signed_body_that_is_not_a_json_object_is_400(actor, body, detail, message):
    integration = make_integration(actor, "shopify")
    response = post(integration, body)
    assert response.status_code == 400
    assert response.json() == {"detail": detail, "errors": [{"field": "body", "message": message}]}
    assert _deliveries(actor.organization).count() == 0


def test_requests_over_the_rate_limit_get_429(actor, settings):
    settings.VINCULO_WEBHOOK_RATE_LIMITS = {"per_token": 3, "per_ip": 100, "window_seconds": 3600}
    from django.core.cache import cache

    cache.clear()
    integration = make_integration(actor, "shopify")
    statuses = [post(integration, b"{}", headers={}).status_code for _ in range(4)]
    response = post(integration, b"{}", headers={})
    cache.clear()
    assert statuses == [401, 401, 401, 429]
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many requests; try again later.", "errors": []}
    assert 0 < int(response["Retry-After"]) <= 3601


def test_the_address_takes_only_get_and_post(actor):
    integration = make_integration(actor, "shopify")
    assert Client().put(f"/hooks/{integration.token}/").status_code == 405
    response = Client().get(f"/hooks/{integration.token}/")
    assert response.status_code == 405
    assert response.json() == {"detail": "This address only takes POST.", "errors": []}


def test_a_handshake_with_5000_query_parameters_is_the_json_400(actor):
    integration = make_integration(actor, "facebook_leads")

    response = Client().get(f"/hooks/{integration.token}/", {f"f{i}": "x" for i in range(5000)})

    assert response.status_code == 400
    assert response.json() == {"detail": "Too many fields: at most 2000.", "errors": []}


def test_woocommerce_ping_on_saving_the_webhook_is_answered_and_not_stored(actor):
    integration = make_integration(actor, "woocommerce")
    response = Client().post(
        f"/hooks/{integration.token}/", data=b"webhook_id=15", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert response.json() == {"detail": "Webhook saved.", "errors": []}
    assert _deliveries(actor.organization).count() == 0


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            lambda body: body["customer"].pop("email"),
            [{"field": "customer.email", "message": "Enter an e-mail address."}],
        ),
        (
            lambda body: body.update(currency="EURO"),
            [{"field": "currency", "message": "Enter an ISO 4217 currency code, e.g. EUR."}],
        ),
        (
            lambda body: body["lines"][0].update(quantity=-2),
            [{"field": "lines.0.quantity", "message": "Enter a quantity greater than zero."}],
        ),
        (
            lambda body: body.update(lines=[], totals={}),
            [{"field": "lines", "message": "Add at least one line."}],
        ),
        (
            lambda body: body["lines"][1].update(unit_price=3.33333),
            [{"field": "lines.1.unit_price", "message": "At most 4 decimal places."}],
        ),
        (
            lambda body: body.update(totals={"total": "1e400"}),
            [{"field": "totals.total", "message": "Too large."}],
        ),
        (
            lambda body: body.update(external_id=""),
            [{"field": "external_id", "message": "This field is required."}],
        ),
    ],
)
def test_a_signed_but_unusable_order_is_422_and_kept_as_a_failed_delivery(actor, change, errors):
    integration = make_integration(actor, "orders")
    body = payload("generic_order.json")
    change(body)
    response = post(integration, body)
    delivery = _deliveries(actor.organization).get()
    assert response.status_code == 422
    assert response.json() == {
        "detail": "The payload was stored but cannot be used.",
        "errors": errors,
        "delivery_id": delivery.pk,
    }
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_error == "\n".join(f"{e['field']}: {e['message']}" for e in errors)
    assert delivery.body == body
    assert Order.dangerously_unscoped.filter(organization=actor.organization).count() == 0
    assert Contact.dangerously_unscoped.filter(organization=actor.organization).count() == 0


def test_a_processing_failure_is_recorded_and_the_retry_places_the_order(
    actor, client_in, monkeypatch, django_capture_on_commit_callbacks
):
    integration = make_integration(actor, "orders")

    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(orders_in, "order_ingest", broken)
    monkeypatch.setattr("vinculo.touchpoints.services.webhooks.order_ingest", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(integration, raw("generic_order.json"))
    delivery = _deliveries(actor.organization).get()
    assert response.status_code == 202
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 1
    assert delivery.last_error == "Unexpected error (RuntimeError); the details are in the server log."
    assert Order.dangerously_unscoped.filter(organization=actor.organization).count() == 0
    page = client_in.get(f"/o/{actor.organization.slug}/settings/webhook-deliveries/{delivery.pk}/")
    assert page.status_code == 200
    assert "Unexpected error (RuntimeError)" in page.content.decode()
    assert 'id="retry"' in page.content.decode()

    monkeypatch.undo()
    response = client_in.post(f"/o/{actor.organization.slug}/settings/webhook-deliveries/{delivery.pk}/retry/")
    delivery.refresh_from_db()
    assert response.status_code == 302
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert delivery.attempts == 2
    assert delivery.last_error == ""
    order = Order.dangerously_unscoped.get(organization=actor.organization)
    assert order.external_id == "orders:A-1001"
    assert order.total == Decimal("112.31")


def test_only_a_failed_delivery_can_be_retried(actor, api_client, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "orders")
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, raw("generic_order.json"))
    delivery = _deliveries(actor.organization).get()
    response = api_client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/retry")
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Some fields are not valid.",
        "errors": [{"field": "status", "message": "Only a failed delivery can be retried."}],
    }
    delivery.refresh_from_db()
    assert delivery.attempts == 1


VIAS = {
    "orders": ("webhook:orders test", "by the webhook “orders test”"),
    "shopify": ("platform_webhook:Shopify:shopify test", "by the Shopify webhook “shopify test”"),
    "woocommerce": ("platform_webhook:WooCommerce:woocommerce test", "by the WooCommerce webhook “woocommerce test”"),
    "facebook_leads": (
        "platform_webhook:Facebook Lead Ads:facebook_leads test",
        "by the Facebook Lead Ads webhook “facebook_leads test”",
    ),
    "linkedin_leads": (
        "platform_webhook:LinkedIn Lead Gen Forms:linkedin_leads test",
        "by the LinkedIn Lead Gen Forms webhook “linkedin_leads test”",
    ),
}


@pytest.mark.parametrize(("kind", "sample"), KINDS_AND_BODIES)
def test_a_delivery_is_written_by_the_system_by_way_of_its_integration(
    actor, client_in, kind, sample, django_capture_on_commit_callbacks
):
    integration = make_integration(actor, kind)
    actor.user.is_active = False  # no member is needed to act as
    actor.user.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, raw(sample))
    assert _deliveries(actor.organization).get().status == WebhookDelivery.Status.PROCESSED

    via, text = VIAS[kind]
    with scope(organization=actor.organization):
        contact = Contact.objects.get()
        entry = AuditEntry.objects.get(object_type="contacts.contact", object_id=contact.pk, action="create")
        created = Event.objects.get(type="contact.created")
    assert (entry.actor.is_system, entry.via) == (True, via)
    assert (created.actor.is_system, created.properties["via"]) == (True, via)
    assert contact.owner_id is None
    actor.user.is_active = True
    actor.user.save(update_fields=["is_active"])
    history = client_in.get(f"/o/{actor.organization.slug}/contacts/{contact.pk}/history/").content.decode()
    assert f'<span class="fw-semibold">{text}</span>' in history


def test_facebook_subscription_check(actor):
    integration = make_integration(actor, "facebook_leads")
    token = facebook.verify_token(SECRET)
    url = f"/hooks/{integration.token}/"
    ok = Client().get(url, {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"})
    assert ok.status_code == 200
    assert ok.content == b"1158201444"
    wrong = Client().get(url, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert wrong.status_code == 403
    assert wrong.json() == {"detail": "Wrong verify token.", "errors": []}
    none = Client().get(url)
    assert none.status_code == 400
    assert none.json() == {"detail": "Not a subscription check.", "errors": []}


def test_linkedin_challenge(actor):
    integration = make_integration(actor, "linkedin_leads")
    response = Client().get(f"/hooks/{integration.token}/", {"challengeCode": "890e4665-4dfe-4ab1-b689"})
    assert response.status_code == 200
    assert response.json() == {
        "challengeCode": "890e4665-4dfe-4ab1-b689",
        "challengeResponse": hmac_sha256(SECRET, b"890e4665-4dfe-4ab1-b689").hex(),
    }


def test_linkedin_signature_with_its_prefix_is_accepted(actor, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "linkedin_leads")
    body = raw("linkedin_lead_form_response.json")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(integration, body, headers={"X-LI-Signature": "hmacsha256=" + hmac_sha256(SECRET, body).hex()})
    assert response.status_code == 202


def test_a_token_of_one_organisation_never_writes_into_another(actor, other_actor, django_capture_on_commit_callbacks):
    with scope(organization=other_actor.organization):
        theirs = contact_create(actor=other_actor, data={"first_name": "Otra", "emails": ["marta.ruiz@example.com"]})
    their_events = Event.dangerously_unscoped.filter(organization=other_actor.organization).count()
    mine = make_integration(actor, "orders")
    make_integration(other_actor, "orders")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(mine, raw("generic_order.json"))
    assert response.status_code == 202
    order = Order.dangerously_unscoped.get(external_id="orders:A-1001")
    assert order.organization_id == actor.organization_id
    assert order.contact is not None
    assert order.contact.organization_id == actor.organization_id
    assert order.contact_id != theirs.pk
    assert Order.dangerously_unscoped.filter(organization=other_actor.organization).count() == 0
    assert _deliveries(other_actor.organization).count() == 0
    assert Event.dangerously_unscoped.filter(organization=other_actor.organization).count() == their_events
    theirs.refresh_from_db()
    assert (theirs.first_name, theirs.lifecycle_stage, theirs.source) == ("Otra", "lead", "manual")


def test_a_delivery_whose_task_was_lost_is_processed_by_the_sweep_and_only_once(actor):
    """Accepted but never processed (no on-commit here: the worker "was down")."""
    import datetime as dt

    from django.utils import timezone

    from vinculo.touchpoints.services.webhooks import delivery_process, process_pending_deliveries

    integration = make_integration(actor, "orders")
    assert post(integration, raw("generic_order.json")).status_code == 202
    delivery = _deliveries(actor.organization).get()
    assert delivery.status == WebhookDelivery.Status.RECEIVED
    assert process_pending_deliveries.call() == 0  # too recent: its own task may still come
    WebhookDelivery.dangerously_unscoped.filter(pk=delivery.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert process_pending_deliveries.call() == 1
    assert process_pending_deliveries.call() == 0
    delivery_process(delivery_id=delivery.pk)  # the late task arrives after all: nothing happens
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("processed", 1)
    assert Order.dangerously_unscoped.filter(organization=actor.organization).count() == 1


@pytest.mark.parametrize(("offset", "accepted"), [(0, True), (300, True), (-300, True), (301, False), (-301, False)])
def test_the_replay_window_is_five_minutes_either_way(offset, accepted):
    import datetime as dt

    from vinculo.touchpoints.adapters import generic

    now = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)
    stamp = int(now.timestamp()) - offset
    headers = {"X-Vinculo-Timestamp": str(stamp), "X-Vinculo-Signature": generic.sign(SECRET, b"{}", stamp)}
    assert (generic.verify(headers, b"{}", SECRET, now) is None) is accepted


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def _shaped(kind: str, value: object) -> dict[str, Any]:
    """Random values in the places each source's shape has them (plus the random value itself)."""
    shapes: dict[str, dict[str, Any]] = {
        "orders": {"external_id": value, "currency": value, "customer": value, "lines": [value, {"quantity": value}]},
        "shopify": {"id": value, "line_items": value, "customer": value, "billing_address": value},
        "woocommerce": {"id": value, "line_items": [value, {"subtotal": value, "quantity": value}], "billing": value},
        "facebook_leads": {"entry": [{"changes": [{"field": "leadgen", "value": value}]}, value]},
        "linkedin_leads": {"id": "1", "formResponse": value, "leadForm": value, "elements": value},
    }
    return shapes[kind]


@pytest.mark.parametrize("kind", ["orders", "shopify", "woocommerce", "facebook_leads", "linkedin_leads"])
def test_hostile_signed_payloads_get_an_answer_never_a_500(actor, kind, django_capture_on_commit_callbacks):
    """Signed (the sender holds the secret) yet malformed: a 4xx with reasons, or accepted (200 for a
    lead announced by id) and then processed to a recorded outcome; never a 500, never a delivery
    left unaccounted for."""
    integration = make_integration(actor, kind)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(value=JSON)
    def check(value):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(integration, _shaped(kind, value))
        assert response.status_code in (200, 202, 400, 422), response.content
        assert set(response.json()) >= {"detail", "errors"}
        if response.status_code != 400:
            delivery = WebhookDelivery.dangerously_unscoped.get(pk=response.json()["delivery_id"])
            assert delivery.status != WebhookDelivery.Status.RECEIVED

    check()


@pytest.mark.parametrize(
    "body", [b'{"total": NaN}', b'{"total": Infinity}', b'{"name": "a\\u0000b"}', b'{"\\u0000": 1}', b"[" * 100000]
)
def test_json_the_database_cannot_store_is_400(actor, body):
    integration = make_integration(actor, "shopify")
    response = post(integration, body)
    assert response.status_code == 400
    assert response.json()["detail"] == "The body is not JSON."
    assert _deliveries(actor.organization).count() == 0


def test_old_processed_deliveries_are_pruned_and_failed_ones_kept(actor, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    from vinculo.touchpoints.services.webhooks import prune_webhook_deliveries

    integration = make_integration(actor, "orders")
    with django_capture_on_commit_callbacks(execute=True):
        post(integration, raw("generic_order.json"))
        post(integration, raw("generic_order.json"))
    post(integration, {"external_id": "x"})  # failed (422)
    _deliveries(actor.organization).update(created_at=timezone.now() - dt.timedelta(days=91))
    assert prune_webhook_deliveries.call() == 2
    assert list(_deliveries(actor.organization).values_list("status", flat=True)) == ["failed"]
    assert Order.dangerously_unscoped.filter(organization=actor.organization).count() == 1
