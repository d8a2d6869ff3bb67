"""One-time confirmation tokens for the panel's dangerous actions (emergency issue / cancel).

The first POST of an emergency only shows what would happen; its page carries a token that
the second POST must return. The token is HMAC-signed with a key derived from the session
key, lives ``LIFETIME``, is bound to the user's session nonce and to a digest of the exact
form content, and is spent on first use (kept in memory until it expires; with several
controller replicas each one remembers only its own spent tokens, like the login limiter).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from datetime import datetime, timedelta

LIFETIME = timedelta(minutes=5)


def content_digest(action: str, fields: dict[str, object]) -> str:
    """A stable digest of what is being confirmed: same form content, same digest."""
    canonical = json.dumps({"action": action, **fields}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ConfirmationTokens:
    def __init__(self, session_key: bytes, lifetime: timedelta = LIFETIME) -> None:
        self._key = hmac.new(session_key, b"panel-confirmation", hashlib.sha256).digest()
        self.lifetime = lifetime
        self._spent: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()

    def issue(self, session_nonce: str, digest: str, now: datetime) -> str:
        body = json.dumps(
            {
                "j": secrets.token_hex(12),
                "s": session_nonce,
                "d": digest,
                "x": int((now + self.lifetime).timestamp()),
            },
            separators=(",", ":"),
        ).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def redeem(self, token: str, session_nonce: str, digest: str, now: datetime) -> bool:
        """True once for a genuine, unexpired token of this session and this exact content."""
        body_text, _, sig_text = token.partition(".")
        try:
            body = _unb64(body_text)
            sig = _unb64(sig_text)
            raw = json.loads(body)
            token_id, nonce, bound, expires = str(raw["j"]), raw["s"], raw["d"], int(raw["x"])
        except (ValueError, KeyError, TypeError):
            return False
        if not hmac.compare_digest(sig, self._mac(body)):
            return False
        if nonce != session_nonce or not hmac.compare_digest(str(bound), digest):
            return False
        if now.timestamp() >= expires:
            return False
        with self._lock:
            self._forget_expired(now)
            if token_id in self._spent:
                return False
            self._spent[token_id] = datetime.fromtimestamp(expires, tz=now.tzinfo)
        return True

    def _forget_expired(self, now: datetime) -> None:
        for token_id in [t for t, until in self._spent.items() if until <= now]:
            del self._spent[token_id]
