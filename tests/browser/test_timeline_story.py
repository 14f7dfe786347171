"""A contact's timeline reads like a story in a real browser: sentences with links to the records
they name, details folded away, then the same page in Spanish after the member switches language."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction
from django_scopes import scope
from playwright.sync_api import Page, expect

from vinculo.accounts.models import User
from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.contacts.testing import make_company, make_contact
from vinculo.core.events import emit
from vinculo.core.testing.browser import open_user_menu
from vinculo.sales.factories import OrderFactory
from vinculo.sales.models import Stage
from vinculo.sales.services.deals import deal_move
from vinculo.sales.testing import make_deal, make_pipeline

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_contact_timeline_reads_as_sentences_in_english_and_then_spanish(browser_page: Page):
    page = browser_page
    ana = make_member(email="ana@acme.test", full_name="Ana Ruiz")
    org = ana.organization
    User.objects.filter(pk=ana.user_id).update(time_zone="Europe/Madrid")
    make_pipeline(org)
    company = make_company(ana, name="Acme Ibérica")
    lucia = make_contact(ana, first_name="Lucia", last_name="Pérez", company=company.pk)
    deal = make_deal(ana, title="Acme 50 seats", amount="12500.00", contact=lucia.pk, currency="EUR")
    with scope(organization=org):
        deal_move(actor=ana, deal=deal, stage=Stage.objects.get(name="Won").pk)
        order = OrderFactory(organization=org, number="SO-1042", contact=lucia)
        with transaction.atomic():
            emit(
                organization=org,
                type="order.placed",
                contact=lucia,
                properties={"order_id": order.pk, "number": "SO-1042", "total": "1250.50", "currency": "EUR"},
                occurred_at=dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC),
            )

    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("ana@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/o/{org.slug}/contacts/{lucia.pk}/")

    won = page.locator('#timeline-list li[data-type="deal.stage_changed"]')
    expect(won.locator(".event-sentence")).to_have_text(
        "Ana Ruiz moved Acme 50 seats from Qualification to Won — 12,500.00 EUR"
    )
    placed = page.locator('#timeline-list li[data-type="order.placed"]')
    expect(placed.locator(".event-sentence")).to_have_text("Lucia Pérez placed the order SO-1042 for 1,250.50 EUR")
    expect(placed.locator("time").first).to_have_text("9 Dec 2026, 16:00")
    expect(placed.locator("time").first).to_have_attribute("datetime", "2026-12-09T16:00:00+01:00")
    # the details are folded away, readable when opened, with no id
    details = won.locator("details")
    expect(details.locator("dl")).to_be_hidden()
    details.locator("summary").click()
    expect(details.locator("dl")).to_be_visible()
    expect(details).to_contain_text("Pipeline")
    assert "_id" not in details.inner_text()
    # the deal is a link to its page
    won.get_by_role("link", name="Acme 50 seats").click()
    expect(page).to_have_url(re.compile(rf"/o/{org.slug}/deals/{deal.pk}/$"))

    # the member switches to Spanish: the same timeline in Spanish
    open_user_menu(page)
    page.get_by_role("link", name="Profile and language").click()
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Save").click()
    page.goto(f"/o/{org.slug}/contacts/{lucia.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(won.locator(".event-sentence")).to_have_text(
        "Ana Ruiz movió Acme 50 seats de Qualification a Won — 12\xa0500,00 EUR"
    )
    expect(placed.locator(".event-sentence")).to_have_text("Lucia Pérez hizo el pedido SO-1042 por 1\xa0250,50 EUR")
    expect(placed.locator("time").first).to_have_text("9 dic 2026, 16:00")
    expect(won.locator("summary")).to_have_text("Detalles")
    placed.get_by_role("link", name="SO-1042").click()
    expect(page).to_have_url(re.compile(rf"/o/{org.slug}/orders/{order.pk}/$"))
