"""Players that run a media program (mpv, ffplay, aplay) as a child process."""

from __future__ import annotations

import shutil
import subprocess

from agent.backends.player import Playback, Player, PlayRequest, require_local_file


class BackendUnavailable(RuntimeError):
    """The configured program is not installed."""


class ProcessPlayback(Playback):
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc

    def poll(self) -> int | None:
        return self._proc.poll()

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


class ProcessPlayer(Player):
    program = ""
    device: str | None = None  # ALSA PCM (mpv, aplay); None = the system default

    def __init__(self) -> None:
        path = shutil.which(self.program)
        if path is None:
            raise BackendUnavailable(f"player {self.program!r} is not installed")
        self.binary = path

    def argv(self, request: PlayRequest) -> list[str]:
        raise NotImplementedError

    def play(self, request: PlayRequest) -> Playback:
        require_local_file(request)
        proc = subprocess.Popen(
            self.argv(request), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return ProcessPlayback(proc)


class MpvPlayer(ProcessPlayer):
    name = program = "mpv"

    def argv(self, request: PlayRequest) -> list[str]:
        args = [self.binary, "--no-video", "--really-quiet", "--no-terminal"]
        if self.device:
            args += ["--ao=alsa", f"--audio-device=alsa/{self.device}"]
        if request.offset_s > 0:
            args.append(f"--start={request.offset_s:.3f}")
        args.append(f"--length={request.duration_s:.3f}")
        if request.volume is not None:
            args.append(f"--volume={request.volume}")
        return [*args, "--", request.source]


class FfplayPlayer(ProcessPlayer):
    name = program = "ffplay"

    def argv(self, request: PlayRequest) -> list[str]:
        args = [self.binary, "-nodisp", "-autoexit", "-loglevel", "error"]
        if request.offset_s > 0:
            args += ["-ss", f"{request.offset_s:.3f}"]
        args += ["-t", f"{request.duration_s:.3f}"]
        if request.volume is not None:
            args += ["-volume", str(request.volume)]
        return [*args, "-i", request.source]


class AplayPlayer(ProcessPlayer):
    """WAV files only, from the beginning (aplay cannot seek); the clock stops it at the end."""

    name = program = "aplay"

    def argv(self, request: PlayRequest) -> list[str]:
        device = ["-D", self.device] if self.device else []
        return [self.binary, "-q", *device, request.source]
