"""E-mail from the first run, in a real browser: with no SMTP server configured, an e-mail written
from a contact's page is kept in the outbox, where it reads as its recipient would see it; an
e-mail with an HTML part shows it in a sandboxed frame without breaking the page's policy."""

from __future__ import annotations

from typing import Any

import pytest
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, mail_server, make_member
from vinculo.contacts.services import contact_create
from vinculo.messaging.models import MessageState, OutgoingMessage
from vinculo.messaging.services.outgoing import message_queue

pytestmark = pytest.mark.django_db(transaction=True)


def test_write_an_email_from_a_contact_and_find_it_in_the_outbox(browser_page: Page, settings: Any):
    settings.VINCULO_RELAY_CONFIGURED = False  # the embedded default: no EMAIL_HOST
    owner = make_member(full_name="Ana Torres")
    org = owner.organization
    with scope(organization=org):
        lucia = contact_create(actor=owner, data={"first_name": "Lucía", "emails": ["lucia@cliente.example"]})
        message_queue(
            organization=org,
            to="ana@example.com",
            subject="Boletín de diciembre",
            text="Novedades",
            html='<h1 style="color:#0a58ca">Novedades de diciembre</h1>',
        )
    page = browser_page
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(owner.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"/o/{org.slug}/contacts/{lucia.pk}/")
    page.locator("#panel-email").get_by_role("link", name="Write").click()
    expect(page.locator("#compose-outbox-note")).to_contain_text("will be kept in the organisation's outbox")
    page.get_by_label("Subject").fill("Su pedido 1043")
    page.get_by_label("Message").fill("Hola Lucía,\nsale mañana.")
    page.get_by_role("button", name="Send").click()
    expect(
        page.get_by_text("No SMTP server is configured: the e-mail to lucia@cliente.example was kept in the outbox.")
    ).to_be_visible()

    page.locator("#touchpoints-menu").click()
    page.get_by_role("link", name="Outbox", exact=True).click()
    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
    row = page.locator("#outbox-table tbody tr").first
    expect(row).to_contain_text("lucia@cliente.example")
    expect(row).to_contain_text("Kept in the outbox")
    row.get_by_role("link", name="Su pedido 1043").click()

    expect(page.locator("#message-subject")).to_have_text("Su pedido 1043")
    expect(page.locator("#message-text")).to_have_text("Hola Lucía,\nsale mañana.")
    expect(page.locator("#message-headers")).to_contain_text("lucia@cliente.example")
    kept = OutgoingMessage.dangerously_unscoped.get(organization=org, subject="Su pedido 1043")
    assert kept.state == MessageState.OUTBOX

    # an HTML e-mail: shown in a sandboxed frame, served apart under its own policy
    page.goto(f"/o/{org.slug}/outbox/")
    page.get_by_role("link", name="Boletín de diciembre").click()
    frame = page.frame_locator("#message-html")
    expect(frame.get_by_role("heading", name="Novedades de diciembre")).to_be_visible()
    assert page.locator("#message-html").get_attribute("sandbox") == ""


def test_set_up_the_organisations_smtp_server_and_send_a_test_email(browser_page: Page, settings: Any):
    settings.VINCULO_RELAY_CONFIGURED = False
    owner = make_member(full_name="Ana Torres")
    org = owner.organization
    page = browser_page
    with mail_server() as sink:
        page.goto("/accounts/login/")
        page.get_by_label("E-mail").fill(owner.user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

        page.goto(f"/o/{org.slug}/settings/")
        page.get_by_role("link", name="E-mail sending").click()
        expect(page.locator("#sending-mode")).to_contain_text("No SMTP server is configured")
        page.get_by_label("SMTP server").fill("127.0.0.1")
        page.get_by_label("Port").fill(str(sink.port))
        page.get_by_label("Security").select_option("none")
        page.get_by_label("From address").fill("hola@empresa.example")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#sending-mode")).to_contain_text(
            f"Mail leaves through the organisation's own server, 127.0.0.1:{sink.port}."
        )
        page.get_by_role("button", name="Send a test e-mail").click()
        expect(page.locator("#test-result")).to_have_text(
            f"Sent to {owner.user.email}: the SMTP server accepted the login and the message."
        )
        assert [m.rcpt_tos for m in sink.received] == [[owner.user.email]]
