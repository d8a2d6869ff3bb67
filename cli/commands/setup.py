"""``loa setup production``: install or upgrade the controller, Mosquitto and nginx on Debian
(``deploy/production/install.sh`` calls it). Re-running upgrades; secrets are kept."""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path

from cli.errors import CliError

SOURCE = Path(__file__).resolve().parents[2]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("setup", help="install or upgrade a production controller")
    sub = parser.add_subparsers(dest="setup_command", required=True)
    prod = sub.add_parser("production", help="controller + Mosquitto (TLS) + nginx, idempotent")
    prod.add_argument("--server-name", default=socket.getfqdn(), help="public host name")
    prod.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in the data dir)")
    prod.add_argument("--tls-cert", type=Path, help="your certificate (else a private CA)")
    prod.add_argument("--tls-key", type=Path, help="its private key")
    prod.add_argument("--tls-ca", type=Path, help="the CA agents should trust for --tls-cert")
    prod.add_argument("--https-port", type=int, default=443)
    prod.add_argument("--mqtt-port", type=int, default=8883, help="MQTT over TLS")
    prod.add_argument("--http-port", type=int, default=8080, help="controller, on loopback")
    prod.add_argument("--metrics-port", type=int, default=9108, help="/metrics, on loopback")
    prod.add_argument("--upload-max-mb", type=int, default=100)
    prod.add_argument("--user", default="loa", help="service user (systemd mode)")
    prod.add_argument("--source", type=Path, default=SOURCE, help="the Loa xã source tree")
    prod.add_argument("--prefix", type=Path, default=Path("/"), help="install root (sandbox)")
    prod.add_argument(
        "--no-systemd",
        action="store_true",
        help="sandbox: no users, no systemd; run the services as plain processes (CI)",
    )
    prod.add_argument(
        "--python",
        help="sandbox: run this interpreter on --source instead of making a venv per release",
    )
    prod.add_argument(
        "--restore",
        type=Path,
        metavar="ARCHIVE",
        help="a new machine from a `loa backup` archive (restored before the first start; "
        "copy /etc/loa/tls from the old machine first so agents keep trusting the broker)",
    )
    prod.add_argument("--stop", action="store_true", help="sandbox: stop the services")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from controller.ops.install import InstallError, InstallOptions, SandboxServices, install
    from controller.ops.install_files import Layout

    sandbox = bool(args.no_systemd)
    if not sandbox and os.geteuid() != 0:
        raise CliError("run as root (or use --prefix DIR --no-systemd for a sandbox)")
    if sandbox and args.prefix == Path("/"):
        raise CliError("--no-systemd needs --prefix DIR")
    layout = Layout(
        prefix=args.prefix.resolve(),
        server_name=args.server_name,
        https_port=args.https_port,
        mqtt_port=args.mqtt_port,
        http_port=args.http_port,
        metrics_port=args.metrics_port,
        upload_max_mb=args.upload_max_mb,
        user=("root" if os.geteuid() == 0 else "") if sandbox else args.user,
        sandbox=sandbox,
    )
    if args.stop:
        if not sandbox:
            raise CliError("--stop is for the sandbox; use systemctl stop loa-controller")
        SandboxServices(layout).stop()
        return 0
    opts = InstallOptions(
        layout=layout,
        source=args.source.resolve(),
        database_url=args.database_url,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_ca=args.tls_ca,
        python=args.python,
        restore=args.restore,
    )
    try:
        install(opts)
    except (InstallError, OSError) as exc:
        raise CliError(f"setup failed: {exc}") from None
    return 0
