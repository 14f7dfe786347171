"""The time-zone select (600 zones) is a search box in a real browser, wherever it is: type "madr",
pick Europe/Madrid with the keyboard, save, and Europe/Madrid is what is stored, on the member's
profile, the organisation's settings, a contact and the sign-up (which still starts from the
browser's own zone). The box searches the select's own options, in any case, with spaces for
underscores."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django_scopes import scope
from playwright.sync_api import Locator, Page, expect

from vinculo.accounts.models import Membership, Organization, User
from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.contacts.models import Contact
from vinculo.core.testing.browser import PolicyViolations

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()  # the home page


def time_zone_box(page: Page) -> Locator:
    box = page.get_by_role("combobox", name="Time zone")
    expect(box).to_have_js_property("tagName", "INPUT")  # picker.js made the select a search box
    return box


def suggestions(page: Page, box: Locator) -> list[str]:
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    expect(listbox).to_be_visible()
    return [t.strip() for t in listbox.get_by_role("option").all_inner_texts()]


def pick_madrid(page: Page) -> None:
    """Type "madr", go down to Europe/Madrid with the arrow keys and take it with Enter."""
    box = time_zone_box(page)
    box.fill("")
    box.press_sequentially("madr")
    expect(page.get_by_role("option", name="Europe/Madrid")).to_be_visible()
    assert suggestions(page, box) == ["Europe/Madrid"]
    box.press("ArrowDown")  # one match: the arrow wraps back onto it
    expect(box).to_have_attribute("aria-activedescendant", re.compile(r"-listbox-0$"))
    box.press("Enter")  # takes it, does not send the form
    expect(box).to_have_value("Europe/Madrid")
    expect(box).to_have_attribute("aria-expanded", "false")


def test_the_profile_finds_zones_as_typed_and_keeps_the_one_picked(browser_page: Page):
    page = browser_page
    member = make_member(email="ana@example.com")
    log_in(page, "ana@example.com")
    page.goto("/accounts/profile/")
    box = time_zone_box(page)
    expect(box).to_have_value("UTC")

    # any case; underscores are spaces; an exact name comes first
    for typed, first in (("Madrid", "Europe/Madrid"), ("new york", "America/New York"), ("utc", "UTC")):
        box.fill(typed)
        expect(page.get_by_role("option", name=first, exact=True)).to_be_visible()
        assert suggestions(page, box)[0] == first
    box.fill("NEW_YORK")
    expect(page.get_by_role("option", name="America/New York")).to_be_visible()
    box.fill("atlantis")
    expect(page.locator(f"#{box.get_attribute('aria-controls')}")).to_have_text("No time zone matches.")
    box.press("Escape")
    expect(box).to_have_value("UTC")  # nothing picked: the zone stays

    pick_madrid(page)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_be_visible()
    member.user.refresh_from_db()
    assert member.user.time_zone == "Europe/Madrid"
    expect(time_zone_box(page)).to_have_value("Europe/Madrid")


def test_the_organisation_settings_and_a_contact_take_a_zone_picked_by_keyboard(browser_page: Page):
    page = browser_page
    owner = make_member(email="owner@example.com")
    org = owner.organization
    log_in(page, "owner@example.com")

    page.goto(f"/o/{org.slug}/settings/")
    pick_madrid(page)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_be_visible()
    assert Organization.objects.get(pk=org.pk).time_zone == "Europe/Madrid"

    page.goto(f"/o/{org.slug}/contacts/new/")
    page.get_by_label("First name").fill("Lucía")
    pick_madrid(page)
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", name=re.compile("Lucía"))).to_be_visible()
    with scope(organization=org):
        assert Contact.objects.get(first_name="Lucía").time_zone == "Europe/Madrid"


@pytest.fixture
def new_york_page(browser: Any, live_server: Any) -> Iterator[Page]:
    """A tab of a browser whose clock is in New York, failing the test on any policy violation."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        timezone_id="America/New_York",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(15_000)
    violations = PolicyViolations(context)
    page = context.new_page()
    yield page
    with contextlib.suppress(Exception):
        violations.settle(page)
    context.close()
    assert not violations.found, f"Content-Security-Policy violations:\n{violations.report()}"


def sign_up(page: Page, name: str, email: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("a sturdy password 2026")
    page.get_by_label("Company name").fill(f"{name} Co")


def test_sign_up_starts_from_the_browsers_zone_and_takes_another_picked_by_keyboard(new_york_page: Page):
    page = new_york_page

    # the browser's zone, shown in the box as people write it
    page.goto("/accounts/signup/")
    expect(time_zone_box(page)).to_have_value("America/New York")
    sign_up(page, "Nora York", "nora@example.com")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Hello, Nora York")).to_be_visible()
    assert User.objects.get(email="nora@example.com").time_zone == "America/New_York"

    page.context.clear_cookies()
    page.goto("/accounts/signup/")
    expect(time_zone_box(page)).to_have_value("America/New York")
    sign_up(page, "Mara Madrid", "mara@example.com")
    pick_madrid(page)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Hello, Mara Madrid")).to_be_visible()
    membership = Membership.objects.select_related("user", "organization").get(user__email="mara@example.com")
    assert (membership.user.time_zone, membership.organization.time_zone) == ("Europe/Madrid", "Europe/Madrid")
