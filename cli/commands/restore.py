"""``loa restore``: a ``loa backup`` archive onto a fresh data dir; refuses a damaged one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "restore", help="restore a backup archive onto a fresh data dir (checks it first)"
    )
    parser.add_argument("archive", type=Path)
    parser.add_argument("--config", type=Path, help="controller TOML settings file")
    parser.add_argument(
        "--verify-only", action="store_true", help="check the archive's checksums; write nothing"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from controller.config import ControllerSettings
    from controller.ops.backup import BackupError
    from controller.ops.restore import restore_backup, verify_archive

    if not args.archive.is_file():
        raise CliError(f"no archive at {args.archive}")
    try:
        if args.verify_only:
            manifest = verify_archive(args.archive)
            print(json.dumps({"ok": True, "files": len(manifest["files"])}))
            return 0
        settings = ControllerSettings.load(args.config)
        result = restore_backup(settings, args.archive)
    except (ValidationError, FileNotFoundError) as exc:
        raise CliError(f"invalid controller settings: {exc}") from None
    except (BackupError, SQLAlchemyError, OSError) as exc:
        raise CliError(f"restore refused: {str(exc).splitlines()[0]}") from None
    print(
        json.dumps(
            {
                "restored_files": result.files,
                "revision": result.revision,
                "playlists_to_republish": result.republish_nodes,
                "data_dir": str(settings.data_dir),
            }
        )
    )
    return 0
