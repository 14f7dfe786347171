"""The tracker's consent mode is the server's (issue 9): the snippet reads it from
GET /api/v1/track/config, and POST /api/v1/track/batch enforces it on every batch.

On the wire a batch says `"consent": true` once the visitor agreed, `false` when they refused, and
leaves it out before they were asked. Identifying events are identify, or any event with a user id
or traits: they tie the browser's history to a person (stitching). Without consent:
- opt-in: nothing is recorded;
- cookieless: anonymous events are recorded under a one-way pseudonym of their anonymous id (never
  stitched to a contact, not even when the same browser id later identifies with consent) and
  without the sender's address; identifying events are refused one by one;
- implied: everything is recorded, as with consent.
A refusal (`"consent": false`) records nothing, whatever the mode.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from vinculo.contacts.models import Contact
from vinculo.core.models import Event
from vinculo.touchpoints.models import Identity, IngestBatch, Visitor
from vinculo.touchpoints.services.ingest import unconsented_id
from vinculo.touchpoints.services.sites import tracking_site_update
from vinculo.touchpoints.testing.tracking import identify, make_site, page, post_batch, track

pytestmark = pytest.mark.django_db

NEEDS_CONSENT = "Identifying a visitor needs their consent: this event was not recorded."
OPT_IN_REFUSAL = "This site records nothing before the visitor consents: nothing was recorded."
REFUSED = "The visitor refused consent: nothing was recorded."


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _visit() -> list[dict[str, Any]]:
    """A page view, a custom event and an identify of one browser, as the snippet sends them."""
    return [
        page(at="2026-03-02T10:00:00+00:00"),
        track("added_to_cart", at="2026-03-02T10:00:10+00:00"),
        identify("ana@example.com", at="2026-03-02T10:00:20+00:00", traits={"first_name": "Ana"}),
    ]


def _send(site: Any, events: list[dict[str, Any]], capture: Any, **kwargs: Any) -> Any:
    with capture(execute=True):  # the batch is processed (stitching, sessions) as the worker would
        response = post_batch(site, events, **kwargs)
    assert response.status_code == 202
    return response.json()


def _stored(org: Any) -> dict[str, Any]:
    with scope(organization=org):
        return {
            "events": sorted(Event.objects.filter(source="web").values_list("type", "anonymous_id", "contact__email")),
            "visitors": sorted(Visitor.objects.values_list("anonymous_id", "contact__email", "page_view_count")),
            "contacts": list(Contact.objects.values_list("email", flat=True)),
            "identities": list(Identity.objects.values_list("value", flat=True)),
        }


EVERYTHING = {
    "events": [
        ("page.viewed", "anon-1", "ana@example.com"),
        ("session.started", "anon-1", "ana@example.com"),
        ("visitor.identified", "anon-1", "ana@example.com"),
        ("web.added_to_cart", "anon-1", "ana@example.com"),
    ],
    "visitors": [("anon-1", "ana@example.com", 1)],
    "contacts": ["ana@example.com"],
    "identities": ["ana@example.com"],
}
NOTHING: dict[str, list[Any]] = {"events": [], "visitors": [], "contacts": [], "identities": []}


@pytest.mark.parametrize(
    ("mode", "consent"),
    [("opt_in", True), ("cookieless", True), ("implied", True), ("implied", None)],
)
def test_with_consent_or_implied_consent_everything_is_recorded_and_stitched(
    org, django_capture_on_commit_callbacks, mode, consent
):
    site = make_site(org, consent_mode=mode)

    answer = _send(site, _visit(), django_capture_on_commit_callbacks, consent=consent)

    assert answer == {"accepted": 3, "rejected": []}
    assert _stored(org) == EVERYTHING
    assert IngestBatch.dangerously_unscoped.get().ip == "203.0.113.7"


def test_an_opt_in_site_without_consent_records_nothing(org, django_capture_on_commit_callbacks):
    site = make_site(org, consent_mode="opt_in")

    answer = _send(site, _visit(), django_capture_on_commit_callbacks, consent=None)

    refused = {"field": "consent", "message": OPT_IN_REFUSAL}
    assert answer == {"accepted": 0, "rejected": [{"index": i, "errors": [refused]} for i in range(3)]}
    assert IngestBatch.dangerously_unscoped.count() == 0
    assert _stored(org) == NOTHING


def test_a_cookieless_site_without_consent_records_anonymous_events_only_under_a_pseudonym(
    org, django_capture_on_commit_callbacks
):
    site = make_site(org, consent_mode="cookieless")
    pseudonym = unconsented_id(organization_id=org.pk, anonymous_id="anon-1")

    answer = _send(site, _visit(), django_capture_on_commit_callbacks, consent=None)

    assert answer == {
        "accepted": 2,
        "rejected": [{"index": 2, "errors": [{"field": "consent", "message": NEEDS_CONSENT}]}],
    }
    assert _stored(org) == {
        "events": [
            ("page.viewed", pseudonym, None),
            ("session.started", pseudonym, None),
            ("web.added_to_cart", pseudonym, None),
        ],
        "visitors": [(pseudonym, None, 1)],
        "contacts": [],
        "identities": [],
    }
    batch = IngestBatch.dangerously_unscoped.get()
    assert batch.ip is None  # the sender's address is not kept either
    assert {e["anonymous_id"] for e in batch.events} == {pseudonym}


@pytest.mark.parametrize(
    "event",
    [
        page(user_id="ana@example.com"),
        track("signed_up", traits={"email": "ana@example.com"}),
        identify("user-42"),
    ],
    ids=["page with a user id", "track with traits", "identify"],
)
def test_a_cookieless_site_without_consent_refuses_every_identifying_event(org, event):
    site = make_site(org, consent_mode="cookieless")

    response = post_batch(site, [event], consent=None)

    assert response.json() == {
        "accepted": 0,
        "rejected": [{"index": 0, "errors": [{"field": "consent", "message": NEEDS_CONSENT}]}],
    }
    assert IngestBatch.dangerously_unscoped.count() == 0


def test_events_sent_before_consent_are_never_joined_to_the_person_who_later_consents(
    org, django_capture_on_commit_callbacks
):
    """The same browser id, first without consent (cookieless), then with consent and identify:
    the pseudonymous visit stays apart from Ana; only what came with consent is hers."""
    site = make_site(org, consent_mode="cookieless")
    pseudonym = unconsented_id(organization_id=org.pk, anonymous_id="anon-1")
    _send(site, [page(at="2026-03-02T10:00:00+00:00")], django_capture_on_commit_callbacks, consent=None)

    later = [page(at="2026-03-02T10:01:00+00:00"), identify("ana@example.com", at="2026-03-02T10:01:05+00:00")]
    assert _send(site, later, django_capture_on_commit_callbacks, consent=True) == {"accepted": 2, "rejected": []}

    stored = _stored(org)
    assert stored["events"] == [
        ("page.viewed", "anon-1", "ana@example.com"),
        ("page.viewed", pseudonym, None),
        ("session.started", "anon-1", "ana@example.com"),
        ("session.started", pseudonym, None),
        ("visitor.identified", "anon-1", "ana@example.com"),
    ]
    assert stored["visitors"] == [("anon-1", "ana@example.com", 1), (pseudonym, None, 1)]


def test_an_unconsented_event_with_an_identified_browsers_id_is_not_joined_to_its_contact(
    org, django_capture_on_commit_callbacks
):
    site = make_site(org, consent_mode="cookieless")
    _send(site, [page(), identify("ana@example.com")], django_capture_on_commit_callbacks, consent=True)

    _send(site, [page(at="2026-03-02T11:00:00+00:00")], django_capture_on_commit_callbacks, consent=None)

    with scope(organization=org):
        assert Event.objects.filter(type="page.viewed", contact__isnull=True).count() == 1
        assert Visitor.objects.get(anonymous_id="anon-1").page_view_count == 1


@pytest.mark.parametrize("mode", ["opt_in", "cookieless", "implied"])
def test_a_refusal_records_nothing_in_any_mode(org, mode):
    site = make_site(org, consent_mode=mode)

    response = post_batch(site, _visit(), consent=False)

    refused = {"field": "consent", "message": REFUSED}
    assert response.json() == {"accepted": 0, "rejected": [{"index": i, "errors": [refused]} for i in range(3)]}
    assert IngestBatch.dangerously_unscoped.count() == 0


@pytest.mark.parametrize("value", ["yes", 1, [], {}])
def test_consent_that_is_not_true_or_false_is_422_and_stores_nothing(org, value):
    site = make_site(org, consent_mode="implied")

    response = post_batch(site, _visit(), consent=value)

    assert response.status_code == 422
    assert response.json() == {
        "detail": "Some fields are not valid.",
        "errors": [{"field": "consent", "message": "Enter true or false."}],
    }
    assert IngestBatch.dangerously_unscoped.count() == 0


def test_the_pseudonym_is_stable_one_way_and_never_a_browsers_id(org, other_org):
    first = unconsented_id(organization_id=org.pk, anonymous_id="anon-1")

    assert first == unconsented_id(organization_id=org.pk, anonymous_id="anon-1")
    assert first != unconsented_id(organization_id=org.pk, anonymous_id="anon-2")
    assert first != unconsented_id(organization_id=other_org.pk, anonymous_id="anon-1")
    assert first.startswith("~")
    assert len(first) == 41
    assert "anon" not in first


# --- the snippet's settings, from the server ------------------------------------------------------------


@pytest.mark.parametrize(("mode", "honor_dnt"), [("opt_in", True), ("cookieless", False), ("implied", True)])
def test_the_config_served_for_a_site_carries_its_mode(org, mode, honor_dnt):
    site = make_site(org, consent_mode=mode, honor_dnt=honor_dnt)

    response = Client().get("/api/v1/track/config", {"key": site.public_key}, headers={"Origin": "https://any.example"})

    assert response.status_code == 200
    assert response.json() == {"consent_mode": mode, "honor_dnt": honor_dnt}
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "public, max-age=300"


def test_a_changed_mode_is_served_at_once(org, actor):
    site = make_site(org, consent_mode="opt_in")
    assert Client().get("/api/v1/track/config", {"key": site.public_key}).json()["consent_mode"] == "opt_in"

    with scope(organization=org):
        tracking_site_update(actor=actor, site=site, data={"consent_mode": "cookieless"})

    assert Client().get("/api/v1/track/config", {"key": site.public_key}).json()["consent_mode"] == "cookieless"


@pytest.mark.parametrize("key", ["pk_unknown", "nope", "inactive"])
def test_the_config_of_an_unknown_or_inactive_key_is_404(org, key):
    inactive = make_site(org, is_active=False)

    response = Client().get("/api/v1/track/config", {"key": inactive.public_key if key == "inactive" else key})

    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown or inactive site key.", "errors": []}
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_config_without_a_key_is_422(db):
    response = Client().get("/api/v1/track/config")

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "key", "message": "This field is required."}]


def test_the_settings_page_explains_each_mode(client_in, org):
    site = make_site(org)

    response = client_in.get(reverse("touchpoints:tracking_site_edit", args=[org.slug, site.pk]))

    html = response.content.decode()
    assert 'aria-describedby="consent-mode-help"' in html
    assert '<option value="implied">Track from the first page: consent is implied</option>' in html
    for sentence in (
        "Send nothing until the visitor consents: the tracker waits for vinculo.consent(true) before it sends"
        " anything or sets its cookie.",
        "Track without cookies until the visitor consents: anonymous page views and events are recorded without"
        " a cookie and are never joined to a person; identifying the visitor waits for their consent.",
        "Consent is implied: everything is recorded from the first page, with a cookie, until the visitor"
        " refuses with vinculo.consent(false).",
    ):
        assert f"<li>{sentence}</li>" in html


def test_the_api_sets_each_mode_and_refuses_another(api_client, org):
    site = make_site(org)
    url = f"/api/v1/tracking-sites/{site.pk}"

    implied = api_client.patch(url, data=json.dumps({"consent_mode": "implied"}), content_type="application/json")
    unknown = api_client.patch(url, data=json.dumps({"consent_mode": "always"}), content_type="application/json")

    assert (implied.status_code, implied.json()["consent_mode"]) == (200, "implied")
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"field": "consent_mode", "message": "Choose one of 'opt_in', 'cookieless' or 'implied'."}
    ]
    site.refresh_from_db()
    assert site.consent_mode == "implied"
    assert Client().get("/api/v1/track/config", {"key": site.public_key}).json()["consent_mode"] == "implied"
