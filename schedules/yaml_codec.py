"""Whole programmes to and from YAML, with errors that point at the line and field.

YAML 1.1 reads ``17:00`` as the integer 1020 and ``no`` as ``False``; the loader here only
knows plain decimal numbers and ``true``/``false``, so times and weekday codes stay text.
Priorities may be written by name (``announcement``) or number; they are written by name.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import ValidationError

from protocol.models import Priority
from schedules.entries import Programme
from schedules.errors import ScheduleError

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_MAX_ERRORS_SHOWN = 3


class _Loader(yaml.SafeLoader):
    """Safe loader without sexagesimal numbers, octal, or yes/no/on/off booleans."""

    yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML's own class-level registry)
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT, _BOOL)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_programme(text: str) -> Programme:
    """Parse and validate a programme; raise :class:`ScheduleError` naming line and field."""
    if not text.strip():
        raise ScheduleError("empty programme: expected name, slots and entries")
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise ScheduleError(f"{where}not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ScheduleError(f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ScheduleError("line 1: a programme is a mapping with name, slots and entries")
    _priorities_from_names(data)
    try:
        return Programme.model_validate(data)
    except ValidationError as exc:
        raise ScheduleError(_describe(exc, root)) from None


def dump_programme(programme: Programme) -> str:
    """YAML text that :func:`load_programme` reads back to an equal programme."""
    data = programme.model_dump(mode="json", exclude_defaults=True)
    for entry in data.get("entries", []):
        if "priority" in entry:
            entry["priority"] = Priority(entry["priority"]).name.lower()
        _tidy_rule(entry)
    for slot in data.get("slots", []):
        _tidy_rule(slot)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _tidy_rule(owner: dict[str, Any]) -> None:
    """``freq`` first and ``HH:MM`` times, as a person would write the rule."""
    rule = owner.get("rule")
    if not isinstance(rule, dict):
        return
    time = rule.get("time")
    if isinstance(time, str) and len(time) == 8 and time.endswith(":00"):
        rule["time"] = time[:5]
    owner["rule"] = {"freq": rule.pop("freq"), **rule}


def _priorities_from_names(data: dict[str, Any]) -> None:
    entries = data.get("entries")
    if not isinstance(entries, list):
        return
    for entry in entries:
        value = entry.get("priority") if isinstance(entry, dict) else None
        if isinstance(value, str) and value.upper() in Priority.__members__:
            entry["priority"] = int(Priority[value.upper()])


def _describe(exc: ValidationError, root: yaml.Node | None) -> str:
    """The first few errors as ``line N: path.to.field: message``."""
    lines = []
    for error in exc.errors()[:_MAX_ERRORS_SHOWN]:
        line, path = _locate(root, error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"line {line}: {path or 'programme'}: {message}")
    more = exc.error_count() - _MAX_ERRORS_SHOWN
    if more > 0:
        lines.append(f"(and {more} more)")
    return "; ".join(lines)


def _locate(root: yaml.Node | None, loc: tuple[int | str, ...]) -> tuple[int, str]:
    """Line (1-based) of the deepest YAML node on ``loc``, and the path in YAML terms.

    pydantic adds the union tag (``rule.daily.time``) that the YAML does not have: parts
    that match no node are left out of the path, except a missing last field.
    """
    node, path = root, []
    for index, part in enumerate(loc):
        child = _child(node, part)
        if child is not None:
            node = child
            path.append(f"[{part}]" if isinstance(part, int) else str(part))
        elif index == len(loc) - 1 and not _is_union_tag(node, part):
            path.append(str(part))
    line = node.start_mark.line + 1 if node is not None else 1
    return line, ".".join(path).replace(".[", "[")


def _is_union_tag(node: yaml.Node | None, part: int | str) -> bool:
    """True when ``part`` is the rule kind pydantic put in the path (the ``freq`` value)."""
    freq = _child(node, "freq")
    return isinstance(freq, yaml.ScalarNode) and freq.value == part


def _child(node: yaml.Node | None, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return value  # type: ignore[no-any-return]
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]  # type: ignore[no-any-return]
    return None
