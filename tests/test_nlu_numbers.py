"""Order and phone numbers as callers dictate them: digit by digit, in pairs, or as one number."""

from __future__ import annotations

import pytest

from callbot.dialog.nlu import PhoneNumber, extract_order_number, extract_phone_number, number_cut_short
from callbot.dialog.nlu.numbers import number_short_or_broken, number_written, written_forms


@pytest.mark.parametrize(
    ("said", "order"),
    [
        ("ma commande numéro quatre cinq huit un deux neuf", "458129"),
        ("4 5 8 1 2 9", "458129"),
        ("CMD 458129", "458129"),
        ("CMD-458129", "458129"),
        ("cmd458129", "458129"),
        ("quatre cent cinquante-huit mille cent vingt-neuf", "458129"),
        ("quatre cent cinquante huit mille cent vingt neuf", "458129"),
        ("quarante-cinq quatre-vingt-un vingt-neuf", "458129"),
        ("quatre cent cinquante-huit, cent vingt-neuf", "458129"),
        ("4 5 8 euh 1 2 9", "458129"),
        ("458 129", "458129"),
        ("zéro un deux trois quatre cinq", "012345"),
        ("j'ai passé commande le 3 décembre, numéro 458129", "458129"),
        ("ma commande 458129 et mon numéro 06 12 34 56 78", "458129"),
        ("mon téléphone c'est le 06 12 34 56 78 et la commande 4 5 8 1 2 9", "458129"),
        ("référence A 7 7 3 1 0 4 2", "7731042"),
        # Digits written as their homophones by a recogniser that writes words, between digits only.
        ("ma commande quatre cette deux cinq six zéro", "472560"),
        ("quatre cinq oui un deux neuf", "458129"),
        ("quatre si trois trois huit huit", "463388"),
    ],
)
def test_order_numbers(said: str, order: str) -> None:
    assert extract_order_number(said) == order


@pytest.mark.parametrize(
    "said",
    [
        "12345",
        "j'ai deux commandes",
        "ma commande",
        "",
        "le 3 décembre à 14 h",
        "1 2 3 4 5 6 7 8 9 0 1 2",
        "oui 4 5 8 1 2",  # a homophone outside the digits is the word it is
    ],
)
def test_no_order_number(said: str) -> None:
    assert extract_order_number(said) is None


def test_order_number_length_bounds() -> None:
    assert extract_order_number("commande 1 2 3 4", min_digits=4, max_digits=4) == "1234"
    assert extract_order_number("commande 1 2 3 4 5", min_digits=4, max_digits=4) is None
    with pytest.raises(ValueError, match="min_digits"):
        extract_order_number("1234", min_digits=5, max_digits=4)


MOBILE = PhoneNumber(e164="+33612345678", national="06 12 34 56 78")


@pytest.mark.parametrize(
    "said",
    [
        "zéro six douze trente-quatre cinquante-six soixante-dix-huit",
        "zero six douze trente quatre cinquante six soixante dix huit",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "0612345678",
        "+33 6 12 34 56 78",
        "plus trente-trois six douze trente-quatre cinquante-six soixante-dix-huit",
        "plus trente trois zéro six douze trente quatre cinquante six soixante dix huit",
        "00 33 6 12 34 56 78",
        "zéro six, un deux, trois quatre, cinq six, sept huit",
        "mon numéro c'est le zéro six douze trente quatre cinquante six soixante dix huit merci",
        "rappelez-moi au 06 12 34 56 78 demain à 14 h",
    ],
)
def test_valid_mobile_number(said: str) -> None:
    assert extract_phone_number(said) == MOBILE


def test_landline_and_overseas_numbers() -> None:
    landline = extract_phone_number("zéro un quarante-cinq vingt-trois douze zéro zéro")
    assert landline == PhoneNumber("+33145231200", "01 45 23 12 00")
    reunion = extract_phone_number("06 92 12 34 56")
    assert reunion is not None and reunion.e164 == "+262692123456"  # domestic for a French line


@pytest.mark.parametrize(
    "said",
    [
        "06 12 34 56",  # too short
        "06 12 34 56 7",
        "07 12 34 56 78",  # not an allocated range
        "bonjour",
        "",
        "ma commande 458129",
    ],
)
def test_invalid_phone_numbers(said: str) -> None:
    assert extract_phone_number(said) is None


def test_premium_rate_numbers_are_refused_unless_allowed() -> None:
    said = "zéro huit quatre-vingt-dix-neuf douze trente-quatre cinquante-six"
    assert extract_phone_number(said) is None
    allowed = extract_phone_number(said, allow_premium=True)
    assert allowed is not None and allowed.e164 == "+33899123456"


def test_international_numbers_are_refused_unless_allowed() -> None:
    said = "plus quarante-quatre sept neuf un un un deux trois quatre cinq six"
    # Refused outright: never cut down to a French-looking tail.
    assert extract_phone_number(said) is None
    assert extract_phone_number(said, allow_international=True) == PhoneNumber(
        "+447911123456", "+44 7911 123456"
    )


def test_unknown_region_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="two-letter"):
        extract_phone_number("06 12 34 56 78", region="France")


@pytest.mark.parametrize(
    "said",
    [
        "je voudrais des nouvelles de la commande 4, 7, 1, 9, 4.",  # the last digit after a pause
        "Ma commande porte le numéro 4.",  # one group after a number word
        "ma commande quatre cinq huit euh",  # a hesitation does not end the number
        "CMD 458",
        "CMD458",
    ],
)
def test_words_that_stop_inside_an_order_number(said: str) -> None:
    assert number_cut_short(said, min_digits=6)


@pytest.mark.parametrize(
    "said",
    [
        "ma commande numéro quatre cinq huit un deux neuf",  # complete
        "rappelez-moi demain à 14",  # a time
        "à quatorze trente",
        "j'en voudrais 2, 3",  # a count
        "12,50 €",  # a price
        "j'en ai commandé 2",  # "commandé", not an order's
        "la commande 4 5 8 1 2 9 et aussi 1",  # the order word belongs to the number before
        "ma commande 4 5 8, où en est-elle ?",  # the number is not at the end
        "c'est le quatre cinq huit, un deux",  # no order or number word
        "",
    ],
)
def test_words_that_do_not_stop_inside_a_number_unless_one_is_asked(said: str) -> None:
    assert not number_cut_short(said, min_digits=6)


def test_while_a_number_is_asked_any_short_digit_groups_wait_for_the_rest() -> None:
    assert number_cut_short("c'est le quatre cinq huit, un deux", min_digits=6, asked=True)
    assert not number_cut_short("c'est le quatre cinq huit, un deux neuf", min_digits=6, asked=True)
    assert not number_cut_short("je ne sais pas", min_digits=6, asked=True)


def test_a_phone_number_is_cut_short_below_ten_digits() -> None:
    assert number_cut_short("c'est le zéro six douze trente-quatre cinquante-six", min_digits=10, asked=True)
    assert not number_cut_short(
        "c'est le zéro six douze trente-quatre cinquante-six", min_digits=6, asked=True
    )


@pytest.mark.parametrize(
    ("heard", "digits", "prefix", "rest"),
    [
        ("4, 108, 1, 2, 9.", "4108129", "", "."),
        (
            "Je voudrais des nouvelles de la commande 45-29-29.",
            "452929",
            "Je voudrais des nouvelles de la commande",
            ".",
        ),
        (
            "Ma commande porte le numéro 458.030 ou en est-elle ?",
            "458030",
            "Ma commande porte le numéro",
            " ou en est-elle ?",
        ),
        # "soixante et onze" written as two numbers: the number heard starts at the first
        ("C'est le 460 et 111942.", "111942", "C'est le", "."),
        ("CMD458129", "458129", "CMD", ""),
    ],
)
def test_the_number_heard_is_found_where_the_recogniser_wrote_it(
    heard: str, digits: str, prefix: str, rest: str
) -> None:
    assert extract_order_number(heard) == digits
    written = number_written(heard, digits)
    assert written is not None and (written.prefix, written.rest) == (prefix, rest)
    assert written.reading("458129") == f"{prefix} 458129{rest}".strip()


def test_only_tens_and_a_one_are_joined_by_et() -> None:
    """ "460 et 111942" may be "quatre cent soixante et onze …"; "2 et 4108129" is two numbers."""
    written = number_written("J'en ai commandé 2 et 4108129.", "4108129")
    assert written is not None and written.prefix == "J'en ai commandé 2 et"


def test_a_number_written_in_words_is_not_found_as_digits() -> None:
    assert number_written("quatre cinq huit un deux neuf", "458129") is None


@pytest.mark.parametrize(
    ("heard", "digits", "written", "prefix"),
    [
        # a word in place of a digit dictated alone: "quatre, six, un, deux, zéro, sept"
        (
            "Je voudrais des nouvelles de la commande 4, puis 1, 2, 0, 7.",
            "41207",
            "4, puis 1, 2, 0, 7.",
            "Je voudrais des nouvelles de la commande",
        ),
        ("De la commande 4 qui, 1, 2, 0, 7.", "41207", "4 qui, 1, 2, 0, 7.", "De la commande"),
        # a digit short: "C'est le quatre, cinq, huit, un, trois, zéro"
        ("C'est le cas 1, 8, 1, 3, 0.", "18130", "1, 8, 1, 3, 0.", "C'est le cas"),
        ("C'est le cas, 18, 13, 0.", "18130", "18, 13, 0.", "C'est le cas,"),
    ],
)
def test_a_number_a_digit_short_or_cut_by_a_word_is_found_without_the_word(
    heard: str, digits: str, written: str, prefix: str
) -> None:
    found = number_short_or_broken(heard, 6)
    assert found is not None
    assert found[0] == digits
    assert (found[1].heard, found[1].prefix) == (written, prefix)


@pytest.mark.parametrize(
    "heard",
    [
        "C'est le 4, 5, 8, 1, 2, 9.",  # a whole number: extract_order_number reads it
        "3, 2, 3, 1.",  # two digits short: not a number misheard by one
        "Rappelez-moi demain à 14 30.",
        "La commande 45 et 12, 9.",  # a word between groups of two: not a digit dictated alone
        "4, puis 1, puis 2, 0, 7.",  # two words: too far from what was said to guess
        "4, 5, 8, 1, 3, 0, 1, 2, 3, 4, 5, 6.",  # too long for an order number, and no part of it is one
    ],
)
def test_no_number_is_found_short_or_broken_where_none_was_said_so(heard: str) -> None:
    assert number_short_or_broken(heard, 6) is None


def test_a_number_is_written_as_callers_read_it() -> None:
    assert written_forms("458129") == ("4, 5, 8, 1, 2, 9", "45, 81, 29", "458, 129", "458 129")
    assert written_forms("4815736")[-1] == "4 815 736"
    assert written_forms("012345")[-1] == "012345"  # a leading zero is said
