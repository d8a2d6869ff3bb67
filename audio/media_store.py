"""Content-addressed media store: every file lives at ``{root}/{sha256}.{ext}``.

Files are written to a ``.part`` beside the target and renamed after hashing, so a crash
never leaves a half-written file under a valid name. Storing the same bytes twice is free.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

_NAME_RE = re.compile(r"^(?P<sha>[0-9a-f]{64})\.(?P<ext>mp3|opus|ogg|wav|png|jpg)$")


@dataclass(frozen=True)
class StoredMedia:
    sha256: str
    ext: str
    size: int
    path: Path

    @property
    def filename(self) -> str:
        return f"{self.sha256}.{self.ext}"


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str, ext: str) -> Path:
        name = f"{sha256}.{ext}"
        if not _NAME_RE.match(name):
            raise ValueError(f"invalid media name {name!r}")
        return self.root / name

    def resolve(self, filename: str) -> Path | None:
        """Path of an existing media file named ``{sha}.{ext}``, or None (never escapes root)."""
        if not _NAME_RE.match(filename):
            return None
        path = self.root / filename
        return path if path.is_file() else None

    def put_bytes(self, data: bytes, ext: str) -> StoredMedia:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path_for(sha, ext)
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".part")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredMedia(sha, ext, len(data), target)
