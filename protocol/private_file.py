"""Writing secret files (keys, credentials) readable by their owner only.

``Path.touch(mode=0o600)`` sets the mode only when it creates the file: an existing file
(left by an older version, a backup restore or a careless ``cp``) keeps its 0644. This
helper writes a temporary file that is 0600 from its first byte and renames it over the
target, so the result is 0600 whatever was there.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_MODE = 0o600


def write_private(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data``, mode 0600 (parents made if missing).

    The temporary file has a unique name, so concurrent writers never share one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600 by design
    try:
        os.fchmod(fd, PRIVATE_MODE)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_private(path: Path) -> None:
    """Tighten an existing secret file to 0600 (e.g. a key from an older install).

    Best effort: a read-only mount (container secrets) cannot be changed; that is logged.
    """
    mode = path.stat().st_mode & 0o777
    if mode & 0o077 == 0:
        return
    try:
        path.chmod(mode & 0o700 or PRIVATE_MODE)
    except OSError as exc:
        log.warning("secret file %s is mode %o and cannot be tightened: %s", path, mode, exc)
