"""Secrets at rest (IMAP and SMTP passwords, webhook signing secrets): encrypted with Fernet (AES-128-CBC +
HMAC-SHA256, from `cryptography`) under a key derived from VINCULO_ENCRYPTION_KEY, or SECRET_KEY
when that is not set. Rotating the key means re-entering the secrets (or decrypting with the old key
and encrypting with the new one in a shell)."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret was encrypted under another key."""


def _fernet() -> Fernet:
    material = os.environ.get("VINCULO_ENCRYPTION_KEY") or settings.SECRET_KEY
    digest = hashlib.sha256(b"vinculo-secrets-at-rest\0" + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable from exc
