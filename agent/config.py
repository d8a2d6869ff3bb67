"""Agent settings (env prefix ``LOA_``, optional TOML file via ``LOA_CONFIG``).

The agent runs on a Raspberry Pi: defaults favour a weak link (long keepalive, backoff)
and an SD card (few writes). See ``deploy/agent/agent.example.toml``.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from agent._version import VERSION
from protocol.liveness import LEGACY_KEEPALIVE_S, keepalive_for, user_timeout_s
from protocol.settings_source import LoaSettings

AudioFormat = Literal["opus", "mp3", "ogg", "wav"]
DEFAULT_FORMATS: tuple[AudioFormat, ...] = ("opus", "mp3")  # mpv plays both
PlayerName = Literal["mpv", "mpv-spawn", "ffplay", "aplay", "null", "tap"]


class AgentSettings(LoaSettings):
    node_id: str = Field("demo-node", pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
    zones: list[str] = Field(default_factory=list, description="zone ids whose commands apply")
    data_dir: Path = Path("var/agent")
    controller_url: str = "http://127.0.0.1:8080"
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    tls_ca: Path | None = Field(
        None,
        description="CA certificate (PEM) trusted for both MQTT/TLS and HTTPS to the controller;"
        " enrolment writes the controller's pinned CA here. Set = MQTT uses TLS",
    )
    mqtt_tls_ca: Path | None = Field(None, description="deprecated name of tls_ca")
    mqtt_keepalive_s: int | None = Field(
        None,
        ge=5,
        le=3600,
        description="MQTT keep-alive; None = just above the QoS 1 period"
        " (heartbeat_max_interval_s x heartbeat_confirm_every; protocol.liveness.keepalive_for:"
        " 675 s for 60 s x 10), so paho sends no PINGREQ between the QoS 1 heartbeats whose"
        " PUBACK is the only answer an idle node reads. The broker's Last Will then comes"
        " after 1.5 x this without a byte; the controller's silence rule finds a dead node"
        " far sooner (docs/weak-links.md). The signs of life every heartbeat_max_interval_s"
        " keep a carrier NAT's mapping warm",
    )
    mqtt_user_timeout_s: float | None = Field(
        None,
        ge=0,
        le=3600,
        description="TCP_USER_TIMEOUT of the MQTT socket: data unacknowledged this long"
        " (a sign of life on a link that died silently) drops the connection, and the agent"
        " reconnects, at no byte cost. None = 2 x heartbeat_max_interval_s; 0 = the kernel's"
        " default (~15 min of retransmissions)",
    )
    session_expiry_s: int = Field(7 * 24 * 3600, ge=0)
    trusted_keys: list[str] = Field(
        default_factory=list, description="base64 Ed25519 public keys (old + new during rotation)"
    )
    min_playlist_version: int = Field(
        0, ge=0, description="refuse older playlists (set at enrolment: survives an SD reflash)"
    )
    player: PlayerName = Field(
        "mpv",
        description="mpv = one persistent mpv preloading each item (sound on time);"
        " mpv-spawn = a new mpv per item (slow start, the old behaviour)",
    )
    audio_device: str | None = Field(
        None, description="ALSA PCM the players write to (e.g. default, hw:0,0); None = default"
    )
    rt_priority: int = Field(
        10,
        ge=0,
        le=99,
        description="SCHED_FIFO priority of the playout clock thread and the persistent mpv"
        " (sound on time on a busy Pi; the unit's LimitRTPRIO= allows it); 0 = ordinary",
    )
    tap_file: Path | None = None
    audio_formats: list[AudioFormat] = Field(
        default_factory=lambda: list(DEFAULT_FORMATS),
        description="what the player plays, preferred first: of the encodings a playlist"
        " offers, the first listed here is fetched (Opus: fewer bytes on a mobile link)",
    )
    heartbeat_interval_s: float = Field(
        30.0, gt=0, description="how often the agent looks for news to report (sends only news)"
    )
    heartbeat_max_interval_s: float = Field(
        60.0,
        gt=0,
        description="longest silence while nothing changes: the sign-of-life interval. It sets"
        " the idle bill and how soon a silently dead node shows offline (60 s: offline"
        " within 90 s, ~4 MB a month with the installer's tcp_timestamps=0, ~5.1 MB"
        " without; the table is in docs/weak-links.md)",
    )
    heartbeat_confirm_every: int = Field(
        10,
        ge=1,
        le=1000,
        description="every Nth sign of life goes QoS 1 (the others QoS 0: a PUBLISH and a TCP"
        " ACK, ~58 wire bytes less): its PUBACK proves the way back to the node. The MQTT"
        " keep-alive follows (heartbeat_max_interval_s x this, plus a margin); 1 = all QoS 1",
    )
    heartbeat_full_every_s: float = Field(
        6 * 3600.0,
        gt=0,
        description="a full snapshot at least this often (deltas between; every (re)connect"
        " sends one too). 6 h: ~0.05 MB a month; hourly would cost ~0.3 MB (docs/weak-links.md)",
    )
    heartbeat_delta: bool = Field(
        True, description="send only changed fields; false = a full snapshot every interval"
    )
    heartbeat_encoding: Literal["cbor", "json"] = Field(
        "cbor", description="cbor = compact wire encoding; json = readable (debugging)"
    )
    playlist_delta: bool = Field(
        True,
        description="tell the controller this agent applies signed playlist deltas (fewer"
        " bytes when a recurring item rolls in); false: full playlists only",
    )
    cache_max_mb: int = Field(1024, ge=1)
    progressive_media: bool = Field(
        True,
        description="play a fresh emergency while it downloads, once its first chunks match"
        " the signed chunk hashes (false: only after the whole file is verified)",
    )
    progressive_start_chunks: int = Field(
        1, ge=1, le=64, description="verified chunks buffered before the player starts"
    )
    amp_lead_s: float = Field(2.0, ge=0)
    amp_tail_s: float = Field(5.0, ge=0)
    amp_gpio_pin: int | None = None
    alsa_control: str | None = None
    emergency_volume: int = Field(100, ge=0, le=100)
    max_volume: int = Field(
        100,
        ge=0,
        le=100,
        description="no level above this on this node, whatever a playlist or command says"
        " (the playlist's volume_cap may lower it further; docs/horn-safety.md)",
    )
    soft_start_s: float = Field(
        3.0,
        ge=0,
        le=60,
        description="sound on an amplifier that was off ramps up over this long (0 = off);"
        " needs a live volume control (ALSA mixer or the persistent mpv)",
    )
    soft_start_floor: int = Field(10, ge=0, le=100, description="level a soft start begins at")
    amp_max_on_s: float | None = Field(
        None,
        gt=0,
        description="duty limit: longest the amplifier may stay on without a break"
        " (None = no limit); emergencies are exempt",
    )
    amp_cooldown_s: float = Field(
        600.0, ge=0, description="after the duty limit is hit, the amplifier stays off this long"
    )
    reconnect_min_s: float = Field(1.0, gt=0)
    reconnect_max_s: float = Field(120.0, gt=0)
    fetch_keys_on_start: bool = Field(
        False, description="fetch trusted keys once from the controller when none are configured"
    )
    outbox_resend_s: float = Field(10.0, gt=0, description="resend unacknowledged events")
    report_linger_s: float = Field(
        0.25, ge=0, le=5, description="after a new event, wait this long for others to batch"
    )
    late_grace_s: float = Field(
        2.0, ge=0, description="an item this late still starts from its beginning"
    )
    media_retry_max_s: float = Field(300.0, gt=0)
    display_port: int | None = Field(None, ge=1, le=65535)
    """Serve the e-board kiosk page on 127.0.0.1:PORT (deploy/agent/loa-kiosk.service opens
    8090); None: no screen."""
    allow_reboot: bool = False
    agent_version: str = VERSION
    release_root: Path | None = Field(
        None,
        description="where loa-release keeps releases/, current, trial (set by loa-release "
        "through LOA_RELEASE_ROOT); unset = updates are refused",
    )
    update_quiet_s: float = Field(
        300.0, ge=0, description="an update waits until nothing is due within this many seconds"
    )
    update_poll_s: float = Field(15.0, gt=0, description="how often a waiting update re-checks")
    update_max_wait_s: float = Field(
        24 * 3600.0, gt=0, description="give up (update_failed) if never quiet this long"
    )

    @property
    def sign_of_life_s(self) -> float:
        """The longest gap between two heartbeats while nothing changes."""
        if not self.heartbeat_delta:
            return self.heartbeat_interval_s
        return max(self.heartbeat_max_interval_s, self.heartbeat_interval_s)

    @property
    def keepalive_s(self) -> int:
        """The MQTT keep-alive used: the setting, else just above the period of the QoS 1
        heartbeats (agents without the planner send QoS 0 only: the old 60 s)."""
        if self.mqtt_keepalive_s is not None:
            return self.mqtt_keepalive_s
        if not self.heartbeat_delta:
            return LEGACY_KEEPALIVE_S
        return keepalive_for(
            self.sign_of_life_s, self.heartbeat_confirm_every, self.heartbeat_interval_s
        )

    @property
    def user_timeout_s(self) -> float:
        """TCP_USER_TIMEOUT for the MQTT socket (0 = the kernel's default)."""
        if self.mqtt_user_timeout_s is not None:
            return self.mqtt_user_timeout_s
        return user_timeout_s(self.sign_of_life_s)

    @property
    def ca_file(self) -> Path | None:
        """The one CA file used for MQTT and HTTPS (``tls_ca``, else the deprecated name)."""
        return self.tls_ca or self.mqtt_tls_ca

    def http_verify(self) -> ssl.SSLContext | bool:
        """What HTTPS to the controller verifies against: our CA if set, else the system's."""
        ca = self.ca_file
        return ssl.create_default_context(cafile=str(ca)) if ca is not None else True
