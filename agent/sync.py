"""Playlists and commands in: verify, decide, persist.

Every payload that arrives over MQTT passes through here before anything acts on it. A bad
payload never raises out of this module: it is logged, counted by reason kind in
:class:`RejectCounter`, and turned into ``None`` / a rejected :class:`CommandOutcome`.
The accepted playlist is kept on disk *as signed bytes*, so after a power cut the agent
re-verifies exactly what the controller sent and plays on without any link.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.replay_guard import ReplayGuard as ReplayGuard  # re-exported: older imports
from agent.replay_guard import ReplayStoreError
from protocol.clock import Clock
from protocol.codec import canonical_json, validate
from protocol.compact import load_any
from protocol.errors import BadSignature, InvalidMessage, ProtocolError, StaleMessage
from protocol.models import Command, Playlist
from protocol.playlist_delta import (
    DeltaGap,
    PlaylistDelta,
    apply_delta,
    is_delta,
    payload_sha256,
)
from protocol.signing import Verifier

log = logging.getLogger(__name__)


class WrongTarget(ProtocolError):
    """The message is addressed to another node or a zone this node is not in."""

    kind = "target"


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` holds either the old or the new bytes, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class RejectCounter:
    """Rejected messages by reason kind (``signature``, ``invalid``, ``stale``, ``target``)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, kind: str) -> None:
        with self._lock:
            self._counts[kind] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


@dataclass(frozen=True)
class CommandOutcome:
    """What became of one command payload; ``command`` is None if it could not be verified."""

    command: Command | None
    accepted: bool
    reason: str = ""


class SyncHandler:
    """Verifies playlists and commands for one node; thread-safe."""

    def __init__(
        self,
        node_id: str,
        zones: list[str],
        verifier: Verifier,
        data_dir: Path,
        clock: Clock,
        min_playlist_version: int = 0,
    ) -> None:
        self.node_id = node_id
        self.min_playlist_version = min_playlist_version
        self.zones = set(zones)
        self.verifier = verifier
        self.clock = clock
        self.rejects = RejectCounter()
        self.playlist_path = data_dir / "playlist.signed.json"
        self._replay = ReplayGuard(data_dir / "seen_commands.sqlite")
        self._lock = threading.Lock()
        self.current: Playlist | None = None
        self._payload: dict[str, Any] | None = None  # current's verified payload, as signed
        # told when a delta does not fit the version held (the runtime asks the controller)
        self.request_snapshot: Callable[[str], None] | None = None
        # (version held, delta version) of the last ask: a redelivered delta does not ask twice
        self._asked: tuple[int | None, int] | None = None

    def close(self) -> None:
        """Release the replay database (call once, when the agent stops)."""
        self._replay.close()

    def load_saved(self) -> Playlist | None:
        """The playlist kept on disk, re-verified; None if absent or no longer trusted."""
        try:
            raw = self.playlist_path.read_bytes()
        except OSError:
            return None
        try:
            payload = self._verify_saved(raw)
            playlist = self._check_playlist(payload)
        except ProtocolError as exc:
            log.warning("saved playlist refused: %s", exc.reason)
            self.rejects.add(exc.kind)
            return None
        except ValueError as exc:
            log.warning("saved playlist refused: %s", exc)
            self.rejects.add("invalid")
            return None
        with self._lock:
            self.current, self._payload = playlist, payload
        return playlist

    def _verify_saved(self, raw: bytes) -> dict[str, Any]:
        """A saved full playlist (its signed envelope), or a delta's result saved beside the
        signed delta that proves it: the delta's signature and ``result_sha256`` vouch for
        every byte of the result, as the controller's signature does for a full one."""
        saved = load_any(raw)  # a full playlist is kept as it came: JSON or CBOR
        if isinstance(saved, dict) and "proof" in saved:
            delta = validate(PlaylistDelta, self.verifier.verify_envelope(saved["proof"]))
            payload = saved.get("payload")
            if not isinstance(payload, dict) or payload_sha256(payload) != delta.result_sha256:
                raise InvalidMessage("saved playlist does not match the delta that proves it")
            return payload
        return self.verifier.verify_envelope(saved)

    def _check_playlist(self, payload: dict[str, Any]) -> Playlist:
        playlist = validate(Playlist, payload)
        if playlist.node_id != self.node_id:
            raise WrongTarget(f"playlist for {playlist.node_id!r}, not {self.node_id!r}")
        if playlist.version < self.min_playlist_version:
            # an old signed playlist replayed to a reflashed node: valid signature, stale
            raise StaleMessage(
                f"playlist version {playlist.version} older than the enrolment floor "
                f"{self.min_playlist_version}"
            )
        return playlist

    def handle_playlist(self, raw: bytes) -> Playlist | None:
        """Return the playlist if it is new and valid (now saved on disk), else None. A
        delta that does not start from the version held asks for a full snapshot
        (``request_snapshot``) and changes nothing."""
        try:
            envelope = load_any(raw)
            payload = self.verifier.verify_envelope(envelope)
            if is_delta(payload):
                return self._handle_delta(envelope, payload)
            playlist = self._check_playlist(payload)
            with self._lock:
                if not self._is_newer(playlist.version):
                    return None  # the retained copy again, or a harmless duplicate
                atomic_write(self.playlist_path, raw)
                self.current, self._payload = playlist, payload
            log.info("playlist v%d accepted (%d items)", playlist.version, len(playlist.items))
            return playlist
        except DeltaGap as exc:
            self.rejects.add(exc.kind)
            log.warning("playlist delta not applied (%s): %s", exc.kind, exc.reason)
            self._ask_snapshot(exc)
            return None
        except ProtocolError as exc:
            self.rejects.add(exc.kind)
            log.warning("playlist rejected (%s): %s", exc.kind, exc.reason)
            return None
        except (OSError, ValueError) as exc:  # cannot persist, or a malformed key/field
            self.rejects.add("invalid")
            log.warning("playlist rejected: %s", exc)
            return None

    def _is_newer(self, version: int) -> bool:
        """False for the version held (a duplicate); raises for an older one (a replay)."""
        current = self.current
        if current is not None and version == current.version:
            return False
        if current is not None and version < current.version:
            raise StaleMessage(f"playlist version {version} older than {current.version}")
        return True

    def _handle_delta(self, envelope: Any, payload: dict[str, Any]) -> Playlist | None:
        delta = validate(PlaylistDelta, payload)
        if delta.node_id != self.node_id:
            raise WrongTarget(f"playlist delta for {delta.node_id!r}, not {self.node_id!r}")
        with self._lock:
            if not self._is_newer(delta.version):
                return None
            if self._payload is None:
                raise DeltaGap(
                    f"delta from v{delta.base_version}, this node holds no playlist",
                    delta.version,
                )
            result = apply_delta(self._payload, delta)
            playlist = self._check_playlist(result)
            # saved as JSON whatever the wire encoding: the signature covers the payload
            atomic_write(self.playlist_path, canonical_json({"proof": envelope, "payload": result}))
            self.current, self._payload = playlist, result
        log.info(
            "playlist delta v%d -> v%d applied (%d edits, %d items)",
            delta.base_version, delta.version, len(delta.edits), len(playlist.items),
        )  # fmt: skip
        return playlist

    def _ask_snapshot(self, gap: DeltaGap) -> None:
        """Ask once per (version held, delta version): a redelivered (retained) delta does
        not ask again, a newer delta that still does not fit does."""
        held = self.current.version if self.current is not None else None
        key = (held, gap.version)
        if self.request_snapshot is None or key == self._asked:
            return
        self._asked = key
        self.request_snapshot(gap.reason)

    def handle_command(self, raw: bytes) -> CommandOutcome:
        """Verify a command; a verified but unacceptable one comes back with its reason."""
        try:
            command = self.verifier.verify(Command, raw)
        except (BadSignature, InvalidMessage) as exc:
            self.rejects.add(exc.kind)
            log.warning("command rejected (%s): %s", exc.kind, exc.reason)
            return CommandOutcome(None, False, exc.reason)
        except ValueError as exc:
            self.rejects.add("invalid")
            return CommandOutcome(None, False, str(exc))
        try:
            self._check_command(command)
        except ProtocolError as exc:
            self.rejects.add(exc.kind)
            log.warning("command %s rejected (%s): %s", command.id, exc.kind, exc.reason)
            return CommandOutcome(command, False, exc.reason)
        except (OSError, ReplayStoreError) as exc:
            self.rejects.add("invalid")
            log.warning("command %s refused, cannot record it: %s", command.id, exc)
            return CommandOutcome(command, False, f"cannot record command: {exc}")
        return CommandOutcome(command, True)

    def _check_command(self, command: Command) -> None:
        now = self.clock.now()
        if command.node_id is not None and command.node_id != self.node_id:
            raise WrongTarget(f"command for node {command.node_id!r}")
        if command.zone_id is not None and command.zone_id not in self.zones:
            raise WrongTarget(f"command for zone {command.zone_id!r}, not one of ours")
        if command.expires_at <= now:
            raise StaleMessage(f"command expired at {command.expires_at.isoformat()}")
        self._replay.check_and_remember(command, now)  # thread-safe on its own
