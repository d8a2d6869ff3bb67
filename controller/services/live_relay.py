"""Live from the operator: audio in (a browser's recording, a phone, a sound card) → ffmpeg →
an Icecast mount → agents play the mount as a ``stream`` item.

Icecast is the well-known path village radios already use; ffmpeg encodes to small mono MP3
and pushes it with the ``icecast://`` protocol. The feed reads from a pipe, so any source the
controller receives (e.g. ``MediaRecorder`` chunks posted by the panel) can be written to
:meth:`IcecastFeed.write` as it arrives. Delay measured on loopback is in docs/emergency.md.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from audio.ffmpeg import PIPELINE_DEMUXERS


class LiveRelayError(RuntimeError):
    """ffmpeg is missing, or the feed could not start or was refused by Icecast."""


@dataclass(frozen=True)
class IcecastTarget:
    host: str
    port: int
    mount: str
    source_password: str
    user: str = "source"

    def __post_init__(self) -> None:
        if not self.mount.startswith("/") or any(c in self.mount for c in " ?#"):
            raise LiveRelayError(f"bad Icecast mount {self.mount!r}: use e.g. /live.mp3")

    @property
    def push_url(self) -> str:
        secret = quote(self.source_password, safe="")
        return f"icecast://{self.user}:{secret}@{self.host}:{self.port}{self.mount}"

    @property
    def listen_url(self) -> str:
        """What goes into the agents' ``stream_url``."""
        return f"http://{self.host}:{self.port}{self.mount}"


def feed_command(
    target: IcecastTarget, input_args: Sequence[str] = (), bitrate_kbps: int = 48
) -> list[str]:
    """The ffmpeg command line: read stdin at its own pace, encode mono MP3, push at once.

    ``-re`` is not used: a live source already arrives in real time, and pacing again would
    only add delay. Small packets are flushed immediately for the same reason. The input may
    only be the pipe, in an audio container: a playlist written to the feed reads nothing else.
    """
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise LiveRelayError("ffmpeg is not installed")
    return [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-fflags",
        "nobuffer",
        "-protocol_whitelist",
        "pipe",
        "-format_whitelist",
        ",".join(PIPELINE_DEMUXERS),
        *input_args,
        "-i",
        "pipe:0",
        "-ac",
        "1",
        "-ar",
        "22050",
        "-c:a",
        "libmp3lame",
        "-b:a",
        f"{bitrate_kbps}k",
        "-flush_packets",
        "1",
        "-content_type",
        "audio/mpeg",
        "-ice_name",
        "Loa xa - truc tiep",
        "-f",
        "mp3",
        target.push_url,
    ]


class IcecastFeed:
    """One live session: start, write audio bytes as they come, stop."""

    def __init__(self, target: IcecastTarget, input_args: Sequence[str] = ()) -> None:
        """``input_args`` describe the piped input when ffmpeg cannot probe it (raw PCM)."""
        self.target = target
        self.command = feed_command(target, input_args)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def write(self, chunk: bytes) -> None:
        proc = self.proc
        if proc is None or proc.stdin is None or proc.poll() is not None:
            raise LiveRelayError(f"the live feed is not running: {self._error()}")
        try:
            proc.stdin.write(chunk)
            proc.stdin.flush()
        except BrokenPipeError:
            raise LiveRelayError(f"Icecast refused the feed: {self._error()}") from None

    def stop(self, timeout: float = 10) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _error(self) -> str:
        proc = self.proc
        if proc is None or proc.poll() is None or proc.stderr is None:
            return "no error reported"
        return proc.stderr.read().decode(errors="replace").strip()[-500:] or "ffmpeg exited"
