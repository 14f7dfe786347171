"""Benchmarks: `make bench` (= `python -m bench`) prints one line per figure, `BENCH <name> <value> <unit>`.

Each module of this package with a `run(ctx: bench.harness.Context) -> None` function is a
benchmark; `python -m bench` runs them all (or those named: `python -m bench contacts`) against the
data set of bench/dataset.py. They print figures and never fail on time. BENCH_SCALE=small runs
everything on small data in under two minutes; the default is the scale the issues name.
`make bench-pg` (BENCH_DB=postgres under scripts/with-postgres.sh) runs them all on a throwaway
PostgreSQL cluster and names every figure `pg.<name>` (bench/dataset.py, bench.harness.emit).
"""
