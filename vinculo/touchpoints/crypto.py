"""Secrets at rest: the core module (vinculo/core/crypto.py), under its older name."""

from vinculo.core.crypto import SecretUnreadable, decrypt, encrypt

__all__ = ["SecretUnreadable", "decrypt", "encrypt"]
