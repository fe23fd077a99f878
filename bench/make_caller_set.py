#!/usr/bin/env python3
"""Generate a larger labelled set of French caller utterances (WAVs + labels.json) into a directory.

The committed fixtures (tests/fixtures/callers) are a handful of sentences; measuring intent accuracy or
recogniser error needs many paraphrases spoken by many voices. This script combines paraphrase templates
with stores, products, order numbers (said as a whole number, digit by digit, or in pairs) and call-back
times, speaks each with a random Pico voice, and passes it through the same telephone line as the
fixtures (tests/fixtures/make_caller_audio.py). About one file in five gets a noisy line. The output is
deterministic for a given --seed and is not committed.

Usage: python bench/make_caller_set.py OUT_DIR [--per-intent N] [--seed S]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from callbot.audio import write_wav
from callbot.audio.resample import resample
from callbot.tts.french import number_to_words

GENERATOR_PATH = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "make_caller_audio.py"
#: Share of files on a noisy line, and how noisy (dBFS RMS; webrtcvad struggles above about -35).
NOISY_SHARE = 0.2
NOISY_RANGE_DBFS = (-46.0, -40.0)
GAIN_RANGE_DB = (-6.0, 4.0)


def _load_line_generator() -> ModuleType:
    """The fixture generator is a script, not a package module: load it from its path (once)."""
    loaded = sys.modules.get("make_caller_audio")
    if loaded is not None and Path(str(loaded.__file__)).resolve() == GENERATOR_PATH:
        return loaded
    spec = importlib.util.spec_from_file_location("make_caller_audio", GENERATOR_PATH)
    if spec is None or spec.loader is None:
        raise SystemExit(f"error: cannot load the fixture generator at {GENERATOR_PATH}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


line = _load_line_generator()


# --- order numbers as callers say them (French words from the TTS normaliser's speller) ------------


def development_caller_audio(text: str, rng: random.Random, seed: int) -> np.ndarray:
    """`text` said by a development-range Pico voice (speed 89–105, pitch 93–107, gain −3…+2 dB) through
    the telephone line, quiet three times in four and at −48 dBFS otherwise, as float32 at 16 kHz: the
    caller the closed-set, store-ending and order-number benches score. Draws from `rng` in a fixed
    order, so a bench's seed gives the same audio."""
    voice = line.Voice(speed=rng.randint(89, 105), pitch=rng.randint(93, 107), gain_db=rng.uniform(-3, 2))
    rendered = line.render_utterance(text, voice, seed=seed, noise_dbfs=rng.choice([-60, -60, -60, -48]))
    return np.frombuffer(resample(rendered.pcm, 8000, 16000), "<i2").astype(np.float32) / 32768


def order_number_said(number: str, rng: random.Random) -> str:
    """How a caller reads a 6-digit order number: whole, digit by digit, or in pairs."""
    style = rng.choice(("whole", "digits", "digits", "pairs"))
    if style == "whole":
        return number_to_words(int(number))
    if style == "digits":
        return ", ".join(number_to_words(int(digit)) for digit in number)
    pairs = [number[i : i + 2] for i in range(0, 6, 2)]
    return ", ".join(
        f"zéro {number_to_words(int(p[1]))}" if p[0] == "0" else number_to_words(int(p)) for p in pairs
    )


# --- slot fillers ------------------------------------------------------------------------------------

#: Per store: names for it ("magasin de Lyon") and ways to say where it is ("à la Part-Dieu").
STORE_PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Paris Rivoli": (
        ("magasin de Rivoli", "magasin de Paris Rivoli", "magasin de Paris"),
        ("à Paris Rivoli", "rue de Rivoli", "à Paris"),
    ),
    "Lyon Part-Dieu": (
        ("magasin de Lyon", "magasin de la Part-Dieu", "magasin de Lyon Part-Dieu"),
        ("à Lyon", "à la Part-Dieu"),
    ),
    "Marseille Vieux-Port": (
        ("magasin de Marseille", "magasin du Vieux-Port"),
        ("à Marseille", "au Vieux-Port"),
    ),
    "Lille Grand Place": (
        ("magasin de Lille", "magasin de la Grand Place"),
        ("à Lille", "à Lille Grand Place"),
    ),
}

#: Product name (the slot value), with its indefinite and definite forms.
PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("aspirateur robot", "un aspirateur robot", "l'aspirateur robot"),
    ("cafetière", "une cafetière", "la cafetière"),
    ("lampe de bureau", "une lampe de bureau", "la lampe de bureau"),
    ("bouilloire", "une bouilloire", "la bouilloire"),
    ("machine à café", "une machine à café", "la machine à café"),
    ("casque audio", "un casque audio", "le casque audio"),
    ("ventilateur", "un ventilateur", "le ventilateur"),
    ("fer à repasser", "un fer à repasser", "le fer à repasser"),
    ("robot de cuisine", "un robot de cuisine", "le robot de cuisine"),
    ("radiateur électrique", "un radiateur électrique", "le radiateur électrique"),
)

#: Call-back day phrase and its label.
CALLBACK_DAYS = (
    ("demain", "demain"),
    ("après-demain", "après-demain"),
    ("lundi prochain", "lundi prochain"),
    ("mardi", "mardi"),
    ("jeudi prochain", "jeudi prochain"),
    ("vendredi", "vendredi"),
    ("cet après-midi", "aujourd'hui"),
    ("dans l'après-midi", "aujourd'hui"),
)
#: Call-back time phrase and its label: ("HH:MM", None) for a time, (None, moment) for a part of the day.
CALLBACK_TIMES: tuple[tuple[str, str | None, str | None], ...] = (
    ("à quinze heures", "15:00", None),
    ("vers dix heures", "10:00", None),
    ("à quatorze heures trente", "14:30", None),
    ("vers seize heures et demie", "16:30", None),
    ("à neuf heures", "09:00", None),
    ("à midi", "12:00", None),
    ("à dix-sept heures", "17:00", None),
    ("en fin de matinée", None, "fin de matinée"),
    ("en début d'après-midi", None, "début d'après-midi"),
    ("dans la matinée", None, "matinée"),
    ("en fin de journée", None, "fin de journée"),
)


@dataclass(frozen=True)
class Sentence:
    text: str
    slots: dict[str, str]


Maker = Callable[[random.Random], Sentence]


@dataclass(frozen=True)
class StoreSaid:
    """One way a caller names a store: "magasin de Lyon", "à la Part-Dieu", "du magasin de Lyon"."""

    store: str
    name: str
    at: str
    of: str


def _store(rng: random.Random) -> StoreSaid:
    store = rng.choice(sorted(STORE_PHRASES))
    names, places = STORE_PHRASES[store]
    name = rng.choice(names)
    at = rng.choice((*places, f"au {name}", f"dans votre {name}"))
    return StoreSaid(store, name, at, rng.choice((f"du {name}", f"de votre {name}")))


def _sentence(text: str, slots: dict[str, str]) -> Sentence:
    return Sentence(text[0].upper() + text[1:], slots)


def _templates_with_store(*templates: str) -> list[Maker]:
    def maker(template: str) -> Maker:
        def make(rng: random.Random) -> Sentence:
            said = _store(rng)
            return _sentence(template.format(a=said.at, de=said.of, m=said.name), {"magasin": said.store})

        return make

    return [maker(t) for t in templates]


def _plain(*texts: str) -> list[Maker]:
    def maker(text: str) -> Maker:
        def make(rng: random.Random) -> Sentence:
            return _sentence(text, {})

        return make

    return [maker(t) for t in texts]


def _order_makers(*templates: str) -> list[Maker]:
    def maker(template: str) -> Maker:
        def make(rng: random.Random) -> Sentence:
            number = str(rng.randrange(100_000, 1_000_000))
            return _sentence(template.format(n=order_number_said(number, rng)), {"numero_commande": number})

        return make

    return [maker(t) for t in templates]


def _product_makers(*templates: str, with_store: bool) -> list[Maker]:
    def maker(template: str) -> Maker:
        def make(rng: random.Random) -> Sentence:
            name, indefinite, definite = rng.choice(PRODUCTS)
            slots = {"produit": name}
            place = {}
            if with_store:
                said = _store(rng)
                slots["magasin"] = said.store
                place = {"a": said.at, "de": said.of, "m": said.name}
            return _sentence(template.format(un=indefinite, le=definite, **place), slots)

        return make

    return [maker(t) for t in templates]


def _callback_makers(*templates: str) -> list[Maker]:
    def maker(template: str) -> Maker:
        def make(rng: random.Random) -> Sentence:
            day, day_label = rng.choice(CALLBACK_DAYS)
            # "Cet après-midi" only goes with an afternoon hour.
            fits = [t for t in CALLBACK_TIMES if day_label != "aujourd'hui" or (t[1] or "") >= "14:00"]
            when, hour, moment = rng.choice(fits)
            phrase = f"{day} {when}"
            slots = {"rappel": phrase, "rappel_jour": day_label}
            if hour:
                slots["rappel_heure"] = hour
            if moment:
                slots["rappel_moment"] = moment
            return _sentence(template.format(quand=phrase), slots)

        return make

    return [maker(t) for t in templates]


PARAPHRASES: dict[str, list[Maker]] = {
    "horaires": [
        *_plain(
            "Vous fermez à quelle heure ce soir ?",
            "C'est ouvert le dimanche chez vous ?",
            "À quelle heure ouvrez-vous le matin ?",
            "Je voulais connaître vos heures d'ouverture",
            "Vous êtes ouverts entre midi et deux ?",
        ),
        *_templates_with_store(
            "Quels sont les horaires {de} ?",
            "Jusqu'à quelle heure est-ce que vous êtes ouverts {a} ?",
            "Le samedi, le {m} ouvre à quelle heure ?",
            "Vous êtes ouverts {a} les jours fériés ?",
            "J'aimerais savoir les heures d'ouverture {de}",
        ),
    ],
    "suivi_commande": [
        *_order_makers(
            "Je voudrais suivre ma commande, le numéro c'est {n}",
            "J'appelle pour la commande {n}, elle devait arriver hier",
            "Mon numéro de commande est {n}",
            "Je n'ai pas encore reçu mon colis, commande {n}",
            "Pouvez-vous me dire quand ma commande {n} sera livrée ?",
            "C'est pour savoir où en est la commande {n}",
        ),
        *_plain(
            "Je voudrais savoir quand mon colis va arriver",
            "Ma commande n'est toujours pas arrivée",
            "Je n'ai aucune nouvelle de ma livraison",
        ),
    ],
    "disponibilite": _product_makers(
        "Est-ce que vous avez {un} en stock {a} ?",
        "Il vous reste {le} {a} ?",
        "Je voudrais savoir si {le} est disponible {a}",
        "Vous avez encore {un} {a} ?",
        "Je cherche {un}, est-ce que vous en avez {a} ?",
        "Est-ce que {le} est en rayon {a} ?",
        "Je peux trouver {un} {a} aujourd'hui ?",
        with_store=True,
    ),
    "adresse_magasin": [
        *_templates_with_store(
            "Quelle est l'adresse {de} ?",
            "Vous pouvez me donner l'adresse {de} ?",
            "Où se trouve le {m} ?",
            "Comment je fais pour aller au {m} ?",
            "C'est où exactement, le {m} ?",
            "Je cherche l'adresse {de}",
        ),
        *_plain(
            "Où se trouve votre magasin le plus proche ?",
            "Vous avez un magasin près de chez moi ?",
        ),
    ],
    "rappel": _callback_makers(
        "Vous pouvez me rappeler {quand} ?",
        "J'aimerais qu'on me rappelle {quand}",
        "Je voudrais être rappelé {quand}, s'il vous plaît",
        "Est-ce qu'un conseiller peut me rappeler {quand} ?",
        "Rappelez-moi plutôt {quand}",
        "Je ne suis pas disponible, rappelez-moi {quand}",
        "Je préférerais être rappelée {quand}",
    ),
    "conseiller": _plain(
        "Je voudrais parler à quelqu'un",
        "Passez-moi un conseiller, s'il vous plaît",
        "Est-ce que je peux avoir un conseiller en ligne ?",
        "Je préfère parler à une vraie personne",
        "Mettez-moi en relation avec un conseiller",
        "J'aimerais avoir un être humain au téléphone",
        "Je voudrais parler au service client",
        "Il me faut un conseiller, c'est compliqué",
        "Je peux parler à un vendeur ?",
        "Un conseiller, s'il vous plaît",
    ),
    "reclamation": [
        *_product_makers(
            "{le} ne fonctionne plus au bout d'une semaine, je veux un remboursement",
            "Je voudrais retourner {le}, il y a un défaut",
            "J'ai reçu {un} en mauvais état",
            with_store=False,
        ),
        *_plain(
            "Je voudrais faire une réclamation",
            "Mon colis est arrivé complètement écrasé",
            "On m'a livré le mauvais article",
            "Il manque un article dans mon colis",
            "J'ai été débité deux fois, ce n'est pas normal",
            "Je suis très mécontent du service",
            "Le livreur n'est jamais passé alors que c'est marqué livré",
        ),
    ],
    "au_revoir": _plain(
        "Au revoir",
        "Merci, au revoir",
        "Non merci, ce sera tout",
        "C'est tout, merci beaucoup",
        "Merci pour votre aide, bonne journée",
        "Je n'ai pas d'autre question, au revoir",
        "Ça ira, merci, au revoir",
        "Très bien, merci, bonne soirée",
        "Parfait, merci, au revoir",
        "Non, c'est bon, merci, au revoir",
    ),
    "oui": _plain(
        "Oui",
        "Oui, c'est ça",
        "Tout à fait",
        "Exactement",
        "Oui, merci",
        "Oui, d'accord",
        "C'est exact",
        "Oui oui",
        "Absolument",
        "Oui, c'est parfait",
        "D'accord",
        "Oui, c'est bien ça",
    ),
    "non": _plain(
        "Non",
        "Non merci",
        "Non, ce n'est pas ça",
        "Pas du tout",
        "Non non",
        "Ah non, pas du tout",
        "Non, je ne crois pas",
        "Non, pas vraiment",
        "Non, c'est une erreur",
        "Surtout pas",
    ),
}
#: Openings a caller may put before a request (not before yes/no/goodbye).
OPENINGS = ("", "", "", "Bonjour, ", "Oui bonjour, ", "Alors voilà, ", "Excusez-moi, ")
NO_OPENING = {"oui", "non", "au_revoir"}


def _with_opening(sentence: Sentence, intent: str, rng: random.Random) -> Sentence:
    opening = "" if intent in NO_OPENING else rng.choice(OPENINGS)
    if not opening:
        return sentence
    return Sentence(opening + _lower_first(sentence.text), sentence.slots)


def _lower_first(text: str) -> str:
    """Lower-case the first word unless it is a proper noun of ours (a store's city)."""
    keep = ("Paris", "Lyon", "Marseille", "Lille")
    return text if text.startswith(keep) else text[0].lower() + text[1:]


@dataclass(frozen=True)
class Planned:
    """One utterance to render, with its labels."""

    file: str
    sentence: Sentence
    intent: str
    voice: Any
    noise_dbfs: float
    noise_seed: int


def _voice(rng: random.Random) -> Any:
    return line.Voice(
        speed=rng.randint(*line.SPEED_RANGE),
        pitch=rng.randint(*line.PITCH_RANGE),
        gain_db=round(rng.uniform(*GAIN_RANGE_DB), 1),
    )


def plan(per_intent: int, seed: int) -> list[Planned]:
    """The labelled utterances to render, in order: deterministic for (per_intent, seed)."""
    rng = random.Random(seed)
    items: list[Planned] = []
    for intent in line.INTENTS:
        makers = PARAPHRASES[intent]
        seen: set[str] = set()
        order: list[Maker] = []
        for index in range(per_intent):
            # Shuffle the paraphrases once per round so that every one is used before any repeats.
            if index % len(makers) == 0:
                order = rng.sample(makers, len(makers))
            for _attempt in range(20):
                sentence = _with_opening(order[index % len(makers)](rng), intent, rng)
                if sentence.text not in seen:
                    break
            seen.add(sentence.text)
            noisy = rng.random() < NOISY_SHARE
            noise = round(rng.uniform(*NOISY_RANGE_DBFS), 1) if noisy else line.LINE_NOISE_DBFS
            items.append(
                Planned(
                    f"{intent}_{index:03d}.wav", sentence, intent, _voice(rng), noise, rng.randrange(2**32)
                )
            )
    return items


def generate(out_dir: Path, per_intent: int, seed: int) -> list[dict[str, Any]]:
    """Render the planned utterances into `out_dir` and write `labels.json`; returns the labels."""
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = []
    for item in plan(per_intent, seed):
        rendered = line.render_utterance(
            item.sentence.text, item.voice, item.noise_seed, noise_dbfs=item.noise_dbfs
        )
        write_wav(out_dir / item.file, rendered.pcm, line.LINE_RATE)
        labels.append(
            {
                "file": item.file,
                "text": item.sentence.text,
                "intent": item.intent,
                "slots": item.sentence.slots,
                "voice": item.voice.as_manifest(),
                "noise_dbfs": item.noise_dbfs,
                "duration_ms": rendered.duration_ms,
                "speech_ms": list(rendered.speech_ms[0]),
            }
        )
    document = {"seed": seed, "per_intent": per_intent, "sample_rate": line.LINE_RATE, "items": labels}
    (out_dir / "labels.json").write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return labels


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", type=Path, help="directory to write the WAVs and labels.json into")
    parser.add_argument(
        "--per-intent", type=int, default=10, help="utterances per intent (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.per_intent < 1:
        parser.error("--per-intent must be at least 1")
    if args.out_dir.exists() and not args.out_dir.is_dir():
        parser.error(f"{args.out_dir} exists and is not a directory")
    started = time.perf_counter()
    try:
        labels = generate(args.out_dir, args.per_intent, args.seed)
    except line.FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    audio_s = sum(label["duration_ms"] for label in labels) / 1000
    noisy = sum(1 for label in labels if label["noise_dbfs"] > line.LINE_NOISE_DBFS)
    print(
        f"{len(labels)} utterances ({noisy} on a noisy line), {audio_s:.1f} s of audio, "
        f"generated in {elapsed:.1f} s ({1000 * elapsed / len(labels):.0f} ms per utterance) "
        f"into {args.out_dir}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
