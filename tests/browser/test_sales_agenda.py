"""The agenda in a real browser: overdue in red at the top, "mark done" inline with an outcome
(HTMX, no reload), the month grid, the calendar link's copy button, and a phone-sized screen."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.sales.models import Activity
from vinculo.sales.services.activities import activity_create

pytestmark = pytest.mark.django_db(transaction=True)
SCREENSHOTS = os.environ.get("VINCULO_SCREENSHOTS", "")


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def _agenda_with_items():
    owner = make_member(email="rosa@example.com", full_name="Rosa Vidal")
    now = timezone.now()
    with scope(organization=owner.organization):
        for subject, when, kind in (
            ("Send the forgotten quote", now - dt.timedelta(days=2), "task"),
            ("Call Ana about the renewal", now + dt.timedelta(hours=2), "call"),
            ("Demo at Acme", now + dt.timedelta(days=1), "meeting"),
        ):
            activity_create(actor=owner, data={"subject": subject, "due_at": when, "kind": kind})
    return owner


def test_mark_an_overdue_task_done_inline_and_see_the_month(browser_page: Page):
    owner = _agenda_with_items()
    page = browser_page
    log_in(page, "rosa@example.com")
    slug = owner.organization.slug

    page.goto(f"/o/{slug}/agenda/")
    expect(page.get_by_role("heading", name="My agenda")).to_be_visible()
    overdue = page.locator(".agenda-overdue")
    expect(overdue).to_contain_text("1 overdue")
    row = overdue.locator(".activity-row", has_text="Send the forgotten quote")
    expect(row).to_have_class("list-group-item activity-row list-group-item-danger activity-overdue")
    shot(page, "agenda-week")

    row.get_by_title("Mark done").click()
    page.get_by_label("Outcome (optional)").fill("Sent by e-mail")
    url_before = page.url
    page.locator(".activity-complete-form").get_by_role("button", name="Mark done").click()
    done_row = page.locator(".activity-row.activity-done", has_text="Send the forgotten quote")
    expect(done_row).to_contain_text("Sent by e-mail")
    expect(done_row.locator(".activity-subject")).to_have_class(
        "activity-subject fw-semibold text-decoration-line-through text-body-secondary"
    )
    assert page.url == url_before
    with scope(organization=owner.organization):
        done = Activity.objects.get(subject="Send the forgotten quote")
    assert (done.outcome, done.done_at is not None) == ("Sent by e-mail", True)

    page.get_by_role("link", name="Month").click()
    expect(page.locator("table.agenda-month")).to_be_visible()
    expect(page.locator("table.agenda-month")).to_contain_text("Call Ana about the renewal")
    shot(page, "agenda-month")


def test_create_an_activity_and_copy_the_calendar_link(browser_page: Page):
    owner = make_member(email="leo@example.com", full_name="Leo Marín")
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, "leo@example.com")
    slug = owner.organization.slug

    page.goto(f"/o/{slug}/agenda/")
    page.get_by_role("link", name="New activity").click()
    page.get_by_label("Kind").select_option("call")
    page.get_by_label("Subject").fill("Call the new lead")
    page.get_by_label("Reminder").select_option("15")
    shot(page, "activity-form")
    page.get_by_role("button", name="Create activity").click()
    expect(page.get_by_role("heading", name="Call the new lead")).to_be_visible()
    shot(page, "activity-detail")
    with scope(organization=owner.organization):
        created = Activity.objects.get()
    assert (created.kind, created.reminder_minutes, created.assignee_id) == ("call", 15, owner.user_id)

    page.goto(f"/o/{slug}/agenda/")
    page.get_by_role("button", name="Create my calendar link").click()
    link = page.get_by_label("Private calendar link")
    expect(link).to_have_value(re.compile(r"^http://.+/calendar/[-\w]+\.ics$"))
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link.input_value()


def test_the_agenda_fits_a_phone(browser: object, live_server: object):
    owner = _agenda_with_items()
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=live_server.url,  # type: ignore[attr-defined]
        locale="en-GB",
        viewport={"width": 375, "height": 740},
        is_mobile=True,
    )
    page = context.new_page()
    try:
        log_in(page, "rosa@example.com")
        for view in ("week", "month"):
            page.goto(f"/o/{owner.organization.slug}/agenda/?view={view}")
            expect(page.locator(".agenda-overdue")).to_be_visible()
            listing = page.locator(".d-md-none") if view == "month" else page.locator("#agenda-body")
            expect(listing.get_by_text("Call Ana about the renewal").first).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{view}: {overflow}px wider than the phone"
            shot(page, f"agenda-phone-{view}")
    finally:
        context.close()


def test_the_hourly_calendar_moves_an_activity_by_dragging_it(browser_page: Page):
    page = browser_page
    owner = make_member(email="hugo@example.com", full_name="Hugo Lara")
    owner.user.time_zone = "Europe/Madrid"
    owner.user.save()
    madrid = dt.timezone(dt.timedelta(hours=1))  # 2030-01-17 is winter time in Madrid
    with scope(organization=owner.organization):
        demo = activity_create(
            actor=owner,
            data={"subject": "Demo", "due_at": dt.datetime(2030, 1, 17, 10, 0, tzinfo=madrid), "duration_minutes": 60},
        )
    log_in(page, owner.user.email)
    page.goto(f"/o/{owner.organization.slug}/agenda/?view=week&layout=hours&date=2030-01-17")
    block = page.locator(f"#agenda-block-{demo.pk}")
    expect(block).to_contain_text("10:00 Demo")
    friday = page.locator('.agenda-hours-slots[data-day="2030-01-18"]')
    # ten o'clock is 10/24 of the column down; the block is dragged by its top to 14:00 the next day
    box, target = block.bounding_box(), friday.bounding_box()
    assert box is not None
    assert target is not None
    per_hour = target["height"] / 24
    page.mouse.move(box["x"] + 10, box["y"] + 3)
    page.mouse.down()
    page.mouse.move(box["x"] + 20, box["y"] + 10, steps=3)
    with page.expect_response(lambda response: "/reschedule/" in response.url):
        page.mouse.move(target["x"] + 20, target["y"] + 14 * per_hour + 3, steps=12)
        page.mouse.up()
    expect(page.locator("#agenda-alerts")).to_contain_text("“Demo” moved to 01/18/2030 14:00.")
    expect(friday.locator(f"#agenda-block-{demo.pk}")).to_contain_text("14:00 Demo")
    assert Activity.dangerously_unscoped.get(pk=demo.pk).due_at == dt.datetime(2030, 1, 18, 14, 0, tzinfo=madrid)
    assert "/activities/" not in page.url  # the drag did not open the activity

    page.reload()
    expect(page.locator(f'.agenda-hours-slots[data-day="2030-01-18"] #agenda-block-{demo.pk}')).to_contain_text("14:00")
