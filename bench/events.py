"""Issue 8 (backbone): durable event delivery, on a scratch database of its own.

On SQLite (`make bench`), a scratch SQLite file:
- events.delivered: N `order.placed` events (100,000; 10,000 at BENCH_SCALE=small) emitted through
  `core.events.emit()` (1,000 per transaction), each reaching three consumers; then one worker
  (vinculo.core.worker.Worker, in batch mode) drains the outbox: events/s from its start to the
  last delivery. Each consumer writes one row per event into a reactions table, in the claiming
  transaction; the run then checks every (event, consumer) pair was reacted to exactly once.
- events.delivered.raw: the floor: sqlite3 `executemany` of the same 3 × N reaction rows in one
  transaction, in the same database file.
- events.emit.overhead.p50: one `emit()` (the event row and its three outbox rows) inside a
  transaction, as a request does it; events.emit.overhead.raw.p50: the bare INSERT of the event row.

On PostgreSQL (`make bench-pg`, every name prefixed `pg.`), a scratch database created in the same
cluster (CREATE DATABASE, dropped afterwards), the scale path:
- events.delivered: bench/flood.py, N events emitted by 2 processes (as web nodes, 100 per
  transaction) while 2 worker processes deliver them to the three consumers: events/s from the
  first claim to the last delivery (process start-ups left out, the emitting inside); exact
  counts checked; events.delivered.worker_min_share: the smaller worker's share of the deliveries
  in % (50 % is an even split; near 0 would mean a worker idled while work waited);
- events.delivered.raw: psycopg `executemany` (pipelined) of the same 3 × N reaction rows in one
  transaction, in the scratch database;
- events.emit.overhead.p50 / .raw.p50 as on SQLite, and events.delivered.one_worker: the SQLite
  figure's method (emit everything, then one worker drains), for comparison with it;
- events.delivered.two_workers (and its .worker_min_share): the flood again in a second scratch
  database, but the 2 workers start once every event is emitted: delivery alone, 2 workers
  draining a backlog (the flood above is bounded by how fast 2 processes emit on this machine).
Targets: ≥ 5,000 events/s delivered; emit ≤ 1 ms.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import Context, emit, note

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import os, sqlite3, statistics, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
from bench.harness import emit as bench_emit
from vinculo.accounts.models import Organization
from vinculo.core.consumers import register_consumer
from vinculo.core.events import emit
from vinculo.core.models import EventDelivery
from vinculo.core.worker import Worker

N = int(sys.argv[1])
DB = sys.argv[2]
DELIVERED = sys.argv[3]  # the figure's name: events.delivered, or events.delivered.one_worker
NOW = "datetime('now')" if connection.vendor == "sqlite" else "now()"
call_command("migrate", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute("DROP TABLE IF EXISTS reaction")  # PostgreSQL: the flood ran in this database first
    cursor.execute("CREATE TABLE reaction (event_id integer NOT NULL, consumer text NOT NULL)")

def reacting(name):
    def handler(event):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO reaction (event_id, consumer) VALUES (%s, %s)", [event.pk, name])
    return handler

for name in ("bench.scoring", "bench.segments", "bench.webhooks"):
    register_consumer(name=name, patterns=["order.*"], handler=reacting(name))
org = Organization.objects.create(name="Events bench", slug="events-bench")

# emit() as a request does it: one event and its outbox rows in the request's transaction
samples, raw = [], []
for i in range(400):
    with transaction.atomic():
        t = time.perf_counter()
        emit(organization=org, type="order.placed", properties={"order_id": i, "total": "10.00"})
        samples.append((time.perf_counter() - t) * 1000)
    with transaction.atomic(), connection.cursor() as cursor:
        t = time.perf_counter()
        cursor.execute(
            "INSERT INTO core_event (organization_id, type, source, properties, occurred_at, received_at, "
            "message_id, anonymous_id, created_at, updated_at) VALUES (%s, 'order.raw', 'crm', '{}', "
            f"{NOW}, {NOW}, %s, '', {NOW}, {NOW})",
            [org.pk, f"raw-{i}"],
        )
        raw.append((time.perf_counter() - t) * 1000)
bench_emit("events.emit.overhead.p50", statistics.median(samples[100:]), "ms")
bench_emit("events.emit.overhead.raw.p50", statistics.median(raw[100:]), "ms")
with connection.cursor() as cursor:
    cursor.execute("DELETE FROM reaction")
EventDelivery.objects.all().delete()

t = time.perf_counter()
for start in range(0, N, 1000):
    with transaction.atomic():
        for i in range(start, min(start + 1000, N)):
            emit(organization=org, type="order.placed", properties={"order_id": i, "total": "10.00"})
print(f"# {N:,} events emitted with their outbox rows in {time.perf_counter() - t:.1f} s", flush=True)
connection.close()

worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                max_tasks=None, worker_id="bench", excluded_queue_names=[])
t = time.perf_counter()
worker.run()
elapsed = time.perf_counter() - t
bench_emit(DELIVERED, N / elapsed, "events/s")
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*), count(DISTINCT event_id || '/' || consumer) FROM reaction")
    total, distinct = cursor.fetchone()
left = EventDelivery.objects.count()
assert (total, distinct, left) == (3 * N, 3 * N, 0), (total, distinct, left)
print(f"# {total:,} reactions, each (event, consumer) once; outbox empty", flush=True)

if connection.vendor != "sqlite":  # the parent measured the floor on PostgreSQL
    sys.exit(0)
rows = [(i, name) for i in range(N) for name in ("a", "b", "c")]
raw_db = sqlite3.connect(DB)
raw_db.execute("CREATE TABLE reaction_raw (event_id integer NOT NULL, consumer text NOT NULL)")
t = time.perf_counter()
with raw_db:
    raw_db.executemany("INSERT INTO reaction_raw (event_id, consumer) VALUES (?, ?)", rows)
bench_emit("events.delivered.raw", N / (time.perf_counter() - t), "events/s")
"""


def run(ctx: Context) -> None:
    from django.db import connection

    events = 10_000 if os.environ.get("BENCH_SCALE") == "small" else 100_000
    if connection.vendor == "postgresql":
        _run_postgres(events)
        return
    with tempfile.TemporaryDirectory(prefix="vinculo-events-bench-") as tmp:
        db = Path(tmp) / "events.sqlite3"
        note(f"event delivery: {events:,} events × 3 consumers, one worker, scratch SQLite")
        _child(events, f"sqlite:///{db}", tmp, str(db), "events.delivered")


def _child(events: int, database_url: str, var_dir: str, db: str, delivered_name: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VINCULO_VAR_DIR": var_dir,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VINCULO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "VINCULO_MANIFEST_STATIC": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(events), db, delivered_name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        note(f"event delivery benchmark failed: {result.stderr[-2000:]}")


EMITTERS = 2
WORKERS = 2


def _run_postgres(events: int) -> None:
    """The scale path: bench/flood.py with 2 emitting processes and 2 workers, then the floor, then
    the one-worker figure and the emit overhead, in one scratch database of the bench's cluster."""
    with tempfile.TemporaryDirectory(prefix="vinculo-events-bench-") as tmp, _scratch_database() as url:
        note(
            f"event delivery: {events:,} events × 3 consumers, {EMITTERS} emitting processes and "
            f"{WORKERS} workers at once, scratch PostgreSQL database"
        )
        _flood(events, url, Path(tmp), "events.delivered", backlog=False)
        emit("events.delivered.raw", _raw_reactions_rate(url, events), "events/s")
        note(f"then the SQLite method: {events:,} events emitted first, one worker drains")
        _child(events, url, tmp, "", "events.delivered.one_worker")
    with tempfile.TemporaryDirectory(prefix="vinculo-events-bench-") as tmp, _scratch_database() as url:
        note(f"then the same {events:,} events emitted first, {WORKERS} workers drain them at once")
        _flood(events, url, Path(tmp), "events.delivered.two_workers", backlog=True)


def _flood(events: int, url: str, var_dir: Path, name: str, *, backlog: bool) -> None:
    from bench.flood import flood

    try:
        result = flood(
            database_url=url, var_dir=var_dir, events=events, emitters=EMITTERS, workers=WORKERS, backlog=backlog
        )
    except RuntimeError as error:
        note(f"{name}: the flood failed: {str(error)[-2000:]}")
        return
    exact = (result.reactions, result.distinct, result.outbox_left) == (3 * events, 3 * events, 0)
    shares = [100 * n / max(1, sum(result.per_worker)) for n in result.per_worker]
    note(
        f"{result.reactions:,} reactions ({result.distinct:,} distinct), outbox left {result.outbox_left}: "
        f"{'each (event, consumer) once' if exact else 'NOT EXACTLY ONCE'}; per worker "
        f"{', '.join(f'{n:,}' for n in result.per_worker)} deliveries; {result.seconds:.1f} s in all with the "
        f"processes' start-ups, {result.delivering_seconds or 0:.1f} s delivering; the emitting processes took "
        f"{result.emitting_seconds or 0:.1f} s"
        + ("" if backlog else f", and the last delivery came {result.lag_seconds or 0:.1f} s after the last emit")
    )
    emit(name, result.delivering_rate, "events/s")
    emit(f"{name}.worker_min_share", min(shares), "%")


def _raw_reactions_rate(database_url: str, events: int) -> float:
    """Events/s of a psycopg executemany of 3 reaction rows per event into a scratch table, in one
    transaction: what the three consumers write, without the delivery around it."""
    import psycopg

    rows = [(i, name) for i in range(events) for name in ("a", "b", "c")]
    with psycopg.connect(database_url, autocommit=True) as pg:
        pg.execute("CREATE TABLE reaction_raw (event_id integer NOT NULL, consumer text NOT NULL)")
        started = time.perf_counter()
        with pg.transaction(), pg.cursor() as cursor:
            cursor.executemany("INSERT INTO reaction_raw (event_id, consumer) VALUES (%s, %s)", rows)
        elapsed = time.perf_counter() - started
        pg.execute("DROP TABLE reaction_raw")
    return events / elapsed


@contextmanager
def _scratch_database() -> Iterator[str]:
    """An empty database in the bench database's PostgreSQL cluster (as in
    vinculo/core/tests/test_delivery_flood.py), dropped afterwards; yields its URL."""
    import psycopg
    from django.db import connection

    params = connection.settings_dict
    name = f"events_bench_{uuid.uuid4().hex[:8]}"
    admin = {"host": params["HOST"] or None, "port": params["PORT"] or None, "user": params["USER"] or None}
    admin = {k: v for k, v in admin.items() if v}
    password = params["PASSWORD"] or None
    with psycopg.connect(dbname="postgres", autocommit=True, password=password, **admin) as pg:
        pg.execute(f'CREATE DATABASE "{name}"')
    host = urllib.parse.quote(params["HOST"] or "localhost", safe="")
    port = f":{params['PORT']}" if params["PORT"] else ""
    auth = (params["USER"] or "") + (f":{urllib.parse.quote(params['PASSWORD'])}" if params["PASSWORD"] else "")
    try:
        yield f"postgres://{auth}@{host}{port}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, password=password, **admin) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
