"""Limits hold with several web processes: two real servers (`manage.py serve`, gunicorn) on one
database, requests alternating between them. With per-process counters each server would see half
the attempts and let twice the limit through."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings

from vinculo.core.testing.subprocesses import production_env

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="real servers")

SETUP = """
import django
django.setup()
from django_scopes import scopes_disabled
from vinculo.accounts.services import user_sign_up
from vinculo.touchpoints.services.sites import tracking_site_create
with scopes_disabled():
    owner = user_sign_up(email="owner@example.com", password="correct horse 42", full_name="Owner",
                         organization_name="Acme")
    site = tracking_site_create(actor=owner, data={"name": "Shop", "allowed_origins": ["https://shop.example"],
                                                   "consent_mode": "cookieless"})
print(site.public_key)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.communicate()[0])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the web server did not start")


@pytest.fixture
def two_servers(tmp_path: Path, migrated_sqlite: Path) -> Iterator[tuple[list[str], str]]:
    """Two web servers on one migrated SQLite file, no worker; their base URLs and a site key."""
    env = {**production_env(tmp_path, "two-servers"), "VINCULO_TRACK_PER_IP_PER_MINUTE": "4"}
    key = subprocess.run(
        [sys.executable, "-c", SETUP], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    ports = [_free_port(), _free_port()]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "serve",
                f"--bind=127.0.0.1:{port}",
                "--workers=1",
                "--threads=2",
                "--no-worker",
                "--no-scheduler",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for port in ports
    ]
    try:
        for port, server in zip(ports, servers, strict=True):
            _wait_for(port, server)
        yield [f"http://127.0.0.1:{port}" for port in ports], key
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.communicate(timeout=30)


def _clear_of_window_edge(window: int, margin: float) -> None:
    """Wait out the end of a fixed window when it is closer than `margin` seconds, so that every
    request of the test falls in one window."""
    left = window - time.time() % window
    if left < margin:
        time.sleep(left + 0.1)


def test_login_throttling_counts_the_failures_seen_by_both_servers(two_servers):
    (a, b), _ = two_servers
    browser = requests.Session()
    browser.get(f"{a}/accounts/login/", timeout=30)  # the CSRF cookie (the same host for both ports)
    token = browser.cookies["csrftoken"]

    def log_in(base: str, password: str) -> requests.Response:
        return browser.post(
            f"{base}/accounts/login/",
            data={"email": f"stranger{time.monotonic_ns()}@example.com", "password": password},
            headers={"X-CSRFToken": token},
            allow_redirects=False,
            timeout=60,
        )

    # 50 failures from one address, over many accounts (settings.LOGIN_THROTTLE["PER_IP_FAILURES"]),
    # 25 on each server: the next attempt, on either server, waits for the window to pass
    answers = [log_in((a, b)[n % 2], "wrong password").status_code for n in range(50)]
    assert answers == [422] * 50
    for base in (a, b):
        held = log_in(base, "wrong password")
        assert held.status_code == 429
        assert 850 <= int(held.headers["Retry-After"]) <= 900


def test_rate_limits_count_the_hits_seen_by_both_servers(two_servers, tmp_path):
    (a, b), key = two_servers
    _clear_of_window_edge(60, margin=20)
    batch = json.dumps(
        {
            "key": key,
            "events": [
                {
                    "type": "page",
                    "message_id": "m-1",
                    "anonymous_id": "anon-1",
                    "timestamp": "2026-03-02T10:00:00+00:00",
                    "url": "https://shop.example/",
                }
            ],
        }
    )
    headers = {"Content-Type": "application/json", "Origin": "https://shop.example"}
    answers = [
        requests.post(f"{(a, b)[n % 2]}/api/v1/track/batch", data=batch, headers=headers, timeout=30).status_code
        for n in range(6)
    ]
    # 4 batches a minute from one address (VINCULO_TRACK_PER_IP_PER_MINUTE=4), two on each server
    assert [status == 429 for status in answers] == [False, False, False, False, True, True]

    # password resets: 3 an hour for one address, whichever server is asked
    _clear_of_window_edge(3600, margin=60)
    reset = requests.Session()
    reset.get(f"{a}/accounts/password/reset/", timeout=30)
    for n in range(6):
        answer = reset.post(
            f"{(a, b)[n % 2]}/accounts/password/reset/",
            data={"email": "owner@example.com"},
            headers={"X-CSRFToken": reset.cookies["csrftoken"]},
            allow_redirects=False,
            timeout=30,
        )
        assert (answer.status_code, answer.headers["Location"]) == (302, "/accounts/password/reset/sent/")
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        queued = db.execute(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE task_path LIKE '%send_password_reset'"
        ).fetchone()[0]
    assert queued == 3
