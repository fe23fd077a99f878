"""Replay a directory of labelled caller recordings: intent accuracy, real-time factor, response latency.

    python bench/replay_bench.py DIR            # DIR holds WAVs and labels.json (bench/make_caller_set.py)
    python bench/replay_bench.py                # generates the Pico caller set in a temporary directory

Each recording is replayed through the full audio path (VAD → recogniser → dialog → TTS) exactly as
`callbot replay` does. The intent of the caller's first turn is compared with the label; `response_ms`
is the end of the caller's speech to the bot's first audio, on the audio clock (see docs/architecture.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from callbot.config import load_settings
from callbot.replay import replay_call
from callbot.session.stack import SpeechStack

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def load_labels(directory: Path) -> list[dict]:
    """`labels.json` (bench/make_caller_set.py) or a fixture `manifest.yaml` (tests/fixtures/callers)."""
    if (directory / "labels.json").exists():
        labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        items = labels["items"] if isinstance(labels, dict) else labels
        return [u for u in items if u["intent"] not in ("oui", "non")]
    import yaml

    manifest = yaml.safe_load((directory / "manifest.yaml").read_text(encoding="utf-8"))
    # A bare oui/non is an answer, not a request: it means nothing at the greeting.
    return [u for u in manifest["utterances"] if u["intent"] not in ("oui", "non")]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", nargs="?", help="WAVs + labels.json; default: generate the Pico set")
    parser.add_argument("--asr", default="auto")
    parser.add_argument("--tts", default="auto")
    parser.add_argument("--per-intent", type=int, default=10, help="when generating the set")
    parser.add_argument("--limit", type=int, default=0, help="replay only the first N recordings")
    parser.add_argument("--errors", action="store_true", help="list misrecognised recordings")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(args.directory) if args.directory else Path(tmp)
        if not args.directory:
            script = Path(__file__).with_name("make_caller_set.py")
            subprocess.run(
                [sys.executable, str(script), tmp, "--per-intent", str(args.per_intent)], check=True
            )
        labels = load_labels(directory)
        if args.limit:
            labels = labels[: args.limit]

        settings = load_settings()
        settings.asr.engine = args.asr
        settings.tts.engine = args.tts
        t0 = time.perf_counter()
        stack = SpeechStack(settings)
        load_s = time.perf_counter() - t0
        print("\n".join(stack.banner()))
        print(f"start-up (models + prompt cache): {load_s:.1f} s")

        correct = 0
        latencies: list[float] = []
        audio_ms = wall_ms = 0
        per_intent: dict[str, list[int]] = {}
        misses: list[str] = []
        for label in labels:
            result = replay_call(stack, directory / label["file"], now=NOW)
            first = next((t for t in result.turns if t.transcript), None)
            got = first.intent if first else None
            ok = got == label["intent"]
            correct += ok
            per_intent.setdefault(label["intent"], [0, 0])[0] += ok
            per_intent[label["intent"]][1] += 1
            if first is not None and first.response_ms is not None:
                latencies.append(first.response_ms)
            audio_ms += result.audio_ms
            wall_ms += result.wall_ms
            if not ok:
                heard = first.transcript if first else ""
                misses.append(
                    f"  {label['file']}: want {label['intent']}, got {got} — said {label['text']!r}, "
                    f"heard {heard!r}"
                )

        n = len(labels)
        print(f"\nrecordings: {n}")
        print(f"intent accuracy: {correct}/{n} = {100 * correct / n:.1f} %")
        for intent, (ok, total) in sorted(per_intent.items()):
            print(f"  {intent:18s} {ok}/{total}")
        print(f"real-time factor (wall / audio, whole calls): {wall_ms / audio_ms:.3f}")
        if latencies:
            print(
                f"response_ms  p50 {percentile(latencies, 50):.0f}  p95 {percentile(latencies, 95):.0f}  "
                f"mean {statistics.mean(latencies):.0f}  max {max(latencies):.0f}  (n={len(latencies)})"
            )
        if args.errors and misses:
            print("misrecognised:\n" + "\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
