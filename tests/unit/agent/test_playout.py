"""Playout decisions driven by a FakeClock: no real sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.backends.amplifier import NoopAmplifier
from agent.backends.player import Playback, Player, PlayRequest, SilentPlayback
from agent.backends.volume import NoopVolume
from agent.played_log import PlayedLog
from agent.playout import Playout, PlayoutConfig, Source
from protocol.clock import FakeClock
from protocol.models import (
    Command,
    CommandAction,
    EventKind,
    ItemKind,
    LatePolicy,
    MediaRef,
    Playlist,
    PlaylistItem,
    Priority,
)

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
MEDIA = MediaRef(sha256="a" * 64, ext="mp3", size=10, duration_s=10)


class RecordingPlayer(Player):
    """Remembers every request and when (on the fake clock) it was made."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.plays: list[tuple[PlayRequest, datetime]] = []
        self.exit_status: int | None = None

    def play(self, request: PlayRequest) -> Playback:
        self.plays.append((request, self.clock.now()))
        player = self

        class Handle(SilentPlayback):
            def poll(self) -> int | None:
                return player.exit_status

        return Handle()


Event = tuple[EventKind, str | None, str | None, str]


class Rig:
    def __init__(self, tmp_path: Path, config: PlayoutConfig | None = None) -> None:
        self.tmp_path = tmp_path
        self.clock = FakeClock(T0)
        self.player = RecordingPlayer(self.clock)
        self.amp = NoopAmplifier()
        self.volume = NoopVolume()
        self.events: list[Event] = []
        self.missing: set[str] = set()
        self.config = config or PlayoutConfig(late_grace_s=2, amp_lead_s=2, amp_tail_s=5)
        self.playout = self.build()

    def build(self) -> Playout:
        return Playout(
            self.clock,
            self.player,
            self.amp,
            self.volume,
            PlayedLog(self.tmp_path / "played.sqlite"),
            lambda k, i, c, d: self.events.append((k, i, c, d)),
            lambda item: None if item.id in self.missing else Source(f"/media/{item.id}"),
            self.config,
        )

    def kinds(self) -> list[tuple[str, str | None]]:
        return [(k.value, i) for k, i, _c, _d in self.events]

    def advance_to(self, seconds_after_t0: float) -> float:
        target = T0 + timedelta(seconds=seconds_after_t0)
        self.clock.advance((target - self.clock.now()).total_seconds())
        return self.playout.step()


def item(n: int, start_s: float, duration_s: float = 10, **kw: Any) -> PlaylistItem:
    return PlaylistItem(
        id=f"i{n}",
        kind=ItemKind.AUDIO,
        start=T0 + timedelta(seconds=start_s),
        duration_s=duration_s,
        media=MEDIA,
        **kw,
    )


def playlist(*items: PlaylistItem, version: int = 1) -> Playlist:
    return Playlist(
        node_id="n1",
        version=version,
        generated_at=T0,
        window_start=T0,
        window_end=T0 + timedelta(hours=48),
        items=list(items),
    )


def command(action: CommandAction, n: int = 1, **kw: Any) -> Command:
    return Command(
        id=f"c{n}",
        action=action,
        issued_at=T0,
        expires_at=T0 + timedelta(hours=1),
        node_id="n1",
        **kw,
    )


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def test_sleeps_until_amp_lead_then_start_and_starts_exactly_on_time(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 600)))
    assert rig.playout.step() == pytest.approx(30)  # re-reads the wall clock at least every 30 s
    assert rig.advance_to(580) == pytest.approx(18)  # wake for the amplifier lead first
    assert not rig.amp.is_on
    assert rig.advance_to(598) == pytest.approx(0.5)  # then for the preload (PRELOAD_S)
    assert rig.amp.is_on
    assert rig.advance_to(598.5) == pytest.approx(1.5)
    assert rig.player.plays == []
    rig.advance_to(600)
    request, at = rig.player.plays[0]
    assert at == T0 + timedelta(seconds=600)
    assert request.offset_s == 0 and request.duration_s == 10
    assert rig.kinds() == [("started", "i1")]


def test_finishes_at_slot_end_and_amp_goes_off_after_tail(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=10)))
    rig.playout.step()
    rig.advance_to(10)
    assert rig.kinds() == [("started", "i1"), ("finished", "i1")]
    assert rig.amp.is_on  # still within the tail
    rig.advance_to(15)
    assert not rig.amp.is_on


def test_slightly_late_item_starts_from_the_beginning(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0)))
    rig.advance_to(1.5)
    assert rig.player.plays[0][0].offset_s == 0


def test_late_join_item_plays_from_current_offset(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=30)))
    rig.advance_to(12)
    request = rig.player.plays[0][0]
    assert request.offset_s == pytest.approx(12)
    assert request.duration_s == pytest.approx(18)
    assert "joined" in rig.events[0][3]


def test_late_skip_item_is_reported_skipped(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=30, late_policy=LatePolicy.SKIP)))
    rig.advance_to(12)
    assert rig.player.plays == []
    assert rig.kinds() == [("skipped", "i1")]
    rig.advance_to(40)
    assert rig.kinds() == [("skipped", "i1")]  # reported once


def test_item_whose_slot_passed_is_reported_missed_once(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=5), item(2, 100)))
    rig.advance_to(50)
    rig.advance_to(51)
    assert rig.kinds() == [("missed", "i1")]


def test_unverified_media_waits_and_plays_only_once_verified(rig: Rig) -> None:
    """Issue 14, hole 5: nothing reaches the player before the download is verified; a
    download that lands within the grace still starts the item from its beginning."""
    rig.missing.add("i1")
    rig.playout.set_playlist(playlist(item(1, 0)))
    assert rig.playout.step() == pytest.approx(2)  # wakes at the end of the grace at the latest
    assert rig.advance_to(1.2) == pytest.approx(0.8)
    assert rig.player.plays == [] and rig.events == []
    assert rig.amp.is_on  # kept on while waiting: no click between lead and start
    rig.missing.discard("i1")  # the cache worker verified it and poked the playout
    rig.advance_to(1.5)
    request, at = rig.player.plays[0]
    assert at == T0 + timedelta(seconds=1.5)
    assert (request.source, request.offset_s) == ("/media/i1", 0)
    assert rig.kinds() == [("started", "i1")]


def test_media_unverified_after_the_grace_is_reported_and_skipped(rig: Rig) -> None:
    rig.missing.add("i1")
    rig.playout.set_playlist(playlist(item(1, 0)))
    rig.playout.step()
    rig.advance_to(2)
    assert rig.player.plays == []
    assert rig.kinds() == [("failed", "i1")]
    assert rig.events[0][3] == (
        f"{MEDIA.filename} not downloaded and verified by its start (+2.0s): "
        "skipped, nothing played"
    )
    rig.missing.discard("i1")  # arriving later changes nothing: reported once, never played
    rig.advance_to(3)
    rig.advance_to(20)
    assert rig.player.plays == [] and rig.kinds() == [("failed", "i1")]


def test_a_short_item_waits_at_most_half_its_slot_for_its_media(rig: Rig) -> None:
    """A failure is reported within the slot, not lost as "missed" after it."""
    rig.missing.add("i1")
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=1.5)))
    assert rig.playout.step() == pytest.approx(0.75)
    rig.advance_to(0.75)
    assert rig.kinds() == [("failed", "i1")]
    assert rig.events[0][3].startswith(f"{MEDIA.filename} not downloaded and verified")


def test_command_with_unverified_media_is_reported_not_played(rig: Rig) -> None:
    rig.missing.add("now")
    rig.playout.submit(
        command(
            CommandAction.PLAY_NOW,
            item=PlaylistItem(id="now", kind=ItemKind.TTS, start=T0, duration_s=5, media=MEDIA),
        )
    )
    rig.playout.step()
    assert rig.player.plays == []
    assert rig.kinds() == [("command_ack", None), ("failed", "now")]
    assert "not downloaded and verified" in rig.events[1][3]


def test_player_dying_early_is_reported_failed(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0)))
    rig.playout.step()
    rig.player.exit_status = 1
    rig.advance_to(3)
    assert rig.kinds() == [("started", "i1"), ("failed", "i1")]


def test_emergency_preempts_then_scheduled_item_resumes(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=60)))
    rig.playout.step()
    em_item = item(99, 0, duration_s=5).model_copy(update={"id": "em"})
    rig.clock.advance(10)
    rig.playout.submit(command(CommandAction.EMERGENCY, item=em_item, repeat=2))
    rig.playout.step()
    assert rig.player.plays[-1][0].item_id == "em"
    assert rig.volume.level == 100  # emergency volume
    rig.advance_to(15)  # first repetition ends, second starts
    assert [p[0].item_id for p in rig.player.plays] == ["i1", "em", "em"]
    rig.advance_to(20)
    resumed = rig.player.plays[-1][0]
    assert resumed.item_id == "i1" and resumed.offset_s == pytest.approx(20)
    kinds = rig.kinds()
    assert ("command_ack", None) in kinds
    assert kinds[1] == ("finished", "i1")  # interrupted
    assert "interrupted" in rig.events[1][3]


def test_higher_priority_item_preempts_lower(rig: Rig) -> None:
    low = item(1, 0, duration_s=60, priority=Priority.BACKGROUND)
    high = item(2, 10, duration_s=5, priority=Priority.EMERGENCY)
    rig.playout.set_playlist(playlist(low, high))
    rig.playout.step()
    rig.advance_to(10)
    assert [p[0].item_id for p in rig.player.plays] == ["i1", "i2"]


def test_stop_volume_and_power_commands(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=60)))
    rig.playout.step()
    rig.playout.submit(command(CommandAction.STOP, 1))
    rig.playout.submit(command(CommandAction.VOLUME, 2, volume=40))
    rig.playout.submit(command(CommandAction.POWER, 3, on=False))
    rig.advance_to(1)
    assert rig.playout.playing is None
    assert rig.volume.level == 40
    assert not rig.amp.is_on
    acks = [c for k, _i, c, _d in rig.events if k is EventKind.COMMAND_ACK]
    assert acks == ["c1", "c2", "c3"]
    rig.advance_to(30)
    assert len(rig.player.plays) == 1  # a stopped item does not come back


def test_restart_does_not_replay_finished_items_and_rejoins_the_interrupted_one(
    rig: Rig,
) -> None:
    pl = playlist(item(1, 0, duration_s=5), item(2, 10, duration_s=30))
    rig.playout.set_playlist(pl)
    rig.playout.step()
    rig.advance_to(5)
    rig.advance_to(10)
    rig.advance_to(12)  # power cut while i2 plays
    restarted = rig.build()
    rig.clock.advance(8)
    restarted.set_playlist(pl)
    restarted.step()
    request = rig.player.plays[-1][0]
    assert request.item_id == "i2" and request.offset_s == pytest.approx(10)
    assert [k for k in rig.kinds() if k[0] == "missed"] == []
    assert [p[0].item_id for p in rig.player.plays] == ["i1", "i2", "i2"]


def test_silence_items_do_not_touch_the_player(rig: Rig) -> None:
    silence = PlaylistItem(id="s", kind=ItemKind.SILENCE, start=T0, duration_s=3)
    rig.playout.set_playlist(playlist(silence))
    rig.playout.step()
    rig.advance_to(3)
    assert rig.player.plays == []
    assert rig.kinds() == [("started", "s"), ("finished", "s")]


def stream_item(duration_s: float = 20) -> PlaylistItem:
    return PlaylistItem(
        id="vov",
        kind=ItemKind.STREAM,
        start=T0,
        duration_s=duration_s,
        stream_url="http://radio.example/vov1",
    )


def test_stream_stops_at_the_end_of_its_slot(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(stream_item()))
    rig.playout.step()
    assert rig.player.plays[0][0].source == "/media/vov"
    rig.advance_to(19.9)
    assert rig.playout.playing is not None
    rig.advance_to(20)
    assert rig.playout.playing is None
    assert rig.kinds() == [("started", "vov"), ("finished", "vov")]


def test_stream_that_ends_early_is_a_failure(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(stream_item()))
    rig.playout.step()
    rig.player.exit_status = 0
    rig.advance_to(5)
    assert rig.kinds() == [("started", "vov"), ("failed", "vov")]
    assert rig.events[-1][3] == "stream ended early"


def test_item_removed_by_a_newer_playlist_stops(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=60), item(2, 100)))
    rig.playout.step()
    rig.playout.set_playlist(playlist(item(2, 100), version=2))
    rig.advance_to(5)
    assert rig.playout.playing is None
    assert rig.events[-1][3] == "removed from playlist"


def test_newer_playlist_keeping_the_playing_item_does_not_restart_it(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=60)))
    rig.playout.step()
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=60), item(2, 100), version=2))
    rig.advance_to(5)
    assert len(rig.player.plays) == 1 and rig.playout.current_item == "i1"


def test_a_reused_item_id_on_another_day_still_plays(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=5)))
    rig.playout.step()
    rig.advance_to(5)
    rig.playout.set_playlist(playlist(item(1, 86_400, duration_s=5), version=2))
    rig.advance_to(86_400)
    assert [p[1] for p in rig.player.plays] == [T0, T0 + timedelta(days=1)]


def test_emergency_every_m_seconds_until_its_end_then_programme_resumes(rig: Rig) -> None:
    rig.playout.set_playlist(playlist(item(1, 0, duration_s=600)))
    rig.playout.step()
    em_item = item(99, 0, duration_s=5).model_copy(update={"id": "em"})
    rig.clock.advance(10)
    rig.playout.submit(
        command(
            CommandAction.EMERGENCY,
            item=em_item,
            repeat=10,
            repeat_every_s=60,
            until=T0 + timedelta(seconds=10 + 150),
        )
    )
    rig.playout.step()  # plays at 10 s
    for t in (15, 30, 69, 70, 75, 130, 135, 190, 250):
        rig.advance_to(t)
    em_starts = [(at - T0).total_seconds() for r, at in rig.player.plays if r.item_id == "em"]
    assert em_starts == [10, 70, 130]  # every 60 s from the first start, none after `until`
    assert rig.player.plays[-1][0].item_id == "i1"  # the programme resumed in between and after


def test_cancel_emergency_ends_the_spaced_repeats(rig: Rig) -> None:
    em_item = item(99, 0, duration_s=5).model_copy(update={"id": "em"})
    rig.playout.submit(command(CommandAction.EMERGENCY, item=em_item, repeat=5, repeat_every_s=30))
    rig.playout.step()
    rig.advance_to(10)
    rig.playout.submit(command(CommandAction.CANCEL_EMERGENCY, 2))
    rig.advance_to(11)
    for t in (30, 60, 90):
        rig.advance_to(t)
    assert [r.item_id for r, _at in rig.player.plays] == ["em"]


def test_every_action_runs_from_one_table_and_a_refusal_is_a_rejection(tmp_path: Path) -> None:
    """The runtime adds its actions to playout's table; a handler that refuses (reboot when
    it is disabled) rejects with its reason; an action nobody handles is rejected too."""
    from agent.playout import Ack, CommandRefused

    synced: list[str] = []

    def sync(cmd: Command, _now: datetime, _ack: Ack) -> None:
        synced.append(cmd.id)

    def reboot(_cmd: Command, _now: datetime, _ack: Ack) -> None:
        raise CommandRefused("reboot is disabled on this node")

    rig = Rig(tmp_path)
    rig.playout = Playout(
        rig.clock,
        rig.player,
        rig.amp,
        rig.volume,
        PlayedLog(tmp_path / "played2.sqlite"),
        lambda k, i, c, d: rig.events.append((k, i, c, d)),
        lambda item: f"/media/{item.id}",
        rig.config,
        handlers={CommandAction.SYNC: sync, CommandAction.REBOOT: reboot},
    )
    rig.playout.submit(command(CommandAction.SYNC, 1))
    rig.playout.submit(command(CommandAction.REBOOT, 2))
    rig.playout.step()
    assert synced == ["c1"]
    assert [(k.value, c, d) for k, _i, c, d in rig.events] == [
        ("command_ack", "c1", "sync"),
        ("command_rejected", "c2", "reboot is disabled on this node"),
    ]
    bare = Rig(tmp_path / "bare")  # no runtime handlers: sync is not supported here
    bare.playout.submit(command(CommandAction.SYNC, 3))
    bare.playout.step()
    assert bare.events == [
        (EventKind.COMMAND_REJECTED, None, "c3", "sync is not supported by this agent")
    ]
