"""``loa controller``: run the central service (API, panel, MQTT bridge, jobs)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("controller", help="run the controller service")
    parser.add_argument("--config", type=Path, help="TOML settings file (else LOA_CONFIG / env)")
    parser.add_argument("--host", help="HTTP listen address (overrides LOA_HTTP_HOST)")
    parser.add_argument("--port", type=int, help="HTTP port (overrides LOA_HTTP_PORT)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from controller.app import create_app
    from controller.config import ControllerSettings
    from controller.db.migrate import SchemaTooNew, check_schema_known
    from controller.ops import logs
    from protocol.settings_source import describe_settings_error

    overrides = {k: v for k, v in (("http_host", args.host), ("http_port", args.port)) if v}
    try:
        settings = ControllerSettings.load(args.config, **overrides)
    except ValidationError as exc:
        raise CliError(f"invalid controller settings:\n{describe_settings_error(exc)}") from None
    except FileNotFoundError as exc:
        raise CliError(f"invalid controller settings: {exc}") from None
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        check_schema_known(settings.resolved_database_url)
    except SchemaTooNew as exc:
        raise CliError(f"refusing to start: {exc}") from None
    # one stderr handler for us and uvicorn (text or JSON lines, with request ids); journald
    # keeps and rotates it
    logs.configure(settings.log_format, logging.getLogger().level)
    app = create_app(settings)
    # Client addresses come from LOA_TRUSTED_PROXIES only (controller/auth/client_address.py).
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="info",
        proxy_headers=False,
        log_config=None,
        access_log=False,  # controller.ops.middleware writes it, with the request id
    )
    return 0
