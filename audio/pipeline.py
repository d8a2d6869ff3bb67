"""Text -> normalised words -> speech -> chimes, trim, loudness -> stored, cached file.

``SpeechRenderer`` is the controller's only audio entry point: ``render_text`` for
announcements, ``preview`` for the panel's "listen before sending", ``import_upload`` for
recorded audio. Renders are cached by content: the same normalised text with the same
engine, voice, rate and output settings is synthesised once.
"""

from __future__ import annotations

import logging
import time
import wave
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from audio.chimes import CHIME_VERSION, ChimeKind, chime
from audio.engines import DEFAULT_ORDER, EngineChain, SpeechEngine, build_engines
from audio.engines.chain import Candidate
from audio.errors import AudioRejected
from audio.formats import OutputFormat, output_format
from audio.mastering import LoudnessTarget, decode, master
from audio.media import RenderedMedia
from audio.media_store import MediaStore
from audio.normalise import TextNormaliser, lexicon
from audio.pcm import WORK_RATE, Pcm, silence
from audio.render_cache import RenderIndex, cache_key
from audio.uploads import UploadImporter, UploadLimits

__all__ = ["RenderedMedia", "SpeechRenderer"]

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 10_000
RATE_RANGE = (80, 260)
GAP_AFTER_INTRO_S = 0.35
GAP_BEFORE_OUTRO_S = 0.5
NORMALISER_CACHE = 32
"""Normalisers built for distinct sets of dictionary entries (a province's communes)."""


class SpeechRenderer:
    """Turns announcement text into a stored, loudness-normalised mono file.

    ``engines`` overrides the chain (tests, a fixed offline setup); otherwise
    ``engine_order`` picks from gTTS (online, checked once a minute), Piper (if a voice
    is in ``piper_voices_dir``) and espeak-ng (always).
    """

    def __init__(
        self,
        store: MediaStore,
        voice: str = "vi",
        rate_wpm: int = 145,
        bitrate_kbps: int | None = None,
        *,
        output: str = "mp3",
        chimes: bool = True,
        engines: Sequence[SpeechEngine] | None = None,
        engine_order: tuple[str, ...] = DEFAULT_ORDER,
        piper_voices_dir: Path | None = None,
        gtts_timeout_s: float = 8.0,
        normaliser: TextNormaliser | None = None,
        loudness: LoudnessTarget | None = None,
        upload_limits: UploadLimits | None = None,
    ) -> None:
        self.store = store
        self.rate_wpm = _checked_rate(rate_wpm)
        self.bitrate_kbps = bitrate_kbps
        self.format = output_format(output)
        self.format.encoder_args(bitrate_kbps)  # fail at start-up on a bad bitrate
        self.chimes = chimes
        self.chain = EngineChain(
            engines or build_engines(engine_order, voice, piper_voices_dir, gtts_timeout_s)
        )
        self.normaliser = normaliser or TextNormaliser()
        self._with_lexicon: OrderedDict[str, TextNormaliser] = OrderedDict()
        self.loudness = loudness or LoudnessTarget()
        self.index = RenderIndex(store.root / "index")
        # Told of every render_text (the media and its wall time): the controller's metrics.
        self.on_render: Callable[[RenderedMedia, float], None] | None = None
        self.uploads = UploadImporter(
            store, self.format, bitrate_kbps, self.loudness, upload_limits
        )

    def normaliser_for(self, entries: Mapping[str, str] | None) -> TextNormaliser:
        """The normaliser with an operator dictionary applied first (cached per entry set)."""
        key = lexicon.digest(entries or {})
        if key is None or not entries:
            return self.normaliser
        found = self._with_lexicon.get(key)
        if found is None:
            vocabulary = self.normaliser.vocabulary.extended(lexicon=entries)
            found = TextNormaliser(vocabulary, self.normaliser.verbaliser)
            self._with_lexicon[key] = found
            while len(self._with_lexicon) > NORMALISER_CACHE:
                self._with_lexicon.popitem(last=False)
        self._with_lexicon.move_to_end(key)
        return found

    def normalise(self, text: str, entries: Mapping[str, str] | None = None) -> str:
        """The words that will be spoken (shown to operators by ``--show-text``);
        ``entries`` is the operators' dictionary for where the text is sent."""
        if not text.strip():
            raise AudioRejected("the text is empty", "text_empty")
        if len(text) > MAX_TEXT_CHARS:
            raise AudioRejected(
                f"the text has {len(text)} characters; the limit is {MAX_TEXT_CHARS}",
                "text_too_long",
                limit=MAX_TEXT_CHARS,
            )
        words = self.normaliser_for(entries).normalise(text)
        if not words:
            raise AudioRejected("the text has nothing to say", "text_silent")
        return words

    def render_text(
        self,
        text: str,
        *,
        engine: str | None = None,
        voice: str | None = None,
        rate_wpm: int | None = None,
        output: str | None = None,
        entries: Mapping[str, str] | None = None,
    ) -> RenderedMedia:
        """Render (or fetch from the cache) ``text``; ``engine`` pins one engine.

        ``entries`` (operators' dictionary for the text's scope) change the words; the
        cache key holds a digest of the entries that occur in the text, so editing one
        re-renders exactly the texts that use it."""
        started = time.perf_counter()
        media = self._render_text(text, engine, voice, rate_wpm, output, entries)
        if self.on_render is not None:
            self.on_render(media, time.perf_counter() - started)
        return media

    def _render_text(
        self,
        text: str,
        engine: str | None,
        voice: str | None,
        rate_wpm: int | None,
        output: str | None,
        entries: Mapping[str, str] | None = None,
    ) -> RenderedMedia:
        words = self.normalise(text, entries)
        dictionary = lexicon.digest(lexicon.applied(text, entries or {}))
        rate = self.rate_wpm if rate_wpm is None else _checked_rate(rate_wpm)
        fmt = self.format if output is None else output_format(output)
        kbps = self.bitrate_kbps if fmt == self.format else None
        candidates = self.chain.candidates(engine, voice)
        for cand in candidates:
            record = self.index.get(self._key(words, cand, rate, fmt, kbps, dictionary))
            if record is not None and self.store.resolve(f"{record['sha256']}.{record['ext']}"):
                return RenderedMedia.from_record(record, cached=True)
        spoken = self.chain.synthesise(words, candidates, rate)
        speech = decode(spoken.audio, trim=True)
        if speech.duration_s < 0.1:
            # the engine worked but the text holds nothing speakable (emoji, symbols only)
            raise AudioRejected(
                f"the text has nothing {spoken.engine} can say aloud", "text_silent"
            )
        encoded = master(self._with_chimes(speech), fmt, kbps, self.loudness)
        stored = self.store.put_bytes(encoded, fmt.ext)
        media = RenderedMedia(
            stored.sha256,
            fmt.ext,
            stored.size,
            round(self._with_chimes_duration(speech), 3),
            spoken.engine,
            spoken.voice,
            words,
            fmt.mime,
        )
        used = next(c for c in candidates if c.engine.name == spoken.engine)
        self.index.put(self._key(words, used, rate, fmt, kbps, dictionary), media.to_record())
        return media

    def preview(self, text: str, **options: str | int | None) -> tuple[bytes, str]:
        """The rendered file's bytes and MIME type, for "listen before sending"."""
        media = self.render_text(text, **options)  # type: ignore[arg-type]
        path = self.store.path_for(media.sha256, media.ext)
        return path.read_bytes(), media.mime

    def import_upload(self, data: bytes | Path, filename: str) -> RenderedMedia:
        """Check and store uploaded audio; raises ``AudioRejected`` (nothing stored)."""
        return self.uploads.import_upload(data, filename)

    def _key(
        self,
        words: str,
        cand: Candidate,
        rate: int,
        fmt: OutputFormat,
        kbps: int | None,
        dictionary: str | None,
    ) -> str:
        extra = {} if dictionary is None else {"dictionary": dictionary}
        return cache_key(
            **extra,
            text=words,
            engine=cand.engine.name,
            voice=cand.voice,
            rate=rate,
            format=fmt.name,
            kbps=kbps,
            chimes=CHIME_VERSION if self.chimes else None,
            loudness=asdict(self.loudness),
        )

    def _with_chimes(self, speech: Pcm) -> Pcm:
        if not self.chimes:
            return speech
        return (
            self._chime("intro")
            + silence(GAP_AFTER_INTRO_S)
            + speech
            + silence(GAP_BEFORE_OUTRO_S)
            + self._chime("outro")
        )

    def _with_chimes_duration(self, speech: Pcm) -> float:
        if not self.chimes:
            return speech.duration_s
        chimes = self._chime("intro").duration_s + self._chime("outro").duration_s
        return speech.duration_s + chimes + GAP_AFTER_INTRO_S + GAP_BEFORE_OUTRO_S

    def _chime(self, kind: ChimeKind) -> Pcm:
        """Chimes are generated once and kept in the store as WAV (found via the index)."""
        key = cache_key(chime=kind, version=CHIME_VERSION, rate=WORK_RATE)
        record = self.index.get(key)
        if record is not None:
            path = self.store.resolve(f"{record['sha256']}.wav")
            if path is not None:
                with wave.open(str(path), "rb") as wav:
                    return Pcm(wav.readframes(wav.getnframes()), wav.getframerate())
        pcm = chime(kind)
        stored = self.store.put_bytes(pcm.to_wav(), "wav")
        self.index.put(key, {"sha256": stored.sha256, "ext": "wav"})
        return pcm


def _checked_rate(rate_wpm: int) -> int:
    low, high = RATE_RANGE
    if not low <= rate_wpm <= high:
        raise AudioRejected(f"speech rate {rate_wpm} wpm is outside {low}-{high}")
    return rate_wpm
