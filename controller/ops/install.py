"""``loa setup production``: install or upgrade a controller on one Debian host.

Re-running is the upgrade: a new release (venv) is made and ``/opt/loa/current`` switched to
it, the database is migrated, configuration files are rewritten, services restarted — and
secrets are kept: generated once (0600), printed once, never again.

``sandbox=True`` (``--prefix DIR --no-systemd``) does the same under DIR without users or
systemd and runs Mosquitto, nginx and the controller as plain processes (CI).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from controller.config import ControllerSettings
from controller.ops.install_files import (
    Layout,
    admin_wrapper,
    backup_units,
    broker_reload_units,
    controller_env,
    controller_unit,
    mosquitto_conf,
    nginx_proxy_include,
    nginx_sandbox_conf,
    nginx_server,
    parse_env,
    render_env,
)

SECRET_KEYS = ("LOA_API_TOKEN", "LOA_MQTT_PASSWORD")
KEEP_RELEASES = 3
Say = Callable[[str], None]


class InstallError(Exception):
    """A step that cannot be done; the message says what to fix."""


@dataclass(frozen=True)
class InstallOptions:
    layout: Layout
    source: Path
    database_url: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    python: str | None = None  # reuse this interpreter + source tree instead of a new venv
    restore: Path | None = None  # a `loa backup` archive to restore before the first start


@dataclass(frozen=True)
class InstallResult:
    release: Path
    first_install: bool
    printed_secrets: tuple[str, ...]


def write_file(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def ensure_secrets(opts: InstallOptions, ca_file: Path | None) -> tuple[dict[str, str], list[str]]:
    """The env file's values: settings rewritten, secrets kept; returns the new secrets."""
    layout = opts.layout
    old = parse_env(layout.env_file.read_text()) if layout.env_file.exists() else {}
    values = {**old, **controller_env(layout, opts.database_url, ca_file)}
    if opts.database_url is None and "LOA_DATABASE_URL" in old:
        values["LOA_DATABASE_URL"] = old["LOA_DATABASE_URL"]
    new: list[str] = []
    for key in SECRET_KEYS:
        if not old.get(key):
            values[key] = secrets.token_urlsafe(32)
            new.append(key)
    write_file(layout.env_file, render_env(values), 0o600)
    return values, new


def ensure_tls(opts: InstallOptions) -> tuple[Path, Path, Path | None]:
    """(cert, key, CA agents and the controller trust): the operator's, or a private CA."""
    tls = opts.layout.tls_dir
    cert, key = tls / "server.pem", tls / "server.key"
    if opts.tls_cert is not None or opts.tls_key is not None:
        if opts.tls_cert is None or opts.tls_key is None:
            raise InstallError("--tls-cert and --tls-key go together")
        write_file(cert, opts.tls_cert.read_text(), 0o644)
        write_file(key, opts.tls_key.read_text(), 0o600)
        if opts.tls_ca is not None:
            write_file(tls / "ca.pem", opts.tls_ca.read_text(), 0o644)
            return cert, key, tls / "ca.pem"
        return cert, key, None  # a public CA: the system trust store
    if not cert.exists():
        make_ca = _load_make_ca(opts.source)
        name = opts.layout.server_name
        make_ca(tls, sorted({name, "localhost", "127.0.0.1"}, key=lambda n: n != name))
    return cert, key, tls / "ca.pem"


def _load_make_ca(source: Path) -> Callable[[Path, list[str]], object]:
    path = source / "deploy" / "tls" / "make_ca.py"
    spec = importlib.util.spec_from_file_location("loa_make_ca", path)
    if spec is None or spec.loader is None or not path.exists():
        raise InstallError(f"{path} not found: run from the Loa xã source tree (--source)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    make_ca: Callable[[Path, list[str]], object] = module.make_ca
    return make_ca


def make_release(opts: InstallOptions, now: datetime, say: Say) -> Path:
    """A new release directory with ``bin/loa``; ``current`` is switched to it atomically."""
    layout = opts.layout
    releases = layout.opt / "releases"
    release = releases / now.strftime("%Y%m%dT%H%M%S%fZ")
    (release / "bin").mkdir(parents=True)
    launcher = release / "bin" / "loa"
    if opts.python is not None:
        launcher.write_text(
            f'#!/bin/sh\nexport PYTHONPATH="{opts.source}"\nexec "{opts.python}" -m cli.main "$@"\n'
        )
        launcher.chmod(0o755)
    else:
        say(f"creating the virtual environment {release / 'venv'} (pip install)")
        _run([sys.executable, "-m", "venv", str(release / "venv")])
        pip = str(release / "venv" / "bin" / "pip")
        _run([pip, "install", "-q", f"{opts.source}[controller,postgres]"])
        launcher.symlink_to(release / "venv" / "bin" / "loa")
    link = layout.opt / "current.new"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(release)
    os.replace(link, layout.current)
    for old in sorted(p for p in releases.iterdir() if p != release)[:-KEEP_RELEASES]:
        shutil.rmtree(old, ignore_errors=True)
    return release


def settings_of(env: dict[str, str]) -> ControllerSettings:
    kwargs = {k.removeprefix("LOA_").lower(): v for k, v in env.items() if k.startswith("LOA_")}
    return ControllerSettings(**kwargs)  # type: ignore[arg-type]


def restore_first(archive: Path, env: dict[str, str], say: Say) -> None:
    """A new machine from a backup: the archive goes onto the still empty data dir."""
    from controller.ops.backup import BackupError
    from controller.ops.restore import restore_backup

    try:
        result = restore_backup(settings_of(env), archive)
    except BackupError as exc:
        raise InstallError(f"restore refused: {exc}") from None
    say(f"restored {result.files} files from {archive} (schema {result.revision}); "
        f"{result.republish_nodes} playlists will be republished")  # fmt: skip


def migrate_and_sync_broker(env: dict[str, str]) -> None:
    """Apply migrations (as an upgrade must) and write Mosquitto's accounts from the DB."""
    from controller.services.container import Controller

    ctl = Controller.build(settings_of(env))
    try:
        ctl.broker_reload = lambda: None  # the broker is (re)started or reloaded just after
        ctl.sync_broker_access()
    finally:
        ctl.engine.dispose()


def _run(args: list[str], **kwargs: object) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise InstallError(f"{' '.join(args[:3])} failed: {(done.stderr or done.stdout)[-800:]}")


def install(opts: InstallOptions, say: Say = print, now: datetime | None = None) -> InstallResult:
    layout = opts.layout
    now = now or datetime.now(UTC)
    first = not layout.env_file.exists()
    for d in (layout.etc, layout.data_dir, layout.mosquitto_dir, layout.log_dir, layout.run_dir):
        d.mkdir(parents=True, exist_ok=True)
    layout.backup_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(layout.etc, 0o750)  # noqa: S103 - root and the service group only
    if not layout.sandbox:
        _ensure_user(layout.user, layout.data_dir)
    cert, key, ca = ensure_tls(opts)
    env, new_secrets = ensure_secrets(opts, ca)
    release = make_release(opts, now, say)
    if opts.restore is not None:
        restore_first(opts.restore, env, say)
    migrate_and_sync_broker(env)
    write_file(layout.mosquitto_conf, mosquitto_conf(layout, cert, key))
    write_file(layout.etc / "nginx-proxy.inc", nginx_proxy_include(layout))
    server = nginx_server(layout, cert, key)
    nginx_text = nginx_sandbox_conf(layout, server) if layout.sandbox else server
    write_file(layout.nginx_conf, nginx_text)
    write_file(layout.unit_dir / "loa-controller.service", controller_unit(layout))
    for name, text in {**broker_reload_units(layout), **backup_units(layout)}.items():
        write_file(layout.unit_dir / name, text)
    write_file(layout.admin_command, admin_wrapper(layout), 0o750)
    if layout.sandbox:
        SandboxServices(layout).start_or_restart(env, say)
    else:
        _systemd_up(layout)
    printed = tuple(new_secrets) if first else ()
    if first and "LOA_API_TOKEN" in new_secrets:
        # printed this once; afterwards it lives only in the 0600 env file
        say(f"Secrets, shown only this once (also in the 0600 file {layout.env_file}):")
        say(f"  API token (Authorization: Bearer ...): {env['LOA_API_TOKEN']}")
        log_hint = (
            f"{layout.log_dir / 'controller.log'}"
            if layout.sandbox
            else "journalctl -u loa-controller"
        )
        say(f"  first panel admin password: printed once by the controller in {log_hint}")
    say(f"Loa xã {'installed' if first else 'upgraded'}: release {release.name}, "
        f"https://{layout.server_name}:{layout.https_port}/panel/")  # fmt: skip
    return InstallResult(release, first, printed)


def _ensure_user(user: str, home: Path) -> None:
    import pwd

    try:
        pwd.getpwnam(user)
    except KeyError:
        _run(["useradd", "--system", "--home-dir", str(home), "--shell", "/usr/sbin/nologin",
              "--user-group", user])  # fmt: skip


def _systemd_up(layout: Layout) -> None:
    """Ownership for the service user, then (re)start everything under systemd."""
    # the service reads the CA in /etc/loa/tls (systemd reads the env file as root)
    _run(["chown", f"root:{layout.user}", str(layout.etc)])
    _run(["chown", "-R", f"{layout.user}:{layout.user}", str(layout.data_dir)])
    _run(["chown", f"{layout.user}:{layout.user}", str(layout.backup_dir)])
    _run(["chown", "-R", f"{layout.user}:mosquitto", str(layout.mosquitto_dir)])
    os.chmod(layout.mosquitto_dir, 0o770)  # noqa: S103 - loa writes, mosquitto reads
    for f in layout.mosquitto_dir.iterdir():
        os.chmod(f, 0o640)
    _run(["chgrp", "mosquitto", str(layout.tls_dir / "server.key")])
    os.chmod(layout.tls_dir / "server.key", 0o640)
    site = layout.at("/etc/nginx/sites-enabled/loa.conf")
    if not site.exists():
        site.symlink_to(layout.nginx_conf)
    _run(["systemctl", "daemon-reload"])
    _run(["systemctl", "enable", "--now", "mosquitto", "nginx", "loa-broker-reload.path",
          "loa-backup.timer"])  # fmt: skip
    _run(["systemctl", "restart", "mosquitto"])
    _run(["nginx", "-t"])
    _run(["systemctl", "reload", "nginx"])
    _run(["systemctl", "enable", "loa-controller"])
    _run(["systemctl", "restart", "loa-controller"])


class SandboxServices:
    """Mosquitto, nginx and the controller as plain processes with pid files in the prefix."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.run = layout.run_dir

    def _pid(self, name: str) -> int | None:
        path = self.run / f"{name}.pid"
        try:
            pid = int(path.read_text().strip())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid

    def start_or_restart(self, env: dict[str, str], say: Say) -> None:
        layout = self.layout
        (self.run / "nginx").mkdir(parents=True, exist_ok=True)
        broker = self._pid("mosquitto")
        if broker is not None:
            os.kill(broker, signal.SIGHUP)  # accounts/ACLs re-read, sessions kept
        else:
            _run(["mosquitto", "-c", str(layout.mosquitto_conf), "-d"])
            _wait(lambda: self._pid("mosquitto") is not None, "mosquitto did not start")
        nginx = ["nginx", "-c", str(layout.nginx_conf), "-p", str(self.run / "nginx")]
        _run([*nginx, "-t"])
        _run([*nginx, "-s", "reload"] if self._pid("nginx") is not None else nginx)
        self._restart_controller(env)
        say(f"sandbox services running (pid files in {self.run})")

    def _restart_controller(self, env: dict[str, str]) -> None:
        old = self._pid("controller")
        if old is not None:
            os.kill(old, signal.SIGTERM)
            _wait(lambda: self._pid("controller") is None, "the old controller did not stop", 30)
        log = (self.layout.log_dir / "controller.log").open("ab")
        proc = subprocess.Popen(
            [str(self.layout.current / "bin" / "loa"), "controller"],
            env={**{k: v for k, v in os.environ.items() if not k.startswith("LOA_")}, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        write_file(self.run / "controller.pid", f"{proc.pid}\n")
        url = f"http://127.0.0.1:{self.layout.http_port}/api/v1/health"

        def healthy() -> bool:
            if proc.poll() is not None:
                raise InstallError(f"the controller exited; see {log.name}")
            try:
                return bool(httpx.get(url, timeout=1).json().get("mqtt_connected"))
            except (httpx.HTTPError, ValueError):
                return False

        _wait(healthy, "the controller did not become healthy", 60)

    def stop(self) -> None:
        for name in ("controller", "nginx", "mosquitto"):
            pid = self._pid(name)
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
                with contextlib.suppress(InstallError):
                    _wait(lambda n=name: self._pid(n) is None, f"{name} did not stop", 20)  # type: ignore[misc]


def _wait(predicate: Callable[[], bool], message: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise InstallError(message)
        time.sleep(0.1)
