"""Public JSON endpoints read a body sent `Transfer-Encoding: chunked` (no Content-Length) as a
body, not as nothing (issue 9: a tracker batch sent chunked was read as empty), and refuse one past
their limit with their usual 413: first through the real WSGI application in this process (the
tracker, webhooks, web-form JSON), then through a real gunicorn process with http.client."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler

from vinculo.core.chunked_body import ChunkedBodyMiddleware
from vinculo.core.testing.subprocesses import production_env
from vinculo.core.testing.wsgi import chunked_environ, wsgi_call
from vinculo.touchpoints.models import FormSubmission, IngestBatch, WebhookDelivery
from vinculo.touchpoints.testing.forms import GOOD, make_form, token
from vinculo.touchpoints.testing.tracking import ORIGIN, make_site, page, track
from vinculo.touchpoints.testing.webhooks import make_integration, raw, signed_headers

ROOT = Path(settings.BASE_DIR)
TOO_LARGE = {"detail": "The body is too large: at most 262144 bytes.", "errors": []}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def app() -> Any:
    return ChunkedBodyMiddleware(WSGIHandler())


def _batch(key: str, events: list[dict[str, Any]], **extra: Any) -> bytes:
    return json.dumps(
        {"key": key, "sent_at": "2026-03-02T10:00:00Z", "consent": True, "events": events, **extra}
    ).encode()


# --- in this process ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_chunked_tracker_batch_is_read_and_stored(app, org):
    site = make_site(org)
    events = [page(), track("added_to_cart")]

    answer = wsgi_call(
        app,
        chunked_environ(
            "/api/v1/track/batch",
            _batch(site.public_key, events),
            content_type="text/plain",
            headers={"Origin": ORIGIN},
        ),
    )

    assert answer.status == 202
    assert answer.json() == {"accepted": 2, "rejected": []}
    stored = IngestBatch.dangerously_unscoped.get()
    assert [e["message_id"] for e in stored.events] == [e["message_id"] for e in events]


@pytest.mark.django_db
def test_a_chunked_tracker_batch_past_its_limit_is_its_413_and_stores_nothing(app, org):
    site = make_site(org)
    events = [page(properties={"blob": "x" * 7000}) for _ in range(40)]  # 280 KB: over 256 KB, under 1 MB

    answer = wsgi_call(
        app, chunked_environ("/api/v1/track/batch", _batch(site.public_key, events), headers={"Origin": ORIGIN})
    )

    assert answer.status == 413
    assert answer.json() == TOO_LARGE
    assert IngestBatch.dangerously_unscoped.count() == 0


@pytest.mark.django_db
def test_a_chunked_webhook_delivery_is_read_and_stored(app, actor, django_capture_on_commit_callbacks):
    integration = make_integration(actor, "orders")
    body = raw("generic_order.json")

    with django_capture_on_commit_callbacks(execute=True):
        answer = wsgi_call(
            app, chunked_environ(f"/hooks/{integration.token}/", body, headers=signed_headers("orders", body))
        )

    delivery = WebhookDelivery.dangerously_unscoped.get()
    assert answer.status == 202
    assert answer.json() == {"detail": "Accepted.", "errors": [], "delivery_id": delivery.pk}
    assert delivery.body == json.loads(body)


@pytest.mark.django_db
def test_a_chunked_webhook_past_the_limit_is_the_json_413(app, actor, settings):
    settings.VINCULO_BODY_LIMITS = {"/hooks/": 1000}  # webhooks have their own limit
    integration = make_integration(actor, "orders")
    body = b'{"x": "' + b"y" * 2000 + b'"}'

    answer = wsgi_call(
        app, chunked_environ(f"/hooks/{integration.token}/", body, headers=signed_headers("orders", body))
    )

    assert answer.status == 413
    assert answer.json() == {"detail": "The request body is too large (more than 1000 bytes).", "errors": []}
    assert WebhookDelivery.dangerously_unscoped.count() == 0


def test_a_chunked_webhook_over_the_general_limit_but_within_its_own_is_taken(app, actor, settings):
    """Webhooks take larger bodies than other requests (a shop's long order): sent chunked too."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.VINCULO_BODY_LIMITS = {"/hooks/": 5000}
    integration = make_integration(actor, "orders")
    body = b'{"x": "' + b"y" * 2000 + b'"}'

    answer = wsgi_call(
        app, chunked_environ(f"/hooks/{integration.token}/", body, headers=signed_headers("orders", body))
    )

    assert answer.status != 413
    assert WebhookDelivery.dangerously_unscoped.get().body == {"x": "y" * 2000}


@pytest.mark.django_db
def test_a_chunked_web_form_json_submission_is_read_and_stored(app, actor):
    form = make_form(actor)
    body = json.dumps({"_ts": token(form), **GOOD, "consent.terms": True}).encode()

    answer = wsgi_call(app, chunked_environ(f"/f/{form.public_key}/submit", body))

    assert answer.status == 200
    assert answer.json() == {"detail": "Thank you! We have received your details.", "status": "ok", "redirect_url": ""}
    assert FormSubmission.dangerously_unscoped.get().data["email"] == "Ana@Example.com"


@pytest.mark.django_db
def test_a_chunked_web_form_json_submission_past_its_limit_is_its_413(app, actor):
    form = make_form(actor)
    body = json.dumps({"_ts": token(form), **GOOD, "message": "x" * 70_000}).encode()  # over the form's 64 KB

    answer = wsgi_call(app, chunked_environ(f"/f/{form.public_key}/submit", body))

    assert answer.status == 413
    assert answer.json() == {"detail": "The form data is too large.", "errors": []}
    assert FormSubmission.dangerously_unscoped.count() == 0


# --- a real gunicorn ----------------------------------------------------------------------------------

SETUP = """
import django
django.setup()
from vinculo.accounts.models import Organization
from vinculo.touchpoints.models import TrackingSite
org = Organization.objects.create(name="Chunked", slug="chunked")
site = TrackingSite.dangerously_unscoped.create(organization=org, name="Shop", allowed_origins=["https://shop.example"])
print(site.public_key)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gunicorn(tmp_path: Path, migrated_sqlite: Path) -> Iterator[tuple[int, str]]:
    """gunicorn serving config.wsgi as production does (threaded workers) on a migrated SQLite file
    with one tracking site: (port, the site's key)."""
    env = production_env(tmp_path, "chunked-test")
    key = subprocess.run(
        [sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    port = _free_port()
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        f"--bind=127.0.0.1:{port}", "--workers=1", "--worker-class=gthread", "--threads=2", "--timeout=30",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield port, key
    finally:
        process.terminate()
        process.communicate(timeout=30)


def _post_chunked(port: int, body: bytes, piece: int = 1000) -> tuple[int, Any]:
    """POST body in chunks of `piece` bytes (http.client sends Transfer-Encoding: chunked, no
    Content-Length); the status and the JSON answer."""
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        pieces = (body[i : i + piece] for i in range(0, len(body), piece))
        connection.request(
            "POST",
            "/api/v1/track/batch",
            body=pieces,
            headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://shop.example"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gunicorn runs on POSIX systems")
def test_gunicorn_reads_a_chunked_batch_and_refuses_one_past_the_limit(gunicorn, tmp_path):
    port, key = gunicorn
    events = [page(), page(at="2026-03-02T10:00:05+00:00"), track("added_to_cart")]

    accepted = _post_chunked(port, _batch(key, events))
    too_large = _post_chunked(port, _batch(key, [page(properties={"blob": "x" * 7000}) for _ in range(40)]))
    past_every_limit = _post_chunked(port, b"x" * (1024 * 1024 + 10), piece=64 * 1024)

    assert accepted == (202, {"accepted": 3, "rejected": []})
    assert too_large == (413, TOO_LARGE)
    assert past_every_limit == (
        413,
        {"detail": "The request body is too large (more than 1048576 bytes).", "errors": []},
    )
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        rows = db.execute("SELECT event_count, events FROM touchpoints_ingestbatch").fetchall()
    assert [(count, [e["message_id"] for e in json.loads(stored)]) for count, stored in rows] == [
        (3, [e["message_id"] for e in events])
    ]
