"""``loa tts "text" -o out.mp3``: render one announcement, print what was made."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from cli.errors import CliError


def default_store_dir() -> Path:
    """``$LOA_MEDIA_DIR``, else the user's cache: renders are reused across runs."""
    if env := os.environ.get("LOA_MEDIA_DIR"):
        return Path(env)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "loaxa" / "media"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("tts", help="turn Vietnamese text into an announcement file")
    parser.add_argument("text", help='the text, or "-" to read it from stdin')
    parser.add_argument("-o", "--output", type=Path, required=True, help="file to write")
    parser.add_argument("--engine", help="use only this engine (gtts, piper, espeak-ng)")
    parser.add_argument("--voice", help="e.g. vi, vi-vn-x-central, vi-vn-x-south")
    parser.add_argument("--rate", type=int, default=145, help="words per minute (espeak-ng)")
    parser.add_argument("--format", choices=("mp3", "opus"), default="mp3")
    parser.add_argument("--no-chimes", action="store_true", help="no intro/outro chime")
    parser.add_argument("--show-text", action="store_true", help="print the normalised text")
    parser.add_argument("--store", type=Path, help="media store (default: $LOA_MEDIA_DIR)")
    parser.add_argument("--piper-voices", type=Path, help="folder with Piper *.onnx voices")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
    from audio.media_store import MediaStore
    from audio.pipeline import SpeechRenderer

    text = sys.stdin.read() if args.text == "-" else args.text
    store = MediaStore(args.store or default_store_dir())
    try:
        renderer = SpeechRenderer(
            store, chimes=not args.no_chimes, piper_voices_dir=args.piper_voices
        )
        media = renderer.render_text(
            text, engine=args.engine, voice=args.voice, rate_wpm=args.rate, output=args.format
        )
    except (AudioRejected, SynthesisFailed, AudioToolError) as exc:
        raise CliError(exc.reason) from None
    args.output.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(store.path_for(media.sha256, media.ext), args.output)
    print(f"engine:   {media.engine} ({media.voice}){' [cached]' if media.cached else ''}")
    if args.show_text:
        print(f"text:     {media.normalised_text}")
    print(f"duration: {media.duration_s:.1f} s")
    print(f"size:     {media.size} bytes ({media.ext}, sha256 {media.sha256[:12]}…)")
    print(f"written:  {args.output}")
    return 0
