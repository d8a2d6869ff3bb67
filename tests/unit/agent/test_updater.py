"""The agent's side of an update: when it may start, and what it reports after a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent._version import VERSION
from agent.backends.amplifier import NoopAmplifier
from agent.backends.player import NullPlayer
from agent.backends.volume import NoopVolume
from agent.config import AgentSettings
from agent.played_log import PlayedLog
from agent.playout import Playout
from agent.updater import ReleaseRoot, Updater
from protocol.clock import FakeClock
from protocol.models import AgentUpdate, EventKind, ItemKind, MediaRef, Playlist, PlaylistItem
from protocol.signing import Signer, Verifier

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
UPDATE = AgentUpdate(version="9.9.9", url="https://x/agent/w.whl", sha256="a" * 64)


def playout(tmp_path: Path, clock: FakeClock) -> Playout:
    played = PlayedLog(tmp_path / "played.sqlite")
    return Playout(clock, NullPlayer(), NoopAmplifier(), NoopVolume(), played,
                   lambda *a: None, lambda i: "/x")  # fmt: skip


def test_an_update_waits_for_anything_due_within_the_quiet_window(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    p = playout(tmp_path, clock)
    assert p.update_blocker(clock.now(), 300) is None
    media = MediaRef(sha256="b" * 64, size=1, duration_s=10)
    item = PlaylistItem(id="i1", kind=ItemKind.AUDIO, start=T0 + timedelta(minutes=4),
                        duration_s=10, media=media)  # fmt: skip
    p.set_playlist(Playlist(node_id="n", version=1, generated_at=T0, window_start=T0,
                            window_end=T0 + timedelta(hours=1), items=[item]))  # fmt: skip
    assert "i1 is due" in (p.update_blocker(clock.now(), 300) or "")
    assert p.update_blocker(clock.now(), 120) is None  # 4 min away, window 2 min
    clock.advance(5 * 60)  # the item has ended
    assert p.update_blocker(clock.now(), 300) is None


def updater(tmp_path: Path, clock: FakeClock, blocker: object, root: Path | None) -> tuple:  # type: ignore[type-arg]
    events: list[tuple[EventKind, str]] = []
    restarts: list[int] = []
    settings = AgentSettings(node_id="n", data_dir=tmp_path, release_root=root,
                             update_poll_s=0.01, update_max_wait_s=60)  # fmt: skip
    u = Updater(settings, clock, Verifier([Signer.generate().public_key]), blocker,  # type: ignore[arg-type]
                lambda k, d: events.append((k, d)), lambda: restarts.append(1))  # fmt: skip
    return u, events, restarts


def run(u: Updater) -> None:
    u.start(UPDATE)
    u._busy.acquire(timeout=10)  # the update thread released it: finished
    u._busy.release()


def test_a_never_quiet_node_gives_up_and_reports_it(tmp_path: Path) -> None:
    clock = FakeClock(T0)

    def busy(now: datetime) -> str:
        clock.advance(20)  # every check is 20 s later on the fake clock
        return "playing i1"

    u, events, restarts = updater(tmp_path, clock, busy, tmp_path)
    run(u)
    assert events == [(EventKind.UPDATE_FAILED, "9.9.9: never quiet for 60 s (playing i1)")]
    assert restarts == []


def test_an_agent_not_installed_by_loa_release_refuses_updates(tmp_path: Path) -> None:
    u, events, restarts = updater(tmp_path, FakeClock(T0), lambda now: None, None)
    run(u)
    assert events[0][0] is EventKind.UPDATE_FAILED and "loa-release" in events[0][1]
    assert restarts == []


def test_after_a_restart_rollbacks_are_reported_once_and_trials_confirmed(tmp_path: Path) -> None:
    root = tmp_path / "opt"
    root.mkdir()
    (root / "update-result").write_text("update_failed 9.9.9 crash loop: 9.9.9 started 3 times\n")
    u, events, _ = updater(tmp_path, FakeClock(T0), lambda now: None, root)
    u.report_rollback()
    u.report_rollback()
    assert events == [(EventKind.UPDATE_FAILED, "9.9.9: crash loop: 9.9.9 started 3 times")]
    (root / "trial").write_text(f"other 0.0.1 {2**40} 1\n")
    u.confirm()
    assert (root / "trial").exists() and len(events) == 1  # not our trial
    (root / "trial").write_text(f"{VERSION} 0.0.1 {2**40} 1\n")
    u.confirm()
    assert not (root / "trial").exists()
    assert events[-1] == (EventKind.UPDATE_INSTALLED, VERSION)
    assert ReleaseRoot(root).take_result() is None
