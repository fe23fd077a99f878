"""The answers data file: its checks, and the French fragments its lookups give to prompts."""

from __future__ import annotations

import textwrap
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callbot.dialog import default_flow_path, french
from callbot.dialog.answers import AnswersData, load_answers, parse_opening, run_lookup, week_text

PARIS = ZoneInfo("Europe/Paris")
# Monday 23 November 2026, 10:00 in Paris.
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)


@pytest.fixture(scope="module")
def retail() -> AnswersData:
    path = default_flow_path().with_name("retail-data.yaml")
    data, issues = load_answers(path, str(path))
    assert issues == []
    assert data is not None
    return data


def hours(data: AnswersData, store: str, now: datetime) -> dict[str, str]:
    return dict(run_lookup("store_hours", data, {"store": store}, now).fields)


# ------------------------------------------------------------------------------- opening hours


@pytest.mark.parametrize(
    ("written", "ranges"),
    [
        ("10:00-20:00", ((time(10), time(20)),)),
        ("9 h 30 – 19 h", ((time(9, 30), time(19)),)),
        ("9h30-19h", ((time(9, 30), time(19)),)),
        ("10:00-13:00, 14:00-19:00", ((time(10), time(13)), (time(14), time(19)))),
        ("10 h à 13 h et 14 h à 19 h", ((time(10), time(13)), (time(14), time(19)))),
        ("fermé", ()),
        ("Fermé", ()),
    ],
)
def test_opening_hours_are_read_as_ops_write_them(
    written: str, ranges: tuple[tuple[time, time], ...]
) -> None:
    assert parse_opening(written) == ranges


@pytest.mark.parametrize(
    ("written", "complaint"),
    [
        ("10-20", "cannot read opening hours '10-20'"),
        ("20:00-10:00", "closes before it opens"),
        ("25:00-26:00", "is not a time of day"),
        ("10:00-14:00, 13:00-19:00", "overlapping ranges"),
    ],
)
def test_unreadable_opening_hours_say_how_to_write_them(written: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_opening(written)


def test_today_now_and_week_for_a_store(retail: AnswersData) -> None:
    fields = hours(retail, "lyon_part_dieu", MONDAY_10)
    assert fields["store"] == "Lyon Part-Dieu"
    assert fields["today"] == "ouvert aujourd'hui de 9 h 30 à 20 h"
    assert fields["now"] == "ouvert en ce moment, jusqu'à 20 h"
    assert fields["week"] == "du lundi au samedi de 9 h 30 à 20 h ; fermé le dimanche"


def test_a_lunch_break_and_a_short_monday(retail: AnswersData) -> None:
    store = retail.stores["marseille_vieux_port"]
    assert week_text(store) == (
        "le lundi de 14 h à 19 h, du mardi au vendredi de 10 h à 13 h et de 14 h à 19 h "
        "et le samedi de 10 h à 19 h ; fermé le dimanche"
    )
    tuesday_noon_30 = datetime(2026, 11, 24, 13, 30, tzinfo=PARIS)
    assert (
        hours(retail, "marseille_vieux_port", tuesday_noon_30)["now"] == "fermé en ce moment, il ouvre à 14 h"
    )
    assert hours(retail, "marseille_vieux_port", MONDAY_10)["now"] == "fermé en ce moment, il ouvre à 14 h"


def test_after_closing_the_next_opening_is_given(retail: AnswersData) -> None:
    saturday_night = datetime(2026, 11, 28, 21, 0, tzinfo=PARIS)
    assert hours(retail, "lille_grand_place", saturday_night)["now"] == (
        "fermé en ce moment, il rouvre lundi 30 novembre à 10 h"
    )
    assert (
        hours(retail, "paris_rivoli", saturday_night)["now"] == "fermé en ce moment, il rouvre demain à 11 h"
    )


def test_exceptions_override_the_usual_hours(retail: AnswersData) -> None:
    christmas = datetime(2026, 12, 25, 9, 0, tzinfo=PARIS)
    assert hours(retail, "paris_rivoli", christmas)["today"] == "exceptionnellement fermé aujourd'hui (Noël)"
    eve = datetime(2026, 12, 24, 9, 0, tzinfo=PARIS)
    assert hours(retail, "paris_rivoli", eve)["today"] == (
        "exceptionnellement ouvert aujourd'hui de 10 h à 17 h (veille de Noël)"
    )
    inventory = datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)
    assert hours(retail, "marseille_vieux_port", inventory)["today"] == (
        "exceptionnellement fermé aujourd'hui (inventaire)"
    )


def test_hours_for_another_day(retail: AnswersData) -> None:
    def day(store: str, iso: str) -> str:
        return run_lookup("store_hours", retail, {"store": store, "day": iso}, MONDAY_10).fields["day"]

    assert day("lyon_part_dieu", "2026-11-23") == "ouvert aujourd'hui de 9 h 30 à 20 h"
    assert day("lyon_part_dieu", "2026-11-24") == "ouvert demain de 9 h 30 à 20 h"
    assert day("lyon_part_dieu", "2026-11-29") == "fermé le dimanche 29 novembre"
    assert day("lyon_part_dieu", "2026-12-20") == (
        "exceptionnellement ouvert le dimanche 20 décembre de 11 h à 19 h "
        "(ouverture exceptionnelle avant Noël)"
    )


# -------------------------------------------------------------------------------- other lookups


def test_store_address(retail: AnswersData) -> None:
    answer = run_lookup("store_address", retail, {"store": "lille_grand_place"}, MONDAY_10)
    assert dict(answer.fields) == {
        "store": "Lille Grand Place",
        "address": "21 place du Général-de-Gaulle",
        "postcode": "59800",
        "city": "Lille",
        "phone": "03 20 55 81 47",
    }


def test_store_answers_are_the_city_and_the_data_names_in_the_frames_callers_use(retail: AnswersData) -> None:
    answers = retail.store_answers()
    assert answers["Celui de Lyon"] == answers["Celui de la Part-Dieu"] == "Lyon Part-Dieu"
    assert answers["Le magasin du Vieux-Port"] == answers["Marseille"] == "Marseille Vieux-Port"
    assert answers["Rivoli"] == "Paris Rivoli" and "Celui de Rivoli" not in answers  # no article: bare only
    assert "Grand-Place" not in answers and answers["Grand Place"] == "Lille Grand Place"  # one spelling


def test_store_tails_are_how_a_request_ends_on_each_store(retail: AnswersData) -> None:
    tails = retail.store_tails()
    assert tails["de Lille"] == tails["de la Grand-Place"] == "Lille Grand Place"
    assert tails["du Vieux-Port"] == tails["de Marseille"] == "Marseille Vieux-Port"
    assert tails["de Rivoli"] == "Paris Rivoli"
    assert "de Part-Dieu" not in tails  # the data says "la Part-Dieu": said with its article
    assert "de rue de Rivoli" not in tails  # said "de la rue de Rivoli"
    confluence = retail.stores["lyon_part_dieu"].model_copy(update={"name": "Lyon Confluence", "aliases": []})
    shared = retail.model_copy(update={"stores": {**retail.stores, "lyon_confluence": confluence}})
    assert "de Lyon" not in shared.store_tails()  # two stores: it names neither


def test_a_store_answer_two_stores_share_picks_neither(retail: AnswersData) -> None:
    confluence = retail.stores["lyon_part_dieu"].model_copy(update={"name": "Lyon Confluence", "aliases": []})
    data = retail.model_copy(update={"stores": {**retail.stores, "lyon_confluence": confluence}})
    answers = data.store_answers()
    assert "Lyon" not in answers and "Celui de Lyon" not in answers
    assert answers["Lyon Confluence"] == "Lyon Confluence" and answers["la Part-Dieu"] == "Lyon Part-Dieu"


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Lyon", "de Lyon"),
        ("le Vieux-Port", "du Vieux-Port"),
        ("la Part-Dieu", "de la Part-Dieu"),
        ("les Halles", "des Halles"),
        ("l'Opéra", "de l'Opéra"),
        ("Annecy", "d'Annecy"),
        ("Honfleur", "de Honfleur"),
    ],
)
def test_de_before_a_name_is_contracted_as_french_says_it(name: str, said: str) -> None:
    assert french.of(name) == said


@pytest.mark.parametrize(
    ("number", "status", "details"),
    [
        (
            "458129",
            "expédiée",
            "Elle a été confiée à Colissimo, pour une livraison prévue le jeudi 26 novembre.",
        ),
        ("458130", "en cours de préparation", "La livraison est prévue le mardi 1er décembre."),
        ("461207", "livrée", "Elle a été livrée le vendredi 20 novembre."),
        (
            "463388",
            "retardée",
            "La nouvelle date de livraison prévue est le lundi 30 novembre. "
            "Nous vous prions de nous excuser pour ce retard.",
        ),
        (
            "470015",
            "prête à être retirée au magasin Lyon Part-Dieu",
            "Elle vous attend à l'accueil du magasin pendant quinze jours, avec une pièce d'identité.",
        ),
        (
            "472560",
            "en cours de livraison",
            "Elle a été confiée à Colissimo, pour une livraison prévue aujourd'hui.",
        ),
        ("4815736", "en cours de préparation", "Vous recevrez un e-mail dès son expédition."),
    ],
)
def test_order_status_in_words(retail: AnswersData, number: str, status: str, details: str) -> None:
    answer = run_lookup("order_status", retail, {"order": number}, MONDAY_10)
    assert answer.found
    assert (answer.fields["status"], answer.fields["details"]) == (status, details)


def test_an_unknown_order_is_not_found(retail: AnswersData) -> None:
    answer = run_lookup("order_status", retail, {"order": "999999"}, MONDAY_10)
    assert not answer.found
    assert dict(answer.fields) == {"order": "999999"}
    assert answer.note == "introuvable"


@pytest.mark.parametrize(
    ("heard", "near"),
    [
        ("458121", ["458129", "458130"]),  # a digit misheard; nearest first
        ("4108129", ["458129"]),  # "4, 108, 1, 2, 9": one wrong, one too many
        ("485636", ["4815736"]),  # one lost, one wrong
        ("999999", []),
        ("458129", ["458130"]),  # a known order is not near itself
    ],
)
def test_the_orders_a_digit_or_two_from_a_number_heard(
    retail: AnswersData, heard: str, near: list[str]
) -> None:
    assert retail.orders_near(heard, 2) == near


def test_at_most_so_many_near_orders_are_offered(retail: AnswersData) -> None:
    assert len(retail.orders_near("460000", most_edits=6, limit=3)) == 3


def test_product_stock_in_and_out(retail: AnswersData) -> None:
    found = run_lookup(
        "product_stock", retail, {"product": "lampadaire_arco", "store": "paris_rivoli"}, MONDAY_10
    )
    assert found.found
    assert (found.fields["product"], found.fields["quantity"], found.fields["price"]) == (
        "le lampadaire Arco",
        "4",
        "289 €",
    )
    missing = run_lookup(
        "product_stock", retail, {"product": "lampadaire_arco", "store": "lyon_part_dieu"}, MONDAY_10
    )
    assert not missing.found
    assert missing.fields["elsewhere"] == (
        "Il en reste à Paris Rivoli, à Marseille Vieux-Port et à Lille Grand Place."
    )
    nowhere = run_lookup(
        "product_stock", retail, {"product": "miroir_soleil", "store": "lille_grand_place"}, MONDAY_10
    )
    assert nowhere.fields["elsewhere"] == "Il en reste à Paris Rivoli."
    lamp = run_lookup(
        "product_stock", retail, {"product": "lampe_chevet_nuage", "store": "paris_rivoli"}, MONDAY_10
    )
    assert lamp.fields["price"] == "49,90 €"


# ---------------------------------------------------------------------------------- data checks


GOOD = """\
chain: Maison Lumière
stores:
  paris_rivoli:
    name: Paris Rivoli
    aliases: [Rivoli, Paris]
    address: 112 rue de Rivoli
    postcode: "75001"
    city: Paris
    phone: 01 42 60 38 15
    hours:
      lundi: 10:00-20:00
      mardi: 10:00-20:00
      mercredi: 10:00-20:00
      jeudi: 10:00-20:00
      vendredi: 10:00-20:00
      samedi: 10:00-20:00
      dimanche: fermé
    exceptions:
      2026-12-25: fermé
orders:
  "458129":
    status: expediee
    carrier: Colissimo
    delivery_date: 2026-11-26
products:
  arco:
    name: le lampadaire Arco
    stock: {paris_rivoli: 2}
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "data.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    data, issues = load_answers(path, "flows/data.yaml")
    assert (data is None) == any(issue.severity == "error" for issue in issues)
    return [str(issue) for issue in issues]


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_good_data_file_has_no_problem(tmp_path: Path) -> None:
    assert problems(tmp_path, GOOD) == []


def test_a_missing_day(tmp_path: Path) -> None:
    text = GOOD.replace("      dimanche: fermé\n", "")
    assert problems(tmp_path, text) == [
        f"flows/data.yaml:{line_of(text, 'hours:')}: stores.paris_rivoli.hours: no hours for dimanche — add "
        "one line per day, e.g. dimanche: fermé"
    ]


def test_a_misspelt_day(tmp_path: Path) -> None:
    text = GOOD.replace("      samedi:", "      samdi:")
    assert problems(tmp_path, text)[0] == (
        f"flows/data.yaml:{line_of(text, 'samdi')}: stores.paris_rivoli.hours.samdi cannot be 'samdi' — did "
        "you mean 'samedi'? use one of: lundi, mardi, mercredi, jeudi, vendredi, samedi, dimanche"
    )


def test_a_postcode_and_a_phone_number(tmp_path: Path) -> None:
    text = GOOD.replace('postcode: "75001"', "postcode: 7501").replace("01 42 60 38 15", "01 42 60 38")
    assert problems(tmp_path, text) == [
        f"flows/data.yaml:{line_of(text, 'postcode')}: stores.paris_rivoli.postcode: postcode '7501' is not "
        'five digits — write it between quotes, e.g. "75001"',
        f"flows/data.yaml:{line_of(text, 'phone')}: stores.paris_rivoli.phone: phone '01 42 60 38' is not a "
        "French number — write ten digits, e.g. 01 42 60 38 15",
    ]


def test_an_unknown_order_status(tmp_path: Path) -> None:
    text = GOOD.replace("status: expediee", "status: expedie")
    assert problems(tmp_path, text) == [
        f"flows/data.yaml:{line_of(text, 'status')}: orders.458129.status cannot be 'expedie' — did you mean "
        "'expediee'? use one of: en_preparation, expediee, en_livraison, livree, retardee, annulee, "
        "prete_en_magasin"
    ]


def test_a_shipped_order_without_carrier(tmp_path: Path) -> None:
    text = GOOD.replace("    carrier: Colissimo\n", "")
    assert problems(tmp_path, text) == [
        f"flows/data.yaml:{line_of(text, '458129')}: orders.458129: status expediee needs a carrier — add "
        "carrier: e.g. Colissimo"
    ]


def test_a_bad_date(tmp_path: Path) -> None:
    text = GOOD.replace("delivery_date: 2026-11-26", "delivery_date: 26/11/2026")
    assert problems(tmp_path, text) == [
        f"flows/data.yaml:{line_of(text, 'delivery_date')}: orders.458129.delivery_date must be a date "
        "written 2026-12-24, not '26/11/2026' — write a date written 2026-12-24 after 'delivery_date:'"
    ]


def test_stock_in_an_unknown_store_and_a_bad_order_number(tmp_path: Path) -> None:
    text = GOOD.replace("{paris_rivoli: 2}", "{paris_rivoli: 2, paris_rivol: 1}").replace(
        '"458129"', '"4581"'
    )
    assert problems(tmp_path, text) == [
        f"flows/data.yaml:{line_of(text, '4581')}: order number '4581' is not 6 to 10 digits — write the "
        "number callers read from their confirmation e-mail, digits only",
        f"flows/data.yaml:{line_of(text, 'paris_rivol:')}: unknown store 'paris_rivol' in the stock of "
        "arco — did you mean 'paris_rivoli'? define it under stores: or fix the name (known: paris_rivoli)",
    ]


def test_a_name_shared_by_two_stores(tmp_path: Path) -> None:
    second = GOOD[GOOD.index("  paris_rivoli:") : GOOD.index("orders:")].replace(
        "paris_rivoli:", "paris_opera:"
    )
    second = second.replace("name: Paris Rivoli", "name: Paris Opéra").replace(
        "aliases: [Rivoli, Paris]", "aliases: [Opéra, Paris]"
    )
    text = GOOD.replace("orders:", second + "orders:")
    assert problems(tmp_path, text) == [
        f"flows/data.yaml:{line_of(text, 'aliases: [Opéra, Paris]')}: 'Paris' names both paris_rivoli and "
        "paris_opera — keep each name or alias on one entry only"
    ]


def test_a_data_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    assert problems(tmp_path, "- juste une liste\n") == [
        "flows/data.yaml:1: the data file must be a block of 'key: value' lines — start with chain:, "
        "stores:, orders: and products:"
    ]


def test_dates_are_keys_in_exceptions(retail: AnswersData) -> None:
    assert date(2026, 12, 25) in retail.stores["paris_rivoli"].exceptions
