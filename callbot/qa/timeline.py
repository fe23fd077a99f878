"""A call's timeline from its event log and audio: what the HTML report draws, kept as plain data.

Audio is reduced to a level envelope (dBFS per 100 ms) so that a report of many calls stays small. Each
caller turn gets its latency split, in milliseconds, where the event log has the figures:
- `end_of_speech`: from the caller's last word to the endpointer deciding the turn is over;
- `recognition`: the final decode (`asr_ms`);
- `dialog`: the decision's compute time less recognition and synthesis;
- `synthesis`: synthesising the answer's prompts not already cached (`synth_ms`);
- `wait`: anything else before the first frame of the answer (frame alignment, audio still playing).
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
    for event in events:
        kind, t = event["event"], event["t_ms"]
        if kind == "speech_end":
            current = {
                "speech": [event["speech_start_ms"], event["speech_end_ms"]],
                "endpoint_ms": t,
                "split": {"end_of_speech": max(0, t - event["speech_end_ms"])},
                "synth_ms": 0,
            }
        elif kind == "asr_final" and current is not None:
            current["text"] = event["text"]
            if "asr_ms" in event:
                current["split"]["recognition"] = event["asr_ms"]
        elif kind == "asr_empty" and current is not None:
            current = None
        elif kind == "dtmf":
            decisions.append({"t_ms": t, "kind": "dtmf", "label": f"touche {event['digit']}"})
        elif kind == "intent" and current is not None and "intent" not in current:
            current["intent"] = event["intent"]
            current["slots"] = event.get("slots") or {}
            turns.append(current)
        elif kind == "prompt":
            prompts.append({"t_ms": t, "text": event["text"], "duration_ms": event.get("duration_ms", 0)})
            if current is not None and "decision_ms" not in current:
                current["synth_ms"] += event.get("synth_ms", 0)
        elif kind == "decision" and current is not None and "decision_ms" not in current:
            current["decision_ms"] = event["compute_ms"]
        elif kind == "bot_audio_start" and current is not None:
            _close_turn(current, t)
            current = None
        elif kind == "barge_in":
            barge_ins.append(t)
        elif kind in ("callback", "transfer", "hangup", "caller_hangup", "no_input", "transfer_failed"):
            decisions.append({"t_ms": t, "kind": kind, "label": _decision_label(event)})
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


def _close_turn(turn: dict[str, Any], audio_start_ms: int) -> None:
    """The answer's first frame left at `audio_start_ms`: split the response time."""
    split = turn["split"]
    turn["answer_ms"] = audio_start_ms
    turn["response_ms"] = audio_start_ms - turn["speech"][1]
    if "decision_ms" in turn:
        recognition = split.get("recognition", 0)
        split["synthesis"] = turn["synth_ms"]
        split["dialog"] = max(0, turn["decision_ms"] - recognition - turn["synth_ms"])
    accounted = sum(split.values())
    split["wait"] = max(0, turn["response_ms"] - accounted)


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
