"""Decode, trim, loudness-normalise and encode: everything between a raw engine output
and the file an agent plays.

Loudness follows EBU R128 with ffmpeg's filters: a gentle compressor (speech on horn
loudspeakers must stay intelligible), the ``ebur128`` meter, one gain to the target and a
peak limiter. Why not ``loudnorm``: measured on a 52 s espeak notice, two-pass loudnorm
took 1.8 s (it resamples to 192 kHz), could not stay linear under the -1.5 dBTP ceiling,
fell back to dynamic mode and landed at -17.1 LUFS; this chain takes 0.5 s and lands
within 0.5 LU (see ``docs/audio.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from audio.errors import AudioToolError
from audio.ffmpeg import ffmpeg, input_args
from audio.formats import OutputFormat
from audio.pcm import WORK_RATE, Pcm, pcm_input_args

AudioSource = Pcm | Path | bytes
"""Raw PCM in memory, a file ffmpeg can read, or encoded bytes (MP3/WAV/...) in memory."""

_TRIM_ONE_END = "silenceremove=start_periods=1:start_threshold=-45dB:start_silence=0.12"
TRIM_FILTER = f"{_TRIM_ONE_END},areverse,{_TRIM_ONE_END},areverse"
"""Cut leading and trailing silence, keeping 120 ms so words do not start abruptly."""

SILENT_LUFS = -69.0
COMPRESSOR = "acompressor=threshold=0.1:ratio=4:attack=5:release=80"


@dataclass(frozen=True)
class LoudnessTarget:
    """EBU R128 target; defaults suit speech on horn loudspeakers (-16 LUFS, -1.5 dBTP)."""

    integrated_lufs: float = -16.0
    true_peak_dbtp: float = -1.5

    def limiter(self) -> str:
        """A sample-peak limiter 0.5 dB under the true-peak ceiling: the margin covers
        inter-sample peaks and what MP3/Opus coding adds."""
        ceiling = 10 ** ((self.true_peak_dbtp - 0.5) / 20)
        return f"alimiter=limit={ceiling:.4f}:level=false:attack=2:release=40"


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float


def _input(source: AudioSource) -> tuple[list[str], bytes | None]:
    if isinstance(source, Pcm):
        return pcm_input_args(source.rate), source.data
    if isinstance(source, Path):
        return input_args(source), None
    return input_args("pipe:0"), source


def decode(source: AudioSource, rate: int = WORK_RATE, trim: bool = False) -> Pcm:
    """Any audio ffmpeg reads -> mono PCM at ``rate``; ``trim`` cuts silence at both ends."""
    args, stdin = _input(source)
    filters = ["-af", TRIM_FILTER] if trim else []
    out, _ = ffmpeg(
        [
            "-loglevel",
            "error",
            *args,
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(rate),
            *filters,
            "-f",
            "s16le",
            "pipe:1",
        ],
        stdin,
    )
    return Pcm(out, rate)


def _integrated_after_compression(source: AudioSource) -> float:
    args, stdin = _input(source)
    _, err = ffmpeg(
        ["-loglevel", "info", *args, "-vn", "-af", f"{COMPRESSOR},ebur128", "-f", "null", "-"],
        stdin,
    )
    return _summary(err).integrated_lufs


def master(
    source: AudioSource,
    fmt: OutputFormat,
    kbps: int | None = None,
    target: LoudnessTarget | None = None,
) -> bytes:
    """Compress, bring to the target loudness, limit peaks and encode ``source``.

    Pass 1 measures the compressed signal's integrated loudness; pass 2 applies the same
    compressor, the gain that lands on the target, and a peak limiter, then encodes.
    Silence is encoded without gain, since there is no loudness to correct.
    """
    target = target or LoudnessTarget()
    measured = _integrated_after_compression(source)
    gain_db = 0.0 if measured <= SILENT_LUFS else min(target.integrated_lufs - measured, 40.0)
    chain = ",".join(
        [COMPRESSOR, f"volume={gain_db:.2f}dB", target.limiter(), f"aresample={WORK_RATE}"]
    )
    args, stdin = _input(source)
    out, _ = ffmpeg(
        [
            "-loglevel",
            "error",
            *args,
            "-vn",
            "-af",
            chain,
            "-ar",
            str(WORK_RATE),
            *fmt.encoder_args(kbps),
            "-f",
            fmt.container,
            "pipe:1",
        ],
        stdin,
    )
    if not out:
        raise AudioToolError("ffmpeg produced no audio")
    return out


def _as_float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float("-inf")


def _summary(err: str) -> Loudness:
    summary = err[err.rfind("Summary:") :]
    i_match = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    tp_match = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if i_match is None:
        raise AudioToolError("ffmpeg ebur128 printed no summary")
    peak = _as_float(tp_match.group(1)) if tp_match else float("nan")
    return Loudness(_as_float(i_match.group(1)), peak)


def measure_loudness(source: AudioSource) -> Loudness:
    """Integrated loudness and true peak as ffmpeg's ``ebur128`` filter reports them."""
    args, stdin = _input(source)
    _, err = ffmpeg(
        ["-loglevel", "info", *args, "-vn", "-af", "ebur128=peak=true", "-f", "null", "-"],
        stdin,
    )
    return _summary(err)
