"""The fixed-window rate limiter (core/rate_limit.py): counted in the database by default, or in the
cache; both stores give the same answers."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache

from vinculo.core.models import RateCounter
from vinculo.core.rate_limit import forget_ended_windows, retry_after
from vinculo.core.testing.subprocesses import production_env

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["database", "cache"])
def store(request, settings) -> str:
    settings.RATE_LIMIT_STORE = request.param
    cache.clear()
    return request.param


def test_hits_within_the_limit_go_ahead_and_the_next_one_waits_for_the_window_to_end():
    now = 6000.0 + 15.5  # 15.5 s into a 60-second window
    assert [retry_after([("a", 3)], window=60, now=now) for _ in range(3)] == [0, 0, 0]
    assert retry_after([("a", 3)], window=60, now=now) == 45
    assert retry_after([("b", 3)], window=60, now=now) == 0  # another counter


def test_a_new_window_starts_from_zero():
    for _ in range(2):
        retry_after([("a", 1)], window=60, now=6000.0)
    assert retry_after([("a", 1)], window=60, now=6060.0) == 0


def test_every_counter_is_counted_and_any_one_over_its_limit_makes_the_caller_wait():
    now = 6000.0
    assert retry_after([("ip", 1), ("all", 3)], window=60, now=now) == 0
    assert retry_after([("ip", 1), ("all", 3)], window=60, now=now) == 60  # the address is over
    assert retry_after([("other-ip", 1), ("all", 3)], window=60, now=now) == 0  # "all" is at 3
    assert retry_after([("third-ip", 1), ("all", 3)], window=60, now=now) == 60  # "all" is over


def test_the_same_name_with_another_window_is_another_counter():
    assert retry_after([("a", 1)], window=60, now=6000.0) == 0
    assert retry_after([("a", 1)], window=600, now=6000.0) == 0


def test_the_database_store_counts_each_window_in_a_row_that_the_sweep_forgets_once_it_has_ended(store):
    if store != "database":
        pytest.skip("rows are the database store's")
    for _ in range(3):
        retry_after([("ip:1", 5), ("form:2", 50)], window=60, now=6015.0)
    retry_after([("ip:1", 5)], window=60, now=6075.0)  # the next window
    assert dict(RateCounter.objects.values_list("name", "hits")) == {
        "rate:ip:1:60:100": 3,
        "rate:form:2:60:100": 3,
        "rate:ip:1:60:101": 1,
    }
    assert set(RateCounter.objects.values_list("expires_at", flat=True)) == {6065, 6125}
    assert forget_ended_windows(now=6065.0) == 0  # the grace second is not over yet
    assert forget_ended_windows(now=6066.0) == 2
    assert list(RateCounter.objects.values_list("name", flat=True)) == ["rate:ip:1:60:101"]


def test_no_counters_count_nothing(store):
    assert retry_after([], window=60, now=6000.0) == 0


COUNT_SCRIPT = """
import django
django.setup()
from vinculo.core.rate_limit import retry_after
from vinculo.core.testing.subprocesses import production_env
print(",".join(str(retry_after([("form:1", 5)], window=3600, now=7200.0)) for _ in range(3)))
"""


@pytest.mark.parametrize(
    "env_store",
    [
        pytest.param({}, id="default"),
        pytest.param({"VINCULO_RATE_LIMITS": "cache", "VINCULO_CACHE_URL": "db"}, id="database-cache"),
    ],
)
def test_two_processes_share_the_counters(tmp_path, migrated_sqlite, store, env_store):
    """Out of the box (and with a shared cache): two processes hitting one counter share it, so a
    limit holds with several web processes."""
    if store != "database":
        pytest.skip("the processes choose their store from their environment")
    env = {**production_env(tmp_path, "rate-limit-test"), **env_store}

    def run() -> str:
        result = subprocess.run(
            [sys.executable, "-c", COUNT_SCRIPT],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return result.stdout.strip()

    assert run() == "0,0,0"  # hits 1-3 of 5
    assert run() == "0,0,3600"  # hits 4-5 go ahead, the 6th waits: the first process's hits counted
