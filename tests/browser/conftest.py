"""The browser tests: marked `browser` and kept on one xdist worker (one chromium per worker).

Fixtures `browser` and `browser_page` (Playwright driving Debian's chromium, skipped without it
unless VINCULO_REQUIRE_BROWSER=1): vinculo/core/testing/browser.py.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))
