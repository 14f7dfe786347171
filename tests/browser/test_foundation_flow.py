"""The foundation as a new user meets it, in a real browser (Debian's chromium via Playwright).

Sign up, log out and in, create a contact, add a note, find the contact with the search box, see
the note on the timeline, switch to Spanish; then the timeline's scroll loading and a phone-sized
screen.
"""

from __future__ import annotations

import re

import pytest
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.models import Membership, User
from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.contacts.models import Contact, Note
from vinculo.contacts.services import contact_create, note_create
from vinculo.core.testing.browser import open_user_menu

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_sign_up_create_a_contact_add_a_note_search_and_switch_to_spanish(browser_page: Page):
    page = browser_page

    # sign up: a user, an organisation, and the home page of that organisation
    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Lucía Romero")
    page.get_by_label("E-mail").fill("lucia@example.com")
    page.get_by_label("Password").fill("a sturdy password 2026")
    page.get_by_label("Company name").fill("Romero Distribuciones")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Hello, Lucía Romero")).to_be_visible()
    membership = Membership.objects.select_related("organization").get(user__email="lucia@example.com")
    assert (membership.role, membership.organization.name) == ("owner", "Romero Distribuciones")
    slug = membership.organization.slug
    assert page.url.endswith(f"/o/{slug}/")

    # log out, and back in
    open_user_menu(page)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    log_in(page, "lucia@example.com", "a sturdy password 2026")
    expect(page.get_by_role("heading", name="Hello, Lucía Romero")).to_be_visible()
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()

    # create a contact
    page.get_by_role("link", name="New contact").click()
    page.get_by_label("First name").fill("José")
    page.get_by_label("Last name").fill("García Pérez")
    page.get_by_label("E-mail addresses").fill("jose.garcia@example.com")
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", name=re.compile("José García Pérez"))).to_be_visible()
    with scope(organization=membership.organization):
        contact = Contact.objects.get(first_name="José")
    assert (contact.last_name, contact.email) == ("García Pérez", "jose.garcia@example.com")
    detail_url = page.url

    # add a note: it appears at the top of the timeline without reloading the page
    page.get_by_label("Add a note").fill("Called about the spring order; send prices on Monday.")
    page.get_by_role("button", name="Add note").click()
    first_entry = page.locator("#timeline-list > li").first
    expect(first_entry).to_contain_text("Called about the spring order; send prices on Monday.")
    assert page.url == detail_url
    with scope(organization=membership.organization):
        assert list(Note.objects.filter(contact=contact).values_list("body", flat=True)) == [
            "Called about the spring order; send prices on Monday."
        ]

    # find the contact with the search box, without the accent and with part of a word
    page.goto(f"/o/{slug}/contacts/")
    search = page.get_by_role("searchbox", name="Search contacts and companies")
    search.fill("garcia per")
    search.press("Enter")
    expect(page.get_by_role("heading", name="Search")).to_be_visible()
    page.get_by_role("link", name="José García Pérez").first.click()

    # the note is on the contact's timeline, after the record's creation
    expect(page.locator("#timeline-list")).to_contain_text("Called about the spring order")
    entries = page.locator("#timeline-list > li.timeline-entry")
    expect(entries).to_have_count(2)
    expect(entries.nth(1)).to_have_attribute("data-type", "contact.created")

    # switch the language to Spanish: the same page now speaks Spanish
    open_user_menu(page)
    page.get_by_role("link", name="Profile and language").click()
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Save").click()
    assert User.objects.get(email="lucia@example.com").language == "es"
    page.goto(detail_url)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    nav = page.get_by_role("navigation", name="Navegación principal")
    expect(nav.get_by_role("link", name="Contactos")).to_be_visible()
    expect(nav.get_by_role("link", name="Empresas")).to_be_visible()
    expect(page.get_by_role("button", name="Añadir nota")).to_be_visible()


def test_older_timeline_entries_load_as_you_scroll(browser_page: Page):
    owner = make_member()
    org = owner.organization
    with scope(organization=org):
        contact = contact_create(actor=owner, data={"first_name": "Marta", "last_name": "Vidal"})
        for i in range(1, 71):
            note_create(actor=owner, contact=contact, body=f"Note number {i:02}")
    page = browser_page
    log_in(page, owner.user.email, PASSWORD)
    page.goto(f"/o/{org.slug}/contacts/{contact.pk}/")
    entries = page.locator("#timeline-list > li.timeline-entry")
    expect(entries.first).to_contain_text("Note number 70")
    first_batch = entries.count()
    assert 0 < first_batch < 71

    # scrolling to the end of the list loads the older entries, down to the record's creation
    for _ in range(10):
        if entries.count() == 71:
            break
        page.mouse.wheel(0, 20_000)  # the user scrolls down
        page.wait_for_timeout(300)
    expect(entries).to_have_count(71)
    expect(entries.nth(69)).to_contain_text("Note number 01")
    expect(entries.last).to_have_attribute("data-type", "contact.created")


def test_contacts_list_fits_a_phone_screen(browser: object, live_server: object):
    owner = make_member()
    with scope(organization=owner.organization):
        for i in range(12):
            contact_create(actor=owner, data={"first_name": f"Persona {i}", "emails": [f"persona{i}@example.com"]})
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        log_in(page, owner.user.email, PASSWORD)
        expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()
        home_overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert home_overflow == 0  # the home page fits too
        page.goto(f"/o/{owner.organization.slug}/contacts/")
        expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
        expect(page.get_by_role("link", name="Persona 0")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow == 0
        # the navigation collapses behind the menu button
        page.get_by_role("button", name="Menu").click()
        expect(page.get_by_role("link", name="Companies")).to_be_visible()
    finally:
        context.close()
