"""POST /api/v1/track/batch: accept-then-process, validation one event at a time, caps, CORS,
rate limits, duplicates, clock correction, and the processing task's idempotency."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_scopes import scope
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create
from vinculo.core.models import Event
from vinculo.touchpoints import tasks
from vinculo.touchpoints.models import IngestBatch, Visitor, WebSession
from vinculo.touchpoints.services import ingest
from vinculo.touchpoints.testing.tracking import ORIGIN, URL, identify, make_site, page, post_batch, track

pytestmark = pytest.mark.django_db

TIME_MESSAGE = "Enter a date and time in ISO 8601, e.g. 2026-01-31T12:00:00Z."


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site(org):
    return make_site(org)


def _events(org):
    with scope(organization=org):
        return list(Event.objects.filter(source="web").order_by("occurred_at", "id").values_list("type", "message_id"))


def test_a_batch_is_stored_as_one_row_then_processed(site, org, django_capture_on_commit_callbacks):
    first, second = page(), track("added_to_cart", properties={"sku": "A-1"})

    with django_capture_on_commit_callbacks(execute=True):
        response = post_batch(site, [first, second], sent_at="2026-03-02T10:00:00+00:00")

    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "rejected": []}
    batch = IngestBatch.dangerously_unscoped.get()
    assert (batch.organization_id, batch.site_id, batch.event_count, batch.ip) == (org.pk, site.pk, 2, "203.0.113.7")
    assert batch.processed_at is not None
    assert batch.attempts == 1
    with scope(organization=org):
        cart = Event.objects.get(message_id=second["message_id"])
        viewed = Event.objects.get(message_id=first["message_id"])
    assert (cart.type, cart.source, cart.anonymous_id, cart.properties) == (
        "web.added_to_cart",
        "web",
        "anon-1",
        {"sku": "A-1"},
    )
    assert viewed.type == "page.viewed"
    assert viewed.properties == {"url": "https://shop.example/", "title": "Home", "path": "/"}


def test_accepting_a_batch_is_one_counter_upsert_and_one_insert_once_the_site_is_cached(
    site, django_assert_num_queries
):
    post_batch(site, [page()])  # the first request reads the site (then cached for a few seconds)

    with django_assert_num_queries(2) as captured:
        response = post_batch(site, [page() for _ in range(100)])

    assert response.status_code == 202
    upsert, insert = (query["sql"] for query in captured.captured_queries)
    assert upsert.startswith('INSERT INTO "core_ratecounter"')  # the rate limits, both counters at once
    assert insert.startswith('INSERT INTO "touchpoints_ingestbatch"')


BAD_EVENTS = [
    ({"type": "click"}, "type", "Choose one of: page, track, identify."),
    ({"message_id": None}, "message_id", "Enter text."),
    ({"message_id": ""}, "message_id", "This field is required."),
    ({"message_id": "m" * 129}, "message_id", "At most 128 characters."),
    ({"anonymous_id": "a b"}, "anonymous_id", "Use only letters, digits, “_”, “.”, “:” and “-”."),
    ({"anonymous_id": "a" * 65}, "anonymous_id", "At most 64 characters."),
    ({"type": "track", "name": "Added To Cart"}, "name", "Use only lower-case letters, digits, “_”, “.” and “-”."),
    ({"type": "track", "name": "a" * 65}, "name", "At most 64 characters."),
    ({"type": "track"}, "name", "A track event needs a name."),
    ({"type": "identify"}, "user_id", "An identify event needs an e-mail address or a user id."),
    ({"properties": {"x": "y" * 8200}}, "properties", "At most 8192 bytes of JSON."),
    ({"properties": ["a"]}, "properties", "Give an object."),
    ({"traits": {"x": "y" * 8200}}, "traits", "At most 8192 bytes of JSON."),
    ({"url": "https://shop.example/" + "a" * 1990}, "url", "At most 2000 characters."),
    ({"url": "javascript:alert(1)"}, "url", "Enter an http or https address."),
    ({"referrer": "ftp://x.example/"}, "referrer", "Enter an http or https address."),
    ({"title": "t" * 501}, "title", "At most 500 characters."),
    ({"timestamp": "yesterday"}, "timestamp", TIME_MESSAGE),
    ({"colour": "red"}, "colour", "Unknown field."),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_EVENTS)
def test_a_bad_event_is_rejected_with_its_reason_and_the_good_ones_are_kept(site, org, change, field, message):
    good = page()
    bad = {**page(), **change}

    response = post_batch(site, [good, bad])

    assert response.status_code == 202
    assert response.json() == {
        "accepted": 1,
        "rejected": [{"index": 1, "errors": [{"field": field, "message": message}]}],
    }
    assert [e["message_id"] for e in IngestBatch.dangerously_unscoped.get().events] == [good["message_id"]]


def test_an_event_that_is_not_an_object_is_rejected(site):
    response = post_batch(site, [42, page()])

    assert response.json() == {
        "accepted": 1,
        "rejected": [{"index": 0, "errors": [{"field": "__all__", "message": "Give an object."}]}],
    }


def test_a_batch_of_only_bad_events_stores_nothing(site):
    response = post_batch(site, [{"type": "nope"}])

    assert response.status_code == 202
    assert response.json()["accepted"] == 0
    assert IngestBatch.dangerously_unscoped.count() == 0


def test_more_than_100_events_is_413_and_stores_nothing(site):
    response = post_batch(site, [page() for _ in range(101)])

    assert response.status_code == 413
    assert response.json() == {"detail": "Too many events: at most 100 in a batch.", "errors": []}
    assert IngestBatch.dangerously_unscoped.count() == 0


def test_a_body_over_256_kb_is_413_and_stores_nothing(site):
    events = [page(properties={"blob": "x" * 7000}) for _ in range(40)]  # each event is within its 8 KB

    response = post_batch(site, events)

    assert response.status_code == 413
    assert response.json() == {"detail": "The body is too large: at most 262144 bytes.", "errors": []}
    assert IngestBatch.dangerously_unscoped.count() == 0


@pytest.mark.parametrize("key", ["pk_unknown", "", None, 42, "not-a-key"])
def test_an_unknown_key_is_401(site, key):
    response = post_batch(key if isinstance(key, str) else "x", [page()], origin=None) if isinstance(key, str) else None
    if response is None:
        body = json.dumps({"key": key, "events": [page()]})
        response = Client().post(URL, data=body, content_type="application/json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Unknown or inactive site key.", "errors": []}
    assert IngestBatch.dangerously_unscoped.count() == 0


def test_an_inactive_site_is_401(org):
    site = make_site(org, is_active=False)

    response = post_batch(site, [page()])

    assert response.status_code == 401


def test_a_body_that_is_not_json_is_400(site):
    response = Client().post(URL, data="{nope", content_type="text/plain")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The body is not valid JSON.",
        "errors": [{"field": "body", "message": "The body is not valid JSON."}],
    }


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"events": "x"}, "events", "Give a list."),
        ({}, "events", "This field is required."),
        ({"events": [], "sent_at": "soon"}, "sent_at", TIME_MESSAGE),
    ],
)
def test_a_malformed_batch_is_422(site, body, field, message):
    response = Client().post(URL, data=json.dumps({"key": site.public_key, **body}), content_type="application/json")

    assert response.status_code == 422
    assert response.json() == {"detail": "Some fields are not valid.", "errors": [{"field": field, "message": message}]}


def test_a_json_array_body_is_422(site):
    response = Client().post(URL, data="[]", content_type="application/json")

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body", "message": "Give an object."}]


# --- CORS ---------------------------------------------------------------------------------------------


def test_an_allowed_origin_gets_the_cors_header(site):
    response = post_batch(site, [page()], origin=ORIGIN)

    assert response.status_code == 202
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response["Vary"]


def test_another_origin_is_refused_and_nothing_is_stored(site):
    response = post_batch(site, [page()], origin="https://evil.example")

    assert response.status_code == 403
    assert response.json() == {"detail": "This origin is not allowed to send events for this site.", "errors": []}
    assert not response.has_header("Access-Control-Allow-Origin")
    assert IngestBatch.dangerously_unscoped.count() == 0


def test_a_request_without_origin_is_accepted_without_cors_header(site):
    response = post_batch(site, [page()], origin=None)

    assert response.status_code == 202
    assert not response.has_header("Access-Control-Allow-Origin")


def test_the_preflight_answers_an_allowed_origin(site):
    response = Client().options(
        URL,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert response["Access-Control-Allow-Headers"] == "Content-Type"
    assert response["Access-Control-Max-Age"] == "86400"


def test_the_preflight_does_not_allow_an_unknown_origin(site):
    response = Client().options(
        URL, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )

    assert response.status_code == 204
    assert not response.has_header("Access-Control-Allow-Origin")


def test_a_text_plain_body_is_accepted(site, org):
    event = page()

    response = post_batch(site, [event], content_type="text/plain;charset=UTF-8")

    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "rejected": []}
    assert IngestBatch.dangerously_unscoped.get().events[0]["message_id"] == event["message_id"]


# --- rate limits --------------------------------------------------------------------------------------


def test_too_many_batches_from_one_address_is_429_with_retry_after(site, settings):
    settings.TRACKER_RATE_LIMITS = {"PER_KEY": 100, "PER_IP": 2}
    with mock.patch("vinculo.core.rate_limit.time.time", return_value=6000.0 + 15):
        statuses = [post_batch(site, [page()], ip="198.51.100.1").status_code for _ in range(3)]
        other_address = post_batch(site, [page()], ip="198.51.100.2")
        refused = post_batch(site, [page()], ip="198.51.100.1")

    assert statuses == [202, 202, 429]
    assert other_address.status_code == 202
    assert refused["Retry-After"] == "45"
    assert refused.json() == {"detail": "Too many requests: try again later.", "errors": []}
    assert IngestBatch.dangerously_unscoped.count() == 3


def test_too_many_batches_for_one_key_is_429(site, settings):
    settings.TRACKER_RATE_LIMITS = {"PER_KEY": 2, "PER_IP": 100}
    statuses = [post_batch(site, [page()], ip=f"198.51.100.{n}").status_code for n in range(3)]

    assert statuses == [202, 202, 429]


# --- duplicates, clock correction -------------------------------------------------------------------------


def test_duplicates_by_message_id_are_stored_once(site, org, django_capture_on_commit_callbacks):
    event = page()
    with django_capture_on_commit_callbacks(execute=True):
        post_batch(site, [event, dict(event)])
    with django_capture_on_commit_callbacks(execute=True):
        post_batch(site, [dict(event), page(at="2026-03-02T10:01:00+00:00")])

    with scope(organization=org):
        assert Event.objects.filter(message_id=event["message_id"]).count() == 1
        assert Event.objects.filter(type="page.viewed").count() == 2
        visitor = Visitor.objects.get()
        assert (visitor.page_view_count, visitor.session_count) == (2, 1)
        assert WebSession.objects.get().page_view_count == 2


def test_client_clock_is_corrected_exactly(site, org):
    received = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=dt.UTC)
    # the browser's clock is 1 hour 3 seconds behind: it says it sent at 10:59:57
    late = page(at="2026-03-02T10:59:47Z")  # 10 s before sending
    in_future = page(at="2026-03-02T11:00:30Z")  # after sending: clamped to the arrival
    no_time = {k: v for k, v in page().items() if k != "timestamp"}

    with mock.patch("vinculo.touchpoints.services.ingest.timezone.now", return_value=received):
        post_batch(site, [late, in_future, no_time], sent_at="2026-03-02T10:59:57Z")

    stored = {e["message_id"]: e["occurred_at"] for e in IngestBatch.dangerously_unscoped.get().events}
    assert stored[late["message_id"]] == "2026-03-02T11:59:50+00:00"
    assert stored[in_future["message_id"]] == "2026-03-02T12:00:00+00:00"
    assert stored[no_time["message_id"]] == "2026-03-02T12:00:00+00:00"
    assert IngestBatch.dangerously_unscoped.get().received_at == received


def test_correct_time_with_an_offset_timezone_and_without_sent_at():
    received = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    stamp = dt.datetime.fromisoformat("2026-03-02T12:59:00+02:00")  # 10:59 UTC

    assert ingest.correct_time(timestamp=stamp, sent_at=None, received_at=received) == dt.datetime(
        2026, 3, 2, 10, 59, tzinfo=dt.UTC
    )


# --- Do-Not-Track ------------------------------------------------------------------------------------------


def test_a_batch_flagged_dnt_is_refused_when_the_site_honours_it(site):
    response = post_batch(site, [page(), page()], dnt=True)

    message = "Do Not Track is on and this site honours it: nothing was recorded."
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 0,
        "rejected": [
            {"index": 0, "errors": [{"field": "dnt", "message": message}]},
            {"index": 1, "errors": [{"field": "dnt", "message": message}]},
        ],
    }
    assert IngestBatch.dangerously_unscoped.count() == 0


def test_dnt_is_ignored_when_the_site_says_so(org):
    site = make_site(org, honor_dnt=False)

    assert post_batch(site, [page()], dnt=True).json() == {"accepted": 1, "rejected": []}


# --- processing: idempotent, crash-safe, tenancy ----------------------------------------------------------


def _store(site, events):
    with mock.patch("vinculo.touchpoints.api.tracking.batch_enqueue"):
        response = post_batch(site, events)
    assert response.status_code == 202
    return IngestBatch.dangerously_unscoped.order_by("-id").first()


def test_processing_twice_changes_nothing_more(site, org):
    batch = _store(site, [page(), track("signup")])

    assert ingest.ingest_batch_process(batch_id=batch.pk) is True
    assert ingest.ingest_batch_process(batch_id=batch.pk) is False
    assert tasks.process_ingest_batch.call(batch.pk) is False

    with scope(organization=org):
        assert Event.objects.filter(source="web").count() == 3  # page, track, session.started
        assert Visitor.objects.get().page_view_count == 1


def test_a_crash_midway_rolls_back_and_the_retry_does_it_all_once(site, org):
    batch = _store(site, [page(), page(at="2026-03-02T10:05:00+00:00"), track("signup")])

    with (
        mock.patch("vinculo.touchpoints.services.ingest.sessions_apply", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        ingest.ingest_batch_process(batch_id=batch.pk)

    batch.refresh_from_db()
    assert (batch.processed_at, batch.attempts, batch.last_error) == (None, 1, "RuntimeError: disk full")
    with scope(organization=org):
        assert Event.objects.count() == 0
        assert Visitor.objects.count() == 0

    assert ingest.ingest_batch_process(batch_id=batch.pk) is True

    batch.refresh_from_db()
    assert batch.processed_at is not None
    assert (batch.attempts, batch.last_error) == (2, "")
    with scope(organization=org):
        visitor = Visitor.objects.get()
        assert (visitor.page_view_count, visitor.session_count) == (2, 1)
        assert WebSession.objects.get().event_count == 3


def test_the_safety_job_processes_batches_left_behind(site, org):
    old = _store(site, [page()])
    recent = _store(site, [page(anonymous_id="anon-2")])
    IngestBatch.dangerously_unscoped.filter(pk=old.pk).update(received_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))

    assert ingest.pending_batch_ids(older_than=dt.timedelta(minutes=2)) == [old.pk]
    assert tasks.process_pending_batches.call() == 1  # the immediate backend runs the batch too

    assert IngestBatch.dangerously_unscoped.get(pk=old.pk).processed_at is not None
    assert IngestBatch.dangerously_unscoped.get(pk=recent.pk).processed_at is None


def test_the_workers_sweep_processes_a_batch_whose_enqueue_was_lost_within_seconds(site, org):
    lost = _store(site, [page()])
    fresh = _store(site, [page(anonymous_id="anon-2")])
    IngestBatch.dangerously_unscoped.filter(pk=lost.pk).update(received_at=timezone.now() - dt.timedelta(seconds=11))

    assert tasks.process_stale_batches() == 1
    assert tasks.process_stale_batches() == 0  # idempotent

    assert IngestBatch.dangerously_unscoped.get(pk=lost.pk).processed_at is not None
    assert IngestBatch.dangerously_unscoped.get(pk=fresh.pk).processed_at is None  # its task may still come


def test_last_activity_is_the_latest_web_event_whatever_order_batches_are_processed_in(site, org, actor):
    """The visitor identifies in the first batch; a later batch (later page views) is processed
    first, while the visitor is still anonymous: the contact ends with the later time all the same."""
    with scope(organization=org):
        ana = contact_create(actor=actor, data={"first_name": "Ana", "emails": ["ana@example.com"]})
    first = _store(
        site, [page(at="2026-03-02T10:00:00+00:00"), identify("ana@example.com", at="2026-03-02T10:00:05+00:00")]
    )
    second = _store(site, [page(at="2026-03-02T10:30:00+00:00", message_id="later-page")])

    assert ingest.ingest_batch_process(batch_id=second.pk) is True
    assert ingest.ingest_batch_process(batch_id=first.pk) is True

    with scope(organization=org):
        ana.refresh_from_db()
        assert ana.last_activity_at == dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)
        assert Event.objects.get(message_id="later-page").contact_id == ana.pk


def test_the_safety_job_gives_up_after_repeated_failures(site):
    batch = _store(site, [page()])
    IngestBatch.dangerously_unscoped.filter(pk=batch.pk).update(
        received_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), attempts=ingest.MAX_ATTEMPTS
    )

    assert ingest.pending_batch_ids(older_than=dt.timedelta(minutes=2)) == []


def test_a_key_of_one_organisation_never_touches_another_ones_contacts(
    org, actor, other_actor, django_capture_on_commit_callbacks
):
    other_org = other_actor.organization
    with scope(organization=other_org):
        theirs = contact_create(actor=other_actor, data={"first_name": "Ana", "emails": ["ana@example.com"]})
    site = make_site(org)

    with django_capture_on_commit_callbacks(execute=True):
        post_batch(site, [page(), identify("ana@example.com")])

    with scope(organization=org):
        mine = Contact.objects.get()
        assert mine.pk != theirs.pk
        assert Event.objects.filter(contact=mine, type="visitor.identified").count() == 1
    with scope(organization=other_org):
        assert list(Contact.objects.values_list("pk", flat=True)) == [theirs.pk]
        assert Event.objects.filter(source="web").count() == 0
        assert Visitor.objects.count() == 0


# --- hostile input never answers 500 ---------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "type",
        "message_id",
        "anonymous_id",
        "timestamp",
        "name",
        "properties",
        "url",
        "title",
        "referrer",
        "user_id",
        "traits",
    ]
)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    events=st.lists(st.one_of(JSON, st.dictionaries(FIELDS, JSON, max_size=8)), max_size=5),
    sent_at=st.one_of(st.none(), st.text(max_size=30), st.integers()),
)
def test_random_events_never_cause_a_server_error(site, events, sent_at):
    body = {"key": site.public_key, "events": events}
    if sent_at is not None:
        body["sent_at"] = sent_at

    response = Client().post(URL, data=json.dumps(body), content_type="text/plain", REMOTE_ADDR="192.0.2.1")

    assert response.status_code in (202, 422), response.content
    if response.status_code == 202:
        result = response.json()
        assert result["accepted"] + len(result["rejected"]) == len(events)


# --- reactions for automation --------------------------------------------------------------------------------


def test_every_event_of_a_batch_reaches_its_consumers_after_commit(site, org, django_capture_on_commit_callbacks):
    from vinculo.core.consumers import register_consumer, unregister_consumer

    seen: list[str] = []
    register_consumer(
        name="test.web",
        patterns=("web.*", "session.*", "visitor.*", "page.*"),
        handler=lambda event: seen.append(event.type),
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post_batch(site, [page(), track("added_to_cart"), identify("ana@example.com")])
    finally:
        unregister_consumer("test.web")

    # page views too: a consumer that listens to them gets them (segments will)
    assert sorted(seen) == ["page.viewed", "session.started", "visitor.identified", "web.added_to_cart"]


# --- bounded JSON (an outside test: a deep body answered 500, NaN answered 409) -------------------------------


def test_a_body_nested_100000_levels_deep_is_a_400_and_stores_nothing(site):
    body = b'{"key": "' + site.public_key.encode() + b'", "events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = Client().post("/api/v1/track/batch", body, content_type="application/json", HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The JSON is nested too deeply: at most 32 levels.",
        "errors": [{"field": "body", "message": "The JSON is nested too deeply: at most 32 levels."}],
    }
    assert IngestBatch.dangerously_unscoped.count() == 0


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_or_infinity_in_properties_is_a_field_error_and_stores_nothing(site, constant):
    event = json.dumps(track("added_to_cart", properties={"price": 1})).replace('"price": 1', f'"price": {constant}')
    body = f'{{"key": "{site.public_key}", "events": [{event}]}}'
    response = Client().post("/api/v1/track/batch", body, content_type="application/json", HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 422
    assert response.json() == {
        "detail": "Some fields are not valid.",
        "errors": [
            {
                "field": "events.0.properties.price",
                "message": "Enter a finite number: NaN and Infinity are not JSON.",
            }
        ],
    }
    assert IngestBatch.dangerously_unscoped.count() == 0
