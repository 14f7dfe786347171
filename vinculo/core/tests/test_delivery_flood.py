"""A flood of events through durable delivery, in real processes (bench/flood.py): on SQLite one
emitting process and one worker; on PostgreSQL (`make test-pg`) the scale path, two emitting
processes (web nodes) and two workers at once. Every event reaches each of three consumers exactly
once, the outbox ends empty, and on PostgreSQL both workers took a share (no worker idle while
work waits: `FOR UPDATE SKIP LOCKED`)."""

from __future__ import annotations

import urllib.parse
import uuid

import psycopg
import pytest
from django.db import connection

from bench.flood import flood

EVENTS = 6000


@pytest.fixture
def scratch_database(tmp_path):
    """An empty database of the engine under test, outside the test's transaction."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'flood.sqlite3'}", 1
        return
    params = connection.settings_dict
    name = f"flood_{uuid.uuid4().hex[:8]}"
    admin = {"host": params["HOST"] or None, "port": params["PORT"] or None, "user": params["USER"] or None}
    admin = {k: v for k, v in admin.items() if v}
    with psycopg.connect(dbname="postgres", autocommit=True, password=params["PASSWORD"] or None, **admin) as pg:
        pg.execute(f'CREATE DATABASE "{name}"')
    host = urllib.parse.quote(params["HOST"] or "localhost", safe="")
    port = f":{params['PORT']}" if params["PORT"] else ""
    auth = params["USER"] + (f":{urllib.parse.quote(params['PASSWORD'])}" if params["PASSWORD"] else "")
    try:
        yield f"postgres://{auth}@{host}{port}/{name}", 2
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, password=params["PASSWORD"] or None, **admin) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_event_reaches_every_consumer_exactly_once_under_a_flood(scratch_database, tmp_path):
    url, processes = scratch_database

    result = flood(database_url=url, var_dir=tmp_path, events=EVENTS, emitters=processes, workers=processes)

    assert (result.reactions, result.distinct, result.outbox_left) == (3 * EVENTS, 3 * EVENTS, 0)
    assert sum(result.per_worker) == 3 * EVENTS
    assert len(result.per_worker) == processes
    assert all(share > 0 for share in result.per_worker), result.per_worker
