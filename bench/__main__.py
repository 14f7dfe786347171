"""`python -m bench [module …]`: build (or reuse) the data set, then run every benchmark module.

On SQLite by default; with BENCH_DB=postgres on the PostgreSQL database of DATABASE_URL
(`make bench-pg`: a throwaway cluster by scripts/with-postgres.sh), every figure named `pg.…`."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time

from bench.dataset import database_url, ensure_dataset, scale_contacts

NOT_BENCHMARKS = {"dataset", "harness", "flood"}  # flood: a helper of events.py and a test


def main(argv: list[str]) -> None:
    started = time.monotonic()
    contacts = scale_contacts()
    ensure_dataset(contacts)
    os.environ["DATABASE_URL"] = database_url(contacts)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["VINCULO_MANIFEST_STATIC"] = "0"  # no collectstatic needed; a manifest lookup is a dict lookup
    os.environ.setdefault("VINCULO_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")

    import django

    django.setup()
    from django.db import connection

    from bench.harness import Context, emit, engine_name, note, rss_mb

    if connection.vendor == "sqlite":
        _analyze_new_sqlite_indexes()
    else:  # the data set was just built (demo ends with ANALYZE) or reused: fresh statistics either way
        analyzed = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        note(f"PostgreSQL planner statistics refreshed in {time.monotonic() - analyzed:.1f} s")
    ctx = Context(contacts=contacts)
    note(f"{contacts:,} contacts, {ctx.runs} runs per figure after {ctx.warmup} warm-up runs, {engine_name()}")
    here = os.path.dirname(os.path.abspath(__file__))
    names = argv or sorted(
        m.name for m in pkgutil.iter_modules([here]) if not m.name.startswith("_") and m.name not in NOT_BENCHMARKS
    )
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        module.run(ctx)
    emit("web.worker.rss", rss_mb(), "MB")
    note(f"done in {time.monotonic() - started:.0f} s")


def _analyze_new_sqlite_indexes() -> None:
    """A migration added an index to a table of the cached SQLite file: it has no statistics yet."""
    from django.db import connection

    from bench.harness import note
    from vinculo.core.tasks import analyze_database

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        unanalyzed = 1
        if cursor.fetchone()[0]:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name IN (SELECT tbl FROM sqlite_stat1) "
                "AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL)"
            )
            unanalyzed = cursor.fetchone()[0]
    if unanalyzed:
        analyzed = time.monotonic()
        analyze_database.call()  # what the scheduler's nightly analyze-database task does
        note(f"{unanalyzed} new indexes: planner statistics refreshed in {time.monotonic() - analyzed:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
