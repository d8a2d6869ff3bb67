"""Running controllers by key, so persisted jobs (which can only name a module-level
function and plain arguments) find the live controller of this process."""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from controller.services.container import Controller

_lock = threading.Lock()
_running: dict[str, Controller] = {}


def key_for(database_url: str) -> str:
    """Stable across restarts (a job stored yesterday still finds today's controller) and
    distinct per database (tests run many controllers in one process)."""
    return hashlib.sha256(database_url.encode()).hexdigest()[:16]


def register(key: str, ctl: Controller) -> None:
    with _lock:
        _running[key] = ctl


def unregister(key: str, ctl: Controller) -> None:
    with _lock:
        if _running.get(key) is ctl:
            del _running[key]


def lookup(key: str) -> Controller | None:
    with _lock:
        return _running.get(key)
