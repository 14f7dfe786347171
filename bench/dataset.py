"""The benchmark data set: a demo organisation in its own SQLite file under var/bench/, built once
per scale and seed by `manage.py demo` and reused while the ready marker says it is complete.

With BENCH_DB=postgres (`make bench-pg`, under scripts/with-postgres.sh) it is built instead into
the PostgreSQL database of the DATABASE_URL that script exports, by the same command: no file
cache (the cluster is thrown away afterwards); the build ends with ANALYZE. A database that
already holds the organisation is reused as it is.

BENCH_SCALE=small: 20,000 contacts; default ("full"): 1,000,000 contacts, the scale the issue
names; a number sets the count directly. The first contact of the organisation has a 10,000-event
timeline (`demo --busy-contact-events`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
SCALES = {"small": 20_000, "full": 1_000_000}
SEED = 42
ORG_SLUG = "bench"
BUSY_CONTACT_EVENTS = 10_000


def scale_contacts() -> int:
    scale = os.environ.get("BENCH_SCALE", "full").strip().lower() or "full"
    if scale.isdigit():
        return int(scale)
    if scale not in SCALES:
        raise SystemExit(f"BENCH_SCALE must be one of {', '.join(SCALES)} or a number, not {scale!r}")
    return SCALES[scale]


def on_postgres() -> bool:
    """True when the benchmarks run on PostgreSQL (BENCH_DB=postgres, DATABASE_URL set by the caller)."""
    engine = os.environ.get("BENCH_DB", "sqlite").strip().lower() or "sqlite"
    if engine in ("sqlite", "sqlite3"):
        return False
    if engine not in ("postgres", "postgresql", "pg"):
        raise SystemExit(f"BENCH_DB must be sqlite or postgres, not {engine!r}")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "BENCH_DB=postgres needs DATABASE_URL=postgres://…: run it as "
            "`BENCH_DB=postgres scripts/with-postgres.sh .venv/bin/python -m bench` (make bench-pg)"
        )
    return True


def figure_prefix() -> str:
    """What every BENCH name starts with: `pg.` on PostgreSQL, nothing on SQLite."""
    return "pg." if on_postgres() else ""


def db_path(contacts: int) -> Path:
    return BENCH_DIR / f"bench-{contacts}-{SEED}.sqlite3"


def database_url(contacts: int) -> str:
    if on_postgres():
        return os.environ["DATABASE_URL"]
    return f"sqlite:///{db_path(contacts)}"


def _manage(contacts: int, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url(contacts), "VINCULO_MANIFEST_STATIC": "0"}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=env, cwd=ROOT)


def ensure_dataset(contacts: int, log: bool = True) -> Path | None:
    """Build the data set if it is missing or incomplete; apply new migrations to a cached one."""
    if on_postgres():
        _ensure_postgres_dataset(contacts, log)
        return None
    path = db_path(contacts)
    ready = path.with_suffix(".ready")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if not ready.exists():
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        if log:
            print(
                f"# building the benchmark data set ({contacts:,} contacts) into {path}; reused next time", flush=True
            )
        started = time.monotonic()
        _manage(contacts, "migrate", "--noinput", "-v0")
        _manage(
            contacts,
            "demo",
            f"--contacts={contacts}",
            f"--seed={SEED}",
            f"--org-slug={ORG_SLUG}",
            f"--busy-contact-events={BUSY_CONTACT_EVENTS}",
        )
        seconds = time.monotonic() - started
        ready.write_text(json.dumps({"contacts": contacts, "seed": SEED, "build_seconds": round(seconds, 1)}))
        if log:
            print(f"BENCH {figure_prefix()}demo.build.{contacts} {seconds:.1f} s", flush=True)
    else:
        _manage(contacts, "migrate", "--noinput", "-v0")
    return path


def _ensure_postgres_dataset(contacts: int, log: bool) -> None:
    """Migrate the PostgreSQL database and build the organisation into it unless it is there."""
    _manage(contacts, "migrate", "--noinput", "-v0")
    probe = subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "shell",
            "-c",
            "from vinculo.contacts.models import Contact; from django_scopes import scopes_disabled\n"
            f"with scopes_disabled(): print(Contact.objects.filter(organization__slug={ORG_SLUG!r}).count())",
        ],
        check=True,
        env={**os.environ, "DATABASE_URL": database_url(contacts), "VINCULO_MANIFEST_STATIC": "0"},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    have = int(probe.stdout.split()[-1])
    if have >= contacts:
        if log:
            print(f"# the organisation {ORG_SLUG!r} is already in this PostgreSQL database: reused", flush=True)
        return
    if have:  # a build that stopped half-way (the organisation is written first)
        raise SystemExit(
            f"the organisation {ORG_SLUG!r} in this PostgreSQL database has {have:,} contacts, not {contacts:,}: "
            "an interrupted build, or another scale; use a fresh database (make bench-pg makes one)"
        )
    if log:
        print(f"# building the benchmark data set ({contacts:,} contacts) into PostgreSQL", flush=True)
    started = time.monotonic()
    _manage(
        contacts,
        "demo",
        f"--contacts={contacts}",
        f"--seed={SEED}",
        f"--org-slug={ORG_SLUG}",
        f"--busy-contact-events={BUSY_CONTACT_EVENTS}",
    )  # it ends with ANALYZE, which PostgreSQL's autovacuum would only get to later
    seconds = time.monotonic() - started
    if log:
        print(f"BENCH {figure_prefix()}demo.build.{contacts} {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    ensure_dataset(scale_contacts())
