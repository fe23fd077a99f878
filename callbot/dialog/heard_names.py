"""Where a request may hold a name or a time the recogniser did not write: the shape of the text only.

"Est-ce qu'il vous reste un lampadaire Arco au magasin de Lille ?" came back "… au magasin de lui ?",
"… une applique murale Laiton aux magasins de Lille" came back "… une afficura de l'effort …", and
"… me rappeler mercredi à seize heures ?" came back "… me rappeler très bien chez eux.", and "… est
ouvert dimanche ?" came back "… est ouvert du monde ?". These functions cut such a request where a
store, a product, a call-back time or the day of an opening-hours question would stand: the words
before it (forced as text when the names are scored against the turn's audio), the words heard in its
place, and the words after it. Whether the request takes that name or time and lacks it is the dialog's to say
(`Conversation.store_in_the_request`, `Conversation.product_in_the_request`,
`Conversation.time_in_the_request`, `Conversation.day_in_the_request`).
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
    r"\b(?:magasins?|boutiques?|celui)\s+(?P<of>de\s|du\s|d')\s*"
    r"(?P<tail>(?:(?:la|le|l')\s*)?[^\s,;.?!…]+"
    r"(?:\s+(?!(?:au|aux|en|est|et|ou|a|à|pour|le|la|les|de|du|d'|c'|qui|que|il|elle|sera|seront|reste"
    r"|restent|ouvr\w*|ferm\w*)\b)[^\s,;.?!…]+)?)",
    re.IGNORECASE,
)
#: What may close a request after the name ("… de Lille, s'il vous plaît", "… de Lille, euh"), and
#: what a transcript wraps it in (an ellipsis, quotes).
_CLOSING_WORDS = re.compile(
    r"(?:[\s,.…!?\"«»]|\b(?:s'il vous pla[iî]t|svp|merci|euh|quoi)\b)+$", re.IGNORECASE
)
#: Words that say when, not where or what ("… vos horaires de Noël", "… du week-end", "… d'été").
_WHEN_WORDS = frozenset(
    {
        "noel", "paques", "toussaint", "pentecote", "ascension", "assomption", "armistice", "reveillon",
        "an", "fete", "fetes", "ferie", "feries", "week", "weekend", "veille", "semaine", "mois", "soir",
        "soiree", "matin", "matinee", "midi", "apres", "nuit", "journee", "ete", "hiver", "printemps",
        "automne", "vacances", "soldes", "rentree",
    }
)  # fmt: skip
#: "L'autre", "le même": what a caller says of a thing already named, never a name.
_OTHER_ONE = frozenset({"autre", "autres", "meme", "memes"})
#: Words that start "… de vos magasins", "… d'un article", "… d'à côté": what follows them is no name.
_NOT_A_NAME = frozenset(
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
#: "de" and its forms: "un de vos lampadaires", "une des bougies" (one of, no name); what starts a store
#: ending ("de Lille", "du Vieux-Port", `closed_set.ending_taken`).
OF_WORDS = frozenset({"de", "du", "des", "d"})
#: A product's name is a few words ("la lampe de bureau Atelier"); what runs longer is a sentence.
_MAX_PRODUCT_WORDS = 6


@dataclass(frozen=True, slots=True)
class StorePlace:
    """ "… au magasin de lui ?" → prefix "… au magasin", of "de", tail "lui"; "Le magasin du lieu pour
    les couverts ?" → prefix "Le magasin", of "du", tail "lieu", after "pour les couverts"."""

    prefix: str
    of: str
    tail: str
    #: The words after the store up to the end of its sentence, then the text's further sentences.
    after: str = ""
    rest: str = ""

    @property
    def heard(self) -> str:
        """How the store was heard: "de lui", "d'Annecy"."""
        return f"{self.of}{self.tail}" if self.of == "d'" else f"{self.of} {self.tail}"

    def reading(self, store: str) -> str:
        """The request with `store` said in its place ("de Marseille Vieux-Port")."""
        return _sentence(self.prefix, store, self.after, self.rest)


@dataclass(frozen=True, slots=True)
class ProductPlace:
    """ "Il vous reste une afficura de l'effort aux magasins de lisse." → prefix "Il vous reste",
    article "une", name "afficura de l'effort", after "aux magasins de lisse"."""

    prefix: str
    article: str
    name: str
    #: The words after the product up to the end of its sentence (scored with it), then the text's
    #: further sentences (kept in the reading, not scored).
    after: str
    rest: str = ""

    @property
    def heard(self) -> str:
        """The product as heard with its article, and what followed it in its sentence: "une afficura
        de l'effort aux magasins de lisse"."""
        name = f"{self.article}{self.name}" if self.article == "l'" else f"{self.article} {self.name}"
        return " ".join(part for part in (name, self.after) if part)

    def said(self, product_name: str) -> list[str]:
        """A product's name (with its own article: "l'applique murale Laiton") said where this one was
        heard, with what followed it in its sentence: the definite article is the name's own ("la lampe
        de chevet Nuage"); an indefinite one takes the name's gender ("un lampadaire Arco", "une
        suspension Opaline"), both when the name's "l'" does not say it ("un/une applique …"), the one
        heard first. The phrases of one product stand for one reading: the first's."""
        own = _ARTICLE_AT_START.match(product_name)
        bare = product_name[own.end() :] if own else product_name
        if self.article not in _INDEFINITE:
            named = [product_name]
        elif self.article == "des":
            named = [f"des {bare}"]
        else:
            # the article as heard first: the reading says it that way
            either = [self.article, "une" if self.article == "un" else "un"]
            gender = {"le": ["un"], "la": ["une"]}.get(own.group().strip().lower() if own else "", either)
            named = [f"{article} {bare}" for article in gender]
        return [" ".join(part for part in (name, self.after) if part) for name in named]

    def reading(self, said: str) -> str:
        """The request with `said` (one of `said()`'s phrases) in the product's place."""
        return _sentence(self.prefix, said, "", self.rest)


_ARTICLE_AT_START = re.compile(r"^(?:les|le|la|l')\s*(?=\S)", re.IGNORECASE)
#: Where a sentence ends inside a transcript ("Il vous reste une afficura ? Je suis au magasin …").
_SENTENCE_END = re.compile(r"\s*[.?!…]")
#: Words after which an article is no product's: a pronoun ("vous l'avez", "je la cherche", "vous me la
#: gardez"), a preposition of place or "de" ("la lampe de la vitrine", "la lampe au magasin").
_NOT_BEFORE_A_PRODUCT = frozenset(
    {
        "je", "j", "tu", "il", "elle", "on", "nous", "vous", "ils", "elles", "ne", "n", "me", "m", "te", "t",
        "se", "s", "lui", "leur", "y", "en", "de", "du", "des", "d", "au", "aux", "dans", "chez", "sur",
    }
)  # fmt: skip
#: Words a product's name never runs over: where the store is said ("… au magasin de lisse").
_STORE_WORDS = frozenset({"magasin", "magasins", "boutique", "boutiques"})


def _without_closing_words(text: str) -> str:
    """`text` without the politeness, hesitation and punctuation that may follow its last word."""
    plain = text.strip().replace("’", "'")
    return _CLOSING_WORDS.sub("", plain) or plain


def _sentence(prefix: str, name: str, after: str, rest: str) -> str:
    """The request read again with a name: its words, then the text's further sentences, if any."""
    words = " ".join(part for part in (prefix, name, after) if part)
    return f"{words}{rest}" if rest else f"{words}."


def _split_sentence(text: str) -> tuple[str, str]:
    """`text` up to its first sentence end, and what follows from there ("? Je suis …")."""
    found = _SENTENCE_END.search(text)
    return (text, "") if found is None else (text[: found.start()], text[found.start() :])


def store_places(text: str) -> list[StorePlace]:
    """Where a store's name may stand in `text`: after its last "de" when at most three words follow
    ("… au magasin de lui ?"), and after each "magasin de" (or "boutique", "celui") up to where
    something is said of it ("Le magasin du lieu pour les couverts jusqu'à quelle heure ?"), the end
    first unless it is the same "de" said of something. Not "de vos magasins", "de 60 watts", "de
    Noël", "de l'autre" (the dialog checks the request's words, dates and names)."""
    plain = _without_closing_words(text)
    inside: list[StorePlace] = []
    for found in _STORE_INSIDE.finditer(plain):
        after, rest = _split_sentence(plain[found.end() :])
        after = after.strip(" ,")
        if after or rest:  # else the end of the text: the end's place
            prefix = plain[: found.start("of")].rstrip()
            inside.append(StorePlace(prefix, found["of"].strip().lower(), found["tail"], after, rest))
    places: list[StorePlace] = []
    end = _STORE_ENDING.match(plain)
    if end is not None and not any(place.prefix == end["prefix"] for place in inside):
        places.append(StorePlace(end["prefix"], end["of"].strip().lower(), end["tail"]))
    return [place for place in [*places, *inside] if _may_be_a_store(place.tail)]


def _may_be_a_store(tail: str) -> bool:
    words = normalize(tail).split()  # number words as digits: "de deux watts" → "2 watts"
    return not _says_no_name(words) and not words[0].isdigit()


def _says_no_name(words: list[str]) -> bool:
    """Words no name starts with ("vos", "un"), words of when, "l'autre": what cannot be a store's or a
    product's name (and no words at all)."""
    if not words or words[0] in _NOT_A_NAME:
        return True
    return bool(_WHEN_WORDS.intersection(words) or _OTHER_ONE.intersection(words))


def product_places(text: str) -> list[ProductPlace]:
    """Each place in `text` where an article starts a product's name of at most six words, up to a
    word after which it is asked about ("au magasin", "en rayon"), the next such word, or the end of
    its sentence: "Avez-vous encore l'Afrique Murelle Léton-Rillon ?" → ("Avez-vous encore", "l'",
    "Afrique Murelle Léton-Rillon", ""). Not after a pronoun ("vous l'avez", "vous me la gardez"), a
    preposition of place or "de" ("de la vitrine"); names with a number, a word of when, a pronoun, a
    possessive or "magasin" are left out; the dialog checks the rest."""
    plain = _without_closing_words(text)
    words = list(re.finditer(r"\S+", plain))
    places: list[ProductPlace] = []
    for index, word in enumerate(words):
        token = word.group().lower()
        before = words[index - 1].group().lower().strip(",").replace("'", "") if index else ""
        if before in _NOT_BEFORE_A_PRODUCT:
            continue
        if token.startswith("l'") and len(token) > 2:
            article, first = "l'", word.start() + 2
        elif token in _DEFINITE or token in _INDEFINITE:
            if index + 1 >= len(words):
                break
            article, first = token, words[index + 1].start()
        else:
            continue
        sentence, rest = _split_sentence(plain[first:])
        for end in _name_ends(sentence):
            name = sentence[:end].strip(" ,")
            if _may_be_a_product(name):
                after = sentence[end:].strip(" ,")
                places.append(ProductPlace(plain[: word.start()].rstrip(), article, name, after, rest))
    return places


def _name_ends(sentence: str) -> list[int]:
    """Where a product's name may end in `sentence` (which starts with it): before each of the first two
    words it is asked about by ("au", "en", "est"…), and at the sentence's end."""
    ends = [
        found.start()
        for found in re.finditer(r"\S+", sentence)
        if found.start() > 0 and found.group().lower().strip(",") in _AFTER_A_PRODUCT
    ][:2]
    return [*ends, len(sentence)]


def _may_be_a_product(name: str) -> bool:
    words = normalize(name).split()
    if _says_no_name(words) or len(words) > _MAX_PRODUCT_WORDS or _STORE_WORDS.intersection(words):
        return False
    return words[0] not in OF_WORDS and not any(word.isdigit() for word in words)


#: A call-back verb, after which callers say when ("… me rappeler mercredi à seize heures ?", "Rappelez-moi
#: demain vers dix heures"), as the line lets Whisper write it ("Rappez-moi", "me rapprocher", "me
#: rater"); its pronoun stays with it. The dialog checks that the request is a call-back.
_CALL_BACK_VERB = re.compile(
    r"(?:\b(?:rapp|recontact)\w*|\b(?:me|nous|se)\s+rat(?:er|é|ez)\b)(?:-(?:moi|nous))?", re.IGNORECASE
)
#: "Mercredi 25 novembre à seize heures trente" is six words; what runs longer is more than a time.
_MAX_TIME_WORDS = 6


@dataclass(frozen=True, slots=True)
class TimePlace:
    """ "Alors voilà, c'est qu'on pourrait me rappeler très bien chez eux." → prefix "… me rappeler",
    heard "très bien chez eux"."""

    prefix: str
    #: The words after the verb up to the end of its sentence: where the time was said.
    heard: str
    #: The text's further sentences.
    rest: str = ""


def time_place(text: str) -> TimePlace | None:
    """Where a call-back time may stand in `text`: the few words (six at most) after its last call-back
    verb, up to the end of their sentence; None when no such verb is followed by words. Whether those
    words hold a time already, or words the dialog knows, is the dialog's to check."""
    plain = _without_closing_words(text)
    verbs = list(_CALL_BACK_VERB.finditer(plain))
    if not verbs:
        return None
    heard, rest = _split_sentence(plain[verbs[-1].end() :])
    heard = heard.strip(" ,")
    if not heard or len(normalize(heard).split()) > _MAX_TIME_WORDS:
        return None
    return TimePlace(plain[: verbs[-1].end()], heard, rest)


#: The words of an opening-hours question after which callers say the day ("… est ouvert dimanche ?",
#: "… ouvre à quelle heure samedi ?", "vos horaires pour demain").
_HOURS_WORD = re.compile(r"\b(?:ouv\w*|ferm\w*|heures?|horaires?)\b", re.IGNORECASE)
#: A day is one or two words as heard ("du monde" for "dimanche"); after the question's own words
#: ("à quel ordre du mangue" for "à quelle heure dimanche"), the last two.
_DAY_WORDS = 2


@dataclass(frozen=True, slots=True)
class DayPlace:
    """ "… le magasin de Lille est ouvert du monde ?" → prefix "… le magasin de Lille est ouvert",
    heard "du monde", question " ?" (empty when the text asked nothing: the reading ends on ".")."""

    prefix: str
    heard: str
    question: str

    def reading(self, day: str) -> str:
        """The question with `day` said in place of what was heard."""
        return f"{self.prefix} {day}{self.question or '.'}"


def day_place(text: str) -> DayPlace | None:
    """Where the day of an opening-hours question may stand in `text`: its last one or two words after
    its last hours word ("ouvert", "ferme", "heure", "horaires"), in a text of one sentence; None when
    no such word is followed by words, or by words of a season or a holiday. Whether they name a day
    already, or words the dialog knows, is the dialog's to check."""
    plain = _without_closing_words(text)
    if _SENTENCE_END.search(plain):
        return None  # one sentence only: a day heard is that sentence's last words
    words = list(_HOURS_WORD.finditer(plain))
    if not words:
        return None
    after = list(re.finditer(r"\S+", plain[words[-1].end() :]))
    if not after:
        return None
    start = words[-1].end() + after[-_DAY_WORDS:][0].start()
    heard, prefix = " ".join(plain[start:].split()).strip(" ,"), plain[:start].rstrip(" ,")
    if _WHEN_WORDS.intersection(normalize(heard).split()):
        return None  # "… ouvert pendant les fêtes ?", "vos horaires de Noël": said, and no day
    question = " ?" if text.rstrip().endswith("?") else ""
    return DayPlace(prefix, heard, question) if heard and prefix else None
