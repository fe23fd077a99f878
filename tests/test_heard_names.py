"""Where a request may hold a store or a product the recogniser did not write: the shapes of text only
(the dialog says whether the request takes the name and lacks it)."""

from __future__ import annotations

import pytest

from callbot.dialog.heard_names import product_places, store_endings


def test_a_store_ending_is_the_words_after_the_last_de() -> None:
    [found] = store_endings("Bonjour, il vous reste un lampadaire Arco au magasin de lui ?")
    assert (found.prefix, found.heard, found.after) == (
        "Bonjour, il vous reste un lampadaire Arco au magasin",
        "de lui",
        "",
    )
    [elided] = store_endings("Je voudrais l'adresse du magasin d'Annecy")
    assert elided.heard == "d'Annecy"


@pytest.mark.parametrize(
    ("text", "heard", "after"),
    [
        (
            "Le magasin du lieu pour les couverts jusqu'à qu'elle a.",
            "du lieu",
            "pour les couverts jusqu'à qu'elle a",
        ),
        (
            "Le magasin de la rue d'Orifolie ouvriaquait leur samedi.",
            "de la rue d'Orifolie",
            "ouvriaquait leur samedi",
        ),
        ("Celui de lui est ouvert dimanche ?", "de lui", "est ouvert dimanche"),
    ],
)
def test_a_store_may_stand_after_magasin_de_inside_the_request(text: str, heard: str, after: str) -> None:
    [found] = store_endings(text)
    assert (found.heard, found.after) == (heard, after)


def test_the_end_of_the_request_comes_first() -> None:
    end, inside = store_endings("Le magasin de lui a une lampe de lui ?")
    assert (end.heard, end.after, inside.heard, inside.after) == (
        "de lui",
        "",
        "de lui",
        "a une lampe de lui",
    )


@pytest.mark.parametrize(
    "text",
    [
        "Je voudrais l'adresse d'un de vos magasins.",  # a possessive: no name follows
        "Vous avez des ampoules de 60 watts ?",  # a number
        "Vous avez des ampoules de deux watts ?",  # a number in words
        "Quels sont vos horaires de Noël ?",  # a word of when
        "Je voudrais l'adresse de l'autre",  # a pronoun
        "Bonjour, je voudrais l'adresse",  # no "de" at the end
        "Le magasin de vos rêves est ouvert ?",  # a possessive inside
    ],
)
def test_no_store_ending_where_the_words_cannot_be_a_name(text: str) -> None:
    assert store_endings(text) == []


def test_a_product_is_placed_from_its_article_to_where_it_is_asked_about() -> None:
    place, later = product_places("Oui, il vous reste une afficura de l'effort aux magasins de lisse.")
    assert later.name == "effort"  # each article is a place; the dialog takes the first that may be a name
    assert (place.prefix, place.article, place.name, place.after) == (
        "Oui, il vous reste",
        "une",
        "afficura de l'effort",
        "aux magasins de lisse",
    )
    assert place.heard == "une afficura de l'effort aux magasins de lisse"


def test_an_elided_article_starts_the_name_it_is_written_against() -> None:
    [place] = product_places("Avez-vous encore l'Afrique Murelle Léton-Rillon ?")
    assert (place.prefix, place.article, place.name, place.after) == (
        "Avez-vous encore",
        "l'",
        "Afrique Murelle Léton-Rillon",
        "",
    )
    assert place.heard == "l'Afrique Murelle Léton-Rillon"


@pytest.mark.parametrize(
    ("heard", "product", "said"),
    [
        ("Il vous reste une afficura ?", "l'applique murale Laiton", "une applique murale Laiton"),
        ("Il vous reste une afficura ?", "le lampadaire Arco", "un lampadaire Arco"),  # its own gender
        ("Il vous reste un plafondi ?", "la suspension Opaline", "une suspension Opaline"),
        (
            "Vous avez la langue de chevénu en rayon ?",
            "la lampe de chevet Nuage",
            "la lampe de chevet Nuage en rayon",
        ),
        ("Vous avez la langue de chevénu en rayon ?", "le miroir Soleil", "le miroir Soleil en rayon"),
    ],
)
def test_a_product_is_said_with_the_article_as_heard_and_its_own_gender(
    heard: str, product: str, said: str
) -> None:
    [place] = product_places(heard)
    assert place.said(product) == said


@pytest.mark.parametrize(
    ("text", "name", "after"),
    [
        ("Est-ce que la chèche tulipe est disponible ?", "chèche tulipe", "est disponible"),
        ("Je cherche un tapis berber, il vous en reste.", "tapis berber", "il vous en reste"),
        ("Vous avez la lance de bureau en stock ?", "lance de bureau", "en stock"),
    ],
)
def test_the_name_ends_where_something_is_said_of_it(text: str, name: str, after: str) -> None:
    assert (product_places(text)[0].name, product_places(text)[0].after) == (name, after)


@pytest.mark.parametrize(
    "text",
    [
        "Avez-vous des ampoules de 60 watts ?",  # a number
        "Il vous reste un de vos lampadaires ?",  # "one of": no name follows
        "Vous l'avez encore, le même ?",  # a pronoun
        "Vous êtes ouverts le week-end ?",  # a word of when
    ],
)
def test_no_product_is_placed_where_the_words_cannot_be_a_name(text: str) -> None:
    assert product_places(text) == []
