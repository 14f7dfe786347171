"""The first hour of a new user, in one real browser (issue 11): sign up from Madrid, follow the
getting-started checklist, a company and a contact, a deal from her page, the deal on the home page,
a reminder in the bell, e-mail kept in the outbox and then sent through the organisation's own SMTP
server (a real aiosmtpd server), and the contact's timeline read in Spanish.

Everything is done through the pages, as the user would; the database is only read, to check what
the pages said, except where a background job must run (the reminder job that the scheduler starts
every minute; see step 5).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.models import Membership
from vinculo.accounts.testing import mail_server
from vinculo.core.models import Event
from vinculo.core.testing.browser import open_user_menu
from vinculo.messaging.models import MessageState, OutgoingMessage
from vinculo.sales.models import Activity, Deal
from vinculo.sales.tasks import send_activity_reminders

pytestmark = pytest.mark.django_db(transaction=True)

MADRID = ZoneInfo("Europe/Madrid")
SPANISH_MONTHS = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")


def my_day(page: Page) -> None:
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="My day").click()
    expect(page.get_by_role("heading", name="Hello, Carmen Ortiz")).to_be_visible()


def ticked(page: Page) -> dict[str, bool]:
    """Each step of the home page's getting-started checklist (a page already loaded): ticked or not."""
    items = page.get_by_role("region", name="Getting started").locator(".checklist-item")
    pairs = items.evaluate_all("items => items.map(i => [i.dataset.checklist, i.classList.contains('checklist-done')])")
    return dict(pairs)


NOTHING_DONE = {
    "invite": False,
    "contacts": False,
    "mailbox": False,
    "tracker": False,
    "web_form": False,
    "pipeline": False,
}


def write_email(page: Page, contact_url: str, subject: str, body: str) -> None:
    page.goto(contact_url)
    page.locator("#panel-email").get_by_role("link", name="Write").click()
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").fill(body)
    page.get_by_role("button", name="Send").click()


def open_outbox(page: Page) -> list[list[str]]:
    """The outbox's rows, newest first: [to, subject, state]."""
    page.locator("#touchpoints-menu").click()
    page.get_by_role("link", name="Outbox", exact=True).click()
    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
    return page.locator("#outbox-table tbody tr").evaluate_all(
        "rows => rows.map(r => [1, 2, 3].map(i => r.cells[i].innerText.trim()))"
    )


def test_the_first_hour_of_a_new_user(madrid_page: Page, settings: Any):
    settings.VINCULO_RELAY_CONFIGURED = False  # the embedded default: no SMTP server anywhere yet
    page = madrid_page

    # 1. sign up from the front door; the time zone is the browser's
    page.goto("/")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("combobox", name="Time zone")).to_have_value("Europe/Madrid")
    page.get_by_label("Your name").fill("Carmen Ortiz")
    page.get_by_label("E-mail").fill("carmen@ortiz-textil.test")
    page.get_by_label("Password").fill("a sturdy password 2026")
    page.get_by_label("Company name").fill("Ortiz Textil")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Hello, Carmen Ortiz")).to_be_visible()
    membership = Membership.objects.select_related("user", "organization").get(user__email="carmen@ortiz-textil.test")
    org, me = membership.organization, membership.user
    assert (org.name, org.time_zone, me.time_zone) == ("Ortiz Textil", "Europe/Madrid", "Europe/Madrid")
    open_user_menu(page)
    page.get_by_role("link", name="Organisation settings").click()
    expect(page.get_by_role("combobox", name="Time zone")).to_have_value("Europe/Madrid")
    open_user_menu(page)
    page.get_by_role("link", name="Profile and language").click()
    expect(page.get_by_role("combobox", name="Time zone")).to_have_value("Europe/Madrid")

    # 2. the getting-started checklist, nothing done yet; a company, then the checklist's contact
    page.locator(".navbar-brand").click()  # the profile is no organisation's page: home by the logo
    expect(page.get_by_role("heading", name="Hello, Carmen Ortiz")).to_be_visible()
    checklist = page.get_by_role("region", name="Getting started")
    expect(checklist).to_contain_text("0 of 6 steps done")
    assert ticked(page) == NOTHING_DONE

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Companies").click()
    page.get_by_role("link", name="New company").click()
    page.get_by_label("Name").fill("Hilaturas del Norte")
    page.get_by_role("button", name="Create company").click()
    expect(page.get_by_role("heading", name=re.compile("Hilaturas del Norte"))).to_be_visible()
    my_day(page)
    assert ticked(page) == NOTHING_DONE  # a company is not a contact
    checklist.get_by_role("link", name="Import your contacts or create one").click()
    page.get_by_label("First name").fill("Lucía")
    page.get_by_label("Last name").fill("Martín")
    page.get_by_label("E-mail addresses").fill("lucia@hilaturas.test")
    page.get_by_label("Company", exact=True).select_option(label="Hilaturas del Norte")
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", name=re.compile("Lucía Martín"))).to_be_visible()
    contact_url = page.url
    my_day(page)
    expect(checklist).to_contain_text("1 of 6 steps done")
    assert ticked(page) == {**NOTHING_DONE, "contacts": True}

    # 3. a deal from her page: her and her company already chosen
    page.goto(contact_url)
    page.locator("#panel-deals").get_by_role("link", name="New deal").click()
    # a new organisation has no pipeline yet: the board offers the usual one, then the form is back
    expect(page.get_by_text("Create a pipeline first.")).to_be_visible()
    page.get_by_role("button", name="Create the default pipeline").click()
    expect(page.get_by_text("Pipeline Sales created.")).to_be_visible()
    expect(page.get_by_role("heading", name="New deal")).to_be_visible()
    expect(page.get_by_role("combobox", name="Contact", exact=True)).to_have_value("Lucía Martín")
    expect(page.get_by_role("combobox", name="Company", exact=True)).to_have_value("Hilaturas del Norte")
    today = timezone.localdate(timezone=MADRID)  # the member's today: this month's, wherever the test runs
    page.get_by_label("Title").fill("Hilaturas — winter collection")
    page.get_by_label("Amount").fill("12500")
    page.get_by_label("Expected close date").fill(today.isoformat())
    page.get_by_role("button", name="Create deal").click()
    expect(page.get_by_text("Deal created.")).to_be_visible()
    deal_url = page.url
    with scope(organization=org):
        deal = Deal.objects.select_related("contact", "company", "stage").get()
    assert (deal.title, str(deal.contact), deal.company.name, deal.amount, deal.currency) == (
        "Hilaturas — winter collection",
        "Lucía Martín",
        "Hilaturas del Norte",
        Decimal("12500.00"),
        "EUR",
    )
    assert (deal.expected_close_date, deal.stage.name, deal.owner_id) == (today, "Qualification", me.pk)

    # 4. home: the deal closes this month; the checklist's pipeline step has ticked itself too
    my_day(page)
    closing = page.get_by_role("list", name=re.compile(r"^Closing in "))
    expect(page.locator("#home-closing")).to_have_text(f"Closing in {today:%B} (1)")
    expect(closing.locator(".home-deal")).to_have_count(1)
    expect(closing.get_by_role("link", name="Hilaturas — winter collection")).to_be_visible()
    expect(closing.locator(".home-deal").locator("> span").last).to_have_text("12,500.00 EUR")
    expect(checklist).to_contain_text("2 of 6 steps done")
    assert ticked(page) == {**NOTHING_DONE, "contacts": True, "pipeline": True}

    # 5. an activity of the deal, assigned to me, whose reminder is due now
    page.goto(deal_url)
    page.locator("#deal-activity-create").click()
    due = timezone.localtime(timezone=MADRID).replace(second=0, microsecond=0)  # this minute, Madrid's clock
    page.get_by_label("Kind").select_option(label="Call")
    page.get_by_label("Subject").fill("Call Lucía about the samples")
    page.get_by_label("When").fill(due.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Reminder").select_option(label="At the time")
    expect(page.get_by_label("Assigned to")).to_have_value(str(me.pk))
    expect(page.get_by_role("combobox", name="Deal", exact=True)).to_have_value("Hilaturas — winter collection")
    page.get_by_role("button", name="Create activity").click()
    expect(page.get_by_text("Activity created.")).to_be_visible()
    activity_url = page.url
    with scope(organization=org):
        activity = Activity.objects.get()
    assert (activity.subject, activity.due_at, activity.reminder_minutes, activity.assignee_id) == (
        "Call Lucía about the samples",
        due,
        0,
        me.pk,
    )
    # The scheduler (`manage.py scheduler`) enqueues this task every minute and a worker runs it;
    # neither runs in the tests, so the test runs the task the worker would, once, as it would.
    assert send_activity_reminders.call() == 1
    page.reload()
    expect(page.locator("#notification-count")).to_have_text("1 unread notification")
    page.locator("#notification-toggle").click()
    item = page.locator("#notification-menu .notification-menu-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(f"Reminder: Call Lucía about the samples at {due:%H:%M}")
    item.click()  # marks it read on the way to the activity
    page.wait_for_url(activity_url)
    expect(page.get_by_role("heading", name="Call Lucía about the samples")).to_be_visible()
    expect(page.locator("#notification-count")).to_have_text("0 unread notifications")
    page.locator("#notification-toggle").click()  # read now: still listed, no longer unread
    expect(page.locator("#notification-menu .notification-menu-item")).to_have_count(1)
    expect(page.locator("#notification-menu .notification-unread")).to_have_count(0)

    # 6. an e-mail from her page: no SMTP server yet, so it waits in the outbox, readable there
    write_email(page, contact_url, "Samples of the winter collection", "Hola Lucía,\nthe samples leave on Monday.")
    expect(
        page.get_by_text("No SMTP server is configured: the e-mail to lucia@hilaturas.test was kept in the outbox.")
    ).to_be_visible()
    reminder_subject = f"Reminder: Call Lucía about the samples at {due:%H:%M}"  # the reminder's e-mail, kept too
    assert open_outbox(page) == [
        ["lucia@hilaturas.test", "Samples of the winter collection\nby Carmen Ortiz", "Kept in the outbox"],
        ["carmen@ortiz-textil.test", reminder_subject, "Kept in the outbox"],
    ]
    page.get_by_role("link", name="Samples of the winter collection").click()
    expect(page.locator("#message-subject")).to_have_text("Samples of the winter collection")
    expect(page.locator("#message-text")).to_have_text("Hola Lucía,\nthe samples leave on Monday.")
    expect(page.locator("#message-headers")).to_contain_text("lucia@hilaturas.test")

    # the organisation's own SMTP server (a real one), a test e-mail, and the next e-mail leaves through it
    with mail_server() as smtp:
        open_user_menu(page)
        page.get_by_role("link", name="Organisation settings").click()
        page.get_by_role("link", name="E-mail sending").click()
        expect(page.locator("#sending-mode")).to_contain_text("No SMTP server is configured")
        page.get_by_label("SMTP server").fill("127.0.0.1")
        page.get_by_label("Port").fill(str(smtp.port))
        page.get_by_label("Security").select_option("none")
        page.get_by_label("From address").fill("hola@ortiz-textil.test")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#sending-mode")).to_contain_text(
            f"Mail leaves through the organisation's own server, 127.0.0.1:{smtp.port}."
        )
        page.get_by_role("button", name="Send a test e-mail").click()
        expect(page.locator("#test-result")).to_have_text(
            "Sent to carmen@ortiz-textil.test: the SMTP server accepted the login and the message."
        )
        # the live server's request sends it: the test settings run the sending task at once, after
        # the commit, where a worker would pick it up (as the outbox tests rely on)
        write_email(page, contact_url, "Prices for 2,000 metres", "Hola Lucía,\nprices attached below.")
        expect(page.get_by_text("E-mail sent to lucia@hilaturas.test.")).to_be_visible()
        received = [(m.rcpt_tos, m.message["Subject"]) for m in smtp.received]
    assert received == [
        (["carmen@ortiz-textil.test"], "Vínculo: test e-mail from Ortiz Textil"),
        (["lucia@hilaturas.test"], "Prices for 2,000 metres"),
    ]
    assert smtp.received[1].body.replace("\r\n", "\n") == "Hola Lucía,\nprices attached below.\n"
    assert open_outbox(page)[0] == ["lucia@hilaturas.test", "Prices for 2,000 metres\nby Carmen Ortiz", "Sent"]
    sent = OutgoingMessage.dangerously_unscoped.get(organization=org, subject="Prices for 2,000 metres")
    assert (sent.state, sent.transport) == (MessageState.SENT, "org_smtp")

    # 7. in Spanish: the timeline of her page reads as Spanish sentences, at Madrid's times
    open_user_menu(page)
    page.get_by_role("link", name="Profile and language").click()
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Save").click()
    page.goto(contact_url)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    with scope(organization=org):
        events = list(Event.objects.filter(contact__isnull=False).order_by("-occurred_at", "-id"))
    expected = {
        "contact.created": ["Carmen Ortiz añadió a Lucía Martín a los contactos"],
        "deal.created": [
            "Carmen Ortiz creó el negocio Hilaturas — winter collection en Qualification — 12\xa0500,00 EUR"
        ],
        "email.sent": [
            "Carmen Ortiz escribió a lucia@hilaturas.test: «Prices for 2,000 metres»",
            "Carmen Ortiz escribió a lucia@hilaturas.test: «Samples of the winter collection»",
        ],
    }
    for kind, sentences in expected.items():
        entries = page.locator(f'#timeline-list li[data-type="{kind}"]')
        expect(entries.locator(".event-sentence")).to_have_text(sentences)
        for entry, event in zip(entries.all(), [e for e in events if e.type == kind], strict=True):
            local = event.occurred_at.astimezone(MADRID)
            time = entry.locator("time").first
            expect(time).to_have_attribute("datetime", local.isoformat())
            expect(time).to_have_text(f"{local.day} {SPANISH_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}")
