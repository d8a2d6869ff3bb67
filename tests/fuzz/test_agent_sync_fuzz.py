"""Agent inputs beyond tests/unit/agent/test_sync_fuzz.py (noise, bit flips, signed garbage).

Here: *signed* near misses (a trusted key over wrong types, huge or NUL fields), oversized
and non-UTF-8 envelopes, version sequences (old versions are stale, never applied), command
replays across a restart, expiry, key rotation, and hostile event acks against a real outbox.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fuzz.budget import fuzz_settings
from fuzz.payloads import dumps, json_values, mutated, raw_noise
from hypothesis import given
from hypothesis import strategies as st

from agent.outbox import Outbox
from agent.report import Reporter
from agent.sync import SyncHandler
from protocol.clock import FakeClock
from protocol.codec import MAX_PAYLOAD_BYTES
from protocol.models import Command, CommandAction, EventKind, ItemKind, Playlist, PlaylistItem
from protocol.signing import Signer, Verifier

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
# thousands of throwaway outboxes and playlists: on tmpfs the fsyncs cost nothing
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None
OLD, NEW, STRANGER = Signer.generate(), Signer.generate(), Signer.generate()


def playlist(version: int, node_id: str = "n1") -> Playlist:
    return Playlist(
        node_id=node_id,
        version=version,
        generated_at=T0,
        window_start=T0,
        window_end=T0 + timedelta(hours=1),
        items=[PlaylistItem(id="s", kind=ItemKind.SILENCE, start=T0, duration_s=1)],
    )


def command(cid: str, expires_in_s: float = 300) -> Command:
    return Command(
        id=cid,
        action=CommandAction.STOP,
        issued_at=T0 - timedelta(seconds=1),
        expires_at=T0 + timedelta(seconds=expires_in_s),
        node_id="n1",
    )


PLAYLIST = playlist(1).model_dump(mode="json", exclude_none=True)
ITEM = PLAYLIST["items"][0]
COMMAND = command("c1").model_dump(mode="json", exclude_none=True)


def handler(directory: Path, *signers: Signer, clock: FakeClock | None = None) -> SyncHandler:
    verifier = Verifier([s.public_key for s in signers or (OLD,)])
    return SyncHandler("n1", ["xa-a"], verifier, directory, clock or FakeClock(T0))


def signed_near_miss(base: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """A trusted signature over ``base`` with fields broken: the signature cannot save it."""
    return mutated(base, list(base)).map(lambda raw: OLD.sign_dict(json.loads(raw)))


@fuzz_settings(1000)
@given(
    st.one_of(
        signed_near_miss(PLAYLIST),
        mutated(ITEM, list(ITEM)).map(
            lambda item: OLD.sign_dict({**PLAYLIST, "items": [json.loads(item)]})
        ),
        st.just(OLD.sign_dict({**PLAYLIST, "items": [ITEM] * 5001})),
    )
)
def test_signed_playlist_near_misses(payload: bytes) -> None:
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        sync = handler(Path(tmp))
        accepted = sync.handle_playlist(payload)
        assert sync.rejects.total == (accepted is None)
        if accepted is not None:  # what was accepted is what survives a restart
            assert handler(Path(tmp)).load_saved() == accepted


@fuzz_settings(1500)
@given(signed_near_miss(COMMAND))
def test_signed_command_near_misses(payload: bytes) -> None:
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        sync = handler(Path(tmp))
        outcome = sync.handle_command(payload)
        assert sync.rejects.total == (not outcome.accepted)
        assert outcome.accepted or outcome.reason


@fuzz_settings(300)
@given(
    st.one_of(
        raw_noise,
        st.just(b"\xc3\x28" + OLD.sign(playlist(2))),  # invalid UTF-8 before a good envelope
        st.just(OLD.sign(playlist(2)).replace(b'"n1"', b'"n\xff"')),
        st.just(b" " * (MAX_PAYLOAD_BYTES + 1)),
        st.just(OLD.sign_dict({**PLAYLIST, "content_hash": "x" * (MAX_PAYLOAD_BYTES // 2)})),
    )
)
def test_oversized_and_non_utf8_envelopes(payload: bytes) -> None:
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        sync = handler(Path(tmp))
        assert sync.handle_playlist(payload) is None
        assert not sync.handle_command(payload).accepted
        assert sync.rejects.total == 2


@fuzz_settings(800)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=30))
def test_old_versions_are_never_applied(versions: list[int]) -> None:
    """Whatever order versions arrive in, the held one only grows; older ones are stale,
    the same one again is a silent no-op (a retained copy after reconnect)."""
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        sync = handler(Path(tmp))
        held: int | None = None
        stale = 0
        for v in versions:
            got = sync.handle_playlist(OLD.sign(playlist(v)))
            if held is None or v > held:
                assert got is not None and got.version == v
                held = v
            else:
                assert got is None
                stale += v < held
        assert sync.current is not None and sync.current.version == held
        assert sync.rejects.snapshot() == ({"stale": stale} if stale else {})


@fuzz_settings(600)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),  # ids repeat: replays
            st.integers(-60, 600),  # expiry relative to now
            st.integers(0, 400),  # clock step before this delivery
            st.booleans(),  # the agent restarts before this delivery
        ),
        min_size=1,
        max_size=25,
    )
)
def test_replays_are_refused_until_expiry_even_across_restarts(
    deliveries: list[tuple[str, int, int, bool]],
) -> None:
    clock = FakeClock(T0)
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        sync = handler(Path(tmp), clock=clock)
        remembered: dict[str, datetime] = {}
        for cid, expires_in, step, restart in deliveries:
            clock.advance(step)
            if restart:
                sync = handler(Path(tmp), clock=clock)
            now = clock.now()
            cmd = command(cid).model_copy(
                update={
                    "issued_at": now - timedelta(seconds=61),
                    "expires_at": now + timedelta(seconds=expires_in),
                }
            )
            outcome = sync.handle_command(OLD.sign(cmd))
            live = {k: v for k, v in remembered.items() if v > now}
            expected = cmd.expires_at > now and cid not in live
            assert outcome.accepted == expected, (cid, outcome.reason)
            if expected:
                remembered[cid] = cmd.expires_at


@fuzz_settings(300)
@given(st.integers(1, 10**6), st.sampled_from(["playlist", "command"]))
def test_key_rotation_old_and_new_during_rollover_only(version: int, kind: str) -> None:
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        rollover = handler(Path(tmp) / "rollover", OLD, NEW)
        after = handler(Path(tmp) / "after", NEW)

        def accepted(sync: SyncHandler, signer: Signer, n: int) -> bool:
            if kind == "playlist":
                return sync.handle_playlist(signer.sign(playlist(version + n))) is not None
            return sync.handle_command(signer.sign(command(f"k{version}-{n}"))).accepted

        assert accepted(rollover, OLD, 0) and accepted(rollover, NEW, 1)
        assert not accepted(rollover, STRANGER, 2)
        assert accepted(after, NEW, 3) and not accepted(after, OLD, 4)
        assert rollover.rejects.snapshot() == after.rejects.snapshot() == {"signature": 1}


class _NoBroker:
    def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> bool:
        return False


ack_payloads = st.one_of(
    raw_noise,
    mutated({"node_id": "n1", "seqs": [1, 2]}, ["node_id", "seqs"]),
    st.lists(st.integers(), max_size=20).map(lambda s: dumps({"node_id": "n1", "seqs": s})),
    st.lists(st.integers(1, 10), max_size=5).map(lambda s: dumps({"node_id": "n2", "seqs": s})),
    json_values.map(lambda v: dumps({"node_id": "n1", "seqs": v})),
)


@fuzz_settings(1000)
@given(ack_payloads)
def test_event_acks_delete_only_what_they_name(payload: bytes) -> None:
    """A hostile ack never raises, never deletes another seq, and leaves the outbox usable."""
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        outbox = Outbox(Path(tmp) / "outbox.sqlite")
        try:
            reporter = Reporter("n1", outbox, _NoBroker(), FakeClock(T0), 30, 10, dict)
            for _ in range(4):
                outbox.append(EventKind.FINISHED, T0, item_id="x")
            reporter.on_ack(payload)
            try:
                named = json.loads(payload)
                ok = named.get("node_id") == "n1" and reporter.bad_acks == 0
                gone = {s for s in named["seqs"] if isinstance(s, int)} if ok else set()
            except (ValueError, AttributeError, TypeError, KeyError, RecursionError):
                gone = set()
            left = {e.seq for e in outbox.pending(100)}
            assert left == set(range(1, 5)) - gone
            outbox.append(EventKind.STARTED, T0)  # still durable and writable afterwards
            outbox.ack([5])
            assert {e.seq for e in outbox.pending(100)} == left
        finally:
            outbox.close()
