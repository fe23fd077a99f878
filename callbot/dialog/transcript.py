"""The call's transcript as agents read it: what the caller said and what the caller *heard*.

A dialog writes "Bot : …" when it decides what to say; the session knows later whether the caller heard
it. When a prompt is cut by the caller (barge-in) or never played, `mark_cut` rewrites its line so that
an agent does not read a sentence the caller never heard — as LiveKit reports a playback `interrupted`
with its position.
"""

from __future__ import annotations

BOT = "Bot : "
SILENCE = "[silence]"


def mark_cut(transcript: list[str], text: str, played_ms: int, total_ms: int) -> None:
    """Mark the latest "Bot : `text`" line as cut after `played_ms` of its `total_ms`: the words that
    played (in proportion) followed by "…", as "Bot (interrompu) : …", or "Bot (non entendu) : …" when
    none played. A text the transcript does not hold (the recording notice) is left alone."""
    line = BOT + text
    for index in range(len(transcript) - 1, -1, -1):
        if transcript[index] == line:
            break
    else:
        return
    if played_ms <= 0:
        transcript[index] = f"Bot (non entendu) : {text}"
        return
    words = text.split()
    heard = words[: max(1, round(len(words) * min(played_ms, total_ms) / max(total_ms, 1)))]
    transcript[index] = f"Bot (interrompu) : {' '.join(heard)}…"


class Transcript:
    """One call's lines, as the agent who takes the call reads them (`CallContext.transcript`): what
    the caller said or keyed, and what the bot said — marked when the caller cut it short or never heard
    it. Every dialog keeps its transcript here, the same way."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def caller(self, text: str) -> None:
        self.lines.append(f"Client : {text}")

    def keys(self, keys: str) -> None:
        self.caller(f"[touche{'s' if len(keys) > 1 else ''} {keys}]")

    def silence(self) -> None:
        self.caller(SILENCE)

    def bot(self, text: str) -> None:
        self.lines.append(BOT + text)

    def cut(self, text: str, played_ms: int, total_ms: int) -> None:
        mark_cut(self.lines, text, played_ms, total_ms)

    @property
    def heard_someone(self) -> bool:
        """Whether the caller said or keyed anything (silences are not counted)."""
        return any(line.startswith("Client : ") and line != f"Client : {SILENCE}" for line in self.lines)
