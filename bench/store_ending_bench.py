#!/usr/bin/env python3
"""Requests that name their store at the end ("Est-ce qu'il vous reste un lampadaire Arco au magasin de
Lille ?") on an 8 kHz line: how often free decoding loses the store, and how often scoring the store
endings after the request's own words (`Conversation.store_in_the_request`, `CallSession`) gets it back.
With --products, the same for a product named in a stock request ("Avez-vous encore la lampe de bureau
Atelier en rayon ?", `Conversation.product_in_the_request`).

    python bench/store_ending_bench.py [N] [--seed S] [--products]

Each seed draws N requests for hours, an address or stock that end on a store ("… au magasin de Lyon",
"… du Vieux-Port"), and as many that end on "de" and something else ("… vos horaires de Noël", "… la
bougie de la vitrine"); with --products, N stock requests naming a product of the catalogue and N naming
one it does not hold ("la lampe Tizio", "un canapé d'angle"), in development-range Pico voices through
the fixtures' phone line (a quarter on a noisy line). Each is decoded with the menu's prompt as in a
call; where the dialog offers endings, they are scored and picked as the session does (priors
discounted, a clear lead only). Prints each request, then: names found by free decoding, names the
endings gave back (right and wrong), names put into requests that named none, and the scoring's cost.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import make_caller_set  # bench/: the fixtures' telephone line
import numpy as np

from callbot.asr import load_engine
from callbot.asr.whisper_engine import WhisperEngine
from callbot.audio.resample import resample
from callbot.dialog import Conversation, default_flow_path, load_flow
from callbot.dialog.turns import RequestEndings
from callbot.session.closed_set import ending_taken, pick

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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("count", nargs="?", type=int, default=24)
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--products", action="store_true", help="products named in stock requests")
    args = parser.parse_args()
    source, slot = ("products", "produit") if args.products else ("stores", "magasin")
    flow = load_flow(default_flow_path())
    assert flow.data is not None
    engine = load_engine("whisper")
    assert isinstance(engine, WhisperEngine)
    line = make_caller_set.line
    rng = random.Random(args.seed)
    items: list[tuple[str, str | None]] = []
    for _ in range(args.count):
        if args.products:
            said = rng.choice(list(PRODUCTS))
            items.append((rng.choice(WITH_PRODUCT).format(p=said), PRODUCTS[said]))
            items.append((rng.choice(WITHOUT_PRODUCT), None))
        else:
            ending = rng.choice(list(ENDINGS))
            items.append((rng.choice(WITH_STORE).format(s=ending), ENDINGS[ending]))
            items.append((rng.choice(WITHOUT_STORE), None))
    tally = {"free": 0, "given back": 0, "given back wrong": 0, "put in": 0, "offered": 0}
    seconds = 0.0
    for index, (text, store) in enumerate(items):
        voice = line.Voice(speed=rng.randint(89, 105), pitch=rng.randint(93, 107), gain_db=rng.uniform(-3, 2))
        rendered = line.render_utterance(
            text, voice, seed=args.seed * 1000 + index, noise_dbfs=rng.choice([-60, -60, -60, -48])
        )
        audio = np.frombuffer(resample(rendered.pcm, 8000, 16000), "<i2").astype(np.float32) / 32768
        conversation = Conversation(flow, now=lambda: NOW)
        conversation.start()
        free = engine.transcribe(audio, conversation.hints).text
        # The store the dialog takes from the free reading, as a call would (a fresh conversation).
        heard = Conversation(flow, now=lambda: NOW)
        heard.start()
        key = heard.hear(free).slots.get(slot)
        named = flow.data.display(source, key) if key is not None else None
        tally["free"] += store is not None and named == store
        find = conversation.product_in_the_request if args.products else conversation.store_in_the_request
        found: RequestEndings | None = find(free)
        verdict = ""
        if found is not None:
            tally["offered"] += 1
            phrases = [found.heard, *found.endings]
            started = time.perf_counter()
            scores = engine.score(audio, phrases, found.prefix)
            priors = engine.prior(phrases, found.prefix)
            seconds += time.perf_counter() - started
            chosen = pick(found.endings, scores[1:], priors[1:])
            if chosen is not None:
                # the dialog names it in the reading as it would in the call
                again = Conversation(flow, now=lambda: NOW)
                again.start()
                picked = again.hear(chosen.reading).slots.get(slot)
                got = flow.data.display(source, picked) if picked is not None else "(none)"
                described = (
                    f"{got} ({chosen.score:.2f}, +{chosen.margin:.2f}; heard {found.heard!r} {scores[0]:.2f})"
                )
                if ending_taken(chosen, scores[0], source):
                    tally["given back"] += got == store
                    tally["given back wrong"] += store is not None and got != store
                    tally["put in"] += store is None
                    verdict = f"→ {described}" + ("" if got == store else " WRONG")
                else:
                    verdict = f"left: {described}"
        print(f"{text!r:64} free={free!r} {verdict}", flush=True)
    what = "product" if args.products else "store"
    print(
        f"{args.count} requests naming a {what}, {args.count} naming none; seed {args.seed}\n"
        f"  {what} named by free decoding {tally['free']}; endings scored on {tally['offered']} requests: "
        f"{what} given back {tally['given back']}, given back wrong {tally['given back wrong']}, put into a "
        f"request that named none {tally['put in']}; "
        f"{seconds / max(tally['offered'], 1) * 1000:.0f} ms per scored request"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
