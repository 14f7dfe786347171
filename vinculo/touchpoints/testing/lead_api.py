"""A local stand-in for Facebook's Graph API and LinkedIn's REST API, for the lead fetch tests.

`lead_api` (a fixture) starts an HTTP server on a free port of 127.0.0.1 in a thread and points
VINCULO_FACEBOOK_GRAPH_URL (`<server>/v25.0`) and VINCULO_LINKEDIN_API_URL (`<server>/rest`) at it.
A test says what each path answers — the networks' documented bodies from
`tests/payloads/lead_ads/` — and reads back every request made (path, query, headers):

    lead_api.answer("/v25.0/123123123123", "facebook_graph_lead.json")
    lead_api.answer("/rest/leadFormResponses/1a2b3c-4", "linkedin_error_expired_token.json", status=401)

Answers given for one path are served in order, the last one for every later request (an answer
added later is served next). A path
with no answer gets a 599 naming it, so that a test fails loudly rather than by a timeout.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from vinculo.touchpoints.testing.webhooks import PAYLOADS

LEAD_ADS = PAYLOADS / "lead_ads"
GRAPH_VERSION = "v25.0"


@dataclass
class Request:
    """A request the fake API received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass
class FakeLeadApi:
    """What each path answers, and what was asked."""

    url: str = ""
    replies: dict[str, list[Reply]] = field(default_factory=dict)
    served: dict[str, int] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(
        self, path: str, body: str | dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        """Add an answer for `path`: a fixture file of tests/payloads/lead_ads/ by name, or a body."""
        raw = (LEAD_ADS / body).read_bytes() if isinstance(body, str) else json.dumps(body).encode()
        with self.lock:
            self.replies.setdefault(path, []).append(
                Reply(status, raw, {"Content-Type": "application/json; charset=UTF-8", **(headers or {})})
            )

    def reply_for(self, path: str) -> Reply:
        with self.lock:
            queue = self.replies.get(path)
            if not queue:
                return Reply(599, json.dumps({"test": f"no answer set for {path}"}).encode(), {})
            index = self.served.get(path, 0)
            self.served[path] = index + 1
            return queue[min(index, len(queue) - 1)]

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def _handler(api: FakeLeadApi) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
            with api.lock:
                api.requests.append(Request("GET", parts.path, query, {k.lower(): v for k, v in self.headers.items()}))
            reply = api.reply_for(parts.path)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def lead_api(settings: Any) -> Iterator[FakeLeadApi]:
    api = FakeLeadApi()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.VINCULO_FACEBOOK_GRAPH_URL = f"{api.url}/{GRAPH_VERSION}"
    settings.VINCULO_LINKEDIN_API_URL = f"{api.url}/rest"
    settings.VINCULO_LINKEDIN_VERSION = "202606"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
