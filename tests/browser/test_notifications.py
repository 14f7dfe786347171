"""Notifications in a real browser: a due reminder, made by the reminder task, shows in the bell's
count and menu; clicking it lands on the activity and the count goes down."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.sales.services.activities import activity_create
from vinculo.sales.tasks import send_activity_reminders

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_reminder_appears_in_the_bell_and_opens_the_activity(browser_page: Page):
    rosa = make_member(email="rosa@example.com", full_name="Rosa Vidal")
    slug = rosa.organization.slug
    due = (timezone.now() + dt.timedelta(minutes=5)).replace(second=0, microsecond=0)
    with scope(organization=rosa.organization):
        activity = activity_create(
            actor=rosa, data={"subject": "Call Ana about the renewal", "due_at": due, "reminder_minutes": 10}
        )
    assert send_activity_reminders.call() == 1
    page = browser_page
    log_in(page, "rosa@example.com")

    page.goto(f"/o/{slug}/contacts/")
    count = page.locator("#notification-count")
    expect(count).to_have_text("1 unread notification")
    page.locator("#notification-toggle").click()
    item = page.locator("#notification-menu .notification-menu-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(f"Reminder: Call Ana about the renewal at {due:%H:%M}")  # Rosa's time zone: UTC
    item.click()

    page.wait_for_url(f"**/o/{slug}/activities/{activity.pk}/")
    expect(page.get_by_role("heading", name="Call Ana about the renewal")).to_be_visible()
    expect(page.locator("#notification-count")).to_have_text("0 unread notifications")
    expect(page.locator("#notification-count")).to_be_hidden()

    page.locator("#notification-toggle").click()  # read now: still listed, no longer unread
    expect(page.locator("#notification-menu .notification-menu-item")).to_have_count(1)
    expect(page.locator("#notification-menu .notification-unread")).to_have_count(0)
