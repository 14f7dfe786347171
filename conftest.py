"""Test configuration shared by every app. Settings: config/test_settings.py.

Fixtures (vinculo/accounts/testing.py): `actor`, `org`, `other_actor`, `other_org`, `member`,
`client_in`, `api_client`, and the helpers `login_client`, `api_client_for`, `make_member`.
"""

pytest_plugins = ["vinculo.accounts.testing"]
