#!/usr/bin/env python3
"""Store answers ("Celui de Lyon", "Le magasin du Vieux-Port"…) on an 8 kHz line: free decoding against
closed-set scoring of the answers the question expects, as `CallSession` does when no free reading is
understood.

    python bench/closed_set_bench.py [N] [--seed S] [--cities-only]

Half the answers name the city, half the district ("la Part-Dieu"). `--cities-only` scores the city
phrases alone (what the store question offered before the data's aliases were added).

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
from callbot.dialog.collectors import named_entry
from callbot.session.call_session import CLOSED_SET_MIN_MARGIN, CLOSED_SET_MIN_SCORE

SAID = (
    "Celui de {c}",
    "{c}",
    "À {c}",
    "Le magasin de {c}",
    "{c}, s'il vous plaît",
    "Celui de {c}, s'il vous plaît",
)
#: What the store question offered before the data's aliases were added (--cities-only).
CITY_ONLY = ("{c}", "Celui de {c}", "Le magasin de {c}")
#: How callers name a store by its district (written apart from the data's aliases).
DISTRICT_SAID = {
    "Paris Rivoli": ("Celui de la rue de Rivoli", "Rivoli, s'il vous plaît", "Le magasin de Rivoli"),
    "Lyon Part-Dieu": ("Celui de la Part-Dieu", "À la Part-Dieu", "La Part-Dieu, s'il vous plaît"),
    "Marseille Vieux-Port": ("Celui du Vieux-Port", "Au Vieux-Port", "Le Vieux-Port, s'il vous plaît"),
    "Lille Grand Place": ("Celui de la Grand-Place", "Sur la Grand-Place", "La Grand-Place"),
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("count", nargs="?", type=int, default=24)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--cities-only", action="store_true", help="score the city phrases alone")
    args = parser.parse_args()
    line = make_caller_set.line
    flow = load_flow(default_flow_path())
    assert flow.data is not None
    cities = flow.data.store_cities()
    phrases = flow.data.store_answers()
    names = flow.data.names("stores")
    if args.cities_only:
        phrases = {text.format(c=city): store for city, store in cities.items() for text in CITY_ONLY}
    engine = load_engine("whisper")
    assert isinstance(engine, WhisperEngine)
    rng = random.Random(args.seed)
    free_right = picked_right = picked_wrong = 0
    seconds = 0.0
    for index in range(args.count):
        city = rng.choice(list(cities))
        store = cities[city]
        text = rng.choice(SAID).format(c=city) if index % 2 == 0 else rng.choice(DISTRICT_SAID[store])
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
        named = named_entry(free, names)
        free_right += named is not None and flow.data.display("stores", named) == store
        picked_right += accepted and top == store
        picked_wrong += accepted and top != store
        mark = ("taken" if accepted else "left") + ("" if top == store else " WRONG")
        print(f"{text!r:38} free={free!r:40} closed={top} {score:.2f} (+{score - second:.2f}) {mark}")
    print(
        f"free decoding right {free_right}/{args.count}; closed set taken and right {picked_right}, "
        f"taken and wrong {picked_wrong}; {seconds / args.count * 1000:.0f} ms per scored answer "
        f"({len(phrases)} phrases)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
