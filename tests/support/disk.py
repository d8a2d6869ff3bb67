"""Disk use seen from outside a running operation (tests that bound temp files)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path


class PeakSize:
    """Samples the total size of the files under a folder every few ms, keeps the peak."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.size())
            time.sleep(0.003)

    def size(self) -> int:
        """Bytes in files under the folder now (folders vanishing meanwhile are skipped)."""
        total = 0
        for folder, _dirs, files in os.walk(self.folder):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.stat(os.path.join(folder, name)).st_size
        return total

    def __enter__(self) -> PeakSize:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
