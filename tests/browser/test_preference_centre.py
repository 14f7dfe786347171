"""The preference centre in a real browser: a double opt-in e-mail kept in the outbox carries the
link; the contact opens it, unsubscribes from everything and sees their state; the owner sees the
address on the suppression list. The pages keep the Content-Security-Policy (browser_page)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.messaging.models import ContactSubscription, OutgoingMessage
from vinculo.touchpoints.testing.forms import GOOD, make_form, submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_open_the_preference_centre_from_an_outbox_message_and_unsubscribe_from_everything(
    browser_page: Page, live_server: Any, settings: Any
):
    settings.VINCULO_RELAY_CONFIGURED = False  # the confirmation is kept in the outbox
    settings.SITE_URL = live_server.url
    owner = make_member(full_name="Ana Torres")
    org = owner.organization
    form = make_form(owner, double_opt_in=True, notify_owner=False)
    submit(form, **GOOD)
    page = browser_page
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(owner.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    message = OutgoingMessage.dangerously_unscoped.get(organization=org, to_address="ana@example.com")
    page.goto(f"/o/{org.slug}/outbox/{message.pk}/")
    body = page.locator("#message-text").inner_text()
    link = re.search(r"https?://\S+/p/\S+/", body)
    assert link is not None
    expect(page.locator("#message-headers")).to_contain_text("List-Unsubscribe")

    page.goto(link[0])
    expect(page.get_by_role("heading", name="Your e-mail preferences")).to_be_visible()
    expect(page.locator("nav")).to_have_count(0)  # no Vínculo navigation
    # the form's consent waits for the confirmation: not yet received, and said so
    expect(page.get_by_label("Newsletter")).not_to_be_checked()
    expect(page.locator("#pending-newsletter")).to_have_text("Waiting for you to confirm your e-mail address.")
    page.get_by_role("button", name="Unsubscribe from everything").click()
    expect(page.locator("#preferences-saved")).to_have_text("Your preferences are saved.")
    expect(page.locator("#preferences-suppressed")).to_contain_text("You are unsubscribed from everything")
    expect(page.get_by_label("Newsletter")).not_to_be_checked()
    expect(page.locator("#pending-newsletter")).to_have_count(0)
    with scope(organization=org):
        states = set(ContactSubscription.objects.values_list("subscription_type__key", "status"))
    assert states == {("newsletter", "unsubscribed"), ("partners", "unsubscribed"), ("terms", "unsubscribed")}

    page.goto(f"/o/{org.slug}/settings/suppression-list/")
    row = page.locator("#suppression-list tbody tr").first
    expect(row).to_contain_text("ana@example.com")
    expect(row).to_contain_text("unsubscribed")
