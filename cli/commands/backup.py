"""``loa backup``: database + media + keys into one checked archive, while the controller runs."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "backup", help="back up the database, media and keys into one archive (while running)"
    )
    parser.add_argument("--config", type=Path, help="controller TOML settings file")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="archive path (default: ./loa-backup-<UTC time>.tar); written 0600: it holds keys",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from controller.config import ControllerSettings
    from controller.ops.backup import BackupError, create_backup

    try:
        settings = ControllerSettings.load(args.config)
    except (ValidationError, FileNotFoundError) as exc:
        raise CliError(f"invalid controller settings: {exc}") from None
    now = datetime.now(UTC)
    output = args.output or Path(f"loa-backup-{now:%Y%m%dT%H%M%SZ}.tar")
    try:
        result = create_backup(settings, output, now)
    except (BackupError, SQLAlchemyError, OSError) as exc:
        raise CliError(f"backup failed: {str(exc).splitlines()[0]}") from None
    print(
        json.dumps(
            {
                "archive": str(result.path),
                "files": result.files,
                "bytes": result.bytes,
                "revision": result.revision,
            }
        )
    )
    return 0
