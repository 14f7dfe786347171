"""The tracking page in a real browser: the Copy button puts the snippet on the clipboard and says
so, and "Check installation" shows the last event once the site has sent one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from vinculo.accounts.testing import PASSWORD, make_member
from vinculo.core.testing.browser import PolicyViolations
from vinculo.touchpoints.testing.tracking import make_site, page, post_batch

pytestmark = pytest.mark.django_db(transaction=True)


def test_copy_the_snippet_and_check_the_installation(browser: Any, live_server: Any):
    owner = make_member(email="admin@example.com")
    site = make_site(owner.organization, consent_mode="implied")
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(15_000)
    violations = PolicyViolations(context)
    tab = context.new_page()
    try:
        tab.goto("/accounts/login/")
        tab.get_by_label("E-mail").fill("admin@example.com")
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Log in").click()
        expect(tab.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()  # the home page

        tab.goto(f"/o/{owner.organization.slug}/settings/tracking/")
        row = tab.locator(f"#site-{site.pk}")
        row.get_by_role("button", name="Copy").click()
        expect(row.get_by_role("button", name="Copied")).to_be_visible()
        copied = tab.evaluate("navigator.clipboard.readText()")
        assert copied == tab.locator(f"#snippet-{site.pk}").input_value()
        assert copied.endswith(f'data-key="{site.public_key}"></script>')
        expect(row.locator(f"#install-check-{site.pk}")).to_contain_text("No event received from this site yet.")

        assert post_batch(site, [page()]).status_code == 202
        row.get_by_role("link", name="Check installation").click()
        expect(row.locator(f"#install-check-{site.pk}")).to_contain_text("Installed: events arrive.")
        expect(row.locator(f"#install-check-{site.pk}")).to_contain_text("page view · https://shop.example/")
        assert tab.url.endswith("/settings/tracking/")  # swapped in place, no navigation
        violations.settle(tab)
    finally:
        context.close()
    assert not violations.found, violations.report()
