"""Remove from a Whisper transcript what the caller did not say.

Whisper is a language model as much as a recogniser: on short, band-limited telephone audio it continues
the text it was primed with. Two failure modes were measured on 8 kHz caller recordings:

- **loops**: a clause repeated ("je voudrais s'il vous plaît, je voudrais s'il vous plaît") or a word
  sequence repeated back to back;
- **prompt leaks**: clauses copied word for word from the decoding prompt ("Merci, je voudrais un
  rendez-vous, suivre ma commande." for "rappelez-moi demain à dix heures", where every clause after the
  first comes from the domain prompt).

`clean_transcript` drops repeated clauses, collapses back-to-back repeated word runs, and drops the
clauses at the end of the text that are verbatim pieces of the prompt (a leak continues what was heard:
the first clause, a request mid-sentence and a clause of one or two words are the caller's). Clauses
with digits are never touched: numbers repeat for real ("06 45 78 45 78"). It never adds a word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Clause boundaries in Whisper's punctuated output.
_CLAUSE_END = re.compile(r"(?<=[,.;:!?…])\s+")
#: Letters a French caller's words are written with (Latin, accented), digits, spaces and punctuation.
_FOREIGN = re.compile(r"[^\s\w'’,.;:!?…%€°()+\-]|[^\x00-\u024f\s'’…€]")
_HAS_DIGIT = re.compile(r"\d")
_TOKEN = re.compile(r"[^\s'’]+['’]?|['’]")
#: Clauses of at most this many words are never treated as leaks.
_SHORT_CLAUSE_WORDS = 2


@dataclass(frozen=True)
class Cleaned:
    text: str
    #: What was removed and why, e.g. ("repeated: je voudrais",): kept on the decode's `Transcript.removed`
    #: (`WhisperRecognizer.last_transcript`) for whoever investigates a turn.
    removed: tuple[str, ...] = ()


def clean_transcript(text: str, prompt: str = "") -> Cleaned:
    """`text` without repeated clauses, repeated word runs and clauses copied from `prompt`, and without
    characters of other scripts (Whisper base sometimes ends a French turn with one: "C'est用.")."""
    removed: list[str] = []
    foreign = _FOREIGN.findall(text)
    if foreign:
        removed.append(f"other script: {''.join(foreign)}")
        text = _FOREIGN.sub("", text)
    kept: list[str] = []
    seen: set[str] = set()
    prompt_words = _words(prompt)
    clauses = [clause for clause in _CLAUSE_END.split(text.strip()) if clause]
    leaks = _trailing_leaks(clauses, prompt_words)
    for index, clause in enumerate(clauses):
        if _HAS_DIGIT.search(clause):
            # Numbers repeat for real ("06 45 78 45 78", "12, 34, 12, 34"): never collapsed or dropped.
            kept.append(clause)
            continue
        collapsed = _collapse_runs(clause)
        if collapsed != clause:
            ending = clause[-1] if clause[-1] in ",.;:!?…" else ""
            collapsed = collapsed.rstrip(",.;:!?…") + ending
            removed.append(f"loop: {clause}")
            clause = collapsed
        key = " ".join(_words(clause))
        if not key:
            kept.append(clause)
            continue
        if key in seen:
            removed.append(f"repeated: {clause}")
            continue
        seen.add(key)
        if index in leaks:
            removed.append(f"from the prompt: {clause}")
            continue
        kept.append(clause)
    cleaned = " ".join(kept).strip()
    if cleaned and cleaned[-1] in ",;:":
        cleaned = cleaned[:-1].rstrip() + "."
    return Cleaned(cleaned, tuple(removed))


def _trailing_leaks(clauses: list[str], prompt_words: list[str]) -> set[int]:
    """Indexes of the clauses, at the end of the text and after its first clause, copied from the prompt:
    a leak continues what was heard; a request in the middle ("oui, suivre ma commande, s'il vous
    plaît") is the caller's."""
    leaks: set[int] = set()
    for index in range(len(clauses) - 1, 0, -1):
        words = _words(clauses[index])
        if len(words) <= _SHORT_CLAUSE_WORDS or not _contains(prompt_words, words):
            break
        leaks.add(index)
    return leaks


def _collapse_runs(clause: str) -> str:
    """'oui oui oui oui' stays (callers say it); 'je vous plaît je vous plaît' → 'je vous plaît'.

    A run of two or more words repeated back to back is kept once. Single words repeated are kept as
    said: "non non" is an emphatic answer, not a loop.
    """
    tokens = _TOKEN.findall(clause)  # "L'ampoule" is two tokens: "L'" and "ampoule"
    keys = [" ".join(_words(token)) for token in tokens]
    changed = True
    while changed:
        changed = False
        for size in range(len(tokens) // 2, 1, -1):
            for start in range(0, len(tokens) - 2 * size + 1):
                if keys[start : start + size] == keys[start + size : start + 2 * size] and all(
                    keys[start : start + size]
                ):
                    del tokens[start + size : start + 2 * size]
                    del keys[start + size : start + 2 * size]
                    changed = True
                    break
            if changed:
                break
    return re.sub(r"' ", "'", " ".join(tokens))


def _words(text: str) -> list[str]:
    """Lower-case words without accents or punctuation: how two clauses are compared."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.findall(r"[a-z0-9]+", plain)


def _contains(haystack: list[str], needle: list[str]) -> bool:
    size = len(needle)
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))
