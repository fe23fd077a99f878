"""The caller asks for a person — and a negated request is not one."""

from __future__ import annotations

import pytest

from callbot.dialog.nlu import wants_human

ASKS_FOR_A_PERSON = [
    "un conseiller",
    "une conseillère",
    "un conseillé s'il vous plaît",
    "quelqu'un",
    "un humain",
    "une personne",
    "un agent",
    "parler à un opérateur",
    "je veux parler à un vrai",
    "je voudrais parler à quelqu'un",
    "passez-moi quelqu'un",
    "je veux parler à une vraie personne",
    "mettez-moi en relation avec le service",
    "transférez-moi",
    "je veux le service client",
    "passez-moi le standard",
    "je veux parler au responsable",
    "pas à un robot",
    "j'en ai marre de ce robot",
    "je ne veux pas parler à une machine",
    "j'ai pas envie de parler à un robot",
    "pas de robot, je veux un conseiller",
    "je ne veux pas de robot mais un conseiller",
    "je n'arrive pas à joindre un conseiller",
    "je n'ai toujours pas eu de conseiller",
    "JE VEUX UN CONSEILLER !",
    "passez-moi le service client",
    "je veux parler au conseiller qui m'a appelé",
    "je veux qu'un conseiller me parle",  # a wish that a person speak is a person asked for
    "je voudrais qu'un conseiller m'appelle tout de suite",  # now: a person, not a call-back
]
DOES_NOT = [
    "je ne veux pas de conseiller",
    "je veux pas de conseiller",
    "pas besoin de conseiller",
    "pas la peine de me passer un conseiller",
    "sans conseiller",
    "non pas de conseiller merci",
    "je ne souhaite pas être mis en relation",
    "je ne veux pas être transféré",
    "personne ne répond",
    "il n'y a personne",
    "quelqu'un m'a appelé hier pour ma commande",
    "je vous conseille de vérifier",
    "pouvez-vous me conseiller sur un aspirateur",
    "j'ai un vrai problème",
    "mon opérateur téléphonique",
    "est-ce que je parle à un robot",
    "je voudrais être rappelé",
    "les horaires",
    "oui",
    "",
    # A person in a story, or a call-back question, is not a transfer request.
    "le conseiller m'a dit que ma commande arriverait",
    "un agent devait me rappeler",
    "est-ce qu'un conseiller peut me rappeler",
    "bonjour, je suis bien au service client ?",
    # A person wished to call back: a call-back, even after a request verb.
    "j'aimerais qu'un conseiller me rappelle",
    "je voudrais que le conseiller me téléphone demain",
]


@pytest.mark.parametrize("said", ASKS_FOR_A_PERSON)
def test_asks_for_a_person(said: str) -> None:
    assert wants_human(said) is True


@pytest.mark.parametrize("said", DOES_NOT)
def test_does_not_ask_for_a_person(said: str) -> None:
    assert wants_human(said) is False


@pytest.mark.parametrize("text", ["Bonjour.", "allô bonjour ?", "Oui bonjour madame", "bonsoir", "Allô ?"])
def test_a_bare_greeting_is_recognised(text: str) -> None:
    from callbot.dialog.nlu import is_greeting

    assert is_greeting(text)


@pytest.mark.parametrize(
    "text", ["bonjour je voudrais mes horaires", "oui", "non merci", "", "bonjour un conseiller"]
)
def test_a_greeting_with_a_request_is_not_a_bare_greeting(text: str) -> None:
    from callbot.dialog.nlu import is_greeting

    assert not is_greeting(text)


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("Attendez, je cherche le numéro", True),
        ("Un instant s'il vous plaît", True),
        ("Oui, un instant, je vais le chercher", True),
        ("attendez je regarde dans mes mails", True),
        ("Je cherche une lampe", False),  # a stock request
        ("Je cherche le magasin de Lyon", False),
        ("attendez je veux un conseiller", False),
        ("le numéro", False),
        ("Oui", False),
    ],
)
def test_a_hold_on_is_told_from_a_request(text: str, holds: bool) -> None:
    from callbot.dialog.nlu import asks_to_hold

    assert asks_to_hold(text) is holds
