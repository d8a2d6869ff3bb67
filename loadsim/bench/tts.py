"""``loa bench tts --json``: speed and quality of the speech pipeline on 20 fixed notices.

Renders into a fresh temporary store (so every first render really synthesises), then
renders again to time cache hits. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from loadsim.bench._report import add_json_flag, emit


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("tts", help="TTS pipeline speed, loudness and cache")
    add_json_flag(parser)
    parser.add_argument("--piper-voices", type=Path, help="folder with Piper *.onnx voices")
    parser.set_defaults(handler=run)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _engine_rtfs(texts: list[str], piper_voices: Path | None) -> dict[str, dict[str, Any]]:
    """Real-time factor (synthesis time / speech time) of each engine on its own."""
    from audio.engines import build_engines
    from audio.mastering import decode

    report: dict[str, dict[str, Any]] = {}
    for engine in build_engines(piper_voices_dir=piper_voices):
        reason = engine.unavailable_reason()
        if reason is not None:
            report[engine.name] = {"rtf": None, "available": False, "reason": reason}
            continue
        spent = spoken = 0.0
        for text in texts:
            start = time.perf_counter()
            audio = engine.synthesise(text, engine.default_voice, 145)
            spent += time.perf_counter() - start
            spoken += decode(audio).duration_s
        report[engine.name] = {
            "rtf": round(spent / spoken, 4),
            "available": True,
            "speech_s": round(spoken, 1),
        }
    return report


def run(args: argparse.Namespace) -> int:
    from audio.engines import EspeakEngine
    from audio.formats import MP3
    from audio.mastering import decode, master, measure_loudness
    from audio.media_store import MediaStore
    from audio.normalise import TextNormaliser
    from audio.pipeline import SpeechRenderer
    from loadsim.bench._notices import load_notices

    notices = load_notices()
    normaliser = TextNormaliser()
    normaliser.normalise("khởi động 1")  # load dictionaries outside the timing
    norm_times, words = [], []
    for notice in notices:
        start = time.perf_counter()
        words.append(normaliser.normalise(notice.text))
        norm_times.append(time.perf_counter() - start)

    espeak = EspeakEngine()
    process_times = []
    for text in words[:5]:
        audio = espeak.synthesise(text, "vi", 145)
        start = time.perf_counter()
        master(decode(audio, trim=True), MP3)
        process_times.append(time.perf_counter() - start)

    with tempfile.TemporaryDirectory(prefix="loa-bench-tts-") as tmp:
        store = MediaStore(Path(tmp))
        renderer = SpeechRenderer(store, normaliser=normaliser, piper_voices_dir=args.piper_voices)
        renders, hits, durations = [], [], []
        for notice in notices:
            start = time.perf_counter()
            media = renderer.render_text(notice.text)
            renders.append(time.perf_counter() - start)
            durations.append(media.duration_s)
        for notice in notices:
            start = time.perf_counter()
            again = renderer.render_text(notice.text)
            hits.append(time.perf_counter() - start)
            assert again.cached
        probe = min(notices, key=lambda n: abs(len(n.text) - 600))
        media = renderer.render_text(probe.text)
        loudness = measure_loudness(store.path_for(media.sha256, media.ext))
        index = notices.index(probe)
        notice_600 = {
            "id": probe.id,
            "chars": len(probe.text),
            "engine": media.engine,
            "duration_s": media.duration_s,
            "render_s": round(renders[index], 3),
            "integrated_lufs": loudness.integrated_lufs,
            "true_peak_dbtp": loudness.true_peak_dbtp,
            "within_1lu": abs(loudness.integrated_lufs - renderer.loudness.integrated_lufs) <= 1,
            "size_bytes": media.size,
        }

    result = {
        "notices": len(notices),
        "chars": {
            "min": min(len(n.text) for n in notices),
            "max": max(len(n.text) for n in notices),
        },
        "engines": _engine_rtfs(words, args.piper_voices),
        "normalise_ms": _ms(statistics.mean(norm_times)),
        "normalise_ms_max": _ms(max(norm_times)),
        "process_encode_s": round(statistics.mean(process_times), 3),
        "render_s": {"mean": round(statistics.mean(renders), 3), "max": round(max(renders), 3)},
        "speech_duration_s": {"min": min(durations), "max": max(durations)},
        "cache_hit_ms": _ms(statistics.mean(hits)),
        "cache_hit_ms_max": _ms(max(hits)),
        "notice_600": notice_600,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_child_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
    }
    emit(result, args.json)
    return 0
