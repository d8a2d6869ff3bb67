"""Signed per-chunk hashes (protocol.chunks): built from the bytes, checked chunk by chunk,
and a list that does not add up to its file is refused at parse time."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from pydantic import ValidationError

from protocol.chunks import ChunkedMedia, ChunkError, build_chunked, chunk_count, chunk_hashes
from protocol.models import Command, CommandAction
from protocol.signing import Signer, Verifier

DATA = os.urandom(20_000)  # 2 full chunks of 8 KiB and a short one


def test_chunk_count_rounds_up() -> None:
    assert [chunk_count(n, 1024) for n in (1, 1024, 1025, 4096)] == [1, 1, 2, 4]


def test_build_cuts_fixed_chunks_hashes_each_and_inlines_the_first() -> None:
    chunks = build_chunked(DATA, "opus", 8192)
    assert chunks.sha256 == hashlib.sha256(DATA).hexdigest()
    assert chunks.size == 20_000 and chunks.count == 3
    assert chunks.hashes[2] == hashlib.sha256(DATA[16384:]).hexdigest()
    assert chunks.head_bytes() == DATA[:8192]
    assert chunks.byte_range(2) == (16384, 19999)
    assert chunks.length_of(2) == 20_000 - 16384


def test_every_true_chunk_verifies_and_any_changed_byte_does_not() -> None:
    chunks = build_chunked(DATA, "opus", 8192, inline_head=False)
    for index in range(chunks.count):
        first, last = chunks.byte_range(index)
        assert chunks.verify(index, DATA[first : last + 1]) == DATA[first : last + 1]
    tampered = bytearray(DATA[8192:16384])
    tampered[100] ^= 1
    with pytest.raises(ChunkError, match="chunk 1: hash mismatch"):
        chunks.verify(1, bytes(tampered))
    with pytest.raises(ChunkError, match="bytes, signed"):
        chunks.verify(2, DATA[16384:-1])  # a truncated last chunk
    with pytest.raises(ChunkError, match="no chunk 3"):
        chunks.verify(3, b"x")


def test_a_list_that_does_not_add_up_is_refused() -> None:
    good = build_chunked(DATA, "opus", 8192).model_dump()
    for bad in (
        {"hashes": good["hashes"][:2]},  # too few for the size
        {"size": 30_000},  # too many bytes for the hashes
        {"chunk_size": 512},  # below the minimum
        {"head": base64.b64encode(DATA[:100]).decode()},  # not the whole first chunk
        {"head": "not base64!"},
        {"ext": "exe"},
        {"hashes": ["AB" * 32] * 3},  # not lower-case hex
    ):
        with pytest.raises(ValidationError):
            ChunkedMedia.model_validate({**good, **bad})


def test_chunk_size_limits() -> None:
    with pytest.raises(ChunkError):
        chunk_hashes(DATA, 100)
    with pytest.raises(ChunkError):
        build_chunked(b"", "opus")


def test_the_chunk_list_travels_signed_in_the_command_and_tampering_breaks_it() -> None:
    from datetime import UTC, datetime, timedelta

    from protocol.models import ItemKind, MediaRef, PlaylistItem, Priority

    chunks = build_chunked(DATA, "opus", 8192)
    now = datetime.now(UTC)
    media = MediaRef(sha256=chunks.sha256, ext="opus", size=chunks.size, duration_s=10)
    command = Command(
        id="c1", action=CommandAction.EMERGENCY, issued_at=now,
        expires_at=now + timedelta(minutes=5), zone_id="xa-a",
        item=PlaylistItem(id="emg-1", kind=ItemKind.TTS, start=now, duration_s=10,
                          priority=Priority.EMERGENCY, media=media),
        chunks=chunks,
    )  # fmt: skip
    signer = Signer.generate()
    raw = signer.sign(command)
    back = Verifier.from_b64([signer.public_key_b64]).verify(Command, raw)
    assert back.chunks == chunks
    forged = raw.replace(chunks.hashes[1].encode(), hashlib.sha256(b"evil").hexdigest().encode())
    with pytest.raises(Exception, match="signature"):
        Verifier.from_b64([signer.public_key_b64]).verify(Command, forged)
