"""``loa vocabulary export [-o FILE]`` / ``loa vocabulary import FILE [--zone ZONE]``: the
shipped commune vocabulary and the operators' pronunciation dictionary as one YAML file.

Works on the controller database directly (like ``loa schedule``); imported entries apply
at the next render. ``--zone`` stores the file's vocabulary entries that differ from the
shipped ones as pronunciations of that zone (e.g. a province's own abbreviations).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cli.controller_access import open_controller
from cli.errors import CliError

if TYPE_CHECKING:
    from controller.services.container import Controller


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("vocabulary", help="export or import the vocabulary (YAML)")
    parser.add_argument("--config", type=Path, help="controller TOML settings file")
    sub = parser.add_subparsers(dest="vocabulary_command", required=True)
    imp = sub.add_parser("import", help="add or update the pronunciations of a YAML file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--zone", help="store changed vocabulary entries for this zone")
    exp = sub.add_parser("export", help="write the vocabulary and pronunciations as YAML")
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from controller.services.pronunciation import PronunciationError

    if args.vocabulary_command == "import":
        try:
            text = args.file.read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    ctl = open_controller(args.config)
    try:
        if args.vocabulary_command == "import":
            _import(ctl, text, args.file, args.zone)
        else:
            _export(ctl, args.output)
    except PronunciationError as exc:
        raise CliError(f"{getattr(args, 'file', 'vocabulary')}: {exc.reason}") from None
    finally:
        ctl.engine.dispose()
    return 0


def _import(ctl: Controller, text: str, path: Path, zone: str | None) -> None:
    from controller.services.pronunciation import upsert_entries
    from controller.services.vocabulary_file import parse_vocabulary_file

    parsed = parse_vocabulary_file(text)
    changes = parsed.vocabulary_changes(ctl.renderer.normaliser.vocabulary)
    rows = list(parsed.pronunciations)
    if zone is not None:
        rows += [(zone, written, spoken) for written, spoken in changes.items()]
    with ctl.sessions.begin() as session:
        count = upsert_entries(session, rows, "import", ctl.clock.now())
    print(f"imported {count} pronunciations from {path}; they apply at the next render")
    if changes and zone is None:
        print(
            f"{len(changes)} vocabulary entries differ from the shipped vocabulary and were "
            "not stored (give --zone ZONE to store them as that zone's pronunciations): "
            + ", ".join(sorted(changes)),
            file=sys.stderr,
        )


def _export(ctl: Controller, output: Path | None) -> None:
    from controller.services.vocabulary_file import dump_vocabulary

    with ctl.sessions() as session:
        text = dump_vocabulary(session, ctl.renderer.normaliser.vocabulary)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        print(f"exported the vocabulary and pronunciations to {output}")
