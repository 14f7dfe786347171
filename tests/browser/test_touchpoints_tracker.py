"""The website tracker end to end, in a real browser: a shop's page on ANOTHER origin (a throwaway
http.server, so CORS is really exercised) loads /t/vinculo.js from Vínculo's live server with the
site's key. Consent first (nothing before consent(true)), a visit, a custom event, identify, an SPA
navigation, a flush on page hide (sendBeacon), Do-Not-Track, cookieless mode; then the contact's
page in Vínculo shows the web session and the events on the timeline. The consent mode is the
server's (issue 9): the snippet reads it from /api/v1/track/config, whatever the page says."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import OperationalError
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.contacts.models import Contact
from vinculo.core.models import Event
from vinculo.touchpoints.models import IngestBatch, TrackingSite
from vinculo.touchpoints.services.ingest import unconsented_id

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
<button id="cart" type="button">Add to cart</button>
<a id="next" href="/pricing">Pricing</a>
<script>window.vinculo = window.vinculo || [];</script>
<script async src="{vinculo}/t/vinculo.js" data-key="{key}"{extra}></script>
<script>
document.getElementById("cart").addEventListener("click", function () {{
  vinculo.push(["track", "added_to_cart", {{sku: "A-1", price: "19.90"}}]);
}});
</script>
</body></html>"""


@pytest.fixture
def shop(live_server: Any) -> Iterator[Callable[..., str]]:
    """Serves the shop's pages on 127.0.0.1:<port>; `shop(site, extra="")` returns its origin."""
    config: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            title = "Pricing" if self.path.startswith("/pricing") else "Shop home"
            body = PAGE.format(
                title=title, vinculo=live_server.url, key=config["key"], extra=config.get("extra", "")
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"

    def configure(site: TrackingSite, extra: str = "") -> str:
        config["key"] = site.public_key
        config["extra"] = extra
        return origin

    yield configure
    server.shutdown()
    server.server_close()


def _site(org: Any, origin: str, **fields: Any) -> TrackingSite:
    return TrackingSite.dangerously_unscoped.create(organization=org, name="Shop", allowed_origins=[origin], **fields)


def _placeholder_origin(shop: Callable[..., str]) -> str:
    return shop(TrackingSite(public_key="pk_placeholder"))


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except OperationalError:  # the in-memory test database's table lock, held by the live server
            result = None
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError("timed out waiting")


def batch_sent(page: Page) -> Any:
    """Waits (as a context manager) for the tracker's next batch to be answered: the database is
    read only once the live server is done with it (the in-memory test database locks tables)."""
    return page.expect_response(lambda r: r.url.endswith("/api/v1/track/batch") and r.request.method == "POST")


def record_batches(page: Page) -> list[dict[str, Any]]:
    """Every batch the page sends (fetch or sendBeacon), as the JSON it sent, in order."""
    sent: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            sent.append(json.loads(r.post_data or "{}"))
            if r.url.endswith("/api/v1/track/batch") and r.method == "POST"
            else None
        ),
    )
    return sent


def config_read(page: Page) -> Any:
    """Waits (as a context manager) for the snippet to read the site's settings from the server."""
    return page.expect_response(lambda r: "/api/v1/track/config?key=" in r.url)


def web_events(org: Any) -> list[tuple[str, str]]:
    with scope(organization=org):
        return sorted(
            Event.objects.filter(source="web").exclude(type="session.started").values_list("type", "anonymous_id")
        )


def test_consent_visit_event_identify_and_the_contact_page(
    browser: Any, browser_page: Page, shop: Any, live_server: Any
):
    owner = make_member()
    org = owner.organization
    origin = _placeholder_origin(shop)
    site = _site(org, origin)
    shop(site)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()

    # opt-in: the page view waits in memory, nothing is sent and no cookie is set before consent
    page.goto(f"{origin}/?utm_source=newsletter&utm_medium=email&utm_campaign=spring")
    page.wait_for_function("window.vinculo && window.vinculo._loaded === true")
    page.wait_for_timeout(2500)
    assert IngestBatch.dangerously_unscoped.count() == 0
    assert [c["name"] for c in context.cookies()] == []

    with batch_sent(page) as sent:
        page.evaluate("vinculo.consent(true)")
    assert sent.value.status == 202
    cookie = next(c for c in context.cookies() if c["name"] == "vinculo_aid")
    assert cookie["sameSite"] == "Lax"
    assert cookie["expires"] > time.time() + 364 * 86400
    anonymous_id = cookie["value"]
    wait_for(lambda: web_events(org) == [("page.viewed", anonymous_id)])

    # a custom event, then identify, then an SPA navigation (pushState)
    with batch_sent(page):
        page.click("#cart")
        page.evaluate('vinculo.identify("ana@example.com", {first_name: "Ana", last_name: "Ruiz"})')
        page.evaluate('history.pushState({}, "", "/checkout")')
    wait_for(lambda: len(web_events(org)) == 4)
    assert web_events(org) == [
        ("page.viewed", anonymous_id),
        ("page.viewed", anonymous_id),
        ("visitor.identified", anonymous_id),
        ("web.added_to_cart", anonymous_id),
    ]

    # leaving the page flushes what is queued at once (sendBeacon on pagehide), without the 2 s wait
    page.click("#cart")
    page.goto("about:blank")
    time.sleep(1)  # the beacon's answer is not visible to the page: give the server a moment
    wait_for(lambda: len(web_events(org)) == 5)

    # a later visit (same browser, cookie kept) is the same visitor
    with batch_sent(page):
        page.goto(f"{origin}/pricing")
    wait_for(lambda: len(web_events(org)) == 6)
    assert {aid for _type, aid in web_events(org)} == {anonymous_id}

    with scope(organization=org):
        contact = Contact.objects.get()
        assert (contact.email, contact.source, contact.lifecycle_stage) == ("ana@example.com", "web", "lead")
        assert Event.objects.filter(contact=contact, source="web").exclude(type="session.started").count() == 6
        landing = Event.objects.filter(type="page.viewed").order_by("occurred_at", "id").first()
        assert landing is not None
        assert landing.properties["utm_campaign"] == "spring"

    # consent withdrawn: the id is deleted (the cookie keeps only the refusal) and nothing more is sent
    page.goto(f"{origin}/")
    page.wait_for_function("window.vinculo && window.vinculo._loaded === true")
    page.evaluate("vinculo.consent(false)")
    assert [(c["name"], c["value"]) for c in context.cookies()] == [("vinculo_aid", "0")]
    page.click("#cart")
    page.wait_for_timeout(2500)
    assert len(web_events(org)) == 6  # the page view still queued on load was dropped too
    context.close()

    # the contact's page in Vínculo: the web session with its pages, and the events on the timeline
    vinculo = browser_page
    vinculo.goto("/accounts/login/")
    vinculo.get_by_label("E-mail").fill(owner.user.email)
    vinculo.get_by_label("Password").fill(PASSWORD)
    vinculo.get_by_role("button", name="Log in").click()
    vinculo.goto(f"/o/{org.slug}/contacts/{contact.pk}/")
    panel = vinculo.locator("#panel-web-sessions")
    expect(panel).to_contain_text("Web sessions")
    expect(panel).to_contain_text("newsletter / email")
    panel.locator("summary").first.click()
    expect(panel.locator(".session-pages").first).to_contain_text("Shop home")
    timeline = vinculo.locator("#timeline-list")
    expect(timeline).to_contain_text("Identified on the website")
    expect(timeline).to_contain_text("On the website: added to cart")
    expect(timeline).to_contain_text("Page viewed")


def test_do_not_track_sends_nothing(browser: Any, shop: Any, live_server: Any):
    org = make_member().organization
    origin = _placeholder_origin(shop)
    shop(_site(org, origin))
    context = browser.new_context()
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})")
    page = context.new_page()

    page.goto(f"{origin}/")
    page.wait_for_function("window.vinculo && window.vinculo._loaded === true")
    page.evaluate("vinculo.consent(true)")
    page.click("#cart")
    page.goto("about:blank")
    page.wait_for_timeout(2500)

    assert IngestBatch.dangerously_unscoped.count() == 0
    assert context.cookies() == []
    context.close()


def test_cookieless_mode_tracks_without_storing_anything_until_consent(browser: Any, shop: Any, live_server: Any):
    org = make_member().organization
    origin = _placeholder_origin(shop)
    shop(_site(org, origin, consent_mode="cookieless"))  # the page says nothing of the mode: the server does
    context = browser.new_context()
    page = context.new_page()
    sent = record_batches(page)

    with batch_sent(page):
        page.goto(f"{origin}/")
    wait_for(lambda: len(web_events(org)) == 1)
    with batch_sent(page):
        page.goto(f"{origin}/pricing")  # a new page load: a new in-memory id
    wait_for(lambda: len(web_events(org)) == 2)

    assert context.cookies() == []
    first, second = web_events(org)
    assert first[1] != second[1]
    assert first[1].startswith("~")  # stored under a pseudonym, not the id the browser sent
    assert [("consent" in batch, [e["type"] for e in batch["events"]]) for batch in sent] == [
        (False, ["page"]),
        (False, ["page"]),
    ]

    # identify before consent does not leave the page; after consent(true) it does, with a new id
    page.evaluate('vinculo.identify("ana@example.com")')
    page.wait_for_timeout(2500)
    assert len(sent) == 2
    with batch_sent(page) as answered:
        page.evaluate("vinculo.consent(true)")
    assert answered.value.status == 202
    cookie = next(c for c in context.cookies() if c["name"] == "vinculo_aid")
    assert [(batch.get("consent"), [e["type"] for e in batch["events"]]) for batch in sent[2:]] == [
        (True, ["identify"])
    ]
    pre_consent_id = sent[1]["events"][0]["anonymous_id"]
    assert sent[2]["events"][0]["anonymous_id"] == cookie["value"] != pre_consent_id
    wait_for(lambda: ("visitor.identified", cookie["value"]) in web_events(org))
    with scope(organization=org):
        ana = Contact.objects.get()
        assert ana.email == "ana@example.com"
        # what was recorded before consent is not hers
        assert sorted(Event.objects.filter(contact=ana, source="web").values_list("type", flat=True)) == [
            "session.started",
            "visitor.identified",
        ]
        pseudonym = unconsented_id(organization_id=org.pk, anonymous_id=pre_consent_id)
        assert Event.objects.filter(anonymous_id=pseudonym, contact__isnull=True).count() == 2  # page, session
    context.close()


def test_an_opt_in_site_sends_nothing_identifying_before_consent_whatever_the_page_says(
    browser: Any, shop: Any, live_server: Any
):
    """The page still carries the attribute of an old snippet (cookieless): the server's opt-in wins."""
    org = make_member().organization
    origin = _placeholder_origin(shop)
    shop(_site(org, origin, consent_mode="opt_in"), extra=' data-consent="cookieless"')
    context = browser.new_context()
    page = context.new_page()
    sent = record_batches(page)

    with config_read(page) as config:
        page.goto(f"{origin}/")
    assert config.value.json() == {"consent_mode": "opt_in", "honor_dnt": True}
    page.evaluate('vinculo.identify("ana@example.com", {first_name: "Ana"})')
    page.click("#cart")
    page.wait_for_timeout(2500)
    assert sent == []
    assert context.cookies() == []
    assert IngestBatch.dangerously_unscoped.count() == 0

    with batch_sent(page) as answered:
        page.evaluate("vinculo.consent(true)")
    assert answered.value.json() == {"accepted": 3, "rejected": []}
    anonymous_id = next(c["value"] for c in context.cookies() if c["name"] == "vinculo_aid")
    assert [(batch["consent"], [e["type"] for e in batch["events"]]) for batch in sent] == [
        (True, ["page", "identify", "track"])
    ]
    wait_for(lambda: len(web_events(org)) == 3)
    with scope(organization=org):
        ana = Contact.objects.get()
        assert (ana.email, ana.first_name) == ("ana@example.com", "Ana")
        assert sorted(Event.objects.filter(contact=ana, source="web").values_list("type", "anonymous_id")) == [
            ("page.viewed", anonymous_id),
            ("session.started", anonymous_id),
            ("visitor.identified", anonymous_id),
            ("web.added_to_cart", anonymous_id),
        ]
    context.close()


def test_implied_consent_tracks_from_the_first_page_until_the_visitor_refuses(
    browser: Any, shop: Any, live_server: Any
):
    org = make_member().organization
    origin = _placeholder_origin(shop)
    shop(_site(org, origin, consent_mode="implied"))
    context = browser.new_context()
    page = context.new_page()
    sent = record_batches(page)

    with batch_sent(page) as answered:
        page.goto(f"{origin}/")
    assert answered.value.json() == {"accepted": 1, "rejected": []}
    anonymous_id = next(c["value"] for c in context.cookies() if c["name"] == "vinculo_aid")
    wait_for(lambda: web_events(org) == [("page.viewed", anonymous_id)])
    assert sent[0]["consent"] is True

    page.evaluate("vinculo.consent(false)")
    assert [(c["name"], c["value"]) for c in context.cookies()] == [("vinculo_aid", "0")]
    page.goto(f"{origin}/pricing")  # the refusal is remembered on the next page
    page.wait_for_function("window.vinculo && window.vinculo._loaded === true")
    page.click("#cart")
    page.wait_for_timeout(2500)
    assert len(sent) == 1
    context.close()
