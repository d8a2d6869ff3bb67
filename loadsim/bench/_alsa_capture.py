"""A file-backed ALSA PCM for tests and benchmarks on machines without a sound card.

An asoundrc (used through ``ALSA_CONFIG_PATH`` in the player's environment) makes the
``default`` PCM a ``plug`` (any format in, S16_LE mono 48 kHz out) over a ``file`` plugin
whose slave is a ``null`` PCM. The file plugin writes every frame the player hands to ALSA
into a FIFO; a reader *process* of its own (this file run as a script, stdlib only) drains it,
stamps each chunk with the wall-clock time it arrived and appends it to a log file that
``AlsaCapture`` reads back. A separate process, so its reads are never delayed by the GIL or
the threads of the process under test (a benchmark that plays through the agent's playout
clock in-process), and its stamps cost the measured process nothing. Where the machine
allows it (root or ``RLIMIT_RTPRIO``), the reader runs at real-time priority, so a stamp is
not late by the reader waiting for a core on a loaded machine (``reader_rt``). So the captured bytes
are exactly the PCM the player produced (duration, level), and the arrival time of the first
non-silent frame is when the player delivered its first audio to ALSA. The ``null`` slave
does not pace: a player writes as fast as the reader drains, so durations are measured in
frames, never in elapsed time. A real card adds its own, constant output delay (its start
threshold) after that instant.

Volume: ALSA ``softvol`` keeps its control as a user element on a card's ``ctl``; with no
card (no ``/dev/snd``, kernel modules not loadable in a container) no ALSA plugin can hold a
mixer control, so ``amixer`` cannot be exercised here (it is on a Pi, see docs/agent.md).
"""

from __future__ import annotations

import array
import os
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

RATE = 48000
BYTES_PER_FRAME = 2  # S16_LE mono
RECORD = struct.Struct("<dI")  # one log record: arrival time.time(), then that many bytes
READER_RT_PRIORITY = 20  # above the agent's timing thread (agent.realtime): a measuring tool

ASOUNDRC = """\
pcm.!default {{
    type plug
    slave {{ pcm "loacap"; format S16_LE; rate {rate}; channels 1 }}
}}
pcm.loacap {{
    type file
    slave.pcm {{ type null }}
    file "{fifo}"
    format "raw"
}}
"""


@dataclass
class Chunk:
    at: float  # time.time() when read from the FIFO
    data: bytes


@dataclass
class AlsaCapture:
    """``with AlsaCapture(dir) as cap:`` then run players with ``env=cap.env()``."""

    work: Path
    chunks: list[Chunk] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.fifo = self.work / "alsa-capture.fifo"
        self.log = self.work / "alsa-capture.log"
        self.config = self.work / "asoundrc"
        self.config.write_text(ASOUNDRC.format(rate=RATE, fifo=self.fifo))
        self._lock = threading.Lock()
        self._pending = b""
        self.reader_rt = False

    def env(self) -> dict[str, str]:
        return {**os.environ, "ALSA_CONFIG_PATH": str(self.config)}

    def __enter__(self) -> AlsaCapture:
        if self.fifo.exists():
            self.fifo.unlink()
        os.mkfifo(self.fifo)
        self.log.write_bytes(b"")
        self._reader = subprocess.Popen(
            [sys.executable, "-I", __file__, str(self.fifo), str(self.log)],
            stdout=subprocess.PIPE,
        )
        assert self._reader.stdout is not None
        ready = self._reader.stdout.readline().split()  # the FIFO is open for reading
        if not ready or ready[0] != b"ready":
            self._reader.kill()
            raise RuntimeError("the ALSA capture reader did not start")
        self.reader_rt = ready[1:] == [b"rt"]
        self._logf = self.log.open("rb")
        return self

    def __exit__(self, *_: object) -> None:
        self._reader.terminate()
        try:
            self._reader.wait(5)
        except subprocess.TimeoutExpired:
            self._reader.kill()
            self._reader.wait()
        if self._reader.stdout is not None:
            self._reader.stdout.close()
        self._logf.close()

    def _refresh(self) -> None:
        """Parse what the reader appended to its log since the last call (lock held)."""
        data = self._pending + self._logf.read()
        pos = 0
        while len(data) - pos >= RECORD.size:
            at, size = RECORD.unpack_from(data, pos)
            if len(data) - pos - RECORD.size < size:
                break
            body = data[pos + RECORD.size : pos + RECORD.size + size]
            self.chunks.append(Chunk(at, body))
            pos += RECORD.size + size
        self._pending = data[pos:]

    def mark(self) -> int:
        """An index into the chunks: audio captured after this call starts at ``since(i)``."""
        with self._lock:
            self._refresh()
            return len(self.chunks)

    def since(self, index: int) -> list[Chunk]:
        with self._lock:
            self._refresh()
            return list(self.chunks[index:])

    def wait_sound(self, index: int, timeout: float = 10.0) -> bool:
        """Wait until audio louder than silence arrived after ``mark()`` gave ``index``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if first_sound_at(self.since(index)) is not None:
                return True
            time.sleep(0.02)
        return False

    def wait_quiet(self, quiet_s: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until nothing arrived for ``quiet_s`` (a player finished writing)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                self._refresh()
                last = self.chunks[-1].at if self.chunks else 0.0
            if time.time() - last >= quiet_s:
                return
            time.sleep(0.05)


def samples(chunks: list[Chunk]) -> array.array[int]:
    raw = b"".join(c.data for c in chunks)
    pcm = array.array("h")
    pcm.frombytes(raw[: len(raw) - len(raw) % 2])
    return pcm


def first_sound_at(chunks: list[Chunk], threshold: int = 200) -> float | None:
    """Arrival time of the first chunk holding a frame louder than ``threshold``."""
    for chunk in chunks:
        pcm = array.array("h")
        pcm.frombytes(chunk.data[: len(chunk.data) - len(chunk.data) % 2])
        if any(abs(v) > threshold for v in pcm):
            return chunk.at
    return None


def loud_frames(pcm: array.array[int], threshold: int = 200) -> int:
    """Frames from the first to the last one louder than ``threshold`` (the sound's length)."""
    loud = [i for i, v in enumerate(pcm) if abs(v) > threshold]
    return loud[-1] - loud[0] + 1 if loud else 0


def rms(pcm: array.array[int], threshold: int = 200) -> float:
    """Root mean square of the non-silent frames."""
    loud = [v for v in pcm if abs(v) > threshold]
    return (sum(v * v for v in loud) / len(loud)) ** 0.5 if loud else 0.0


def write_square_wav(path: Path, seconds: float, amplitude: int = 8000, hz: int = 500) -> None:
    """A square wave: every frame is ±amplitude, so its first frame is already audible."""
    import wave

    frames = int(seconds * RATE)
    half = RATE // (2 * hz)
    pcm = array.array(
        "h", (amplitude if (i // half) % 2 == 0 else -amplitude for i in range(frames))
    )
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm.tobytes())


def _reader(fifo: str, log: str) -> None:
    """The reader process: drain the FIFO, stamp each read on arrival, append it to ``log``.

    It holds a write end of its own, so it never sees EOF between two player sessions; it
    runs until its parent terminates it."""
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    wfd = os.open(fifo, os.O_WRONLY)  # noqa: F841  (kept open: no EOF between players)
    os.set_blocking(rfd, True)
    out = os.open(log, os.O_WRONLY | os.O_APPEND)
    try:  # stamp on arrival even on a loaded machine; it sleeps in read() between chunks
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(READER_RT_PRIORITY))
        rt = " rt"
    except OSError:
        rt = ""
    sys.stdout.write(f"ready{rt}\n")
    sys.stdout.flush()
    while True:
        data = os.read(rfd, 65536)
        at = time.time()
        os.write(out, RECORD.pack(at, len(data)) + data)


if __name__ == "__main__":
    _reader(sys.argv[1], sys.argv[2])
