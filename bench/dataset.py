"""The benchmark data set: a demo organisation in its own SQLite file under var/bench/, built once
per scale and seed by `manage.py demo` and reused while the ready marker says it is complete.

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


def db_path(contacts: int) -> Path:
    return BENCH_DIR / f"bench-{contacts}-{SEED}.sqlite3"


def database_url(contacts: int) -> str:
    return f"sqlite:///{db_path(contacts)}"


def _manage(contacts: int, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url(contacts), "VINCULO_MANIFEST_STATIC": "0"}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=env, cwd=ROOT)


def ensure_dataset(contacts: int, log: bool = True) -> Path:
    """Build the data set if it is missing or incomplete; apply new migrations to a cached one."""
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
            print(f"BENCH demo.build.{contacts} {seconds:.1f} s", flush=True)
    else:
        _manage(contacts, "migrate", "--noinput", "-v0")
    return path


if __name__ == "__main__":
    ensure_dataset(scale_contacts())
