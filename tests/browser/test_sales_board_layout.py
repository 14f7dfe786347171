"""The deal board on a 1280 × 800 laptop and on a phone, in a real browser: the usual five stages
(Won and Lost too) fit side by side, a card can be dragged into Lost, the page itself never scrolls
sideways (a pipeline with more stages scrolls inside the board, with a scrollbar, its columns
keeping a usable width), and the message a move leaves ("“X” moved to Proposal.") covers no button,
link or field: it sits in the page's flow, is announced, can be closed and goes by itself."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.deal_board import column, drag, log_in
from vinculo.accounts.testing import make_member
from vinculo.core.testing.browser import CHROMIUM, CHROMIUM_ARGS, PolicyViolations
from vinculo.sales.models import Deal, LostReason, StageKind
from vinculo.sales.testing import make_deal, make_pipeline, stage_named

pytestmark = pytest.mark.django_db(transaction=True)

MIN_COLUMN_WIDTH = 224  # 14rem: what a card needs to stay readable

# the visible controls (buttons, links, fields) whose box meets the box of `toast`, outside it
COVERED_CONTROLS = """(toast) => {
  const box = toast.getBoundingClientRect();
  const controls = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, [role=button], [role=combobox]," +
      " [tabindex]:not([tabindex='-1'])"
  );
  return [...controls]
    .filter((el) => !toast.contains(el))
    .filter((el) => {
      const style = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return style.visibility !== "hidden" && style.display !== "none" && r.width > 1 && r.height > 1;
    })
    .filter((el) => {
      const r = el.getBoundingClientRect();
      return r.left < box.right && box.left < r.right && r.top < box.bottom && box.top < r.bottom;
    })
    .map((el) => el.outerHTML.slice(0, 120));
}"""


@pytest.fixture(scope="module")
def desktop_browser(browser: Any) -> Iterator[Any]:
    """Chromium as on a desktop, with its scrollbars shown (headless hides them by default): they
    take room from the window, and whether the board shows one is part of what is tested."""
    shown = browser.browser_type.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, ignore_default_args=["--hide-scrollbars"]
    )
    yield shown
    shown.close()


@pytest.fixture
def sized_page(desktop_browser: Any, live_server: Any) -> Iterator[Any]:
    """`sized_page(width, height)`: a tab of that size, failing the test on any policy violation."""
    opened: list[tuple[Any, PolicyViolations, Page]] = []

    def open_page(width: int, height: int) -> Page:
        context = desktop_browser.new_context(
            base_url=live_server.url, locale="en-GB", viewport={"width": width, "height": height}
        )
        context.set_default_timeout(15_000)
        violations = PolicyViolations(context)
        page = context.new_page()
        opened.append((context, violations, page))
        return page

    yield open_page
    for context, violations, page in opened:
        with contextlib.suppress(Exception):
            violations.settle(page)
        context.close()
        assert not violations.found, f"Content-Security-Policy violations:\n{violations.report()}"


def page_scroll_width(page: Page) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def test_at_1280_every_stage_fits_and_a_card_goes_to_lost(sized_page: Any):
    page = sized_page(1280, 800)
    owner = make_member()
    org = owner.organization
    pipeline = make_pipeline(org)
    lost = stage_named(pipeline, "Lost")
    LostReason.dangerously_unscoped.create(organization=org, name="Price")
    kayaks = make_deal(owner, title="Kayaks", amount="300.00")
    # long unbroken words in a card do not widen its column
    make_deal(owner, title="Comercializadora Donoso & Asociados S.A.: winter collection", amount="59200.00")

    log_in(page, owner.user.email)
    page.goto(f"/o/{org.slug}/deals/board/")
    expect(page.locator(f"#deal-card-{kayaks.pk}")).to_be_visible()

    assert page_scroll_width(page) <= 1280  # the page does not scroll sideways
    board = page.locator("[data-board]")
    assert board.evaluate("(b) => b.scrollWidth <= b.clientWidth")  # and the board need not either
    widths = page.locator("section.board-column").evaluate_all("(cs) => cs.map((c) => c.getBoundingClientRect())")
    assert len(widths) == 5
    assert all(w["width"] >= MIN_COLUMN_WIDTH for w in widths)
    inner = page.evaluate("document.documentElement.clientWidth")  # the window less its scrollbar
    assert all(w["x"] >= 0 and w["x"] + w["width"] <= inner for w in widths)  # Won and Lost included
    # the header's buttons stay on one line above the filters
    header = page.locator("#board-header-links").bounding_box()
    filters = page.locator("#board-filters").bounding_box()
    assert header is not None
    assert filters is not None
    assert header["y"] + header["height"] <= filters["y"]
    assert header["height"] < 50

    lost_cards = column(page, lost.pk).locator("[data-cards]")
    lost_cards.scroll_into_view_if_needed()
    drop = lost_cards.bounding_box()
    assert drop is not None
    assert drop["x"] >= 0
    assert drop["x"] + drop["width"] <= 1280
    assert 0 <= drop["y"] < 800
    drag(page, page.locator(f"#deal-card-{kayaks.pk}"), lost_cards)
    assert page.viewport_size == {"width": 1280, "height": 800}  # reached without widening the window
    page.get_by_label("Lost reason").select_option(label="Price")
    page.get_by_role("button", name="Mark as lost").click()
    expect(column(page, lost.pk).locator(f"#deal-card-{kayaks.pk}")).to_be_visible()
    expect(column(page, lost.pk).locator(".js-count")).to_have_text("1")
    assert Deal.dangerously_unscoped.get(pk=kayaks.pk).status == "lost"


def test_at_1280_a_pipeline_of_eight_stages_scrolls_inside_the_board(sized_page: Any):
    page = sized_page(1280, 800)
    owner = make_member()
    org = owner.organization
    stages = [(f"Step {n}", 10 * n, StageKind.OPEN) for n in range(1, 7)]
    pipeline = make_pipeline(org, stages=[*stages, ("Won", 100, StageKind.WON), ("Lost", 0, StageKind.LOST)])
    lost = stage_named(pipeline, "Lost")
    make_deal(owner, title="Kayaks", amount="300.00")

    log_in(page, owner.user.email)
    page.goto(f"/o/{org.slug}/deals/board/")
    board = page.locator("[data-board]")
    expect(board).to_be_visible()

    assert page_scroll_width(page) <= 1280
    sizes = board.evaluate(
        "(b) => ({scroll: b.scrollWidth, client: b.clientWidth, bar: b.offsetHeight - b.clientHeight,"
        " overflow: getComputedStyle(b).overflowX})"
    )
    assert sizes["scroll"] > sizes["client"]  # it scrolls sideways…
    assert sizes["overflow"] == "auto"
    assert sizes["bar"] > 0  # …with a scrollbar that takes room, hence shows
    widths = page.locator("section.board-column").evaluate_all("(cs) => cs.map((c) => c.offsetWidth)")
    assert widths == [MIN_COLUMN_WIDTH] * 8
    lost_cards = column(page, lost.pk).locator("[data-cards]")
    lost_cards.scroll_into_view_if_needed()
    drop = lost_cards.bounding_box()
    assert drop is not None
    assert drop["x"] >= 0
    assert drop["x"] + drop["width"] <= 1280
    assert page_scroll_width(page) <= 1280


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_the_message_of_a_move_covers_no_control(sized_page: Any, width: int, height: int):
    page = sized_page(width, height)
    owner = make_member()
    org = owner.organization
    pipeline = make_pipeline(org)
    proposal = stage_named(pipeline, "Proposal")
    tents = make_deal(owner, title="Tents for Aragón", amount="1000.00")
    for n in range(6):
        make_deal(owner, title=f"Boots {n}", amount="250.00")

    log_in(page, owner.user.email)
    page.goto(f"/o/{org.slug}/deals/board/")
    if width >= 1200:
        drag(page, page.locator(f"#deal-card-{tents.pk}"), column(page, proposal.pk).locator("[data-cards]"))
    else:  # on a phone: the card's "Move to…" menu
        page.get_by_role("button", name="Move Tents for Aragón to…").click()
        page.get_by_label("Stage").select_option(label="Proposal")
        page.get_by_role("button", name="Move", exact=True).click()
        expect(page.locator("#move-modal")).to_be_hidden()  # the dialog is gone, not over the page

    toast = page.locator("#board-alerts .alert")
    expect(toast).to_have_text("“Tents for Aragón” moved to Proposal.")
    expect(toast).to_have_attribute("role", "status")
    expect(toast).to_be_in_viewport()
    expect(page.locator("#board-alerts")).to_have_attribute("aria-live", "polite")
    assert toast.evaluate(COVERED_CONTROLS) == []
    assert page_scroll_width(page) <= width
    assert Deal.dangerously_unscoped.get(pk=tents.pk).stage_id == proposal.pk

    toast.get_by_role("button", name="Close").click()  # it can be closed…
    expect(toast).to_have_count(0)
    page.get_by_role("button", name="Move Tents for Aragón to…").click()
    page.get_by_label("Stage").select_option(label="Negotiation")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator("#move-modal")).to_be_hidden()
    expect(toast).to_have_text("“Tents for Aragón” moved to Negotiation.")
    assert toast.evaluate(COVERED_CONTROLS) == []
    expect(toast).to_have_count(0, timeout=8_000)  # …and goes by itself
