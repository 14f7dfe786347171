"""Issue 4 (Touchpoints): tracker ingestion over real HTTP, on the bench database (the SQLite file,
or PostgreSQL under `make bench-pg`: the server and the workers get the same DATABASE_URL).

- track.accepted: the real server (`manage.py serve` → gunicorn gthread, web only) and 2 client
  connections (keep-alive) posting batches of 100 events for ~10 s (3 s at BENCH_SCALE=small):
  events/s accepted durably (committed in one INSERT per batch before the 202);
- track.accept.p50 / p99: milliseconds per batch, as the clients see them;
  Each batch holds 20 events of each of 5 visitors (the snippet sends 20 of one browser at most);
- track.processed: then `manage.py worker` (Vínculo's worker: tasks, and between them the event
  log's deliveries to consumers) processes those batches (stitching, sessions, events): events/s
  from the first batch done to the last (the workers' start-up is printed apart);
  BENCH_TRACK_WORKERS of them at once: 1 by default on SQLite (one writer at a time), 2 on
  PostgreSQL (the scale path: workers claim with SKIP LOCKED);
- track.raw_sqlite_insert: the floor, sqlite3 `executemany` of the same Event rows into a scratch
  table with the same unique index, in one transaction, in the same database file. On PostgreSQL
  it is track.raw_insert: psycopg `executemany` (pipelined) of the same rows into such a scratch
  table in the same database, in one transaction.
Goals on this 2-core machine: ≥ 20,000 accepted/s, ≥ 5,000 processed/s, p99 ≤ 100 ms.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from bench.harness import Context, emit, note, percentile

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "https://bench.example"
PER_BATCH = 100
CLIENTS = 2
VISITORS = 2000
TEMPLATES = 400
MARKER = b"@@"
VISITORS_PER_BATCH = 5  # the snippet flushes 20 events of one browser; a batch here mixes 5 browsers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "VINCULO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "VINCULO_TRACK_PER_IP_PER_MINUTE": str(10**9),
        "VINCULO_TRACK_PER_KEY_PER_MINUTE": str(10**9),
        "VINCULO_MANIFEST_STATIC": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def _bodies(key: str, count: int, run: str) -> list[bytes]:
    """`count` batch body templates of PER_BATCH events (3 page views for each custom event); the
    clients replace MARKER in the message ids with a unique number, so the templates can be
    reused for as long as the run lasts without building bodies while timing."""
    bodies = []
    n = 0
    for _b in range(count):
        events: list[dict[str, Any]] = []
        for _i in range(PER_BATCH):
            visitor = f"{run}-v{(n // (PER_BATCH // VISITORS_PER_BATCH)) % VISITORS}"
            message_id = f"{run}-{MARKER.decode()}-{n}"
            stamp = f"2026-03-02T{10 + (n // 3600) % 12:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"
            if n % 4:
                events.append(
                    {
                        "type": "page",
                        "message_id": message_id,
                        "anonymous_id": visitor,
                        "timestamp": stamp,
                        "url": f"{ORIGIN}/products/{n % 50}?utm_source=newsletter",
                        "title": "Product",
                        "referrer": "https://www.google.com/",
                    }
                )
            else:
                events.append(
                    {
                        "type": "track",
                        "name": "added_to_cart",
                        "message_id": message_id,
                        "anonymous_id": visitor,
                        "timestamp": stamp,
                        "properties": {"sku": f"SKU-{n % 50}", "price": "19.90"},
                    }
                )
            n += 1
        bodies.append(
            json.dumps({"key": key, "sent_at": "2026-03-02T12:00:00Z", "consent": True, "events": events}).encode()
        )
    return bodies


def _post_for(
    port: int,
    bodies: list[bytes],
    until: float,
    latencies: list[float],
    accepted: list[int],
    *,
    client: str,
    limit: int,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "text/plain", "Origin": ORIGIN}
    i = 0
    while time.perf_counter() < until and i < limit:
        body = bodies[i % len(bodies)].replace(MARKER, f"{client}{i}".encode())
        started = time.perf_counter()
        conn.request("POST", "/api/v1/track/batch", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status == 202:
            accepted.append(json.loads(data)["accepted"])
        else:
            note(f"track batch answered {response.status}: {data[:200]!r}")
            break
        i += 1
    conn.close()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def _pending(site_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM touchpoints_ingestbatch WHERE site_id = %s AND processed_at IS NULL", [site_id]
        )
        return int(cursor.fetchone()[0])


def _raw_rows(org_id: int, bodies: list[bytes], events: int) -> list[tuple[Any, ...]]:
    """The Event rows the worker writes for these batches (page views and custom events)."""
    rows: list[tuple[Any, ...]] = []
    now = "2026-03-02 12:00:00"
    round_ = 0
    while len(rows) < events:
        for body in bodies:
            for event in json.loads(body.replace(MARKER, f"raw{round_}x".encode()))["events"]:
                is_page = event["type"] == "page"
                kind = "page.viewed" if is_page else f"web.{event.get('name')}"
                props = (
                    {"url": event.get("url", ""), "title": event.get("title", "")} if is_page else event["properties"]
                )
                rows.append(
                    (
                        now,
                        now,
                        org_id,
                        None,
                        None,
                        event["anonymous_id"],
                        kind,
                        "web",
                        json.dumps(props),
                        None,
                        event["timestamp"],
                        now,
                        "raw-" + event["message_id"],
                    )
                )
        round_ += 1
    return rows[:events]


def _raw_insert_rate(db: str, org_id: int, bodies: list[bytes], events: int) -> float:
    """Rows/s of a plain sqlite3 executemany of the same Event rows into a scratch copy of core_event."""
    rows = _raw_rows(org_id, bodies, events)
    scratch = sqlite3.connect(db, timeout=30)
    try:
        scratch.execute("DROP TABLE IF EXISTS bench_raw_event")
        scratch.execute(
            "CREATE TABLE bench_raw_event (id integer PRIMARY KEY AUTOINCREMENT, created_at datetime, updated_at datetime, "
            "organization_id bigint, contact_id bigint, company_id bigint, anonymous_id varchar(64), type varchar(64), "
            "source varchar(32), properties text, actor_id bigint, occurred_at datetime, received_at datetime, "
            "message_id varchar(128))"
        )
        scratch.execute("CREATE UNIQUE INDEX bench_raw_event_msg ON bench_raw_event (organization_id, message_id)")
        scratch.commit()
        started = time.perf_counter()
        scratch.executemany(
            "INSERT INTO bench_raw_event (created_at, updated_at, organization_id, contact_id, company_id, anonymous_id, "
            "type, source, properties, actor_id, occurred_at, received_at, message_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        scratch.commit()
        elapsed = time.perf_counter() - started
        scratch.execute("DROP TABLE bench_raw_event")
        scratch.commit()
    finally:
        scratch.close()
    return len(rows) / elapsed


def _raw_insert_rate_postgres(org_id: int, bodies: list[bytes], events: int) -> float:
    """Rows/s of a psycopg executemany of the same Event rows into a scratch copy of core_event,
    on this process's connection to the bench database."""
    rows = _raw_rows(org_id, bodies, events)
    connection.ensure_connection()
    pg = connection.connection  # the psycopg connection itself, autocommit
    with pg.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_event")
        cursor.execute(
            "CREATE TABLE bench_raw_event (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
            "created_at timestamptz, updated_at timestamptz, organization_id bigint, contact_id bigint, "
            "company_id bigint, anonymous_id varchar(64), type varchar(64), source varchar(32), properties jsonb, "
            "actor_id bigint, occurred_at timestamptz, received_at timestamptz, message_id varchar(128))"
        )
        cursor.execute("CREATE UNIQUE INDEX bench_raw_event_msg ON bench_raw_event (organization_id, message_id)")
    try:
        started = time.perf_counter()
        with pg.transaction(), pg.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_raw_event (created_at, updated_at, organization_id, contact_id, company_id, "
                "anonymous_id, type, source, properties, actor_id, occurred_at, received_at, message_id) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                rows,
            )
        elapsed = time.perf_counter() - started
    finally:
        with pg.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_raw_event")
    return len(rows) / elapsed


def _worker_count() -> int:
    explicit = os.environ.get("BENCH_TRACK_WORKERS", "").strip()
    if explicit:
        return int(explicit)
    return 2 if connection.vendor == "postgresql" else 1  # SQLite has one writer at a time


def run(ctx: Context) -> None:
    from django_scopes import scopes_disabled

    from bench.harness import bench_member
    from vinculo.touchpoints.models import TrackingSite

    org, _actor = bench_member()
    with scopes_disabled():
        site, _created = TrackingSite.objects.get_or_create(
            organization=org, name="Bench tracker", defaults={"allowed_origins": [ORIGIN]}
        )
    small = os.environ.get("BENCH_SCALE", "").strip().lower() == "small"
    seconds = 3.0 if small else 10.0
    run_id = uuid.uuid4().hex[:8]
    bodies = _bodies(site.public_key, TEMPLATES, run_id)
    db = str(settings.DATABASES["default"]["NAME"])
    postgres = connection.vendor == "postgresql"
    workers_wanted = _worker_count()
    connection.close()  # the server and the worker write: no lock held by this process

    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "serve",
            f"--bind=127.0.0.1:{port}",
            "--workers=2",
            "--threads=4",
            "--no-worker",
            "--no-scheduler",
        ],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, server)
        halves = [bodies[i::CLIENTS] for i in range(CLIENTS)]
        for n, half in enumerate(halves):  # warm up both server processes
            _post_for(port, half, time.perf_counter() + 5, [], [], client=f"w{n}x", limit=5)
        latencies: list[float] = []
        accepted: list[int] = []
        started = time.perf_counter()
        until = started + seconds
        threads = [
            threading.Thread(
                target=_post_for,
                args=(port, half, until, latencies, accepted),
                kwargs={"client": f"c{n}x", "limit": 10**9},
            )
            for n, half in enumerate(halves)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    total = sum(accepted)
    note(f"{len(accepted)} batches, {total:,} events accepted in {elapsed:.1f} s by {CLIENTS} connections")
    emit("track.accepted", total / elapsed, "events/s")
    if latencies:
        emit("track.accept.p50", percentile(latencies, 50), "ms")
        emit("track.accept.p99", percentile(latencies, 99), "ms")

    pending = _pending(site.pk)
    queued_events = pending * PER_BATCH
    launched = time.perf_counter()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "worker",
                "--no-startup-delay",
                "--interval=0.1",
                "--no-reload",
                "--batch",
            ],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers_wanted)
    ]
    first = None
    try:
        while True:
            left = _pending(site.pk)
            connection.close()
            now = time.perf_counter()
            if first is None and left < pending:
                first = now
            if left == 0 or all(w.poll() is not None for w in workers):
                break
            time.sleep(0.05)
        done = time.perf_counter()
        for worker in workers:
            worker.wait(timeout=600)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    left = _pending(site.pk)
    if left:
        note(f"{left} batches still unprocessed when the worker stopped")
    processed_events = (pending - left) * PER_BATCH
    if first is not None and done > first:
        note(
            f"{workers_wanted} worker(s), start-up {first - launched:.1f} s; "
            f"{processed_events:,} events processed in {done - first:.1f} s"
        )
        emit("track.processed", processed_events / (done - first), "events/s")
    raw_events = max(queued_events, 10_000)
    if postgres:
        emit("track.raw_insert", _raw_insert_rate_postgres(org.pk, bodies, raw_events), "events/s")
    else:
        emit("track.raw_sqlite_insert", _raw_insert_rate(db, org.pk, bodies, raw_events), "events/s")
