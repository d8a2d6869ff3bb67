"""The enrolment token: who the node is, its one-time secret, and a pin of the controller.

Format (version 1), dot-separated, every part URL-safe so it survives copy and paste::

    loa1.<node_id>.<secret>.<key_pin>[.<ca_pin>]

* ``node_id`` — the node's slug (``[a-z0-9-]``, never a dot);
* ``secret`` — 32 random bytes, base64url without padding; only its SHA-256 is stored;
* ``key_pin`` — base64url(SHA-256(raw 32-byte Ed25519 playlist-signing public key));
* ``ca_pin`` — base64url(SHA-256(DER of the CA certificate agents must trust)), present when
  the controller has a private CA (``deploy/tls/make_ca.py``).

The agent refuses to store anything unless the controller it reached proves both pins: the
CA it serves hashes to ``ca_pin`` (and the HTTPS connection then verifies against that CA),
and the signing key it hands out hashes to ``key_pin``. So ``--token`` alone is enough to
reach the right controller, and a man in the middle (another signing key, another CA) is
refused before the node trusts him. The pins are public; only ``secret`` is a credential.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass

PREFIX = "loa1"
_PART = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes of base64url, unpadded
_NODE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


class BadToken(ValueError):
    """The text is not a version-1 enrolment token; the message says which part is wrong."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_pin(public_key_b64: str) -> str:
    """Pin of an Ed25519 public key given in standard base64 (as agents store it)."""
    return b64url(hashlib.sha256(base64.b64decode(public_key_b64, validate=True)).digest())


def cert_pin(pem: str | bytes) -> str:
    """Pin of the first PEM certificate in ``pem`` (SHA-256 of its DER bytes)."""
    text = pem.decode() if isinstance(pem, bytes) else pem
    match = re.search(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", text, re.DOTALL)
    if match is None:
        raise BadToken("no PEM certificate found")
    try:
        der = base64.b64decode("".join(match.group(1).split()), validate=True)
    except ValueError:
        raise BadToken("malformed PEM certificate") from None
    return b64url(hashlib.sha256(der).digest())


@dataclass(frozen=True)
class EnrolToken:
    node_id: str
    secret: str
    key_pin: str
    ca_pin: str | None = None

    def __str__(self) -> str:
        parts = [PREFIX, self.node_id, self.secret, self.key_pin]
        if self.ca_pin is not None:
            parts.append(self.ca_pin)
        return ".".join(parts)

    @classmethod
    def parse(cls, text: str) -> EnrolToken:
        parts = text.strip().split(".")
        if not parts or parts[0] != PREFIX:
            raise BadToken("not a Loa enrolment token (expected 'loa1.' at the start)")
        if len(parts) not in (4, 5):
            raise BadToken("an enrolment token has 4 or 5 dot-separated parts")
        node_id, secret, kpin = parts[1], parts[2], parts[3]
        if not _NODE.match(node_id):
            raise BadToken("bad node id in the token")
        for name, value in (("secret", secret), ("key pin", kpin), *_ca(parts)):
            if not _PART.match(value):
                raise BadToken(f"bad {name} in the token")
        return cls(node_id, secret, kpin, parts[4] if len(parts) == 5 else None)


def _ca(parts: list[str]) -> list[tuple[str, str]]:
    return [("CA pin", parts[4])] if len(parts) == 5 else []


def new_secret() -> str:
    return b64url(secrets.token_bytes(32))


def secret_hash(secret: str) -> str:
    """What the controller stores (hex SHA-256 of the secret part only)."""
    return hashlib.sha256(secret.encode()).hexdigest()
