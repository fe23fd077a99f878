"""Yes/no answers to a confirmation question, as a recogniser transcribes them."""

from __future__ import annotations

import pytest

from callbot.dialog.nlu import asks_something, parse_yes_no

YES = [
    "oui",
    "Oui.",
    "ouais",
    "c'est ça",
    "c est sa",
    "exactement",
    "d'accord",
    "tout à fait",
    "parfait",
    "oui oui",
    "euh ben oui",
    "ouais c'est bien ça",
    "bien sûr",
    "je confirme",
    "absolument",
    "ok",
    "ça marche",
    "ça me va",
    "si",
    "mais si",
    "voilà",
    "voilà c'est ça",
    "non non c'est ça",
    "je pense que oui",
    "On sait ça.",  # "Oui, c'est ça." as the line gives it back
    "On s'est ça.",
    "On sait ça, merci.",
    "Voilà, sait ça.",
]
NO = [
    "non",
    "Non.",
    "nan",
    "pas du tout",
    "c'est pas ça",
    "ce n'est pas ça",
    "non merci",
    "pas d'accord",
    "pas tout à fait",
    "absolument pas",
    "non pas vraiment",
    "non c'est bon",
    "oui enfin non",
    "bien sûr que non",
    "je ne pense pas",
    "ça ne me va pas",
    "c'est faux",
    "pas maintenant",
    "surtout pas",
    "on sait pas ça",
    "on ne sait pas ça",
    "Non, c'est ma fille qui sait ça.",
]
NEITHER = [
    "",
    "euh",
    "bonjour",
    "je sais pas",
    "je ne sais pas",
    "peut-être",
    "si vous voulez",
    "à quelle heure ?",
    "personne ne sait ça",
    "elle sait sa date de naissance",
]


@pytest.mark.parametrize("said", YES)
def test_yes(said: str) -> None:
    assert parse_yes_no(said) is True


@pytest.mark.parametrize("said", NO)
def test_no(said: str) -> None:
    assert parse_yes_no(said) is False


@pytest.mark.parametrize("said", NEITHER)
def test_neither(said: str) -> None:
    assert parse_yes_no(said) is None


@pytest.mark.parametrize("text", ["bon", "Bon.", "bon ben", "ben bon"])
def test_bon_alone_accepts(text: str) -> None:
    assert parse_yes_no(text) is True


@pytest.mark.parametrize("text", ["bon anniversaire", "le bon magasin", "bon je sais pas"])
def test_bon_inside_a_sentence_is_not_a_yes(text: str) -> None:
    assert parse_yes_no(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Et elle arrive quand exactement ?",
        "C'est où exactement ?",
        "Quand exactement ?",
        "Comment ça exactement ?",
    ],
)
def test_exactly_that_sharpens_a_question_is_no_yes(text: str) -> None:
    assert parse_yes_no(text) is None
    assert asks_something(text)


@pytest.mark.parametrize(
    "text", ["Exactement.", "Oui, quand exactement ?", "C'est exactement ça", "Non, pourquoi ?"]
)
def test_a_yes_or_a_no_said_with_a_question_is_still_an_answer(text: str) -> None:
    assert parse_yes_no(text) is not None
    assert not asks_something(text)


@pytest.mark.parametrize("text", ["Qui, exactement.", "Le 12 ou exactement le 13", "Je veux bien, où ça ?"])
def test_only_a_question_sharpened_by_exactly_asks_something(text: str) -> None:
    assert not asks_something(text)


@pytest.mark.parametrize(
    "text",
    [
        "C'est quoi exactement ?",
        "Quand c'est exactement ?",
        "Où, exactement ?",
        "C'est qui exactement ?",
        "Vous rappelez quand exact ?",
    ],
)
def test_a_read_back_answered_with_a_sharpened_question_is_not_confirmed(text: str) -> None:
    assert parse_yes_no(text) is None
