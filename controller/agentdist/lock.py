"""The agent's hashed requirements lock (``deploy/agent/requirements.lock``).

``loa agent-dist lock`` pins the closure of the agent's requirements to the versions
installed in the development environment (what the tests ran against), for the target
Raspberry Pi OS Bookworm (CPython 3.11, Linux, aarch64 markers), with the SHA-256 of every
file the package index has for each pin (or of the wheels in a given wheelhouse). The
installer runs ``pip install --require-hashes``: a file whose hash is not listed is refused.
Wheels an operator drops into the controller's ``agent-dist/wheels/`` are added to the
served lock when their name and version match a pin (the manifest that names them is signed).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

# Raspberry Pi OS Bookworm 64-bit: the markers a requirement is evaluated against
TARGET_ENV = {
    "python_version": "3.11",
    "python_full_version": "3.11.2",
    "platform_machine": "aarch64",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


_LINE = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)((?:\s+--hash=sha256:[0-9a-f]{64})*)$")


class LockError(RuntimeError):
    """A requirement is not installed here, or the index has no files for a pin."""


@dataclass
class Pin:
    version: str
    hashes: set[str] = field(default_factory=set)


def closure(requires: Iterable[str]) -> dict[str, str]:
    """``{canonical name: installed version}`` of ``requires`` and everything they need."""
    env: dict[str, str | AbstractSet[str]] = {
        k: v for k, v in default_environment().items() if isinstance(v, str)
    }
    env.update(TARGET_ENV)
    todo = [Requirement(r) for r in requires]
    pinned: dict[str, str] = {}
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name in pinned:
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise LockError(f"{req.name} is not installed here: install the agent's deps") from None
        if not req.specifier.contains(dist.version, prereleases=True):
            raise LockError(f"installed {name} {dist.version} does not satisfy {req}")
        pinned[name] = dist.version
        todo.extend(Requirement(r) for r in dist.requires or [])
    return dict(sorted(pinned.items()))


def parse_lock(text: str) -> dict[str, Pin]:
    """Read ``name==version --hash=sha256:...`` lines (backslash continuations allowed)."""
    pins: dict[str, Pin] = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(
            r"^([A-Za-z0-9._-]+)==([^\s;]+)((?:\s+--hash=sha256:[0-9a-f]{64})*)$", line
        )
        if match is None:
            raise LockError(f"not a pinned, hashed requirement: {line[:80]!r}")
        hashes = set(re.findall(r"sha256:([0-9a-f]{64})", match.group(3)))
        if not hashes:
            raise LockError(f"{match.group(1)} has no --hash")
        pins[canonicalize_name(match.group(1))] = Pin(match.group(2), hashes)
    return pins


def render_lock(pins: Mapping[str, Pin], header: str = "") -> str:
    out = [f"# {line}" if line else "#" for line in header.splitlines()]
    for name, pin in sorted(pins.items()):
        hashes = " \\\n".join(f"    --hash=sha256:{h}" for h in sorted(pin.hashes))
        out.append(f"{name}=={pin.version} \\\n{hashes}")
    return "\n".join(out) + "\n"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def wheel_pin(filename: str) -> tuple[str, str] | None:
    """(canonical name, version) of a wheel file name, None if it is not one."""
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except ValueError:
        return None
    return str(name), str(version)


def with_wheels(pins: Mapping[str, Pin], wheels: Mapping[str, str]) -> dict[str, Pin]:
    """The lock plus the hash of every wheel (file name -> sha256) matching a pin exactly."""
    merged = {n: Pin(p.version, set(p.hashes)) for n, p in pins.items()}
    for filename, sha in wheels.items():
        parsed = wheel_pin(filename)
        if parsed and parsed[0] in merged and merged[parsed[0]].version == parsed[1]:
            merged[parsed[0]].hashes.add(sha)
    return merged


def unmatched_wheels(pins: Mapping[str, Pin], filenames: Iterable[str]) -> list[str]:
    """Wheels that match no pin (the installer could not use them): reported, not served."""
    out = []
    for filename in filenames:
        parsed = wheel_pin(filename)
        if parsed is None or pins.get(parsed[0], Pin("")).version != parsed[1]:
            out.append(filename)
    return out
