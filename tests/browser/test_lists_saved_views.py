"""The contacts list as a member lives in it, in a real browser: choose columns, filter, save the
view, reload, pick it from the menu and find the same rows and columns (the activities list too);
edit a stage inline; the keyboard (`?` lists the shortcuts, `/` focuses the search, `c` opens the
create page) and the top bar's "+ New" menu."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.contacts.models import Contact, SavedView
from vinculo.contacts.services import contact_create
from vinculo.sales.services.activities import activity_create

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _people():
    owner = make_member(email="lucia@example.com", full_name="Lucía Prieto")
    with scope(organization=owner.organization):
        for first, last, stage, country in (
            ("Ana", "Alba", "customer", "ES"),
            ("Bea", "Bravo", "customer", "FR"),
            ("Carla", "Cano", "lead", "ES"),
            ("Dora", "Duque", "customer", "ES"),
        ):
            contact_create(
                actor=owner,
                data={"first_name": first, "last_name": last, "lifecycle_stage": stage, "country": country},
            )
    return owner


def names(page: Page) -> list[str]:
    return page.locator("#results tbody td.col-name > a").all_inner_texts()


def column_titles(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#results thead th").all_inner_texts() if t.strip()]


def test_choose_columns_filter_save_a_view_and_open_it_again(browser_page: Page):
    owner = _people()
    page = browser_page
    log_in(page, "lucia@example.com")
    slug = owner.organization.slug
    page.goto(f"/o/{slug}/contacts/")

    # choose the columns: country and stage only
    page.locator("#columns-menu").click()
    chooser = page.locator("#columns-form")
    for key in ("email", "company", "owner", "tags", "created", "updated"):
        chooser.locator(f"#column-{key}").uncheck()
    chooser.locator("#column-country").check()
    chooser.get_by_role("button", name="Show these columns").click()
    expect(page.locator("#results thead")).to_contain_text("Country")
    assert column_titles(page) == ["Name", "Stage", "Country"]

    # filter: customers, then save the view
    page.locator("#filter-stage").select_option("customer")
    expect(page.locator("#results tbody tr")).to_have_count(3)
    assert names(page) == ["Ana Alba", "Bea Bravo", "Dora Duque"]
    page.locator("#save-view-menu").click()
    page.locator("#save-view-name").fill("Customers by country")
    page.locator("#save-view-form").get_by_role("button", name="Save view").click()
    expect(page.locator("#messages")).to_contain_text("View “Customers by country” saved.")
    with scope(organization=owner.organization):
        view = SavedView.objects.get()
    assert (view.filters, view.columns) == ({"stage": "customer"}, ["stage", "country"])

    # a fresh list, then the view from the menu: the same rows and columns
    page.goto(f"/o/{slug}/contacts/")
    expect(page.locator("#results tbody tr")).to_have_count(4)
    page.reload()
    page.locator("#views-menu").click()
    page.get_by_role("link", name="Customers by country").click()
    expect(page.locator("#views-menu")).to_contain_text("Customers by country")
    assert names(page) == ["Ana Alba", "Bea Bravo", "Dora Duque"]
    assert column_titles(page) == ["Name", "Stage", "Country"]
    expect(page.locator("#filter-stage")).to_have_value("customer")

    # inline edit: Carla is not in this view; Dora's stage changes from the row
    row = page.locator("tr", has_text="Dora Duque")
    row.locator('[data-inline-field="stage"]').click()
    expect(row.locator('select[name="value"]')).to_be_focused()
    with page.expect_response(lambda r: "/inline/" in r.url and r.request.method == "POST") as answer:
        row.locator('select[name="value"]').select_option("churned")
    assert answer.value.status == 200
    expect(row.locator('select[name="value"]')).to_have_count(0)
    expect(row.locator(".badge")).to_have_text("Churned")
    with scope(organization=owner.organization):
        assert Contact.objects.get(first_name="Dora").lifecycle_stage == "churned"


def test_keyboard_shortcuts_and_the_new_menu(browser_page: Page):
    owner = _people()
    page = browser_page
    log_in(page, "lucia@example.com")
    slug = owner.organization.slug
    page.goto(f"/o/{slug}/contacts/")

    # ? shows the shortcuts; Escape closes the dialog
    page.locator("body").press("?")
    dialog = page.locator("#shortcuts-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Keyboard shortcuts")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # / focuses the list's search box; typing there is not a shortcut
    page.locator("body").press("/")
    expect(page.locator("#filter-q")).to_be_focused()
    page.keyboard.type("c?")
    expect(page.locator("#filter-q")).to_have_value("c?")
    expect(dialog).to_be_hidden()
    assert page.url.endswith("/contacts/") or "/contacts/?" in page.url

    # c opens the create page of the list
    page.locator("#filter-q").blur()
    page.locator("body").press("c")
    expect(page).to_have_url(f"{page.url.split('/o/')[0]}/o/{slug}/contacts/new/")

    # a page without a create action: c does nothing
    page.goto(f"/o/{slug}/tags/")
    page.locator("body").press("c")
    expect(page).to_have_url(f"{page.url.split('/o/')[0]}/o/{slug}/tags/")

    # "+ New" → contact
    page.locator("#new-menu").click()
    page.locator('[data-new="contact"]').click()
    expect(page).to_have_url(f"{page.url.split('/o/')[0]}/o/{slug}/contacts/new/")
    expect(page.get_by_role("heading", name="New contact")).to_be_visible()


def test_save_a_view_of_the_activities_and_open_it_again(browser_page: Page):
    owner = make_member(email="lucia@example.com", full_name="Lucía Prieto")
    colleague = make_member(owner.organization, email="bruno@example.com", full_name="Bruno Vidal")
    now = timezone.now()
    with scope(organization=owner.organization):
        for days, subject, kind, assignee in (
            (1, "Call Ana", "call", owner),
            (2, "Meet Bea", "meeting", owner),
            (3, "Call Carla", "call", colleague),
            (4, "Send the offer", "task", owner),
            (5, "Call Dora", "call", owner),
        ):
            activity_create(
                actor=owner,
                data={
                    "subject": subject,
                    "kind": kind,
                    "due_at": now + dt.timedelta(days=days),
                    "assignee": assignee.user_id,
                },
            )
    page = browser_page
    log_in(page, "lucia@example.com")
    page.goto(f"/o/{owner.organization.slug}/activities/")
    expect(page.locator("#results tbody tr")).to_have_count(5)

    # two columns: when it is due and who does it
    page.locator("#columns-menu").click()
    chooser = page.locator("#columns-form")
    for key in ("kind", "done", "contact", "deal"):
        chooser.locator(f"#column-{key}").uncheck()
    expect(chooser.locator("input[name=columns]:checked")).to_have_count(2)
    chooser.get_by_role("button", name="Show these columns").click()
    expect(page.locator("#results thead th")).to_have_count(3)
    assert column_titles(page) == ["Subject", "Due", "Assigned to"]

    # a filter: calls only; then save the view
    page.locator("#filter-kind").select_option("call")
    expect(page.locator("#results tbody tr")).to_have_count(3)
    page.locator("#save-view-menu").click()
    page.locator("#save-view-name").fill("Calls")
    page.locator("#save-view-form").get_by_role("button", name="Save view").click()
    expect(page.locator("#messages")).to_contain_text("View “Calls” saved.")
    with scope(organization=owner.organization):
        view = SavedView.objects.get()
    assert (view.kind, view.filters, view.columns) == ("activities", {"kind": "call"}, ["due", "assignee"])

    # the whole list again, then the view from the menu: exactly the calls, in these two columns
    page.goto(f"/o/{owner.organization.slug}/activities/")
    expect(page.locator("#results tbody tr")).to_have_count(5)
    page.locator("#views-menu").click()
    page.get_by_role("link", name="Calls").click()
    expect(page.locator("#views-menu")).to_contain_text("Calls")
    assert subjects(page) == ["Call Ana", "Call Carla", "Call Dora"]
    assert column_titles(page) == ["Subject", "Due", "Assigned to"]
    assert [row[2] for row in table_cells(page)] == ["Lucía Prieto", "Bruno Vidal", "Lucía Prieto"]
    expect(page.locator("#filter-kind")).to_have_value("call")


def subjects(page: Page) -> list[str]:
    return page.locator("#results tbody td.col-subject > a").all_inner_texts()


def table_cells(page: Page) -> list[list[str]]:
    return [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in page.locator("#results tbody tr").all()
    ]
