"""The browser tests: marked `browser` and kept on one xdist worker (one chromium per worker).

Fixtures `browser` and `browser_page` (Playwright driving Debian's chromium, skipped without it
unless VINCULO_REQUIRE_BROWSER=1): vinculo/core/testing/browser.py. `madrid_page`: a tab whose
browser is in Madrid. `shop_site`: another website.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from vinculo.core.testing.browser import watched_page


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture
def madrid_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A tab of a browser whose clock is in Madrid (Spanish-speaking, English interface asked),
    failing the test on any Content-Security-Policy violation."""
    with watched_page(browser, live_server, locale="en-GB", timezone_id="Europe/Madrid") as page:
        yield page


@pytest.fixture
def shop_site() -> Iterator[Callable[[str], str]]:
    """Another website (http://127.0.0.1:<port>, another origin than the live server's localhost):
    a real server on the loopback address, as chromium refuses a public page's requests to a loopback
    server (Private Network Access). `publish(html)` sets its page and returns its origin."""
    pages = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def publish(html: str) -> str:
        pages["html"] = html
        return f"http://127.0.0.1:{server.server_address[1]}"

    try:
        yield publish
    finally:
        server.shutdown()
        server.server_close()
