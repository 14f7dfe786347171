"""A flood of events through durable delivery to three counting consumers, in real processes:
`emitters` processes emit the events (as web nodes do, 100 per transaction) while `workers`
processes deliver them (the worker's delivery step, `core.delivery.deliveries_run`); then every
(event, consumer) pair is counted. Used by bench/events.py (figures) and by
vinculo/core/tests/test_delivery_flood.py (exact counts, SQLite and PostgreSQL).

Each consumer inserts one row per event into a `reaction` table inside the claiming transaction,
with no unique constraint, so a reaction run twice would show as a duplicate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSUMERS = ("flood.scoring", "flood.segments", "flood.webhooks")

ROLE = r"""
import json, os, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
from vinculo.accounts.models import Organization
from vinculo.core.consumers import register_consumer
from vinculo.core.delivery import deliveries_due_exist, deliveries_run
from vinculo.core.events import emit

CONSUMERS = %(consumers)r


def reacting(name):
    def handler(event):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO reaction (event_id, consumer) VALUES (%%s, %%s)", [event.pk, name])
    return handler


for name in CONSUMERS:
    register_consumer(name=name, patterns=["order.*"], handler=reacting(name))

role = sys.argv[1]
if role == "setup":
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE reaction (event_id bigint NOT NULL, consumer varchar(64) NOT NULL)")
    print(Organization.objects.create(name="Flood", slug="flood").pk)
elif role == "emit":
    org = Organization.objects.get(pk=int(sys.argv[2]))
    first, count = int(sys.argv[3]), int(sys.argv[4])
    began = time.time()
    for start in range(first, first + count, 100):
        with transaction.atomic():
            for i in range(start, min(start + 100, first + count)):
                emit(organization=org, type="order.placed", properties={"order_id": i})
    print(json.dumps({"began": began, "ended": time.time()}))
elif role == "work":
    done_flag = sys.argv[2]
    delivered = busy = 0.0
    started = None
    first_claim = last_delivery = None  # wall clock (time.time), comparable across processes
    while True:
        t = time.perf_counter()
        result = deliveries_run()
        if result.claimed:
            started = started or t
            first_claim = first_claim or time.time() - (time.perf_counter() - t)
            delivered += result.delivered
            busy += time.perf_counter() - t
            last_delivery = time.time()
        elif os.path.exists(done_flag) and not deliveries_due_exist():
            break
        else:
            time.sleep(0.005)
    print(json.dumps({"delivered": delivered, "busy": busy, "first_claim": first_claim, "last_delivery": last_delivery}))
elif role == "count":
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT (event_id, consumer)) FROM reaction" if connection.vendor == "postgresql"
                       else "SELECT count(*), count(DISTINCT event_id || '/' || consumer) FROM reaction")
        total, distinct = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM core_eventdelivery")
        left = cursor.fetchone()[0]
    print(json.dumps({"total": total, "distinct": distinct, "left": left}))
"""


@dataclass(frozen=True)
class FloodResult:
    events: int
    seconds: float  # from the first emit to the last delivery
    reactions: int
    distinct: int
    outbox_left: int
    per_worker: list[int]
    # from the first claim of any worker to the last delivery of any (start-ups left out), if any
    delivering_seconds: float | None = None
    # from the first emit of any emitting process to the last commit of any
    emitting_seconds: float | None = None
    # from the last emitting commit to the last delivery: how far delivery lagged behind
    lag_seconds: float | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def delivering_rate(self) -> float:
        """Events/s while the workers delivered (emitters running meanwhile), start-ups left out."""
        return self.events / (self.delivering_seconds or self.seconds)


def flood(
    *, database_url: str, var_dir: Path, events: int, emitters: int, workers: int, backlog: bool = False
) -> FloodResult:
    """Run the flood against a migrated-on-the-spot empty database at `database_url`. With
    `backlog`, the workers start only once every event is emitted: they drain an outbox of
    3 × `events` rows, and `delivering_seconds` is the delivery alone."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VINCULO_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VINCULO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "VINCULO_MANIFEST_STATIC": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "flood"),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    script = ROLE % {"consumers": CONSUMERS}

    def run(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-3000:])
        return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""

    def spawn(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", script, *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    org_id = run("setup")
    done_flag = var_dir / "flood-emitted"
    done_flag.unlink(missing_ok=True)
    share = -(-events // emitters)
    started = time.perf_counter()
    working = [] if backlog else [spawn("work", str(done_flag)) for _ in range(workers)]
    emitting = [spawn("emit", org_id, str(i * share), str(min(share, events - i * share))) for i in range(emitters)]
    began, ended = [], []
    for process in emitting:
        out, err = process.communicate(timeout=3600)
        if process.returncode != 0:
            raise RuntimeError(err[-3000:])
        if out.strip():
            report = json.loads(out.strip().splitlines()[-1])
            began.append(report["began"])
            ended.append(report["ended"])
    done_flag.touch()
    if backlog:
        working = [spawn("work", str(done_flag)) for _ in range(workers)]
    per_worker = []
    firsts, lasts = [], []
    for process in working:
        out, err = process.communicate(timeout=3600)
        if process.returncode != 0:
            raise RuntimeError(err[-3000:])
        report = json.loads(out.strip().splitlines()[-1])
        per_worker.append(int(report["delivered"]))
        if report.get("first_claim") is not None:
            firsts.append(report["first_claim"])
            lasts.append(report["last_delivery"])
    seconds = time.perf_counter() - started
    counted = json.loads(run("count"))
    return FloodResult(
        events=events,
        seconds=seconds,
        reactions=counted["total"],
        distinct=counted["distinct"],
        outbox_left=counted["left"],
        per_worker=per_worker,
        delivering_seconds=(max(lasts) - min(firsts)) if firsts else None,
        emitting_seconds=(max(ended) - min(began)) if began else None,
        lag_seconds=(max(lasts) - max(ended)) if lasts and ended else None,
    )
