"""The panel's cookie-signing key: random bytes in a 0600 file, made on first start.

Never in the repository and never in settings text: a leaked key lets anyone forge a login.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from protocol.private_file import make_private

KEY_BYTES = 32


def load_or_create_key(path: Path) -> bytes:
    if path.exists():
        make_private(path)
        key = path.read_bytes()
        if len(key) < KEY_BYTES:
            raise ValueError(f"session key file {path} is shorter than {KEY_BYTES} bytes")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    return key
