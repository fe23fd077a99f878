"""After "every agent is busy, the wait is about 8 minutes", the caller may choose to stay on the line."""

from __future__ import annotations

import pytest

from callbot.dialog.nlu import wants_to_wait

CHOOSES_TO_WAIT = [
    "je préfère attendre",
    "je préfère patienter",
    "je patiente",
    "Je patiente.",
    "je patient",  # the recogniser dropped the final "e"
    "j'attends",
    "J’attends, merci.",
    "j attends",  # Vosk's split elision
    "je reste en ligne",
    "je reste sur la ligne",
    "je garde la ligne",
    "je ne quitte pas",
    "non je veux attendre",
    "non, je vais patienter",
    "je vais patienter merci",
    "ok je patiente",
    "ouais j'attends",
    "pas de souci, je patiente",
    "je vais attendre un conseiller",
    "je préfère attendre plutôt que d'être rappelé",
    "je préfère l'attente",
    "JE PRÉFÈRE ATTENDRE !",
    "attendre",
    "je peux attendre 8 minutes",
]
DOES_NOT = [
    "je ne veux pas attendre",
    "je veux pas attendre",
    "je n'ai pas le temps d'attendre",
    "pas le temps d'attendre",
    "je ne peux plus attendre",
    "sans attendre",
    "j'en ai marre d'attendre",
    "plutôt que d'attendre, rappelez-moi",
    "hors de question d'attendre",
    "je ne vais pas patienter",
    "j'attends ma commande",
    "j'attends un colis de chez vous",
    "j'attends depuis ce matin",
    "ça fait une heure que j'attends",
    "attendez",
    "attends",
    "rappelez-moi demain à 10 h",
    "oui",
    "non merci",
    "je reste à Lyon",
    "je n'ai pas la patience",
    "",
]


@pytest.mark.parametrize("text", CHOOSES_TO_WAIT)
def test_the_caller_chooses_to_wait_on_the_line(text: str) -> None:
    assert wants_to_wait(text)


@pytest.mark.parametrize("text", DOES_NOT)
def test_a_refused_wait_or_another_kind_of_waiting_is_not_a_choice_to_wait(text: str) -> None:
    assert not wants_to_wait(text)
