"""Everything a running controller holds, built once from settings (no import-time state)."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from audio.media_store import MediaStore
from audio.pipeline import SpeechRenderer
from audio.renditions import OpusRenditions
from audio.uploads import UploadLimits
from controller.agentdist.store import AgentDist
from controller.auth.enrol_throttle import EnrolThrottle
from controller.bridge.ingest import Ingestor
from controller.bridge.mqtt_link import MqttLink
from controller.bridge.playlist_publisher import PlaylistPublisher
from controller.bridge.reject_counter import RejectCounter
from controller.broker.access_files import BrokerAccessWriter
from controller.broker.passwords import mosquitto_hash
from controller.config import ControllerSettings
from controller.db.engine import make_engine, make_session_factory
from controller.db.migrate import upgrade
from controller.services import media_uses as _media_uses  # noqa: F401  (its ORM events)
from controller.services.identity import ControllerIdentity, controller_identity
from controller.services.provisioning import broker_access
from controller.services.renditions import with_alternatives
from protocol.clock import Clock, SystemClock
from protocol.signing import Signer

log = logging.getLogger(__name__)


@dataclass
class Controller:
    settings: ControllerSettings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    signer: Signer
    media_store: MediaStore
    renderer: SpeechRenderer
    mqtt: MqttLink
    ingestor: Ingestor
    publisher: PlaylistPublisher
    rejects: RejectCounter = field(default_factory=RejectCounter)
    broker_reload: Callable[[], None] | None = None
    enrol_throttle: EnrolThrottle | None = None
    agent_dist: AgentDist | None = None
    # the Opus rendition of each MP3, named beside it for agents that can play it
    renditions: OpusRenditions | None = None
    # APScheduler listeners added to the scheduler whenever this process runs it (metrics).
    scheduler_listeners: list[Callable[[Any], None]] = field(default_factory=list)
    # the one live broadcast desk of this process (services.live.live_desk builds it)
    live_desk: Any = None

    @classmethod
    def build(cls, settings: ControllerSettings, clock: Clock | None = None) -> Controller:
        clock = clock or SystemClock()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = settings.resolved_database_url
        upgrade(url)
        engine = make_engine(url, settings.database_busy_timeout_s)
        sessions = make_session_factory(engine)
        signer = Signer.load_or_create(settings.resolved_signing_key_path)
        store = MediaStore(settings.media_dir)
        renditions = OpusRenditions(store, settings.opus_kbps) if settings.opus_renditions else None
        renderer = SpeechRenderer(
            store,
            voice=settings.espeak_voice,
            rate_wpm=settings.espeak_rate_wpm,
            bitrate_kbps=settings.mp3_bitrate_kbps if settings.tts_output == "mp3" else None,
            output=settings.tts_output,
            engine_order=tuple(settings.tts_engine_order),
            piper_voices_dir=settings.piper_voices_dir,
            gtts_timeout_s=settings.gtts_timeout_s,
            upload_limits=UploadLimits(
                max_bytes=settings.upload_max_mb * 1024 * 1024,
                max_duration_s=settings.upload_max_duration_s,
            ),
        )
        rejects = RejectCounter()
        holder: dict[str, Ingestor] = {}
        link = MqttLink(settings, on_message=lambda t, p: holder["ingestor"].on_message(t, p))
        ingestor = Ingestor(
            sessions, lambda topic, payload: link.publish(topic, payload, 1), clock, rejects
        )
        holder["ingestor"] = ingestor
        publisher = PlaylistPublisher(
            sessions,
            signer,
            lambda topic, payload, qos, retain: link.publish(topic, payload, qos, retain),
            clock,
            timedelta(hours=settings.playlist_window_h),
            decorate=lambda item: with_alternatives(item, renditions),
            deltas=settings.playlist_deltas,
            delta_encoding=settings.playlist_delta_encoding,
        )
        ingestor.on_resync = publisher.resend_full
        return cls(
            settings,
            clock,
            engine,
            sessions,
            signer,
            store,
            renderer,
            link,
            ingestor,
            publisher,
            rejects,
            enrol_throttle=EnrolThrottle(
                clock, settings.enrol_max_failures, settings.enrol_window_s
            ),
            agent_dist=AgentDist(settings.resolved_agent_dist_dir),
            renditions=renditions,
        )

    def identity(self) -> ControllerIdentity:
        """Signing key and agents' CA, with the pins enrolment tokens carry."""
        return controller_identity(self.settings, self.signer)

    def sync_broker_access(self) -> bool:
        """Rewrite Mosquitto's password/ACL files from the DB and reload; False if unmanaged."""
        s = self.settings
        if s.broker_password_file is None or s.broker_acl_file is None:
            return False
        if not s.mqtt_username or s.mqtt_password is None:
            raise RuntimeError(
                "managed broker access needs LOA_MQTT_USERNAME and LOA_MQTT_PASSWORD"
            )
        with self.sessions() as session:
            nodes = broker_access(session)
        writer = BrokerAccessWriter(s.broker_password_file, s.broker_acl_file, self._reload_broker)
        writer.write(s.mqtt_username, mosquitto_hash(s.mqtt_password.get_secret_value()), nodes)
        return True

    def _reload_broker(self) -> None:
        if self.broker_reload is not None:
            self.broker_reload()
        elif self.settings.broker_pid_file is not None:
            pid = int(self.settings.broker_pid_file.read_text().strip())
            os.kill(pid, signal.SIGHUP)

    def start(self) -> None:
        self.ingestor.start()
        self.mqtt.start()
        if not self.mqtt.connected.wait(10):
            log.warning("MQTT broker not reachable yet; will keep retrying in the background")

    def stop(self) -> None:
        self.mqtt.stop()
        self.ingestor.stop()
        self.engine.dispose()
