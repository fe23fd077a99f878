"""A call's timeline from its event log and audio: what the HTML report draws, kept as plain data.

Audio is reduced to a level envelope (dBFS per 100 ms) so that a report of many calls stays small. Each
caller turn gets its response time (end of the caller's speech to the bot's first audio) split into parts
that add up to it, where the event log has the figures:
- `end_of_speech`: from the caller's last word to the endpointer deciding the turn is over;
- `recognition`: the final decode (`asr_ms`), as far as it runs past the end of the turn (a decode
  started at the caller's pause partly hides behind the endpointer's wait);
- `dialog`: the decision's compute time less recognition and synthesis, likewise;
- `synthesis`: synthesising the answer's prompts not already cached (`synth_ms`), likewise;
- `wait`: the rest (alignment to the next 20 ms frame).
"""

from __future__ import annotations

import math
from array import array
from typing import Any

from callbot.audio.frame import BYTES_PER_SAMPLE

ENVELOPE_STEP_MS = 100
SILENCE_DBFS = -90
_RATE = 8000


def envelope(pcm: bytes, sample_rate: int = _RATE, step_ms: int = ENVELOPE_STEP_MS) -> list[int]:
    """RMS level of each `step_ms` of 16-bit PCM, in whole dBFS (floor at `SILENCE_DBFS`)."""
    samples = array("h", pcm[: len(pcm) - len(pcm) % BYTES_PER_SAMPLE])
    step = sample_rate * step_ms // 1000
    levels = []
    for start in range(0, len(samples), step):
        chunk = samples[start : start + step]
        power = sum(s * s for s in chunk) / len(chunk)
        level = 10 * math.log10(power / 32768**2) if power > 0 else SILENCE_DBFS
        levels.append(max(SILENCE_DBFS, round(level)))
    return levels


def timeline_data(events: list[dict[str, Any]], caller_audio: bytes, bot_audio: bytes) -> dict[str, Any]:
    """Everything the report's timeline picture shows, from one replayed call."""
    turns: list[dict[str, Any]] = []
    prompts: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    barge_ins: list[int] = []
    current: dict[str, Any] | None = None
    queued: list[dict[str, Any]] = []  # prompts of the decision being made
    bot_free_ms = 0
    for event in events:
        kind, t = event["event"], event["t_ms"]
        if kind == "speech_end":
            current = {
                "speech": [event["speech_start_ms"], event["speech_end_ms"]],
                "endpoint_ms": t,
                "split": {},
                "synth_ms": 0,
            }
        elif kind == "asr_final" and current is not None:
            current["text"] = event["text"]
            if "asr_ms" in event:
                current["asr_ms"] = event["asr_ms"]
        elif kind == "asr_empty" and current is not None:
            current = None
        elif kind == "dtmf":
            decisions.append({"t_ms": t, "kind": "dtmf", "label": f"touche {event['digit']}"})
        elif kind == "intent" and current is not None and "intent" not in current:
            current["intent"] = event["intent"]
            current["slots"] = event.get("slots") or {}
            turns.append(current)
        elif kind == "prompt":
            queued.append({"t_ms": t, "text": event["text"], "duration_ms": event.get("duration_ms", 0)})
            if current is not None and "decision_ms" not in current:
                current["synth_ms"] += event.get("synth_ms", 0)
        elif kind == "decision":
            bot_free_ms = _place_prompts(queued, event.get("audio_ready_ms", t), bot_free_ms, prompts)
            queued = []
        if kind == "decision" and current is not None and "decision_ms" not in current:
            current["decision_ms"] = event["compute_ms"]
            current["started_ms"] = event.get("started_ms", current["endpoint_ms"])
        elif kind == "bot_audio_start" and current is not None:
            _close_turn(current, t)
            current = None
        elif kind == "barge_in":
            barge_ins.append(t)
        elif kind in ("callback", "transfer", "hangup", "caller_hangup", "no_input", "transfer_failed"):
            decisions.append({"t_ms": t, "kind": kind, "label": _decision_label(event)})
    _place_prompts(queued, events[-1]["t_ms"] if events else 0, bot_free_ms, prompts)
    return {
        "step_ms": ENVELOPE_STEP_MS,
        "duration_ms": max(len(caller_audio), len(bot_audio)) * 1000 // (_RATE * BYTES_PER_SAMPLE),
        "caller_level": envelope(caller_audio),
        "bot_level": envelope(bot_audio),
        "turns": turns,
        "prompts": prompts,
        "decisions": decisions,
        "barge_ins": barge_ins,
    }


def _place_prompts(
    queued: list[dict[str, Any]], ready_ms: int, bot_free_ms: int, placed: list[dict[str, Any]]
) -> int:
    """Prompts play one after the other from when their decision's audio is ready (a prompt cut by a
    barge-in is drawn whole); returns when the bot falls silent."""
    for prompt in queued:
        start = max(ready_ms, bot_free_ms)
        placed.append({**prompt, "t_ms": start})
        bot_free_ms = start + prompt["duration_ms"]
    return bot_free_ms


def _close_turn(turn: dict[str, Any], audio_start_ms: int) -> None:
    """The answer's first frame left at `audio_start_ms`: split the response time into parts that add up.

    Recognition, dialog and synthesis run one after the other from `started_ms` (the caller's pause when
    the decode started speculatively, else the end of the turn); only what runs past the end of the turn
    delays the answer, so each part counts from there on."""
    end_of_turn = turn["endpoint_ms"]
    turn["answer_ms"] = audio_start_ms
    turn["response_ms"] = audio_start_ms - turn["speech"][1]
    split = {"end_of_speech": max(0, end_of_turn - turn["speech"][1])}
    done = end_of_turn
    if "decision_ms" in turn:
        recognition = min(turn.get("asr_ms", 0), turn["decision_ms"])
        synthesis = min(turn["synth_ms"], turn["decision_ms"] - recognition)
        steps = {"recognition": recognition, "dialog": turn["decision_ms"] - recognition - synthesis}
        steps["synthesis"] = synthesis
        at = turn.get("started_ms", end_of_turn)
        for name, length in steps.items():
            split[name] = max(0, at + length - max(at, end_of_turn))
            at += length
        done = max(end_of_turn, at)
    split["wait"] = max(0, audio_start_ms - done)
    turn["split"] = split


def _decision_label(event: dict[str, Any]) -> str:
    kind = event["event"]
    if kind == "callback":
        return f"rappel {str(event.get('at', ''))[:16].replace('T', ' ')}"
    if kind == "transfer":
        return f"transfert {event.get('queue') or ''}".strip()
    if kind == "hangup":
        return f"raccroche ({event.get('reason') or ''})"
    if kind == "transfer_failed":
        return f"transfert échoué {event.get('status') or ''}".strip()
    return {"caller_hangup": "l'appelant raccroche", "no_input": "pas de réponse"}[kind]
