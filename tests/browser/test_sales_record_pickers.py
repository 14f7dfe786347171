"""Record pickers in a real browser: in a deal form, the contact picker finds the 250th contact of
the organisation by typing part of her name (the select alone offers the first 200), with the
keyboard; the deal is saved with her. No Content-Security-Policy violation (browser_page)."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.contacts.factories import ContactFactory
from vinculo.contacts.testing import make_contact
from vinculo.sales.models import Deal
from vinculo.sales.testing import make_pipeline

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_deal_forms_contact_picker_finds_the_250th_contact(browser_page: Page):
    page = browser_page
    owner = make_member(email="rep@example.com")
    org = owner.organization
    make_pipeline(org)
    with scope(organization=org):
        ContactFactory.create_batch(
            249, organization=org, first_name="Ana", last_name="Alonso", search_text="ana alonso"
        )
    target = make_contact(owner, first_name="Zacarías", last_name="Quintanilla", emails=["zq@example.net"])
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("rep@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()  # the home page

    page.goto(f"/o/{org.slug}/deals/new/")
    page.get_by_label("Title").fill("Kayaks for Zacarías")
    box = page.get_by_role("combobox", name="Contact", exact=True)
    box.fill("quintan")
    option = page.get_by_role("option", name="Zacarías Quintanilla")
    expect(option).to_be_visible()
    expect(option).to_contain_text("zq@example.net")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")  # one match: the arrow wraps back onto it
    box.press("Enter")  # picks it, does not send the form
    expect(box).to_have_value("Zacarías Quintanilla")
    expect(box).to_have_attribute("aria-expanded", "false")
    page.get_by_role("button", name="Create deal").click()

    expect(page.get_by_role("heading", name="Kayaks for Zacarías")).to_be_visible()
    assert Deal.dangerously_unscoped.get(title="Kayaks for Zacarías").contact_id == target.pk
