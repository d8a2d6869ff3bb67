"""Offline wheels for installer tests: the shared venv's installed distributions, re-packed.

The package index is not used by tests: each dependency the agent lock pins is zipped back
into a wheel from the files its installed RECORD lists (with its own WHEEL tags), so the
controller can serve them from ``agent-dist/wheels`` and ``pip --no-index`` installs them.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from importlib.metadata import Distribution, distribution
from pathlib import Path


def _tag(dist: Distribution) -> str:
    text = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]
    return tags[0] if tags else "py3-none-any"


def repack(name: str, out_dir: Path) -> Path:
    """Zip the installed distribution ``name`` into ``out_dir`` as a wheel."""
    dist = distribution(name)
    files = [f for f in dist.files or [] if not str(f).endswith(".pyc") and ".." not in str(f)]
    base = Path(str(dist.locate_file("")))
    info_dir = next(str(f).split("/")[0] for f in files if ".dist-info/" in str(f))
    dist_name = info_dir.removesuffix(".dist-info").rsplit("-", 1)[0]
    target = out_dir / f"{dist_name}-{dist.version}-{_tag(dist)}.whl"
    record: list[str] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            rel = str(f)
            if rel.endswith(("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")) and (
                ".dist-info/" in rel
            ):
                continue
            data = (base / rel).read_bytes()
            zf.writestr(rel, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{rel},sha256={digest.decode()},{len(data)}")
        record.append(f"{info_dir}/RECORD,,")
        zf.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    return target


def build_wheelhouse(names: list[str], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [repack(n, out_dir) for n in names]
