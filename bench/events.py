"""Issue 8 (backbone): durable event delivery, on a scratch SQLite database of its own.

- events.delivered: N `order.placed` events (100,000; 10,000 at BENCH_SCALE=small) emitted through
  `core.events.emit()` (1,000 per transaction), each reaching three consumers; then one worker
  (vinculo.core.worker.Worker, in batch mode) drains the outbox: events/s from its start to the
  last delivery. Each consumer writes one row per event into a reactions table, in the claiming
  transaction; the run then checks every (event, consumer) pair was reacted to exactly once.
- events.delivered.raw: the floor: sqlite3 `executemany` of the same 3 × N reaction rows in one
  transaction, in the same database file.
- events.emit.overhead.p50: one `emit()` (the event row and its three outbox rows) inside a
  transaction, as a request does it; events.emit.overhead.raw.p50: the bare INSERT of the event row.
Targets: ≥ 5,000 events/s delivered; emit ≤ 1 ms.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import Context, note

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
call_command("migrate", verbosity=0)
with connection.cursor() as cursor:
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
            "datetime('now'), datetime('now'), %s, '', datetime('now'), datetime('now'))",
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
bench_emit("events.delivered", N / elapsed, "events/s")
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*), count(DISTINCT event_id || '/' || consumer) FROM reaction")
    total, distinct = cursor.fetchone()
left = EventDelivery.objects.count()
assert (total, distinct, left) == (3 * N, 3 * N, 0), (total, distinct, left)
print(f"# {total:,} reactions, each (event, consumer) once; outbox empty", flush=True)

rows = [(i, name) for i in range(N) for name in ("a", "b", "c")]
raw_db = sqlite3.connect(DB)
raw_db.execute("CREATE TABLE reaction_raw (event_id integer NOT NULL, consumer text NOT NULL)")
t = time.perf_counter()
with raw_db:
    raw_db.executemany("INSERT INTO reaction_raw (event_id, consumer) VALUES (?, ?)", rows)
bench_emit("events.delivered.raw", N / (time.perf_counter() - t), "events/s")
"""


def run(ctx: Context) -> None:
    events = 10_000 if os.environ.get("BENCH_SCALE") == "small" else 100_000
    with tempfile.TemporaryDirectory(prefix="vinculo-events-bench-") as tmp:
        db = Path(tmp) / "events.sqlite3"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{db}",
            "VINCULO_VAR_DIR": tmp,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VINCULO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "VINCULO_MANIFEST_STATIC": "0",
        }
        note(f"event delivery: {events:,} events × 3 consumers, one worker, scratch SQLite")
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(events), str(db)],
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
