"""Bytes <-> models, with size limits, so a hostile payload costs little and fails clearly."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from protocol.errors import InvalidMessage

M = TypeVar("M", bound=BaseModel)

MAX_PAYLOAD_BYTES = 2 * 1024 * 1024
MAX_SMALL_PAYLOAD_BYTES = 64 * 1024


def canonical_json(obj: Any) -> bytes:
    """Stable bytes for signing and hashing: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def encode(model: BaseModel) -> bytes:
    return canonical_json(model.model_dump(mode="json", exclude_none=True))


def load_json(raw: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> Any:
    """Parse JSON bytes or raise :class:`InvalidMessage` (too big, not UTF-8, not JSON)."""
    if len(raw) > max_bytes:
        raise InvalidMessage(f"payload of {len(raw)} bytes exceeds limit of {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidMessage(f"payload is not UTF-8: {exc.reason}") from None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidMessage(f"payload is not JSON: {exc}") from None


def validate(model_cls: type[M], data: Any) -> M:
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise InvalidMessage(
            f"{model_cls.__name__}: {where}: {first['msg']} ({exc.error_count()} error(s))"
        ) from None


def decode(model_cls: type[M], raw: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> M:
    """Parse and validate an unsigned message."""
    return validate(model_cls, load_json(raw, max_bytes))
