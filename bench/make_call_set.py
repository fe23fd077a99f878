#!/usr/bin/env python3
"""Generate multi-turn caller recordings with their expected call outcomes, for task-success scoring.

Each call is the caller's side of a whole conversation with the retail flow (8 kHz mono WAV through the
same telephone line as the committed fixtures: tests/fixtures/make_caller_audio.py), with its turns
separated by at least 2.5 s of line (`callbot replay --timing turns` cuts turns at 1.8 s gaps), and a
`calls.json` entry saying what was said in each turn, which intent it expresses, and how the call must
end: a transfer to the right queue, a call-back at an exact time (relative to NOW, stored in the file),
or an answer (checked by words the bot's reply must contain: store, hours, address, order status, stock)
followed by a goodbye. bench/task_success.py replays the calls and scores them.

Every scripted call is first typed, as text, into the real dialog (`callbot.dialog.Conversation`, same
NOW and caller id as the replay): a call whose text does not reach its outcome is a bug of this script,
and generation stops. So a failure at replay time is the audio path's (VAD, recogniser) or the NLU's
robustness to what the recogniser heard, never an impossible script.

Two splits that share no phrasing, voice range or seed:
- dev: DEV phrasings, Pico speed 89-105 / pitch 93-107, gain -3..+2 dB, 15 % of calls on a noisy line
  (-50..-45 dBFS), otherwise the fixtures' quiet line (-60 dBFS).
- heldout: HELDOUT phrasings (written separately; neither split copies the flow's `examples:`, and
  held-out sentences differ from bench/make_caller_set.py's), Pico speed 80-87 or 108-120 / pitch
  85-91 or 109-115 (outside dev's on both sides), gain -8..-4 or +3..+5 dB, 35 % noisy (-44..-40 dBFS),
  otherwise -56 dBFS.
`--voice espeak` speaks with espeak-ng French voices (fr, fr-be, fr-ch and variants; dev and held-out
speed/pitch ranges disjoint) through the same line. `--first-turns` writes each call's first turn alone,
as single utterances with a labels.json like bench/make_caller_set.py's (intent accuracy only).

`--noisy-share 1` puts every call of the split on its noisy line (a development set of noisy calls
to work on noise with, its noise range unchanged, the held-out's louder range still unseen).
`--conditions stress` renders the split's phrasings with voice and line ranges beyond the held-out's
on every side (Pico speed 74-79 or 121-127 / pitch 80-84 or 116-120, gain -10..-8.5 or +5.5..+6.5 dB,
35 % noisy at -39..-37 dBFS, otherwise -54 dBFS): a development set of hard lines that leaves the
held-out ranges unseen.

Usage:
  python bench/make_call_set.py OUT_DIR --split dev|heldout [--calls N] [--seed S] [--voice pico|espeak]
                                [--first-turns] [--noisy-share SHARE] [--conditions stress]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import make_caller_set  # bench/make_caller_set.py: its line generator and (held-out check) its templates
import numpy as np
import yaml

from callbot.audio import read_wav, resample, write_wav
from callbot.calendar_fr import MONTHS, WEEKDAYS
from callbot.dialog import Conversation, default_flow_path, load_flow
from callbot.dialog.actions import Hangup, Say, ScheduleCallback, Transfer
from callbot.replay.replay import DEFAULT_REPLAY_CALLER
from callbot.tts.french import number_to_words

line = make_caller_set.line  # tests/fixtures/make_caller_audio.py, loaded by path

PARIS = ZoneInfo("Europe/Paris")
#: The replay's --now: a Monday morning. Every relative time in the scripts is counted from it.
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=PARIS)
TODAY = NOW.date()
CALLER = DEFAULT_REPLAY_CALLER
#: Line silence between two caller turns (replay cuts turns at 1.8 s).
MIN_TURN_GAP_MS = 2500
DEFAULT_SEEDS = {"dev": 20261, "heldout": 90417}


class GeneratorError(RuntimeError):
    """A scripted call does not do what its outcome says (typed as text), or a table is inconsistent."""


# --- per-split audio conditions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Conditions:
    """Voice and line ranges of a split: each range is one or more (low, high) intervals."""

    pico_speed: tuple[tuple[int, int], ...]
    pico_pitch: tuple[tuple[int, int], ...]
    espeak_voices: tuple[str, ...]
    espeak_speed: tuple[tuple[int, int], ...]
    espeak_pitch: tuple[tuple[int, int], ...]
    gain_db: tuple[tuple[float, float], ...]
    quiet_noise_dbfs: float
    noisy_share: float
    noisy_dbfs: tuple[float, float]
    gap_ms: tuple[int, int]


CONDITIONS = {
    "dev": Conditions(
        pico_speed=((89, 105),),
        pico_pitch=((93, 107),),
        espeak_voices=("fr", "fr+m3", "fr+f2", "fr+m1"),
        espeak_speed=((145, 165),),
        espeak_pitch=((42, 58),),
        gain_db=((-3.0, 2.0),),
        quiet_noise_dbfs=line.LINE_NOISE_DBFS,
        noisy_share=0.15,
        noisy_dbfs=(-50.0, -45.0),
        gap_ms=(2800, 4200),
    ),
    "heldout": Conditions(
        pico_speed=((80, 87), (108, 120)),
        pico_pitch=((85, 91), (109, 115)),
        espeak_voices=("fr-be", "fr-ch", "fr-be+f3", "fr-ch+m4", "fr+m6", "fr+f4"),
        espeak_speed=((120, 138), (172, 190)),
        espeak_pitch=((25, 38), (62, 75)),
        gain_db=((-8.0, -4.0), (3.0, 5.0)),
        quiet_noise_dbfs=-56.0,
        noisy_share=0.35,
        noisy_dbfs=(-44.0, -40.0),
        gap_ms=(2500, 3400),
    ),
    # Harder than either split and overlapping neither (--conditions stress): to develop against hard
    # lines with the development phrasings while the held-out ranges stay unseen.
    "stress": Conditions(
        pico_speed=((74, 79), (121, 127)),
        pico_pitch=((80, 84), (116, 120)),
        espeak_voices=("fr+m2", "fr+f1", "fr-be+m1", "fr-ch+f2"),
        espeak_speed=((110, 119), (191, 200)),
        espeak_pitch=((15, 24), (76, 85)),
        gain_db=((-10.0, -8.5), (5.5, 6.5)),
        quiet_noise_dbfs=-54.0,
        noisy_share=0.35,
        noisy_dbfs=(-39.0, -37.0),
        gap_ms=(2500, 3400),
    ),
}


def _pick(rng: random.Random, intervals: Sequence[tuple[Any, Any]]) -> Any:
    low, high = rng.choice(intervals)
    if isinstance(low, int):
        return rng.randint(low, high)
    return round(rng.uniform(low, high), 1)


@dataclass(frozen=True)
class VoiceChoice:
    engine: str  # "pico" or "espeak"
    speed: int
    pitch: int
    gain_db: float
    espeak_voice: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "engine": self.engine,
            "speed": self.speed,
            "pitch": self.pitch,
            "gain_db": self.gain_db,
        }
        if self.espeak_voice:
            out["voice"] = self.espeak_voice
        return out


def pick_voice(rng: random.Random, cond: Conditions, engine: str) -> VoiceChoice:
    gain = _pick(rng, cond.gain_db)
    if engine == "pico":
        return VoiceChoice("pico", _pick(rng, cond.pico_speed), _pick(rng, cond.pico_pitch), gain)
    return VoiceChoice(
        "espeak",
        _pick(rng, cond.espeak_speed),
        _pick(rng, cond.espeak_pitch),
        gain,
        rng.choice(cond.espeak_voices),
    )


# --- speech through the telephone line ----------------------------------------------------------------


def _espeak_samples(text: str, voice: VoiceChoice) -> tuple[np.ndarray, int]:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise GeneratorError("espeak-ng not found: install the Debian package espeak-ng")
    with tempfile.TemporaryDirectory(prefix="callbot-espeak-") as tmp:
        out = Path(tmp) / "speech.wav"
        cmd = [
            exe,
            "-v",
            str(voice.espeak_voice),
            "-s",
            str(voice.speed),
            "-p",
            str(voice.pitch),
            "-w",
            str(out),
            text,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not out.exists():
            raise GeneratorError(
                f"espeak-ng failed on {text!r}: {result.stderr.strip() or result.returncode}"
            )
        audio = read_wav(out)
    if audio.channels != 1:
        raise GeneratorError(f"espeak-ng wrote {audio.channels} channels, expected mono")
    return np.frombuffer(audio.pcm, dtype="<i2").copy(), audio.sample_rate


def telephone_speech(text: str, voice: VoiceChoice) -> np.ndarray:
    """8 kHz band-limited speech at the fixtures' level + gain (float), before noise and G.711."""
    if voice.engine == "pico":
        return line.telephone_speech(text, line.Voice(voice.speed, voice.pitch, voice.gain_db))
    samples, rate = _espeak_samples(text, voice)
    # The same steps as make_caller_audio.telephone_speech, from espeak-ng's 22.05 kHz output.
    speech = line.trim_silence(samples, rate)
    narrow = np.frombuffer(resample(speech.tobytes(), rate, line.LINE_RATE), dtype="<i2")
    band = line.band_pass(narrow, line.LINE_RATE)
    gain_db = line.NOMINAL_SPEECH_DBFS + voice.gain_db - line.active_level_dbfs(band, line.LINE_RATE)
    return band * 10 ** (gain_db / 20)


def render_turns(
    texts: Sequence[str],
    voice: VoiceChoice,
    gaps_ms: Sequence[int],
    noise_dbfs: float,
    seed: int,
    lead_ms: int,
    tail_ms: int,
) -> tuple[bytes, list[list[int]], int]:
    """Caller turns laid out on one timeline, line noise added, through G.711: (pcm, spans, duration)."""
    parts = [telephone_speech(text, voice) for text in texts]
    ms = line._ms_to_samples
    starts = []
    position = ms(lead_ms)
    for index, part in enumerate(parts):
        if index:
            position += ms(gaps_ms[index - 1])
        starts.append(position)
        position += len(part)
    signal = np.zeros(position + ms(tail_ms))
    spans = []
    for start, part in zip(starts, parts, strict=True):
        signal[start : start + len(part)] = part
        spans.append([line._samples_to_ms(start), line._samples_to_ms(start + len(part))])
    signal += line.line_noise(len(signal), seed, noise_dbfs)
    return line.g711_line(signal), spans, line._samples_to_ms(len(signal))


# --- the answers data (read directly: expected answers do not come from the code under test) ---------

FLOW = load_flow(default_flow_path())
DATA = yaml.safe_load((Path(FLOW.path).parent / "retail-data.yaml").read_text(encoding="utf-8"))
STORES: dict[str, dict[str, Any]] = DATA["stores"]
ORDERS: dict[str, dict[str, Any]] = DATA["orders"]
PRODUCTS: dict[str, dict[str, Any]] = DATA["products"]
#: How the bot names an order status (the word that proves the status was given).
STATUS_WORDS = {
    "expediee": "expédiée",
    "en_preparation": "préparation",
    "en_livraison": "en cours de livraison",
    "livree": "livrée",
    "retardee": "retardée",
    "annulee": "annulée",
    "prete_en_magasin": "prête",
}
#: Products named with a feminine noun (for agreement: "reçue", "abîmée").
FEMININE_PRODUCTS = {
    "suspension_opaline",
    "lampe_chevet_nuage",
    "applique_laiton",
    "guirlande_guinguette",
    "ampoule_filament",
    "lampe_bureau_atelier",
    "bougie_figuier",
}
HUMAN_QUEUE = FLOW.settings.fallback_queue  # the conseiller intent's queue in the retail flow
COMPLAINT_QUEUE = "reclamations"


def _clock(hhmm: str) -> str:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return f"{hour} h" if minute == 0 else f"{hour} h {minute:02d}"


def hours_words(store: str, day: date) -> list[str]:
    """Words the hours answer must contain for `store` on `day`: the day and its first opening range."""
    info = STORES[store]
    hours = str(
        (info.get("exceptions") or {}).get(day, {}).get("hours") or info["hours"][WEEKDAYS[day.weekday()]]
    )
    when = "aujourd'hui" if day == TODAY else f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"
    if hours.strip() == "fermé":
        return [info["name"], "fermé", when]
    first = hours.split(",")[0].strip()
    opens, closes = first.split("-")
    return [info["name"], when, f"{_clock(opens)} à {_clock(closes)}"]


def product_words(product: str, store: str) -> list[str]:
    info = PRODUCTS[product]
    name = re.sub(r"^(le |la |les |l')", "", info["name"])
    in_stock = int(info["stock"].get(store, 0)) > 0
    return [name, STORES[store]["name"], "est en stock" if in_stock else "plus en stock"]


# --- phrasing tables ----------------------------------------------------------------------------------
# Placeholders: {magasin} a store noun phrase with its article ("le magasin de Lyon"), {du_magasin} /
# {au_magasin} its contracted forms, {produit} / {un_produit} a product with its definite / indefinite
# article, {numero} an order number as said, {quand} a call-back day + time, {jour} a day, {heure} a time.


@dataclass(frozen=True)
class Phrasings:
    openings: tuple[str, ...]
    store_np: dict[str, tuple[str, ...]]  # store key -> noun phrases with article
    store_answers: tuple[str, ...]  # answer to "Quel magasin ?": {ville} = a bare alias, {magasin} = an np
    product_np: dict[str, tuple[tuple[str, str], ...]]  # product key -> (definite, indefinite)
    order_styles: tuple[str, ...]
    hours_store: tuple[str, ...]
    hours_store_day: tuple[str, ...]  # {jourx}: a weekday name (samedi / dimanche)
    hours_ask: tuple[str, ...]
    address_store: tuple[str, ...]
    address_ask: tuple[str, ...]
    order_with: tuple[str, ...]
    order_ask: tuple[str, ...]
    order_answer: tuple[str, ...]
    stock_full: tuple[str, ...]
    stock_product: tuple[str, ...]
    stock_ask: tuple[str, ...]
    product_answer: tuple[str, ...]
    callback_full: tuple[str, ...]
    callback_ask: tuple[str, ...]
    callback_answer: tuple[str, ...]
    callback_day: tuple[str, ...]
    callback_time_answer: tuple[str, ...]
    callback_whens: tuple[tuple[str, int, str], ...]  # (phrase, days after NOW, "HH:MM" booked)
    callback_days: tuple[tuple[str, int], ...]
    callback_times: tuple[tuple[str, str], ...]
    human: tuple[str, ...]
    human_after_yes: tuple[str, ...]  # said at "autre chose ?": yes + a request for a person
    complaint: tuple[str, ...]
    complaint_after_yes: tuple[str, ...]
    yes_readback: tuple[str, ...]
    goodbye: tuple[tuple[str, str], ...]  # (text, intent)


DEV = Phrasings(
    openings=("", "", "Bonjour, ", "Alors voilà, "),
    store_np={
        "paris_rivoli": ("le magasin de Paris", "le magasin de la rue de Rivoli", "le magasin de Rivoli"),
        "lyon_part_dieu": ("le magasin de Lyon", "le magasin de la Part-Dieu"),
        "marseille_vieux_port": ("le magasin de Marseille", "le magasin du Vieux-Port"),
        "lille_grand_place": ("le magasin de Lille", "le magasin de la Grand Place"),
    },
    store_answers=("Celui de {ville}", "{Ville}", "{Magasin}, s'il vous plaît"),
    product_np={
        "lampadaire_arco": (("le lampadaire Arco", "un lampadaire Arco"),),
        "suspension_opaline": (("la suspension Opaline", "une suspension Opaline"),),
        "lampe_chevet_nuage": (("la lampe de chevet Nuage", "une lampe de chevet Nuage"),),
        "applique_laiton": (("l'applique murale Laiton", "une applique murale Laiton"),),
        "guirlande_guinguette": (("la guirlande Guinguette", "une guirlande Guinguette"),),
        "ampoule_filament": (("l'ampoule à filament", "une ampoule à filament"),),
        "lampe_bureau_atelier": (("la lampe de bureau Atelier", "une lampe de bureau Atelier"),),
        "bougie_figuier": (("la bougie parfumée Figuier", "une bougie parfumée Figuier"),),
        "miroir_soleil": (("le miroir Soleil", "un miroir Soleil"),),
        "plafonnier_halo": (("le plafonnier Halo", "un plafonnier Halo"),),
    },
    order_styles=("whole", "digits", "digits", "pairs"),
    hours_store=(
        "à quelle heure ferme {magasin} aujourd'hui ?",
        "je voudrais les heures d'ouverture {du_magasin}, s'il vous plaît",
        "{magasin} est ouvert jusqu'à quelle heure ?",
    ),
    hours_store_day=("est-ce que {magasin} est ouvert {jourx} ?", "{magasin} ouvre à quelle heure {jourx} ?"),
    hours_ask=("vous pouvez me donner vos horaires, s'il vous plaît ?", "c'est pour connaître vos horaires"),
    address_store=(
        "pouvez-vous m'indiquer où se situe {magasin} ?",
        "c'est à quelle adresse, {magasin} ?",
        "je cherche l'adresse exacte {du_magasin}",
    ),
    address_ask=("je voudrais l'adresse d'un de vos magasins", "j'aurais besoin d'une adresse de magasin"),
    order_with=(
        "j'appelle au sujet de ma commande numéro {numero}",
        "je voudrais des nouvelles de la commande {numero}",
        "ma commande porte le numéro {numero}, où en est-elle ?",
    ),
    order_ask=("je voudrais savoir où en est ma livraison", "j'attends toujours mon colis"),
    order_answer=("C'est le {numero}", "{Numero}", "Alors, c'est le {numero}"),
    stock_full=(
        "est-ce qu'il vous reste {un_produit} {au_magasin} ?",
        "je voudrais savoir si vous avez {produit} en stock {au_magasin}",
    ),
    stock_product=("avez-vous encore {produit} en rayon ?", "{produit}, vous l'avez toujours ?"),
    stock_ask=(
        "j'aimerais contrôler le stock d'un de vos articles",
        "je voudrais savoir si un produit est en stock",
    ),
    product_answer=("{Produit}", "C'est {produit}"),
    callback_full=(
        "est-ce qu'on pourrait me rappeler {quand} ?",
        "j'aimerais bien être rappelé {quand}",
        "je souhaite qu'on me recontacte {quand}",
    ),
    callback_ask=("je voudrais qu'on me rappelle, s'il vous plaît", "j'aimerais être rappelée"),
    callback_answer=("{Quand}", "{Quand}, ce serait bien"),
    callback_day=("pouvez-vous me rappeler {jour} ?", "j'aimerais être rappelé {jour}"),
    callback_time_answer=("{Heure}", "Plutôt {heure}"),
    callback_whens=(
        ("demain à quinze heures", 1, "15:00"),
        ("demain vers quatorze heures", 1, "14:00"),
        ("jeudi à dix heures trente", 3, "10:30"),
        ("après-demain en début d'après-midi", 2, "14:00"),
        ("mercredi à seize heures", 2, "16:00"),
        ("vendredi à onze heures", 4, "11:00"),
        ("demain matin", 1, "10:00"),
    ),
    callback_days=(("demain", 1), ("jeudi", 3), ("vendredi", 4)),
    callback_times=(
        ("à quinze heures", "15:00"),
        ("vers dix heures", "10:00"),
        ("à quatorze heures trente", "14:30"),
    ),
    human=(
        "je souhaiterais échanger avec un conseiller",
        "est-ce que je pourrais parler à quelqu'un de chez vous ?",
        "j'aimerais avoir un conseiller au bout du fil",
    ),
    human_after_yes=("Oui, en fait j'aimerais discuter avec un conseiller",),
    complaint=(
        "je souhaite faire une réclamation concernant {produit}",
        "je souhaite déposer une réclamation",
        "le colis que j'ai reçu était abîmé",
    ),
    complaint_after_yes=("Oui, j'ai aussi une réclamation à faire",),
    yes_readback=("Oui, voilà", "Oui, c'est parfait", "Oui, c'est exactement ça"),
    goodbye=(
        ("Non merci, ça sera tout pour aujourd'hui", "non"),
        ("Non, c'est tout bon, au revoir", "non"),
        ("Non merci, bonne journée", "non"),
    ),
)

HELDOUT = Phrasings(
    openings=("", "", "Allô, bonjour. ", "Bonjour madame, "),
    store_np={
        "paris_rivoli": ("la boutique de Paris Rivoli", "votre boutique de Châtelet", "la boutique de Paris"),
        "lyon_part_dieu": ("la boutique de Lyon Part-Dieu", "votre boutique de Lyon"),
        "marseille_vieux_port": ("la boutique de Marseille", "votre boutique du Vieux-Port"),
        "lille_grand_place": ("la boutique de Lille", "votre boutique de la Grand-Place"),
    },
    store_answers=("À {ville}, s'il vous plaît", "{Magasin}", "Euh, {ville}"),
    product_np={
        "lampadaire_arco": (("le lampadaire Arco", "un lampadaire Arco"),),
        "suspension_opaline": (("la suspension en verre", "une suspension en verre"),),
        "lampe_chevet_nuage": (("la lampe Nuage", "une lampe Nuage"),),
        "applique_laiton": (("l'applique Laiton", "une applique Laiton"),),
        "guirlande_guinguette": (("la guirlande lumineuse Guinguette", "une guirlande Guinguette"),),
        "ampoule_filament": (("l'ampoule LED à filament", "une ampoule LED à filament"),),
        "lampe_bureau_atelier": (("la lampe Atelier", "une lampe Atelier"),),
        "bougie_figuier": (("la bougie Figuier", "une bougie Figuier"),),
        "miroir_soleil": (("le miroir doré Soleil", "un miroir Soleil"),),
        "plafonnier_halo": (("le plafonnier Halo", "un plafonnier Halo"),),
    },
    order_styles=("whole", "digits", "pairs", "triples"),
    hours_store=(
        "je souhaiterais savoir jusqu'à quand {magasin} reste ouverte ce soir",
        "quelles sont les heures d'ouverture {du_magasin} ?",
        "à quelle heure est-ce que {magasin} ouvre ses portes ?",
    ),
    hours_store_day=(
        "{magasin} sera ouverte {jourx} ?",
        "vous ouvrez à quelle heure {jourx}, {au_magasin} ?",
    ),
    hours_ask=("j'aurais besoin de vos horaires", "vous pourriez me dire vos heures d'ouverture ?"),
    address_store=(
        "il est dans quelle rue, {magasin} ?",
        "où est-ce que je peux trouver {magasin} ?",
        "donnez-moi l'adresse {du_magasin}, je vous prie",
    ),
    address_ask=(
        "il me faudrait l'adresse d'une de vos boutiques",
        "j'ai besoin de l'adresse d'une boutique",
    ),
    order_with=(
        "je voudrais connaître l'état de la commande {numero}",
        "ma commande {numero} devait arriver cette semaine, vous avez des nouvelles ?",
        "pouvez-vous vérifier le statut de la commande {numero} ?",
    ),
    order_ask=("mon colis n'est toujours pas là", "je souhaiterais suivre un colis"),
    order_answer=("Oui, c'est {numero}", "Le numéro, c'est {numero}", "Voilà : {numero}"),
    stock_full=(
        "{au_magasin}, est-ce que {produit} est disponible ?",
        "vous avez {un_produit} en réserve {au_magasin} ?",
    ),
    stock_product=("vous auriez {un_produit} en magasin ?", "je cherche {un_produit}, il y en a en stock ?"),
    stock_ask=("je cherche à savoir si un article est en stock", "est-ce que je peux vérifier un stock ?"),
    product_answer=("C'est pour {produit}", "Il s'agit {de_produit}"),
    callback_full=(
        "j'aurais besoin que vous me rappeliez {quand}",
        "rappelez-moi {quand}, je ne suis pas disponible maintenant",
        "est-il possible d'être rappelé {quand} ?",
    ),
    callback_ask=(
        "je n'ai pas le temps, il faudrait me rappeler",
        "est-ce que vous pourriez me recontacter ?",
    ),
    callback_answer=("Euh, {quand}", "{Quand}, si c'est possible"),
    callback_day=("rappelez-moi {jour}, s'il vous plaît", "vous pouvez me recontacter {jour} ?"),
    callback_time_answer=("{Heure}, ça m'arrange", "Disons {heure}"),
    callback_whens=(
        ("jeudi en fin de matinée", 3, "11:00"),
        ("mercredi vers dix-sept heures", 2, "17:00"),
        ("demain à neuf heures et demie", 1, "09:30"),
        ("après-demain à midi", 2, "12:00"),
        ("cet après-midi vers seize heures", 0, "16:00"),
        ("vendredi en fin d'après-midi", 4, "17:00"),
        ("demain en début de matinée", 1, "09:00"),
    ),
    callback_days=(("après-demain", 2), ("vendredi", 4), ("mercredi", 2)),
    callback_times=(
        ("vers onze heures", "11:00"),
        ("à seize heures trente", "16:30"),
        ("en fin de matinée", "11:00"),
    ),
    human=(
        "pourriez-vous me mettre en contact avec un agent ?",
        "je veux une personne réelle, pas un robot",
        "passez-moi un de vos collaborateurs s'il vous plaît",
    ),
    human_after_yes=("Oui, j'aimerais parler à un humain maintenant",),
    complaint=(
        "mon article est arrivé défectueux, je ne suis pas content",
        "{produit} que j'ai reçu{e} est abîmé{e}, je veux être remboursé",
        "je veux signaler un problème, mon paquet était endommagé",
    ),
    complaint_after_yes=("Oui, j'ai aussi un article abîmé à signaler",),
    yes_readback=("Oui, très bien", "Parfait, merci", "Exactement, merci"),
    goodbye=(
        ("Non, ça ira, merci beaucoup", "non"),
        ("Rien d'autre, je vous remercie, bonne fin de journée", "au_revoir"),
        ("Non, je vous remercie, au revoir", "non"),
    ),
)
PHRASINGS = {"dev": DEV, "heldout": HELDOUT}


# --- building sentences -------------------------------------------------------------------------------


def _cap(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def _contract(np_: str, prep: str) -> str:
    """ "le magasin de Lyon" → "du magasin de Lyon" (prep "de") / "au magasin de Lyon" (prep "à")."""
    if np_.startswith("le "):
        return ("du " if prep == "de" else "au ") + np_[3:]
    if prep == "de" and np_[0] in "aeiouéh":
        return "d'" + np_
    return f"{prep} {np_}"


def _city(store: str) -> str:
    return str(STORES[store]["city"])


def _order_said(number: str, style: str) -> str:
    """How a caller reads an order number: whole, digit by digit, in pairs or in threes."""
    if style == "pairs" and len(number) % 2 == 0:
        groups = [number[i : i + 2] for i in range(0, len(number), 2)]
    elif style == "triples" and len(number) % 3 == 0:
        groups = [number[i : i + 3] for i in range(0, len(number), 3)]
    elif style == "whole":
        return number_to_words(int(number))
    else:
        return ", ".join(number_to_words(int(d)) for d in number)
    said = []
    for group in groups:
        lead = "zéro " * (len(group) - len(group.lstrip("0")))
        rest = group.lstrip("0")
        said.append((lead + (number_to_words(int(rest)) if rest else "")).strip())
    return ", ".join(said)


@dataclass
class Turn:
    text: str
    intent: str


@dataclass
class Script:
    scenario: str
    variant: str
    turns: list[Turn]
    outcome: dict[str, Any]
    slots: dict[str, str] = field(default_factory=dict)


class Builder:
    """Random sentences for one split: one method per scenario, variants cycled by the caller."""

    def __init__(self, phr: Phrasings, rng: random.Random) -> None:
        self.p = phr
        self.rng = rng

    def choose(self, options: Sequence[Any]) -> Any:
        return self.rng.choice(list(options))

    def request(self, template: str, **values: str) -> str:
        return _cap(self.choose(self.p.openings) + template.format(**values))

    def store(self) -> tuple[str, dict[str, str]]:
        key = self.choose(sorted(self.p.store_np))
        np_ = self.choose(self.p.store_np[key])
        return key, {"magasin": np_, "du_magasin": _contract(np_, "de"), "au_magasin": _contract(np_, "à")}

    def store_answer(self, key: str) -> str:
        ville = _city(key)
        np_ = self.choose(self.p.store_np[key])
        template = self.choose(self.p.store_answers)
        return template.format(ville=ville, Ville=_cap(ville), magasin=np_, Magasin=_cap(np_))

    def product(self) -> tuple[str, dict[str, str]]:
        key = self.choose(sorted(self.p.product_np))
        definite, indefinite = self.choose(self.p.product_np[key])
        de = "du " + definite[3:] if definite.startswith("le ") else "de " + definite
        e = "e" if key in FEMININE_PRODUCTS else ""
        return key, {
            "produit": definite,
            "Produit": _cap(definite),
            "un_produit": indefinite,
            "de_produit": de,
            "e": e,
        }

    def goodbye(self) -> Turn:
        text, intent = self.choose(self.p.goodbye)
        return Turn(text, intent)

    # Scenarios: each returns a Script whose outcome is checked by typing it into the dialog.

    def horaires(self, variant: int) -> Script:
        store, s = self.store()
        if variant % 3 == 0:
            day = TODAY
            turns = [Turn(self.request(self.choose(self.p.hours_store), **s), "horaires")]
            name = "store_today"
        elif variant % 3 == 1:
            weekday = self.choose(("samedi", "dimanche"))
            day = TODAY + timedelta(days=(WEEKDAYS.index(weekday) - TODAY.weekday()) % 7)
            turns = [Turn(self.request(self.choose(self.p.hours_store_day), jourx=weekday, **s), "horaires")]
            name = "store_day"
        else:
            day = TODAY
            turns = [
                Turn(self.request(self.choose(self.p.hours_ask)), "horaires"),
                Turn(self.store_answer(store), "horaires"),
            ]
            name = "store_asked"
        turns.append(self.goodbye())
        return Script(
            "horaires", name, turns, {"type": "hangup", "answer": hours_words(store, day)}, {"magasin": store}
        )

    def adresse_magasin(self, variant: int) -> Script:
        store, s = self.store()
        if variant % 2 == 0:
            turns = [Turn(self.request(self.choose(self.p.address_store), **s), "adresse_magasin")]
            name = "store_named"
        else:
            turns = [
                Turn(self.request(self.choose(self.p.address_ask)), "adresse_magasin"),
                Turn(self.store_answer(store), "adresse_magasin"),
            ]
            name = "store_asked"
        turns.append(self.goodbye())
        info = STORES[store]
        return Script(
            "adresse_magasin",
            name,
            turns,
            {"type": "hangup", "answer": [info["name"], info["address"]]},
            {"magasin": store},
        )

    def suivi_commande(self, variant: int) -> Script:
        number = self.choose(sorted(ORDERS))
        style = self.choose(self.p.order_styles)
        said = _order_said(number, style)
        if variant % 2 == 0:
            turns = [Turn(self.request(self.choose(self.p.order_with), numero=said), "suivi_commande")]
            name = f"number_{style}"
        else:
            answer = self.choose(self.p.order_answer).format(numero=said, Numero=_cap(said))
            turns = [
                Turn(self.request(self.choose(self.p.order_ask)), "suivi_commande"),
                Turn(answer, "suivi_commande"),
            ]
            name = f"number_asked_{style}"
        turns.append(self.goodbye())
        words = [number, STATUS_WORDS[ORDERS[number]["status"]]]
        return Script(
            "suivi_commande", name, turns, {"type": "hangup", "answer": words}, {"numero_commande": number}
        )

    def disponibilite(self, variant: int) -> Script:
        store, s = self.store()
        product, pr = self.product()
        if variant % 3 == 0:
            turns = [Turn(self.request(self.choose(self.p.stock_full), **s, **pr), "disponibilite")]
            name = "product_and_store"
        elif variant % 3 == 1:
            turns = [
                Turn(self.request(self.choose(self.p.stock_product), **pr), "disponibilite"),
                Turn(self.store_answer(store), "disponibilite"),
            ]
            name = "store_asked"
        else:
            turns = [
                Turn(self.request(self.choose(self.p.stock_ask)), "disponibilite"),
                Turn(self.choose(self.p.product_answer).format(**pr), "disponibilite"),
                Turn(self.store_answer(store), "disponibilite"),
            ]
            name = "product_and_store_asked"
        turns.append(self.goodbye())
        return Script(
            "disponibilite",
            name,
            turns,
            {"type": "hangup", "answer": product_words(product, store)},
            {"produit": product, "magasin": store},
        )

    def rappel(self, variant: int) -> Script:
        if variant % 3 == 0:
            phrase, days, hhmm = self.choose(self.p.callback_whens)
            turns = [Turn(self.request(self.choose(self.p.callback_full), quand=phrase), "rappel")]
            name = "when_in_request"
        elif variant % 3 == 1:
            phrase, days, hhmm = self.choose(self.p.callback_whens)
            answer = self.choose(self.p.callback_answer).format(quand=phrase, Quand=_cap(phrase))
            turns = [Turn(self.request(self.choose(self.p.callback_ask)), "rappel"), Turn(answer, "rappel")]
            name = "when_asked"
        else:
            day_phrase, days = self.choose(self.p.callback_days)
            time_phrase, hhmm = self.choose(self.p.callback_times)
            answer = self.choose(self.p.callback_time_answer).format(
                heure=time_phrase, Heure=_cap(time_phrase)
            )
            turns = [
                Turn(self.request(self.choose(self.p.callback_day), jour=day_phrase), "rappel"),
                Turn(answer, "rappel"),
            ]
            name = "day_then_time"
        turns.append(Turn(self.choose(self.p.yes_readback), "oui"))
        hour, minute = (int(x) for x in hhmm.split(":"))
        day = TODAY + timedelta(days=days)
        at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
        return Script("rappel", name, turns, {"type": "callback", "callback_at": at.isoformat()})

    def _answered_first(self) -> list[Turn]:
        """A first request that the bot answers in one turn (hours or address of a named store)."""
        _store, s = self.store()
        table = self.choose((self.p.hours_store, self.p.address_store))
        intent = "horaires" if table is self.p.hours_store else "adresse_magasin"
        return [Turn(self.request(self.choose(table), **s), intent)]

    def conseiller(self, variant: int) -> Script:
        if variant % 3 != 2:
            turns = [Turn(self.request(self.choose(self.p.human)), "conseiller")]
            name = "asks_person"
        else:
            turns = [*self._answered_first(), Turn(self.choose(self.p.human_after_yes), "conseiller")]
            name = "after_answer"
        return Script("conseiller", name, turns, {"type": "transfer", "queue": HUMAN_QUEUE})

    def reclamation(self, variant: int) -> Script:
        if variant % 3 != 2:
            _product, pr = self.product()
            turns = [Turn(self.request(self.choose(self.p.complaint), **pr), "reclamation")]
            name = "complaint"
        else:
            turns = [*self._answered_first(), Turn(self.choose(self.p.complaint_after_yes), "reclamation")]
            name = "after_answer"
        return Script("reclamation", name, turns, {"type": "transfer", "queue": COMPLAINT_QUEUE})


SCENARIOS = (
    "suivi_commande",
    "rappel",
    "horaires",
    "adresse_magasin",
    "disponibilite",
    "conseiller",
    "reclamation",
)


# --- the text check -----------------------------------------------------------------------------------


def squash(text: str) -> str:
    """Case- and space-insensitive form for answer words (the TTS text uses narrow no-break spaces)."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").casefold()
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def answer_found(words: Sequence[str], bot_text: str) -> bool:
    said = squash(bot_text)
    return all(squash(w) in said for w in words)


def outcome_reached(
    outcome: dict[str, Any], *, kind: str, queue: str | None, at: str | None, bot: str
) -> bool:
    """The scoring rule, shared with bench/task_success.py."""
    if outcome["type"] != kind:
        return False
    if kind == "transfer":
        return queue == outcome["queue"]
    if kind == "callback":
        return at is not None and datetime.fromisoformat(at) == datetime.fromisoformat(outcome["callback_at"])
    return answer_found(outcome.get("answer", []), bot)


def check_by_text(script: Script) -> list[str]:
    """Type the script into the real dialog; return the intents it read per turn. Raises if the call does not
    end exactly on its last turn with the expected outcome."""
    conversation = Conversation(FLOW, now=lambda: NOW, caller=CALLER)
    conversation.start()
    said: list[str] = []
    intents: list[str] = []
    end: tuple[str, str | None, str | None] | None = None
    for index, turn in enumerate(script.turns):
        if conversation.ended:
            raise GeneratorError(
                f"{script.scenario}/{script.variant}: the call ended before turn {index + 1} "
                f"{turn.text!r}; bot: {' | '.join(said)}"
            )
        result = conversation.hear(turn.text)
        intents.append(result.intent or "")
        for action in result.actions:
            if isinstance(action, Say):
                said.append(action.text)
            elif isinstance(action, Transfer):
                end = ("transfer", action.queue, None)
            elif isinstance(action, ScheduleCallback):
                end = ("callback", None, action.at.isoformat())
            elif isinstance(action, Hangup) and end is None:
                end = ("hangup", None, None)
    problem = None
    if not conversation.ended or end is None:
        problem = "the call did not end after the last turn"
    elif not outcome_reached(script.outcome, kind=end[0], queue=end[1], at=end[2], bot=" ".join(said)):
        problem = f"it ended with {end}, not {script.outcome}"
    elif intents[0] != script.turns[0].intent:
        problem = f"the first turn was read as {intents[0]!r}, not {script.turns[0].intent!r}"
    if problem:
        lines = [f"  caller: {t.text}" for t in script.turns]
        raise GeneratorError(
            f"{script.scenario}/{script.variant}: {problem}\n"
            + "\n".join(lines)
            + "\n  bot: "
            + " | ".join(said)
        )
    return intents


# --- split separation checks --------------------------------------------------------------------------


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _strip_opening(text: str, openings: Sequence[str]) -> str:
    for opening in sorted(openings, key=len, reverse=True):
        if opening and text.startswith(opening):
            return text[len(opening) :]
    return text


_WARNED: set[str] = set()
FLOW_EXAMPLES = {_plain(e) for intent in FLOW.intents.values() for e in intent.examples}


def _make_caller_set_sentences() -> set[str]:
    rng = random.Random(0)
    out = set()
    for makers in make_caller_set.PARAPHRASES.values():
        for maker in makers:
            for _ in range(30):
                out.add(_plain(maker(rng).text))
    return out


def check_tables() -> None:
    """Dev and held-out share no template; neither reuses a flow example as a template."""
    for name in Phrasings.__dataclass_fields__:
        dev, held = getattr(DEV, name), getattr(HELDOUT, name)
        if name in (
            "store_np",
            "product_np",
            "openings",
            "order_styles",
            "callback_whens",
            "callback_days",
            "callback_times",
            "goodbye",
        ):
            continue
        shared = set(dev) & set(held)
        if shared:
            raise GeneratorError(f"{name}: dev and held-out share {sorted(shared)}")
    whens = {w[0] for w in DEV.callback_whens} & {w[0] for w in HELDOUT.callback_whens}
    goodbyes = {g[0] for g in DEV.goodbye} & {g[0] for g in HELDOUT.goodbye}
    if whens or goodbyes:
        raise GeneratorError(f"dev and held-out share {sorted(whens | goodbyes)}")


def check_sentence(text: str, split: str, openings: Sequence[str], caller_set: set[str]) -> None:
    """Refuse a held-out sentence that the flow's examples or make_caller_set.py already contain. A dev
    sentence that became a flow example (the NLU tuned on dev) is only reported: dev is for tuning."""
    plain = _plain(_strip_opening(text, openings))
    if plain in FLOW_EXAMPLES:
        if split == "heldout":
            raise GeneratorError(
                f"held-out {text!r} is one of the flow's own examples: the set would not be "
                "held out; rephrase it in HELDOUT (and keep held-out texts out of the flow)"
            )
        if plain not in _WARNED:
            _WARNED.add(plain)
            print(f"warning: dev sentence {text!r} is now one of the flow's examples", file=sys.stderr)
    if split == "heldout" and plain in caller_set:
        raise GeneratorError(f"held-out {text!r} is one of bench/make_caller_set.py's sentences")


# --- the set ------------------------------------------------------------------------------------------


@dataclass
class Planned:
    index: int
    script: Script
    voice: VoiceChoice
    noise_dbfs: float
    noise_seed: int
    gaps_ms: list[int]
    text_intents: list[str]

    @property
    def file(self) -> str:
        return f"{self.script.scenario}_{self.index:03d}.wav"


def plan(split: str, calls: int, seed: int, engine: str, cond: Conditions | None = None) -> list[Planned]:
    rng = random.Random(f"{split}:{seed}")
    builder = Builder(PHRASINGS[split], rng)
    cond = cond or CONDITIONS[split]
    caller_set = _make_caller_set_sentences() if split == "heldout" else set()
    openings = PHRASINGS[split].openings
    order = list(SCENARIOS)
    counts: dict[str, int] = {}
    planned: list[Planned] = []
    # Exactly round(share × calls) calls on a noisy line, drawn at random.
    noisy_calls = set(rng.sample(range(calls), round(cond.noisy_share * calls)))
    for index in range(calls):
        if index % len(order) == 0:
            rng.shuffle(order)
        scenario = order[index % len(order)]
        variant = counts.get(scenario, 0)
        counts[scenario] = variant + 1
        script = getattr(builder, scenario)(variant)
        for turn in script.turns:
            check_sentence(turn.text, split, openings, caller_set)
        intents = check_by_text(script)
        noise = round(rng.uniform(*cond.noisy_dbfs), 1) if index in noisy_calls else cond.quiet_noise_dbfs
        gaps = [max(MIN_TURN_GAP_MS, rng.randint(*cond.gap_ms)) for _ in script.turns[1:]]
        planned.append(
            Planned(index, script, pick_voice(rng, cond, engine), noise, rng.randrange(2**32), gaps, intents)
        )
    return planned


def generate(
    out_dir: Path,
    split: str,
    calls: int,
    seed: int,
    engine: str,
    first_turns: bool,
    noisy_share: float | None = None,
    conditions: str | None = None,
) -> dict[str, Any]:
    check_tables()
    out_dir.mkdir(parents=True, exist_ok=True)
    cond = CONDITIONS[conditions or split]
    cond = cond if noisy_share is None else replace(cond, noisy_share=noisy_share)
    items = plan(split, calls, seed, engine, cond)
    common = {
        "generator": "bench/make_call_set.py",
        "split": split,
        "seed": seed,
        "voice_engine": engine,
        "now": NOW.isoformat(),
        "caller": CALLER,
        "sample_rate": line.LINE_RATE,
        "text_checked_with": str(Path(sys.modules["callbot"].__file__ or "").parent),
        "conditions": {k: v for k, v in vars(cond).items()},
    }
    if first_turns:
        labels = []
        for item in items:
            first = item.script.turns[0]
            pcm, spans, duration = render_turns(
                [first.text],
                item.voice,
                [],
                item.noise_dbfs,
                item.noise_seed,
                line.UTTERANCE_LEAD_MS,
                line.UTTERANCE_TAIL_MS,
            )
            name = f"{first.intent}_{item.index:03d}.wav"
            write_wav(out_dir / name, pcm, line.LINE_RATE)
            labels.append(
                {
                    "file": name,
                    "split": split,
                    "text": first.text,
                    "intent": first.intent,
                    "scenario": item.script.scenario,
                    "slots": item.script.slots,
                    "voice": item.voice.as_json(),
                    "noise_dbfs": item.noise_dbfs,
                    "duration_ms": duration,
                    "speech_ms": spans[0],
                }
            )
        document = {**common, "items": labels}
        (out_dir / "labels.json").write_text(
            json.dumps(document, ensure_ascii=False, indent=1) + "\n", "utf-8"
        )
        return document
    entries = []
    for item in items:
        texts = [t.text for t in item.script.turns]
        pcm, spans, duration = render_turns(
            texts,
            item.voice,
            item.gaps_ms,
            item.noise_dbfs,
            item.noise_seed,
            line.CALL_LEAD_MS,
            line.CALL_TAIL_MS,
        )
        write_wav(out_dir / item.file, pcm, line.LINE_RATE)
        entries.append(
            {
                "file": item.file,
                "split": split,
                "scenario": item.script.scenario,
                "variant": item.script.variant,
                "voice": item.voice.as_json(),
                "noise_dbfs": item.noise_dbfs,
                "noise_seed": item.noise_seed,
                "duration_ms": duration,
                "slots": item.script.slots,
                "turns": [
                    {"text": t.text, "intent": t.intent, "text_intent": got, "speech_ms": span}
                    for t, got, span in zip(item.script.turns, item.text_intents, spans, strict=True)
                ],
                "outcome": item.script.outcome,
            }
        )
    document = {**common, "calls": entries}
    (out_dir / "calls.json").write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return document


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--split", choices=("dev", "heldout"), required=True)
    parser.add_argument("--calls", type=int, default=None, help="default: 24 (16 with --first-turns)")
    parser.add_argument("--seed", type=int, default=None, help="default: a fixed seed per split")
    parser.add_argument("--voice", choices=("pico", "espeak"), default="pico")
    parser.add_argument(
        "--noisy-share",
        type=float,
        default=None,
        help="share of calls on the split's noisy line instead of its own (1 for a set of noisy calls)",
    )
    parser.add_argument(
        "--conditions",
        choices=("stress",),  # never another split's: the held-out ranges stay unseen
        default=None,
        help="voice and line ranges other than the split's own: 'stress' renders the development phrasings "
        "beyond the held-out ranges on every side (slower and faster, lower and higher, quieter and louder, "
        "noisier), to develop against hard lines while the held-out ranges stay unseen",
    )
    parser.add_argument(
        "--first-turns",
        action="store_true",
        help="write each call's first turn alone (labels.json of single utterances)",
    )
    args = parser.parse_args(argv)
    calls = args.calls if args.calls is not None else (16 if args.first_turns else 24)
    seed = args.seed if args.seed is not None else DEFAULT_SEEDS[args.split]
    if calls < 1:
        parser.error("--calls must be at least 1")
    started = time.perf_counter()
    try:
        document = generate(
            args.out_dir,
            args.split,
            calls,
            seed,
            args.voice,
            args.first_turns,
            args.noisy_share,
            args.conditions,
        )
    except (GeneratorError, line.FixtureError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    rows = document.get("calls") or document["items"]
    audio_s = sum(r["duration_ms"] for r in rows) / 1000
    quiet_dbfs = document["conditions"]["quiet_noise_dbfs"]  # the ranges `generate` used and recorded
    noisy = sum(1 for r in rows if r["noise_dbfs"] > quiet_dbfs)
    per: dict[str, int] = {}
    for r in rows:
        per[r["scenario"]] = per.get(r["scenario"], 0) + 1
    kind = "calls" if "calls" in document else "first-turn utterances"
    print(
        f"{len(rows)} {kind} ({noisy} on a noisy line), {audio_s:.1f} s of audio, split {args.split}, "
        f"voice {args.voice}, seed {seed}, in {time.perf_counter() - started:.1f} s into {args.out_dir}"
    )
    print("  " + ", ".join(f"{k} {v}" for k, v in sorted(per.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
