"""Controller settings (env prefix ``LOA_``, optional TOML file via ``LOA_CONFIG``).

Every default is chosen so that ``loa controller`` runs on one machine with SQLite and a
Mosquitto on loopback. See ``docs/configuration.md`` for the full list.
"""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from protocol.liveness import SILENCE_GRACE_S
from protocol.settings_source import LoaSettings

# Shared secrets compared with what a caller sends: long and varied enough not to be guessed.
MIN_TOKEN_CHARS = 32
MIN_TOKEN_DISTINCT = 10
MIN_PASSWORD_CHARS = 16
HOW_TO_GENERATE = "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


def check_shared_secret(value: SecretStr | None, min_chars: int, distinct: int) -> None:
    """Refuse an empty, short or repetitive secret (it would let anyone in)."""
    if value is None:
        return
    text = value.get_secret_value()
    if not text.strip():
        raise ValueError(f"is set but empty: set a random value or unset it ({HOW_TO_GENERATE})")
    if len(text) < min_chars:
        raise ValueError(f"is shorter than {min_chars} characters ({HOW_TO_GENERATE})")
    if len(set(text)) < distinct:
        raise ValueError(f"has fewer than {distinct} different characters ({HOW_TO_GENERATE})")


class ControllerSettings(LoaSettings):
    # Never echo a refused value (it may be a secret) in the start-up error.
    model_config = SettingsConfigDict(hide_input_in_errors=True)

    data_dir: Path = Field(Path("var/controller"), description="database, media, keys")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir")
    database_busy_timeout_s: float = Field(
        10.0, gt=0, le=300, description="SQLite: how long a write waits for the file's lock"
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=1, le=65535)
    public_url: str | None = Field(None, description="base URL agents use to fetch media")
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_tls_ca: Path | None = None
    mqtt_client_id: str = "loa-controller"
    signing_key_path: Path | None = Field(None, description="Ed25519 PEM; default in data_dir")
    heartbeat_interval_s: float = Field(30.0, gt=0)
    heartbeat_grace_s: float = Field(
        SILENCE_GRACE_S,
        ge=0,
        le=3600,
        description="a node that announced its heartbeat gap (next_within_s) is offline after"
        " that gap plus max(this, gap/8) of silence (protocol/liveness.py); older agents"
        " after two heartbeat_interval_s",
    )
    playlist_window_h: float = Field(48.0, gt=0, le=24 * 14)
    playlist_deltas: bool = Field(
        True, description="send a changed playlist as a signed delta to agents that apply them"
    )
    playlist_delta_encoding: Literal["cbor", "json"] = Field(
        "cbor", description="cbor = compact; json = readable (debugging)"
    )
    espeak_voice: str = "vi"
    espeak_rate_wpm: int = Field(145, ge=80, le=260)
    tts_engine_order: list[str] = Field(
        default_factory=lambda: ["gtts", "piper", "espeak-ng"],
        description="engines tried in order; espeak-ng always works offline",
    )
    piper_voices_dir: Path | None = Field(None, description="folder with *.onnx + .onnx.json")
    gtts_timeout_s: float = Field(8.0, gt=0, le=60)
    tts_output: str = Field("mp3", pattern="^(mp3|opus)$")
    upload_max_mb: int = Field(100, ge=1, le=2000)
    upload_max_duration_s: float = Field(3600, gt=0)
    mp3_bitrate_kbps: int = Field(56, ge=16, le=320)
    opus_renditions: bool = Field(
        True, description="name an Opus rendition beside each MP3 (for agents that can play it)"
    )
    opus_kbps: int = Field(16, ge=16, le=64, description="bitrate of those Opus renditions")
    emergency_tts_engine: str = Field(
        "espeak-ng",
        description="engine that speaks a fresh emergency text (offline, no wait for gTTS);"
        " '' = the normal engine order",
    )
    emergency_chunk_kb: int = Field(
        4,  # ~2 s of 16 kbit/s Opus: sound after ~4 KB on the link, 2 s buffered
        ge=0,
        le=64,
        description="signed chunk size for progressive emergency playback; 0 = agents"
        " download the whole file before playing",
    )
    immediate_lead_s: float = Field(
        5.0, ge=0, le=300, description="'now' means this far ahead: agents fetch media, amp warms"
    )
    priority_slot_window_h: float = Field(
        6.0,
        gt=0,
        le=168,
        description="a priority bulletin waits for a programme slot starting within this many "
        "hours, else it airs at once",
    )
    icecast_host: str | None = Field(
        None, description="Icecast server for live broadcasts from the panel (None = live off)"
    )
    icecast_port: int = Field(8000, ge=1, le=65535)
    icecast_mount: str = Field("/live.mp3", pattern=r"^/[A-Za-z0-9._/-]{1,100}$")
    icecast_source_password: SecretStr | None = Field(
        None, description="Icecast source password (live is off without it)"
    )
    icecast_listen_url: str | None = Field(
        None, description="URL agents play the live mount from; default http://host:port/mount"
    )
    live_max_s: float = Field(
        3600.0, gt=0, le=6 * 3600, description="a live broadcast ends itself after this long"
    )
    broker_password_file: Path | None = Field(
        None, description="Mosquitto password_file written from the database (None = unmanaged)"
    )
    broker_acl_file: Path | None = Field(None, description="Mosquitto acl_file written likewise")
    broker_pid_file: Path | None = Field(None, description="SIGHUP this PID to reload the files")
    broker_hook_token: SecretStr | None = Field(
        None,
        description="bearer secret EMQX sends to /api/v1/broker/authn|authz (unset = hooks off)",
    )
    broker_public_host: str | None = Field(None, description="MQTT host handed out at enrolment")
    broker_public_port: int | None = Field(
        None, ge=1, le=65535, description="MQTT port handed out at enrolment (default mqtt_port)"
    )
    agent_tls_ca: Path | None = Field(
        None,
        description="CA certificate (PEM) agents trust for HTTPS and MQTT; pinned in enrolment "
        "tokens and handed out at enrolment (default: mqtt_tls_ca)",
    )
    agent_dist_dir: Path | None = Field(
        None, description="agent releases served under /agent/ (default: data_dir/agent-dist)"
    )
    agent_dist_version: str | None = Field(
        None, description="release /agent/manifest.json names (default: the controller's own)"
    )
    enrol_max_failures: int = Field(
        10, ge=1, le=1000, description="failed enrolments per client address and window"
    )
    enrol_window_s: float = Field(600, gt=0, description="enrolment failure window")
    alert_offline_after_min: float = Field(10, gt=0, description="offline this long -> alert")
    echo_clock_offset_ms: float = Field(
        50.0,
        gt=0,
        description="the fleet page flags a node whose clock is off by more: neighbouring"
        " speakers that start this far apart are heard as an echo",
    )
    alert_webhook_url: str | None = Field(None, description="POST each new alert here as JSON")
    scheduler_enabled: bool = Field(True, description="run the jobs (one replica holds the lease)")
    horizon_interval_min: float = Field(10.0, gt=0, description="recompile + republish period")
    heartbeat_retention_days: float = Field(
        400.0, gt=0, description="how long the hourly heartbeat history is kept"
    )
    heartbeat_raw_keep_h: float = Field(
        24.0, gt=0, description="raw heartbeats kept this long, then rolled up per hour"
    )
    prerender_ahead_h: float = Field(6.0, gt=0, description="render TTS for items due this soon")
    prerender_interval_min: float = Field(15.0, gt=0)
    retention_interval_h: float = Field(6.0, gt=0)
    alerts_interval_s: float = Field(60.0, gt=0)
    lease_ttl_s: float = Field(15.0, gt=0, description="scheduler lease lifetime")
    lease_renew_s: float = Field(5.0, gt=0)
    api_anonymous_admin: bool = Field(
        False,
        description="DEVELOPMENT ONLY: unauthenticated API calls act as admin (loa demo, tests)",
    )
    upstream_alert_token: SecretStr | None = Field(
        None, description="bearer token for CAP/JSON alerts from upstream systems"
    )
    api_token: SecretStr | None = Field(
        None,
        description="shared admin bearer token for upstream systems only (32+ characters); "
        "people use their own per-user tokens from the panel",
    )

    panel_session_key_path: Path | None = Field(
        None, description="HMAC key for panel session cookies (0600); default in data_dir/keys"
    )
    panel_session_hours: float = Field(12, gt=0, le=24 * 30, description="panel login lifetime")
    panel_secure_cookies: bool = Field(
        False, description="mark panel cookies Secure (set when served over HTTPS)"
    )
    panel_map_tile_url: str | None = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="XYZ tile URL template for the map basemap ({z}/{x}/{y}); empty: none "
        "(the map then shows its offline layout of communes and villages)",
    )
    panel_login_max_failures: int = Field(
        5, ge=1, le=100, description="failures per (username, client address) before a delay"
    )
    panel_login_window_s: float = Field(300, gt=0, description="login failure window")
    panel_login_max_delay_s: float = Field(
        900, gt=0, description="longest refusal after repeated failures (doubles each time)"
    )
    panel_login_tracked_max: int = Field(
        10_000, ge=100, description="(username, address) pairs the limiter remembers (LRU)"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses/networks of reverse proxies whose X-Forwarded-For is believed",
    )
    http_max_body_kib: int = Field(
        256, ge=1, le=64 * 1024, description="largest request body outside upload routes"
    )

    @field_validator("api_token", "upstream_alert_token", "broker_hook_token")
    @classmethod
    def _strong_token(cls, value: SecretStr | None) -> SecretStr | None:
        check_shared_secret(value, MIN_TOKEN_CHARS, MIN_TOKEN_DISTINCT)
        return value

    @field_validator("mqtt_password")
    @classmethod
    def _strong_password(cls, value: SecretStr | None) -> SecretStr | None:
        check_shared_secret(value, MIN_PASSWORD_CHARS, 6)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _distinct_tokens(self) -> ControllerSettings:
        """Each shared token grants different rights: one value must not open them all."""
        named = {
            name: secret.get_secret_value()
            for name in ("api_token", "upstream_alert_token", "broker_hook_token")
            if (secret := getattr(self, name)) is not None
        }
        if len(set(named.values())) < len(named):
            raise ValueError(f"{', '.join(named)} must all differ (each grants other rights)")
        return self

    # operations (docs/operations.md)
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="serve Prometheus /metrics on metrics_host:PORT without auth; unset = "
        "/metrics on the API port for admins only",
    )
    metrics_host: str = Field("127.0.0.1", description="keep the separate metrics port local")
    log_format: str = Field("text", pattern="^(text|json)$", description="json = JSON lines")
    health_min_free_disk_mb: float = Field(
        500, ge=0, description="/api/v1/health reports the disk as degraded below this"
    )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'loa.sqlite3').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def resolved_panel_session_key_path(self) -> Path:
        return self.panel_session_key_path or self.data_dir / "keys" / "panel-session.key"

    @property
    def resolved_agent_tls_ca(self) -> Path | None:
        return self.agent_tls_ca or self.mqtt_tls_ca

    @property
    def resolved_agent_dist_dir(self) -> Path:
        return self.agent_dist_dir or self.data_dir / "agent-dist"

    @property
    def resolved_signing_key_path(self) -> Path:
        return self.signing_key_path or self.data_dir / "keys" / "playlist-signing.pem"

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")
