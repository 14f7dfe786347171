"""The deal board in a real browser: drag a card to another stage and see both columns' counts and
totals change, reload and see it stayed; move with the "Move to…" menu; a refused move (the deal
was deleted meanwhile) puts the card back and says why."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.deal_board import column, drag, log_in
from vinculo.accounts.testing import make_member
from vinculo.sales.models import Deal, LostReason
from vinculo.sales.testing import make_deal, make_pipeline, stage_named

pytestmark = pytest.mark.django_db(transaction=True)


def test_drag_a_deal_to_another_stage_and_it_stays(browser_page: Page):
    page = browser_page
    owner = make_member()
    org = owner.organization
    pipeline = make_pipeline(org)
    qualification, proposal = stage_named(pipeline, "Qualification"), stage_named(pipeline, "Proposal")
    negotiation = stage_named(pipeline, "Negotiation")
    tents = make_deal(owner, title="Tents for Aragón", amount="1000.00")
    make_deal(owner, title="Boots", amount="250.00")

    log_in(page, owner.user.email)
    page.goto(f"/o/{org.slug}/deals/board/")
    expect(column(page, qualification.pk).locator(".js-count")).to_have_text("2")
    expect(column(page, qualification.pk).locator(".js-total")).to_have_text("1,250.00 EUR")
    expect(column(page, proposal.pk).locator(".js-count")).to_have_text("0")

    drag(page, page.locator(f"#deal-card-{tents.pk}"), column(page, proposal.pk).locator("[data-cards]"))

    expect(column(page, proposal.pk).locator(f"#deal-card-{tents.pk}")).to_be_visible()
    expect(column(page, proposal.pk).locator(".js-count")).to_have_text("1")
    expect(column(page, proposal.pk).locator(".js-total")).to_have_text("1,000.00 EUR")
    expect(column(page, proposal.pk).locator(".js-weighted")).to_contain_text("400.00 EUR")
    expect(column(page, qualification.pk).locator(".js-count")).to_have_text("1")
    expect(column(page, qualification.pk).locator(".js-total")).to_have_text("250.00 EUR")
    expect(page.locator("#board-alerts")).to_contain_text("“Tents for Aragón” moved to Proposal.")

    page.reload()
    expect(column(page, proposal.pk).locator(f"#deal-card-{tents.pk}")).to_be_visible()
    expect(column(page, proposal.pk).locator(".js-count")).to_have_text("1")
    assert Deal.dangerously_unscoped.get(pk=tents.pk).stage_id == proposal.pk

    # without dragging: the card's "Move to…" menu (keyboard and phone)
    page.get_by_role("button", name="Move Tents for Aragón to…").click()
    page.get_by_label("Stage").select_option(label="Negotiation")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(column(page, negotiation.pk).locator(f"#deal-card-{tents.pk}")).to_be_visible()
    expect(column(page, negotiation.pk).locator(".js-count")).to_have_text("1")
    expect(column(page, proposal.pk).locator(".js-count")).to_have_text("0")
    assert Deal.dangerously_unscoped.get(pk=tents.pk).stage_id == negotiation.pk

    # a filter re-renders the board (HTMX); its cards can still be dragged
    won = stage_named(pipeline, "Won")
    boots = Deal.dangerously_unscoped.get(title="Boots")
    before_filter = page.locator(f"#deal-card-{boots.pk}").element_handle()
    page.get_by_label("Owner").select_option(label="Me")
    expect(page).to_have_url(re.compile(r"owner=me"))
    before_filter.wait_for_element_state("hidden")  # the old board is gone: the new one is in place
    page.wait_for_load_state("networkidle")
    won_cards = column(page, won.pk).locator("[data-cards]")
    with page.expect_response(lambda response: "/move/" in response.url):
        drag(page, page.locator(f"#deal-card-{boots.pk}"), won_cards)
    expect(won_cards.locator(f"#deal-card-{boots.pk}")).to_be_visible()
    expect(column(page, won.pk).locator(".js-count")).to_have_text("1")
    expect(column(page, won.pk).locator(".js-total")).to_have_text("250.00 EUR")
    assert Deal.dangerously_unscoped.get(pk=boots.pk).status == "won"


def test_a_refused_move_puts_the_card_back_and_says_why(browser_page: Page):
    page = browser_page
    owner = make_member()
    org = owner.organization
    pipeline = make_pipeline(org)
    qualification, won = stage_named(pipeline, "Qualification"), stage_named(pipeline, "Won")
    gone = make_deal(owner, title="Deleted meanwhile", amount="500.00")

    log_in(page, owner.user.email)
    page.goto(f"/o/{org.slug}/deals/board/")
    expect(page.locator(f"#deal-card-{gone.pk}")).to_be_visible()
    Deal.dangerously_unscoped.filter(pk=gone.pk).delete()  # someone else deletes it

    drag(page, page.locator(f"#deal-card-{gone.pk}"), column(page, won.pk).locator("[data-cards]"))

    expect(page.locator("#board-alerts .alert-danger")).to_contain_text("This deal no longer exists")
    expect(column(page, qualification.pk).locator(f"#deal-card-{gone.pk}")).to_be_visible()
    expect(column(page, won.pk).locator("[data-deal-id]")).to_have_count(0)
    expect(column(page, won.pk).locator(".js-count")).to_have_text("0")


def test_a_phone_sized_screen_scrolls_the_columns(browser: object, live_server: object):
    owner = make_member()
    org = owner.organization
    make_pipeline(org)
    make_deal(owner, title="Tents", amount="10")
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=live_server.url,  # type: ignore[attr-defined]
        locale="en-GB",
        viewport={"width": 390, "height": 844},
    )
    page = context.new_page()
    try:
        log_in(page, owner.user.email)
        page.goto(f"/o/{org.slug}/deals/board/")
        board = page.locator("[data-board]")
        expect(board).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # the page does not scroll sideways; the board does
        assert page.evaluate("document.querySelector('[data-board]').scrollWidth") > 390
        expect(page.get_by_role("button", name="Move Tents to…")).to_be_visible()
    finally:
        context.close()


def test_dropping_on_a_lost_stage_asks_why(browser_page: Page):
    page = browser_page
    owner = make_member()
    org = owner.organization
    pipeline = make_pipeline(org)
    qualification, lost = stage_named(pipeline, "Qualification"), stage_named(pipeline, "Lost")
    price = LostReason.dangerously_unscoped.create(organization=org, name="Price")
    deal = make_deal(owner, title="Kayaks", amount="300.00")

    log_in(page, owner.user.email)
    page.goto(f"/o/{org.slug}/deals/board/")
    lost_cards = column(page, lost.pk).locator("[data-cards]")
    lost_cards.scroll_into_view_if_needed()

    # cancelled: the card goes back
    drag(page, page.locator(f"#deal-card-{deal.pk}"), lost_cards)
    expect(page.get_by_role("heading", name="Why was it lost?")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#lost-modal")).to_be_hidden()
    expect(column(page, qualification.pk).locator(f"#deal-card-{deal.pk}")).to_be_visible()
    assert Deal.dangerously_unscoped.get(pk=deal.pk).status == "open"

    # with a reason: the deal is lost for it
    drag(page, page.locator(f"#deal-card-{deal.pk}"), lost_cards)
    page.get_by_label("Lost reason").select_option(label="Price")
    page.get_by_role("button", name="Mark as lost").click()
    expect(column(page, lost.pk).locator(".js-count")).to_have_text("1")
    expect(column(page, lost.pk).locator(f"#deal-card-{deal.pk}")).to_be_visible()
    saved = Deal.dangerously_unscoped.get(pk=deal.pk)
    assert (saved.status, saved.lost_reason_id) == ("lost", price.pk)
