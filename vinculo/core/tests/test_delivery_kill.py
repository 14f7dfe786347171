"""Reactions survive SIGKILL (docs/adr/0005): a web process is killed right after it committed
1,200 deals (their `deal.created` events and outbox rows) and before anything reacted; then real
workers (`manage.py worker`) are killed three times in the middle of delivering. Afterwards every
deal has exactly one follow-up activity from the rule of its first stage: no reaction lost, none
twice, and the outbox is empty.

Everything runs in subprocesses on a file SQLite database in tmp_path, with production settings.
"""

from __future__ import annotations

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
DEALS = 1200
KILLS = 3

# Creates the deals through the service in one transaction per deal, says so, then waits to be killed.
WEB_SCRIPT = """
import sys, time
import django
django.setup()
from django_scopes import scope
from vinculo.accounts.models import Membership, Organization, User
from vinculo.sales.models import FollowUpRule
from vinculo.sales.services.deals import deal_create
from vinculo.sales.testing import make_pipeline, stage_named

org = Organization.objects.create(name="Kill test", slug="kill-test")
user = User.objects.create_user(email="owner@example.com", password="a long test password 42", full_name="Owner")
owner = Membership.objects.create(user=user, organization=org, role="owner")
pipeline = make_pipeline(org)
FollowUpRule.dangerously_unscoped.create(
    organization=org, stage=stage_named(pipeline, "Qualification"), subject="Qualify", days_after=1, kind="call"
)
with scope(organization=org):
    for n in range(%(deals)d):
        deal_create(actor=owner, data={"title": f"Deal {n}"})
print("committed", flush=True)
time.sleep(600)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return production_env(tmp_path, "delivery-kill-test")


def _worker(tmp_path: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-startup-delay", "--interval=0.05", "--no-reload", *extra],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db, timeout=20) as connection:
        return int(connection.execute(sql).fetchone()[0])


FOLLOW_UPS = "SELECT count(*) FROM sales_activity WHERE follow_up_rule_id IS NOT NULL"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses SIGKILL")
def test_killed_processes_lose_no_reaction_and_run_none_twice(tmp_path, migrated_sqlite):
    db = migrated_sqlite  # tmp_path / "db.sqlite3", migrated

    # the web process commits its deals, then dies before any reaction could run
    web = subprocess.Popen(
        [sys.executable, "-c", WEB_SCRIPT % {"deals": DEALS}],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert web.stdout is not None
    assert web.stdout.readline().strip() == "committed"
    web.send_signal(signal.SIGKILL)
    web.wait(timeout=30)
    assert _count(db, "SELECT count(*) FROM core_eventdelivery WHERE consumer = 'sales.follow_ups'") == DEALS
    assert _count(db, FOLLOW_UPS) == 0

    # workers killed while they deliver
    at_kill = []
    for _ in range(KILLS):
        before = _count(db, FOLLOW_UPS)
        worker = _worker(tmp_path)
        deadline = time.monotonic() + 120
        while _count(db, FOLLOW_UPS) <= before and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        at_kill.append(_count(db, FOLLOW_UPS))
    assert all(0 < n < DEALS for n in at_kill), at_kill  # each kill hit a worker in the middle of the run

    assert _worker(tmp_path, "--batch").wait(timeout=600) == 0

    assert _count(db, FOLLOW_UPS) == DEALS
    assert _count(db, "SELECT count(DISTINCT deal_id) FROM sales_activity WHERE follow_up_rule_id IS NOT NULL") == DEALS
    assert _count(db, "SELECT count(*) FROM core_event WHERE type = 'activity.created'") == DEALS
    assert _count(db, "SELECT count(*) FROM core_eventdelivery") == 0
