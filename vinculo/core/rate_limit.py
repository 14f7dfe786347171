"""One fixed-window rate limiter for what the public internet can reach (web forms, webhooks, the
tracker, password resets).

Each counter is a row per time window (`core.RateCounter`), counted with one upsert statement for
all the counters of a hit (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, SQLite ≥ 3.35 and
PostgreSQL): atomic, and shared by every web process and machine on the database, so the limits
hold with `WEB_CONCURRENCY=4` out of the box. `VINCULO_RATE_LIMITS=cache` counts in Django's cache
instead (add-then-increment), for a deployment with Redis or Memcached as `VINCULO_CACHE_URL`; with
the default local-memory cache each process would count alone. A fixed window is approximate at its
edges (up to twice the limit across a boundary), which is fine for a wall against floods. Login
throttling is a different thing (accounts/throttle.py: progressive delays over a sliding window).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from vinculo.core.models import RateCounter

# seconds a counter row outlives its window (clock skew between machines)
GRACE_SECONDS = 5


def retry_after(counters: Iterable[tuple[str, int]], *, window: int, now: float | None = None) -> int:
    """Count one hit on each `(name, limit)` counter in the current window of `window` seconds;
    the seconds until the window ends when any counter is over its limit, else 0 (go ahead).

    Every counter is counted, also when an earlier one is over already: a flood keeps filling the
    wider counters (per form, per token) as well as the narrow ones (per address)."""
    now = time.time() if now is None else now
    slot = int(now // window)
    limits = {f"rate:{name}:{window}:{slot}"[:200]: limit for name, limit in counters}
    if not limits:
        return 0
    expires = (slot + 1) * window + GRACE_SECONDS
    if getattr(settings, "RATE_LIMIT_STORE", "database") == "cache":
        counts = _count_in_cache(list(limits), timeout=max(1, int(expires - now)))
    else:
        counts = _count_in_database(list(limits), expires_at=expires)
    over = any(counts[key] > limit for key, limit in limits.items())
    return window - int(now % window) if over else 0


def _count_in_database(keys: list[str], *, expires_at: int) -> dict[str, int]:
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    rows = ", ".join(["(%s, 1, %s)"] * len(keys))
    params: list[str | int] = []
    for key in sorted(keys):  # one order for every process: no deadlock between two upserts
        params += [key, expires_at]
    sql = (
        f"INSERT INTO {table} (name, hits, expires_at) VALUES {rows} "
        f"ON CONFLICT (name) DO UPDATE SET hits = {table}.hits + 1 RETURNING name, hits"
    )
    with connection.cursor() as cursor:  # one statement: atomic on its own
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _count_in_cache(keys: list[str], *, timeout: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key in keys:
        cache.add(key, 0, timeout=timeout)
        try:
            counts[key] = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=timeout)
            counts[key] = 1
    return counts


def forget_ended_windows(*, now: float | None = None) -> int:
    """Delete the counters whose window has ended (the worker runs this every minute)."""
    now = time.time() if now is None else now
    deleted, _ = RateCounter.objects.filter(expires_at__lt=int(now)).delete()
    return deleted
