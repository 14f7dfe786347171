"""What the deal board's browser tests share: logging in, a stage's column, a card dragged with the
pointer as a person does it."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from vinculo.accounts.testing import PASSWORD


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()  # the home page


def column(page: Page, stage_id: int) -> Locator:
    return page.locator(f'section[data-stage-id="{stage_id}"]')


def drag(page: Page, card: Locator, target: Locator) -> None:
    """A real pointer drag (press, move in steps, release), as a person does it, once both lists
    are drag-and-drop lists (after an HTMX re-render the new lists become so a moment later)."""
    expect(target).to_have_attribute("data-sortable", "1")
    expect(card.locator("xpath=..")).to_have_attribute("data-sortable", "1")
    card.scroll_into_view_if_needed()
    start, end = card.bounding_box(), target.bounding_box()
    viewport = page.viewport_size
    if end is not None and viewport is not None and end["x"] + end["width"] > viewport["width"]:
        # a pointer cannot reach a column scrolled out of sight: a window wide enough for the board
        page.set_viewport_size({"width": 2400, "height": viewport["height"]})
        page.wait_for_timeout(300)
        card.scroll_into_view_if_needed()
        start, end = card.bounding_box(), target.bounding_box()
    assert start is not None
    assert end is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 10)
    page.wait_for_timeout(100)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 5, start["y"] + 15, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 20, steps=15)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 24, steps=3)
    page.wait_for_timeout(300)
    page.mouse.up()
