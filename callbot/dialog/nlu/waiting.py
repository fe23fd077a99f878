"""Does the caller choose to stay on the line? Asked only after the bot said that every agent is busy
and offered a call-back or the wait: "je patiente", "je préfère attendre", "je reste en ligne"."""

from __future__ import annotations

import re

from callbot.dialog.nlu.lexicon import canonical_words
from callbot.dialog.nlu.normalize import normalize

# "patienter" only ever means waiting on the line; "je patient" is how a recogniser often drops the "e".
_PATIENT = r"patient(?:e|es|er|erai|erais|ons|ez)?"
# "attendre" has objects that are not the wait on the line ("j'attends ma commande", "j'attends depuis
# une heure"): it counts only when nothing but politeness or the line itself follows. The bare present
# ("attends", "attend") needs its subject: alone, "attends !" asks the bot to hold on.
_WAIT = r"(?:attendre|attendrai|attendrais|(?:j|je) attends?)"
_STAY = r"(?:rest(?:e|er|erai)|gard(?:e|er|erai) la ligne|(?:je )?ne quitte pas)"
_PREFER_THE_WAIT = r"(?:prefere|preferons|prefererais|choisis) (?:l )?attente"
_ALLOWED_AFTER = (
    r"(?: (?:merci|alors|donc|oui|ok|d accord|bien|la|ici|volontiers|encore|un peu|sans probleme"
    r"|pas de (?:souci|probleme)|c est pas grave|ca ira|s il vous plait|en ligne|sur la ligne"
    r"|au bout du fil|au telephone|en attente|dans la file|mon tour|quelques minutes|\d+ minutes"
    r"|(?:un|le|qu un|que le) conseiller.*|plutot.*))*$"
)
_WANTS_TO_WAIT = re.compile(
    rf"\b(?:{_PATIENT}\b.*|{_WAIT}{_ALLOWED_AFTER}|{_STAY}{_ALLOWED_AFTER}|{_PREFER_THE_WAIT}\b.*)"
)
# Politeness that carries a "pas" without refusing anything.
_HARMLESS_PAS = re.compile(r"\bpas (?:de (?:souci|probleme)|grave)\b|\bc est pas grave\b")
_NEGATION = re.compile(
    r"\b(?:pas|plus|jamais|sans|marre|ni|plutot que|au lieu)\b|\b(?:impossible|hors de question) d\b"
)
# A new clause starts at its subject: "pas de souci, je patiente", "non, je veux attendre".
_SUBJECT = re.compile(r"\b(?:je|j|on|nous|moi)\b")
# "ça fait une heure que j'attends" complains about a wait; it does not choose one.
_COMPLAINT = re.compile(r"\b(?:ca fait|cela fait|depuis|deja|toujours|encore)\b")


def wants_to_wait(text: str) -> bool:
    """True when the caller says they will wait on the line rather than be called back.

    Yes: "je patiente", "je vais patienter", "je préfère attendre", "j'attends", "non je veux attendre",
    "je reste en ligne", "je garde la ligne", "je préfère l'attente", "pas de souci, je patiente".
    No: a refusal in the same clause ("je ne veux pas attendre", "pas le temps d'attendre", "sans
    attendre", "je ne peux plus attendre", "plutôt que d'attendre, rappelez-moi"); "attendre" with another
    object ("j'attends ma commande", "j'attends depuis ce matin"); a complaint about a wait ("ça fait une
    heure que j'attends"); "attendez" alone (the caller asks the bot to hold on).
    """
    normalized = " ".join(canonical_words(normalize(text).split()))
    if not normalized:
        return False
    for match in _WANTS_TO_WAIT.finditer(normalized):
        before = _HARMLESS_PAS.sub(" ", normalized[: match.start()])
        subjects = list(_SUBJECT.finditer(before))
        clause = before[subjects[-1].start() :] if subjects else before
        if not _NEGATION.search(clause) and not _COMPLAINT.search(before):
            return True
    return False
