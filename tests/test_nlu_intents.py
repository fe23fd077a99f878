"""Intent matching on a realistic retail intent set, with unseen paraphrases written as a recogniser
transcribes them (no punctuation, wrong homophones, missing accents)."""

from __future__ import annotations

import pytest

from callbot.dialog.nlu import IntentMatcher
from callbot.dialog.nlu.similarity import DEVOICED_SIMILARITY, word_similarity

RETAIL_EXAMPLES = {
    "horaires": [
        "quels sont vos horaires d'ouverture",
        "à quelle heure vous ouvrez",
        "à quelle heure ferme le magasin",
        "vous êtes ouverts le dimanche",
        "jusqu'à quelle heure vous êtes ouverts ce soir",
        "c'est ouvert entre midi et deux",
    ],
    "suivi_commande": [
        "où en est ma commande",
        "je voudrais suivre ma commande",
        "je n'ai toujours pas reçu mon colis",
        "quand est-ce que je vais être livré",
        "j'attends ma livraison depuis une semaine",
        "je veux savoir où est mon colis",
    ],
    "disponibilite": [
        "est-ce que vous avez ce produit en stock",
        "l'article est-il disponible",
        "est-ce que c'est disponible en magasin",
        "vous l'avez en rayon",
        "il vous en reste",
        "quand est-ce que le produit sera de nouveau en stock",
    ],
    "adresse_magasin": [
        "quelle est l'adresse du magasin",
        "où se trouve votre magasin",
        "comment venir au magasin",
        "vous êtes situés où",
        "où est le magasin le plus proche",
        "c'est où votre boutique",
    ],
    "rappel": [
        "je voudrais être rappelé",
        "pouvez-vous me rappeler",
        "rappelez-moi plus tard",
        "j'aimerais qu'on me rappelle demain",
        "vous pouvez me recontacter",
        "je préfère être recontacté",
    ],
    "conseiller": [
        "je voudrais parler à un conseiller",
        "passez-moi un conseiller",
        "je veux parler à quelqu'un",
        "mettez-moi en relation avec une personne",
        "je veux un humain",
        "un opérateur s'il vous plaît",
    ],
    "reclamation": [
        "je veux faire une réclamation",
        "j'ai un problème avec ma commande",
        "le produit est arrivé cassé",
        "je ne suis pas satisfait",
        "je voudrais me faire rembourser",
        "l'article ne fonctionne pas",
    ],
    "au_revoir": [
        "au revoir",
        "merci au revoir",
        "c'est tout merci",
        "bonne journée",
        "non c'est bon merci au revoir",
        "je n'ai pas d'autre question",
    ],
    "oui": ["oui", "oui c'est ça", "exactement", "d'accord", "tout à fait", "oui bien sûr"],
    "non": ["non", "non merci", "pas du tout", "ce n'est pas ça", "non pas vraiment", "absolument pas"],
}

UNSEEN_PARAPHRASES = {
    "horaires": [
        "bonjour je voudrais connaître les horaire d'ouvertures",
        "vous fermez à quelle heure",
        "est-ce que le magasin est ouvert samedi",
        "c'est quoi vos heures d'ouverture",
        "a quel heure vous ouvrer demain matin",
        "quel son vos oraires",
    ],
    "suivi_commande": [
        "je n'ai pas encore reçu ma commande",
        "mon colis n'est toujours pas arrivé",
        "je voudrais savoir quand ma commande va arriver",
        "suivie de ma commende",
        "ma livraison a du retard",
        "bonjour madame je vous appelle parce que j'ai commandé une télé et je l'ai toujours pas reçue",
    ],
    "disponibilite": [
        "est-ce que vous avez l'aspirateur en stock",
        "le produit est disponible",
        "il est dispo",
        "est-ce qu'il vous reste des aspirateurs",
        "ce modèle est en rupture de stock",
    ],
    "adresse_magasin": [
        "c'est quoi l'adresse",
        "où est-ce que vous vous trouvez",
        "il est où vote magasin",
        "comment je fais pour venir chez vous",
        "donnez-moi l'adresse de la boutique",
    ],
    "rappel": [
        "je voudrais être rappeler",
        "est-ce qu'on peut me rappeler demain",
        "rappelez moi s'il vous plaît",
        "vous pouvez me rappeler dans une heure",
        "j'aimerais être recontacter",
    ],
    "conseiller": [
        "je voudrais parler à un conseillé",
        "passer moi un conseillez",
        "passez-moi quelqu'un",
        "je veux parler à une vraie personne",
        "je voudrais un opérateur",
        "une conseillère",
    ],
    "reclamation": [
        "j'ai reçu un article cassé",
        "le colis est arrivé abîmé",
        "je veux me plaindre",
        "je veux un rembourcement",
        "mon produit ne marche pas",
        "j'ai un souci avec ma commande",
    ],
    "au_revoir": [
        "merci beaucoup au revoir",
        "ce sera tout merci",
        "bonne soirée au revoir",
        "merci bonne journée",
        "c'est bon j'ai ma réponse merci",
    ],
    "oui": ["ouais", "oui oui", "c'est bien ça", "oui c est sa", "oui tout à fait", "exact"],
    "non": ["non non", "pas vraiment", "ce n'est pas ça du tout", "non c'est pas sa", "certainement pas"],
}

NONSENSE = [
    "le chat mange une pomme bleue",
    "quelle est la capitale de l'australie",
    "la météo sera pluvieuse",
    "patate",
    "blablabla",
    "trois petits cochons",
    "mon chien s'appelle rex",
    "euh",
    "",
]


@pytest.fixture(scope="module")
def matcher() -> IntentMatcher:
    return IntentMatcher(RETAIL_EXAMPLES)


@pytest.mark.parametrize(
    ("intent", "utterance"),
    [(intent, utterance) for intent, utterances in UNSEEN_PARAPHRASES.items() for utterance in utterances],
)
def test_unseen_paraphrases_reach_their_intent(matcher: IntentMatcher, intent: str, utterance: str) -> None:
    match = matcher.match(utterance)
    assert match is not None, f"{utterance!r} not understood: {matcher.top(utterance)}"
    assert match.intent == intent, f"{utterance!r} → {matcher.top(utterance)}"


@pytest.mark.parametrize("utterance", NONSENSE)
def test_nonsense_is_not_understood(matcher: IntentMatcher, utterance: str) -> None:
    assert matcher.match(utterance) is None, matcher.top(utterance)


@pytest.mark.parametrize(
    "utterance",
    [
        "je ne sais pas",
        "Je sais pas.",
        "euh je ne sais pas",
        "aucune idée",
        "non je sais pas du tout",
        "je ne m'en souviens plus",
        "j'en sais rien",
    ],
)
def test_not_knowing_is_no_request(matcher: IntentMatcher, utterance: str) -> None:
    """ "Je ne sais pas" (to "Quel est votre numéro de commande ?") sent the caller to complaints (0.70,
    "ne … pas" as in "ça ne marche pas"), and "je sais pas" was a no."""
    assert matcher.match(utterance) is None, matcher.top(utterance)


def test_not_knowing_where_something_is_still_asks_for_it(matcher: IntentMatcher) -> None:
    match = matcher.match("je ne sais pas où est ma commande")
    assert match is not None and match.intent == "suivi_commande"


@pytest.mark.parametrize(
    ("intent", "example"),
    [(intent, example) for intent, examples in RETAIL_EXAMPLES.items() for example in examples],
)
def test_every_example_matches_its_own_intent(matcher: IntentMatcher, intent: str, example: str) -> None:
    match = matcher.match(example)
    assert match is not None and match.intent == intent


def test_match_reports_the_runner_up_so_the_dialog_can_ask(matcher: IntentMatcher) -> None:
    match = matcher.match("je voudrais qu'un conseiller me rappelle")
    assert match is not None
    assert {match.intent, match.runner_up} == {"rappel", "conseiller"}
    assert 0.0 < match.runner_up_score <= match.score
    assert match.margin == pytest.approx(match.score - match.runner_up_score)


def test_negation_separates_received_from_not_received(matcher: IntentMatcher) -> None:
    not_received = matcher.match("je n'ai pas reçu ma commande")
    broken = matcher.match("j'ai reçu ma commande cassée")
    assert not_received is not None and not_received.intent == "suivi_commande"
    assert broken is not None and broken.intent == "reclamation"


def test_top_lists_intents_best_first_with_the_example_that_won(matcher: IntentMatcher) -> None:
    ranked = matcher.top("à quelle heure fermez-vous", 3)
    assert ranked[0].intent == "horaires"
    assert ranked[0].best_example == "à quelle heure ferme le magasin"
    assert [entry.score for entry in ranked] == sorted((entry.score for entry in ranked), reverse=True)
    assert len(matcher.top("à quelle heure fermez-vous", 20)) == len(RETAIL_EXAMPLES)


def test_matching_is_deterministic() -> None:
    first = IntentMatcher(RETAIL_EXAMPLES).match("vous fermez à quelle heure")
    second = IntentMatcher(dict(reversed(list(RETAIL_EXAMPLES.items())))).match("vous fermez à quelle heure")
    assert first == second


def test_threshold_decides_between_a_guess_and_none() -> None:
    lenient = IntentMatcher(RETAIL_EXAMPLES, threshold=0.05)
    strict = IntentMatcher(RETAIL_EXAMPLES, threshold=0.99)
    assert lenient.match("ma livraison a du retard") is not None
    assert strict.match("ma livraison a du retard") is None
    exact = strict.match("je voudrais suivre ma commande")
    assert exact is not None and (exact.intent, exact.score) == ("suivi_commande", 1.0)


def test_keywords_boost_an_intent() -> None:
    utterance = "le transporteur colissimo"
    assert IntentMatcher(RETAIL_EXAMPLES).match(utterance) is None
    boosted = IntentMatcher(RETAIL_EXAMPLES, keywords={"suivi_commande": ["Colissimo"]}).match(utterance)
    assert boosted is not None and boosted.intent == "suivi_commande"


def test_extra_synonyms_are_learnt() -> None:
    examples = {"livraison": ["où est mon colis"], "facture": ["je veux ma facture"]}
    without = IntentMatcher(examples).top("où est mon carton", 1)[0]
    with_synonym = IntentMatcher(examples, synonyms=[("Colis", "carton")]).top("où est mon carton", 1)[0]
    assert with_synonym.intent == "livraison"
    assert with_synonym.score > without.score


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ({}, "mapping of intent name"),
        ({"oui": "oui"}, "not one string"),
        ({"oui": ["", "!!"]}, "no usable example"),
    ],
)
def test_bad_examples_are_refused_with_a_clear_message(examples: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IntentMatcher(examples)  # type: ignore[arg-type]


def test_bad_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        IntentMatcher(RETAIL_EXAMPLES, threshold=0)
    with pytest.raises(ValueError, match="unknown intent"):
        IntentMatcher(RETAIL_EXAMPLES, keywords={"nope": ["x"]})


def test_a_keyword_alone_makes_a_weak_match_to_confirm() -> None:
    matcher = IntentMatcher(
        {
            "suivi": ["où en est ma commande", "je voudrais suivre ma commande"],
            "horaires": ["quels sont vos horaires", "à quelle heure vous ouvrez"],
        },
        threshold=0.6,
        keywords={"suivi": ["livraison", "colis"], "horaires": ["horaires"]},
    )
    match = matcher.match("bonjour alors voilà je vous appelle au sujet de la livraison de mardi dernier")
    assert match is not None and match.intent == "suivi" and match.weak
    assert matcher.match("bonjour alors voilà je vous appelle au sujet de mardi dernier") is None
    # Keywords of two intents: no guess.
    assert matcher.salient_guess("je vous appelle au sujet de la livraison et des horaires") is None
    strong = matcher.match("où en est ma commande")
    assert strong is not None and not strong.weak


@pytest.mark.parametrize(
    "utterance", ["bonjour, je voudrais", "je voudrais savoir", "alors voilà, je vous appelle parce que"]
)
def test_grammar_and_request_framing_alone_name_no_request(matcher: IntentMatcher, utterance: str) -> None:
    """A sentence cut at the caller's pause ("Bonjour, je voudrais…") matched "je voudrais être rappelé"
    well enough to book a call-back."""
    assert matcher.match(utterance) is None, matcher.top(utterance)


@pytest.mark.parametrize(
    "heard",
    [
        "j'aimerais se rater demain",  # Whisper on "j'aimerais être rappelé demain"
        "j'aimerais se rasser jeudi",
        "vous pouvez me rassé",  # on "pouvez-vous me rappeler"
    ],
)
def test_recall_heard_without_its_middle_after_a_pronoun_is_a_call_back(
    matcher: IntentMatcher, heard: str
) -> None:
    match = matcher.match(heard)
    assert match is not None and match.intent == "rappel", matcher.top(heard)


def test_words_like_a_half_heard_recall_elsewhere_stay_themselves(matcher: IntentMatcher) -> None:
    assert matcher.match("je vais me raser") is None
    not_missed = matcher.match("je ne veux pas vous rater")  # "vous" is no pronoun before the verb
    assert not_missed is None or not_missed.intent != "rappel"
    missed = matcher.match("le livreur est passé et il m'a raté")  # "a" stands between: no pronoun
    assert missed is None or missed.intent != "rappel"


def test_numbers_say_no_request(matcher: IntentMatcher) -> None:
    """ "Ma commande numéro 4 5 8 1 2" (a digit missed): five unknown words drowned "ma commande" to a
    weak guess; numbers are values for the slots, not words of the request."""
    match = matcher.match("ma commande numéro 4 5 8 1 2")
    assert match is not None and match.intent == "suivi_commande" and not match.weak
    assert matcher.match("458129") is None  # a number alone: the dialog's slots decide


@pytest.mark.parametrize(
    ("heard", "intent"),
    [
        ("Je voudrais l'attresse d'un de vos magasins.", "adresse_magasin"),  # Whisper on a noisy line
        ("Bonjour, je voudrais l'atresse du magasin.", "adresse_magasin"),
    ],
)
def test_a_consonant_heard_with_the_wrong_voicing_keeps_its_word(
    matcher: IntentMatcher, heard: str, intent: str
) -> None:
    """ "adresse" came back "attresse" on an 8 kHz line and the request went to product availability."""
    match = matcher.match(heard)
    assert match is not None and match.intent == intent, matcher.top(heard)


@pytest.mark.parametrize(
    ("left", "right", "near"),
    [
        ("attresse", "adresse", True),
        ("pougie", "bougie", True),
        ("vendue", "fendu", False),  # two French words: "est vendue chez vous" is no complaint
        ("rendre", "rentre", False),
        ("tout", "doux", False),  # too short to tell a misheard word from another word
        ("faire", "verre", False),  # both "fer": "… la mission à faire" named the "suspension en verre"
        ("adresse", "caresse", False),
    ],
)
def test_voicing_folds_only_long_sound_keys(left: str, right: str, near: bool) -> None:
    assert (word_similarity(left, right) >= DEVOICED_SIMILARITY) is near


def test_a_keyword_heard_across_a_word_boundary_is_heard() -> None:
    """ "Je voudrais savoir où en est ma livraison" came out of Whisper as "… vous prendre les
    malives raisons." on the line: no word is "livraison", but "malives raisons" holds its sounds ("liv"
    + "rezon"), so the keyword points to order tracking, to be asked back as a weak guess."""
    heard = "Je voudrais savoir vous prendre les malives raisons."
    assert IntentMatcher(RETAIL_EXAMPLES).match(heard) is None
    match = IntentMatcher(RETAIL_EXAMPLES, keywords={"suivi_commande": ["livraison"]}).match(heard)
    assert match is not None and (match.intent, match.weak) == ("suivi_commande", True)


def test_a_short_keyword_is_not_looked_for_across_word_boundaries() -> None:
    """ "stock" is four sounds: two glued words hold it by chance ("des sto kilos")."""
    heard = "Je voudrais des sto kilos de bougies."
    keywords = {"disponibilite": ["stock"]}
    assert IntentMatcher(RETAIL_EXAMPLES, keywords=keywords).salient_guess(heard) is None


@pytest.mark.parametrize(
    "said",
    [
        "Il faudrait contacter le magasin de Lyon.",  # "-rait contacter": no "recontacter"
        "Je reviens demain, dommage.",  # "demain dommage": no "endommagé"
        "Il vous reste des couvertures ?",  # "couvertures" holds "ouverture" in one word
    ],
)
def test_french_words_glued_by_chance_are_no_keyword(said: str) -> None:
    """Only a cut that leaves a word that is no French word hides a keyword, across the boundary."""
    keywords = {"rappel": ["recontacter"], "reclamation": ["endommagé"], "horaires": ["ouverture"]}
    matcher = IntentMatcher(RETAIL_EXAMPLES, keywords=keywords)
    assert matcher.salient_guess(said) is None
