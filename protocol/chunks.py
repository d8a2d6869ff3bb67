"""Signed per-chunk hashes: play a fresh emergency while it is still downloading, safely.

Why: on a weak village link the whole file takes seconds to arrive, and the file's own
SHA-256 can only be checked at its end. The controller cuts the file into fixed-size chunks
and puts each chunk's SHA-256 in the signed command (:class:`ChunkedMedia`), so the agent
can check every chunk as it arrives and hand the player only bytes the controller signed.
Any prefix of an Ogg/Opus (or MP3) stream is playable, so chunks are plain byte ranges.

``head`` (optional) carries the first chunk itself inside the command, base64: sound can
start without waiting for an HTTP round trip; it is checked against ``hashes[0]`` like any
other chunk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MIN_CHUNK = 1024
MAX_CHUNK = 64 * 1024
MAX_CHUNKS = 4096
DEFAULT_CHUNK = 4 * 1024
MAX_HEAD_B64 = (MAX_CHUNK * 4) // 3 + 4


class ChunkError(ValueError):
    """A chunk did not match its signed hash, or a chunk list is not coherent."""


def chunk_count(size: int, chunk_size: int) -> int:
    """How many chunks of ``chunk_size`` make ``size`` bytes (the last may be short)."""
    return -(-size // chunk_size)


Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ChunkedMedia(BaseModel):
    """One media file (the ``sha256``/``ext`` the item plays) as signed chunk hashes.

    A wire model like :class:`protocol.models.WireModel` (unknown fields ignored, frozen),
    defined here so that ``protocol.models`` can import it without a cycle."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sha256: Hex64
    ext: Literal["mp3", "opus", "ogg", "wav"]
    size: int = Field(gt=0, le=MAX_CHUNK * MAX_CHUNKS)
    chunk_size: int = Field(ge=MIN_CHUNK, le=MAX_CHUNK)
    hashes: Annotated[list[Hex64], Field(min_length=1, max_length=MAX_CHUNKS)]
    head: Annotated[str, Field(max_length=MAX_HEAD_B64)] | None = None

    @model_validator(mode="after")
    def _coherent(self) -> ChunkedMedia:
        if len(self.hashes) != chunk_count(self.size, self.chunk_size):
            raise ValueError(
                f"{len(self.hashes)} hashes for {self.size} bytes in chunks of {self.chunk_size}"
            )
        if self.head is not None:
            try:
                raw = base64.b64decode(self.head, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("head is not base64") from None
            if len(raw) != self.length_of(0):
                raise ValueError("head is not exactly the first chunk")
        return self

    @property
    def filename(self) -> str:
        return f"{self.sha256}.{self.ext}"

    @property
    def count(self) -> int:
        return len(self.hashes)

    def length_of(self, index: int) -> int:
        """The byte length chunk ``index`` must have (the last one may be shorter)."""
        if not 0 <= index < self.count:
            raise ChunkError(f"no chunk {index} (of {self.count})")
        return min(self.chunk_size, self.size - index * self.chunk_size)

    def byte_range(self, index: int) -> tuple[int, int]:
        """``(first, last)`` byte offsets of chunk ``index``, inclusive (an HTTP Range)."""
        first = index * self.chunk_size
        return first, first + self.length_of(index) - 1

    def head_bytes(self) -> bytes | None:
        return None if self.head is None else base64.b64decode(self.head)

    def verify(self, index: int, data: bytes) -> bytes:
        """``data`` if it is exactly chunk ``index`` as signed; raises ``ChunkError``."""
        if len(data) != self.length_of(index):
            raise ChunkError(f"chunk {index}: {len(data)} bytes, signed {self.length_of(index)}")
        if hashlib.sha256(data).hexdigest() != self.hashes[index]:
            raise ChunkError(f"chunk {index}: hash mismatch")
        return data


def chunk_hashes(data: bytes, chunk_size: int = DEFAULT_CHUNK) -> list[str]:
    """The SHA-256 of each ``chunk_size`` slice of ``data``, in order."""
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise ChunkError(f"chunk size {chunk_size} outside {MIN_CHUNK}..{MAX_CHUNK}")
    return [
        hashlib.sha256(data[i : i + chunk_size]).hexdigest()
        for i in range(0, len(data), chunk_size)
    ]


def build_chunked(
    data: bytes, ext: str, chunk_size: int = DEFAULT_CHUNK, inline_head: bool = True
) -> ChunkedMedia:
    """The chunk list of ``data`` (a whole media file), with its first chunk inline."""
    if not data:
        raise ChunkError("no bytes to cut into chunks")
    head = base64.b64encode(data[:chunk_size]).decode("ascii") if inline_head else None
    return ChunkedMedia(
        sha256=hashlib.sha256(data).hexdigest(),
        ext=ext,  # validated by the model
        size=len(data),
        chunk_size=chunk_size,
        hashes=chunk_hashes(data, chunk_size),
        head=head,
    )
