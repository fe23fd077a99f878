"""Spoken-French vocabulary the matchers know without being told: colloquial variants and synonyms.

A flow author writes "oui" and "disponible"; callers say "ouais" and "dispo", "souci" for "problème",
"boutique" for "magasin". Variants are rewritten to one form before matching; synonyms are words of one
group that match each other at ``SYNONYM_SIMILARITY`` (below a same-stem match, so that the words the
author actually wrote still win).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from callbot.dialog.nlu.normalize import normalize
from callbot.dialog.nlu.similarity import light_stem, word_similarity

SYNONYM_SIMILARITY = 0.8

# Spoken or abbreviated forms → the written form flows use. Values may be several words.
VARIANTS: dict[str, str] = {
    "ouais": "oui",
    "ouai": "oui",
    "ouaip": "oui",
    "ouep": "oui",
    "ouip": "oui",
    "yes": "oui",
    "yep": "oui",
    "nan": "non",
    "nope": "non",
    "okay": "ok",
    "oki": "ok",
    "okey": "ok",
    "dac": "d accord",
    "dacc": "d accord",
    "daccord": "d accord",
    "dispo": "disponible",
    "dispos": "disponibles",
    "rdv": "rendez vous",
    "rendezvous": "rendez vous",
    "pb": "probleme",
    "pbm": "probleme",
    "svp": "s il vous plait",
    "stp": "s il te plait",
    "bcp": "beaucoup",
    "tel": "telephone",
    "tele": "televiseur",
    "teles": "televiseurs",
    "appli": "application",
    "aprem": "apres midi",
    "aujourdhui": "aujourd hui",
    "quelquun": "quelqu un",
    "infos": "informations",
    "info": "information",
}

# Groups of words that mean the same thing to a customer-service bot. Matched through their stems, so
# one form per word is enough ("rembourser" covers "remboursé", "remboursement").
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("probleme", "souci", "ennui", "pepin", "bug", "panne", "defaut", "anomalie"),
    ("casse", "abime", "endommage", "brise", "defectueux", "raye", "fissure", "detruit"),
    ("marche", "fonctionne"),
    ("plaindre", "plainte", "reclamation", "reclamer", "litige", "mecontent", "insatisfait"),
    ("rembourser", "remboursement", "dedommager"),
    ("content", "satisfait", "heureux", "ravi"),
    ("colis", "paquet", "envoi"),
    ("livraison", "livrer", "expedition", "expedier", "acheminement"),
    ("recu", "arrive", "parvenu", "reception", "receptionne"),
    ("magasin", "boutique", "enseigne", "agence", "succursale"),
    ("adresse", "localisation", "emplacement", "coordonnees", "situe"),
    ("ouvert", "ouverture", "ouvre", "ouvrir", "ouvrent"),
    ("ferme", "fermeture", "fermer", "ferment"),
    ("disponible", "disponibilite", "stock", "rayon"),
    ("conseiller", "agent", "operateur", "vendeur", "interlocuteur", "humain", "technicien", "standardiste"),
    ("rappeler", "rappel", "recontacter", "rejoindre"),
    ("appeler", "telephoner", "joindre", "contacter"),
    ("revoir", "bye", "salut", "bientot", "ciao", "tchao", "adieu"),
    ("merci", "remercie", "remerciement"),
    ("voudrais", "veux", "souhaite", "souhaiterais", "aimerais", "voulais", "desire", "veut"),
    ("savoir", "connaitre", "renseigner", "information", "renseignement"),
    ("parler", "discuter", "echanger"),
    ("prix", "tarif", "cout", "coute"),
    ("annuler", "annulation", "resilier", "resiliation"),
    ("retour", "retourner", "renvoyer"),
    ("exact", "exactement", "correct"),
    ("ok", "accord", "entendu", "parfait"),
    ("retard", "retarde", "tarde"),
    ("produit", "article", "modele"),
    ("verifier", "controler", "checker"),
)


# On an 8 kHz line Whisper loses the "-pp(e)l-" of "rappelé" / "rappeler" after its pronoun: "j'aimerais
# être rappelé jeudi" → "j'aimerais se rater, je dis", "pouvez-vous me rappeler" → "vous me rassé".
# After a pronoun (or "être"), such a word is the verb the caller said.
_RECALL_PRONOUNS = frozenset({"me", "m", "se", "s", "te", "t", "etre"})
_RECALL_SOUND_ALIKE = re.compile(r"ra(?:t|ss)(?:e|er|ee|ees)")


def canonical_words(words: Iterable[str]) -> list[str]:
    """``words`` with spoken variants replaced by their written form ("ouais" → "oui"), and "rappeler"
    heard without its middle after a pronoun ("se rater") restored."""
    result: list[str] = []
    for word in words:
        if result and result[-1] in _RECALL_PRONOUNS and _RECALL_SOUND_ALIKE.fullmatch(word):
            word = "rappeler"
        result.extend(VARIANTS.get(word, word).split())
    return result


class Lexicon:
    """Word similarity that also knows synonyms: ``word_similarity`` raised to 0.8 within a group."""

    def __init__(self, extra_groups: Sequence[Sequence[str]] = ()) -> None:
        self._group_of: dict[str, set[int]] = {}
        for index, group in enumerate((*SYNONYM_GROUPS, *extra_groups)):
            for word in group:
                for part in normalize(word).split():
                    self._group_of.setdefault(light_stem(part), set()).add(index)

    def synonyms(self, left: str, right: str) -> bool:
        """Whether the two words belong to one synonym group."""
        groups = self._group_of.get(light_stem(left))
        return bool(groups and groups & self._group_of.get(light_stem(right), set()))

    @lru_cache(maxsize=65536)  # noqa: B019 - a lexicon lives as long as the flow that built it
    def similarity(self, left: str, right: str) -> float:
        """How likely the two words mean the same, in [0, 1] (see ``word_similarity``)."""
        similarity = word_similarity(left, right)
        if similarity < SYNONYM_SIMILARITY and self.synonyms(left, right):
            return SYNONYM_SIMILARITY
        return similarity

    def best(self, word: str, candidates: Iterable[str]) -> float:
        """The best similarity of ``word`` against any candidate (0 when there is none)."""
        best = 0.0
        for candidate in candidates:
            similarity = self.similarity(word, candidate)
            if similarity > best:
                best = similarity
                if best == 1.0:
                    break
        return best
