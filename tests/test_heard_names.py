"""Where a request may hold a store or a product the recogniser did not write: the shapes of text only
(the dialog says whether the request takes the name and lacks it)."""

from __future__ import annotations

import pytest

from callbot.dialog.heard_names import product_places, store_places, time_place


def test_a_store_ending_is_the_words_after_the_last_de() -> None:
    [found] = store_places("Bonjour, il vous reste un lampadaire Arco au magasin de lui ?")
    assert (found.prefix, found.heard, found.after) == (
        "Bonjour, il vous reste un lampadaire Arco au magasin",
        "de lui",
        "",
    )
    [elided] = store_places("Je voudrais l'adresse du magasin d'Annecy")
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
            "de la rue",  # two words after the article at most, and none after "de"
            "d'Orifolie ouvriaquait leur samedi",
        ),
        ("Celui de lui est ouvert dimanche ?", "de lui", "est ouvert dimanche"),
        ("Le magasin du lieu ouvre quand ?", "du lieu", "ouvre quand"),  # not the end's "du lieu ouvre quand"
        ("Les magasins du lieu ouvrent quand ?", "du lieu", "ouvrent quand"),
        ("Le magasin du lieu fermera à quelle heure ?", "du lieu", "fermera à quelle heure"),
        ("Le magasin de lui sera ouvert ?", "de lui", "sera ouvert"),
    ],
)
def test_a_store_may_stand_after_magasin_de_inside_the_request(text: str, heard: str, after: str) -> None:
    [found] = store_places(text)
    assert (found.heard, found.after) == (heard, after)


def test_the_end_of_the_request_comes_first() -> None:
    end, inside = store_places("Le magasin de lui a une lampe de lui ?")
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
    assert store_places(text) == []


def test_each_magasin_de_is_a_place_and_a_sentence_end_closes_it() -> None:
    places = store_places("Celui de ma soeur, le magasin du lieu est ouvert dimanche ? Et demain ?")
    assert [(place.heard, place.after, place.rest) for place in places] == [
        ("du lieu", "est ouvert dimanche", " ? Et demain")
    ]  # "de ma soeur": a possessive
    [place] = store_places("Le magasin de lui. Et il ouvre quand ?")
    assert place.reading("de Lille Grand Place") == "Le magasin de Lille Grand Place. Et il ouvre quand"


def test_closing_words_are_stripped_without_backtracking_for_ever() -> None:
    """A nested repetition took 9 s on this transcript, and minutes on a little more of it: the test
    fails after 5 s instead of hanging."""
    import signal

    def too_long(signum: int, frame: object) -> None:
        raise TimeoutError("the closing-words pattern backtracks")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(5)
    try:
        assert store_places("Euh " + "... " * 40 + "oui") == []
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_product_is_placed_from_its_article_to_where_it_is_asked_about() -> None:
    places = product_places("Oui, il vous reste une afficura de l'effort aux magasins de lisse.")
    assert [(p.prefix, p.article, p.name, p.after) for p in places] == [
        ("Oui, il vous reste", "une", "afficura de l'effort", "aux magasins de lisse"),
    ]  # "l'effort" follows "de": no place; to the end it is seven words, no name
    assert places[0].heard == "une afficura de l'effort aux magasins de lisse"


def test_a_name_cut_by_a_word_it_holds_has_a_longer_place_too() -> None:
    """ "un lampadaire Arco" heard "un lampe à des rarcoes": "lampe" alone is a word the dialog knows,
    "lampe à des rarcoes" is the place."""
    names = [place.name for place in product_places("Il vous reste un lampe à des rarcoes au magasin ?")]
    assert names[:2] == ["lampe", "lampe à des rarcoes"]
    assert not [name for name in names if "magasin" in name]  # never over "magasin": the store is said there


@pytest.mark.parametrize(
    "text",
    [
        "Et vous l'avez au magasin de Lille ?",  # a pronoun, no article
        "Vous les avez en stock ?",
        "Je la cherche depuis lundi",
        "Est-ce que vous me l'avez gardée en stock ?",
        "Je voudrais savoir si vous pouvez me la garder en rayon",
    ],
)
def test_no_product_after_a_pronoun(text: str) -> None:
    assert product_places(text) == []


def test_no_product_after_a_preposition_of_place_or_de() -> None:
    places = product_places("Vous avez la lampe de la vitrine au magasin ?")
    assert [place.name for place in places] == ["lampe de la vitrine"]  # not "la vitrine", not "magasin"


@pytest.mark.parametrize(
    "text",
    [
        "Est-ce qu'il y a la lampe afficura en stock ?",
        "Il y a une afficura de l'effort au magasin de Lille ?",
        "C'est pour la lampe afficura, vous l'avez en stock ?",
        "Où est la lampe afficura ?",
    ],
)
def test_a_product_is_placed_after_il_y_a_c_est_pour_and_est(text: str) -> None:
    assert product_places(text)


def test_a_product_ends_with_its_sentence_and_the_rest_is_kept() -> None:
    [place] = product_places("Il vous reste une afficura ? Je suis au magasin de Lyon.")
    assert (place.name, place.after, place.rest) == ("afficura", "", " ? Je suis au magasin de Lyon")
    assert (
        place.reading("un lampadaire Arco") == "Il vous reste un lampadaire Arco ? Je suis au magasin de Lyon"
    )


def test_an_elided_article_starts_the_name_it_is_written_against() -> None:
    [place] = product_places("Avez-vous encore l'Afrique Murelle Léton-Rillon ?")  # one end: the sentence's
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
        ("Il vous reste une afficura ?", "le lampadaire Arco", ["un lampadaire Arco"]),  # its own gender
        ("Il vous reste un plafondi ?", "la suspension Opaline", ["une suspension Opaline"]),
        (
            "Il vous reste un plafondi ?",
            "l'applique murale Laiton",
            ["un applique murale Laiton", "une applique murale Laiton"],
        ),
        (
            "Il vous reste une afficura ?",
            "l'applique murale Laiton",
            ["une applique murale Laiton", "un applique murale Laiton"],  # the article heard first
        ),
        ("Il vous reste des afficuras ?", "la bougie parfumée Figuier", ["des bougie parfumée Figuier"]),
        ("Vous avez la langue de chevénu ?", "la lampe de chevet Nuage", ["la lampe de chevet Nuage"]),
        ("Vous avez la langue de chevénu ?", "le miroir Soleil", ["le miroir Soleil"]),
    ],
)
def test_a_product_is_said_with_the_article_as_heard_and_its_own_gender(
    heard: str, product: str, said: list[str]
) -> None:
    """ "l'applique": the name does not say its gender, both are scored, the article heard first."""
    assert product_places(heard)[0].said(product) == said


def test_a_product_is_said_with_what_followed_it_in_its_sentence() -> None:
    place = product_places("Vous avez la langue de chevénu en rayon ?")[0]
    assert place.said("la lampe de chevet Nuage") == ["la lampe de chevet Nuage en rayon"]


@pytest.mark.parametrize(
    ("text", "name", "after"),
    [
        ("Est-ce que la chèche tulipe est disponible ?", "chèche tulipe", "est disponible"),
        ("Je cherche un tapis berber, il vous en reste.", "tapis berber", "il vous en reste"),
        ("Vous avez la lance de bureau en stock ?", "lance de bureau", "en stock"),
    ],
)
def test_the_name_ends_where_something_is_said_of_it(text: str, name: str, after: str) -> None:
    place = product_places(text)[0]
    assert (place.name, place.after) == (name, after)


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


def test_a_call_back_time_may_stand_after_the_verb() -> None:
    place = time_place("Alors voilà, c'est qu'on pourrait me rappeler très bien chez eux.")
    assert place is not None
    assert (place.prefix, place.heard) == (
        "Alors voilà, c'est qu'on pourrait me rappeler",
        "très bien chez eux",
    )
    moi = time_place("Rappelez-moi je divers 10 heures. C'est pour ma commande.")
    assert moi is not None
    assert (moi.prefix, moi.heard, moi.rest) == (
        "Rappelez-moi",
        "je divers 10 heures",
        ". C'est pour ma commande",
    )


@pytest.mark.parametrize(
    "text",
    [
        "Pouvez-vous me rappeler, s'il vous plaît ?",  # nothing after the verb but politeness
        "Je voudrais être rappelé. C'est pour ma commande.",  # the verb ends its sentence
        "Je voudrais être rappelé de ma mercredi, à seize heures, ce serait bien.",  # more than a time
        "Je voudrais l'adresse du magasin de Lyon",  # no call-back verb
    ],
)
def test_no_call_back_time_place(text: str) -> None:
    assert time_place(text) is None
