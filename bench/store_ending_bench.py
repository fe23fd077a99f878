#!/usr/bin/env python3
"""Requests that name their store at the end ("Est-ce qu'il vous reste un lampadaire Arco au magasin de
Lille ?") on an 8 kHz line: how often free decoding loses the store, and how often scoring the store
endings after the request's own words (`Conversation.store_in_the_request`, `CallSession`) gets it back.
With --products, the same for a product named in a stock request ("Avez-vous encore la lampe de bureau
Atelier en rayon ?", `Conversation.product_in_the_request`); with --times, for a call-back time said
after the verb ("Est-ce qu'on pourrait me rappeler mercredi à seize heures ?",
`Conversation.time_in_the_request`).

    python bench/store_ending_bench.py [N] [--seed S] [--products | --times]

Each seed draws N requests for hours, an address or stock that end on a store ("… au magasin de Lyon",
"… du Vieux-Port"), and as many that end on "de" and something else ("… vos horaires de Noël", "… la
bougie de la vitrine"); with --products, N stock requests naming a product of the catalogue and N naming
one it does not hold ("la lampe Tizio", "un canapé d'angle"); with --times, N call-back requests with
a time (a day and an hour, or a bare hour) and N without one ("Pouvez-vous me rappeler plus tard ?"); in
development-range Pico voices through the fixtures' phone line (a quarter on a noisy line). Each is
decoded with the menu's prompt as in a call; where the dialog offers endings, they are scored and picked
as the session does (priors discounted, a clear lead only). Prints each request, then: names found by
free decoding, names the endings gave back (right and wrong), names put into requests that named none,
and the scoring's cost.
"""

from __future__ import annotations

import argparse
import functools
import random
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import make_caller_set  # bench/: the fixtures' telephone line
import numpy as np

from callbot.asr import load_engine
from callbot.asr.whisper_engine import WhisperEngine
from callbot.dialog import Conversation, Flow, default_flow_path, french, load_flow
from callbot.dialog.actions import Say
from callbot.dialog.turns import RequestEndings
from callbot.session.closed_set import ClosedSetPick, TimeHeard, ending_taken, pick, time_heard

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))
#: Requests that end on a store ({s}: "de Lyon", "du Vieux-Port"…), written apart from the flow's examples.
WITH_STORE = (
    "Est-ce qu'il vous reste un lampadaire Arco au magasin {s} ?",
    "Je voudrais l'adresse du magasin {s}",
    "Vous ouvrez à quelle heure au magasin {s} ?",
    "Quels sont les horaires du magasin {s} ?",
    "Avez-vous encore la suspension Opaline au magasin {s} ?",
    "Pouvez-vous me donner l'adresse de celui {s} ?",
    # the store inside the request, written after the endings were tuned
    "Le magasin {s} ouvre à quelle heure samedi ?",
    "Le magasin {s} est ouvert jusqu'à quelle heure ?",
)
#: The store endings callers say ({s} above), and the store each names.
ENDINGS = {
    "de Paris": "Paris Rivoli",
    "de Rivoli": "Paris Rivoli",
    "de Lyon": "Lyon Part-Dieu",
    "de la Part-Dieu": "Lyon Part-Dieu",
    "de Marseille": "Marseille Vieux-Port",
    "du Vieux-Port": "Marseille Vieux-Port",
    "de Lille": "Lille Grand Place",
    "de la Grand-Place": "Lille Grand Place",
}
#: Requests that end on "de" and no store.
WITHOUT_STORE = (
    "Quels sont vos horaires de Noël ?",
    "Est-ce que vous avez la bougie de la vitrine ?",
    "Je voudrais l'adresse du magasin le plus près de chez moi",
    "Vous êtes ouverts le jour de l'an ?",
    "Est-ce qu'il vous reste des ampoules de rechange ?",
    "Quelle est l'adresse de votre entrepôt de Rungis ?",
    "Avez-vous encore le lampadaire de la photo ?",
    "Vous fermez à quelle heure le soir de Noël ?",
    # written after the rule was tuned (seeds 47 and 53 count them): cities without a store among them
    "Je voudrais l'adresse du magasin de Bordeaux",
    "Quels sont les horaires du magasin de Nantes ?",
    "Vous avez un magasin du côté de Toulouse ?",
    "Est-ce que vous avez la lampe de chevet ?",
    "Il vous reste des ampoules de cuisine ?",
    "Avez-vous encore le plafonnier de la vitrine de gauche ?",
    "Vous avez des bougies de couleur ?",
    "Est-ce qu'il vous reste des lampes de jardin ?",
    "Quelle est l'adresse de votre dépôt de Lens ?",
    "Avez-vous encore la suspension de la publicité ?",
    # "magasin de" inside the request, and no store of the chain
    "Le magasin de Bordeaux ouvre à quelle heure ?",
    "Le magasin de meubles d'à côté est ouvert le dimanche ?",
    "Le magasin de Nantes est ouvert jusqu'à quelle heure ?",
    "Le magasin de bricolage ouvre à quelle heure ?",
)

#: Stock requests naming a product ({p}), written apart from the flow's examples.
WITH_PRODUCT = (
    "Est-ce qu'il vous reste {p} au magasin de Lyon ?",
    "Bonjour, avez-vous encore {p} en rayon ?",
    "Je voudrais savoir si vous avez {p} en stock",
    "Vous auriez {p} ?",
    "Je cherche {p}, il vous en reste ?",
    "Est-ce que {p} est disponible ?",
)
#: How callers name the catalogue's products ({p} above), and the product each names.
PRODUCTS = {
    "un lampadaire Arco": "le lampadaire Arco",
    "la suspension Opaline": "la suspension Opaline",
    "une lampe de chevet Nuage": "la lampe de chevet Nuage",
    "l'applique murale Laiton": "l'applique murale Laiton",
    "une guirlande Guinguette": "la guirlande Guinguette",
    "l'ampoule LED à filament": "l'ampoule LED à filament",
    "la lampe de bureau Atelier": "la lampe de bureau Atelier",
    "une bougie parfumée Figuier": "la bougie parfumée Figuier",
    "le miroir Soleil": "le miroir Soleil",
    "un plafonnier Halo": "le plafonnier Halo",
}
#: Stock requests naming a product the catalogue does not hold.
WITHOUT_PRODUCT = (
    "Est-ce qu'il vous reste la lampe Tizio au magasin de Lyon ?",
    "Avez-vous encore des tabourets de bar en rayon ?",
    "Je voudrais savoir si vous avez un canapé d'angle en stock",
    "Vous auriez une table basse en chêne ?",
    "Est-ce que vous avez le fauteuil Eames ?",
    "Je cherche un tapis berbère, il vous en reste ?",
    "Avez-vous la lampe de la vitrine en stock ?",
    "Vous avez encore le modèle de la publicité ?",
    "Est-ce qu'il vous reste une lampe à poser rouge ?",
    "Je voudrais savoir si vous avez un abat-jour en lin",
    "Vous auriez des spots encastrables ?",
    "Est-ce que la chaise Tulipe est disponible ?",
)

#: Call-back requests with a time ({t}), written apart from the flow's examples.
WITH_TIME = (
    "Est-ce qu'on pourrait me rappeler {t} ?",
    "Je voudrais être rappelé {t}",
    "Pouvez-vous me rappeler {t}, s'il vous plaît ?",
    "Bonjour, j'aimerais qu'un conseiller me rappelle {t}",
    "Rappelez-moi {t}",
    "Il faudrait me rappeler {t}",
)
#: Times callers say ({t} above) → (days ahead of NOW, a Monday, and hour).
TIMES = {
    "demain à quatorze heures": (1, 14),
    "mercredi à seize heures": (2, 16),
    "jeudi vers dix heures": (3, 10),
    "après-demain à onze heures": (2, 11),
    "vendredi à quinze heures": (4, 15),
    "demain vers neuf heures": (1, 9),
    "jeudi à dix-sept heures": (3, 17),
    "samedi à dix heures": (5, 10),
    # a bare hour is today's (written after the first runs: no day is to be found there)
    "à seize heures": (0, 16),
    "vers quinze heures": (0, 15),
}
#: Call-back requests without a time.
WITHOUT_TIME = (
    "Pouvez-vous me rappeler plus tard ?",
    "Je voudrais être rappelé par le service client",
    "Est-ce qu'on pourrait me rappeler ?",
    "J'aimerais qu'on me rappelle pour ma commande",
    "Rappelez-moi sur mon portable, s'il vous plaît",
    "Je voudrais être rappelé dès que possible",
    "Il faudrait me rappeler rapidement",
    "Pouvez-vous me rappeler à ce numéro ?",
    "Je voudrais qu'on me rappelle, c'est urgent",
    "Vous pouvez me rappeler quand vous voulez",
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("count", nargs="?", type=int, default=24)
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--products", action="store_true", help="products named in stock requests")
    parser.add_argument("--times", action="store_true", help="call-back times said after the verb")
    args = parser.parse_args()
    source, slot = ("products", "produit") if args.products else ("stores", "magasin")
    if args.times:
        source, slot = "times", "creneau_rappel"
    flow = load_flow(default_flow_path())
    assert flow.data is not None
    engine = load_engine("whisper")
    assert isinstance(engine, WhisperEngine)
    rng = random.Random(args.seed)
    items: list[tuple[str, str | None]] = []
    for _ in range(args.count):
        if args.times:
            said = rng.choice(list(TIMES))
            ahead, hour = TIMES[said]
            at = (NOW + timedelta(days=ahead)).replace(hour=hour, minute=0)
            items.append((rng.choice(WITH_TIME).format(t=said), at.isoformat()))
            items.append((rng.choice(WITHOUT_TIME), None))
        elif args.products:
            said = rng.choice(list(PRODUCTS))
            items.append((rng.choice(WITH_PRODUCT).format(p=said), PRODUCTS[said]))
            items.append((rng.choice(WITHOUT_PRODUCT), None))
        else:
            ending = rng.choice(list(ENDINGS))
            items.append((rng.choice(WITH_STORE).format(s=ending), ENDINGS[ending]))
            items.append((rng.choice(WITHOUT_STORE), None))
    tally = {
        "free": 0,
        "given back": 0,
        "day given back": 0,
        "given back wrong": 0,
        "put in": 0,
        "offered": 0,
    }
    seconds = 0.0
    for index, (text, store) in enumerate(items):
        audio = make_caller_set.development_caller_audio(text, rng, args.seed * 1000 + index)
        conversation = Conversation(flow, now=lambda: NOW)
        conversation.start()
        free = engine.transcribe(audio, conversation.hints).text
        # The store the dialog takes from the free reading, as a call would (a fresh conversation).
        heard = Conversation(flow, now=lambda: NOW)
        heard.start()
        key = heard.hear(free).slots.get(slot)
        named = _named(flow, source, key)
        tally["free"] += store is not None and named == store
        verdict = ""
        if args.times:
            timed = conversation.time_in_the_request(free)
            if timed is not None:
                tally["offered"] += 1
                started = time.perf_counter()
                heard_time = time_heard(timed, functools.partial(_scores_and_priors, engine, audio))
                seconds += time.perf_counter() - started
                verdict = _time_verdict(flow, heard_time, named, store, tally)
            print(f"{text!r:64} free={free!r} {verdict}", flush=True)
            continue
        find = conversation.product_in_the_request if args.products else conversation.store_in_the_request
        found: RequestEndings | None = find(free)
        if found is not None:
            tally["offered"] += 1
            chosen, heard_score, took = best_ending(engine, audio, found)
            seconds += took
            if chosen is not None:
                # the dialog names it in the reading as it would in the call
                again = Conversation(flow, now=lambda: NOW)
                again.start()
                got = _named(flow, source, again.hear(chosen.reading).slots.get(slot)) or "(none)"
                described = (
                    f"{got} ({chosen.score:.2f}, +{chosen.margin:.2f}; "
                    f"heard {found.heard!r} {heard_score:.2f})"
                )
                if ending_taken(chosen, heard_score, found):
                    tally["given back"] += got == store
                    tally["given back wrong"] += store is not None and got != store
                    tally["put in"] += store is None
                    verdict = f"→ {described}" + ("" if got == store else " WRONG")
                else:
                    verdict = f"left: {described}"
        print(f"{text!r:64} free={free!r} {verdict}", flush=True)
    what = {"products": "product", "stores": "store", "times": "time"}[source]
    days = f" (and the day alone {tally['day given back']})" if args.times else ""
    print(
        f"{args.count} requests naming a {what}, {args.count} naming none; seed {args.seed}\n"
        f"  {what} named by free decoding {tally['free']}; endings scored on {tally['offered']} requests: "
        f"{what} given back {tally['given back']}{days}, given back wrong {tally['given back wrong']}, "
        f"put into a request that named none {tally['put in']}; "
        f"{seconds / max(tally['offered'], 1) * 1000:.0f} ms per scored request"
    )
    return 0


def best_ending(
    engine: WhisperEngine, audio: np.ndarray, found: RequestEndings
) -> tuple[ClosedSetPick | None, float, float]:
    """The ending of `found` the audio supports best after its prefix, priors discounted, as a call picks
    it (`CallSession._best_ending`); the score of what was heard there; the seconds the scoring took."""
    phrases = [found.heard, *found.endings]
    started = time.perf_counter()
    scores = engine.score(audio, phrases, found.prefix)
    priors = engine.prior(phrases, found.prefix)
    took = time.perf_counter() - started
    return pick(found.endings, scores[1:], priors[1:]), scores[0], took


def _scores_and_priors(
    engine: WhisperEngine, audio: np.ndarray, phrases: list[str], prefix: str, priors: bool
) -> tuple[list[float], list[float] | None]:
    """The phrases' scores after `prefix` on `audio`, with their priors when asked for, as a call
    scores them (`CallSession._scores_and_priors`)."""
    return engine.score(audio, phrases, prefix), engine.prior(phrases, prefix) if priors else None


def _time_verdict(
    flow: Flow, heard: TimeHeard | None, free: str | None, said: str | None, tally: dict[str, int]
) -> str:
    """Count and describe what the days and hours scored after the verb gave the request: the time said
    (day and hour), its day alone (the bot then asks the hour), a wrong time or day, or a time put into a
    request that said none."""
    if heard is None:
        return ""
    described = " ".join(
        f"{found.reading} ({found.score:.2f}, +{found.margin:.2f})"
        for found in (heard.day, heard.hour)
        if found is not None
    )
    if heard.reading is None:
        return f"left: {described}"
    again = Conversation(flow, now=lambda: NOW)
    again.start()
    result = again.hear(heard.reading)
    if "creneau_rappel" not in result.slots and "c'est bien ça" in " ".join(
        action.text for action in result.actions if isinstance(action, Say)
    ):
        result = again.hear("oui")  # a call-back guess asked back, the time kept
    got = _named(flow, "times", result.slots.get("creneau_rappel"))
    if said is None:
        tally["put in"] += 1
        return f"→ {described} PUT IN"
    if got == said and got != free:
        tally["given back"] += 1
        return f"→ {described} = {got}"
    said_day = f"le {french.day_and_month(datetime.fromisoformat(said).date())}"
    if got is None and heard.day is not None and heard.day.reading == said_day:
        tally["day given back"] += 1
        return f"→ {described}: the day"
    tally["given back wrong"] += got != said
    return f"→ {described} = {got} WRONG"


def _named(flow: Flow, source: str, key: object) -> str | None:
    """What a slot's value names: the store or product (its display name), the call-back time (ISO)."""
    if key is None:
        return None
    if source == "times":
        return key.isoformat() if isinstance(key, datetime) else str(key)
    assert flow.data is not None
    return flow.data.display(source, str(key))


if __name__ == "__main__":
    raise SystemExit(main())
