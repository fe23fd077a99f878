"""One spelling for what Whisper and Vosk write differently."""

from __future__ import annotations

import pytest

from callbot.dialog.nlu import normalize, strip_accents


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("J’aimerais être rappelé demain à 14h30.", "j aimerais etre rappele demain a 14 h 30"),
        ("qu'on me rappelle", "qu on me rappelle"),
        ("Aujourd'hui", "aujourd hui"),
        ("Le magasin de Lyon Part-Dieu", "le magasin de lyon part dieu"),
        ("quatorze heures trente", "14 heures 30"),
        ("à 16:30", "a 16 h 30"),
        ("à 9h", "a 9 h"),
        ("dans deux heures", "dans 2 heures"),
        ("dans une heure", "dans une heure"),
        ("un conseiller", "un conseiller"),
        ("une personne", "une personne"),
        ("quatre cinq huit un deux neuf", "4 5 8 1 2 9"),
        ("quatre cent cinquante-huit mille cent vingt-neuf", "458129"),
        ("zéro six douze trente-quatre cinquante-six soixante-dix-huit", "06 12 34 56 78"),
        ("zero six douze trente quatre", "06 12 34"),
        ("+33 6 12 34 56 78", "plus 33 6 12 34 56 78"),
        ("06.12.34.56.78", "06 12 34 56 78"),
        ("CMD-458129", "cmd 458129"),
        ("C'est ça !", "c est ca"),
        ("Horaire d'ouvertures ?", "horaire d ouvertures"),
        ("aspirateur robot X200", "aspirateur robot x200"),
        ("l'œuvre", "l oeuvre"),
        ("   ", ""),
        ("!!!", ""),
    ],
)
def test_normalize(raw: str, normalized: str) -> None:
    assert normalize(raw) == normalized


def test_normalize_is_idempotent() -> None:
    for raw in ["Demain à 14h30, au 06 12 34 56 78 !", "quatre cinq huit", "C'est ça"]:
        once = normalize(raw)
        assert normalize(once) == once


def test_strip_accents() -> None:
    assert strip_accents("être rappelé à Besançon, Noël") == "etre rappele a Besancon, Noel"
