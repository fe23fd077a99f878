"""Closed-loop intelligibility: each TTS engine's prompts, through the telephone channel, transcribed.

    python bench/tts_intelligibility.py [--asr whisper] [--limit N]

Every fixed prompt of the default flow is synthesised by each engine at 8 kHz, put through G.711 μ-law
(what a caller's phone receives), resampled to the recogniser's rate and transcribed. The word error rate
against the normalised prompt text says how understandable the bot's voice is on a phone line: a
recogniser is a harsh but repeatable listener.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time

from callbot.asr import load_engine
from callbot.audio import FrameResampler, frames_from_pcm, ulaw_decode, ulaw_encode
from callbot.dialog import default_flow_path, load_flow
from callbot.dialog.nlu import normalize
from callbot.tts import create_synthesizer, speakable


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions, deletions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1]


def transcribe(engine, pcm8k: bytes) -> str:
    recognizer = engine.new_recognizer()
    resampler = FrameResampler(8000, recognizer.sample_rate)
    recognizer.start_turn()
    for frame in frames_from_pcm(pcm8k + bytes(8000), 8000):
        recognizer.accept(resampler.process(frame.pcm))
    recognizer.pause()
    return recognizer.finish().text


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--asr", default="auto")
    parser.add_argument("--limit", type=int, default=0, help="only the first N prompts")
    args = parser.parse_args()

    prompts = load_flow(default_flow_path()).fixed_prompts()
    if args.limit:
        prompts = prompts[: args.limit]
    engine = load_engine(args.asr)
    print(f"recogniser: {engine.description}; {len(prompts)} prompts of the default flow")
    engines = ["pico", "espeak"] if shutil.which("pico2wave") else ["espeak"]
    print(f"{'engine':8s} {'WER %':>7s} {'words':>6s} {'synth ms/prompt':>16s}")
    for name in engines:
        synth = create_synthesizer(name)
        errors = words = 0
        synth_s = 0.0
        try:
            for text in prompts:
                spoken = speakable(text)
                t0 = time.perf_counter()
                pcm = synth.synthesize(spoken, 8000)
                synth_s += time.perf_counter() - t0
                heard = transcribe(engine, ulaw_decode(ulaw_encode(pcm)))
                reference = normalize(spoken).split()
                errors += word_errors(reference, normalize(heard).split())
                words += len(reference)
        finally:
            synth.close()
        print(
            f"{name:8s} {100 * errors / max(words, 1):7.1f} {words:6d} {1000 * synth_s / len(prompts):16.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
