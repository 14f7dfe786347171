"""Bodies sent `Transfer-Encoding: chunked` (no Content-Length) under a WSGI server that decodes
them (gunicorn sets `wsgi.input_terminated`): Django reads CONTENT_LENGTH bytes, so without help
such a body read as empty (issue 9: a tracker batch sent chunked was read as no batch at all).
The endpoints that read them are tested in vinculo/touchpoints/tests/test_chunked_bodies.py."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler

from vinculo.core.chunked_body import BODY_OVER_LIMIT, ChunkedBodyMiddleware
from vinculo.core.testing.wsgi import chunked_environ, wsgi_call


def _echo(seen: dict[str, Any]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        seen.update(
            length=environ.get("CONTENT_LENGTH"),
            body=environ["wsgi.input"].read(length),
            over=environ.get(BODY_OVER_LIMIT, False),
        )
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return app


def test_a_chunked_body_is_read_and_handed_over_with_its_length(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    seen: dict[str, Any] = {}

    answer = wsgi_call(ChunkedBodyMiddleware(_echo(seen)), chunked_environ("/x", b'{"a": 1}'))

    assert answer.status == 200
    assert seen == {"length": "8", "body": b'{"a": 1}', "over": False}


def test_a_chunked_body_of_exactly_the_limit_is_kept(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    seen: dict[str, Any] = {}

    wsgi_call(ChunkedBodyMiddleware(_echo(seen)), chunked_environ("/x", b"x" * 100))

    assert seen == {"length": "100", "body": b"x" * 100, "over": False}


def test_a_chunked_body_past_the_limit_is_marked_and_not_handed_over(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    seen: dict[str, Any] = {}
    environ = chunked_environ("/x", b"x" * 5000)

    wsgi_call(ChunkedBodyMiddleware(_echo(seen)), environ)

    assert seen == {"length": "0", "body": b"", "over": True}
    assert environ["wsgi.input"].tell() == 0  # the stream handed over is an empty one


def test_a_body_with_a_content_length_an_unterminated_input_or_no_chunked_framing_is_left_alone(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    declared: dict[str, Any] = {}
    environ = chunked_environ("/x", b"0123456789")
    environ["CONTENT_LENGTH"] = "4"
    wsgi_call(ChunkedBodyMiddleware(_echo(declared)), environ)

    unterminated: dict[str, Any] = {}
    environ = chunked_environ("/x", b"0123456789")
    del environ["wsgi.input_terminated"]  # a server that does not decode chunked bodies: nothing to trust
    wsgi_call(ChunkedBodyMiddleware(_echo(unterminated)), environ)

    not_chunked: dict[str, Any] = {}
    environ = chunked_environ("/x", b"0123456789")
    del environ["HTTP_TRANSFER_ENCODING"]  # a GET, or a body without framing: not read here
    wsgi_call(ChunkedBodyMiddleware(_echo(not_chunked)), environ)

    assert declared == {"length": "4", "body": b"0123", "over": False}
    assert unterminated == {"length": None, "body": b"", "over": False}
    assert not_chunked == {"length": None, "body": b"", "over": False}


def test_the_input_is_read_in_pieces_up_to_one_byte_past_the_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000

    class Stream(io.BytesIO):
        sizes: list[int] = []

        def read(self, size: int | None = -1, /) -> bytes:
            self.sizes.append(-1 if size is None else size)
            return super().read(size)

    environ = chunked_environ("/x", b"")
    environ["wsgi.input"] = Stream(b"y" * 1_000_000)
    wsgi_call(ChunkedBodyMiddleware(_echo({})), environ)

    assert sum(Stream.sizes) <= 100_001 + 65_536
    assert all(0 < size <= 65_536 for size in Stream.sizes)


@pytest.mark.django_db
def test_through_django_a_chunked_api_body_past_the_limit_is_the_json_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    app = ChunkedBodyMiddleware(WSGIHandler())

    answer = wsgi_call(app, chunked_environ("/api/v1/contacts", b"x" * 101))

    assert answer.status == 413
    assert answer.json() == {"detail": "The request body is too large (more than 100 bytes).", "errors": []}


@pytest.mark.django_db
def test_through_django_a_chunked_page_body_past_the_limit_is_a_plain_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    app = ChunkedBodyMiddleware(WSGIHandler())

    answer = wsgi_call(app, chunked_environ("/accounts/login/", b"x" * 101, content_type="text/plain"))

    assert answer.status == 413
    assert answer.body.decode() == "The request body is too large (more than 100 bytes)."


def test_the_production_application_reads_chunked_bodies():
    from config.wsgi import application

    assert isinstance(application, ChunkedBodyMiddleware)
