"""The text of every file ``loa setup production`` writes: controller env, Mosquitto, nginx,
systemd. Pure functions of the layout, so they are tested without installing anything."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    """Where everything goes; ``prefix`` is ``/`` on a server, a temp dir in the sandbox."""

    prefix: Path
    server_name: str
    https_port: int = 443
    mqtt_port: int = 8883
    http_port: int = 8080
    metrics_port: int = 9108
    upload_max_mb: int = 100
    user: str = "loa"
    sandbox: bool = False

    def at(self, path: str) -> Path:
        return self.prefix / path.lstrip("/")

    @property
    def etc(self) -> Path:
        return self.at("/etc/loa")

    @property
    def env_file(self) -> Path:
        return self.etc / "controller.env"

    @property
    def tls_dir(self) -> Path:
        return self.etc / "tls"

    @property
    def mosquitto_dir(self) -> Path:
        return self.at("/etc/mosquitto/loa")

    @property
    def mosquitto_conf(self) -> Path:
        # Debian's mosquitto.conf includes conf.d; the sandbox runs this file directly
        if self.sandbox:
            return self.mosquitto_dir / "mosquitto.conf"
        return self.at("/etc/mosquitto/conf.d/loa.conf")

    @property
    def nginx_conf(self) -> Path:
        if self.sandbox:
            return self.etc / "nginx.conf"
        return self.at("/etc/nginx/sites-available/loa.conf")

    @property
    def opt(self) -> Path:
        return self.at("/opt/loa")

    @property
    def current(self) -> Path:
        return self.opt / "current"

    @property
    def data_dir(self) -> Path:
        return self.at("/var/lib/loa")

    @property
    def run_dir(self) -> Path:
        return self.at("/run/loa") if self.sandbox else self.at("/run/mosquitto")

    @property
    def log_dir(self) -> Path:
        return self.at("/var/log/loa")

    @property
    def broker_pid_file(self) -> Path:
        return self.run_dir / "mosquitto.pid"

    @property
    def unit_dir(self) -> Path:
        return self.at("/etc/systemd/system")

    @property
    def admin_command(self) -> Path:
        return self.at("/usr/local/sbin/loa-admin")

    @property
    def backup_dir(self) -> Path:
        return self.at("/var/backups/loa")


def controller_env(
    layout: Layout, database_url: str | None, ca_file: Path | None
) -> dict[str, str]:
    """The non-secret settings, rewritten on every run (secrets are added, never replaced)."""
    env = {
        "LOA_DATA_DIR": str(layout.data_dir),
        "LOA_HTTP_HOST": "127.0.0.1",
        "LOA_HTTP_PORT": str(layout.http_port),
        "LOA_PUBLIC_URL": f"https://{layout.server_name}:{layout.https_port}",
        "LOA_MQTT_HOST": layout.server_name,
        "LOA_MQTT_PORT": str(layout.mqtt_port),
        "LOA_MQTT_USERNAME": "loa-controller",
        "LOA_BROKER_PUBLIC_HOST": layout.server_name,
        "LOA_BROKER_PUBLIC_PORT": str(layout.mqtt_port),
        "LOA_BROKER_PASSWORD_FILE": str(layout.mosquitto_dir / "passwd"),
        "LOA_BROKER_ACL_FILE": str(layout.mosquitto_dir / "acl"),
        "LOA_PANEL_SECURE_COOKIES": "true",
        "LOA_METRICS_PORT": str(layout.metrics_port),
        "LOA_LOG_FORMAT": "json",
        "LOA_UPLOAD_MAX_MB": str(layout.upload_max_mb),
    }
    if layout.sandbox:
        env["LOA_BROKER_PID_FILE"] = str(layout.broker_pid_file)  # else a systemd path unit
    if ca_file is not None:
        env["LOA_MQTT_TLS_CA"] = str(ca_file)
    if database_url:
        env["LOA_DATABASE_URL"] = database_url
    return env


def render_env(values: dict[str, str]) -> str:
    lines = ["# Written by `loa setup production`; secrets are kept across runs. Mode 0600."]
    lines += [f"{k}={shlex.quote(v)}" for k, v in sorted(values.items())]
    return "\n".join(lines) + "\n"


def parse_env(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        parts = shlex.split(value) if value else [""]
        out[key.strip()] = parts[0] if parts else ""
    return out


def mosquitto_conf(layout: Layout, cert: Path, key: Path) -> str:
    d = layout.mosquitto_dir
    lines = [
        "# Written by `loa setup production`: TLS only, one account per node, ACLs from the",
        "# controller's database (it rewrites passwd/acl and sends SIGHUP).",
        "per_listener_settings false",
        f"listener {layout.mqtt_port}",
        f"certfile {cert}",
        f"keyfile {key}",
        "tls_version tlsv1.2",
        "allow_anonymous false",
        f"password_file {d / 'passwd'}",
        f"acl_file {d / 'acl'}",
        "max_queued_messages 100000",
        "max_inflight_messages 100",
        "set_tcp_nodelay true",
    ]
    if layout.sandbox:
        lines += [
            "persistence true",
            f"persistence_location {d}/",
            f"pid_file {layout.broker_pid_file}",
            f"log_dest file {layout.log_dir / 'mosquitto.log'}",
        ]
        if layout.user:
            lines.append(f"user {layout.user}")
    return "\n".join(lines) + "\n"


def nginx_server(layout: Layout, cert: Path, key: Path) -> str:
    """One server block: TLS, per-location body limits, the controller."""
    up = layout.upload_max_mb
    return f"""server {{
    listen {layout.https_port} ssl;
    server_name {layout.server_name};
    ssl_certificate     {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    client_max_body_size 1m;                # JSON and forms; uploads below

    # media (sha256.ext) go to the controller like everything else: it checks who asks
    # (a node's own credentials, a user's commune scope) and serves Range requests
    location = /api/v1/uploads/audio {{
        client_max_body_size {up}m;          # = LOA_UPLOAD_MAX_MB
        proxy_request_buffering off;
        include {layout.etc / "nginx-proxy.inc"};
    }}
    location = /panel/announcements/upload {{
        client_max_body_size {up}m;
        proxy_request_buffering off;
        include {layout.etc / "nginx-proxy.inc"};
    }}
    location = /metrics {{ return 404; }}    # Prometheus scrapes the loopback port
    location / {{
        include {layout.etc / "nginx-proxy.inc"};
    }}
}}
"""


def nginx_proxy_include(layout: Layout) -> str:
    return f"""proxy_pass http://127.0.0.1:{layout.http_port};
proxy_set_header Host $host;
proxy_set_header X-Forwarded-For $remote_addr;
proxy_set_header X-Forwarded-Proto https;
proxy_set_header X-Request-ID $request_id;
proxy_read_timeout 120s;                    # TTS renders
"""


def nginx_sandbox_conf(layout: Layout, server: str) -> str:
    """A whole nginx.conf for ``nginx -p`` in the sandbox (pid, logs and temp in the prefix)."""
    tmp = layout.run_dir / "nginx"
    user = f"user {layout.user};\n" if layout.user else ""
    return f"""{user}worker_processes 1;
pid {layout.run_dir / "nginx.pid"};
error_log {layout.log_dir / "nginx-error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log {layout.log_dir / "nginx-access.log"};
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{server}}}
"""


def controller_unit(layout: Layout) -> str:
    """The systemd unit, pointing at this layout's release and env file."""
    rw = " ".join(str(p) for p in (layout.data_dir, layout.mosquitto_dir))
    return f"""# Written by `loa setup production`. Logs: journalctl -u loa-controller (rotated).
[Unit]
Description=Loa xa controller (API, panel, MQTT bridge, scheduler)
After=network-online.target postgresql.service mosquitto.service
Wants=network-online.target

[Service]
Type=simple
User={layout.user}
Group={layout.user}
EnvironmentFile={layout.env_file}
ExecStart={layout.current / "bin" / "loa"} controller
Restart=always
RestartSec=3
TimeoutStopSec=30
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true
PrivateDevices=true
ReadWritePaths={rw}
UMask=0077
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
"""


def broker_reload_units(layout: Layout) -> dict[str, str]:
    """The controller (user loa) may not signal Mosquitto: systemd reloads it whenever the
    controller rewrites the password or ACL file."""
    d = layout.mosquitto_dir
    path_unit = f"""# Written by `loa setup production`: reload Mosquitto when node accounts change.
[Unit]
Description=Watch the Loa xa broker accounts and ACLs

[Path]
PathChanged={d / "passwd"}
PathChanged={d / "acl"}

[Install]
WantedBy=multi-user.target
"""
    service_unit = """[Unit]
Description=Reload Mosquitto after the Loa xa controller rewrote its accounts

[Service]
Type=oneshot
ExecStart=/bin/systemctl reload mosquitto.service
"""
    return {"loa-broker-reload.path": path_unit, "loa-broker-reload.service": service_unit}


def admin_wrapper(layout: Layout) -> str:
    """``loa-admin ARGS``: the installed ``loa`` with the service's settings, as its user —
    what IT staff type for backups, nodes and users."""
    run_as = "" if layout.sandbox else f"runuser -u {layout.user} -- "
    return f"""#!/bin/sh
# Written by `loa setup production`: run `loa` with the controller's settings and user.
set -a
. {layout.env_file}
set +a
exec {run_as}{layout.current / "bin" / "loa"} "$@"
"""


def backup_units(layout: Layout, keep: int = 14) -> dict[str, str]:
    """A nightly ``loa backup`` into the backup dir, keeping the newest ``keep``."""
    service = f"""# Written by `loa setup production`; copy {layout.backup_dir} off this host.
[Unit]
Description=Loa xa controller backup (database, media, keys)
After=loa-controller.service

[Service]
Type=oneshot
ExecStart={layout.admin_command} backup -o {layout.backup_dir} --keep {keep}
Nice=10
IOSchedulingClass=idle
"""
    timer = """[Unit]
Description=Nightly Loa xa controller backup

[Timer]
OnCalendar=*-*-* 02:30:00
RandomizedDelaySec=15min
Persistent=true

[Install]
WantedBy=timers.target
"""
    return {"loa-backup.service": service, "loa-backup.timer": timer}
