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
        help="archive path, or a directory for loa-backup-<UTC time>.tar in it (default: .); "
        "written 0600: it holds keys",
    )
    parser.add_argument(
        "--keep",
        type=int,
        metavar="N",
        help="with a directory: then delete all but the N newest loa-backup-*.tar in it",
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
    output: Path = args.output or Path()
    folder = output if output.is_dir() else None
    if folder is not None:
        output = folder / f"loa-backup-{now:%Y%m%dT%H%M%SZ}.tar"
    elif args.keep is not None:
        raise CliError("--keep needs -o DIRECTORY")
    if args.keep is not None and args.keep < 1:
        raise CliError("--keep must be at least 1")
    try:
        result = create_backup(settings, output, now)
    except (BackupError, SQLAlchemyError, OSError) as exc:
        raise CliError(f"backup failed: {str(exc).splitlines()[0]}") from None
    pruned: list[str] = []
    if folder is not None and args.keep is not None:
        for old in sorted(folder.glob("loa-backup-*.tar"))[: -args.keep]:
            old.unlink()
            pruned.append(old.name)
    print(
        json.dumps(
            {
                "archive": str(result.path),
                "files": result.files,
                "bytes": result.bytes,
                "revision": result.revision,
                "pruned": pruned,
            }
        )
    )
    return 0
