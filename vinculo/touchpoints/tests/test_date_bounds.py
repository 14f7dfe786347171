"""Times sent from outside, bounded to 1900–2200: an order's `created_at` in the generic format and
from Shopify and WooCommerce (422, the delivery kept as failed, no order), the tracker's event
`timestamp` (that event rejected with its reason) and batch `sent_at` (422), and lead ads' creation
times (the lead is kept, with the time it arrived, as for an unreadable time)."""

from __future__ import annotations

import copy
import datetime as dt
from unittest import mock

import pytest
from django.core.cache import cache

from vinculo.contacts.models import Contact
from vinculo.sales.models import Order
from vinculo.touchpoints.adapters import facebook, linkedin
from vinculo.touchpoints.models import IngestBatch, WebhookDelivery
from vinculo.touchpoints.services import ingest
from vinculo.touchpoints.testing.tracking import make_site, page, post_batch
from vinculo.touchpoints.testing.webhooks import make_integration, payload, post

pytestmark = pytest.mark.django_db

RANGE = "Enter a date between 1900 and 2200."
BAD_MOMENTS = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1899-12-31T23:59:59Z", "2201-01-01T00:00:00Z"]


def _refused_and_kept_as_failed(actor, response):
    delivery = WebhookDelivery.dangerously_unscoped.get(organization=actor.organization)
    assert response.status_code == 422, response.content
    assert response.json() == {
        "detail": "The payload was stored but cannot be used.",
        "errors": [{"field": "created_at", "message": RANGE}],
        "delivery_id": delivery.pk,
    }
    assert (delivery.status, delivery.last_error) == (WebhookDelivery.Status.FAILED, f"created_at: {RANGE}")
    assert Order.dangerously_unscoped.count() == 0
    assert Contact.dangerously_unscoped.count() == 0


@pytest.mark.parametrize("moment", BAD_MOMENTS)
def test_a_generic_order_created_outside_the_range_is_422_not_a_500(actor, moment):
    body = payload("generic_order.json")
    body["created_at"] = moment
    _refused_and_kept_as_failed(actor, post(make_integration(actor, "orders"), body))


def test_a_generic_order_created_on_the_first_day_is_placed_then(actor, django_capture_on_commit_callbacks):
    body = payload("generic_order.json")
    body["created_at"] = "1900-01-01T00:00:00+00:00"
    with django_capture_on_commit_callbacks(execute=True):
        response = post(make_integration(actor, "orders"), body)
    assert response.status_code == 202, response.content
    assert Order.dangerously_unscoped.get().placed_at == dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


def test_a_shopify_order_created_in_year_1_is_422(actor):
    body = payload("shopify_orders_create.json")
    body["created_at"] = "0001-01-01T00:00:00+05:00"
    _refused_and_kept_as_failed(actor, post(make_integration(actor, "shopify"), body))


def test_a_woocommerce_order_created_in_year_9999_is_422(actor):
    body = payload("woocommerce_order_created.json")
    body["date_created_gmt"] = "9999-12-31T23:59:59"
    _refused_and_kept_as_failed(actor, post(make_integration(actor, "woocommerce"), body))


# --- the tracker -----------------------------------------------------------------------------------


@pytest.fixture
def site(org):
    cache.clear()  # the tracker's rate limits count in the cache
    yield make_site(org)
    cache.clear()


@pytest.mark.parametrize("moment", BAD_MOMENTS)
def test_a_tracker_event_from_outside_the_range_is_rejected_and_the_others_kept(site, moment):
    good, bad = page(), page(at=moment)
    response = post_batch(site, [good, bad])
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 1,
        "rejected": [{"index": 1, "errors": [{"field": "timestamp", "message": RANGE}]}],
    }
    assert [e["message_id"] for e in IngestBatch.dangerously_unscoped.get().events] == [good["message_id"]]


@pytest.mark.parametrize("moment", BAD_MOMENTS)
def test_a_tracker_batch_sent_outside_the_range_is_422(site, moment):
    response = post_batch(site, [page()], sent_at=moment)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Some fields are not valid.",
        "errors": [{"field": "sent_at", "message": RANGE}],
    }
    assert IngestBatch.dangerously_unscoped.count() == 0


def test_a_tracker_event_of_the_first_day_is_kept_and_a_fast_clock_cannot_push_it_earlier(site):
    received = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    first_day = page(at="1900-01-01T00:00:00Z")
    with mock.patch("vinculo.touchpoints.services.ingest.timezone.now", return_value=received):
        response = post_batch(site, [first_day], sent_at="2200-12-31T23:59:59Z")  # a clock 175 years ahead
    assert response.json() == {"accepted": 1, "rejected": []}
    assert [e["occurred_at"] for e in IngestBatch.dangerously_unscoped.get().events] == ["1900-01-01T00:00:00+00:00"]
    assert ingest.correct_time(
        timestamp=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        sent_at=dt.datetime(2200, 1, 1, tzinfo=dt.UTC),
        received_at=received,
    ) == dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


# --- lead ads --------------------------------------------------------------------------------------


@pytest.mark.parametrize("created", ["0001-01-01T00:00:00+05:00", "2201-01-01T00:00:00+0000", 99_999_999_999])
def test_a_facebook_lead_created_outside_the_range_is_kept_with_no_time_of_its_own(created):
    body = copy.deepcopy(payload("facebook_leadgen.json"))
    body["entry"][0]["changes"][0]["value"]["created_time"] = created
    [lead] = facebook.to_leads(body)
    assert (lead.external_id, lead.occurred_at) == ("987654321012345", None)


def test_a_linkedin_lead_submitted_outside_the_range_is_kept_with_no_time_of_its_own():
    body = copy.deepcopy(payload("linkedin_lead_form_response.json"))
    body["submittedAt"] = 10**14 - 1  # year 5138
    [lead] = linkedin.to_leads(body)
    assert lead.occurred_at is None
