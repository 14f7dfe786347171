"""The operations commands: `scheduler` (periodic jobs that only enqueue tasks), the tasks it
enqueues, and `serve` (web server + worker + scheduler supervised together, request lines of up to
8,190 bytes)."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from vinculo.core.management.commands.scheduler import build_scheduler, run_job
from vinculo.core.management.commands.serve import _url_of
from vinculo.core.tasks import analyze_database, prune_task_results

ROOT = Path(settings.BASE_DIR)

# --- scheduler ------------------------------------------------------------------------------------


def test_scheduler_registers_one_cron_job_per_periodic_task():
    scheduler = build_scheduler()

    jobs = {job.id: job for job in scheduler.get_jobs()}

    assert (
        set(jobs)
        == set(settings.PERIODIC_TASKS)
        == {
            "prune-login-attempts",
            "prune-task-results",
            "analyze-database",
            "send-due-messages",
            "activity-reminders",
            "fetch-mailboxes",
            "process-pending-batches",
            "process-pending-deliveries",
            "fetch-due-leads",
            "prune-webhook-deliveries",
        }
    )
    prune = jobs["prune-login-attempts"]
    assert isinstance(prune.trigger, CronTrigger)
    assert str(prune.trigger) == "cron[month='*', day='*', day_of_week='*', hour='3', minute='17']"
    assert prune.func is run_job
    assert prune.args == ("vinculo.accounts.tasks.prune_login_attempts", {})
    first = prune.trigger.get_next_fire_time(None, dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC))
    assert first == dt.datetime(2030, 1, 2, 3, 17, tzinfo=dt.UTC)
    assert not scheduler.running


def test_scheduler_passes_kwargs_and_rejects_typos():
    scheduler = build_scheduler(
        {
            "x": {
                "task": "vinculo.accounts.tasks.prune_login_attempts",
                "cron": "0 * * * *",
                "kwargs": {"older_than_days": 7},
            }
        }
    )
    assert scheduler.get_job("x").args == ("vinculo.accounts.tasks.prune_login_attempts", {"older_than_days": 7})

    with pytest.raises(ImproperlyConfigured, match="cannot import"):
        build_scheduler({"x": {"task": "vinculo.accounts.tasks.nope", "cron": "0 3 * * *"}})
    with pytest.raises(ImproperlyConfigured, match="is not a task"):
        build_scheduler({"x": {"task": "vinculo.accounts.throttle.prune_attempts", "cron": "0 3 * * *"}})
    with pytest.raises(ImproperlyConfigured, match="bad cron"):
        build_scheduler({"x": {"task": "vinculo.accounts.tasks.prune_login_attempts", "cron": "every day"}})


def test_scheduler_list_prints_the_jobs():
    result = subprocess.run(
        [sys.executable, "manage.py", "scheduler", "--list"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    lines = result.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "prune-login-attempts",
        "prune-task-results",
        "analyze-database",
        "send-due-messages",
        "activity-reminders",
        "fetch-mailboxes",
        "process-pending-batches",
        "process-pending-deliveries",
        "fetch-due-leads",
        "prune-webhook-deliveries",
    ]


# --- the periodic tasks ------------------------------------------------------------------------------


IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.mark.django_db
def test_prune_task_results_works_on_the_database_backend_only(settings):
    settings.TASKS = DATABASE
    assert prune_task_results.call() is True
    settings.TASKS = IMMEDIATE
    assert prune_task_results.call() is False


def test_analyze_database_gives_sqlite_planner_statistics(org):
    from django.db import connection

    from vinculo.core.models import Event

    Event.dangerously_unscoped.create(organization=org, type="page.viewed")
    if connection.vendor != "sqlite":
        assert analyze_database.call() is False
        return
    assert analyze_database.call() is True
    assert analyze_database.call() is True  # again: harmless
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'core_event'")
        assert cursor.fetchone()[0] > 0


# --- serve ----------------------------------------------------------------------------------------


def test_url_of_bind_addresses():
    assert _url_of("127.0.0.1:8000") == "http://127.0.0.1:8000/"
    assert _url_of("0.0.0.0:9000") == "http://127.0.0.1:9000/"
    assert _url_of("unix:/run/vinculo.sock") == "unix:/run/vinculo.sock"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "VINCULO_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VINCULO_MANIFEST_STATIC": "0",
        "SECRET_KEY": "serve-test",
    }
    env.pop("VINCULO_TASKS_BACKEND", None)
    return env


def _serve(tmp_path: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = _serve_env(tmp_path)
    command = [sys.executable, "manage.py", "serve", f"--bind=127.0.0.1:{port}", "--workers=1", "--threads=2", *extra]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(port: int, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the web server did not start")


def _children_of(pid: int) -> list[int]:
    result = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in result.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and ps")
def test_serve_runs_web_worker_and_scheduler_and_sigterm_stops_them_all(tmp_path, migrated_sqlite):
    port = _free_port()
    process = _serve(tmp_path, port)
    try:
        _wait_for(port, process)
        children = _children_of(process.pid)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/vinculo/vinculo.css", timeout=10) as response:
                assert response.status == 200
        except OSError as exc:  # say why: serve's own output (a child that died, …)
            process.send_signal(signal.SIGTERM)
            raise AssertionError(f"{exc}; serve said:\n{process.communicate(timeout=30)[0]}") from exc
        assert len(children) == 3  # gunicorn master, worker, scheduler
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"Vínculo is running at http://127.0.0.1:{port}/ (scheduler, web, worker)" in output
    assert output.rstrip().endswith("Stopped.")
    assert not any(_alive(pid) for pid in children)


def test_serve_refuses_an_unmigrated_database_with_the_fix(tmp_path):
    process = _serve(tmp_path, _free_port())
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output
    assert output.strip() == "CommandError: the database has unapplied migrations; run `vinculo migrate` first."


def test_serve_exits_non_zero_when_a_child_dies(tmp_path, migrated_sqlite):
    port = _free_port()
    with socket.socket() as taken:  # the web server cannot bind: gunicorn exits, serve stops the rest
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        taken.bind(("127.0.0.1", port))
        taken.listen()
        process = _serve(tmp_path, port, "--no-worker", "--no-scheduler")
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output
    assert "the web process exited with code" in output


TOKEN_SCRIPT = """
from django_scopes import scope
from vinculo.accounts.services import api_token_create, user_sign_up
owner = user_sign_up(email="ops@example.com", password="Long-enough-pass-42", full_name="Ops", organization_name="Ops")
with scope(organization=owner.organization):
    print(api_token_create(actor=owner, name="long lines", scope="read").secret)
"""


def _get(port: int, target: str, token: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of GET `target`, sent as is (no client-side limits)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", target, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_serve_lets_a_6000_byte_request_line_reach_vinculo_and_gunicorn_refuses_past_8190(tmp_path, migrated_sqlite):
    made = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", TOKEN_SCRIPT],
        cwd=ROOT,
        env=_serve_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    token = made.stdout.strip().splitlines()[-1]
    port = _free_port()
    process = _serve(tmp_path, port, "--no-worker", "--no-scheduler")
    try:
        _wait_for(port, process)
        ok = _get(port, "/api/v1/contacts?q=" + "a" * 200, token)
        assert ok[:2] == (200, "application/json; charset=utf-8"), ok
        # "GET /api/v1/contacts?q=aaa… HTTP/1.1": 6,000 bytes, past gunicorn's default of 4,094
        target = "/api/v1/contacts?q=" + "a" * (6000 - len("GET /api/v1/contacts?q= HTTP/1.1"))
        assert len(f"GET {target} HTTP/1.1") == 6000
        status, content_type, body = _get(port, target, token)
        assert (status, content_type) == (422, "application/json; charset=utf-8"), body[:300]
        assert json.loads(body) == {
            "detail": "Some fields are not valid.",
            "errors": [{"field": "q", "message": "At most 200 characters."}],
        }
        # past 8,190 bytes the request never reaches Vínculo: gunicorn's own answer (README, The API)
        status, content_type, _body = _get(port, "/api/v1/contacts?q=" + "a" * 8200, token)
        assert (status, content_type) == (414, "text/html")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
