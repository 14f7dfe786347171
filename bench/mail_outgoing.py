"""Issue 8 (one way to send e-mail): outgoing messages queued, then drained by the worker's send
function through one reused SMTP connection to a local aiosmtpd server started here (in its own
process, so that it does not share this one's interpreter lock; it accepts and discards).

- mail.outgoing.queued: `message_queue` (render, Message-ID, suppression check, the row), in
  transactions of 500, with the enqueue of each message's task switched off (the drain is timed
  apart);
- mail.outgoing.sent: `send_outgoing_batch` over those rows (claim, build the MIME message from the
  row, SMTP, mark sent) through one connection: messages/s;
- mail.outgoing.raw: the floor, smtplib sending the same messages' bytes on one connection.
N = 10,000 messages (BENCH_SCALE=small: 500; BENCH_MAIL_MESSAGES sets it). Goal: ≥ 500 sent/s.
The rows are deleted afterwards.
"""

from __future__ import annotations

import os
import smtplib
import socket
import subprocess
import sys
import time

from django.db import transaction
from django.test import override_settings
from django_scopes import scopes_disabled

from bench.harness import Context, bench_member, emit, note

CHUNK = 500
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
BODY = (
    "Hola,\n\nle escribimos para confirmar su pedido. Puede ver el detalle en su área de cliente.\n\n"
    "Un saludo,\nEl equipo\n"
) * 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(port: int) -> subprocess.Popen[bytes]:
    """aiosmtpd with its Sink handler (250 to everything), ready when it answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as probe:
                probe.noop()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the aiosmtpd server did not start")


def _count() -> int:
    explicit = os.environ.get("BENCH_MAIL_MESSAGES", "")
    if explicit.isdigit():
        return int(explicit)
    return 500 if os.environ.get("BENCH_SCALE", "full").strip().lower() == "small" else 10_000


def run(ctx: Context) -> None:
    from vinculo.messaging.models import MessageKind, OutgoingMessage
    from vinculo.messaging.services.outgoing import message_queue
    from vinculo.messaging.tasks import build_email, send_outgoing_batch

    n = _count()
    org, _actor = bench_member()
    port = _free_port()
    server = _start_server(port)
    smtp_settings = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10,
        "VINCULO_RELAY_CONFIGURED": True,  # the relay above, not the outbox of an install without one
        "TASKS": DUMMY_TASKS,
    }
    ids: list[int] = []
    try:
        with override_settings(**smtp_settings), scopes_disabled():
            started = time.perf_counter()
            for first in range(0, n, CHUNK):
                with transaction.atomic():
                    for i in range(first, min(first + CHUNK, n)):
                        message = message_queue(
                            organization=org,
                            kind=MessageKind.ONE_OFF,
                            to=(f"Cliente {i}", f"bench-{i}@cliente.example"),
                            subject=f"Su pedido {i}",
                            text=BODY,
                            language="es",
                        )
                        ids.append(message.pk)
            queued_seconds = time.perf_counter() - started
            emit("mail.outgoing.queued", n / queued_seconds, "messages/s")

            started = time.perf_counter()
            result = send_outgoing_batch(ids)
            sent_seconds = time.perf_counter() - started
            if result.sent != n:
                raise RuntimeError(f"sent {result.sent} of {n}: {result}")
            emit("mail.outgoing.sent", n / sent_seconds, "messages/s")

            rows = OutgoingMessage.dangerously_unscoped.filter(pk__in=ids).order_by("id")
            raw = [(row.from_email, [row.to_address], build_email(row).message().as_bytes()) for row in rows]
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
                for from_email, to, data in raw:
                    smtp.sendmail(from_email, to, data)
            raw_seconds = time.perf_counter() - started
            emit("mail.outgoing.raw", n / raw_seconds, "messages/s")
            note(f"{n:,} messages of {len(raw[0][2]):,} bytes; goal ≥ 500 sent/s")
    finally:
        server.terminate()
        server.wait(timeout=10)
        with scopes_disabled():
            for first in range(0, len(ids), CHUNK):
                OutgoingMessage.dangerously_unscoped.filter(pk__in=ids[first : first + CHUNK]).delete()
