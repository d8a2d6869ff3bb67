"""Password hashing with Argon2id (argon2-cffi defaults: memory-hard, salted, self-describing)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 8


class WeakPassword(ValueError):
    """The new password is too short or equals the username."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; a malformed stored hash counts as a mismatch."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify() -> None:
    """Spend the same time as a real check, so unknown usernames do not answer faster."""
    verify_password(_DUMMY_HASH, "not-the-password")


def check_strength(username: str, password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_LENGTH} characters")
    if password.strip().lower() == username.strip().lower():
        raise WeakPassword("the password must differ from the username")


def random_password() -> str:
    return secrets.token_urlsafe(12)


_DUMMY_HASH = _hasher.hash(secrets.token_hex(8))
