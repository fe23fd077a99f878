"""Loading and checking flow files: every mistake ops can make is reported on one line, with the file,
the line and the fix."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from callbot.dialog import FlowError, check_flow, default_flow_path, flow_check_main, load_flow

# A small flow that loads cleanly; each test breaks one thing in it.
MINIMAL = """\
flow: test
language: fr-FR
settings:
  fallback_queue: service_client
queues:
  service_client:
    description: Conseillers du service client
  reclamations:
    description: Équipe réclamations
intents:
  horaires:
    examples: [quels sont vos horaires, à quelle heure vous ouvrez, vous fermez quand]
  reclamation:
    examples: [je veux faire une réclamation, produit cassé, je veux un remboursement]
  au_revoir:
    examples: [au revoir, bonne journée, merci au revoir]
global:
  on:
    au_revoir: {say: Au revoir., hangup: true}
    reclamation:
      say: Je vous passe le service réclamations.
      transfer: reclamations
states:
  accueil:
    ask: Que puis-je faire pour vous ?
    on:
      horaires: horaires
  horaires:
    say: Nous sommes ouverts de 10 h à 20 h.
    then: {goto: accueil}
"""


def write(tmp_path: Path, text: str, name: str = "flows/test.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based number of the line holding `needle` (its n-th occurrence)."""
    found = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    return found[occurrence - 1]


def state_line(text: str, name: str, occurrence: int = 1) -> int:
    """The line of state `name` under states: (its n-th definition)."""
    return line_starting(
        text, f"  {name}:", occurrence + text[: text.index("\nstates:")].count(f"\n  {name}:")
    )


def line_starting(text: str, start: str, occurrence: int = 1) -> int:
    """1-based number of the line that begins with `start` (its n-th occurrence)."""
    found = [number for number, line in enumerate(text.splitlines(), 1) if line.startswith(start)]
    return found[occurrence - 1]


def only_error(path: Path) -> str:
    """The single issue reported for `path`, as the CLI prints it."""
    issues = check_flow(path)
    assert len(issues) == 1, [str(issue) for issue in issues]
    return str(issues[0])


def broken(original: str, new: str, base: str = MINIMAL) -> str:
    assert original in base
    return base.replace(original, new, 1)


# ---------------------------------------------------------------------------------------- good files


def test_the_minimal_flow_and_the_default_flow_have_no_issue(tmp_path: Path) -> None:
    assert check_flow(write(tmp_path, MINIMAL)) == []
    assert check_flow(default_flow_path()) == []


def test_a_loaded_flow_keeps_yaml_1_1_traps_as_text(tmp_path: Path) -> None:
    # `on:` is not the boolean True, the DTMF key 0 is not an int, '10 h' stays text.
    text = broken("global:\n  on:\n", "global:\n  on_dtmf:\n    0: {transfer: service_client}\n  on:\n")
    flow = load_flow(write(tmp_path, text))
    assert set(flow.global_handlers.on) == {"au_revoir", "reclamation"}
    assert set(flow.global_handlers.on_dtmf) == {"0"}
    assert flow.settings.max_retries == 2
    assert flow.settings.start == "accueil"


def test_yaml_anchors_and_merge_keys_can_share_handlers(tmp_path: Path) -> None:
    text = broken(
        "  accueil:\n    ask: Que puis-je faire pour vous ?\n    on:\n      horaires: horaires\n",
        "  accueil:\n    ask: Que puis-je faire pour vous ?\n    on: &menu\n      horaires: horaires\n"
        "  encore:\n    ask: Autre chose ?\n    on:\n      <<: *menu\n      au_revoir: {hangup: true}\n",
    )
    text = broken("    then: {goto: accueil}", "    then: {goto: encore}", text)
    flow = load_flow(write(tmp_path, text))
    assert set(flow.states["encore"].on) == {"horaires", "au_revoir"}


def test_fixed_prompts_lists_every_prompt_without_templates_once() -> None:
    flow = load_flow(default_flow_path())
    prompts = flow.fixed_prompts()
    assert prompts[0].startswith("Je vous passe un conseiller")
    assert any(p.startswith("Bonjour et bienvenue chez Maison Lumière.") for p in prompts)
    assert "Que puis-je faire pour vous ?" in prompts
    assert "Puis-je vous aider pour autre chose ?" in prompts
    assert len(prompts) == len(set(prompts))
    assert not [p for p in prompts if "{" in p]
    assert not [p for p in prompts if "  " in p or p != p.strip()]


# -------------------------------------------------------------------------------- YAML syntax errors


def test_a_colon_inside_a_prompt_is_a_syntax_error_with_its_line_and_the_quoting_fix(tmp_path: Path) -> None:
    text = broken("    say: Nous sommes ouverts de 10 h à 20 h.", "    say: Horaires : 10 h à 20 h")
    path = write(tmp_path, text)
    line = line_of(text, "Horaires : 10 h")
    assert only_error(path) == (
        f"{path}:{line}: YAML syntax error: mapping values are not allowed here — put text that contains "
        '": " between double quotes, e.g. say: "Horaires : 9 h 30 à 19 h"'
    )
    with pytest.raises(FlowError) as raised:
        load_flow(path)
    assert (raised.value.path, raised.value.line) == (str(path), line)
    assert "\n" not in str(raised.value)


def test_a_tab_in_the_indentation_is_reported_on_its_line(tmp_path: Path) -> None:
    text = broken("    then: {goto: accueil}", "\tthen: {goto: accueil}")
    path = write(tmp_path, text)
    assert only_error(path).startswith(f"{path}:{line_of(text, 'then: {goto')}: YAML syntax error")
    assert only_error(path).endswith("— indent with spaces, never tabs")


def test_an_unclosed_quote_points_at_where_it_was_opened(tmp_path: Path) -> None:
    text = broken("    ask: Que puis-je faire pour vous ?", '    ask: "Que puis-je faire pour vous ?')
    path = write(tmp_path, text)
    line = line_of(text, 'ask: "Que')
    assert only_error(path).startswith(f"{path}:{line}: YAML syntax error")
    assert only_error(path).endswith('— close the quote opened here (a " inside quotes is written \\")')


def test_a_state_defined_twice_is_a_duplicate_key(tmp_path: Path) -> None:
    text = MINIMAL + "  horaires:\n    say: Doublon.\n    then: {goto: accueil}\n"
    path = write(tmp_path, text)
    first, second = state_line(text, "horaires"), state_line(text, "horaires", 2)
    assert only_error(path) == (
        f"{path}:{second}: duplicate key 'horaires' (first defined at line {first}) — keep one of the two, "
        "or rename one"
    )


def test_a_missing_or_empty_file_is_reported_without_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    assert only_error(missing) == f"{missing}: flow file not found — check the path"
    empty = write(tmp_path, "")
    assert only_error(empty) == (
        f"{empty}:1: a flow file must be a block of 'key: value' lines — start with flow:, language:, "
        "settings:, queues:, intents: and states:"
    )


# --------------------------------------------------------------------------------- schema errors


def test_a_misspelt_key_suggests_the_right_one(tmp_path: Path) -> None:
    text = broken("    ask: Que puis-je faire pour vous ?", "    aks: Que puis-je faire pour vous ?")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'aks:')}: unknown key 'aks' in states.accueil — did you mean 'ask'? "
        "(allowed: say, ask, collect, confirm, reask, hints, on, on_dtmf, then, no_match, no_input)"
    )


def test_a_misspelt_required_key_is_reported_once(tmp_path: Path) -> None:
    text = broken("    description: Équipe réclamations", "    descriptoin: Équipe réclamations")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'descriptoin')}: unknown key 'descriptoin' in queues.reclamations — "
        "did you mean 'description'? (allowed: description, sip_uri)"
    )


def test_a_word_where_a_number_is_expected(tmp_path: Path) -> None:
    text = broken(
        "  fallback_queue: service_client\n", "  fallback_queue: service_client\n  max_retries: deux\n"
    )
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'max_retries')}: settings.max_retries must be a whole number, not 'deux' — "
        "write a whole number after 'max_retries:'"
    )


@pytest.mark.parametrize(
    ("setting", "value", "fix"),
    [
        ("intent_threshold", "55", "write a value below 1.0"),
        ("near_order_digits", "5", "write a value of at most 3"),  # near orders go three digits at most
    ],
)
def test_a_number_out_of_range(tmp_path: Path, setting: str, value: str, fix: str) -> None:
    text = broken(
        "  fallback_queue: service_client\n", f"  fallback_queue: service_client\n  {setting}: {value}\n"
    )
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, setting)}: settings.{setting} is too high: '{value}' — {fix}"
    )


def test_empty_examples_are_an_error(tmp_path: Path) -> None:
    text = broken(
        "    examples: [quels sont vos horaires, à quelle heure vous ouvrez, vous fermez quand]",
        "    examples: []",
    )
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'examples: []')}: intents.horaires.examples is empty — list the phrases "
        "callers really say, one per line starting with '- ' (8 to 15 is good)"
    )


def test_a_missing_section_is_named(tmp_path: Path) -> None:
    text = broken("settings:\n  fallback_queue: service_client\n", "")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:1: missing 'settings' in the top level — add a settings: block (at least fallback_queue:)"
    )


def test_an_unknown_slot_type_suggests_the_closest(tmp_path: Path) -> None:
    text = broken("intents:\n", "slots:\n  numero:\n    type: ordernumber\nintents:\n")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'type: ordernumber')}: slots.numero.type cannot be 'ordernumber' — "
        "did you mean 'order_number'? use one of: order_number, phone, datetime, date, yes_no, entity"
    )


def test_the_language_must_be_french(tmp_path: Path) -> None:
    text = broken("language: fr-FR", "language: en-US")
    path = write(tmp_path, text)
    assert only_error(path) == f"{path}:2: language cannot be 'en-US' — use one of: fr-FR"


def test_a_list_where_a_block_is_expected(tmp_path: Path) -> None:
    text = broken("    on:\n      horaires: horaires", "    on:\n      - horaires")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_starting(text, '    on:')}: states.accueil.on must be a block of 'key: value' lines, "
        "not a list — write one line per intent under on:, e.g. horaires: horaires (intent: state to go to)"
    )


# ------------------------------------------------------------------------------- cross references


def test_an_unknown_state_in_goto(tmp_path: Path) -> None:
    text = broken("    then: {goto: accueil}", "    then: {goto: confirmation}")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'confirmation')}: unknown state 'confirmation' in goto — define it under "
        "states: or fix the name (known: accueil, horaires)"
    )
    with pytest.raises(FlowError) as raised:
        load_flow(path)
    assert raised.value.fix == "define it under states: or fix the name (known: accueil, horaires)"
    assert raised.value.message == "unknown state 'confirmation' in goto"


def test_an_unknown_state_in_the_goto_shorthand_suggests_the_closest(tmp_path: Path) -> None:
    text = broken("      horaires: horaires", "      horaires: horaire")
    path = write(tmp_path, text)
    assert [str(issue) for issue in check_flow(path)] == [
        f"{path}:{line_of(text, 'horaires: horaire')}: unknown state 'horaire' in goto — did you mean "
        "'horaires'? define it under states: or fix the name (known: accueil, horaires)",
        f"{path}:{state_line(text, 'horaires')}: warning: state 'horaires' is unreachable — add a "
        "goto: to it, or remove it",
    ]


def test_an_unknown_intent_in_on(tmp_path: Path) -> None:
    text = broken("      horaires: horaires", "      horaire: horaires")
    path = write(tmp_path, text)
    # Issues come in file order: the intent that is now never handled, then the misspelt name.
    assert [str(issue) for issue in check_flow(path)] == [
        f"{path}:{line_starting(text, '  horaires:')}: warning: intent 'horaires' is never handled — add it "
        "under a state's on: or under global: on:",
        f"{path}:{line_of(text, 'horaire: horaires')}: unknown intent 'horaire' in on: — did you mean "
        "'horaires'? define it under intents: or fix the name (known: horaires, reclamation, au_revoir)",
    ]


def test_an_unknown_queue_in_transfer_and_in_fallback_queue(tmp_path: Path) -> None:
    text = broken("      transfer: reclamations", "      transfer: reclamation")
    text = broken("  fallback_queue: service_client", "  fallback_queue: accueil_humain", text)
    path = write(tmp_path, text)
    assert [str(issue) for issue in check_flow(path)] == [
        f"{path}:{line_of(text, 'fallback_queue')}: unknown queue 'accueil_humain' in fallback_queue — "
        "define it under queues: or fix the name (known: service_client, reclamations)",
        f"{path}:{line_of(text, 'transfer: reclamation')}: unknown queue 'reclamation' in transfer — did you "
        "mean 'reclamations'? define it under queues: or fix the name (known: service_client, reclamations)",
    ]


def test_an_unknown_slot_in_a_template(tmp_path: Path) -> None:
    text = broken("Nous sommes ouverts de 10 h à 20 h.", "Le magasin {magasin} ouvre à 10 h.")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, '{magasin}')}: unknown slot 'magasin' in template '{{magasin}}' — define it "
        "under slots: or fix the name (known: none defined)"
    )


def test_an_unbalanced_brace_in_a_template(tmp_path: Path) -> None:
    text = broken("Nous sommes ouverts de 10 h à 20 h.", "Ouvert {answer.today.")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'Ouvert {')}: unbalanced brace in 'Ouvert {{answer.today.' — write "
        "placeholders as {slot} or {answer.field}, with both braces"
    )


def test_missing_start_state(tmp_path: Path) -> None:
    text = MINIMAL.replace("accueil", "bienvenue")
    text = broken(
        "  fallback_queue: service_client", "  fallback_queue: service_client\n  start: accueil", text
    )
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'start: accueil')}: no start state 'accueil' — add a state 'accueil' under "
        "states: or set settings.start (known: bienvenue, horaires)"
    )


def test_missing_default_start_state_points_at_states(tmp_path: Path) -> None:
    text = MINIMAL.replace("accueil", "bienvenue")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'states:')}: no start state 'accueil' — add a state 'accueil' under states: "
        "or set settings.start (known: bienvenue, horaires)"
    )


def test_an_unreachable_state_is_a_warning_and_the_flow_still_loads(tmp_path: Path) -> None:
    text = MINIMAL + "  ancien_menu:\n    ask: Tapez 1.\n    on:\n      horaires: horaires\n"
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'ancien_menu')}: warning: state 'ancien_menu' is unreachable — add a goto: "
        "to it, or remove it"
    )
    flow = load_flow(path)
    assert [issue.severity for issue in flow.warnings] == ["warning"]
    assert flow_check_main(path) == 0


def test_goto_and_transfer_in_one_transition(tmp_path: Path) -> None:
    text = broken("      transfer: reclamations", "      transfer: reclamations\n      goto: accueil")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'transfer: reclamations')}: goto and transfer in the same transition — keep "
        "one: ask (stay and ask), goto (another state), transfer or hangup"
    )


def test_a_then_that_goes_nowhere(tmp_path: Path) -> None:
    text = broken("    then: {goto: accueil}", "    then: {say: Voilà.}")
    path = write(tmp_path, text)
    issues = [str(issue) for issue in check_flow(path)]
    assert issues[0] == (
        f"{path}:{line_of(text, 'then: {say')}: then: of state 'horaires' does not say where to go — add "
        "goto:, transfer: or hangup: true"
    )


def test_a_state_that_neither_asks_nor_moves(tmp_path: Path) -> None:
    text = broken("    then: {goto: accueil}\n", "")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{state_line(text, 'horaires')}: state 'horaires' neither asks anything nor moves on — add "
        "ask: (and on: for the answers), or then: with goto:, transfer: or hangup:"
    )


def test_pass_through_states_that_loop(tmp_path: Path) -> None:
    text = MINIMAL + "  pause:\n    say: Un instant.\n    then: {goto: horaires}\n"
    text = broken("    then: {goto: accueil}", "    then: {goto: pause}", text)
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{state_line(text, 'horaires')}: states horaires → pause → horaires loop without asking "
        "anything — add ask: to one of them, or end the chain with transfer: or hangup:"
    )


def test_a_comma_inside_a_one_line_block_gets_the_quoting_fix(tmp_path: Path) -> None:
    text = broken("{say: Au revoir., hangup: true}", "{say: Merci, au revoir., hangup: true}")
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'Merci, au revoir')}: unknown key 'au revoir.' in global.on.au_revoir — "
        "inside { } a comma separates entries: put text with a comma between double quotes, e.g. "
        '{say: "Bonjour, bienvenue.", goto: menu}'
    )


def test_an_entity_slot_needs_the_data_file(tmp_path: Path) -> None:
    text = broken("intents:\n", "slots:\n  magasin:\n    type: entity\n    from: stores\nintents:\n")
    path = write(tmp_path, text)
    assert str(check_flow(path)[0]) == (
        f"{path}:{line_of(text, 'from: stores')}: slot 'magasin' takes its values from the data file, but "
        "the flow has no data: — add data: retail-data.yaml (path relative to the flow file) at the top level"
    )


def test_an_invalid_phone_key(tmp_path: Path) -> None:
    text = broken("global:\n  on:\n", 'global:\n  on_dtmf:\n    "12": {transfer: service_client}\n  on:\n')
    path = write(tmp_path, text)
    line = line_of(text, '"12"')
    assert only_error(path) == (
        f"{path}:{line}: '12' is not a phone key in on_dtmf: — use one key: 0 to 9, * or # "
        '(between quotes: "0", "*")'
    )


SLOTS = """\
slots:
  numero_commande:
    type: order_number
  quand:
    type: datetime
intents:
"""


def test_a_collecting_state_needs_its_question_and_what_comes_next(tmp_path: Path) -> None:
    text = broken("intents:\n", SLOTS)
    text = broken(
        "    say: Nous sommes ouverts de 10 h à 20 h.\n    then: {goto: accueil}",
        "    collect: numero_commande",
        text,
    )
    path = write(tmp_path, text)
    line = state_line(text, "horaires")
    assert [str(issue) for issue in check_flow(path)][:2] == [
        f"{path}:{line}: state 'horaires' collects 'numero_commande' but asks nothing — add ask: the "
        "question that asks for it",
        f"{path}:{line}: state 'horaires' collects 'numero_commande' but has no then: — add then: "
        "saying what happens once it is known (e.g. answer: and goto:)",
    ]


def test_a_slot_said_by_the_transition_that_clears_it_is_an_error(tmp_path: Path) -> None:
    """`clear:` runs first: "le numéro {numero_commande}" would be said with the number gone."""
    text = broken("intents:\n", SLOTS)
    text = broken(
        "    then: {goto: accueil}",
        "    then:\n      clear: numero_commande\n      say: Le numéro {numero_commande} est oublié.\n"
        "      goto: accueil",
        text,
    )
    path = write(tmp_path, text)
    errors = [str(issue) for issue in check_flow(path) if issue.severity == "error"]
    assert errors == [
        f"{path}:{line_of(text, 'est oublié')}: {{numero_commande}} is cleared by this transition's clear: "
        "before its say: is said — name the value another way ({answer.…} of a lookup) or clear it in the "
        "next state"
    ]


def test_phone_keys_only_for_an_entity_slot_and_only_1_to_9(tmp_path: Path) -> None:
    text = broken(
        "intents:\n",
        SLOTS.replace("    type: order_number\n", '    type: order_number\n    keys: {"1": x}\n'),
    )
    path = write(tmp_path, text)
    assert [str(issue) for issue in check_flow(path) if issue.severity == "error"] == [
        f"{path}:{line_of(text, 'keys:')}: keys: only apply to entity slots ('numero_commande' is "
        "order_number) — remove keys:"
    ]


def test_a_phone_key_names_a_store_of_the_data_file(tmp_path: Path) -> None:
    flow_text = default_flow_path().read_text(encoding="utf-8")
    text = flow_text.replace('"2": lyon_part_dieu', '"2": lyon_confluence').replace('"4":', '"44":')
    shutil.copy(default_flow_path().parent / "retail-data.yaml", tmp_path / "retail-data.yaml")
    path = write(tmp_path, text, name="retail.yaml")
    errors = [str(issue) for issue in check_flow(path) if issue.severity == "error"]
    assert len(errors) == 2
    assert errors[0].endswith(
        "unknown entry 'lyon_confluence' for key 2 of slot 'magasin' — define it under stores: in the data "
        "file or fix the name (known: lille_grand_place, lyon_part_dieu, marseille_vieux_port, paris_rivoli)"
    )
    assert errors[1].endswith(
        "'44' is not a key for slot 'magasin' — use one key from \"1\" to \"9\" "
        "(0, * and # are the flow's own)"
    )


def test_a_slot_key_that_hides_a_key_handler_is_named(tmp_path: Path) -> None:
    flow_text = default_flow_path().read_text(encoding="utf-8")
    text = flow_text.replace('"4": lille_grand_place', '"0": lille_grand_place')
    shutil.copy(default_flow_path().parent / "retail-data.yaml", tmp_path / "retail-data.yaml")
    path = write(tmp_path, text, name="retail.yaml")
    errors = [str(issue) for issue in check_flow(path) if issue.severity == "error"]
    global_zero = line_starting(text, '    "0":')  # global: on_dtmf: "0" (a person)
    assert (
        f"{path}:{global_zero}: key 0 names an entry of slot 'magasin' in state 'horaires': this handler "
        "would never run there — use another key here, or for that entry under slots: magasin: keys:"
    ) in errors


def test_a_callback_needs_a_datetime_slot(tmp_path: Path) -> None:
    text = broken("intents:\n", SLOTS)
    text = broken(
        "    then: {goto: accueil}",
        "    then:\n      callback: {queue: service_client, at: numero_commande}\n      hangup: true",
        text,
    )
    path = write(tmp_path, text)
    issues = [str(issue) for issue in check_flow(path) if issue.severity == "error"]
    assert issues == [
        f"{path}:{line_of(text, 'callback:')}: callback at: needs a datetime slot, 'numero_commande' is "
        "order_number — name a slot of type datetime"
    ]


def test_answer_fields_are_checked_against_the_lookup(tmp_path: Path) -> None:
    text = "data: data.yaml\n" + broken(
        "intents:\n", "slots:\n  magasin:\n    type: entity\n    from: stores\nintents:\n"
    )
    text = broken(
        "    say: Nous sommes ouverts de 10 h à 20 h.\n    then: {goto: accueil}",
        "    collect: magasin\n    ask: Quel magasin ?\n    then:\n      answer: store_hours\n"
        "      say: Ouvert {answer.aujourdhui}.\n      goto: accueil",
        text,
    )
    path = write(tmp_path, text)
    write(tmp_path, DATA, "flows/data.yaml")
    assert only_error(path) == (
        f"{path}:{line_of(text, 'answer.aujourdhui')}: unknown field 'aujourdhui' for answer store_hours — "
        "use one of: store, city, day, today, now, week"
    )


def test_answer_fields_outside_their_transition(tmp_path: Path) -> None:
    text = broken(
        "    ask: Que puis-je faire pour vous ?", "    ask: Le magasin est {answer.today}. Autre chose ?"
    )
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:{line_of(text, 'answer.today')}: {{answer.today}} used outside a transition with answer: — "
        "use {answer.…} only in the say:/ask: next to answer: (or in its not_found:)"
    )


# ----------------------------------------------------------------------------------- data file


DATA = """\
chain: Maison Lumière
stores:
  paris_rivoli:
    name: Paris Rivoli
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
"""


def test_a_missing_data_file_is_reported_on_the_data_line(tmp_path: Path) -> None:
    text = "data: donnees.yaml\n" + MINIMAL
    path = write(tmp_path, text)
    assert only_error(path) == (
        f"{path}:1: data file 'donnees.yaml' not found (looked for {path.parent / 'donnees.yaml'}) — fix the "
        "path: it is relative to the flow file"
    )


def test_a_malformed_data_file_is_reported_in_the_data_file(tmp_path: Path) -> None:
    path = write(tmp_path, "data: data.yaml\n" + MINIMAL)
    data_text = DATA.replace("      dimanche: fermé", "      dimanche: 11h-18")
    data_path = write(tmp_path, data_text, "flows/data.yaml")
    assert only_error(path) == (
        f"{data_path}:{line_of(data_text, 'hours:')}: stores.paris_rivoli.hours: cannot read opening hours "
        "'11h-18' — write them like 10:00-20:00, 10:00-13:00, 14:00-19:00, or fermé"
    )
    with pytest.raises(FlowError) as raised:
        load_flow(path)
    assert raised.value.path == str(data_path)


def test_a_data_file_with_a_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "data: data.yaml\n" + MINIMAL)
    data_text = DATA.replace("    city: Paris", "    city: Paris : centre")
    data_path = write(tmp_path, data_text, "flows/data.yaml")
    assert only_error(path).startswith(f"{data_path}:{line_of(data_text, 'city:')}: YAML syntax error")


# ------------------------------------------------------------------------------------- the CLI


def test_flow_check_main_prints_one_line_per_issue_and_fails_on_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = broken("    then: {goto: accueil}", "    then: {goto: confirmation}")
    text += "  ancien_menu:\n    ask: Tapez 1.\n    on:\n      horaires: horaires\n"
    path = write(tmp_path, text)
    assert flow_check_main(path) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{path}:{line_of(text, 'confirmation')}: unknown state 'confirmation' in goto — define it under "
        "states: or fix the name (known: accueil, horaires, ancien_menu)",
        f"{path}:{line_of(text, 'ancien_menu')}: warning: state 'ancien_menu' is unreachable — add a goto: "
        "to it, or remove it",
        f"{path}: 1 error(s), 1 warning(s)",
    ]


def test_flow_check_main_on_the_default_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert flow_check_main(default_flow_path()) == 0
    assert capsys.readouterr().out == f"{default_flow_path()}: OK — 12 states, 10 intents, 2 queues\n"


# -------------------------------------------------------------------------------------- prompt table


def test_every_sentence_outside_the_states_can_be_reworded_under_prompts(tmp_path: Path) -> None:
    text = MINIMAL + "prompts:\n  hello: Bonjour à vous.\n  confirm_guess: C'est pour {label} ?\n"
    flow = load_flow(write(tmp_path, text))
    assert flow.prompts.hello == "Bonjour à vous."
    assert flow.prompts.confirm_guess == "C'est pour {label} ?"
    assert flow.prompts.closed_goodbye == "Merci de votre appel, au revoir."  # the rest keep their defaults
    assert "Bonjour à vous." in flow.prompts.fixed() and "C'est pour {label} ?" not in flow.prompts.fixed()


def test_why_a_call_back_is_refused_can_be_reworded_under_callback_refused(tmp_path: Path) -> None:
    text = MINIMAL + "callback_refused:\n  full: Plus de place à cette heure-là.\n  other: Impossible.\n"
    refusals = load_flow(write(tmp_path, text)).callback_refused
    assert refusals.reason("full") == "Plus de place à cette heure-là."
    assert refusals.reason("slot_full") == "Plus de place à cette heure-là."  # taken just before the write
    assert refusals.reason("past") == "Ce moment est déjà passé."  # the others keep their defaults
    assert refusals.reason("a_code_of_tomorrow") == "Impossible."
    assert refusals.reason("offer") == "Impossible."  # a sentence that is not a refusal is not one


def test_a_misspelt_refusal_code_suggests_the_right_one(tmp_path: Path) -> None:
    text = MINIMAL + "callback_refused:\n  holidays: Jour férié.\n"
    message = only_error(write(tmp_path, text))
    assert "unknown key 'holidays' in callback_refused" in message and "did you mean 'holiday'?" in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("day_heard: Très bien.", "must say {day}"),
        ("missing_time: À quelle heure {day} ?", "this sentence takes no placeholder"),
        ("past: ' '", "the sentence is blank"),
        ('missing_time: "À quelle heure {{}} ?"', "write it without braces"),
    ],
)
def test_a_slot_sentence_is_checked_like_the_prompt_table(tmp_path: Path, line: str, expected: str) -> None:
    text = MINIMAL + f"slots:\n  creneau:\n    type: datetime\n    {line}\n"
    message = only_error(write(tmp_path, text))
    assert f"test.yaml:{line_starting(text, '    ' + line[:6])}:" in message
    assert expected in message


def test_a_placeholder_a_prompt_cannot_fill_is_reported_on_its_line(tmp_path: Path) -> None:
    text = MINIMAL + "prompts:\n  hello: Bonjour {caller}.\n"
    message = only_error(write(tmp_path, text))
    assert f"test.yaml:{line_starting(text, '  hello:')}:" in message
    assert "unknown placeholder {caller}" in message and "takes no placeholder" in message


def test_a_misspelt_prompt_name_suggests_the_right_one(tmp_path: Path) -> None:
    text = MINIMAL + "prompts:\n  wait_ofer: Patientez.\n"
    message = only_error(write(tmp_path, text))
    assert "unknown key 'wait_ofer' in prompts" in message and "did you mean 'wait_offer'?" in message


@pytest.mark.parametrize(
    ("section", "line", "expected"),
    [
        ("prompts", '  confirm_value: "{value}, c\'est bien ça ? :-}"', "Single '}' encountered"),
        ("prompts", "  confirm_value: C'est bien ça ?", "must say {value}"),
        ("prompts", "  hello: ' '", "the sentence is blank"),
        (
            "callback_call",
            "  greeting: Bonjour {caller}.",
            "unknown placeholder {caller}: this sentence takes",
        ),
        ("callback_call", "  confirm_new_time: Je vous rappelle {moment} au {phone}.", "it may use {moment}"),
        ("callback_call", "  rescheduled: C'est noté. Au revoir.", "must say {moment}"),
        ("callback_refused", "  offer: Je peux vous rappeler plus tard.", "must say {slots}"),
        ("callback_refused", "  full: Complet à {moment}.", "unknown placeholder {moment}"),
    ],
)
def test_a_sentence_that_would_break_or_say_nothing_is_refused_on_its_line(
    tmp_path: Path, section: str, line: str, expected: str
) -> None:
    text = MINIMAL + f"{section}:\n{line}\n"
    message = only_error(write(tmp_path, text))
    assert f"test.yaml:{line_starting(text, line[:8])}:" in message
    assert expected in message
