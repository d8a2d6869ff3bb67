"""The compact wire encoding (CBOR, RFC 8949) beside JSON, told apart by the first byte.

Why: on a prepaid mobile SIM every byte of the heartbeat is paid for; CBOR drops the quotes,
colons and digits-as-text of JSON. Which one a payload is needs no topic suffix and no extra
byte: a message is always a map, and a CBOR map's first byte is its head, major type 5
(``0xA0``-``0xBF``), a byte JSON text never starts with (JSON starts with ``{`` or
whitespace). So old agents' JSON and new agents' CBOR arrive on the same topics, and a
person debugging can still send JSON by hand.

Decoding hostile CBOR is bounded like JSON: a size limit before parsing, a nesting limit,
no indefinite lengths, every semantic tag refused (no dates, regexes, big numbers or
shared references are ever built) and only plain JSON-like values (dict, list, str, int,
float, bool, None) pass; anything else is :class:`InvalidMessage`.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import cbor2
from pydantic import BaseModel

from protocol.codec import MAX_PAYLOAD_BYTES, load_json, validate
from protocol.errors import InvalidMessage

M = TypeVar("M", bound=BaseModel)

MAX_DEPTH = 16
# a heartbeat that says only "alive, nothing changed": the empty CBOR map. The node is the
# topic's, the time is when it arrived (protocol/liveness.py: the cheapest sign of life)
SIGN_OF_LIFE = b"\xa0"
# the tags cbor2 would decode itself (dates, big numbers, decimals, regexes, sets, uuids, ...)
_KNOWN_TAGS = [0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258, 260, 261]
_KNOWN_TAGS += [262, 263, 270, 1004, 55799]


def _refuse_tag(*_args: Any) -> Any:
    raise cbor2.CBORDecodeError("CBOR tags are not accepted")


_REFUSE = {tag: _refuse_tag for tag in _KNOWN_TAGS}


def is_cbor(raw: bytes) -> bool:
    """A payload starting with a CBOR map head is CBOR; anything else is taken as JSON."""
    return bool(raw) and 0xA0 <= raw[0] <= 0xBF


def encode_cbor(data: dict[str, Any]) -> bytes:
    """CBOR of a plain mapping (canonical: sorted keys, shortest floats that round-trip)."""
    return bytes(cbor2.dumps(data, canonical=True))


def encode_model(model: BaseModel, *, only_set: bool = False) -> bytes:
    """A wire model as CBOR (``only_set``: only the fields given, as a delta)."""
    return encode_cbor(model.model_dump(mode="json", exclude_none=True, exclude_unset=only_set))


def _check_plain(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise InvalidMessage("payload nests too deeply")
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidMessage("payload holds a non-finite number")
        return
    if isinstance(value, list):
        for item in value:
            _check_plain(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidMessage("payload map keys must be text")
            _check_plain(item, depth + 1)
        return
    raise InvalidMessage(f"payload holds a {type(value).__name__}, not plain data")


def load_cbor(raw: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> Any:
    """Parse CBOR bytes into plain data or raise :class:`InvalidMessage`."""
    if len(raw) > max_bytes:
        raise InvalidMessage(f"payload of {len(raw)} bytes exceeds limit of {max_bytes}")
    try:
        data = cbor2.loads(
            raw,
            tag_hook=_refuse_tag,
            semantic_decoders=_REFUSE,
            max_depth=MAX_DEPTH,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise InvalidMessage(f"payload is not valid CBOR: {str(exc)[:200]}") from None
    _check_plain(data)
    return data


def load_any(raw: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> Any:
    """CBOR or JSON, by the first byte (see the module doc)."""
    return load_cbor(raw, max_bytes) if is_cbor(raw) else load_json(raw, max_bytes)


def decode_any(model_cls: type[M], raw: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> M:
    """Parse (CBOR or JSON) and validate an unsigned message."""
    data = load_any(raw, max_bytes)
    if not isinstance(data, dict):
        raise InvalidMessage(f"{model_cls.__name__}: message must be a map")
    return validate(model_cls, data)
