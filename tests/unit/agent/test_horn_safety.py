"""Horn safety on the agent, driven by a FakeClock: caps, soft start, the remembered volume,
the amplifier duty limit and quiet hours (no real sleeping)."""

from __future__ import annotations

from pathlib import Path

import pytest
from unit.agent.test_playout import T0, Rig, command, item, playlist

from agent.horn import HornConfig, HornGuard, VolumeMemory
from agent.playout import Playout, PlayoutConfig
from protocol.models import CommandAction, EventKind, ItemKind, Playlist, PlaylistItem, Priority


class HornRig(Rig):
    """The playout rig with a horn guard (config + a durable volume memory in tmp_path)."""

    def __init__(self, tmp_path: Path, horn: HornConfig, config: PlayoutConfig | None = None):
        self.horn_config = horn
        super().__init__(tmp_path, config)

    def build(self) -> Playout:
        self.memory = VolumeMemory(self.tmp_path / "horn.sqlite")
        self.horn = HornGuard(self.horn_config, self.volume, self.amp, self.memory)
        playout = super().build()
        playout.horn = self.horn
        restored = self.horn.restored_volume()
        playout.base_volume = restored if restored is not None else playout.base_volume
        return playout

    def started_volume(self, index: int = -1) -> int | None:
        return self.player.plays[index][0].volume


def capped_playlist(
    *items: PlaylistItem, cap: int | None = None, quiet: list[str] | None = None
) -> Playlist:
    base = playlist(*items)
    return base.model_copy(update={"volume_cap": cap, "quiet_hours": quiet or []})


def test_the_playlist_cap_bounds_items_commands_and_emergencies(tmp_path: Path) -> None:
    rig = HornRig(tmp_path, HornConfig())
    rig.playout.set_playlist(capped_playlist(item(1, 10, volume=90), cap=60))
    rig.advance_to(10)
    assert rig.started_volume() == 60 and rig.volume.level == 60
    rig.playout.submit(command(CommandAction.VOLUME, 2, volume=95))
    rig.advance_to(11)
    assert rig.volume.level == 60
    ack = [e for e in rig.events if e[0] is EventKind.COMMAND_ACK and e[2] == "c2"]
    assert ack and "capped at 60" in ack[0][3]
    emergency = PlaylistItem(
        id="sos",
        kind=ItemKind.AUDIO,
        start=T0,
        duration_s=5,
        priority=Priority.EMERGENCY,
        media=item(9, 0).media,
    )
    rig.playout.submit(command(CommandAction.EMERGENCY, 3, item=emergency))
    rig.advance_to(12)
    assert rig.player.plays[-1][0].item_id == "sos"
    assert rig.started_volume() == 60  # emergency_volume is 100, the cap still holds


def test_the_node_setting_caps_below_the_playlist(tmp_path: Path) -> None:
    rig = HornRig(tmp_path, HornConfig(max_volume=50))
    rig.playout.set_playlist(capped_playlist(item(1, 10, volume=80), cap=70))
    rig.advance_to(10)
    assert rig.started_volume() == 50
    rig.playout.set_playlist(capped_playlist(item(1, 10, volume=80), cap=30))
    rig.advance_to(11)
    assert rig.volume.level == 30  # a lowered cap applies to what plays now


def test_soft_start_ramps_up_on_a_cold_amplifier_only(tmp_path: Path) -> None:
    rig = HornRig(tmp_path, HornConfig(soft_start_s=2.0, soft_start_floor=10))
    rig.playout.set_playlist(capped_playlist(item(1, 10, 5, volume=80), item(2, 15, 5, volume=80)))
    rig.advance_to(8)
    assert rig.amp.is_on and rig.volume.level is None  # lead: on, nothing applied yet
    wake = rig.advance_to(10)
    assert rig.started_volume() == 10 and rig.volume.level == 10
    assert wake <= 0.25  # the clock comes back for the next ramp step
    rig.advance_to(11)
    assert rig.volume.level == 45
    rig.advance_to(12)
    assert rig.volume.level == 80
    levels = []
    for tenth in range(121, 150):
        rig.advance_to(tenth / 10)
        levels.append(rig.volume.level)
    assert set(levels) == {80}
    rig.advance_to(15)  # back to back: the amplifier stayed on, so no ramp
    assert rig.player.plays[-1][0].item_id == "i2" and rig.started_volume() == 80


def test_the_last_commanded_volume_survives_a_restart(tmp_path: Path) -> None:
    rig = HornRig(tmp_path, HornConfig(soft_start_s=2.0, soft_start_floor=5))
    rig.playout.submit(command(CommandAction.VOLUME, 1, volume=40))
    rig.advance_to(1)
    assert rig.volume.level == 40
    rig.memory.close()

    again = HornRig(tmp_path, HornConfig(soft_start_s=2.0, soft_start_floor=5))
    assert again.playout.base_volume == 40
    again.playout.set_playlist(capped_playlist(item(1, 10)))  # no volume of its own
    again.advance_to(10)
    assert again.started_volume() == 5  # soft start from the floor, never the maximum
    seen = []
    for tenth in range(101, 140):
        again.advance_to(tenth / 10)
        seen.append(again.volume.level)
    assert max(v for v in seen if v is not None) == 40


def test_a_damaged_volume_file_gives_no_level(tmp_path: Path) -> None:
    memory = VolumeMemory(tmp_path / "horn.sqlite")
    memory.save(70)
    memory._db.execute("UPDATE horn SET value = 500")
    assert memory.load() is None
    memory.close()


def test_duty_limit_switches_off_reports_and_resumes_after_the_cool_down(tmp_path: Path) -> None:
    config = PlayoutConfig(late_grace_s=2, amp_lead_s=2, amp_tail_s=5)
    rig = HornRig(tmp_path, HornConfig(amp_max_on_s=60, amp_cooldown_s=30), config)
    stream = PlaylistItem(id="i1", kind=ItemKind.SILENCE, start=T0, duration_s=300)
    rig.playout.set_playlist(capped_playlist(stream))
    rig.advance_to(0)
    assert rig.amp.is_on and rig.playout.current_item == "i1"
    wake = rig.advance_to(30)
    assert wake <= 30
    rig.advance_to(60)
    assert not rig.amp.is_on and rig.playout.current_item is None
    duty = [e for e in rig.events if e[0] is EventKind.AMP_DUTY_LIMIT]
    assert len(duty) == 1 and "limit 60 s" in duty[0][3] and "off for 30 s" in duty[0][3]
    rig.advance_to(75)
    assert not rig.amp.is_on and rig.playout.current_item is None  # cooling down
    wake = rig.advance_to(80)
    assert wake <= 10  # it wakes at the end of the cool-down
    rig.advance_to(90)
    assert rig.amp.is_on and rig.playout.current_item == "i1"  # joins again


def test_an_emergency_is_never_cut_by_the_duty_limit(tmp_path: Path) -> None:
    rig = HornRig(tmp_path, HornConfig(amp_max_on_s=10, amp_cooldown_s=30))
    sos = PlaylistItem(
        id="sos", kind=ItemKind.SILENCE, start=T0, duration_s=40, priority=Priority.EMERGENCY
    )
    rig.playout.submit(command(CommandAction.EMERGENCY, 1, item=sos))
    rig.advance_to(0)
    rig.advance_to(20)
    assert rig.amp.is_on and rig.playout.current_item == "sos"
    assert not [e for e in rig.events if e[0] is EventKind.AMP_DUTY_LIMIT]
    rig.advance_to(40)
    rig.advance_to(40.5)
    assert [e for e in rig.events if e[0] is EventKind.AMP_DUTY_LIMIT]
    assert not rig.amp.is_on


@pytest.mark.parametrize(
    ("local_start", "priority", "played"),
    [
        ("22:00", Priority.ANNOUNCEMENT, False),
        ("04:59", Priority.RELAY, False),
        ("05:00", Priority.ANNOUNCEMENT, True),
        ("21:29", Priority.ANNOUNCEMENT, True),
        ("23:00", Priority.EMERGENCY, True),
    ],
)
def test_the_agent_refuses_non_emergency_items_in_quiet_hours(
    tmp_path: Path, local_start: str, priority: Priority, played: bool
) -> None:
    # T0 is 12:00 in Vietnam (UTC+7): seconds from T0 to the local time, next occurrence
    hour, minute = (int(p) for p in local_start.split(":"))
    offset = ((hour * 60 + minute) - 12 * 60) % (24 * 60) * 60
    rig = HornRig(tmp_path, HornConfig())
    rig.playout.set_playlist(
        capped_playlist(item(1, offset, priority=priority), quiet=["21:30-05:00"])
    )
    rig.advance_to(offset)
    assert bool(rig.player.plays) is played
    if not played:
        skipped = [e for e in rig.events if e[0] is EventKind.SKIPPED]
        assert skipped and skipped[0][3] == "quiet hours 21:30-05:00"
        rig.advance_to(offset + 5)
        assert not rig.player.plays  # refused for good, not retried
