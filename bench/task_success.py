#!/usr/bin/env python3
"""Score speech understanding on an 8 kHz phone line: call-level task success, first-turn intent, WER.

    python bench/task_success.py DIR [--asr whisper] [--json OUT] [--errors] [--limit N] [--only FILE…]
        [--logs DIR]   (each call's event log, to see where a failing call went wrong)
        [--answer-confirmations] [--repeat-when-asked] [--name-again] [--correct-read-backs]
                       (a scripted caller who also answers what its script did not plan for)

DIR is either a set of multi-turn calls with `calls.json` (bench/make_call_set.py) or a set of single
utterances with `labels.json` (bench/make_caller_set.py, or make_call_set.py --first-turns); the latter
gets first-turn intent, WER and latency only.

Every recording is replayed through `callbot.replay.replay_call` (VAD → recogniser → dialog → TTS, one
SpeechStack for all, `--timing turns`) with `now` and the caller id from calls.json, then scored:
- task success: the outcome type and queue (transfer), the exact call-back time (callback), or a hang-up
  by the bot after an answer whose words (store, hours, address, order status, stock) the bot said;
- first-turn intent: the intent of the first turn with a transcript (a bare greeting the bot answered on its
  own, "Allô, bonjour.", is skipped) against the first scripted turn;
- WER of the caller turns: reference = the scripted text of the turns the replay played to the bot,
  hypothesis = the transcripts, after lower-casing, removing punctuation and writing numbers one way
  (number words → digits, "14h30" → "14 heures 30", digit groups of a dictated number joined); the raw
  WER (case and punctuation only) is printed too;
- response_ms p50/p95 over every turn, and CPU seconds (time.process_time, all threads) per turn.

To measure committed code rather than a working tree, run it with PYTHONPATH pointing at a worktree of
that commit; the first line printed is the callbot package actually imported.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import make_call_set
from make_call_set import answer_found, squash  # bench/: the generator's own text-check rules

import callbot
from callbot.config import Settings, load_settings
from callbot.dialog import french
from callbot.dialog.nlu import parse_when
from callbot.replay import replay_call
from callbot.replay.replay import DEFAULT_REPLAY_CALLER
from callbot.session.stack import SpeechStack

DEFAULT_NOW = "2026-11-23T10:30:00+01:00"

try:  # number words → digits for the WER normaliser (a callbot dependency; optional here)
    from text_to_num import alpha2digit
except ImportError:  # pragma: no cover
    alpha2digit = None


# --- a caller who answers "c'est bien ça ?" (--answer-confirmations) ------------------------------------

#: The bot asks something back: a guess of the request, a value heard without certainty.
ASKS_BACK = re.compile(r"c'est bien (?:ça|cela) \?\s*$")
#: The bot reads back a call-back time before booking it (the flow's confirm sentence).
READ_BACK = re.compile(r"\bJe vous rappelle (?!au ).*\bC'est bien ça \?\s*$", re.DOTALL)
#: A time window read back ("entre 9 h et 12 h").
WINDOW = re.compile(r"\bentre (\d{1,2}) h(?: (\d{2}))? et (\d{1,2}) h(?: (\d{2}))?")
#: A known order asked back in place of the number heard ("La commande 458129, c'est bien ça ?").
ORDER_ASKED_BACK = re.compile(r"\bcommande (\d+), c'est bien ça \?")
#: What the bot adds when it asks a yes or a no again (answered with a bare "Oui." or "Non.").
KEYS_HINT = squash(make_call_set.FLOW.prompts.keys_hint)
#: How the scripted caller answers what the script did not plan for; the held-out set has its own words.
CONFIRMATIONS = {
    "dev": ("Oui, c'est ça.", "Non, ce n'est pas ça."),
    "heldout": ("Oui, exactement.", "Non, pas du tout."),
}
MAX_UNPLANNED_ANSWERS = 3
GENERIC_GUESS = getattr(
    getattr(make_call_set.FLOW, "prompts", None),
    "confirm_guess",
    "Vous appelez pour : {label}, c'est bien ça ?",
)
#: What the bot says to ask back a guessed request → the request (the flow's `confirm:`, else its label).
GUESSES = {
    squash(intent.confirm or GENERIC_GUESS.format(label=(intent.label or name).lower()))
    .removesuffix(" c'est bien ça ?")
    .rstrip(","): name
    for name, intent in make_call_set.FLOW.intents.items()
}


def _reasks(flow: Any) -> tuple[str, ...]:
    """What the flow says when it did not get what it asked for: every state's and the global
    `no_match:` sentences, the sentence for a request whose number was not caught ("Je n'ai pas saisi
    le numéro."), and the question of a state a `not_found:` sends the caller to for the value it
    cleared (the number no order has, asked for again)."""
    texts = [str(t) for t in flow.global_handlers.no_match]
    texts.append(str(flow.prompts.number_not_caught))
    questions = set()  # a no_match that is also a plain question ("Puis-je vous aider…") is no sign
    again = []
    for state in flow.states.values():
        texts += [str(t) for t in state.no_match]
        questions |= {squash(str(t)) for t in (state.ask, state.say) if t}
        transitions = [state.then, *state.on.values(), *state.on_dtmf.values()]
        for transition in filter(None, transitions):
            found = transition.not_found
            target = flow.states[found.goto] if found is not None and found.goto else None
            if found is not None and target is not None and target.ask and target.collect in found.clear:
                again.append(squash(str(target.ask)))
    return tuple(dict.fromkeys([*(squash(t) for t in texts if squash(t) not in questions), *again]))


#: The bot says it did not get what the caller just said (--repeat-when-asked).
REASKS = _reasks(make_call_set.FLOW)
#: What the bot says after a "non" to a guess asked back, before asking its question again.
GUESS_DECLINED = squash(make_call_set.FLOW.prompts.guess_declined)
#: The flow's questions for a store or a product → the slot (--name-again).
ENTITY_ASKS = {
    squash(str(state.ask)): state.collect
    for state in make_call_set.FLOW.states.values()
    if state.ask and state.collect and make_call_set.FLOW.slots[state.collect].type == "entity"
}
DIGIT_WORDS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf")


class ConfirmingCaller:
    """The caller of one scripted call, who also answers a question asked back that the script did not
    plan for: yes when the bot names what the caller meant (the request's label, the store, the product,
    the order number of the script), no otherwise. Real callers do; a recording cannot.

    The answers are spoken in the call's own voice, through the same line (noise level and seed), and
    remembered with where they came, so that WER counts them as said."""

    def __init__(
        self,
        call: dict[str, Any],
        split: str,
        repeats: bool = False,
        names_again: bool = False,
        corrects_read_backs: bool = False,
        now: datetime | None = None,
    ) -> None:
        self.call = call
        self.words = CONFIRMATIONS.get(split, CONFIRMATIONS["dev"])
        #: Also say the last scripted turn again when the bot says it did not get it (once per turn;
        #: digit by digit when asked so), as callers do.
        self.repeats = repeats
        #: Also name again the store or product already named when the bot asks for it (once per turn).
        self.names_again = names_again
        #: Also say "non" to a call-back time read back wrong, with the time again (once per turn).
        self.corrects_read_backs = corrects_read_backs
        self.now = now or datetime.fromisoformat(DEFAULT_NOW)
        self._repeated: set[int] = set()
        self._corrected: set[int] = set()
        self.said: list[tuple[int, str]] = []  # (before scripted turn n, text)
        self._audio: dict[str, bytes] = {}

    def __call__(self, bot: str, next_turn: int) -> bytes | None:
        if len(self.said) >= MAX_UNPLANNED_ANSWERS:
            return None
        if (self.repeats or self.names_again) and next_turn > 0 and next_turn not in self._repeated:
            again = self._again(squash(bot), self.call["turns"][next_turn - 1]) if self.repeats else None
            again = again or (self._named_again(squash(bot), next_turn) if self.names_again else None)
            if again:
                self._repeated.add(next_turn)
                self.said.append((next_turn, again))
                return self._speak(again)
        last = self.call["turns"][max(next_turn - 1, 0)]
        if self.corrects_read_backs and next_turn not in self._corrected and self._wrong_time(bot):
            # "Je vous rappelle mercredi 25 novembre à 14 h ?" for "Demain vers quatorze heures": callers
            # say no and the time again in one breath; the script's planned "oui" comes after.
            self._corrected.add(next_turn)
            # Every scripted turn that said when ("Jeudi." then "À quinze heures."), not only the last.
            said = [t["text"] for t in self.call["turns"][:next_turn] if parse_when(t["text"], self.now)]
            text = " ".join([self.words[1], *(f"{t.rstrip('.?! ')}." for t in said or [last["text"]])])
            self.said.append((next_turn, text))
            return self._speak(text)
        # asked again with the keys ("… c'est bien ça ? Dites oui ou non, ou tapez 1 …"): a bare yes or no
        squashed = squash(bot)
        asked_again = squashed.endswith(KEYS_HINT)
        question = squashed.removesuffix(KEYS_HINT).rstrip() if asked_again else bot
        if not ASKS_BACK.search(question):
            return None
        right = self._right(squash(question), last)
        if right is None:
            return None  # a question the script answers (the call-back read back), or none of ours
        text = ("Oui." if right else "Non.") if asked_again else self.words[0] if right else self.words[1]
        if right is False and not self._guessed(squash(bot)):
            # A wrong store or product read back: callers correct it ("Non, ce n'est pas ça. Lyon.").
            text = f"{text} {last['text'].rstrip('.?! ')}."
        self.said.append((next_turn, text))
        return self._speak(text)

    def _again(self, bot: str, last: dict[str, Any]) -> str | None:
        """The last scripted turn said again when the bot says it did not get it, or asks its question
        again after the caller's "non" to a guess; an order number digit by digit when the bot asks for
        that and the call has one."""
        declined = bot.startswith(GUESS_DECLINED)
        if not declined and not any(reask in bot for reask in REASKS):
            return None
        number = self.call.get("slots", {}).get("numero_commande")
        if number and "chiffre par chiffre" in bot:
            return ", ".join(DIGIT_WORDS[int(d)] for d in number).capitalize() + "."
        return str(last["text"])

    def _named_again(self, bot: str, next_turn: int) -> str | None:
        """The store or product the caller already named, in the words it used ("Paris.", "Le
        plafonnier Halo."), when the bot asks for it: a caller answers the question rather than wait."""
        said = " ".join(squash(turn["text"]) for turn in self.call["turns"][:next_turn])
        for ask, slot in ENTITY_ASKS.items():
            key = self.call.get("slots", {}).get(slot)
            if ask not in bot or key is None:
                continue
            table = make_call_set.STORES if key in make_call_set.STORES else make_call_set.PRODUCTS
            entry = table.get(key, {})
            forms = sorted([entry.get("name", ""), *entry.get("aliases", [])], key=len, reverse=True)
            named = next(
                (form for form in forms if form and re.search(rf"\b{re.escape(squash(form))}\b", said)), None
            )
            if named is not None:
                return f"{named[0].upper()}{named[1:]}."
        return None

    def _wrong_time(self, bot: str) -> bool:
        """Whether `bot` reads back a call-back time ("Je vous rappelle …") that is not the call's: its
        day ("24 novembre", or "aujourd'hui") and its hour ("à 14 h", "vers 14 h", or a window that
        holds it, "entre 13 h 30 et 15 h" for 14 h)."""
        expected = self.call.get("outcome", {}).get("callback_at")
        if not expected or not READ_BACK.search(bot):
            return False
        at = datetime.fromisoformat(expected)
        days = [french.day_and_month(at.date())] + (["aujourd'hui"] if at.date() == self.now.date() else [])
        day_right = any(re.search(rf"\b{day}\b", bot) for day in days)
        hour_right = bool(re.search(rf"\b(?:à|vers) {french.clock(at)}(?! \d)", bot))
        for window in WINDOW.finditer(bot):
            start = int(window[1]) * 60 + int(window[2] or 0)
            end = int(window[3]) * 60 + int(window[4] or 0)
            hour_right = hour_right or start <= at.hour * 60 + at.minute <= end
        return not (day_right and hour_right)

    @staticmethod
    def _guessed(bot: str) -> bool:
        return any(asked in bot for asked in GUESSES)

    def _right(self, bot: str, last: dict[str, Any]) -> bool | None:
        """Whether the bot asks back what the caller meant: the request it guessed (its `confirm:` or the
        generic "Vous appelez pour : …"), or the store or product it heard without certainty; None when
        it asks something else."""
        for asked, intent in GUESSES.items():
            if asked in bot:
                return intent == last.get("intent")
        names = {
            squash(entry["name"]): key
            for table in (make_call_set.STORES, make_call_set.PRODUCTS)
            for key, entry in table.items()
        }
        for name, key in names.items():
            if f"{name}, c'est bien ça ?" in bot:
                return key in self.call.get("slots", {}).values()
        order = ORDER_ASKED_BACK.search(bot)
        if order is not None:
            return order[1] == self.call.get("slots", {}).get("numero_commande")
        return None

    def _speak(self, text: str) -> bytes:
        if text not in self._audio:
            voice = self.call["voice"]
            choice = make_call_set.VoiceChoice(
                voice["engine"], voice["speed"], voice["pitch"], voice["gain_db"], voice.get("voice")
            )
            pcm, _, _ = make_call_set.render_turns(
                [text], choice, [], self.call["noise_dbfs"], self.call.get("noise_seed", 0) + 1, 300, 800
            )
            self._audio[text] = pcm
        return self._audio[text]

    def reference(self, played: int) -> str:
        """The scripted turns played, with the unplanned answers where they came."""
        texts = []
        for index, turn in enumerate(self.call["turns"][:played]):
            texts += [text for before, text in self.said if before == index]
            texts.append(turn["text"])
        texts += [text for before, text in self.said if before >= played]
        return " ".join(texts)


# --- scoring rules (the generator applies the same ones to the typed text) -----------------------------


def outcome_reached(expected: dict[str, Any], got: dict[str, Any], bot_turns: list[str]) -> bool:
    """The call ended as expected; an answer's words all said in one turn of the bot's (an ask-back of
    the right store followed by the answer for another store is no answer)."""
    if got.get("type") != expected["type"]:
        return False
    if expected["type"] == "transfer":
        return got.get("queue") == expected["queue"]
    if expected["type"] == "callback":
        at = got.get("callback_at")
        return at is not None and datetime.fromisoformat(at) == datetime.fromisoformat(
            expected["callback_at"]
        )
    return any(answer_found(expected.get("answer", []), said) for said in bot_turns or [""])


def why_failed(expected: dict[str, Any], got: dict[str, Any], bot_turns: list[str]) -> str:
    if got.get("type") != expected["type"]:
        return f"ended {got.get('type')}{' ' + got['queue'] if got.get('queue') else ''}" + (
            f" ({got['reason']})" if got.get("reason") else ""
        )
    if expected["type"] == "transfer":
        return f"transferred to {got.get('queue')}, not {expected['queue']}"
    if expected["type"] == "callback":
        return f"call-back at {got.get('callback_at')}, not {expected['callback_at']}"
    words = expected.get("answer", [])
    missing = min(
        ([w for w in words if squash(w) not in squash(said)] for said in bot_turns or [""]), key=len
    )
    return f"hung up without saying {missing} in the answer that said most of it"


# --- WER ----------------------------------------------------------------------------------------------

GREETING_ONLY = re.compile(r"^(?:(?:allo|bonjour|bonsoir|madame|monsieur|oui|alors|euh|voila|hello)\s*)+$")
_CLOCK = re.compile(r"\b(\d{1,2})\s*[h:]\s*(\d{2})\b")
_CLOCK_H = re.compile(r"\b(\d{1,2})\s*h\b")
_DIGIT_RUN = re.compile(r"\b\d+(?: \d+)+\b")


def raw_words(text: str) -> list[str]:
    """Lower case, punctuation removed (apostrophes and hyphens split words)."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    return re.sub(r"[^\w]+", " ", text).split()


def wer_words(text: str) -> list[str]:
    """raw_words, with numbers written one way: "quatre, cinq, huit" / "4-5-8" / "458" → "458",
    "quatorze heures trente" / "14h30" → "14 heures 30"."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    text = re.sub(r"[-‐–]", " ", text)
    if alpha2digit is not None:
        text = alpha2digit(text.replace("zero", "zéro"), "fr", threshold=2)
    text = _CLOCK.sub(r"\1 heures \2", text)
    text = _CLOCK_H.sub(r"\1 heures", text)
    text = " ".join(re.sub(r"[^\w]+", " ", text).split())
    return _DIGIT_RUN.sub(lambda m: m.group(0).replace(" ", ""), text).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1]


# --- overlap of the set's phrasings with the flow's own examples (a held-out set must not be trained on) -


def _plain_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).split()


def example_overlap(texts: list[str], examples: list[str]) -> list[tuple[str, str, str]]:
    """(kind, text, example) for each distinct scripted text that is a flow example ("exact": equal, or the
    example after a short opening), or close to one ("near": the example's words in order inside the text,
    or 60 % of the words shared), examples of fewer than 3 words ignored."""
    found = []
    plain_examples = [(e, _plain_words(e)) for e in examples]
    for text in sorted(set(texts)):
        words = _plain_words(text)
        joined = " " + " ".join(words) + " "
        best = None
        for example, ex in plain_examples:
            if len(ex) < 3:
                continue
            inside = (" " + " ".join(ex) + " ") in joined
            if words == ex or (inside and len(words) - len(ex) <= 2):
                best = ("exact", text, example)
                break
            jaccard = len(set(words) & set(ex)) / len(set(words) | set(ex))
            if best is None and (inside or jaccard >= 0.6):
                best = ("near", text, example)
        if best:
            found.append(best)
    return found


# --- the set ------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def load_set(directory: Path) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """("calls", document, calls) or ("utterances", document, items) with each item as a one-turn call."""
    if (directory / "calls.json").exists():
        document = json.loads((directory / "calls.json").read_text(encoding="utf-8"))
        return "calls", document, document["calls"]
    if (directory / "labels.json").exists():
        document = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        items = document["items"] if isinstance(document, dict) else document
        document = document if isinstance(document, dict) else {}
        # A bare oui/non is an answer, not a request: it means nothing at the greeting.
        rows = [
            {**item, "scenario": item["intent"], "turns": [{"text": item["text"], "intent": item["intent"]}]}
            for item in items
            if item["intent"] not in ("oui", "non")
        ]
        return "utterances", document, rows
    raise SystemExit(f"error: {directory} has neither calls.json nor labels.json")


def played_turns(call: dict[str, Any], result: Any, unplanned: int = 0) -> int:
    """How many scripted turns the replay released to the bot: one per time the bot listened (less the
    unplanned answers), at most all (a call ended early by a transfer or an escalation never heard the
    rest)."""
    listens = sum(1 for e in result.events if e.get("event") == "listen")
    return min(len(call["turns"]), max(listens - unplanned, 1))


def score_call(
    call: dict[str, Any], result: Any, kind: str, cpu_s: float, caller: ConfirmingCaller | None = None
) -> dict[str, Any]:
    turns = result.turns
    heard = [t for t in turns if t.transcript]
    # The first request: a bare "Allô, bonjour." the caller paused after is answered by the bot on its own.
    requests = [t for t in heard if not GREETING_ONLY.match(" ".join(_plain_words(t.transcript)))]
    outcome = result.outcome.as_dict()
    bot_turns = [t.bot for t in turns if t.bot]
    unplanned = len(caller.said) if caller is not None else 0
    n_played = len(call["turns"]) if kind == "utterances" else played_turns(call, result, unplanned)
    reference = (
        caller.reference(n_played)
        if caller is not None
        else " ".join(t["text"] for t in call["turns"][:n_played])
    )
    hypothesis = " ".join(t.transcript for t in heard)
    ref_w, hyp_w = wer_words(reference), wer_words(hypothesis)
    ref_r, hyp_r = raw_words(reference), raw_words(hypothesis)
    first = requests[0] if requests else None
    row: dict[str, Any] = {
        "file": call["file"],
        "scenario": call.get("scenario"),
        "variant": call.get("variant"),
        "noise_dbfs": call.get("noise_dbfs"),
        "voice": call.get("voice"),
        "first_intent_expected": call["turns"][0]["intent"],
        "first_intent": first.intent if first else None,
        "first_intent_ok": (first.intent if first else None) == call["turns"][0]["intent"],
        "first_transcript": first.transcript if first else None,
        "noisy": call.get("noisy", False),
        "turns_played": n_played,
        "wer_ref_words": len(ref_w),
        "wer_errors": edit_distance(ref_w, hyp_w),
        "raw_ref_words": len(ref_r),
        "raw_errors": edit_distance(ref_r, hyp_r),
        "response_ms": [t.response_ms for t in turns if t.response_ms is not None],
        "caller_turns": len(turns),
        "cpu_s": round(cpu_s, 3),
        "audio_ms": result.audio_ms,
        "wall_ms": result.wall_ms,
        "outcome": outcome,
        "said": [t["text"] for t in call["turns"]],
        "unplanned_answers": [text for _, text in caller.said] if caller is not None else [],
        "heard": [
            {"transcript": t.transcript, "intent": t.intent, "slots": _plain(t.slots), "bot": t.bot}
            for t in turns
        ],
    }
    if kind == "calls":
        expected = call["outcome"]
        row["expected"] = expected
        row["success"] = outcome_reached(expected, outcome, bot_turns)
        if not row["success"]:
            row["why"] = why_failed(expected, outcome, bot_turns)
    return row


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def summarise(rows: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    n = len(rows)
    latencies = [ms for r in rows for ms in r["response_ms"]]
    turns = sum(r["caller_turns"] for r in rows)
    summary: dict[str, Any] = {
        "items": n,
        "first_intent_ok": sum(r["first_intent_ok"] for r in rows),
        "wer": sum(r["wer_errors"] for r in rows) / max(1, sum(r["wer_ref_words"] for r in rows)),
        "raw_wer": sum(r["raw_errors"] for r in rows) / max(1, sum(r["raw_ref_words"] for r in rows)),
        "response_ms_p50": percentile(latencies, 50) if latencies else None,
        "response_ms_p95": percentile(latencies, 95) if latencies else None,
        "response_ms_mean": statistics.mean(latencies) if latencies else None,
        "caller_turns": turns,
        "cpu_s_per_turn": sum(r["cpu_s"] for r in rows) / max(1, turns),
        "real_time_factor": sum(r["wall_ms"] for r in rows) / max(1, sum(r["audio_ms"] for r in rows)),
    }
    per: dict[str, dict[str, int]] = {}
    for r in rows:
        entry = per.setdefault(r["scenario"], {"n": 0, "success": 0, "first_intent_ok": 0})
        entry["n"] += 1
        entry["success"] += bool(r.get("success"))
        entry["first_intent_ok"] += r["first_intent_ok"]
    summary["per_scenario"] = per
    lines: dict[str, dict[str, Any]] = {}
    for label, subset in (
        ("quiet", [r for r in rows if not r["noisy"]]),
        ("noisy", [r for r in rows if r["noisy"]]),
    ):
        if subset:
            lines[label] = {
                "n": len(subset),
                "success": sum(bool(r.get("success")) for r in subset),
                "first_intent_ok": sum(r["first_intent_ok"] for r in subset),
                "wer": sum(r["wer_errors"] for r in subset) / max(1, sum(r["wer_ref_words"] for r in subset)),
            }
    summary["by_line"] = lines
    if kind == "calls":
        summary["success"] = sum(r["success"] for r in rows)
    return summary


def print_report(summary: dict[str, Any], kind: str, rows: list[dict[str, Any]], errors: bool) -> None:
    n = summary["items"]
    print(f"\n{kind}: {n}")
    if kind == "calls":
        ok = summary["success"]
        print(f"task success: {ok}/{n} = {100 * ok / n:.1f} %")
        for scenario, e in sorted(summary["per_scenario"].items()):
            print(f"  {scenario:16s} {e['success']}/{e['n']}")
    fi = summary["first_intent_ok"]
    print(f"first-turn intent: {fi}/{n} = {100 * fi / n:.1f} %")
    if kind == "utterances":
        for scenario, e in sorted(summary["per_scenario"].items()):
            print(f"  {scenario:16s} {e['first_intent_ok']}/{e['n']}")
    for label, e in summary["by_line"].items():
        task = f"task {e['success']}/{e['n']}, " if kind == "calls" else ""
        print(
            f"  {label} line: {task}first intent {e['first_intent_ok']}/{e['n']}, WER {100 * e['wer']:.1f} %"
        )
    print(
        f"WER (numbers normalised): {100 * summary['wer']:.1f} %   raw WER: {100 * summary['raw_wer']:.1f} %"
    )
    if summary["response_ms_p50"] is not None:
        print(
            f"response_ms: p50 {summary['response_ms_p50']:.0f}  p95 {summary['response_ms_p95']:.0f}  "
            f"mean {summary['response_ms_mean']:.0f}  (n={sum(len(r['response_ms']) for r in rows)})"
        )
    print(
        f"CPU per caller turn: {summary['cpu_s_per_turn']:.2f} s ({summary['caller_turns']} turns); "
        f"real-time factor {summary['real_time_factor']:.3f}"
    )
    if not errors:
        return
    failing = [r for r in rows if (not r.get("success", True)) or not r["first_intent_ok"]]
    if failing:
        print("\nfailures:")
    for r in failing:
        flags = []
        if not r.get("success", True):
            flags.append(f"task: {r['why']}")
        if not r["first_intent_ok"]:
            flags.append(f"first intent {r['first_intent']} (want {r['first_intent_expected']})")
        noise = f", noise {r['noise_dbfs']} dBFS" if r.get("noise_dbfs") is not None else ""
        print(f"- {r['file']} [{r.get('variant') or ''}{noise}]: " + "; ".join(flags))
        for said in r["said"]:
            print(f"    said : {said}")
        for t in r["heard"]:
            heard = t["transcript"] or "[silence]"
            print(f"    heard: {heard}  -> {t['intent'] or '?'} {t['slots'] or ''}")
            if t["bot"]:
                print(f"      bot: {t['bot']}")
        print(f"    outcome: {json.dumps(r['outcome'], ensure_ascii=False)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--asr", default="whisper", choices=("auto", "vosk", "whisper"))
    parser.add_argument("--json", type=Path, help="write per-call results and the summary here")
    parser.add_argument(
        "--errors", action="store_true", help="list failing calls with transcripts and replies"
    )
    parser.add_argument("--limit", type=int, default=0, help="score only the first N recordings")
    parser.add_argument("--only", nargs="+", default=[], help="score only these recordings (file names)")
    parser.add_argument("--logs", type=Path, help="write each call's event log (JSON lines) in this folder")
    parser.add_argument("--config", type=Path, help="callbot settings file (e.g. asr: {num_hypotheses: 3})")
    parser.add_argument(
        "--answer-confirmations",
        action="store_true",
        help="the scripted caller also answers a question asked back that the script did not plan for "
        '("c\'est bien ça ?"): yes when the bot names what the caller meant, no otherwise',
    )
    parser.add_argument(
        "--repeat-when-asked",
        action="store_true",
        help="the scripted caller also says its last turn again when the bot says it did not get it (one of "
        "the flow's no_match sentences, or the question after a value was not found), once per turn, an "
        "order number digit by digit when asked so; implies answering confirmations like "
        "--answer-confirmations",
    )
    parser.add_argument(
        "--name-again",
        action="store_true",
        help="the scripted caller also names again the store or product it already named when the bot asks "
        'for it ("Quel produit cherchez-vous ?" → "Le plafonnier Halo."), once per turn; implies '
        "answering confirmations like --answer-confirmations",
    )
    parser.add_argument(
        "--correct-read-backs",
        action="store_true",
        help="the scripted caller also says no to a call-back time read back wrong, with its time again "
        '("Non, ce n\'est pas ça. Demain vers quatorze heures."), once per turn; implies answering '
        "confirmations like --answer-confirmations",
    )
    args = parser.parse_args(argv)

    print(f"callbot imported from {Path(callbot.__file__).parent}")
    kind, document, calls = load_set(args.directory)
    quiet_floor = (document.get("conditions") or {}).get("quiet_noise_dbfs", -60.0)
    for call in calls:
        call["noisy"] = call.get("noise_dbfs") is not None and call["noise_dbfs"] > quiet_floor
    if args.only:
        calls = [call for call in calls if call["file"] in args.only or Path(call["file"]).stem in args.only]
    if args.limit:
        calls = calls[: args.limit]
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    now = datetime.fromisoformat(document.get("now", DEFAULT_NOW))
    caller = document.get("caller", DEFAULT_REPLAY_CALLER)

    settings = load_settings(args.config) if args.config else Settings()
    settings.asr.engine = args.asr
    started = time.perf_counter()
    stack = SpeechStack(settings)
    print("\n".join(stack.banner()))
    print(
        f"start-up (models + prompt cache): {time.perf_counter() - started:.1f} s; now {now.isoformat()}; "
        f"split {document.get('split', '?')}, voice {document.get('voice_engine', '?')}"
    )

    examples = [e for intent in stack.flow.intents.values() for e in intent.examples]
    overlap = example_overlap([t["text"] for call in calls for t in call["turns"]], examples)
    exact = [o for o in overlap if o[0] == "exact"]
    print(
        f"scripted texts vs the flow's examples: {len(exact)} exact, {len(overlap) - len(exact)} near"
        + (" (a held-out set is no longer held out where they match)" if overlap else "")
    )
    for kind_, text, example in overlap if args.errors else exact:
        print(f"  {kind_}: {text!r} ~ example {example!r}")

    # Each of these options implies answering confirmations like --answer-confirmations.
    answers_confirmations = (
        args.answer_confirmations or args.repeat_when_asked or args.name_again or args.correct_read_backs
    )
    rows = []
    for call in calls:
        cpu0 = time.process_time()
        confirming = (
            ConfirmingCaller(
                call,
                document.get("split", "dev"),
                repeats=args.repeat_when_asked,
                names_again=args.name_again,
                corrects_read_backs=args.correct_read_backs,
                now=now,
            )
            if answers_confirmations and kind == "calls"
            else None
        )
        log_path = args.logs / f"{Path(call['file']).stem}.jsonl" if args.logs else None
        result = replay_call(
            stack, args.directory / call["file"], now=now, caller=caller, answer=confirming, log_path=log_path
        )
        rows.append(score_call(call, result, kind, time.process_time() - cpu0, confirming))
        mark = (
            "" if kind == "utterances" else (" ok" if rows[-1]["success"] else f" FAIL ({rows[-1]['why']})")
        )
        print(f"  {call['file']}:{mark}", file=sys.stderr, flush=True)

    summary = summarise(rows, kind)
    print_report(summary, kind, rows, args.errors)
    if args.json:
        meta = {
            "directory": str(args.directory),
            "example_overlap": overlap,
            "callbot": str(Path(callbot.__file__).parent),
            "banner": stack.banner(),
            "kind": kind,
            "split": document.get("split"),
            "voice_engine": document.get("voice_engine"),
            "now": now.isoformat(),
            "answer_confirmations": answers_confirmations,
            "repeat_when_asked": args.repeat_when_asked,
            "name_again": args.name_again,
            "correct_read_backs": args.correct_read_backs,
        }
        args.json.write_text(
            json.dumps(
                {"meta": meta, "summary": summary, "items": rows}, ensure_ascii=False, indent=1, default=str
            )
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
