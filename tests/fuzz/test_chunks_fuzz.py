"""The signed chunk list (protocol.chunks) under hostile input: a parse either fails with
InvalidMessage or yields a list whose hashes, sizes and inline head add up; checking any
bytes against it fails only with ChunkError; a mutated list inside a signed command is
refused by the agent's verifier, never half-used."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fuzz.budget import fuzz_settings
from fuzz.payloads import mutated, raw_noise
from hypothesis import given
from hypothesis import strategies as st

from protocol.chunks import ChunkedMedia, ChunkError, build_chunked, chunk_count
from protocol.codec import decode
from protocol.errors import BadSignature, InvalidMessage
from protocol.models import Command, CommandAction, ItemKind, MediaRef, PlaylistItem, Priority
from protocol.signing import Signer, Verifier

DATA = bytes(range(256)) * 20  # 5120 bytes: five 1 KiB chunks
BASE = build_chunked(DATA, "opus", 1024).model_dump(mode="json")
FIELDS = ["sha256", "ext", "size", "chunk_size", "hashes", "head"]
SIGNER = Signer.generate()
VERIFIER = Verifier.from_b64([SIGNER.public_key_b64])
T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def _coherent(chunks: ChunkedMedia) -> None:
    assert chunks.count == chunk_count(chunks.size, chunks.chunk_size)
    assert sum(chunks.length_of(i) for i in range(chunks.count)) == chunks.size
    head = chunks.head_bytes()
    assert head is None or len(head) == chunks.length_of(0)


@fuzz_settings(200)
@given(st.one_of(mutated(BASE, FIELDS), raw_noise))
def test_a_hostile_chunk_list_fails_cleanly_or_adds_up(raw: bytes) -> None:
    try:
        chunks = decode(ChunkedMedia, raw)
    except InvalidMessage:
        return
    _coherent(chunks)


@fuzz_settings(150)
@given(
    st.integers(1, 5000),
    st.sampled_from([1024, 2048, 4096]),
    st.integers(-3, 10),
    st.binary(max_size=5000),
)
def test_checking_any_bytes_fails_only_with_chunk_error(
    size: int, chunk_size: int, index: int, data: bytes
) -> None:
    body = (DATA * 2)[:size]
    chunks = build_chunked(body, "opus", chunk_size, inline_head=False)
    try:
        verified = chunks.verify(index, data)
    except ChunkError:
        return
    first, last = chunks.byte_range(index)
    assert verified == body[first : last + 1]


def _command(chunks: dict[str, Any]) -> dict[str, Any]:
    media = MediaRef(sha256=BASE["sha256"], ext="opus", size=len(DATA), duration_s=3)
    item = PlaylistItem(
        id="emg-1", kind=ItemKind.TTS, start=T0, duration_s=3,
        priority=Priority.EMERGENCY, media=media,
    )  # fmt: skip
    command = Command(
        id="c1", action=CommandAction.EMERGENCY, issued_at=T0,
        expires_at=T0 + timedelta(minutes=5), zone_id="xa-a", item=item,
    )  # fmt: skip
    return {**command.model_dump(mode="json", exclude_none=True), "chunks": chunks}


@fuzz_settings(200)
@given(mutated(BASE, FIELDS))
def test_a_signed_command_with_a_mutated_chunk_list_is_refused_or_coherent(raw: bytes) -> None:
    chunks = json.loads(raw.decode("utf-8", "surrogatepass"), parse_constant=lambda _c: None)
    try:
        signed = SIGNER.sign_dict(_command(chunks))
    except (TypeError, ValueError):
        return  # not even signable (e.g. NaN): no controller could send it
    try:
        command = VERIFIER.verify(Command, signed)
    except (InvalidMessage, BadSignature):
        return
    assert command.chunks is not None
    _coherent(command.chunks)


@fuzz_settings(100)
@given(st.integers(0, 4), st.integers(0, 1023), st.integers(1, 255))
def test_the_signature_covers_every_chunk_hash(index: int, position: int, flip: int) -> None:
    """Change one hex digit of any chunk hash in a signed command: the signature fails."""
    signed = SIGNER.sign_dict(_command(BASE))
    digest = BASE["hashes"][index]
    other = hashlib.sha256(digest.encode() + bytes([flip, position % 256])).hexdigest()
    forged = signed.replace(digest.encode(), other.encode())
    try:
        VERIFIER.verify(Command, forged)
    except (InvalidMessage, BadSignature):
        return
    raise AssertionError("a forged chunk hash passed the signature check")
