"""Build the configured backends from settings (the only place that knows the names)."""

from __future__ import annotations

import logging

from agent.backends.amplifier import Amplifier, GpioAmplifier, NoopAmplifier
from agent.backends.mpv_ipc import PersistentMpvPlayer
from agent.backends.player import NullPlayer, Player, TapPlayer
from agent.backends.process_player import AplayPlayer, FfplayPlayer, MpvPlayer
from agent.backends.volume import AmixerVolume, NoopVolume, PlayerVolume, Volume
from agent.config import AgentSettings

log = logging.getLogger(__name__)


def make_player(settings: AgentSettings) -> Player:
    if settings.player == "null":
        return NullPlayer()
    if settings.player == "tap":
        return TapPlayer(settings.tap_file or settings.data_dir / "tap.jsonl")
    if settings.player == "mpv":
        device = settings.audio_device
        extra = ["--ao=alsa", f"--audio-device=alsa/{device}"] if device else []
        return PersistentMpvPlayer(extra, rt_priority=settings.rt_priority)
    players: dict[str, type[Player]] = {
        "mpv-spawn": MpvPlayer,
        "ffplay": FfplayPlayer,
        "aplay": AplayPlayer,
    }
    player = players[settings.player]()
    if settings.audio_device and isinstance(player, (MpvPlayer, AplayPlayer)):
        player.device = settings.audio_device
    return player


def make_amplifier(settings: AgentSettings) -> Amplifier:
    if settings.amp_gpio_pin is None:
        return NoopAmplifier()
    try:
        return GpioAmplifier(settings.amp_gpio_pin)
    except ImportError:
        log.warning("gpiozero not installed: amplifier control disabled")
        return NoopAmplifier()


def make_volume(settings: AgentSettings, player: Player | None = None) -> Volume:
    """``alsa_control`` set: the ALSA mixer via amixer. Otherwise, with the persistent mpv,
    its software gain (a volume command changes what is playing now); else remember only."""
    if settings.alsa_control is None:
        if isinstance(player, PersistentMpvPlayer):
            return PlayerVolume(player.set_volume)
        return NoopVolume()
    try:
        return AmixerVolume(settings.alsa_control)
    except RuntimeError as exc:
        log.warning("%s: volume control disabled", exc)
        return NoopVolume()
