"""Secrets are stored encrypted and read back; another key cannot read them."""

from __future__ import annotations

import pytest

from vinculo.touchpoints.crypto import SecretUnreadable, decrypt, encrypt


def test_a_secret_round_trips_and_is_not_stored_in_clear(settings):
    token = encrypt("imap-pässword")
    assert "imap" not in token
    assert decrypt(token) == "imap-pässword"
    assert encrypt("") == ""
    assert decrypt("") == ""


def test_another_key_cannot_read_it(settings, monkeypatch):
    token = encrypt("s3cret")
    monkeypatch.setenv("VINCULO_ENCRYPTION_KEY", "another key")
    with pytest.raises(SecretUnreadable):
        decrypt(token)
