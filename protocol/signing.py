"""Ed25519 signatures for playlists and commands.

A signed message is an envelope ``{"key_id", "sig", "payload"}``. The signature covers the
canonical JSON of the payload *as sent* (unknown fields included), so a receiver that drops
fields it does not know still verifies exactly what the signer wrote. Receivers trust a set
of public keys, which is how key rotation works: during a rollover both keys are trusted.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel

from protocol.codec import MAX_PAYLOAD_BYTES, canonical_json, validate
from protocol.compact import encode_cbor, load_any
from protocol.errors import BadSignature, InvalidMessage
from protocol.private_file import make_private, write_private

M = TypeVar("M", bound=BaseModel)


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def load_public_key_b64(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except ValueError as exc:
        raise ValueError(f"not an Ed25519 public key: {exc}") from None


class Signer:
    """Holds the controller's private key; never shipped to agents."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path) -> Signer:
        """Load the PEM key at ``path``, creating it (mode 0600) on first start."""
        if path.exists():
            make_private(path)
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 private key")
            return cls(key)
        signer = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = signer._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_private(path, pem)
        return signer

    @property
    def public_key_b64(self) -> str:
        return public_key_b64(self.public_key)

    def sign_dict(self, payload: dict[str, Any]) -> bytes:
        sig = self._key.sign(canonical_json(payload))
        envelope = {
            "key_id": self.key_id,
            "sig": base64.b64encode(sig).decode(),
            "payload": payload,
        }
        return canonical_json(envelope)

    def sign(self, model: BaseModel) -> bytes:
        return self.sign_dict(model.model_dump(mode="json", exclude_none=True))

    def sign_dict_cbor(self, payload: dict[str, Any]) -> bytes:
        """The same envelope in CBOR (fewer bytes); the signature still covers the payload's
        canonical JSON, so a receiver verifies it exactly as a JSON envelope."""
        envelope = json.loads(self.sign_dict(payload))
        return encode_cbor(envelope)


class Verifier:
    """Checks envelopes against a set of trusted public keys (old + new during rotation)."""

    def __init__(self, public_keys: Iterable[Ed25519PublicKey]) -> None:
        self._keys = {key_id_of(k): k for k in public_keys}
        if not self._keys:
            raise ValueError("a verifier needs at least one trusted key")

    @classmethod
    def from_b64(cls, keys: Iterable[str]) -> Verifier:
        return cls(load_public_key_b64(k) for k in keys)

    @property
    def key_ids(self) -> set[str]:
        return set(self._keys)

    def verify(self, model_cls: type[M], raw: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> M:
        """Return the validated payload; raise ``BadSignature`` or ``InvalidMessage``."""
        return validate(model_cls, self.verify_payload(raw, max_bytes))

    def verify_payload(self, raw: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
        """The verified payload as sent (raw mapping, unknown fields kept), from a JSON or
        CBOR envelope; raise ``BadSignature`` or ``InvalidMessage``."""
        return self.verify_envelope(load_any(raw, max_bytes))

    def verify_envelope(self, envelope: Any) -> dict[str, Any]:
        """The verified payload of an already parsed envelope."""
        if not isinstance(envelope, dict):
            raise InvalidMessage("signed message must be a JSON object")
        key_id, sig_b64, payload = (envelope.get(k) for k in ("key_id", "sig", "payload"))
        if not isinstance(key_id, str) or not isinstance(sig_b64, str):
            raise BadSignature("missing key_id or sig")
        if not isinstance(payload, dict):
            raise InvalidMessage("signed payload must be a JSON object")
        key = self._keys.get(key_id)
        if key is None:
            raise BadSignature(f"unknown signing key {key_id[:32]!r}")
        try:
            sig = base64.b64decode(sig_b64, validate=True)
            key.verify(sig, canonical_json(payload))
        except (InvalidSignature, ValueError):
            raise BadSignature("signature does not match payload") from None
        return payload
