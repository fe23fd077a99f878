#!/usr/bin/env python3
"""Store answers ("Celui de Lyon", "À Marseille"…) on an 8 kHz line: free decoding against closed-set
scoring of the answers the question expects, as `CallSession` does when no free reading is understood.

    python bench/closed_set_bench.py [N] [--seed S]

Voices, levels and noise are drawn from the development ranges of bench/make_call_set.py. Prints, for
each utterance, what free decoding heard and the closed-set pick with its score and margin, then how many
each got right and how many closed-set picks passed the session's thresholds (right and wrong).
"""

from __future__ import annotations

import argparse
import random
import time

import make_caller_set  # bench/: the fixtures' telephone line
import numpy as np

from callbot.asr import load_engine
from callbot.asr.whisper_engine import WhisperEngine
from callbot.audio.resample import resample
from callbot.dialog import default_flow_path, load_flow
from callbot.dialog.conversation import _STORE_ANSWERS
from callbot.session.call_session import CLOSED_SET_MIN_MARGIN, CLOSED_SET_MIN_SCORE

SAID = (
    "Celui de {c}",
    "{c}",
    "À {c}",
    "Le magasin de {c}",
    "{c}, s'il vous plaît",
    "Celui de {c}, s'il vous plaît",
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("count", nargs="?", type=int, default=24)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    line = make_caller_set.line
    flow = load_flow(default_flow_path())
    assert flow.data is not None
    cities = flow.data.store_cities()
    phrases = {template.format(city): city for city in cities for template in _STORE_ANSWERS}
    engine = load_engine("whisper")
    assert isinstance(engine, WhisperEngine)
    rng = random.Random(args.seed)
    free_right = picked_right = picked_wrong = 0
    seconds = 0.0
    for index in range(args.count):
        city = rng.choice(list(cities))
        text = rng.choice(SAID).format(c=city)
        voice = line.Voice(speed=rng.randint(89, 105), pitch=rng.randint(93, 107), gain_db=rng.uniform(-3, 2))
        rendered = line.render_utterance(text, voice, seed=index, noise_dbfs=rng.choice([-60, -60, -60, -48]))
        audio = np.frombuffer(resample(rendered.pcm, 8000, 16000), "<i2").astype(np.float32) / 32768
        free = engine.transcribe(audio, ()).text
        started = time.perf_counter()
        scores = engine.score(audio, list(phrases))
        seconds += time.perf_counter() - started
        best: dict[str, float] = {}
        for phrase, score in zip(phrases, scores, strict=True):
            best[phrases[phrase]] = max(score, best.get(phrases[phrase], -99.0))
        (top, score), (_, second) = sorted(best.items(), key=lambda item: -item[1])[:2]
        accepted = score >= CLOSED_SET_MIN_SCORE and score - second >= CLOSED_SET_MIN_MARGIN
        free_right += city.lower() in free.lower()
        picked_right += accepted and top == city
        picked_wrong += accepted and top != city
        mark = ("taken" if accepted else "left") + ("" if top == city else " WRONG")
        print(f"{text!r:38} free={free!r:40} closed={top} {score:.2f} (+{score - second:.2f}) {mark}")
    print(
        f"free decoding right {free_right}/{args.count}; closed set taken and right {picked_right}, "
        f"taken and wrong {picked_wrong}; {seconds / args.count * 1000:.0f} ms per scored answer "
        f"({len(phrases)} phrases)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
