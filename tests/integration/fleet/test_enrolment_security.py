"""Enrolment a man in the middle cannot hijack: pinned controller identity, HTTPS with the
private CA, expiring single-use tokens read from stdin/file, throttling, playlist floor.

Real controller apps served by uvicorn over HTTPS (certificates from deploy/tls/make_ca.py),
the real ``loa agent --enrol`` command, SQLite, and a real Mosquitto where playlists are
published. Time-dependent rules run on the controller's injectable clock.
"""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from support.processes import wait_until
from support.served_controller import ServedController, load_make_ca

from agent.cache import MediaCache, MediaError
from agent.config import AgentSettings
from agent.enrol import EnrolError, request_enrolment, write_enrolment
from agent.runtime import AgentRuntime
from controller.broker.process import MosquittoProcess, free_port
from controller.config import ControllerSettings
from controller.db.models import Announcement, AnnouncementTarget, Media, PublishedPlaylist
from protocol.clock import FakeClock
from protocol.enrol_token import EnrolToken
from protocol.models import MediaRef

pytestmark = pytest.mark.integration
make_ca = load_make_ca().make_ca

Pki = tuple[Path, Path, Path]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    ca, cert, key = make_ca(tmp_path_factory.mktemp("pki"), ["localhost", "127.0.0.1"])
    return ca, cert, key


def settings_for(
    root: Path, ca: Path | None, mqtt_port: int | None = None, own_db: bool = False
) -> ControllerSettings:
    """``own_db``: a second, unrelated controller keeps its own SQLite file even in the
    PostgreSQL pass (which points every controller of a test at one database)."""
    own = {"database_url": f"sqlite:///{root.resolve()}/loa.sqlite3"} if own_db else {}
    return ControllerSettings(
        **own,
        data_dir=root,
        tts_engine_order=["espeak-ng"],
        mqtt_port=mqtt_port or free_port(),
        mqtt_client_id=f"ctl-{root.name}",
        agent_tls_ca=ca,
        enrol_max_failures=5,
        enrol_window_s=600,
    )


def start(
    root: Path,
    pki: Pki | None,
    clock: FakeClock,
    mqtt_port: int | None = None,
    own_db: bool = False,
) -> ServedController:
    ca = pki[0] if pki else None
    root.mkdir(parents=True, exist_ok=True)
    served = ServedController(
        settings_for(root, ca, mqtt_port, own_db),
        clock,
        tls=(pki[1], pki[2]) if pki else None,
        start_services=mqtt_port is not None,
    )
    return served.__enter__()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def served(tmp_path: Path, pki: Pki, clock: FakeClock) -> Iterator[ServedController]:
    server = start(tmp_path / "ctl", pki, clock)
    yield server
    server.__exit__()


def verify_for(pki: Pki | None) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=str(pki[0])) if pki else True


def new_node(server: ServedController, pki: Pki | None, node_id: str, ttl_h: float = 72) -> str:
    """Register ``node_id`` through the admin API and return its enrolment token."""
    with httpx.Client(base_url=server.url, verify=verify_for(pki), timeout=30) as api:
        zone = api.post("/api/v1/zones", json={"id": "xa", "name": "Xã"})
        assert zone.status_code in (201, 409), zone.text  # 409: made by an earlier call
        r = api.post("/api/v1/nodes", json={"id": node_id, "name": node_id, "zone_id": "xa"})
        assert r.status_code == 201, r.text
        if ttl_h == 72:
            token: str = r.json()["enrol_token"]
            return token
        r = api.post(f"/api/v1/nodes/{node_id}/enrolment-token", params={"ttl_h": ttl_h})
        r.raise_for_status()
        token = r.json()["enrol_token"]
        return token


def post_enrol(server: ServedController, pki: Pki | None, token: str, **kw: str) -> httpx.Response:
    with httpx.Client(verify=verify_for(pki), timeout=30, **kw) as http:  # type: ignore[arg-type]
        return http.post(server.url + "/api/v1/enrol", json={"token": token})


def agent_enrol(
    tmp_path: Path, controller: str, *flags: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    argv = [sys.executable, "-m", "cli.main", "agent", "--enrol", "--controller", controller]
    argv += ["--write", str(tmp_path / "etc" / "agent.toml"), *flags]
    return subprocess.run(argv, input=stdin, env=env, capture_output=True, text=True, timeout=60)


# -- pins, TLS, transport ------------------------------------------------------------------


def test_token_alone_enrols_over_https_with_the_pinned_ca(
    tmp_path: Path, served: ServedController, pki: Pki
) -> None:
    token = new_node(served, pki, "loa-1")
    parsed = EnrolToken.parse(token)
    assert parsed.node_id == "loa-1" and parsed.ca_pin is not None
    # the agent knows nothing but the URL and the token (on stdin): no CA file given
    result = agent_enrol(tmp_path, served.url, "--token", "-", stdin=token + "\n")
    assert result.returncode == 0, result.stderr
    config = tmp_path / "etc" / "agent.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    settings = AgentSettings.load(config)
    assert settings.node_id == "loa-1"
    assert settings.trusted_keys == [served.ctl.signer.public_key_b64]
    assert settings.ca_file is not None and settings.ca_file.read_text() == pki[0].read_text()
    # the agent's media downloads use the same CA (MQTT/TLS too: tests/integration/tls/),
    # with its own account: a notice to its zone is a file it may fetch
    stored = served.ctl.media_store.put_bytes(b"ID3 not really audio", "mp3")
    ref = MediaRef(sha256=stored.sha256, ext="mp3", size=stored.size, duration_s=1)
    now = datetime.now(UTC)
    with served.ctl.sessions.begin() as session:
        media = Media(sha256=ref.sha256, ext="mp3", size=ref.size, duration_s=1.0,
                      source="upload", created_at=now)  # fmt: skip
        notice = Announcement(media=media, duration_s=1.0, start=now, created_at=now)
        notice.targets = [AnnouncementTarget(zone_id="xa")]
        session.add(notice)
    runtime = AgentRuntime(settings.model_copy(update={"data_dir": tmp_path / "agent",
                                                       "player": "null"}))  # fmt: skip
    try:
        assert runtime.cache.fetch(ref).read_bytes() == b"ID3 not really audio"
    finally:
        close_runtime(runtime)
    system_store_only = MediaCache(tmp_path / "plain-cache", served.url, 1 << 20)
    with pytest.raises(MediaError, match="CERTIFICATE_VERIFY_FAILED"):
        system_store_only.fetch(ref)


def close_runtime(runtime: AgentRuntime) -> None:
    """An agent built but never started holds its SQLite files open: close them."""
    runtime.sync.close()
    runtime.outbox.close()
    runtime.played.close()


def test_another_server_is_refused_before_anything_is_stored(
    tmp_path: Path, served: ServedController, pki: Pki, clock: FakeClock
) -> None:
    """An impostor with another CA, or with our CA but another signing key, gets nothing."""
    token = new_node(served, pki, "loa-1")
    other_pki = make_ca(tmp_path / "other-pki", ["localhost", "127.0.0.1"])
    impostor = start(tmp_path / "impostor", other_pki, clock, own_db=True)
    try:
        result = agent_enrol(tmp_path, impostor.url, "--token", "-", stdin=token)
        assert result.returncode == 2
        assert "CA certificate does not match the pin" in result.stderr
        assert not (tmp_path / "etc").exists()
    finally:
        impostor.__exit__()
    # same CA (say a stolen server certificate) but its own signing key: the key pin fails
    twin = start(tmp_path / "twin", pki, clock, own_db=True)
    try:
        twin_token = EnrolToken.parse(new_node(twin, pki, "loa-1"))
        forged = EnrolToken(twin_token.node_id, twin_token.secret, EnrolToken.parse(token).key_pin,
                            twin_token.ca_pin)  # fmt: skip
        with pytest.raises(EnrolError, match="signing key does not match the pin"):
            request_enrolment(twin.url, str(forged))
        assert not (tmp_path / "etc").exists()
    finally:
        twin.__exit__()
    # the real controller still takes the real token
    assert agent_enrol(tmp_path, served.url, "--token", "-", stdin=token).returncode == 0


def test_plain_http_is_refused_unless_insecure(tmp_path: Path, clock: FakeClock, pki: Pki) -> None:
    server = start(tmp_path / "plain", None, clock)
    try:
        token = new_node(server, None, "loa-1")
        assert EnrolToken.parse(token).ca_pin is None  # no private CA: key pin only
        token_file = tmp_path / "token"
        token_file.write_text(token)
        refused = agent_enrol(tmp_path, server.url, "--token-file", str(token_file))
        assert refused.returncode == 2 and "refusing plain http://" in refused.stderr
        assert not (tmp_path / "etc").exists()
        # refused by the agent before sending: the token is still unused
        allowed = agent_enrol(tmp_path, server.url, "--token-file", str(token_file), "--insecure")
        assert allowed.returncode == 0, allowed.stderr
        assert "WARNING" in allowed.stderr
    finally:
        server.__exit__()


def test_token_on_the_command_line_is_refused(
    tmp_path: Path, served: ServedController, pki: Pki
) -> None:
    token = new_node(served, pki, "loa-1")
    result = agent_enrol(tmp_path, served.url, "--token", token)
    assert result.returncode == 2 and "refusing a token on the command line" in result.stderr
    missing = agent_enrol(tmp_path, served.url)
    assert missing.returncode == 2 and "--token-file" in missing.stderr


# -- expiry, single use, concurrency, throttling -------------------------------------------


def test_expired_token_is_refused(served: ServedController, pki: Pki, clock: FakeClock) -> None:
    token = new_node(served, pki, "loa-1")  # default lifetime 72 h
    short = new_node(served, pki, "loa-2", ttl_h=1)
    clock.advance(3600 + 1)
    r = post_enrol(served, pki, short)
    assert r.status_code == 403 and "expired" in r.json()["detail"]
    clock.advance(71 * 3600 - 10)  # 72 h minus 9 s after issue: still valid
    assert post_enrol(served, pki, token).status_code == 200
    again = new_node_token(served, pki, "loa-1")
    clock.advance(72 * 3600 + 1)
    r = post_enrol(served, pki, again)
    assert r.status_code == 403 and "expired" in r.json()["detail"]


def new_node_token(server: ServedController, pki: Pki, node_id: str) -> str:
    with httpx.Client(base_url=server.url, verify=verify_for(pki), timeout=60) as api:
        r = api.post(f"/api/v1/nodes/{node_id}/enrolment-token")
        r.raise_for_status()
        token: str = r.json()["enrol_token"]
        return token


def test_token_is_single_use(served: ServedController, pki: Pki) -> None:
    token = new_node(served, pki, "loa-1")
    assert post_enrol(served, pki, token).status_code == 200
    r = post_enrol(served, pki, token)
    assert r.status_code == 403 and "already used" in r.json()["detail"]


def test_concurrent_double_use_gives_exactly_one_success(
    served: ServedController, pki: Pki
) -> None:
    token = new_node(served, pki, "loa-1")
    barrier = threading.Barrier(6)
    codes: list[int] = []

    def use() -> None:
        with httpx.Client(verify=verify_for(pki), timeout=30) as http:
            http.get(served.url + "/api/v1/health")  # TLS handshake done before the race
            barrier.wait()
            codes.append(http.post(served.url + "/api/v1/enrol", json={"token": token}).status_code)

    threads = [threading.Thread(target=use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [200, 403, 403, 403, 403, 403]


def test_enrolment_failures_are_throttled_per_client_address(
    served: ServedController, pki: Pki, clock: FakeClock
) -> None:
    token = new_node(served, pki, "loa-1")
    guess = EnrolToken.parse(token)
    wrong = str(EnrolToken(guess.node_id, "A" * 43, guess.key_pin, guess.ca_pin))
    for _ in range(5):  # enrol_max_failures
        assert post_enrol(served, pki, wrong).status_code == 403
    blocked = post_enrol(served, pki, token)  # even the right token waits now
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    # another client address is not affected (loopback has all of 127/8)
    other = post_enrol(served, pki, wrong, transport=httpx.HTTPTransport(
        local_address="127.0.0.2", verify=verify_for(pki)))  # type: ignore[arg-type]  # fmt: skip
    assert other.status_code == 403
    clock.advance(601)
    assert post_enrol(served, pki, token).status_code == 200


# -- playlist floor after an SD-card reflash -----------------------------------------------


def test_reflashed_node_refuses_an_older_signed_playlist(
    tmp_path: Path, pki: Pki, clock: FakeClock, mosquitto: MosquittoProcess
) -> None:
    server = start(tmp_path / "ctl", pki, clock, mqtt_port=mosquitto.port)
    try:
        ctl = server.ctl
        token = new_node(server, pki, "loa-1")
        first = request_enrolment(server.url, token)
        assert first.min_playlist_version == 0
        wait_until(lambda: ctl.publisher.refresh().published or published(server), 20)
        old = published(server)
        assert old is not None
        old_bytes, old_version = old
        # later the schedule changes: a newer playlist is published to the node
        clock.advance(120)
        with httpx.Client(base_url=server.url, verify=verify_for(pki), timeout=60) as api:
            r = api.post("/api/v1/announcements", json={"text": "Họp thôn lúc 14 giờ.",
                                                        "targets": ["loa-1"]})  # fmt: skip
            assert r.status_code in (200, 201), r.text
        wait_until(lambda: (p := published(server)) is not None and p[1] > old_version, 30)
        new = published(server)
        assert new is not None
        # the SD card is reflashed and the node re-enrolled with a fresh token
        again = request_enrolment(server.url, new_node_token(server, pki, "loa-1"))
        assert again.min_playlist_version == new[1]
        config = tmp_path / "etc" / "agent.toml"
        write_enrolment(again, server.url, config)
        settings = AgentSettings.load(
            config, data_dir=tmp_path / "agent", player="null", mqtt_port=mosquitto.port
        )
        runtime = AgentRuntime(settings)
        try:
            assert runtime.sync.handle_playlist(old_bytes) is None  # validly signed, but stale
            assert runtime.sync.rejects.snapshot() == {"stale": 1}
            accepted = runtime.sync.handle_playlist(new[0])
            assert accepted is not None and accepted.version == new[1]
        finally:
            close_runtime(runtime)
    finally:
        server.__exit__()


def published(server: ServedController) -> tuple[bytes, int] | None:
    with server.ctl.sessions() as s:
        row = s.get(PublishedPlaylist, "loa-1")
        return (row.payload.encode(), row.version) if row is not None else None


def test_library_callers_are_secure_by_default() -> None:
    """``request_enrolment`` without options refuses http:// before any connection."""
    with pytest.raises(EnrolError, match="refusing plain http://"):
        request_enrolment("http://127.0.0.1:9", str(EnrolToken("n", "A" * 43, "B" * 43)))
    with pytest.raises(EnrolError, match="bad enrolment token"):
        request_enrolment("https://127.0.0.1:9", "some-old-style-token-1234")


def test_the_postgresql_pass_reaches_the_served_controller(served: ServedController) -> None:
    """Guard for the fixtures above: with LOA_TEST_POSTGRES=1 the controller under test
    really runs on PostgreSQL (so the concurrency test covers its row locking too)."""
    url = served.ctl.settings.resolved_database_url
    wanted = "postgresql" if os.environ.get("LOA_TEST_POSTGRES") == "1" else "sqlite"
    assert url.startswith(wanted)
