"""Where a request may hold a name the recogniser did not write: the shape of the text only.

"Est-ce qu'il vous reste un lampadaire Arco au magasin de Lille ?" came back "… au magasin de lui ?",
and "… une applique murale Laiton aux magasins de Lille" came back "… une afficura de l'effort …".
These functions cut such a request where a store or a product would stand: the words before it (forced
as text when the names are scored against the turn's audio), the words heard in its place, and the words
after it. Whether the request takes that name and lacks it is the dialog's to say
(`Conversation.store_at_the_end`, `Conversation.product_in_the_request`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callbot.dialog.nlu import normalize

#: A sentence ending on "de" (or "du", "d'") and at most three words: where callers name the store
#: their request is about ("… au magasin de Lille ?").
_STORE_ENDING = re.compile(
    r"^(?P<prefix>.*\S)\s+(?P<of>de\s|du\s|d')\s*(?P<tail>[^\s,;.?!]+(?:\s+[^\s,;.?!]+){0,2})[\s.?!]*$",
    re.IGNORECASE,
)
#: "magasin de" and a few words up to what is said of the store, inside a sentence ("Le magasin du lieu
#: pour les couverts ?" for "… du Vieux-Port est ouvert …"): with an article, three words at most, else two.
_STORE_INSIDE = re.compile(
    r"(?P<prefix>^.*?\b(?:magasins?|boutiques?|celui))\s+(?P<of>de\s|du\s|d')\s*"
    r"(?P<tail>(?:(?:la|le|l')\s*)?[^\s,;.?!]+(?:\s+(?!(?:au|aux|en|est|a|à|pour|ouvre|ferme|le|la|les)\b)"
    r"[^\s,;.?!]+)?)",
    re.IGNORECASE,
)
#: What may close a request after the name ("… de Lille, s'il vous plaît", "… de Lille, euh"), and
#: what a transcript wraps it in (an ellipsis, quotes).
_CLOSING_WORDS = re.compile(
    r"(?:[\s,.…!?\"«»]+|\b(?:s'il vous pla[iî]t|svp|merci|euh|quoi)\b)+$", re.IGNORECASE
)
#: Words that say when, not where or what ("… vos horaires de Noël", "… du week-end", "… d'été").
WHEN_WORDS = frozenset(
    {
        "noel", "paques", "toussaint", "pentecote", "ascension", "assomption", "armistice", "reveillon",
        "an", "fete", "fetes", "ferie", "feries", "week", "weekend", "veille", "semaine", "mois", "soir",
        "soiree", "matin", "matinee", "midi", "apres", "nuit", "journee", "ete", "hiver", "printemps",
        "automne", "vacances", "soldes", "rentree",
    }
)  # fmt: skip
#: "L'autre", "le même": what a caller says of a thing already named, never a name.
OTHER_ONE = frozenset({"autre", "autres", "meme", "memes"})
#: Words that start "… de vos magasins", "… d'un article", "… d'à côté": what follows them is no name.
NOT_A_NAME = frozenset(
    {
        "vos", "nos", "mes", "ses", "leurs", "votre", "notre", "mon", "ma", "son", "sa", "leur", "ce", "cet",
        "cette", "ces", "un", "une", "des", "plus", "moins", "temps", "suite", "chez", "a", "au", "aux",
        "coin",
    }
)  # fmt: skip
#: The articles a product is named with ("une applique", "la lampe", "l'ampoule"); the definite ones
#: are the product names' own (`AnswersData.products`), the others are said before the bare name.
_DEFINITE = frozenset({"le", "la", "les", "l'"})
_INDEFINITE = frozenset({"un", "une", "des"})
#: Words after which a product's name has ended: where it is asked about ("au magasin de Lille", "en
#: rayon", "en stock", "chez vous", "à Lyon", "dans votre magasin", "pour demain"), or what is said of
#: it ("… est disponible", "…, il vous en reste ?").
_AFTER_A_PRODUCT = frozenset(
    {"au", "aux", "en", "dans", "chez", "a", "à", "sur", "pour", "ou", "est", "sont", "qui", "il", "elle"}
)
#: "Un de vos lampadaires", "une des bougies": one of, no name.
_OF = frozenset({"de", "du", "des", "d"})
#: A product's name is a few words ("la lampe de bureau Atelier"); what runs longer is a sentence.
_MAX_PRODUCT_WORDS = 6


@dataclass(frozen=True, slots=True)
class StoreEnding:
    """ "… au magasin de lui ?" → prefix "… au magasin", of "de", tail "lui"; "Le magasin du lieu pour
    les couverts ?" → prefix "Le magasin", of "du", tail "lieu", after "pour les couverts"."""

    prefix: str
    of: str
    tail: str
    after: str = ""

    @property
    def heard(self) -> str:
        """How the request ended as heard: "de lui", "d'Annecy"."""
        return f"{self.of}{self.tail}" if self.of == "d'" else f"{self.of} {self.tail}"


@dataclass(frozen=True, slots=True)
class ProductPlace:
    """ "Il vous reste une afficura de l'effort aux magasins de lisse." → prefix "Il vous reste",
    article "une", name "afficura de l'effort", after "aux magasins de lisse"."""

    prefix: str
    article: str
    name: str
    after: str

    @property
    def heard(self) -> str:
        """The product as heard with its article, and what followed it: "une afficura de l'effort aux
        magasins de lisse"."""
        return " ".join(part for part in (self.with_article(self.name), self.after) if part)

    def with_article(self, name: str) -> str:
        """`name` after the article as heard: "une applique"; "l'" is written against its word."""
        return f"{self.article}{name}" if self.article == "l'" else f"{self.article} {name}"

    def said(self, product_name: str) -> str:
        """A product's name (with its own article: "l'applique murale Laiton") said where this one was
        heard, and what followed it: the definite article is the name's own ("la lampe de chevet
        Nuage"), an indefinite one as heard ("une applique murale Laiton")."""
        own = ARTICLE_AT_START.match(product_name)
        bare = product_name[own.end() :] if own else product_name
        if self.article in _INDEFINITE:
            # "un lampadaire", "une suspension": the name's own article gives the gender, "l'" does not
            gender = {"le": "un", "la": "une"}.get(own.group().strip().lower() if own else "", self.article)
            named = f"{gender} {bare}"
        else:
            named = product_name
        return " ".join(part for part in (named, self.after) if part)


ARTICLE_AT_START = re.compile(r"^(?:les|le|la|l')\s*(?=\S)", re.IGNORECASE)


def without_closing_words(text: str) -> str:
    """`text` without the politeness, hesitation and punctuation that may follow its last word."""
    plain = text.strip().replace("’", "'")
    return _CLOSING_WORDS.sub("", plain) or plain


def store_endings(text: str) -> list[StoreEnding]:
    """Where a store's name may stand in `text`: after its last "de" when at most three words follow
    ("… au magasin de lui ?"), and after "magasin de" (or "boutique", "celui") anywhere, up to where
    something is said of it ("Le magasin du lieu pour les couverts jusqu'à quelle heure ?"); the end
    first. Not "de vos magasins", "de 60 watts", "de Noël", "de l'autre" (the dialog checks the
    request's words, dates and names)."""
    plain = without_closing_words(text)
    places: list[StoreEnding] = []
    found = _STORE_ENDING.match(plain)
    if found is not None:
        places.append(StoreEnding(found["prefix"], found["of"].strip().lower(), found["tail"]))
    for inside in _STORE_INSIDE.finditer(plain):
        tail, after = inside["tail"], plain[inside.end() :].strip(" ,")
        if after and not any(place.prefix == inside["prefix"] for place in places):
            places.append(StoreEnding(inside["prefix"], inside["of"].strip().lower(), tail, after))
    return [place for place in places if _may_be_a_store(place.tail)]


def _may_be_a_store(tail: str) -> bool:
    words = normalize(tail).split()  # number words as digits: "de deux watts" → "2 watts"
    if not words or words[0] in NOT_A_NAME or words[0].isdigit():
        return False
    return not (WHEN_WORDS.intersection(words) or OTHER_ONE.intersection(words))


def product_places(text: str) -> list[ProductPlace]:
    """Each place in `text` where an article starts a product's name of at most six words, up to where it
    is asked about ("au magasin", "en rayon") or the end: "Avez-vous encore l'Afrique Murelle
    Léton-Rillon ?" → ("Avez-vous encore", "l'", "Afrique Murelle Léton-Rillon", ""). Names with a
    number, a word of when, a pronoun or a possessive are left out; the dialog checks the rest."""
    plain = without_closing_words(text)
    words = list(re.finditer(r"\S+", plain))
    places: list[ProductPlace] = []
    for index, word in enumerate(words):
        token = word.group().lower()
        if token.startswith("l'") and len(token) > 2:
            article, first = "l'", word.start() + 2
        elif token in _DEFINITE or token in _INDEFINITE:
            if index + 1 >= len(words):
                break
            article, first = token, words[index + 1].start()
        else:
            continue
        end = len(plain)
        for later in words[index + 1 :]:
            if later.start() > first and later.group().lower().strip(",") in _AFTER_A_PRODUCT:
                end = later.start()
                break
        name = plain[first:end].strip(" ,")
        name_words = normalize(name).split()
        if not name_words or len(name_words) > _MAX_PRODUCT_WORDS:
            continue
        if name_words[0] in NOT_A_NAME or name_words[0] in _OF or any(w.isdigit() for w in name_words):
            continue
        if WHEN_WORDS.intersection(name_words) or OTHER_ONE.intersection(name_words):
            continue
        after = plain[end:].strip()
        places.append(ProductPlace(plain[: word.start()].rstrip(), article, name, after))
    return places
