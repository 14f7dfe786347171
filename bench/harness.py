"""What every benchmark module uses: timing, percentiles, the raw SQL floor, and the output format."""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.test import Client
from django_scopes import scopes_disabled

from bench.dataset import ORG_SLUG, figure_prefix

if TYPE_CHECKING:
    from vinculo.accounts.models import Membership, Organization
    from vinculo.sales.models import Pipeline, Stage

# the stages of the sales benchmarks' pipelines: name, probability, kind
SALES_STAGES = [
    ("Qualification", 10, "open"),
    ("Proposal", 40, "open"),
    ("Negotiation", 70, "open"),
    ("Won", 100, "won"),
    ("Lost", 0, "lost"),
]


def emit(name: str, value: float, unit: str) -> None:
    """Print one figure, exactly `BENCH <name> <value> <unit>`; on PostgreSQL (BENCH_DB=postgres,
    `make bench-pg`) the name starts with `pg.`, in this process and in the benchmarks' children."""
    text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".") or "0"
    print(f"BENCH {figure_prefix()}{name} {text} {unit}", flush=True)


def note(message: str) -> None:
    print(f"# {message}", flush=True)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Context:
    contacts: int
    runs: int = int(os.environ.get("BENCH_RUNS", 30))
    warmup: int = 3

    def time_ms(self, fn: Callable[[], Any], cpu: list[float] | None = None) -> list[float]:
        """Wall-clock milliseconds of each run; the CPU time of this process too, into `cpu`
        (on a busy machine the wall time includes waiting for a core, the CPU time does not)."""
        for _ in range(self.warmup):
            fn()
        samples = []
        for _ in range(self.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
            if cpu is not None:
                cpu.append((time.process_time() - started_cpu) * 1000)
        return samples

    def report_ms(self, name: str, samples: list[float]) -> None:
        emit(f"{name}.p50", statistics.median(samples), "ms")
        emit(f"{name}.p95", percentile(samples, 95), "ms")

    def request(
        self,
        name: str,
        client: Client,
        url: str,
        *,
        main_query: Callable[[str], bool] | None = None,
        headers: dict[str, str] | None = None,
    ) -> int:
        """Time GET `url` through the whole Django stack (middleware, view, template), and beside it
        the raw SQL of its main query (the first one `main_query` accepts) run on a cursor, and of all
        its SELECTs (`.raw_sql.all`).
        Returns the status; only a 200 is timed."""
        queries: list[tuple[str, Any, float]] = []

        def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append((sql, params, (time.perf_counter() - started) * 1000))

        with connection.execute_wrapper(record):
            response = client.get(url, headers=headers or {})
        if response.status_code != 200:
            note(f"{name} skipped: GET {url} answered {response.status_code}")
            return response.status_code
        cpu: list[float] = []
        self.report_ms(name, self.time_ms(lambda: client.get(url, headers=headers or {}), cpu))
        emit(f"{name}.cpu.p50", statistics.median(cpu), "ms")
        emit(f"{name}.queries", len(queries), "queries")
        if os.environ.get("BENCH_VERBOSE"):
            for sql, params, ms in queries:
                note(f"  {ms:7.2f} ms  {sql[:300]} {params!r:.120}")
        if main_query is not None:
            found = next(((sql, params) for sql, params, _ms in queries if main_query(sql)), None)
            if found is None:
                note(f"{name}: no query matched the main-query test; raw SQL not measured")
            else:
                self.report_ms(f"{name}.raw_sql", self.time_ms(lambda: raw_sql(*found)))
        # the floor of the whole page: every SELECT it ran (the session's aside), replayed on a cursor
        selects = [
            (sql, params)
            for sql, params, _ms in queries
            if sql.lstrip().upper().startswith("SELECT") and "django_session" not in sql
        ]
        if selects:
            emit(f"{name}.raw_sql.all.queries", len(selects), "queries")
            self.report_ms(
                f"{name}.raw_sql.all", self.time_ms(lambda: [raw_sql(sql, params) for sql, params in selects])
            )
        return 200


def bench_member() -> tuple[Organization, Membership]:
    """The bench organisation and the demo user's membership in it: whom the pages are timed for."""
    from vinculo.accounts.models import Membership, Organization
    from vinculo.core.management.demo_login import DEMO_EMAIL

    with scopes_disabled():
        org = Organization.objects.get(slug=ORG_SLUG)
        actor = Membership.objects.select_related("user", "organization").get(organization=org, user__email=DEMO_EMAIL)
    return org, actor


def ensure_pipeline(org: Organization, name: str) -> tuple[Pipeline, list[Stage]]:
    """The pipeline `name` with the SALES_STAGES, in order (created the first time)."""
    from vinculo.sales.models import Pipeline, Stage

    pipeline, _created = Pipeline.objects.get_or_create(organization=org, name=name)
    stages = []
    for position, (stage_name, probability, kind) in enumerate(SALES_STAGES):
        stage, _created = Stage.objects.get_or_create(
            organization=org,
            pipeline=pipeline,
            name=stage_name,
            defaults={"position": position, "probability": probability, "kind": kind},
        )
        stages.append(stage)
    return pipeline, stages


def captured_sql(fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Every SQL statement `fn` runs, with its parameters, in order."""
    queries: list[tuple[str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        fn()
    return queries


def raw_sql(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run an SQL statement with its parameters on a plain cursor and fetch every row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def query_plan(sql: str, params: Any = None) -> list[str]:
    """The query plan of a statement (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN), to see
    why a figure is slow."""
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(explain + sql, params)
        return [str(row[-1]) for row in cursor.fetchall()]


def engine_name() -> str:
    """The database the figures are measured on, for the notes: "SQLite" or "PostgreSQL 17.2"."""
    if connection.vendor != "postgresql":
        return "SQLite"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc; else the peak from getrusage)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
