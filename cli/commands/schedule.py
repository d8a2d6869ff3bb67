"""``loa schedule import FILE`` / ``loa schedule export [-o FILE]``: whole programmes as YAML.

Works directly on the controller database (like ``loa nodes``). An import upserts slots and
entries by id, checks every target zone/node exists, and leaves speech to the controller's
pre-render job (entries arrive as text). Export writes the active slots and schedule
entries (not the one-off announcements) in the format of ``schedules/examples/``.
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
    parser = subparsers.add_parser("schedule", help="import or export a programme (YAML)")
    parser.add_argument("--config", type=Path, help="controller TOML settings file")
    sub = parser.add_subparsers(dest="schedule_command", required=True)
    imp = sub.add_parser("import", help="add or update the slots and entries of a YAML file")
    imp.add_argument("file", type=Path)
    exp = sub.add_parser("export", help="write the stored programme as YAML")
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    exp.add_argument("--name", default="Loa xã programme", help="programme name in the file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from controller.services.schedule_editing import ScheduleInputError
    from schedules import ScheduleError

    ctl = open_controller(args.config)
    try:
        if args.schedule_command == "import":
            _import(ctl, args.file)
        else:
            _export(ctl, args.output, args.name)
    except (ScheduleError, ScheduleInputError) as exc:
        raise CliError(f"{getattr(args, 'file', 'programme')}: {exc.reason}") from None
    finally:
        ctl.engine.dispose()
    return 0


def _import(ctl: Controller, path: Path) -> None:
    from controller.services.schedule_editing import check_references
    from controller.services.schedule_store import save_entry, save_slot
    from schedules.yaml_codec import load_programme

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    programme = load_programme(text)
    now = ctl.clock.now()
    with ctl.sessions.begin() as session:
        for slot in programme.slots:
            save_slot(session, slot, now)
        session.flush()
        for entry in programme.entries:
            check_references(session, entry)  # past entries are kept: an archive is fine
            save_entry(session, entry, now, created_by="import")
    print(
        f"imported {len(programme.slots)} slots and {len(programme.entries)} entries "
        f"from {path}; the controller publishes them at its next horizon run"
    )


def _export(ctl: Controller, output: Path | None, name: str) -> None:
    from sqlalchemy import select

    from controller.db.models import ProgrammeSlotRow
    from controller.services.schedule_store import (
        active_entry_rows,
        entry_model,
        slot_model,
    )
    from schedules import Programme
    from schedules.yaml_codec import dump_programme

    with ctl.sessions() as session:
        slots = [
            slot_model(r)
            for r in session.scalars(select(ProgrammeSlotRow).order_by(ProgrammeSlotRow.id))
        ]
        entries = [entry_model(r) for r in active_entry_rows(session)]
    text = dump_programme(Programme(name=name, slots=tuple(slots), entries=tuple(entries)))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        print(f"exported {len(slots)} slots and {len(entries)} entries to {output}")
