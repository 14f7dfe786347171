"""Test configuration shared by every app. Settings: config/test_settings.py.

The test kit (ARCHITECTURE.md, "core/testing/") is loaded as pytest plugins:

- vinculo.core.testing.plugin: tests run with django-scopes enabled; `in_org_scope`,
  `@pytest.mark.scopes_disabled` (vinculo/core/testing/scopes.py);
- vinculo.core.testing.browser: `browser`, `browser_page` (Playwright driving Debian's chromium);
- vinculo.accounts.testing: `actor`/`owner`, `org`, `other_actor`, `other_org`, `member_factory`
  (alias `member`), `admin`, `manager`, `sales_rep`, `read_only`, `client_in`, `api_client`,
  `smtp_server`, and the helpers `login_client`, `api_client_for`, `make_member`;
- vinculo.contacts.testing: `contact`, `company`; vinculo.sales.testing: `pipeline`, `deal`;
- vinculo.touchpoints.testing: `imap_server` (a real dovecot).

Factories: vinculo/<app>/factories.py. Query counts: vinculo.core.testing.queries. CRUD, API and
tenancy tests from declarations: vinculo.core.testing.crud.
"""

pytest_plugins = [
    "vinculo.core.testing.plugin",
    "vinculo.core.testing.browser",
    "vinculo.accounts.testing",
    "vinculo.contacts.testing",
    "vinculo.sales.testing",
    "vinculo.touchpoints.testing",
]
