"""Finding a known store or product in the caller's words."""

from __future__ import annotations

import pytest

from callbot.dialog.nlu import match_entity, rank_entities

STORES = [
    "Lyon Part-Dieu",
    "Lyon Confluence",
    "Paris Opéra",
    "Paris",
    "Marseille Vieux-Port",
    "Saint-Étienne Centre Deux",
]
PRODUCTS = [
    "Aspirateur robot X200",
    "Aspirateur balai V8",
    "Robot pâtissier K5",
    "Lave-linge hublot 8 kg",
    "Téléviseur OLED 55 pouces",
]


@pytest.mark.parametrize(
    ("said", "store"),
    [
        ("le magasin de lyon part dieu", "Lyon Part-Dieu"),
        ("lyon par dieu", "Lyon Part-Dieu"),
        ("celui de confluence", "Lyon Confluence"),
        ("paris opéra", "Paris Opéra"),
        ("le magasin de paris", "Paris"),
        ("marseille", "Marseille Vieux-Port"),
        ("je voudrais aller au magasin du vieux port", "Marseille Vieux-Port"),
        ("saint etienne", "Saint-Étienne Centre Deux"),
        ("à lyon", None),  # two Lyon stores: the dialog must ask
        ("bonjour", None),
        ("", None),
    ],
)
def test_stores(said: str, store: str | None) -> None:
    assert match_entity(said, STORES) == store


@pytest.mark.parametrize(
    ("said", "product"),
    [
        ("un aspirateur robot", "Aspirateur robot X200"),
        ("l'aspirateur balai", "Aspirateur balai V8"),
        ("le robot pâtissier", "Robot pâtissier K5"),
        ("un aspirateur x 200", "Aspirateur robot X200"),
        ("la télé oled", "Téléviseur OLED 55 pouces"),
        ("le lave linge", "Lave-linge hublot 8 kg"),
        ("un robot", None),  # robot vacuum or stand mixer?
        ("un aspirateur", None),
    ],
)
def test_products(said: str, product: str | None) -> None:
    assert match_entity(said, PRODUCTS) == product


def test_rank_lists_candidates_for_a_clarifying_question() -> None:
    ranked = rank_entities("à lyon", STORES)
    assert {entity.name for entity in ranked[:2]} == {"Lyon Part-Dieu", "Lyon Confluence"}
    assert ranked[2].score == 0.0


def test_threshold_and_bad_arguments() -> None:
    assert match_entity("un aspirateur robot", PRODUCTS, threshold=0.9) is None
    assert match_entity("lyon", []) is None
    with pytest.raises(ValueError, match="threshold"):
        match_entity("lyon", STORES, threshold=0)
    with pytest.raises(ValueError, match="list of names"):
        match_entity("lyon", "Lyon Part-Dieu")


def test_a_name_heard_with_its_vowels_wrong_is_still_found() -> None:
    assert match_entity("le magasin de Rivali", ["Rivoli", "Lyon Part-Dieu", "Lille"]) == "Rivoli"


def test_other_words_with_the_same_consonants_are_not_a_name() -> None:
    assert match_entity("il vourait s'implier à l'eau", ["ampoule LED à filament", "lampadaire Arco"]) is None


def test_a_grammar_word_that_sounds_like_a_name_word_is_not_a_mention() -> None:
    """ "vers" sounds like "verre": "un magasin vers chez moi" names no glass pendant."""
    products = ["Suspension en verre Opaline", "Lampadaire Arco"]
    assert match_entity("vous avez un magasin vers chez moi à Marseille", products) is None
    assert match_entity("la suspension en verre", products) == "Suspension en verre Opaline"
