#!/usr/bin/env python3
"""Order numbers said on an 8 kHz line, and the known orders asked back in place of a number heard that
no order has (`Conversation.order_in_the_turn`, `CallSession._order_heard`).

    python bench/order_number_bench.py [N] [--seed S]

Each seed draws N order numbers said as the answer to "Quel est votre numéro de commande ?" or with the
request ("Pouvez-vous me dire où en est la commande … ?"), digit by digit, in pairs, in threes or whole,
half of them known orders and half numbers no order has a digit or two from a known one (a caller who
misreads the e-mail), in development-range Pico voices through the fixtures' phone line (a quarter on a
noisy line), with phrasings written apart from the call sets'. Each is decoded with the state's prompt
as in a call; where the dialog offers near orders, they are scored after the sentence's own words and
picked as the session does. Prints each number, then: known numbers read right by free decoding,
known orders asked back right and wrong, orders asked back for a number no order has, and the scoring's
cost.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import make_call_set  # bench/: how callers read an order number
import make_caller_set  # bench/: the fixtures' telephone line
from rapidfuzz.distance import Levenshtein
from store_ending_bench import best_ending  # bench/: the endings scored as a call scores them

from callbot.asr import load_engine
from callbot.asr.whisper_engine import WhisperEngine
from callbot.dialog import Conversation, default_flow_path, load_flow
from callbot.dialog.nlu import extract_order_number
from callbot.session.closed_set import order_taken

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))
#: Answers to "Quel est votre numéro de commande ?" ({n}: the number as said).
ANSWERS = (
    "Mon numéro de commande, c'est le {n}",
    "Euh, {n}",
    "Oui alors, c'est {n}",
    "Je vous le donne : {n}",
    "Le {n}",
)
#: Requests that carry the number.
REQUESTS = (
    "Pouvez-vous me dire où en est la commande {n} ?",
    "Bonjour, je vous appelle pour la commande numéro {n}",
    "J'aimerais savoir quand arrive ma commande {n}",
)
STYLES = ("whole", "digits", "pairs", "triples")


def misread(number: str, rng: random.Random, known: set[str]) -> str:
    """`number` with one or two digits changed, or one dropped or added: no known order."""
    while True:
        digits = list(number)
        for _ in range(rng.choice((1, 1, 2))):
            where = rng.randrange(len(digits))
            change = rng.choice(("swap", "swap", "drop", "add"))
            if change == "drop" and len(digits) > 6:
                del digits[where]
            elif change == "add" and len(digits) < 10:
                digits.insert(where, str(rng.randrange(10)))
            else:
                digits[where] = str((int(digits[where]) + rng.randrange(1, 10)) % 10)
        said = "".join(digits)
        if said not in known and said[0] != "0":
            return said


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("count", nargs="?", type=int, default=24)
    parser.add_argument("--seed", type=int, default=61)
    parser.add_argument("--edits", type=int, help="how far near orders may be (settings.near_order_digits)")
    args = parser.parse_args()
    flow = load_flow(default_flow_path())
    if args.edits is not None:
        settings = flow.settings.model_copy(update={"near_order_digits": args.edits})
        flow = dataclasses.replace(flow, settings=settings)
    assert flow.data is not None
    orders = sorted(flow.data.orders)
    engine = load_engine("whisper")
    assert isinstance(engine, WhisperEngine)
    rng = random.Random(args.seed)
    items: list[tuple[str, bool, str]] = []  # (number said, a known order, frame)
    for _ in range(args.count):
        number = rng.choice(orders)
        items.append((number, True, rng.choice(ANSWERS + REQUESTS)))
        items.append((misread(number, rng, set(orders)), False, rng.choice(ANSWERS + REQUESTS)))
    tally = {"free right": 0, "asked right": 0, "asked wrong": 0, "asked for none": 0, "offered": 0}
    seconds = 0.0
    for index, (number, known, frame) in enumerate(items):
        text = frame.format(n=make_call_set._order_said(number, rng.choice(STYLES)))
        text = text[0].upper() + text[1:]
        audio = make_caller_set.development_caller_audio(text, rng, args.seed * 1000 + index)
        conversation = Conversation(flow, now=lambda: NOW)
        conversation.start()
        if frame in ANSWERS:
            conversation.hear("Je voudrais suivre ma commande.")
        free = engine.transcribe(audio, conversation.hints, conversation.primer).text
        heard = extract_order_number(free, 6, 10)
        tally["free right"] += known and heard == number
        verdict = ""
        found = conversation.order_in_the_turn(free)
        if found is not None:
            tally["offered"] += 1
            best, heard_score, took = best_ending(engine, audio, found)
            seconds += took
            if best is not None:
                got = extract_order_number(best.reading, 6, 10)
                below = heard_score - best.score
                described = (
                    f"{got} ({best.score:.2f}, +{best.margin:.2f}; {below:.2f} below {found.heard!r} "
                    f"{heard_score:.2f}, {Levenshtein.distance(got or '', heard or '')} edits)"
                )
                if order_taken(best, heard_score):
                    tally["asked right"] += got == number
                    tally["asked wrong"] += known and got != number
                    tally["asked for none"] += not known
                    verdict = f"→ {described}" + ("" if got == number else " WRONG")
                else:
                    verdict = f"left: {described}"
        kind = "known" if known else "none "
        print(f"{kind} {number:>10} {text!r:72} free={free!r} {verdict}", flush=True)
    print(
        f"{args.count} known orders, {args.count} numbers no order has; seed {args.seed}\n"
        f"  known read right by free decoding {tally['free right']}; near orders scored on "
        f"{tally['offered']}: asked back right {tally['asked right']}, wrong {tally['asked wrong']}, "
        f"for a number no order has {tally['asked for none']}; "
        f"{seconds / max(tally['offered'], 1) * 1000:.0f} ms per scored number"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
