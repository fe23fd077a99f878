"""Speech synthesis costs: ms per prompt for each engine at 8 kHz, prompt-cache hits, 4-thread throughput.

Run: /work/venv/bin/python bench/tts_bench.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from callbot.tts import EspeakSynthesizer, PicoSynthesizer, PromptCache, Synthesizer, speakable
from callbot.tts.espeak import espeak_available
from callbot.tts.pico import pico_available

RATE = 8000
PROMPTS = [
    "Bonjour, bienvenue chez nous. Que puis-je faire pour vous ?",
    "Je n'ai pas compris. Pouvez-vous répéter ?",
    "Votre rendez-vous est confirmé le 23/11/2026 à 14h30.",
    "Le montant de votre commande est de 12,50 €.",
    "Votre commande CMD-458129 a été expédiée ce matin.",
    "Un conseiller vous rappellera au 06 12 34 56 78.",
    "Je vous passe un conseiller, merci de patienter.",
    "Souhaitez-vous être rappelé demain matin ?",
    "Au revoir et bonne journée.",
    "Pour un rendez-vous, dites rendez-vous. Pour une commande, dites commande.",
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed_ms(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def per_prompt(synth: Synthesizer, rounds: int) -> None:
    texts = [speakable(p) for p in PROMPTS]
    synth.synthesize(texts[0], RATE)  # warm-up
    times = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            synth.synthesize(text, RATE)
            times.append((time.perf_counter() - start) * 1000)
    audio_s = sum(len(synth.synthesize(t, RATE)) / 2 / RATE for t in texts) / len(texts)
    print(
        f"  {synth.description:<40} per prompt p50 {statistics.median(times):6.1f} ms  "
        f"p95 {percentile(times, 0.95):6.1f} ms  (mean audio {audio_s:.2f} s, {len(times)} prompts)"
    )


def throughput(synth: Synthesizer, threads: int, rounds: int) -> float:
    texts = [speakable(p) for p in PROMPTS] * rounds
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda t: synth.synthesize(t, RATE), texts))
    return len(texts) / (time.perf_counter() - start)


def cache_costs(synth: Synthesizer) -> None:
    cache = PromptCache(synth, RATE)
    first = timed_ms(lambda: cache.preload(PROMPTS))
    hits = 20000
    start = time.perf_counter()
    for i in range(hits):
        cache.get(PROMPTS[i % len(PROMPTS)])
    hit_us = (time.perf_counter() - start) / hits * 1e6
    normalise_us = timed_ms(lambda: [speakable(p) for p in PROMPTS * 100]) * 1000 / (len(PROMPTS) * 100)
    print(f"  preload of {len(PROMPTS)} prompts: {first:.0f} ms; cache hit: {hit_us:.1f} µs per get")
    print(f"  speakable() alone: {normalise_us:.1f} µs per prompt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the prompt list (default 5)")
    rounds = parser.parse_args().rounds
    engines: list[Synthesizer] = []
    if pico_available():
        engines.append(PicoSynthesizer())
    if espeak_available():
        start = time.perf_counter()
        engines.append(EspeakSynthesizer())
        print(f"espeak worker start-up: {(time.perf_counter() - start) * 1000:.0f} ms")
    try:
        print(f"Synthesis at {RATE} Hz, one thread:")
        for synth in engines:
            per_prompt(synth, rounds)
        print("Throughput (prompts/s), 1 thread vs 4 threads:")
        for synth in engines:
            one, four = throughput(synth, 1, rounds), throughput(synth, 4, rounds)
            print(f"  {synth.description:<40} 1 thread {one:6.1f}/s   4 threads {four:6.1f}/s")
        if engines:
            print(f"Prompt cache in front of {engines[0].description}:")
            cache_costs(engines[0])
    finally:
        for synth in engines:
            synth.close()


if __name__ == "__main__":
    main()
