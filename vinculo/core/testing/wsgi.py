"""Calling the real WSGI application in the test process with a request Django's test Client
cannot make: a body sent `Transfer-Encoding: chunked`, without Content-Length, as gunicorn hands it
over (`wsgi.input` ends where the body ends and `wsgi.input_terminated` says so).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core import signals
from django.db import close_old_connections


@dataclass
class WSGIAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def chunked_environ(
    path: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    query: str = "",
    remote_addr: str = "203.0.113.7",
) -> dict[str, Any]:
    """The environ of a POST whose body came chunked: no CONTENT_LENGTH, a terminated input."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": remote_addr,
        "CONTENT_TYPE": content_type,
        "HTTP_HOST": "testserver",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


@contextmanager
def _test_connection_kept() -> Iterator[None]:
    """The real handler closes "old" database connections around each request; the test's own
    connection (inside its transaction) must stay open, as Django's test Client arranges."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def wsgi_call(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> WSGIAnswer:
    """Run one request through a WSGI application and collect its answer."""
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started["status"] = int(status.split()[0])
        started["headers"] = dict(headers)

    with _test_connection_kept():
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    return WSGIAnswer(status=started["status"], headers=started["headers"], body=body)
