"""Password hashing with Argon2id (argon2-cffi defaults: memory-hard, salted, self-describing)."""

from __future__ import annotations

import functools
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 8

# Passwords people pick first (compared without case and punctuation): refused outright.
COMMON = frozenset(
    """
    password password1 password123 passw0rd 12345678 123456789 1234567890 0123456789
    87654321 11111111 00000000 66666666 68686868 88888888 99999999 12341234 abc12345
    abcd1234 qwerty123 qwertyui qwertyuiop asdfghjk iloveyou admin123 admin1234
    administrator matkhau matkhau1 matkhau123 matkhaumoi anhyeuem emyeuanh vietnam1
    vietnam123 hanoi123 saigon123 loaxa123 loaxa2025 loaxa2026 truyenthanh changeme
    welcome1 letmein1
    """.split()  # noqa: SIM905 - a word list reads better than 43 quoted lines
)
MIN_DISTINCT = 5


class WeakPassword(ValueError):
    """The new password is too weak; ``reason`` names the rule (``short``, ``username``,
    ``common``, ``one_class``, ``repetitive``) for a translated message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


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
    verify_password(_dummy_hash(), "not-the-password")


def _classes(password: str) -> int:
    """How many of letters, digits and other characters (symbols, spaces) it mixes."""
    kinds = {"letter" if c.isalpha() else "digit" if c.isdigit() else "other" for c in password}
    return len(kinds)


def check_strength(username: str, password: str) -> None:
    """Refuse what is guessed first: short, the username, a common password, one kind of
    character only, or few different characters. WeakPassword says which rule."""
    name = username.strip().lower()
    folded = password.strip().lower()
    if len(password) < MIN_LENGTH:
        raise WeakPassword("short", f"the password needs at least {MIN_LENGTH} characters")
    if folded == name or (len(name) >= 3 and name in folded):
        raise WeakPassword("username", "the password must not contain the username")
    if re.sub(r"[\W_]", "", folded) in COMMON:
        raise WeakPassword("common", "this password is too common")
    if _classes(password) < 2:
        raise WeakPassword("one_class", "mix at least two of letters, digits and symbols or spaces")
    if len(set(folded)) < MIN_DISTINCT:
        raise WeakPassword("repetitive", "the password repeats too few different characters")


def random_password() -> str:
    """A random password that passes :func:`check_strength` (shown once, changed at login)."""
    while True:
        password = secrets.token_urlsafe(12)
        try:
            check_strength("", password)
        except WeakPassword:
            continue
        return password


@functools.cache
def _dummy_hash() -> str:
    """Made on first use, not at import: an Argon2 hash costs ~0.5 s of CPU, and every
    ``loa`` command and controller start imports this module."""
    return _hasher.hash(secrets.token_hex(8))
