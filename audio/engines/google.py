"""gTTS (Google Translate's voice): the most natural Vietnamese we can get, when online.

Every request has a timeout (gTTS waits forever by default); a failure marks the host down
so the next notices fall through to the offline engines at once. Audio is kept in memory.
"""

from __future__ import annotations

import io

from audio.engines.connectivity import ConnectivityProbe
from audio.errors import EngineFailed

GTTS_HOST = "translate.google.com"


class GoogleTtsEngine:
    name = "gtts"
    default_voice = "vi"

    def __init__(
        self,
        probe: ConnectivityProbe | None = None,
        timeout_s: float = 8.0,
        tld: str = "com",
    ) -> None:
        self.probe = probe or ConnectivityProbe(f"translate.google.{tld}")
        self.timeout_s = timeout_s
        self.tld = tld

    def voices(self) -> tuple[str, ...]:
        return ("vi",)

    def unavailable_reason(self) -> str | None:
        try:
            import gtts  # noqa: F401
        except ImportError:
            return "gTTS is not installed"
        return self.probe.unreachable_reason()

    def synthesise(self, text: str, voice: str, rate_wpm: int) -> bytes:
        """``rate_wpm`` is ignored: Google has one speed (``slow`` is far too slow)."""
        from gtts import gTTS, gTTSError

        buf = io.BytesIO()
        try:
            speech = gTTS(text, lang=voice, tld=self.tld, lang_check=False, timeout=self.timeout_s)
            speech.write_to_fp(buf)
        except (gTTSError, AssertionError, OSError) as exc:
            reason = f"gTTS failed: {exc}"
            self.probe.mark_down(reason)
            raise EngineFailed(reason) from None
        if not buf.getvalue():
            raise EngineFailed("gTTS returned no audio")
        return buf.getvalue()
