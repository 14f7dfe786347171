"""Request bodies sent without a Content-Length (`Transfer-Encoding: chunked`) under WSGI.

Django reads exactly CONTENT_LENGTH bytes of a WSGI request, so a body sent chunked, with no
Content-Length, reads as empty: a tracker batch sent that way was taken for no batch at all, a
webhook or a web-form JSON submission for an empty one. A WSGI server that decodes chunked bodies
says so with `wsgi.input_terminated` (gunicorn does): its input then ends where the body ends.

`ChunkedBodyMiddleware` wraps the WSGI application (config/wsgi.py). For such a request (one that
says `Transfer-Encoding: chunked`; every other request is left as it is) it reads the body, at most the path's body limit (`body_limit`: a webhook's or a batch import's own, else
DATA_UPLOAD_MAX_MEMORY_SIZE) plus one byte, and hands Django
the body with its Content-Length: every reader then sees it (request.body, request.POST, the API's
bounded JSON parser) and every endpoint applies its own, smaller limit with its own error. A body
past the limit is not handed over: the request is marked (`BODY_OVER_LIMIT`) and
`BodySizeLimitMiddleware` answers 413 as it does for a declared length. ASGI needs none of this:
Django's ASGI handler reads the whole body itself.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

BODY_OVER_LIMIT = "vinculo.body_over_limit"


def body_limit(path: str) -> int:
    """The largest body accepted at `path`: its prefix's in VINCULO_BODY_LIMITS (webhooks, batch
    imports), else DATA_UPLOAD_MAX_MEMORY_SIZE (0: no limit)."""
    for prefix, limit in getattr(settings, "VINCULO_BODY_LIMITS", {}).items():
        if path.startswith(prefix):
            return int(limit)
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)


READ_SIZE = 64 * 1024

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def read_terminated(stream: Any, most: int | None) -> bytes:
    """Read a terminated input to its end, or to `most` bytes, in pieces."""
    parts: list[bytes] = []
    remaining = most
    while remaining is None or remaining > 0:
        piece = stream.read(READ_SIZE if remaining is None else min(READ_SIZE, remaining))
        if not piece:
            break
        parts.append(piece)
        if remaining is not None:
            remaining -= len(piece)
    return b"".join(parts)


class ChunkedBodyMiddleware:
    """WSGI middleware: give a chunked body (no Content-Length) to Django with its length."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (
            environ.get("wsgi.input_terminated")
            and not environ.get("CONTENT_LENGTH")
            and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            limit = body_limit(environ.get("PATH_INFO", "")) or None
            body = read_terminated(environ["wsgi.input"], None if limit is None else limit + 1)
            if limit is not None and len(body) > limit:
                environ[BODY_OVER_LIMIT] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)
