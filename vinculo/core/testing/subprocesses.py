"""A migrated SQLite database for the tests that run Vínculo in subprocesses (`serve`, a real
`db_worker` killed with SIGKILL).

`manage.py migrate` on an empty file takes several seconds; the session-scoped template is
migrated once per test process and each test gets a copy in its own `tmp_path`
(`tmp_path / "db.sqlite3"`, the file those tests point DATABASE_URL at).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings


def production_env(tmp_path: Path, secret_key: str = "subprocess-test") -> dict[str, str]:
    """The environment of a Vínculo subprocess as production runs it: production settings, the
    database task backend, the SQLite file `tmp_path / "db.sqlite3"`."""
    env = {
        **os.environ,
        "VINCULO_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VINCULO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "VINCULO_MANIFEST_STATIC": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secret_key,
    }
    for name in (
        "PYTEST_XDIST_WORKER",
        "VINCULO_CACHE_URL",
        "VINCULO_RATE_LIMITS",
    ):  # the suite's own: production has neither
        env.pop(name, None)
    return env


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration applied (production settings), made once per process."""
    root = tmp_path_factory.mktemp("migrated")
    env = {
        **os.environ,
        "VINCULO_VAR_DIR": str(root),
        "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
        "VINCULO_MANIFEST_STATIC": "0",
        "SECRET_KEY": "migrated-template",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    for name in (
        "PYTEST_XDIST_WORKER",
        "VINCULO_CACHE_URL",
        "VINCULO_RATE_LIMITS",
    ):  # migrate as production does: the cache table too
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity=0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        timeout=600,
    )
    return root / "db.sqlite3"


@pytest.fixture
def migrated_sqlite(migrated_sqlite_template: Path, tmp_path: Path) -> Path:
    """`tmp_path / "db.sqlite3"`: a copy of the migrated template, for this test only."""
    target = tmp_path / "db.sqlite3"
    for suffix in ("", "-wal", "-shm"):  # WAL mode: the log may hold pages not yet checkpointed
        source = Path(f"{migrated_sqlite_template}{suffix}")
        if source.exists():
            shutil.copyfile(source, Path(f"{target}{suffix}"))
    return target
