"""Preloading the next item (persistent player) and the amplifier relay on a GPIO pin
(gpiozero's mock pin factory: the real gpiozero code down to the pin), on a FakeClock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.backends.amplifier import Amplifier, GpioAmplifier, NoopAmplifier
from agent.backends.player import Playback, Player, PlayRequest, SilentPlayback
from agent.backends.volume import NoopVolume
from agent.played_log import PlayedLog
from agent.playout import PRELOAD_S, Playout, PlayoutConfig, Source
from protocol.clock import FakeClock
from protocol.models import ItemKind, MediaRef, Playlist, PlaylistItem

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
MEDIA = MediaRef(sha256="b" * 64, ext="mp3", size=10, duration_s=10)
PIN = 17


class PreloadingPlayer(Player):
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.prepared: list[tuple[PlayRequest, datetime]] = []
        self.plays: list[PlayRequest] = []

    def prepare(self, request: PlayRequest) -> None:
        self.prepared.append((request, self.clock.now()))

    def play(self, request: PlayRequest) -> Playback:
        self.plays.append(request)
        return SilentPlayback()


def item(n: int, start_s: float, duration_s: float = 10, kind: ItemKind = ItemKind.AUDIO):  # type: ignore[no-untyped-def]
    return PlaylistItem(
        id=f"i{n}",
        kind=kind,
        start=T0 + timedelta(seconds=start_s),
        duration_s=duration_s,
        media=MEDIA if kind is ItemKind.AUDIO else None,
        stream_url="http://radio.example/live" if kind is ItemKind.STREAM else None,
    )


def playlist(*items: PlaylistItem) -> Playlist:
    return Playlist(
        node_id="n1",
        version=1,
        generated_at=T0,
        window_start=T0,
        window_end=T0 + timedelta(hours=48),
        items=list(items),
    )


class Rig:
    def __init__(self, tmp_path: Path, amp: Amplifier | None = None) -> None:
        self.tmp_path = tmp_path
        self.clock = FakeClock(T0)
        self.player = PreloadingPlayer(self.clock)
        self.amp = amp or NoopAmplifier()
        self.playout = self.build()

    def build(self) -> Playout:
        return Playout(
            self.clock,
            self.player,
            self.amp,
            NoopVolume(),
            PlayedLog(self.tmp_path / "played.sqlite"),
            lambda *_: None,
            lambda it: Source(f"/media/{it.id}"),
            PlayoutConfig(late_grace_s=2, amp_lead_s=2, amp_tail_s=5),
        )

    def at(self, seconds_after_t0: float) -> float:
        target = T0 + timedelta(seconds=seconds_after_t0)
        self.clock.advance((target - self.clock.now()).total_seconds())
        return self.playout.step()


def test_the_next_item_is_handed_to_the_player_preload_s_ahead(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.playout.set_playlist(playlist(item(1, 600)))
    rig.at(600 - PRELOAD_S - 0.01)
    assert rig.player.prepared == []
    rig.at(600 - PRELOAD_S)
    [(request, at)] = rig.player.prepared
    assert at == T0 + timedelta(seconds=600 - PRELOAD_S)
    assert (request.item_id, request.source, request.offset_s) == ("i1", "/media/i1", 0.0)
    rig.at(600)
    assert [p.item_id for p in rig.player.plays] == ["i1"]


def test_no_preload_cuts_what_plays_and_silence_or_streams_are_not_preloaded(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    rig.playout.set_playlist(
        playlist(
            item(1, 600, 10),
            item(2, 610, 10),  # back to back: not prepared while i1 plays
            item(3, 700, 10, ItemKind.SILENCE),
            item(4, 800, 10, ItemKind.STREAM),
        )
    )
    rig.at(599)
    rig.at(600)
    rig.at(609)
    assert [r.item_id for r, _ in rig.player.prepared] == ["i1"]
    for t in (610, 620, 699, 700, 710, 799, 800):
        rig.at(t)
    assert [r.item_id for r, _ in rig.player.prepared] == ["i1"]


@pytest.fixture
def mock_pins() -> Iterator[object]:
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    previous, Device.pin_factory = Device.pin_factory, factory
    yield factory
    factory.close()
    Device.pin_factory = previous


def test_relay_on_amp_lead_before_the_item_off_amp_tail_after(
    tmp_path: Path, mock_pins: object
) -> None:
    pin = mock_pins.pin(PIN)  # type: ignore[attr-defined]
    rig = Rig(tmp_path, GpioAmplifier(PIN))
    rig.playout.set_playlist(playlist(item(1, 600, 10)))
    assert rig.at(0) > 0 and pin.state is False
    rig.at(597.99)
    assert pin.state is False
    rig.at(598)  # amp_lead_s = 2 before the start
    assert pin.state is True
    rig.at(600)
    rig.at(610)  # the item ends; the tail keeps the relay on
    assert pin.state is True
    rig.at(614.99)
    assert pin.state is True
    rig.at(615)  # amp_tail_s = 5 after the end
    assert pin.state is False


def test_relay_is_off_after_a_crash_restart(tmp_path: Path, mock_pins: object) -> None:
    pin = mock_pins.pin(PIN)  # type: ignore[attr-defined]
    rig = Rig(tmp_path, GpioAmplifier(PIN))
    rig.playout.set_playlist(playlist(item(1, 600, 10)))
    rig.at(598)
    rig.at(603)
    assert pin.state is True
    # crash: the process dies while playing; the pin keeps its level until someone drives it
    old = rig.amp
    mock_pins.release_all(old._device)  # type: ignore[attr-defined]
    assert pin.state is True
    rig.clock.advance(20)  # systemd restarts the agent after the item's slot (+23 s)
    restarted = GpioAmplifier(PIN)
    assert pin.state is False  # driven off at start-up, before any decision
    rig.amp = restarted
    rig.playout = rig.build()
    rig.playout.set_playlist(playlist(item(1, 600, 10)))
    rig.at(623)
    assert pin.state is False and not restarted.is_on
