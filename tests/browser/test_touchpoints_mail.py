"""E-mail as a member meets it, in a real browser: connect a mailbox (a real dovecot), test the
connection, read it now, see the conversation in the contact's "E-mail" panel, answer it (a real
SMTP server receives the answer) and see both messages in the thread; then give the mailbox its
own SMTP server (a real one asking for a login over STARTTLS) and send a test e-mail through it;
on a phone-sized screen."""

from __future__ import annotations

import pytest
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.contacts.services import contact_create
from vinculo.touchpoints.models import EmailMessage
from vinculo.touchpoints.testing.mail import mail

pytestmark = pytest.mark.django_db(transaction=True)


def test_connect_a_mailbox_read_it_and_answer_from_the_contact_page(
    browser, live_server, imap_server, smtp_server, smtp_account
):
    owner = make_member(full_name="Ana Torres")
    org = owner.organization
    with scope(organization=org):
        lucia = contact_create(actor=owner, data={"first_name": "Lucía", "emails": ["lucia@cliente.example"]})
    imap_server.deliver(mail(message_id="<first@cliente.example>", subject="Pedido 42", body="¿Cuándo llega?"))
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page: Page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("E-mail").fill(owner.user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

        page.goto(f"/o/{org.slug}/mailboxes/")
        page.get_by_role("link", name="Connect a mailbox").click()
        page.get_by_label("Name", exact=True).fill("Mi buzón")
        page.get_by_label("E-mail address").fill(imap_server.user)
        page.get_by_label("IMAP server").fill(imap_server.host)
        page.get_by_label("Port", exact=True).fill(str(imap_server.port))
        page.get_by_label("SSL/TLS").uncheck()
        page.get_by_label("User name", exact=True).fill(imap_server.user)
        page.get_by_label("Password", exact=True).fill(imap_server.password)
        page.get_by_role("button", name="Connect").click()
        expect(page.get_by_text("Mailbox “Mi buzón” connected.")).to_be_visible()

        page.get_by_role("button", name="Test connection").click()
        expect(page.get_by_text("Mi buzón: Connected: the server accepted the login and the folder.")).to_be_visible()
        page.get_by_role("button", name="Read now").click()
        assert EmailMessage.dangerously_unscoped.filter(organization=org).count() == 1

        page.goto(f"/o/{org.slug}/contacts/{lucia.pk}/")
        panel = page.locator("#panel-email")
        panel.get_by_role("link", name="Pedido 42").click()
        expect(page.get_by_text("¿Cuándo llega?")).to_be_visible()
        page.get_by_role("link", name="Reply to Lucía").click()
        expect(page.get_by_label("Subject")).to_have_value("Re: Pedido 42")
        page.get_by_label("Message").fill("Mañana, Lucía.")
        page.get_by_role("button", name="Send").click()

        expect(page.get_by_text("E-mail sent to lucia@cliente.example.")).to_be_visible()
        expect(page.locator("#thread-messages > li")).to_have_count(2)
        assert smtp_server.received[0].message["In-Reply-To"] == "<first@cliente.example>"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        # the mailbox's own SMTP server: the login and password are the IMAP ones
        page.goto(f"/o/{org.slug}/mailboxes/")
        page.get_by_role("link", name="Edit").click()
        page.get_by_label("SMTP server").fill("localhost")
        page.get_by_label("SMTP port").fill(str(smtp_account.port))
        page.get_by_label("SMTP security").select_option("starttls")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text(f"Sends through localhost:{smtp_account.port}")).to_be_visible()
        page.get_by_role("button", name="Send a test e-mail").click()
        expect(page.get_by_text("A copy was saved in “Sent”.")).to_be_visible()
        assert [m.rcpt_tos for m in smtp_account.received] == [[owner.user.email]]
    finally:
        context.close()
