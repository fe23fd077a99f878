"""The suite format of `callbot test`: what a suite written by hand means, and how a bad one is refused."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callbot.qa.suite import SuiteError, collect, load_suite

PARIS = ZoneInfo("Europe/Paris")
CALLS = Path(__file__).parent / "fixtures" / "calls"

#: The issue's example, verbatim (the recording and flow paths are laid out for it in `suite_dir`).
ISSUE_EXAMPLE = """\
now: 2026-11-23T10:00:00+01:00      # reference time for every call, unless a call sets its own
caller: "+33612345678"              # optional; 'none' for a hidden number
flow: flows/retail.yaml             # optional, default the configured flow
calls:
  - recording: calls/rappel.wav     # mono caller side, or a stereo recording made by callbot serve
    now: 2026-11-23T10:30:00+01:00  # optional
    expect:
      outcome: callback             # transfer | callback | hangup | caller_hangup
      callback_at: 2026-11-24T15:00:00+01:00
      queue: service_client         # for transfer (and callback)
      intents: [rappel, oui]        # the intents recognised, in order (others may come between)
      slots: {numero_commande: "458129"}
      bot_says: ["à 15 h"]          # substrings of what the bot said
      max_response_ms: 1500
"""


#: The start of a suite with one call.
ONE_CALL = "calls:\n  - recording: calls/rappel.wav\n"


@pytest.fixture
def suite_dir(tmp_path: Path) -> Path:
    (tmp_path / "calls").mkdir()
    (tmp_path / "flows").mkdir()
    shutil.copy(CALLS / "rappel_demain_15h.wav", tmp_path / "calls" / "rappel.wav")
    shutil.copy(Path(__file__).parents[1] / "callbot" / "flows" / "retail.yaml", tmp_path / "flows")
    return tmp_path


def write(folder: Path, text: str, name: str = "suite.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path) -> str:
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    return str(caught.value)


def test_the_issue_example_reads_with_paths_relative_to_the_suite(suite_dir: Path) -> None:
    (case,) = load_suite(write(suite_dir, ISSUE_EXAMPLE))
    assert case.recording == suite_dir / "calls" / "rappel.wav"
    assert case.flow == suite_dir / "flows" / "retail.yaml"
    assert case.now == datetime(2026, 11, 23, 10, 30, tzinfo=PARIS)  # the call's own, not the suite's
    assert case.caller == "+33612345678"
    expect = case.expect
    assert expect.outcome == "callback"
    assert expect.callback_at == datetime(2026, 11, 24, 15, 0, tzinfo=PARIS)
    assert expect.queue == "service_client"
    assert expect.intents == ["rappel", "oui"]
    assert expect.slots == {"numero_commande": "458129"}
    assert expect.bot_says == ["à 15 h"]
    assert expect.max_response_ms == 1500
    assert case.line == 5


def test_numbers_and_times_stay_as_written(suite_dir: Path) -> None:
    """YAML 1.1 would read 458129 as an int and 10:00 as 600: slot values are compared as written."""
    text = ONE_CALL + "    expect: {slots: {numero_commande: 0458129, heure: 10:00}}\n"
    (case,) = load_suite(write(suite_dir, text))
    assert case.expect.slots == {"numero_commande": "0458129", "heure": "10:00"}


def test_a_time_without_offset_is_paris_time(suite_dir: Path) -> None:
    (case,) = load_suite(write(suite_dir, "now: 2026-07-01T09:00:00\n" + ONE_CALL))
    assert case.now == datetime(2026, 7, 1, 9, 0, tzinfo=PARIS)
    assert case.now is not None and case.now.utcoffset() is not None


def test_an_unknown_key_is_named_with_its_line_and_the_known_keys(suite_dir: Path) -> None:
    text = ONE_CALL + "    expect:\n      outcome: callback\n      intent: [rappel]\n"
    message = refusal(write(suite_dir, text))
    assert message.startswith(f"{suite_dir / 'suite.yaml'}:5: calls.0.expect.intent: unknown key")
    assert "intents" in message and "bot_says" in message


def test_an_outcome_outside_the_list_is_refused_with_the_choices(suite_dir: Path) -> None:
    text = ONE_CALL + "    expect:\n      outcome: transferred\n"
    message = refusal(write(suite_dir, text))
    assert ":4: calls.0.expect.outcome" in message
    assert "'transfer'" in message and "'transferred'" in message


def test_a_malformed_time_says_how_to_write_one(suite_dir: Path) -> None:
    message = refusal(write(suite_dir, "now: lundi 10h\n" + ONE_CALL))
    assert ":1: now:" in message and "ISO-8601" in message


def test_a_missing_recording_is_named_with_its_line(suite_dir: Path) -> None:
    message = refusal(write(suite_dir, ONE_CALL + "  - recording: calls/nope.wav\n"))
    assert message == f"{suite_dir / 'suite.yaml'}:3: calls/nope.wav: no such recording"


def test_invalid_yaml_names_the_line(suite_dir: Path) -> None:
    message = refusal(write(suite_dir, ONE_CALL + "    expect: {outcome: [\n"))
    assert f"{suite_dir / 'suite.yaml'}:" in message


def test_a_suite_without_calls_is_refused(suite_dir: Path) -> None:
    assert "no calls" in refusal(write(suite_dir, "now: 2026-11-23T10:00:00+01:00\n"))


def test_a_suite_that_is_not_a_mapping_is_refused(suite_dir: Path) -> None:
    assert "expected a mapping" in refusal(write(suite_dir, "- recording: calls/rappel.wav\n"))


def test_a_folder_runs_every_recording_with_its_suite_expectations(suite_dir: Path) -> None:
    calls = suite_dir / "calls"
    shutil.copy(CALLS / "conseiller.wav", calls / "conseiller.wav")
    suite = (
        "now: 2026-11-23T10:00:00+01:00\ncalls:\n  - recording: rappel.wav\n    expect: {outcome: callback}\n"
    )
    write(calls, suite)
    cases = collect([calls])
    assert [c.name for c in cases] == ["rappel", "conseiller"]
    assert cases[0].expect.outcome == "callback"
    assert cases[1].expect.outcome is None  # not listed: replayed, reported, not judged
    assert cases[1].now == datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)  # the folder suite's defaults


def test_a_folder_without_a_suite_runs_its_recordings(suite_dir: Path) -> None:
    cases = collect([suite_dir / "calls"])
    assert [(c.name, c.now, c.caller) for c in cases] == [("rappel", None, None)]


def test_an_empty_folder_and_a_missing_path_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="no recordings"):
        collect([tmp_path])
    with pytest.raises(SuiteError, match="no such suite, folder or recording"):
        collect([tmp_path / "missing.yaml"])


def test_two_recordings_with_one_name_get_distinct_names(suite_dir: Path) -> None:
    other = suite_dir / "other"
    other.mkdir()
    shutil.copy(CALLS / "conseiller.wav", other / "rappel.wav")
    assert [c.name for c in collect([suite_dir / "calls", other])] == ["rappel", "rappel#2"]


def test_every_problem_of_a_suite_is_listed_with_its_line(suite_dir: Path) -> None:
    text = ONE_CALL + "    expect:\n      outcome: transferred\n      intent: [rappel]\n"
    first, second = refusal(write(suite_dir, text)).splitlines()
    assert first.startswith(f"{suite_dir / 'suite.yaml'}:4: calls.0.expect.outcome")
    assert second.startswith(f"{suite_dir / 'suite.yaml'}:5: calls.0.expect.intent: unknown key")


def test_timing_is_turns_unless_the_suite_or_the_call_says_original(suite_dir: Path) -> None:
    text = "timing: original\ncalls:\n  - recording: calls/rappel.wav\n  - recording: calls/rappel.wav\n"
    text += "    timing: turns\n"
    assert [c.timing for c in load_suite(write(suite_dir, text))] == ["original", "turns"]
    assert [c.timing for c in load_suite(write(suite_dir, ONE_CALL))] == ["turns"]
    assert "'turns' or 'original'" in refusal(write(suite_dir, ONE_CALL + "    timing: live\n"))
