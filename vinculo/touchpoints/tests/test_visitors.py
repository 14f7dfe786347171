"""The Visitors page (live), a visitor's detail, identity conflicts, the contact's "Web sessions"
panel, and the read API of visitors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from vinculo.accounts.models import Role
from vinculo.accounts.testing import login_client
from vinculo.contacts.models import Contact
from vinculo.contacts.services import contact_create
from vinculo.core.testing import count_queries
from vinculo.touchpoints.models import IdentityConflict, IngestBatch, Visitor
from vinculo.touchpoints.services.ingest import ingest_batch_process
from vinculo.touchpoints.testing.tracking import identify, make_site, page, post_batch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def send(site, events):
    assert post_batch(site, events).status_code == 202
    ingest_batch_process(batch_id=IngestBatch.dangerously_unscoped.latest("id").pk)


def _iso(delta: dt.timedelta) -> str:
    return (timezone.now() - delta).isoformat()


def test_the_visitors_page_lists_live_visitors_first_and_polls(client_in, org):
    site = make_site(org)
    send(site, [page(anonymous_id="old-visitor", at=_iso(dt.timedelta(hours=3)))])
    send(
        site,
        [
            page(anonymous_id="live-visitor", at=_iso(dt.timedelta(minutes=1))),
            identify("ana@example.com", anonymous_id="live-visitor", at=_iso(dt.timedelta(seconds=30))),
        ],
    )
    url = reverse("touchpoints:visitor_list", args=[org.slug])

    response = client_in.get(url)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'hx-trigger="every 5s"' in body
    assert body.index("ana@example.com") < body.index("old-visito")
    assert "1 on the site now" in body
    with scope(organization=org):
        live = Visitor.objects.get(anonymous_id="live-visitor")
    assert f'id="visitor-{live.pk}" class="visitor-row table-success live"' in body

    partial = client_in.get(url, headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<div id="visitor-table"')
    anonymous = client_in.get(url + "?kind=anonymous").content.decode()
    assert "old-visito" in anonymous
    assert "ana@example.com" not in anonymous


def test_the_visitors_page_query_count_does_not_grow(client_in, org):
    site = make_site(org)
    url = reverse("touchpoints:visitor_list", args=[org.slug])
    send(site, [page(anonymous_id="v0"), identify("v0@example.com", anonymous_id="v0")])
    client_in.get(url)
    with count_queries() as few:
        client_in.get(url)
    for n in range(1, 6):
        send(site, [page(anonymous_id=f"v{n}"), identify(f"v{n}@example.com", anonymous_id=f"v{n}")])
    with count_queries() as many:
        client_in.get(url)

    assert len(many) == len(few)


def test_visitor_detail_shows_sessions_and_events(client_in, org):
    site = make_site(org)
    send(site, [page(title="Pricing", url="https://shop.example/pricing"), identify("ana@example.com")])
    with scope(organization=org):
        visitor = Visitor.objects.get()

    response = client_in.get(reverse("touchpoints:visitor_detail", args=[org.slug, visitor.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Pricing" in body
    assert "Identified on the website" in body
    assert "Direct" in body


def test_the_contact_page_shows_web_sessions_with_their_pages(client_in, org):
    site = make_site(org)
    send(
        site,
        [
            page(title="Home", at="2026-03-02T10:00:00Z", referrer="https://www.google.com/"),
            page(title="Pricing", at="2026-03-02T10:03:20Z", url="https://shop.example/pricing"),
            identify("ana@example.com", at="2026-03-02T10:04:00Z"),
        ],
    )
    with scope(organization=org):
        contact = Contact.objects.get()

    response = client_in.get(reverse("contacts:contact_detail", args=[org.slug, contact.pk]))

    body = response.content.decode()
    assert 'id="panel-web-sessions"' in body
    assert "2 pages" in body
    assert "4 minutes" in body
    assert "Organic search (google)" in body
    assert body.index(">Home</span>") < body.index(">Pricing</span>")


def test_the_panel_is_hidden_for_a_contact_who_never_visited(client_in, org, actor):
    with scope(organization=org):
        contact = contact_create(actor=actor, data={"first_name": "Bob"})

    response = client_in.get(reverse("contacts:contact_detail", args=[org.slug, contact.pk]))

    assert 'id="panel-web-sessions"' not in response.content.decode()


def _conflict(org, actor):
    site = make_site(org)
    with scope(organization=org):
        contact_create(actor=actor, data={"first_name": "Bob", "emails": ["bob@example.com"]})
    send(site, [identify("ana@example.com"), identify("bob@example.com", at="2026-03-02T10:05:00Z")])
    with scope(organization=org):
        return IdentityConflict.objects.get()


def test_conflicts_are_listed_and_resolved(client_in, org, actor):
    conflict = _conflict(org, actor)
    url = reverse("touchpoints:identity_conflict_list", args=[org.slug])

    listed = client_in.get(url).content.decode()
    assert f'id="conflict-{conflict.pk}"' in listed
    response = client_in.post(
        reverse("touchpoints:identity_conflict_resolve", args=[org.slug, conflict.pk]), {"action": "keep"}
    )

    assert response.status_code == 302
    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolved_by_id) == ("resolved", actor.user_id)
    with scope(organization=org):
        assert Visitor.objects.get().contact_id == conflict.contact_id
    assert f'id="conflict-{conflict.pk}"' not in client_in.get(url).content.decode()
    assert f'id="conflict-{conflict.pk}"' in client_in.get(url + "?status=resolved").content.decode()


def test_a_read_only_member_cannot_resolve(org, actor, member):
    conflict = _conflict(org, actor)
    client = login_client(member(Role.READ_ONLY))

    response = client.post(reverse("touchpoints:identity_conflict_resolve", args=[org.slug, conflict.pk]))

    assert response.status_code == 403
    conflict.refresh_from_db()
    assert conflict.status == "open"


def test_api_lists_visitors_and_conflicts(api_client, org, actor):
    conflict = _conflict(org, actor)

    visitors = api_client.get("/api/v1/visitors").json()["items"]
    conflicts = api_client.get("/api/v1/identity-conflicts").json()["items"]
    resolved = api_client.post(f"/api/v1/identity-conflicts/{conflict.pk}/resolve")

    assert [v["anonymous_id"] for v in visitors] == ["anon-1"]
    assert [c["id"] for c in conflicts] == [conflict.pk]
    assert (resolved.status_code, resolved.json()["status"]) == (200, "resolved")


def _count_queries(client, url):
    with count_queries() as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/visitors", "/api/v1/identity-conflicts", "/api/v1/tracking-sites", "conflict-page"],
)
def test_list_query_counts_do_not_grow_with_rows(api_client, client_in, org, actor, url):
    client = client_in if url == "conflict-page" else api_client
    if url == "conflict-page":
        url = reverse("touchpoints:identity_conflict_list", args=[org.slug])
    site = make_site(org)

    def add(n: int) -> None:
        with scope(organization=org):
            contact_create(actor=actor, data={"first_name": f"Other {n}", "emails": [f"other{n}@example.com"]})
        send(
            site,
            [
                identify(f"user{n}@example.com", anonymous_id=f"v{n}"),
                identify(f"other{n}@example.com", anonymous_id=f"v{n}", at="2026-03-02T10:05:00Z"),
            ],
        )
        make_site(org, name=f"Site {n}")

    add(0)
    _count_queries(client, url)
    few = _count_queries(client, url)
    for n in range(1, 5):
        add(n)

    assert _count_queries(client, url) == few
