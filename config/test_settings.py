"""Settings for the test suite: the production settings with test-friendly defaults.

Environment variables still win (DATABASE_URL selects PostgreSQL for `make test-pg`).
"""

import os

# tasks run at once, with no organisation scope active, as in a worker (vinculo/core/testing/tasks.py)
os.environ.setdefault("VINCULO_TASKS_BACKEND", "vinculo.core.testing.tasks.WorkerLikeImmediateBackend")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("VINCULO_MANIFEST_STATIC", "0")
# one process: the local-memory cache (no database needed by the tests that count in the cache); the
# shared database cache is tested across processes in core/tests/test_rate_limit.py
os.environ.setdefault("VINCULO_CACHE_URL", "locmem")
# the suite's real servers (dovecot, aiosmtpd) listen on 127.0.0.1; the tests of the address rules
# turn this off (vinculo/core/tests/test_outbound.py)
os.environ.setdefault("VINCULO_ALLOW_PRIVATE_TARGETS", "1")

from config.settings import *  # noqa: F403

# whitenoise serves from STATIC_ROOT and the finders; tests never run collectstatic
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# event consumers run in the test's process right after the commit (the worker is not running)
VINCULO_DELIVER_ON_COMMIT = True
# emit() refuses event types missing from the catalogue (vinculo/core/event_types.py)
VINCULO_STRICT_EVENT_TYPES = True
