"""Web forms in a real browser: a visitor fills the hosted form (an error first, then right), then
the team sees the contact with "Form submitted" on its timeline and the consent in its panel; and
the embed snippet on another website's page, talking to Vínculo across origins."""

from __future__ import annotations

import pytest
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.contacts.models import Contact
from vinculo.messaging.models import Consent
from vinculo.messaging.testing import make_subscription_type
from vinculo.touchpoints.models import FormSubmission, WebForm
from vinculo.touchpoints.services import forms as services

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = [
    {"name": "first_name", "label": "First name", "type": "text", "maps_to": "first_name"},
    {"name": "email", "label": "Work e-mail", "type": "email", "required": True, "maps_to": "email"},
    {"name": "message", "label": "Message", "type": "textarea"},
]
CONSENTS = [{"key": "newsletter", "text": "Send me the monthly newsletter.", "required": True}]


def make_form(**data):
    owner = make_member(full_name="Marta Ruiz", email="marta@example.com")
    make_subscription_type(owner.organization, "newsletter")
    with scope(organization=owner.organization):
        form = services.web_form_create(
            actor=owner, data={"name": "Ask us", "fields": FIELDS, "consents": CONSENTS, "notify_owner": False, **data}
        )
    return owner, form


def test_a_visitor_fills_the_hosted_form_and_the_team_sees_it(browser_page: Page, settings):
    settings.VINCULO_FORM_MIN_FILL_SECONDS = 0  # the robot types faster than a person
    owner, form = make_form()
    page = browser_page

    page.set_viewport_size({"width": 375, "height": 740})  # a phone
    page.goto(f"/f/{form.public_key}/")
    expect(page.get_by_role("heading", name="Ask us")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the screen
    expect(page.locator("#org-name")).to_have_text(owner.organization.name)
    page.get_by_label("First name").fill("Lucía")
    page.get_by_label("Work e-mail").fill("lucia@")
    page.get_by_label("Message").fill("Call me after 5pm.")
    page.get_by_role("button", name="Send").click()

    # the error is next to its field, and what was typed is still there
    email = page.get_by_label("Work e-mail")
    expect(email).to_have_value("lucia@")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#vf-{form.public_key}-email-error")).to_have_text("“lucia@” is not a valid e-mail address.")
    expect(page.locator(f"#vf-{form.public_key}-consent-newsletter-error")).to_have_text("Tick this box to continue.")
    expect(page.get_by_label("First name")).to_have_value("Lucía")
    expect(page.get_by_label("Message")).to_have_value("Call me after 5pm.")
    assert FormSubmission.dangerously_unscoped.count() == 0

    email.fill("lucia@example.com")
    page.get_by_label("Send me the monthly newsletter.").check()
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#form-message")).to_have_text("Thank you! We have received your details.")

    contact = Contact.dangerously_unscoped.get()
    assert (contact.first_name, contact.email, contact.source, contact.owner_id) == (
        "Lucía",
        "lucia@example.com",
        "form",
        owner.user_id,
    )
    consent = Consent.dangerously_unscoped.get()
    assert (consent.subscription_type.key, consent.text, consent.page_url) == (
        "newsletter",
        "Send me the monthly newsletter.",
        f"{page.url.split('/f/')[0]}/f/{form.public_key}/",
    )

    # the team logs in and finds the contact, its timeline and its consent
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("marta@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/o/{owner.organization.slug}/contacts/{contact.pk}/")
    expect(page.get_by_role("heading", name="Lucía")).to_be_visible()
    expect(page.locator('[data-type="form.submitted"]').get_by_text("Form submitted")).to_be_visible()
    panel = page.locator("#panel-consents")
    row = panel.locator(".subscription-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("newsletter")
    expect(row).to_contain_text("Send me the monthly newsletter.")
    expect(row).to_contain_text("version 1")
    expect(row).to_contain_text("127.0.0.1")


def test_the_embed_snippet_works_on_another_website(browser_page: Page, live_server, settings, shop_site):
    settings.VINCULO_FORM_MIN_FILL_SECONDS = 0
    shop = shop_site("")
    _owner, form = make_form(allowed_origins=[shop], success_message="Gracias, te escribimos pronto.")
    page = browser_page
    # the shop has a strict Content-Security-Policy of its own: Vínculo's script and requests only
    policy = f"default-src 'self'; script-src {live_server.url}; connect-src {live_server.url}; style-src 'self'"
    shop_site(
        "<!doctype html><html lang='en'><head><title>Shop</title>"
        f'<meta http-equiv="Content-Security-Policy" content="{policy}"></head><body><h1>Our shop</h1>'
        f'<div data-vinculo-form="{form.public_key}"></div>'
        f'<script async src="{live_server.url}/f/embed.js"></script></body></html>'
    )
    page.goto(f"{shop}/contact")
    expect(page.get_by_label("Work e-mail")).to_be_visible()
    expect(page.locator("input[name=homepage]")).not_to_be_in_viewport()  # the honeypot, off screen
    page.get_by_label("Work e-mail").fill("not-an-email")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".vf-error").first).to_have_text("“not-an-email” is not a valid e-mail address.")
    expect(page.get_by_label("Work e-mail")).to_have_value("not-an-email")

    page.get_by_label("Work e-mail").fill("pedro@example.com")
    page.get_by_label("Send me the monthly newsletter.").check()
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".vf-message")).to_have_text("Gracias, te escribimos pronto.")
    submission = FormSubmission.dangerously_unscoped.get()
    assert (submission.status, submission.page_url) == ("accepted", f"{shop}/contact")
    assert Contact.dangerously_unscoped.get().email == "pedro@example.com"


def test_building_a_form_with_the_builder(browser_page: Page):
    owner = make_member(full_name="Marta Ruiz", email="marta@example.com")
    make_subscription_type(owner.organization, "newsletter")
    page = browser_page
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("marta@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/o/{owner.organization.slug}/web-forms/new/")
    preview = page.locator("#form-preview")
    expect(preview.locator("input[name=email]")).to_be_visible()  # the preview loads by itself

    page.get_by_label("Name", exact=True).fill("Demo request")
    page.get_by_role("button", name="Add a field").click()
    expect(page.locator(".field-row")).to_have_count(3)
    page.locator("#fields-2-label").fill("Product")
    page.locator("#fields-2-name").fill("product")
    page.locator("#fields-2-maps_to").fill("custom.product")
    page.locator("#fields-2-type").select_option("select")
    options = page.locator("#fields-2-options")
    expect(options).to_be_visible()  # the row is redrawn with its options box
    expect(page.locator("#fields-2-label")).to_have_value("Product")
    options.fill("CRM\nERP")
    expect(preview.locator("select[name=product] option")).to_have_count(3)  # "Choose…", CRM, ERP

    page.get_by_role("button", name="Add a consent checkbox").click()
    page.locator("#consents-0-key").select_option("newsletter")
    page.locator("#consents-0-text").fill("Send me news.")
    expect(preview.get_by_text("Send me news.")).to_be_visible()
    page.locator(".field-row").nth(2).get_by_role("button", name="Move up").click()
    expect(page.locator("#fields-1-name")).to_have_value("product")
    # drag the e-mail field (third) to the top by its handle, and back down with the button
    expect(page.locator("#field-rows")).to_have_attribute("data-sortable", "1")  # redrawn rows are draggable
    page.set_viewport_size({"width": 1280, "height": 1600})  # every row on screen, below the sticky menu
    page.evaluate(
        "window.scrollTo(0, document.getElementById('field-rows').getBoundingClientRect().top + scrollY - 120)"
    )
    handle = page.locator(".field-row").nth(2).locator(".drag-handle").bounding_box()
    top = page.locator(".field-row").nth(0).bounding_box()
    assert handle is not None
    assert top is not None
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(top["x"] + top["width"] / 2, top["y"] + 2, steps=20)
    page.mouse.up()
    expect(page.locator("#fields-0-name")).to_have_value("email")
    expect(page.locator("#fields-1-name")).to_have_value("first_name")
    page.locator(".field-row").nth(0).get_by_role("button", name="Move down").click()
    expect(page.locator("#fields-1-name")).to_have_value("email")
    page.locator(".field-row").nth(1).get_by_role("button", name="Move down").click()
    expect(page.locator("#fields-2-name")).to_have_value("email")

    page.get_by_role("button", name="Create form").click()
    expect(page.locator("#embed-snippet")).to_be_visible()
    form = WebForm.dangerously_unscoped.get()
    assert [f["name"] for f in form.fields] == ["first_name", "product", "email"]  # after the drag and back
    assert form.fields[1]["options"] == ["CRM", "ERP"]
    assert form.consents == [{"key": "newsletter", "text": "Send me news.", "version": "1", "required": False}]
    expect(page.locator("#embed-snippet")).to_have_value(
        f'<div data-vinculo-form="{form.public_key}"></div>\n'
        f'<script async src="{page.url.split("/o/")[0]}/f/embed.js"></script>'
    )
