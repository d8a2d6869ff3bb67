"""``loa demo``: the whole system on one machine with embedded defaults.

Starts a private Mosquitto on loopback, the controller on SQLite, and three simulated
village agents (null player: real timing, no sound), seeded with xã Đồng Tiến. Ctrl-C
stops everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import logging
import signal
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cli.errors import CliError

if TYPE_CHECKING:
    from controller.services.container import Controller

log = logging.getLogger("loa.demo")
CONTROLLER_USER = "loa-controller"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("demo", help="run broker + controller + 3 simulated agents")
    parser.add_argument("--data-dir", type=Path, help="keep state here (default: a temp dir)")
    parser.add_argument("--port", type=int, default=8080, help="HTTP port of the controller")
    parser.add_argument(
        "--host", default="127.0.0.1", help="HTTP listen address (loopback unless --force-open)"
    )
    parser.add_argument(
        "--force-open",
        action="store_true",
        help="allow a non-loopback --host although the demo API is open admin to anyone",
    )
    parser.add_argument("--mqtt-port", type=int, default=0, help="broker port (0 = free port)")
    parser.add_argument("--heartbeat", type=float, default=5.0, help="agent heartbeat seconds")
    parser.add_argument("--run-for", type=float, default=0, help="stop after N seconds (0 = never)")
    parser.set_defaults(handler=run)


def check_bind(host: str, force_open: bool) -> None:
    """Refuse to serve the demo's open (no-login admin) API beyond this machine unless told.

    With ``force_open`` it goes ahead but says so loudly on stderr.
    """
    if _is_loopback(host):
        return
    if not force_open:
        raise CliError(
            f"--host {host} would serve the demo's API, which acts as admin without any "
            "login, to the network: anyone reaching it could make every loudspeaker speak. "
            "Use --host 127.0.0.1, or add --force-open if you really mean it."
        )
    banner = "!" * 78
    print(
        f"{banner}\nWARNING: the demo API on {host} is OPEN: anyone who can reach this "
        f"address acts as admin\nwithout a login and can broadcast on every loudspeaker. "
        f"Never do this on a real network.\n{banner}",
        file=sys.stderr,
    )


def _is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def prepare_demo_admin(data_dir: Path, now: datetime) -> tuple[str, str | None]:
    """Create (or reset) the demo admin before the controller starts.

    The controller makes a random first admin, and logs its password, only when no user
    exists; doing this first means the demo prints one password, the one that works.
    """
    from controller.auth.users import ensure_demo_admin
    from controller.config import ControllerSettings
    from controller.db.engine import make_engine, make_session_factory
    from controller.db.migrate import upgrade

    data_dir.mkdir(parents=True, exist_ok=True)
    url = ControllerSettings(data_dir=data_dir).resolved_database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            return ensure_demo_admin(session, now)
    finally:
        engine.dispose()


def run(args: argparse.Namespace) -> int:
    check_bind(args.host, args.force_open)
    import uvicorn
    from pydantic import SecretStr

    from agent.config import AgentSettings
    from agent.runtime import AgentRuntime
    from controller.app import create_app
    from controller.broker.access_files import BrokerAccessWriter
    from controller.broker.passwords import mosquitto_hash, new_secret
    from controller.broker.process import BrokerError, MosquittoProcess
    from controller.config import ControllerSettings
    from controller.services import provisioning
    from controller.services.seed import DEMO_NODES, seed_demo

    with tempfile.TemporaryDirectory(prefix="loa-demo-") as tmp:
        root = args.data_dir or Path(tmp)
        # Secure like production: every account has a password, every node an ACL.
        access = root / "broker-access"
        controller_password = new_secret()
        BrokerAccessWriter(access / "passwd", access / "acl", lambda: None).write(
            CONTROLLER_USER, mosquitto_hash(controller_password), []
        )
        broker = MosquittoProcess(
            root / "mosquitto",
            port=args.mqtt_port or None,
            password_file=access / "passwd",
            acl_file=access / "acl",
        )
        try:
            broker.start()
        except BrokerError as exc:
            raise CliError(str(exc)) from None
        agents: list[AgentRuntime] = []
        server: uvicorn.Server | None = None
        try:
            username, password = prepare_demo_admin(root / "controller", datetime.now(UTC))
            settings = ControllerSettings(
                data_dir=root / "controller",
                http_host=args.host,
                http_port=args.port,
                mqtt_port=broker.port,
                mqtt_username=CONTROLLER_USER,
                mqtt_password=SecretStr(controller_password),
                broker_password_file=access / "passwd",
                broker_acl_file=access / "acl",
                heartbeat_interval_s=args.heartbeat,
                # the demo's API is open to whoever can reach it: loopback by default
                api_anonymous_admin=True,
            )
            app = create_app(settings)
            server = uvicorn.Server(
                uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
            )
            thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
            thread.start()
            ctl = _wait_for_controller(app, server)
            ctl.broker_reload = broker.reload
            with ctl.sessions.begin() as session:
                seed_demo(session, ctl.clock.now())
                now, pins = ctl.clock.now(), ctl.identity().pins
                credentials = {
                    node.id: provisioning.enrol(
                        session,
                        provisioning.new_enrolment_token(session, node.id, now=now, identity=pins),
                        now,
                    )
                    for node in DEMO_NODES
                }
            ctl.sync_broker_access()
            for node in DEMO_NODES:
                creds = credentials[node.id]
                runtime = AgentRuntime(
                    AgentSettings(
                        node_id=node.id,
                        zones=creds.zones,
                        data_dir=root / "agents" / node.id,
                        controller_url=settings.resolved_public_url,
                        mqtt_port=broker.port,
                        mqtt_username=creds.mqtt_username,
                        mqtt_password=SecretStr(creds.mqtt_password),
                        trusted_keys=[ctl.signer.public_key_b64],
                        player="null",
                        heartbeat_interval_s=args.heartbeat,
                    )
                )
                runtime.start()
                agents.append(runtime)
            ctl.publisher.refresh()
            url = settings.resolved_public_url
            login = (
                f"login {username} / {password}, then choose a new password"
                if password
                else f"login {username} with the password you chose"
            )
            print(f"Loa xã demo running. Panel: {url}/panel/  ({login})")
            print(f"API: {url}/api/v1/nodes  (open without a token in the demo)  docs: {url}/docs")
            print(
                f"MQTT broker: 127.0.0.1:{broker.port} (per-node accounts and ACLs)   "
                f"data: {root}   Ctrl-C to stop"
            )
            _wait_for_stop(args.run_for)
        finally:
            for runtime in agents:
                runtime.stop()
            if server is not None:
                server.should_exit = True
                threading.Event().wait(0.5)
            broker.stop()
    return 0


def _wait_for_controller(app: object, server: object) -> Controller:
    from controller.services.container import Controller

    for _ in range(300):
        ctl = getattr(getattr(app, "state", None), "controller", None)
        if isinstance(ctl, Controller) and getattr(server, "started", False):
            return ctl
        threading.Event().wait(0.1)
    raise CliError("the controller did not start within 30 s (is the port in use?)")


def _wait_for_stop(run_for: float) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait(run_for if run_for > 0 else None)
