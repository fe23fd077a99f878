"""French text normalisation for speech: what the engine is given to read."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from text_to_num import text2num

from callbot.tts import format_date_fr, format_time_fr, speakable
from callbot.tts.french import digits_to_words, number_to_words, ordinal_to_words

NUMBERS = [
    (0, "zéro"),
    (1, "un"),
    (16, "seize"),
    (17, "dix-sept"),
    (21, "vingt et un"),
    (22, "vingt-deux"),
    (31, "trente et un"),
    (61, "soixante et un"),
    (70, "soixante-dix"),
    (71, "soixante et onze"),
    (72, "soixante-douze"),
    (79, "soixante-dix-neuf"),
    (80, "quatre-vingts"),
    (81, "quatre-vingt-un"),
    (90, "quatre-vingt-dix"),
    (91, "quatre-vingt-onze"),
    (99, "quatre-vingt-dix-neuf"),
    (100, "cent"),
    (101, "cent un"),
    (180, "cent quatre-vingts"),
    (200, "deux cents"),
    (201, "deux cent un"),
    (1000, "mille"),
    (1080, "mille quatre-vingts"),
    (2026, "deux mille vingt-six"),
    (1999, "mille neuf cent quatre-vingt-dix-neuf"),
    (21000, "vingt et un mille"),
    (80000, "quatre-vingt mille"),
    (200000, "deux cent mille"),
    (1000000, "un million"),
    (2000000, "deux millions"),
    (200000000, "deux cents millions"),
    (3000000000, "trois milliards"),
]


@pytest.mark.parametrize(("number", "words"), NUMBERS)
def test_numbers_follow_french_spelling_rules(number: int, words: str) -> None:
    assert number_to_words(number) == words


def test_spelled_numbers_parse_back_to_the_same_value() -> None:
    # text2num is an independent French number parser: anything it reads back differently is misspelled.
    numbers = [*range(0, 1200), 1980, 2026, 10001, 21021, 70071, 80080, 99999, 123456, 700001, 1234567]
    misread = {n: number_to_words(n) for n in numbers if text2num(number_to_words(n), "fr") != n}
    assert misread == {}


@pytest.mark.parametrize(
    ("number", "feminine", "words"),
    [
        (1, True, "une"),
        (21, True, "vingt et une"),
        (81, True, "quatre-vingt-une"),
        (71, True, "soixante et onze"),
        (21, False, "vingt et un"),
    ],
)
def test_feminine_one(number: int, feminine: bool, words: str) -> None:
    assert number_to_words(number, feminine=feminine) == words


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (1, "premier"),
        (2, "deuxième"),
        (4, "quatrième"),
        (5, "cinquième"),
        (9, "neuvième"),
        (21, "vingt et unième"),
        (80, "quatre-vingtième"),
        (200, "deux centième"),
        (1000, "millième"),
        (1000000, "millionième"),
    ],
)
def test_ordinals(number: int, words: str) -> None:
    assert ordinal_to_words(number) == words


SPEAKABLE = [
    # times: 24-hour clock read as written
    ("14 h 30", "quatorze heures trente"),
    ("14h30", "quatorze heures trente"),
    ("14H30", "quatorze heures trente"),
    ("14:30", "quatorze heures trente"),
    ("9 h", "neuf heures"),
    ("9h00", "neuf heures"),
    ("12 h", "douze heures"),
    ("14 h 05", "quatorze heures cinq"),
    ("1 h", "une heure"),
    ("0 h 15", "zéro heure quinze"),
    ("21h21", "vingt et une heures vingt et une"),
    ("Rappel à 8h15.", "Rappel à huit heures quinze."),
    ("de 9 h à 18 h", "de neuf heures à dix-huit heures"),
    ("Ouvert 24h/24, 7j/7", "Ouvert vingt-quatre heures sur vingt-quatre, sept jours sur sept"),
    ("à midi", "à midi"),
    ("5 hommes", "cinq hommes"),
    ("dans 5 min", "dans cinq minutes"),
    ("1 min", "une minute"),
    # dates
    ("23/11/2026", "lundi vingt-trois novembre deux mille vingt-six"),
    ("le 23/11/2026", "le lundi vingt-trois novembre deux mille vingt-six"),
    ("lundi 23/11/2026", "lundi vingt-trois novembre deux mille vingt-six"),
    ("01/12/2026", "mardi premier décembre deux mille vingt-six"),
    ("23.11.26", "lundi vingt-trois novembre deux mille vingt-six"),
    ("2026-11-23", "lundi vingt-trois novembre deux mille vingt-six"),
    ("le 23/11", "le vingt-trois novembre"),
    ("1er novembre", "premier novembre"),
    ("le 1 novembre", "le premier novembre"),
    ("mardi 1er décembre", "mardi premier décembre"),
    ("31/02/2026", "trente et un/zéro deux/deux mille vingt-six"),  # not a date: left as numbers
    ("3/4", "trois/quatre"),
    # prices
    ("12,50 €", "douze euros cinquante"),
    ("12.50 EUR", "douze euros cinquante"),
    ("12,50\u00a0€", "douze euros cinquante"),
    ("12,5 €", "douze euros cinquante"),
    ("12€50", "douze euros cinquante"),
    ("1 €", "un euro"),
    ("0 €", "zéro euro"),
    ("1,00 €", "un euro"),
    ("0,99 €", "quatre-vingt-dix-neuf centimes"),
    ("0,01 €", "un centime"),
    ("2,05 €", "deux euros et cinq centimes"),
    ("21 euros", "vingt et un euros"),
    ("1 234,56 €", "mille deux cent trente-quatre euros cinquante-six"),
    ("1\u202f234,56\u202f€", "mille deux cent trente-quatre euros cinquante-six"),
    ("1.234,56 €", "mille deux cent trente-quatre euros cinquante-six"),
    ("1 000 000 €", "un million d'euros"),
    ("soit 80 €.", "soit quatre-vingts euros."),
    # order numbers: digit by digit in groups of three
    ("commande 4 5 8 1 2 9", "commande quatre cinq huit, un deux neuf"),
    ("CMD-458129", "CMD quatre cinq huit, un deux neuf"),
    ("commande n° 458129 partie", "commande numéro quatre cinq huit, un deux neuf partie"),
    ("réf. 0045812", "référence zéro zéro quatre, cinq huit, un deux"),
    ("dossier 1234", "dossier un deux, trois quatre"),
    # phone numbers: in pairs, national form
    ("06 12 34 56 78", "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit"),
    ("+33 6 12 34 56 78", "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit"),
    ("+33612345678", "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit"),
    ("0033 6 12 34 56 78", "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit"),
    ("0612345678", "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit"),
    ("01.00.07.80.91", "zéro un, zéro zéro, zéro sept, quatre-vingts, quatre-vingt-onze"),
    ("+33 (0)1 23 45 67 89", "zéro un, vingt-trois, quarante-cinq, soixante-sept, quatre-vingt-neuf"),
    (
        "Tél. : 06-12-34-56-78",
        "téléphone : zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit",
    ),
    # plain numbers
    ("il reste 3 places", "il reste trois places"),
    ("dans 1 heure", "dans une heure"),
    ("21 personnes", "vingt et une personnes"),
    ("encore 1 fois", "encore une fois"),
    ("tapez 1", "tapez un"),
    ("1 colis", "un colis"),
    ("durée : 1 h 30 min", "durée : une heure trente minutes"),
    ("80 personnes", "quatre-vingts personnes"),
    ("2 000 000 000", "deux milliards"),
    ("007", "zéro zéro sept"),
    ("123456789012", "un deux trois, quatre cinq six, sept huit neuf, zéro un deux"),
    ("3,05", "trois virgule zéro cinq"),
    ("15 %", "quinze pour cent"),
    ("2,5 %", "deux virgule cinq pour cent"),
    ("3e étage", "troisième étage"),
    ("1re fois", "première fois"),
    ("2nd", "second"),
    ("A4", "A4"),
    # abbreviations
    ("M. Dupont & fils", "monsieur Dupont et fils"),
    ("Mme Martin", "madame Martin"),
    ("Mlle Roux", "mademoiselle Roux"),
    ("MM. Dupont", "messieurs Dupont"),
    ("Dr Morel", "docteur Morel"),
    ("N°12", "numéro douze"),
    ("RDV confirmé", "rendez-vous confirmé"),
    ("etc.", "et cetera"),
    # nothing to rewrite
    ("Bonjour, que puis-je faire pour vous ?", "Bonjour, que puis-je faire pour vous ?"),
    ("  deux   espaces ", "deux espaces"),
    ("", ""),
]


@pytest.mark.parametrize(("written", "spoken"), SPEAKABLE)
def test_speakable(written: str, spoken: str) -> None:
    assert speakable(written) == spoken


@pytest.mark.parametrize(("written", "spoken"), SPEAKABLE)
def test_speakable_is_idempotent(written: str, spoken: str) -> None:
    assert speakable(spoken) == spoken.strip()


def test_a_whole_prompt() -> None:
    written = "M. Durand, votre RDV du 23/11/2026 à 14h30 coûte 12,50 €. Rappel au 06 12 34 56 78."
    assert speakable(written) == (
        "monsieur Durand, votre rendez-vous du lundi vingt-trois novembre deux mille vingt-six à quatorze "
        "heures trente coûte douze euros cinquante. Rappel au zéro six, douze, trente-quatre, cinquante-six, "
        "soixante-dix-huit."
    )


def test_order_number_pattern_is_configurable() -> None:
    pattern = r"(?P<label>\bticket)\s*(?P<digits>\d{5})\b"
    assert speakable("ticket 12345", order_number_pattern=pattern) == "ticket un deux trois, quatre cinq"
    assert speakable("commande 458129", order_number_pattern=pattern) == (
        "commande quatre cent cinquante-huit mille cent vingt-neuf"
    )
    assert speakable("commande 458129", order_number_pattern=None) == speakable(
        "commande 458129", order_number_pattern=pattern
    )


def test_order_number_pattern_without_a_digits_group_is_refused() -> None:
    with pytest.raises(ValueError, match="group named 'digits'"):
        speakable("ticket 12345", order_number_pattern=re.compile(r"ticket \d+"))


@pytest.mark.parametrize(("digits", "words"), [("045", "zéro quatre cinq"), ("9", "neuf")])
def test_digits_to_words(digits: str, words: str) -> None:
    assert digits_to_words(digits) == words


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (dt.time(14, 30), "14 h 30"),
        (dt.time(9, 0), "9 h"),
        (dt.time(9, 5), "9 h 05"),
        (dt.datetime(2026, 11, 23, 0, 15), "0 h 15"),
    ],
)
def test_format_time_fr(moment: dt.time | dt.datetime, written: str) -> None:
    assert format_time_fr(moment) == written


@pytest.mark.parametrize(
    ("day", "with_year", "written"),
    [
        (dt.date(2026, 11, 23), False, "lundi 23 novembre"),
        (dt.date(2026, 12, 1), False, "mardi 1er décembre"),
        (dt.date(2026, 11, 23), True, "lundi 23 novembre 2026"),
        (dt.datetime(2027, 1, 3, 10, 0), False, "dimanche 3 janvier"),
    ],
)
def test_format_date_fr(day: dt.date, with_year: bool, written: str) -> None:
    assert format_date_fr(day, with_year=with_year) == written


def test_prompt_helpers_read_back_as_words() -> None:
    moment = dt.datetime(2026, 12, 1, 14, 5)
    prompt = f"Rendez-vous {format_date_fr(moment)} à {format_time_fr(moment)}."
    assert speakable(prompt) == "Rendez-vous mardi premier décembre à quatorze heures cinq."
