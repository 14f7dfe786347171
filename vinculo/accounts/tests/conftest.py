"""The accounts tests' SMTP fixture now lives in vinculo/accounts/testing.py (a pytest plugin loaded for
every test); these names stay importable from here for the tests that import them."""

from vinculo.accounts.testing import MailSink, ReceivedMail, free_port, smtp_server

__all__ = ["MailSink", "ReceivedMail", "free_port", "smtp_server"]
