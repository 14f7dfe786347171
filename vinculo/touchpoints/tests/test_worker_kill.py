"""A real task worker killed with SIGKILL, several times, while it processes 10,000 tracker events
(5 % of them duplicates by message id): afterwards every distinct event is stored exactly once and
every batch was processed exactly once (the visitors' page counts equal the distinct page views).

Everything runs in subprocesses on a file SQLite database in tmp_path, with the database task
backend, the way production runs: `manage.py worker` processes the queue; a batch whose task died
with its worker is taken over by the next worker within seconds (its sweep of stale batches), and
the task rows the killed workers left "running" are closed by the live worker (heartbeats).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from vinculo.core.testing.subprocesses import production_env

ROOT = Path(settings.BASE_DIR)
BATCHES = 100
PER_BATCH = 100
KILLS = 3

# Posts the batches through the real endpoint (in-process Client) and prints what to expect.
POST_SCRIPT = """
import json, random
import django
django.setup()
from django.test import Client
from vinculo.accounts.models import Membership, Organization, User
from vinculo.touchpoints.models import TrackingSite

org = Organization.objects.create(name="Kill test", slug="kill-test")
user = User.objects.create_user(email="owner@example.com", password="a long test password 42", full_name="Owner")
Membership.objects.create(user=user, organization=org, role="owner")
site = TrackingSite.dangerously_unscoped.create(organization=org, name="Shop", allowed_origins=["https://shop.example"])
rng = random.Random(7)
sent, distinct, pages = [], {}, {}
for b in range(%(batches)d):
    events = []
    for i in range(%(per_batch)d):
        if sent and rng.random() < 0.05:
            event = dict(rng.choice(sent))  # a duplicate: the same message id again
        else:
            n = len(distinct)
            aid = f"anon-{n %% 250}"
            kind = "page" if n %% 4 else "track"
            event = {"type": kind, "message_id": f"msg-{n}", "anonymous_id": aid,
                     "timestamp": f"2026-03-02T{10 + n // 3600:02d}:{n // 60 %% 60:02d}:{n %% 60:02d}Z",
                     "url": "https://shop.example/p/" + str(n %% 30), "title": "P"}
            if kind == "track":
                event["name"] = "added_to_cart"
            distinct[event["message_id"]] = event
            if kind == "page":
                pages[aid] = pages.get(aid, 0) + 1
        sent.append(event)
        events.append(event)
    body = json.dumps({"key": site.public_key, "sent_at": "2026-03-02T12:00:00Z", "consent": True, "events": events})
    response = Client().post("/api/v1/track/batch", data=body, content_type="text/plain", REMOTE_ADDR=f"10.0.{b // 200}.{b %% 200}")
    assert response.status_code == 202, response.content
    assert response.json()["accepted"] == %(per_batch)d
print(json.dumps({"org": org.pk, "distinct": sorted(distinct), "pages": pages, "duplicates": len(sent) - len(distinct)}))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return production_env(tmp_path, "worker-kill-test")


def _run(tmp_path: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, check=False, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _worker(tmp_path: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-startup-delay", "--interval=0.1", "--no-reload", *extra],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _processed(db: Path) -> int:
    with sqlite3.connect(db, timeout=20) as connection:
        return int(
            connection.execute(
                "SELECT count(*) FROM touchpoints_ingestbatch WHERE processed_at IS NOT NULL"
            ).fetchone()[0]
        )


def _running_tasks(db: Path) -> int:
    with sqlite3.connect(db, timeout=20) as connection:
        return int(
            connection.execute(
                "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'"
            ).fetchone()[0]
        )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses SIGKILL")
def test_killing_the_worker_loses_and_duplicates_nothing(tmp_path, migrated_sqlite):
    db = migrated_sqlite  # tmp_path / "db.sqlite3", migrated
    expected = json.loads(
        _run(tmp_path, "-c", POST_SCRIPT % {"batches": BATCHES, "per_batch": PER_BATCH}).splitlines()[-1]
    )
    assert expected["duplicates"] == BATCHES * PER_BATCH - len(expected["distinct"])
    assert 400 <= expected["duplicates"] <= 600  # about 5 %

    # kill the worker each time it has made some progress, while batches are still waiting
    at_kill = []
    for _ in range(KILLS):
        before = _processed(db)
        worker = _worker(tmp_path)
        deadline = time.monotonic() + 120
        while _processed(db) < before + 3 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        at_kill.append(_processed(db))
    assert len(at_kill) == KILLS
    assert all(0 < n < BATCHES for n in at_kill), at_kill  # each kill hit a worker in the middle of the run

    # a live worker takes over what the killed ones left, within seconds
    final = _worker(tmp_path)
    try:
        started = time.monotonic()
        while _processed(db) < BATCHES and time.monotonic() - started < 180:
            time.sleep(0.1)
        assert _processed(db) == BATCHES
        # the task rows the killed workers held are closed (no "running" forever) and run again
        while _running_tasks(db) and time.monotonic() - started < 180:
            time.sleep(0.2)
        assert _running_tasks(db) == 0
    finally:
        final.send_signal(signal.SIGTERM)
        final.wait(timeout=60)

    with sqlite3.connect(db) as connection:
        org = expected["org"]
        web_ids = [
            row[0]
            for row in connection.execute(
                "SELECT message_id FROM core_event WHERE organization_id = ? AND type IN ('page.viewed', 'web.added_to_cart')",
                (org,),
            )
        ]
        batches = connection.execute(
            "SELECT count(*), sum(processed_at IS NOT NULL), min(attempts), max(attempts) FROM touchpoints_ingestbatch"
        ).fetchone()
        pages = dict(
            connection.execute(
                "SELECT anonymous_id, page_view_count FROM touchpoints_visitor WHERE organization_id = ?", (org,)
            )
        )
        sessions_pages = connection.execute("SELECT sum(page_view_count) FROM touchpoints_websession").fetchone()[0]
        started = connection.execute("SELECT count(*) FROM core_event WHERE type = 'session.started'").fetchone()[0]
        session_count = connection.execute("SELECT count(*) FROM touchpoints_websession").fetchone()[0]

    assert len(web_ids) == len(set(web_ids)) == len(expected["distinct"])  # every distinct event once
    assert sorted(web_ids) == expected["distinct"]
    assert batches == (BATCHES, BATCHES, 1, 1)  # every batch committed exactly once
    assert pages == expected["pages"]  # no batch's effects counted twice
    assert sessions_pages == sum(expected["pages"].values())
    assert started == session_count  # one session.started per session, none twice
