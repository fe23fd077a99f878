"""Finding a known store or product in the caller's words."""

from __future__ import annotations

import pytest

from callbot.dialog.nlu import match_entity, rank_entities, sounds_like
from callbot.dialog.nlu.entities import sound_similarity

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


RETAIL_PRODUCTS = {
    "l'ampoule LED à filament": "ampoule",
    "ampoule LED à filament": "ampoule",
    "ampoule à filament": "ampoule",
    "ampoule filament": "ampoule",
    "ampoule LED": "ampoule",
    "lampe de bureau Atelier": "lampe_atelier",
    "lampe de chevet Nuage": "lampe_nuage",
}


def test_a_word_all_aliases_of_one_entry_share_is_still_that_entry_s_own() -> None:
    """ "C'est l'ampoule à filament" comes out of Whisper as "C'est l'enthous la filament." Counted over
    names, "filament" looks common (four aliases have it); counted over entries, only the bulb has it."""
    names, entries = list(RETAIL_PRODUCTS), list(RETAIL_PRODUCTS.values())
    best = rank_entities("c'est l'enthous la filament", names, entries)[0]
    assert RETAIL_PRODUCTS[best.name] == "ampoule" and best.score >= 0.6
    assert rank_entities("c'est l'enthous la filament", names)[0].score < 0.6
    with pytest.raises(ValueError, match="one entry per name"):
        rank_entities("lyon", names, entries[:2])


def test_the_words_a_call_opens_with_name_nothing() -> None:
    """ "Allô, bonjour." named the plafonnier Halo (its own word, once aliases count as one entry)."""
    products = {"plafonnier Halo": "halo", "Halo": "halo", "lampadaire Arco": "arco"}
    names, entries = list(products), list(products.values())
    assert all(entity.score < 0.6 for entity in rank_entities("Allô, bonjour.", names, entries))
    assert all(entity.score < 0.6 for entity in rank_entities("alo bonjour", names, entries))
    best = rank_entities("le plafonnier Halo", names, entries)[0]  # "Halo" heard counts for nothing now
    assert best.name == "plafonnier Halo" and best.score >= 0.6


def test_a_name_is_heard_from_its_first_sound() -> None:
    """ "atelier" sounds like most of "Châtelet" but not its start: no store."""
    stores = {"Paris Rivoli": "paris", "Châtelet": "paris", "Lille": "lille"}
    assert sounds_like("une lampe atelier en magasin", list(stores), list(stores.values())) is None


def test_two_words_glued_are_matched_by_spelling_only() -> None:
    """ "miroir soleil" glued has Marseille's consonants (m-r-s-l): it names the mirror, not the store."""
    stores = ["Marseille", "Marseille Vieux-Port", "Lyon Part-Dieu"]
    assert match_entity("le miroir Soleil", stores) is None
    assert match_entity("lyon par dieu", stores) == "Lyon Part-Dieu"


def test_a_common_word_of_a_name_alone_names_nothing() -> None:
    """ "Grand Place", "Vieux-Port": "un grand magasin" or "les frais de port" name no store."""
    stores = ["Lille Grand Place", "Marseille Vieux-Port", "Paris Rivoli"]
    assert match_entity("c'est un grand magasin", stores) is None
    assert match_entity("combien coûtent les frais de port", stores) is None
    assert match_entity("le magasin du vieux port", stores) == "Marseille Vieux-Port"


STORE_NAMES = {
    "Marseille Vieux-Port": "marseille",
    "Vieux-Port": "marseille",
    "Marseille": "marseille",
    "Lille Grand Place": "lille",
    "Grand Place": "lille",
    "Lille": "lille",
    "Lyon Part-Dieu": "lyon",
    "Part-Dieu": "lyon",
    "Paris Rivoli": "paris",
    "Rivoli": "paris",
}


@pytest.mark.parametrize(
    ("heard", "store"),
    [
        ("le magasin du vie report s'il vous plaît", "marseille"),  # Whisper on "du Vieux-Port"
        ("le magasin du vieux report", "marseille"),
        ("l'adresse du magasin de la grande classe", "lille"),  # on "de la Grand Place"
        ("le magasin du report", None),  # too far from any name: the closed set's turn
        ("les frais de port", None),
        ("je voudrais être rappelé demain à quatorze heures", None),
        ("non merci ça sera tout pour aujourd'hui", None),
        ("je suis à la gare de Lyon", None),  # "lyon" is a short sound: never matched by sound alone
        ("le magasin de la rue d'Orifolie", "paris"),  # "de Rivoli", its "de" written "d'O"
        ("le magasin d'Orifolie s'il vous plaît", "paris"),
        ("le magasin d'Orléans", None),
        ("l'ordre de la commande", None),
    ],
)
def test_a_name_heard_across_word_boundaries_is_found_by_its_sound(heard: str, store: str | None) -> None:
    assert sounds_like(heard, list(STORE_NAMES), list(STORE_NAMES.values())) == store


def test_two_names_that_sound_alike_leave_the_answer_open() -> None:
    assert sounds_like("au rivola", ["Rivoli", "Rivolo"], ["a", "b"]) is None
    assert sounds_like("au rivola", ["Rivoli", "Lafayette"], ["a", "b"]) == "a"
    assert sound_similarity("vieupor", "vieupor") == 1.0 and sound_similarity("", "vieupor") == 0.0
