"""Build the agent wheel: only what a Raspberry Pi runs, reproducibly.

The wheel holds the ``agent`` and ``protocol`` packages plus the first-party modules they
import (found by reading their imports, function-level ones included), so a module moved
between packages is followed automatically. Controller, audio, schedule and benchmark code
is refused: the build fails instead of shipping it. Fixed timestamps and sorted entries make
the same sources give the same bytes (so the same SHA-256 in the manifest).
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import zipfile
from pathlib import Path

from protocol.agent_dist import VERSION_RE

DIST_NAME = "loaxa_agent"
ROOT_PACKAGES = ("agent", "protocol")
FIRST_PARTY = frozenset({"agent", "protocol", "cli", "loadsim", "controller", "audio", "schedules"})
FORBIDDEN = ("controller", "audio", "schedules", "cli.bench", "cli.benchmarks", "cli.main")
# What the agent imports from the package index (the lock pins these and their closure)
REQUIRES = (
    "pydantic>=2.6",
    "pydantic-settings>=2.2",
    "cryptography>=42",
    "paho-mqtt>=2.1,<3",
    "httpx>=0.27",
    "cbor2>=5.6",  # the compact heartbeat encoding (protocol/compact.py)
)
VERSION_FILE = "agent/_version.py"
_EPOCH = (1980, 1, 1, 0, 0, 0)


class WheelBuildError(RuntimeError):
    """The agent's code reaches something a node must not carry, or the version is bad."""


def _module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in found if n.split(".")[0] in FIRST_PARTY}


def agent_files(root: Path) -> list[Path]:
    """Every source file the agent needs, relative to ``root``; refuses forbidden imports."""
    todo = [p for pkg in ROOT_PACKAGES for p in sorted((root / pkg).rglob("*.py"))]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        rel = path.relative_to(root)
        for parent in rel.parents[:-1]:  # the packages above a module must come too
            init = root / parent / "__init__.py"
            if init.is_file() and init not in seen:
                todo.append(init)
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                raise WheelBuildError(f"{rel} imports {name}: the agent wheel must not carry it")
            target = _module_file(root, name)
            if target is not None and target not in seen:
                todo.append(target)
    return sorted(p.relative_to(root) for p in seen)


def wheel_name(version: str) -> str:
    return f"{DIST_NAME}-{version}-py3-none-any.whl"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def _metadata(version: str) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {DIST_NAME.replace('_', '-')}",
        f"Version: {version}",
        "Summary: Loa xa village agent (Raspberry Pi), built by `loa agent-dist build`",
        "Requires-Python: >=3.11",
        *(f"Requires-Dist: {r}" for r in REQUIRES),
    ]
    return "\n".join(lines) + "\n"


def build_wheel(root: Path, out_dir: Path, version: str) -> Path:
    """Write ``loaxa_agent-<version>-py3-none-any.whl`` into ``out_dir``; return its path."""
    if not VERSION_RE.match(version):
        raise WheelBuildError(f"bad agent version {version!r} (e.g. 1.2.3)")
    entries: dict[str, bytes] = {}
    for rel in agent_files(root):
        entries[rel.as_posix()] = (root / rel).read_bytes()
    entries[VERSION_FILE] = (
        f'"""Written by loa agent-dist build."""\n\nVERSION = "{version}"\n'.encode()
    )
    info = f"{DIST_NAME}-{version}.dist-info"
    entries[f"{info}/METADATA"] = _metadata(version).encode()
    entries[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: loa-agent-dist\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    entries[f"{info}/entry_points.txt"] = b"[console_scripts]\nloa-agent = agent.__main__:main\n"
    entries[f"{info}/top_level.txt"] = (
        "\n".join(sorted({n.split("/")[0] for n in entries if "/" in n and ".dist-info" not in n}))
        + "\n"
    ).encode()
    record = [f"{n},{_record_hash(d)},{len(d)}" for n, d in sorted(entries.items())]
    entries[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(entries.items(), key=lambda e: (".dist-info" in e[0], e[0])):
            zi = zipfile.ZipInfo(name, _EPOCH)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel_name(version)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(target)
    return target
