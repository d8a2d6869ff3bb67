"""Signed, expiring session cookies (HMAC-SHA256, stdlib only) and the CSRF token tied to them.

The cookie holds the user id, a fingerprint of the password hash (so a password change ends
every other session), a random nonce and the issue time. Nothing secret is inside; the
signature makes it unforgeable. The CSRF token is an HMAC of the nonce: a page from
another site cannot read it, so it cannot forge a form post.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

COOKIE_NAME = "loa_session"


@dataclass(frozen=True)
class SessionData:
    user_id: int
    password_fingerprint: str
    nonce: str
    issued_at: datetime


def password_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    def __init__(self, key: bytes, lifetime: timedelta) -> None:
        self._key = key
        self.lifetime = lifetime

    def _mac(self, purpose: str, data: bytes) -> bytes:
        return hmac.new(self._key, purpose.encode() + b"|" + data, hashlib.sha256).digest()

    def issue(self, user_id: int, password_hash: str, now: datetime) -> tuple[str, SessionData]:
        data = SessionData(user_id, password_fingerprint(password_hash), secrets.token_hex(16), now)
        body = json.dumps(
            {
                "u": data.user_id,
                "p": data.password_fingerprint,
                "n": data.nonce,
                "t": int(now.timestamp()),
            },
            separators=(",", ":"),
        ).encode()
        return f"{_b64(body)}.{_b64(self._mac('session', body))}", data

    def read(self, cookie: str, now: datetime) -> SessionData | None:
        """The session in a cookie, or None if it is forged, malformed or expired."""
        body_text, _, sig_text = cookie.partition(".")
        try:
            body = _unb64(body_text)
            sig = _unb64(sig_text)
        except (ValueError, TypeError):
            return None
        if not hmac.compare_digest(sig, self._mac("session", body)):
            return None
        try:
            raw = json.loads(body)
            issued = datetime.fromtimestamp(int(raw["t"]), tz=now.tzinfo)
            data = SessionData(int(raw["u"]), str(raw["p"]), str(raw["n"]), issued)
        except (ValueError, KeyError, TypeError):
            return None
        if not (issued - timedelta(minutes=5) <= now < issued + self.lifetime):
            return None
        return data

    def csrf_token(self, nonce: str) -> str:
        return self._mac("csrf", nonce.encode()).hex()[:40]

    def csrf_ok(self, nonce: str, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf_token(nonce), token)
