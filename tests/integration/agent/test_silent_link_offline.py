"""A node whose link dies silently (no FIN, no RST: the mobile link dropped off the air) shows
offline within the bound the liveness rule promises - the announced heartbeat gap plus the
grace plus one liveness check - long before the broker's Last Will; the broker's Last Will
still follows within 1.5 x the keep-alive the agent derived from its gap and its QoS 1 period;
the agent finds the dead link by itself - before the Last Will - because its QoS 1 sign of
life goes unanswered (the relay's kernel still ACKs TCP, so TCP_USER_TIMEOUT cannot see this
cut; a real dead radio link is found by either), and comes back by itself on a new connection
(its aliased heartbeats, queued while the link was dead, get their topic back: the broker
would refuse them otherwise).

Real processes: Mosquitto, ``loa controller`` (jobs on), ``loa agent``, with small intervals
via settings; the relay in between is tests/support/silent_link.py."""

from __future__ import annotations

import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from support.processes import AgentProcess, ControllerProcess, wait_until
from support.silent_link import SilentLink

from controller.broker.process import MosquittoProcess
from protocol import liveness, topics

pytestmark = pytest.mark.integration

GAP_S = 2.0  # the agent's longest heartbeat gap (announced as next_within_s)
CONFIRM_EVERY = 2  # every 2nd sign of life QoS 1 (the others QoS 0): keep-alive 7 s
CONTROLLER_INTERVAL_S = 0.5  # liveness check every max(1, this / 2) = 1 s
GRACE_S = 1.0
NODE = "silent-1"


def _online(ctl: ControllerProcess) -> bool:
    with ctl.api() as api:
        return bool(next(n for n in api.get("/api/v1/nodes").json() if n["id"] == NODE)["online"])


def test_a_silently_dead_link_is_offline_within_the_bound(
    mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    ctl = ControllerProcess(
        tmp_path / "controller",
        mosquitto.port,
        heartbeat_interval_s=str(CONTROLLER_INTERVAL_S),
        heartbeat_grace_s=str(GRACE_S),
        lease_ttl_s="3",
        lease_renew_s="1",
    )
    link = SilentLink(mosquitto.port)
    wills: list[float] = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    watcher.on_message = lambda _c, _u, m: (
        wills.append(time.monotonic()) if m.payload == b"offline" and not m.retain else None
    )
    agent: AgentProcess | None = None
    try:
        ctl.start()
        with ctl.api() as api:
            api.post("/api/v1/zones", json={"id": "z", "name": "z"}).raise_for_status()
            api.post("/api/v1/nodes", json={"id": NODE, "name": NODE, "zone_id": "z"})
        agent = AgentProcess(
            tmp_path / "agent",
            NODE,
            link.port,
            ctl.url,
            ctl.signing_keys(),
            heartbeat_interval_s="1",
            heartbeat_max_interval_s=str(GAP_S),
            heartbeat_confirm_every=str(CONFIRM_EVERY),
            reconnect_min_s="0.2",
            reconnect_max_s="1",
        )
        agent.start()
        wait_until(lambda: _online(ctl), 60, 0.2)
        watcher.connect("127.0.0.1", mosquitto.port)
        watcher.subscribe(topics.node_status(NODE), qos=1)
        watcher.loop_start()
        time.sleep(3 * GAP_S)  # past the first full snapshot: the idle rhythm

        link.cut()
        cut_at = time.monotonic()
        wait_until(lambda: not _online(ctl), 30, 0.1)
        offline_after = time.monotonic() - cut_at
        bound = liveness.silence_allowed_s(GAP_S, CONTROLLER_INTERVAL_S, GRACE_S) + 1.0
        assert bound == 4.0
        # the bound, plus room for a loaded CI machine; the Last Will cannot come before
        # 1.5 x the keep-alive (10.5 s) after the last byte, so this was the silence rule
        assert offline_after <= bound + 4.0, offline_after
        assert not wills

        lwt = liveness.lwt_after_s(GAP_S, CONFIRM_EVERY, 1.0)
        assert lwt == 10.5
        wait_until(lambda: wills, lwt + 10, 0.1)
        assert lwt - GAP_S <= wills[0] - cut_at <= lwt + 10

        # the agent found the dead link by itself: its QoS 1 sign of life (within two gaps
        # of the cut) went unanswered for the user timeout (2 gaps), and it is reconnecting
        assert link.refused, "the agent never noticed the dead link"
        noticed = link.refused[0] - cut_at
        assert noticed <= CONFIRM_EVERY * GAP_S + 2 * GAP_S + 4.0, noticed
        log = (tmp_path / "agent.log").read_text(errors="replace")
        assert "a QoS 1 message was not acknowledged" in log

        # the link comes back: the agent connects anew
        link.restore()
        wait_until(lambda: _online(ctl), 60, 0.2)
        back = time.monotonic()
        time.sleep(2 * GAP_S)
        assert _online(ctl), "the node flapped after reconnecting"
        assert time.monotonic() - back >= 2 * GAP_S
    finally:
        watcher.loop_stop()
        if agent is not None:
            agent.stop()
        ctl.stop()
        link.close()
