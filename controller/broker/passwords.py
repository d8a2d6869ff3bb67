"""Mosquitto password hashes, made in Python so the password file can be written from the DB.

Mosquitto 2.x reads ``$7$<iterations>$<salt b64>$<PBKDF2-SHA512 b64>`` lines, the same format
``mosquitto_passwd`` writes. The plain password is never stored: only this hash is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 101
SALT_BYTES = 12
HASH_BYTES = 64


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, HASH_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_mosquitto_hash(password: str, stored: str) -> bool:
    try:
        _, kind, iterations, salt_b64, _digest = stored.split("$")
        if kind != "7":
            return False
        expected = mosquitto_hash(password, base64.b64decode(salt_b64), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(expected, stored)


def new_secret(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)
