#!/usr/bin/env python3
"""Spoken call-back times on an 8 kHz line: free decoding with the domain prompt alone against the
domain prompt followed by the time primer the dialog gives Whisper while a call-back time is asked
(`Conversation.primer`, `SLOT_PRIMERS["datetime"]`).

    python bench/primer_bench.py [N] [--seeds 22,23,24,25] [--primer TEXT]

Each seed draws N times said as callers say them ("Vendredi à seize heures", "Vers treize heures
trente"), with and without a day, in development-range Pico voices through the fixtures' phone line
(a quarter of them on a noisy line), plus answers that hold no time ("Non merci, au revoir").
Prints, for each prompt, how many times were read with the right day and hour, the right hour, a
wrong time (read back before booking in a call), a day put into an answer that named none, and a time
put into an answer that held none.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import make_caller_set  # bench/: the fixtures' telephone line
import numpy as np

from callbot.asr import load_engine
from callbot.asr.whisper_engine import WhisperEngine
from callbot.audio.resample import resample
from callbot.dialog.conversation import SLOT_PRIMERS
from callbot.dialog.nlu import parse_when
from callbot.tts.french import number_to_words

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))
#: How callers say when ({w}: the hour in words), and the weekday each names (0 = Monday).
SAID = (
    ("Demain vers {w}", 1),
    ("Demain à {w}", 1),
    ("Jeudi à {w}", 3),
    ("Plutôt vers {w}", None),
    ("À {w}, s'il vous plaît", None),
    ("Mercredi vers {w}", 2),
    ("Vendredi à {w}", 4),
    ("À {w}", None),
    ("Vers {w}", None),
)
NO_TIME = (
    "Non merci, au revoir",
    "Oui, c'est ça",
    "Je voudrais parler à un conseiller",
    "Non, ce n'est pas ça",
    "Je ne sais pas",
    "Merci, bonne journée",
    "Oui, voilà",
    "C'est pour une réclamation",
)
DAY_WORDS = ("demain", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("count", nargs="?", type=int, default=40)
    parser.add_argument("--seeds", default="22,23,24,25")
    parser.add_argument("--primer", default=SLOT_PRIMERS["datetime"], help="the primer to compare")
    args = parser.parse_args()
    engine = load_engine("whisper")
    assert isinstance(engine, WhisperEngine)
    line = make_caller_set.line
    prompts = {"domain prompt": "", "with primer": args.primer}
    tally: dict[str, Counter[str]] = {name: Counter() for name in prompts}
    said_times = dayless = 0
    hours = [(hour, minute) for hour in range(9, 18) for minute in (0, 0, 30)]
    for seed in (int(s) for s in args.seeds.split(",")):
        rng = random.Random(seed)
        items: list[tuple[str, tuple[int, int] | None, int | None]] = []
        for _ in range(args.count):
            hour, minute = rng.choice(hours)
            words = "midi" if hour == 12 else f"{number_to_words(hour, feminine=True)} heures"
            words += " trente" if minute and hour != 12 else ""
            frame, weekday = rng.choice(SAID)
            items.append((frame.format(w=words), (hour, minute), weekday))
        items += [(text, None, None) for text in NO_TIME]
        for index, (text, truth, weekday) in enumerate(items):
            speed, pitch = rng.randint(89, 105), rng.randint(93, 107)
            voice = line.Voice(speed=speed, pitch=pitch, gain_db=rng.uniform(-3, 2))
            rendered = line.render_utterance(
                text, voice, seed=seed * 1000 + index, noise_dbfs=rng.choice([-60, -60, -48, -47])
            )
            audio = np.frombuffer(resample(rendered.pcm, 8000, 16000), "<i2").astype(np.float32) / 32768
            said_times += truth is not None
            dayless += truth is not None and weekday is None
            heard = []
            for name, primer in prompts.items():
                free = engine.transcribe(audio, (), primer).text
                when = parse_when(free, NOW)
                at = when.at if when is not None else None
                got = (at.hour, at.minute) if at is not None else None
                counts = tally[name]
                if truth is None:
                    counts["time put into a no-time answer"] += got is not None
                else:
                    counts["hour right"] += got == truth
                    counts["day and hour right"] += got == truth and (
                        weekday is None or (at is not None and at.weekday() == weekday)
                    )
                    counts["wrong time"] += got is not None and got != truth
                    if weekday is None:
                        counts["day put into a dayless answer"] += any(d in free.lower() for d in DAY_WORDS)
                heard.append(f"{name}: {free!r}")
            print(f"{text!r:44} " + " | ".join(heard), flush=True)
    print(
        f"{said_times} times said ({dayless} without a day), {len(NO_TIME) * len(args.seeds.split(','))} "
        f"answers without a time; primer: {args.primer!r}"
    )
    for name, counts in tally.items():
        print(f"  {name:14} " + ", ".join(f"{key} {value}" for key, value in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
