"""Playwright for Python driving Debian's chromium (`apt-get install -y chromium`): `browser`, `browser_page`.

`playwright install` cannot download browsers here, so the system chromium is launched by path.
Without it the browser tests are skipped, unless VINCULO_REQUIRE_BROWSER=1 (CI), where a missing
browser is a failure. The tests themselves are under tests/browser/ (marked `browser`).

Every page of `browser_page` (and of any context given to `PolicyViolations`) records what the
Content-Security-Policy refused, from the `securitypolicyviolation` events and the console's
"Refused to …" lines; `browser_page` fails the test that caused any.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("VINCULO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)"
        if os.environ.get("VINCULO_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright  # only where a browser test runs (a large import)

    # Playwright's sync API keeps an event loop in this thread for the whole session; the ORM
    # calls of the tests are still plain synchronous calls, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


# Runs first in every document of a watched context: each violation is kept in window.__csp and
# handed to the test at once (the page may navigate away before the test reads window.__csp).
VIOLATION_COLLECTOR = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const what = e.blockedURI || "inline";
  const sample = e.sample ? ` "${e.sample}"` : "";
  const where = e.sourceFile ? ` at ${e.sourceFile}:${e.lineNumber}` : "";
  const text = `${e.effectiveDirective} refused ${what}${sample}${where}`;
  window.__csp.push(text);
  if (window.__vinculoCspViolation) window.__vinculoCspViolation(text);
});
// htmx runs with allowEval off (base.html): code it was asked to evaluate is skipped, not refused
document.addEventListener("htmx:evalDisallowedError", (e) => {
  const text = `htmx refused to evaluate code of ${e.target.outerHTML.slice(0, 120)}`;
  window.__csp.push(text);
  if (window.__vinculoCspViolation) window.__vinculoCspViolation(text);
});
"""


class PolicyViolations:
    """What the Content-Security-Policy refused in a browser context, each with the page it was on."""

    def __init__(self, context: Any) -> None:
        self.found: list[str] = []
        self.errors: list[str] = []  # uncaught script errors (an eval refused surfaces as one)
        context.expose_binding("__vinculoCspViolation", self._event)
        context.add_init_script(VIOLATION_COLLECTOR)
        context.on("console", self._console)
        context.on(
            "weberror", lambda error: self.errors.append(f"{error.page.url if error.page else '?'}: {error.error}")
        )

    def _event(self, source: Any, text: str) -> None:
        self.found.append(f"{source['frame'].url}: {text}")

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            self.found.append(f"{message.page.url if message.page else '?'}: console: {message.text}")

    def settle(self, page: Any) -> None:
        """Let the events of what the page just did reach the test (they are dispatched as tasks)."""
        page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 50))")

    def report(self) -> str:
        return "\n".join(self.found)


@contextlib.contextmanager
def watched_page(browser: Any, live_server: Any, **options: Any) -> Iterator[Any]:
    """A tab of a fresh browser context (own cookies; `options` such as `timezone_id` go to
    `new_context`) pointed at the live test server; fails the test if any page it opened broke the
    Content-Security-Policy."""
    context = browser.new_context(
        base_url=live_server.url, **{"locale": "en-GB", "viewport": {"width": 1280, "height": 900}, **options}
    )
    context.set_default_timeout(15_000)
    violations = PolicyViolations(context)
    page = context.new_page()
    yield page
    if not page.is_closed():
        with contextlib.suppress(Exception):  # a page left mid-navigation: what it saw is already in
            violations.settle(page)
    context.close()
    assert not violations.found, f"Content-Security-Policy violations:\n{violations.report()}"


@pytest.fixture
def browser_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser tab (own cookies) pointed at the live test server; the test fails if any page
    it opened broke the Content-Security-Policy."""
    with watched_page(browser, live_server) as page:
        yield page


def pick_record(page: Any, label: str, typed: str, choice: str, *, nth: int = 0) -> None:
    """Choose a record in a picker (a <select data-picker> made a combobox by picker.js): type into
    the box named `label`, then click the suggestion whose text contains `choice`."""
    box = page.get_by_role("combobox", name=label, exact=True).nth(nth)
    from playwright.sync_api import expect  # only where a browser test runs (a large import)

    # a row added a moment ago still has its plain <select> until picker.js makes it a search box
    expect(box).to_have_js_property("tagName", "INPUT")
    box.fill(typed)
    page.get_by_role("option", name=choice).click()


def open_user_menu(page: Any) -> None:
    """Open the user menu of the top bar once Bootstrap (a deferred script) runs: a click before
    it is lost, and the menu's links would never show."""
    from playwright.sync_api import expect  # only where a browser test runs (a large import)

    page.wait_for_load_state("load")
    page.locator("#user-menu").click()
    expect(page.locator("#user-menu")).to_have_attribute("aria-expanded", "true")
