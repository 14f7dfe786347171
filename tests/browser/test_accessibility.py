"""Every page of Vínculo checked by axe-core (WCAG 2.1 A and AA) in chromium: no serious and no
critical finding on any page, signed in and signed out.

axe-core is vendored for the tests (tests/browser/vendor/axe-core, from npm by
scripts/fetch-vendor.sh) and injected into each page; the walk is the one of the
Content-Security-Policy test (tests/page_walk.py), whose policy the injection would break, so this
walk's browser bypasses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.page_walk import log_in, page_walk, walk_records
from vinculo.accounts.testing import make_member
from vinculo.sales.testing import make_deal, make_pipeline

pytestmark = pytest.mark.django_db(transaction=True)

AXE = (Path(__file__).parent / "vendor/axe-core/axe.min.js").read_text()
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    resultTypes: ["violations"],
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " — " + n.failureSummary.split("\\n").slice(1, 2).join(""))}));
}"""


def _findings(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(content=AXE)
    return page.evaluate(RUN_AXE)


def _walk_with_axe(browser: Any, live_server: Any, owner: Any, walk: list[tuple[str, str, bool]], locale: str) -> dict:
    found: dict[str, list[dict[str, Any]]] = {}
    pages = 0
    for signed_out in (True, False):
        context = browser.new_context(
            base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900}, bypass_csp=True
        )
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            if not signed_out:
                log_in(page, owner.user.email)
            for name, url, anonymous in walk:
                if anonymous != signed_out:
                    continue
                answer = context.request.get(url)
                if answer.status != 200 or not answer.headers.get("content-type", "").startswith("text/html"):
                    continue
                if "sandbox" in answer.headers.get("content-security-policy", ""):
                    continue  # a message's own HTML, for a sandboxed frame of its page (the outbox)
                if not answer.text().lstrip().lower().startswith("<!doctype html"):
                    continue  # a fragment HTMX swaps into a page (checked as part of that page), not a document
                page.goto(url)
                pages += 1
                findings = _findings(page)
                if findings:
                    found[name] = findings
        finally:
            context.close()
    assert pages >= 125
    return found


def _report(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for name, findings in found.items():
        for finding in findings:
            lines.append(f"{name}: {finding['impact']} {finding['id']} ({finding['help']})")
            lines.extend(f"    {node}" for node in finding["nodes"])
    return "\n".join(lines)


def test_every_page_has_no_serious_or_critical_accessibility_finding(browser: Any, live_server: Any):
    owner = make_member(full_name="Olga Owner")
    data = walk_records(owner, "Propia")
    walk = page_walk(owner, data)
    found = _walk_with_axe(browser, live_server, owner, walk, "en-GB")
    assert found == {}, "axe-core findings:\n" + _report(found)


def test_a_skip_link_leads_past_the_navigation_to_the_page(browser_page: Page):
    page = browser_page
    owner = make_member(full_name="Olga Owner")
    log_in(page, owner.user.email)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#content")).to_be_focused()


def test_closing_a_dialog_gives_the_focus_back_to_what_opened_it(browser_page: Page):
    page = browser_page
    owner = make_member(full_name="Olga Owner")
    make_pipeline(owner.organization)
    make_deal(owner, title="Tents for Aragón", amount="1000.00")
    log_in(page, owner.user.email)
    page.goto(f"/o/{owner.organization.slug}/deals/board/")
    opener = page.get_by_role("button", name="Move Tents for Aragón to…")
    opener.click()
    dialog = page.get_by_role("dialog", name="Move to…")
    expect(dialog).to_be_focused()  # shown: the dialog takes the focus
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    opener.click()
    expect(dialog).to_be_focused()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
