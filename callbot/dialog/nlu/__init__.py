"""French natural-language understanding for the dialog: what the recogniser heard, made usable.

Every function takes the recogniser's raw text (Whisper or Vosk: any case, with or without punctuation,
numbers as digits or words, misheard words) and runs it through ``normalize`` first. Pure Python,
deterministic, no network, no model.

- ``normalize`` — the canonical text every rule is written against.
- ``IntentMatcher`` — which intent an utterance expresses, from a few examples per intent.
- ``wants_human`` — the caller asks for a person.
- ``wants_to_wait`` — told that every agent is busy, the caller stays on the line ("je patiente").
- ``parse_yes_no`` — yes / no / neither; ``asks_something`` — a question of the caller's own.
- ``is_greeting`` — a bare "allô, bonjour", not a request; ``asks_to_hold`` — "attendez, je cherche".
- ``extract_order_number``, ``extract_phone_number`` — numbers spoken digit by digit or in groups;
  ``number_cut_short`` — words that stop halfway through one.
- ``parse_when`` — a call-back time, resolved against the call's clock (Europe/Paris).
- ``match_entity``, ``rank_entities``, ``sounds_like`` — which known store / product / city was named.
"""

from callbot.dialog.nlu.entities import EntityScore, match_entity, rank_entities, sounds_like
from callbot.dialog.nlu.greeting import asks_to_hold, is_greeting
from callbot.dialog.nlu.human import wants_human
from callbot.dialog.nlu.intents import IntentMatch, IntentMatcher, IntentScore
from callbot.dialog.nlu.normalize import normalize, strip_accents
from callbot.dialog.nlu.numbers import (
    PhoneNumber,
    extract_order_number,
    extract_phone_number,
    number_cut_short,
)
from callbot.dialog.nlu.waiting import wants_to_wait
from callbot.dialog.nlu.when import PARIS, When, parse_when
from callbot.dialog.nlu.yesno import asks_something, parse_yes_no

__all__ = [
    "PARIS",
    "EntityScore",
    "IntentMatch",
    "IntentMatcher",
    "IntentScore",
    "PhoneNumber",
    "When",
    "asks_something",
    "asks_to_hold",
    "extract_order_number",
    "extract_phone_number",
    "is_greeting",
    "match_entity",
    "normalize",
    "number_cut_short",
    "parse_when",
    "parse_yes_no",
    "rank_entities",
    "sounds_like",
    "strip_accents",
    "wants_human",
    "wants_to_wait",
]
