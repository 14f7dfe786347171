"""Every page of Vínculo under its Content-Security-Policy, in a real browser: not one violation.

The walk opens every route of the URL configuration (tests/site_map.py, the list the tenancy walker
uses, so a new page is walked as soon as it exists) with one real record of every kind, signed out
for the sign-in pages, the links sent by e-mail and the public side, signed in for the rest. Then
the parts that change the page after it loaded: an HTMX search, menus, the deal board's drag library
and its dialog, a chart, the form builder, a note, tag colours and the hosted form sending its
visitor on to another website. Violations come from the `securitypolicyviolation` events and the
console (vinculo/core/testing/browser.py: `PolicyViolations`).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.page_walk import log_in, page_walk, walk_records
from vinculo.accounts.testing import make_member
from vinculo.core.testing.browser import PolicyViolations
from vinculo.touchpoints.models import WebForm

pytestmark = pytest.mark.django_db(transaction=True)

LABEL = "Propia"

# Pages the walk must have seen rendered (200, HTML): the issue names them.
MUST_RENDER = {
    "accounts:login",
    "accounts:signup",
    "accounts:password_reset",
    "accounts:password_reset_confirm",
    "accounts:invitation_accept",
    "org:settings",
    "org:home",
    "contacts:contact_list",
    "contacts:contact_detail",
    "contacts:company_detail",
    "contacts:tag_list",
    "sales:deal_board",
    "sales:deal_detail",
    "sales:quote_detail",
    "sales:quote_print",
    "sales:order_detail",
    "sales:agenda",
    "sales:forecast",
    "sales:effectiveness",
    "sales:assignment_rule_list",
    "touchpoints:web_form_create",
    "touchpoints:web_form_detail",
    "touchpoints:email_thread_detail",
    "public:web_form_hosted",
    "public:web_form_confirm",
    "unsubscribe:preferences",
    "unsubscribe:one_click",
    "messaging:suppression_list",
    "api:openapi-view",
}


def test_every_page_opens_without_a_policy_violation(browser: Any, live_server: Any):
    owner = make_member(full_name="Olga Owner")
    data = walk_records(owner, LABEL)
    walk = page_walk(owner, data)
    assert len(walk) > 150

    answers: dict[str, tuple[int, str]] = {}
    unguarded = []  # pages served without a policy
    for signed_out in (True, False):
        context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        violations = PolicyViolations(context)
        try:
            page = context.new_page()
            if not signed_out:
                log_in(page, owner.user.email)
            for name, url, anonymous in walk:
                if anonymous != signed_out:
                    continue
                # ask first: a CSV, a PDF or a calendar would be a download, and a 405 (a POST-only
                # action) has nothing to show
                answer = context.request.get(url)
                content_type = answer.headers.get("content-type", "")
                status = answer.status
                # a message's own HTML (the outbox) is served sandboxed under its own policy, for a
                # frame of its page: a document of the sender's, not a page of Vínculo's
                framed = "sandbox" in answer.headers.get("content-security-policy", "")
                if content_type.startswith("text/html") and status == 200 and not framed:
                    response = page.goto(url)
                    assert response is not None
                    status = response.status
                    if "content-security-policy" not in response.headers:
                        unguarded.append(name)
                    violations.settle(page)
                answers[name] = (status, content_type.split(";")[0])
            page.wait_for_timeout(100)  # the last page's reports
        finally:
            context.close()
        assert violations.found == [], f"Content-Security-Policy violations:\n{violations.report()}"
        assert violations.errors == [], "script errors:\n" + "\n".join(violations.errors)

    assert unguarded == []
    assert {name: status for name, (status, _type) in answers.items() if status >= 500} == {}
    rendered = {name for name, (status, kind) in answers.items() if (status, kind) == (200, "text/html")}
    assert MUST_RENDER - rendered == set()
    assert len(rendered) >= 125  # 131 of the 193 routes today; the others are POST-only actions or files
    # what is not a page is a file or an answer for machines
    assert {answers[name][1] for name in ("sales:quote_pdf", "sales:effectiveness_csv", "ical:feed")} == {
        "application/pdf",
        "text/csv",
        "text/calendar",
    }


def test_what_changes_a_page_stays_within_the_policy(browser_page: Page, shop_site: Any, settings: Any):
    """The violations of these steps fail the test through `browser_page`."""
    settings.VINCULO_FORM_MIN_FILL_SECONDS = 0
    page = browser_page
    owner = make_member(full_name="Olga Owner")
    data = walk_records(owner, LABEL)
    slug = owner.organization.slug
    log_in(page, owner.user.email)
    page.goto(f"/o/{slug}/contacts/")

    # htmx injects no <style> of its own, and the tags take their colours from the script
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    badge = page.locator("#results .tag-badge").first
    expect(badge).to_have_text(f"{LABEL}-tag")
    expect(badge).to_have_css("background-color", "rgb(255, 215, 0)")

    # the list's search box swaps the results in; leaving it sends nothing more (its change event
    # does not reach the filters' form), the next filter does
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if "/contacts/?" in request.url else None)
    with page.expect_response(lambda response: "q=Propia" in response.url):
        page.locator("#filter-q").fill("Propia")
    expect(page.locator("#results .tag-badge").first).to_have_css("background-color", "rgb(255, 215, 0)")
    page.locator("#filter-q").press("Tab")
    with page.expect_response(lambda response: "owner=me" in response.url):
        page.locator("#filter-owner").select_option("me")
    assert [url.split("?", 1)[1] for url in requests] == ["q=Propia", "q=Propia&owner=me"]

    # a menu of the navigation opens
    page.locator("#sales-menu").click()
    expect(page.get_by_role("link", name="Forecast")).to_be_visible()

    # the board: the drag library runs and the "Move to…" dialog opens
    page.goto(f"/o/{slug}/deals/board/")
    page.wait_for_function("() => typeof window.Sortable === 'function'")
    page.get_by_role("button", name=f"Move {LABEL} deal to…").click()
    expect(page.locator("#move-modal")).to_be_visible()
    # shown (Bootstrap focuses the dialog once its fade-in ends): a Cancel during the fade is ignored
    expect(page.locator("#move-modal")).to_be_focused()
    page.locator("#move-modal").get_by_role("button", name="Cancel").click()
    expect(page.locator("#move-modal")).to_be_hidden()

    # a chart draws
    page.goto(f"/o/{slug}/sales/forecast/")
    page.wait_for_function("() => !!document.querySelector('canvas[data-report-chart]')._chart")

    # the form builder adds a field with HTMX (hx-vals, no code) and previews it
    page.goto(f"/o/{slug}/web-forms/new/")
    rows = page.locator("#builder-rows li.field-row")
    before = rows.count()
    page.locator("#add-field").click()
    expect(rows).to_have_count(before + 1)

    # a note joins the timeline without reloading the page
    page.goto(f"/o/{slug}/contacts/{data['contact']}/")
    page.get_by_label("Add a note").fill("Policy-proof note")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline-list > li").first).to_contain_text("Policy-proof note")
    expect(page.locator(".tag-badge").first).to_have_css("background-color", "rgb(255, 215, 0)")

    # the hosted form sends its visitor on to the form's thank-you page on another website
    thanks = shop_site("<!doctype html><title>Thanks</title><h1>Thanks for writing</h1>") + "/thanks"
    WebForm.dangerously_unscoped.filter(pk=data["web_form"]).update(
        redirect_url=thanks, fields=[{"name": "email", "label": "E-mail", "type": "email", "maps_to": "email"}]
    )
    form = WebForm.dangerously_unscoped.get(pk=data["web_form"])
    page.goto(f"/f/{form.public_key}/")
    page.get_by_label("E-mail").fill("visitor@example.com")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thanks for writing")).to_be_visible()
    assert page.url == thanks
