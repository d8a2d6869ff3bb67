"""Audio errors and speech engines in the operator's words (the i18n catalogue): the
English ``reason`` of an audio error goes to the log, never to a Vietnamese page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from audio.errors import AudioError, SynthesisFailed

Translate = Callable[..., str]
log = logging.getLogger("loa.panel")
CODES = frozenset(
    {
        "empty",
        "too_big",
        "not_audio",
        "no_audio",
        "too_long",
        "damaged",
        "silent",
        "text_empty",
        "text_too_long",
        "text_silent",
    }
)


def audio_reason(t: Translate, exc: AudioError) -> str:
    """Why the audio was refused, translated; a generic sentence for unnamed cases."""
    log.info("panel audio error: %s", exc.reason)
    if exc.code in CODES:
        return t(f"upload.{exc.code}", **exc.values)
    if isinstance(exc, SynthesisFailed):
        return t("tts.failed")
    return t("upload.other")


def engine_name(t: Translate, engine: str) -> str:
    """``espeak-ng`` -> "Giọng đọc ngoại tuyến"; an engine without words keeps its name."""
    key = f"engine.{engine}"
    text = t(key)
    return engine if text == key else text


def engine_names(t: Translate, engines: Iterable[str]) -> dict[str, str]:
    return {e: engine_name(t, e) for e in engines}
