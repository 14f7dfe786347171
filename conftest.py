"""Test configuration shared by every app: settings for tests and the common fixtures.

Fixtures: `org`, `other_org` (each with an owner membership), `member` (a membership factory),
`client_in` (a logged-in test client), `api_client` (Bearer token client), `actor`.
"""

from __future__ import annotations

import os

os.environ.setdefault("VINCULO_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("VINCULO_MANIFEST_STATIC", "0")

pytest_plugins = ["vinculo.accounts.testing"]
