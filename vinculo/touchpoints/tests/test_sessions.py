"""Web sessions: split after the inactivity timeout, source/medium/campaign, visitor counters."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django_scopes import scope

from vinculo.core.models import Event
from vinculo.touchpoints.models import IngestBatch, Visitor, WebSession
from vinculo.touchpoints.services.ingest import ingest_batch_process
from vinculo.touchpoints.services.sessions import classify_source
from vinculo.touchpoints.testing.tracking import make_site, page, post_batch, track

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def send(site, events):
    assert post_batch(site, events).status_code == 202
    ingest_batch_process(batch_id=IngestBatch.dangerously_unscoped.latest("id").pk)


@pytest.mark.parametrize(
    ("url", "referrer", "expected"),
    [
        (
            "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
            "",
            ("newsletter", "email", "spring"),
        ),
        ("https://shop.example/?utm_source=google&utm_medium=cpc", "https://www.google.com/", ("google", "cpc", "")),
        ("https://shop.example/?gclid=abc", "https://www.google.com/", ("google", "cpc", "")),
        ("https://shop.example/", "https://www.google.es/", ("google", "organic", "")),
        ("https://shop.example/", "https://www.bing.com/search?q=x", ("bing", "organic", "")),
        ("https://shop.example/", "https://duckduckgo.com/", ("duckduckgo", "organic", "")),
        ("https://shop.example/", "https://l.facebook.com/l.php", ("facebook", "social", "")),
        ("https://shop.example/", "https://www.linkedin.com/feed/", ("linkedin", "social", "")),
        ("https://shop.example/", "https://t.co/xyz", ("twitter", "social", "")),
        ("https://shop.example/", "https://blog.example.org/post", ("blog.example.org", "referral", "")),
        ("https://shop.example/", "", ("direct", "none", "")),
        ("https://shop.example/b", "https://shop.example/a", ("direct", "none", "")),
    ],
)
def test_classify_source(url, referrer, expected):
    assert classify_source(url=url, referrer=referrer) == expected


def test_sessions_split_at_30_minutes_of_inactivity_exactly(org):
    site = make_site(org)

    send(
        site,
        [
            page(at="2026-03-02T10:00:00Z"),
            page(at="2026-03-02T10:29:59Z"),  # 29:59 later: the same visit
            track("signup", at="2026-03-02T10:59:59Z"),  # exactly 30:00 later: a new visit
            page(at="2026-03-02T11:10:00Z"),
        ],
    )

    with scope(organization=org):
        sessions = list(
            WebSession.objects.order_by("started_at").values_list(
                "started_at", "last_event_at", "page_view_count", "event_count"
            )
        )
        assert [(s.isoformat(), e.isoformat(), p, n) for s, e, p, n in sessions] == [
            ("2026-03-02T10:00:00+00:00", "2026-03-02T10:29:59+00:00", 2, 2),
            ("2026-03-02T10:59:59+00:00", "2026-03-02T11:10:00+00:00", 1, 2),
        ]
        visitor = Visitor.objects.get()
        assert (visitor.session_count, visitor.page_view_count) == (2, 3)
        assert visitor.first_seen_at.isoformat() == "2026-03-02T10:00:00+00:00"
        assert visitor.last_seen_at.isoformat() == "2026-03-02T11:10:00+00:00"
        assert Event.objects.filter(type="session.started").count() == 2


def test_a_session_continues_across_batches(org):
    site = make_site(org)
    send(site, [page(at="2026-03-02T10:00:00Z")])

    send(site, [page(at="2026-03-02T10:20:00Z")])

    with scope(organization=org):
        assert WebSession.objects.get().page_view_count == 2
        assert Visitor.objects.get().session_count == 1


def test_the_sites_timeout_decides(org):
    site = make_site(org, session_timeout_minutes=10)

    send(site, [page(at="2026-03-02T10:00:00Z"), page(at="2026-03-02T10:10:00Z")])

    with scope(organization=org):
        assert WebSession.objects.count() == 2


def test_a_session_records_its_landing_page_source_and_emits_session_started(org):
    site = make_site(org)
    landing = "https://shop.example/offer?utm_source=newsletter&utm_medium=email&utm_campaign=spring"

    send(site, [page(url=landing, referrer="https://mail.example/"), page(at="2026-03-02T10:01:00Z")])

    with scope(organization=org):
        session = WebSession.objects.get()
        assert (session.landing_url, session.referrer) == (landing, "https://mail.example/")
        assert (session.source, session.medium, session.campaign) == ("newsletter", "email", "spring")
        started = Event.objects.get(type="session.started")
        assert started.properties == {
            "session_id": session.pk,
            "source": "newsletter",
            "medium": "email",
            "campaign": "spring",
            "landing_url": landing,
            "referrer": "https://mail.example/",
        }
        assert started.message_id == f"session.started:{session.pk}"
        visitor = Visitor.objects.get()
        assert (visitor.first_source, visitor.first_medium, visitor.first_campaign) == ("newsletter", "email", "spring")
        viewed = Event.objects.filter(type="page.viewed").order_by("occurred_at")[0]
        assert viewed.properties == {
            "url": landing,
            "title": "Home",
            "referrer": "https://mail.example/",
            "path": "/offer",
            "utm_source": "newsletter",
            "utm_medium": "email",
            "utm_campaign": "spring",
        }
