"""The first minutes of a new organisation in a real browser: sign up (the time zone is taken from
the browser's), land on the home page with its getting-started checklist, create a contact from
it, see the step tick itself, and put the checklist away for good."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from vinculo.accounts.models import Membership


def test_sign_up_in_madrid_follow_the_checklist_and_dismiss_it(madrid_page: Page):
    page = madrid_page

    page.goto("/accounts/signup/")
    # from the browser, by signup.js, shown in the time-zone search box (picker.js)
    expect(page.get_by_role("combobox", name="Time zone")).to_have_value("Europe/Madrid")
    page.get_by_label("Your name").fill("Ana Torres")
    page.get_by_label("E-mail").fill("ana@probe-co.test")
    page.get_by_label("Password").fill("a sturdy password 2026")
    page.get_by_label("Company name").fill("Probe Co")
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_role("heading", name="Hello, Ana Torres")).to_be_visible()
    membership = Membership.objects.select_related("user", "organization").get(user__email="ana@probe-co.test")
    assert (membership.user.time_zone, membership.organization.time_zone) == ("Europe/Madrid", "Europe/Madrid")
    assert (membership.user.language, membership.organization.language) == ("en", "en")
    checklist = page.get_by_role("region", name="Getting started")
    expect(checklist).to_contain_text("0 of 6 steps done")
    expect(page.locator('[data-checklist="contacts"]')).not_to_have_class(re.compile("checklist-done"))

    # the step links to where it is done
    checklist.get_by_role("link", name="Import your contacts or create one").click()
    page.get_by_label("First name").fill("Lucía")
    page.get_by_label("Last name").fill("Martín")
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", name=re.compile("Lucía Martín"))).to_be_visible()

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="My day").click()
    expect(page.locator('[data-checklist="contacts"]')).to_have_class(re.compile("checklist-done"))
    expect(checklist).to_contain_text("1 of 6 steps done")
    # what I just did is among my recent records
    expect(page.get_by_role("region", name="Recent records").get_by_role("link", name="Lucía Martín")).to_be_visible()

    # dismissed in place, and it does not come back
    checklist.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_role("region", name="Getting started")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Hello, Ana Torres")).to_be_visible()
    expect(page.get_by_role("region", name="Getting started")).to_have_count(0)
