"""Judging a replayed call against its expectations: one `Failure` per expectation not met.

What a call did is summarised once (`Observed`, from the replay's turns, outcome and event log) so that
the judge, the baseline comparison and the reports all read the same facts.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from callbot.qa.suite import Expect


@dataclass(frozen=True)
class Failure:
    """One expectation not met: which check, what was expected, what the call did."""

    check: str
    expected: Any
    got: Any

    def __str__(self) -> str:
        return f"{self.check}: expected {_show(self.expected)}, got {_show(self.got)}"


@dataclass
class Observed:
    """What a replayed call did, in the terms a suite's expectations use."""

    outcome: str
    queue: str | None = None
    callback_at: str | None = None
    intents: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    bot_said: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    response_ms: list[int] = field(default_factory=list)

    @property
    def max_response_ms(self) -> int | None:
        return max(self.response_ms) if self.response_ms else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "max_response_ms": self.max_response_ms}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Observed:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def from_replay(cls, replay: dict[str, Any], events: list[dict[str, Any]]) -> Observed:
        """From `ReplayResult.as_dict()` and its event log."""
        outcome = replay["outcome"]
        slots: dict[str, Any] = {}
        for turn in replay["turns"]:
            slots.update(turn["slots"] or {})
        return cls(
            outcome=outcome["type"],
            queue=outcome.get("queue"),
            callback_at=outcome.get("callback_at"),
            intents=[t["intent"] for t in replay["turns"] if t["intent"]],
            slots=slots,
            bot_said=[e["text"] for e in events if e["event"] == "prompt"],
            transcript=[t["transcript"] for t in replay["turns"] if t["transcript"]],
            response_ms=[t["response_ms"] for t in replay["turns"] if t["response_ms"] is not None],
        )


def judge(expect: Expect, got: Observed) -> list[Failure]:
    """Every expectation `expect` sets that `got` does not meet, in the order of the suite format."""
    failures: list[Failure] = []
    if expect.outcome is not None and expect.outcome != got.outcome:
        failures.append(Failure("outcome", expect.outcome, got.outcome))
    if expect.callback_at is not None:
        at = datetime.fromisoformat(got.callback_at) if got.callback_at else None
        if at != expect.callback_at:
            failures.append(Failure("callback_at", expect.callback_at.isoformat(), got.callback_at))
    if expect.queue is not None and expect.queue != got.queue:
        failures.append(Failure("queue", expect.queue, got.queue))
    if expect.intents is not None and not is_subsequence(expect.intents, got.intents):
        failures.append(Failure("intents", expect.intents, got.intents))
    for name, value in (expect.slots or {}).items():
        actual = got.slots.get(name)
        if actual is None or str(actual) != value:
            failures.append(Failure(f"slots.{name}", value, actual))
    said = _plain(" ".join(got.bot_said))
    for words in expect.bot_says or []:
        if _plain(words) not in said:
            failures.append(Failure("bot_says", words, _closest_prompt(words, got.bot_said)))
    if expect.max_response_ms is not None:
        slowest = got.max_response_ms
        if slowest is not None and slowest > expect.max_response_ms:
            failures.append(Failure("max_response_ms", f"<= {expect.max_response_ms}", slowest))
    return failures


def is_subsequence(wanted: list[str], got: list[str]) -> bool:
    """Whether `wanted` appears in `got` in order, other items allowed between."""
    remaining = iter(got)
    return all(any(item == have for have in remaining) for item in wanted)


def _plain(text: str) -> str:
    """Case and spacing ignored (the bot's texts hold non-breaking spaces in "15 h")."""
    return re.sub(r"\s+", " ", text.casefold()).strip()


def _closest_prompt(words: str, said: list[str]) -> str:
    """The bot sentence that shares most words with what was expected, to show next to it."""
    wanted = set(_plain(words).split())
    if not said:
        return "(the bot said nothing)"
    return max(said, key=lambda text: len(wanted & set(_plain(text).split())))


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
