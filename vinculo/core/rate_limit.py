"""One fixed-window rate limiter on Django's cache framework, for what the public internet can reach
(web forms, webhooks, the tracker).

Each counter is a cache key per time window, added then incremented: cheap, atomic on every cache
backend Django ships, and with a shared cache (the database cache by default, Redis, Memcached) the
limits hold across web processes and machines; with the local-memory cache, per process. A fixed
window is approximate at its edges (up to twice the limit across a boundary), which is fine for a
wall against floods. Login throttling is a different thing (accounts/throttle.py: progressive
delays over a sliding window kept in the database).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.core.cache import cache


def retry_after(counters: Iterable[tuple[str, int]], *, window: int, now: float | None = None) -> int:
    """Count one hit on each `(name, limit)` counter in the current window of `window` seconds;
    the seconds until the window ends when any counter is over its limit, else 0 (go ahead).

    Every counter is counted, also when an earlier one is over already: a flood keeps filling the
    wider counters (per form, per token) as well as the narrow ones (per address)."""
    now = time.time() if now is None else now
    slot = int(now // window)
    over = False
    for name, limit in counters:
        key = f"rate:{name}:{window}:{slot}"
        cache.add(key, 0, timeout=window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window + 5)
            count = 1
        over = over or count > limit
    return window - int(now % window) if over else 0
