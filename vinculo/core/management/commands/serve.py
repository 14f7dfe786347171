"""`manage.py serve`: run Vínculo on one machine: the web server, a task worker and the scheduler.

Three child processes, supervised together:
- web: gunicorn serving `config.wsgi` with threaded (`gthread`) workers and request lines of up to
  8,190 bytes; static files by WhiteNoise (collected into STATIC_ROOT first when they changed);
- worker: `manage.py worker`, which runs the background tasks and delivers events to consumers;
- scheduler: `manage.py scheduler`, which enqueues the periodic tasks.
Ctrl-C or SIGTERM stops all three. If any of them dies, the others are stopped too and the command
exits non-zero, so a process manager (systemd, a container runtime) sees the failure and restarts.
For several machines run the three parts separately instead (docs/deployment.md).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from vinculo.core.management.demo_login import DEMO_EMAIL, DEMO_PASSWORD

STOP_TIMEOUT_SECONDS = 15
STATIC_STAMP = ".vinculo-static-stamp"
LIMIT_REQUEST_LINE = 8190  # bytes of "GET /path?query HTTP/1.1": the most gunicorn takes


def static_signature() -> str:
    """A hash of every static source file (path, size, mtime) and of the storage backend."""
    digest = hashlib.sha256(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    entries = []
    for finder in get_finders():
        for path, storage in finder.list([]):
            stat = os.stat(storage.path(path))
            entries.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode())
    return digest.hexdigest()


def collect_static_if_stale(write: Callable[[str], None]) -> bool:
    """Run collectstatic when STATIC_ROOT does not hold the current static files. True if it ran."""
    root = Path(settings.STATIC_ROOT)
    stamp = root / STATIC_STAMP
    signature = static_signature()
    if stamp.exists() and stamp.read_text() == signature:
        return False
    write("Collecting static files…")
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(signature)
    return True


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the supervising process dies (Linux only)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _wait_for_port(bind: str, process: subprocess.Popen[bytes], timeout: float = 20.0) -> bool:
    if bind.startswith("unix:"):
        return True
    host, _sep, port = bind.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # noqa: S104 - only probing
        host = "127.0.0.1"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _url_of(bind: str) -> str:
    if bind.startswith("unix:"):
        return bind
    host, _sep, port = bind.rpartition(":")
    if host in ("", "0.0.0.0", "[::]", "::"):  # noqa: S104 - only printing
        host = "127.0.0.1"
    return f"http://{host}:{port}/"


class Command(BaseCommand):
    help = "Run the web server (gunicorn), a task worker and the scheduler until Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--bind",
            default=os.environ.get("VINCULO_BIND", "127.0.0.1:8000"),
            help="Address for the web server, HOST:PORT or unix:PATH (default: %(default)s, env VINCULO_BIND).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", 2)),
            help="gunicorn worker processes (default: %(default)s, env WEB_CONCURRENCY).",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("VINCULO_WEB_THREADS", 4)),
            help="Threads per worker process (default: %(default)s, env VINCULO_WEB_THREADS).",
        )
        parser.add_argument("--no-worker", action="store_true", help="Do not start a task worker.")
        parser.add_argument("--no-scheduler", action="store_true", help="Do not start the scheduler.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1.")
        self._refuse_unapplied_migrations()
        collect_static_if_stale(self.stdout.write)
        connections.close_all()  # the children open their own

        manage = [sys.executable, "-m", "config.manage"]
        commands: dict[str, list[str]] = {
            "web": [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--worker-class=gthread",
                f"--workers={options['workers']}",
                f"--threads={options['threads']}",
                f"--bind={options['bind']}",
                "--access-logfile=-",
                "--timeout=60",
                "--graceful-timeout=10",
                "--no-control-socket",
                # gunicorn's largest request line (its default, 4094, answered a long list URL with
                # its own HTML 414 before Django could say which parameter is too long)
                f"--limit-request-line={LIMIT_REQUEST_LINE}",
            ]
        }
        if not options["no_worker"]:
            commands["worker"] = [*manage, "worker", "--no-reload", "--verbosity=1"]
        if not options["no_scheduler"]:
            commands["scheduler"] = [*manage, "scheduler"]

        stopping: list[int] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stopping.append(signum)

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)

        children: dict[str, subprocess.Popen[bytes]] = {}
        failed: tuple[str, int] | None = None
        try:
            for name, command in commands.items():
                # own process group: Ctrl-C reaches only this supervisor, which stops them in order
                children[name] = subprocess.Popen(command, process_group=0, preexec_fn=_die_with_parent)  # noqa: S603 - our own argv
            if _wait_for_port(options["bind"], children["web"]):
                self._print_banner(options["bind"], sorted(children))
            while not stopping and failed is None:
                for name, child in children.items():
                    code = child.poll()
                    if code is not None:
                        failed = (name, code)
                        break
                else:
                    time.sleep(0.5)
        finally:
            self._stop(children)
        if failed is not None:
            raise CommandError(f"the {failed[0]} process exited with code {failed[1]}; stopped the others.")
        self.stdout.write("Stopped.")

    def _stop(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()

    def _refuse_unapplied_migrations(self) -> None:
        """The worker and the pages need every table: stop here with the fix, not with a traceback."""
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("the database has unapplied migrations; run `vinculo migrate` first.")

    def _print_banner(self, bind: str, parts: list[str]) -> None:
        url = _url_of(bind)
        lines = [f"Vínculo is running at {url} ({', '.join(parts)}). Press Ctrl-C to stop."]
        demo = get_user_model().objects.filter(email=DEMO_EMAIL).first()
        if demo is not None and demo.check_password(DEMO_PASSWORD):
            lines.append(f"Demo login: {DEMO_EMAIL} / password: {DEMO_PASSWORD}")
        connections.close_all()
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
