"""Echo guard: the bot's own voice, coming back down the line, must not count as the caller speaking.

Telephone lines and handsets return part of what the bot plays, attenuated and delayed by tens of ms. While
the bot plays, a caller frame only counts as voiced when it is louder than the loudest bot audio of the
last `tail_ms` (the echo path's delay) minus `margin_db`: an echo attenuated by more than the margin stays
below that bar, a caller talking over the bot at a normal level clears it.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

#: Bot audio quieter than this (silence padding, comfort noise) does not make the bot "speaking".
BOT_SILENT_DBFS = -60.0


def dbfs(pcm: bytes) -> float:
    """RMS level of PCM16 relative to full scale; -inf for digital silence or no audio."""
    if len(pcm) < 2:
        return -math.inf
    samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2).astype(np.float64)
    power = float(np.dot(samples, samples)) / len(samples)
    return 10.0 * math.log10(power / (32768.0 * 32768.0)) if power > 0 else -math.inf


class EchoGuard:
    """Remembers the level of what the bot played over the last `tail_ms` of the audio clock."""

    def __init__(self, margin_db: float, tail_ms: int) -> None:
        self.margin_db = margin_db
        self.tail_ms = tail_ms
        self._levels: deque[tuple[int, float]] = deque()  # (end_ms, dBFS) of loud bot frames

    def observe(self, end_ms: int, bot_audio: bytes | None) -> None:
        """Record what the bot played during the frame ending at `end_ms`, and forget older audio."""
        while self._levels and self._levels[0][0] <= end_ms - self.tail_ms:
            self._levels.popleft()
        if bot_audio:
            level = dbfs(bot_audio)
            if level > BOT_SILENT_DBFS:
                self._levels.append((end_ms, level))

    @property
    def bot_speaking(self) -> bool:
        """The bot played audible audio within the last `tail_ms` (its echo may still be arriving)."""
        return bool(self._levels)

    def admits(self, caller_pcm: bytes) -> bool:
        """Whether a caller frame is loud enough not to be the bot's echo (always, while the bot is quiet)."""
        if not self._levels:
            return True
        loudest = max(level for _, level in self._levels)
        return dbfs(caller_pcm) > loudest - self.margin_db

    def reset(self) -> None:
        self._levels.clear()
