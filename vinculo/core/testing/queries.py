"""Query-count helpers: the N+1 guard of list pages and endpoints (STYLE.md habit 2).

Two kinds of baseline:

- `assert_max_queries(n)`: at most `n` queries inside the block (an absolute baseline, so a new
  query on a hot path is a deliberate change of the number);
- `assert_same_queries(fetch, grow)`: `fetch()` takes as many queries with few rows as after
  `grow()` added more (the number does not depend on the number of rows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


@contextmanager
def count_queries() -> Iterator[CaptureQueriesContext]:
    """The queries run on the default connection inside the block (`len(ctx)`, `ctx.captured_queries`)."""
    with CaptureQueriesContext(connection) as captured:
        yield captured


def _listing(captured: CaptureQueriesContext) -> str:
    return "\n".join(f"{i}. {query['sql']}" for i, query in enumerate(captured.captured_queries, start=1))


@contextmanager
def assert_max_queries(n: int) -> Iterator[CaptureQueriesContext]:
    """Fail if the block runs more than `n` queries; the message lists them."""
    with count_queries() as captured:
        yield captured
    assert len(captured) <= n, f"{len(captured)} queries, expected at most {n}:\n{_listing(captured)}"


def assert_same_queries(fetch: Callable[[], Any], grow: Callable[[], Any], *, warm_up: bool = True) -> Any:
    """Assert `fetch()` runs as many queries before and after `grow()`; returns the last result.

    With `warm_up`, `fetch()` runs once first so that one-off queries (a session, a cached
    lookup) are not counted in the first measure only.
    """
    if warm_up:
        fetch()
    with count_queries() as few:
        fetch()
    grow()
    with count_queries() as many:
        result = fetch()
    assert len(many) == len(few), f"{len(few)} queries before and {len(many)} after adding rows:\n{_listing(many)}"
    return result
