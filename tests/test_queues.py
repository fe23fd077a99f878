"""Queues file, opening hours (Paris clock, French public holidays, exceptions) and queue status."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callbot.queues import (
    QueueConfigError,
    QueueDirectory,
    StaticLoad,
    UnknownQueue,
    parse_time_range,
)
from callbot.queues.load import LoadUnavailable, QueueLoad

PARIS = ZoneInfo("Europe/Paris")

QUEUES_YAML = """\
queues:
  service_client:
    sip_uri: sip:service-client@pbx.example.fr
    hours:
      lundi-vendredi: ["09:00-12:30", "14:00-18:00"]
      samedi: ["9h-12h"]
      dimanche: fermé
    holidays: FR
    exceptions:
      "2026-12-24": ["09:00-12:00"]
      "2026-12-26": closed
      "2026-11-11": ["10:00-16:00"]
    max_wait_s: 300
    load:
      static: {agents_available: 2, calls_waiting: 1, avg_handle_s: 240}
  reclamations:
    sip_uri: sip:reclamations@pbx.example.fr
    hours:
      monday: ["08:30-17:00"]
      Friday: ["08:30-12:00"]
    holidays: none
"""


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.fixture
def queues(tmp_path: Path) -> QueueDirectory:
    path = tmp_path / "queues.yaml"
    path.write_text(QUEUES_YAML, encoding="utf-8")
    return QueueDirectory.from_yaml(path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "queues.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------ hours


def test_open_within_weekday_hours_and_closed_at_lunch_and_in_the_evening(queues: QueueDirectory) -> None:
    queue = queues["service_client"]
    assert queue.is_open_at(paris("2026-11-23 09:00"))  # Monday, opening minute
    assert queue.is_open_at(paris("2026-11-23 12:29"))
    assert not queue.is_open_at(paris("2026-11-23 12:30"))  # the end of a range is closed
    assert not queue.is_open_at(paris("2026-11-23 13:00"))
    assert queue.is_open_at(paris("2026-11-23 17:59"))
    assert not queue.is_open_at(paris("2026-11-23 18:00"))
    assert not queue.is_open_at(paris("2026-11-22 10:00"))  # Sunday
    assert queue.is_open_at(paris("2026-11-28 11:00"))  # Saturday, "9h-12h"
    assert not queue.is_open_at(paris("2026-11-28 12:00"))


def test_closed_on_christmas_day_with_the_french_holiday_name_and_next_opening(
    queues: QueueDirectory,
) -> None:
    queue = queues["service_client"]
    status = queue.status(paris("2026-12-25 10:00"))  # a Friday, Noël
    assert not status.open and not status.takes_calls
    assert "Noël" in status.reason
    # 26 December is closed by an exception, 27 is a Sunday: Monday 28 at 9:00.
    assert status.next_opening == paris("2026-12-28 09:00")


def test_outside_hours_status_gives_the_afternoon_opening(queues: QueueDirectory) -> None:
    status = queues["service_client"].status(paris("2026-11-23 12:45"))
    assert not status.open
    assert status.reason == "closed: outside opening hours"
    assert status.next_opening == paris("2026-11-23 14:00")
    assert status.estimated_wait_s is None


def test_exception_sets_short_hours_on_christmas_eve(queues: QueueDirectory) -> None:
    queue = queues["service_client"]
    assert queue.is_open_at(paris("2026-12-24 11:59"))
    status = queue.status(paris("2026-12-24 15:00"))  # a Thursday: normally open
    assert not status.open
    assert "2026-12-24" in status.reason and "09:00-12:00" in status.reason


def test_exception_opens_a_public_holiday(queues: QueueDirectory) -> None:
    queue = queues["service_client"]
    assert queue.is_open_at(paris("2026-11-11 10:30"))  # Armistice, opened by an exception
    assert not queue.is_open_at(paris("2026-11-11 09:30"))


def test_holidays_none_keeps_the_queue_open_on_public_holidays(queues: QueueDirectory) -> None:
    queue = queues["reclamations"]
    assert queue.is_open_at(paris("2026-12-25 10:00"))  # Friday, no holiday table
    assert queue.is_open_at(paris("2026-05-01 11:00"))
    assert not queue.is_open_at(paris("2026-05-01 12:00"))


def test_next_openings_skip_holidays_and_merge_back_to_back_ranges(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n"
        '      lundi-vendredi: ["09:00-12:00", "12:00-17:00"]\n',
    )
    queue = QueueDirectory.from_yaml(path)["q"]
    # Thursday 24 December evening → 25 is Noël → Monday 28 (12:00 is not a new opening).
    openings = queue.next_openings(paris("2026-12-24 18:00"), 3)
    assert openings == [paris("2026-12-28 09:00"), paris("2026-12-29 09:00"), paris("2026-12-30 09:00")]


def test_hours_follow_the_wall_clock_across_daylight_saving(queues: QueueDirectory) -> None:
    queue = queues["service_client"]
    # Sunday 29 March 2026 clocks go forward: Monday opens at 09:00 Paris = 07:00 UTC (was 08:00 UTC).
    opening = queue.next_opening(paris("2026-03-28 13:00"))
    assert opening == paris("2026-03-30 09:00")
    assert opening is not None and opening.astimezone(UTC).hour == 7
    assert queue.is_open_at(datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    assert not queue.is_open_at(datetime(2026, 3, 27, 7, 30, tzinfo=UTC))  # 08:30 Paris, winter time


def test_naive_datetimes_are_read_as_paris_time(queues: QueueDirectory) -> None:
    queue = queues["service_client"]
    assert queue.is_open_at(datetime(2026, 11, 23, 9, 30))
    assert queue.is_open_at(datetime(2026, 11, 23, 8, 30, tzinfo=UTC))  # 09:30 in Paris


def test_a_queue_closed_for_ever_has_no_next_opening(tmp_path: Path) -> None:
    path = write(tmp_path, "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n      lundi: closed\n")
    status = QueueDirectory.from_yaml(path)["q"].status(paris("2026-11-23 10:00"))
    assert not status.open and status.next_opening is None


# ------------------------------------------------------------------------------------------ load


def test_status_reports_estimated_wait_and_saturation() -> None:
    data = {
        "queues": {
            "q": {
                "sip_uri": "sip:q@pbx",
                "hours": {"lundi": ["09:00-18:00"]},
                "max_wait_s": 300,
                "load": {"static": {"agents_available": 2, "calls_waiting": 1, "avg_handle_s": 240}},
            },
        }
    }
    queue = QueueDirectory.from_mapping(data)["q"]
    status = queue.status(paris("2026-11-23 10:00"))
    assert status.open and not status.saturated and status.takes_calls
    assert status.estimated_wait_s == 120.0  # 1 waiting × 240 s / 2 agents

    busy = queue.__class__(queue.name, queue.sip_uri, queue.hours, 300, StaticLoad(2, 5, 240))
    saturated = busy.status(paris("2026-11-23 10:00"))
    assert saturated.open and saturated.saturated and not saturated.takes_calls
    assert saturated.estimated_wait_s == 600.0
    assert "saturated" in saturated.reason


def test_no_agent_counts_as_one_in_the_wait_estimate() -> None:
    assert QueueLoad(agents_available=0, calls_waiting=3, avg_handle_s=100).estimated_wait_s == 300.0


def test_unknown_load_is_treated_as_open_and_logged(
    queues: QueueDirectory, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def current(self) -> QueueLoad:
            raise LoadUnavailable("acd.local did not answer within 300 ms")

    queue = queues["service_client"]
    unsure = queue.__class__(queue.name, queue.sip_uri, queue.hours, 300, Broken())
    with caplog.at_level(logging.WARNING, logger="callbot.queues"):
        status = unsure.status(paris("2026-11-23 10:00"))
    assert status.open and not status.saturated and status.estimated_wait_s is None
    assert "load unknown" in status.reason
    assert "acd.local did not answer" in caplog.text


def test_a_closed_queue_does_not_ask_the_load_source(queues: QueueDirectory) -> None:
    class MustNotBeCalled:
        def current(self) -> QueueLoad:
            raise AssertionError("load asked while closed")

    queue = queues["service_client"]
    closed = queue.__class__(queue.name, queue.sip_uri, queue.hours, 300, MustNotBeCalled())
    assert not closed.status(paris("2026-11-22 10:00")).open


# ------------------------------------------------------------------------------------------ config errors


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        (
            "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n      lundii: ['09:00-12:00']\n",
            5,
            "queues.q.hours.lundii: 'lundii' is not a weekday — did you mean 'lundi'?",
        ),
        (
            "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n"
            "      lundi: ['09:00-12:00', '25:00-26:00']\n",
            5,
            "queues.q.hours.lundi.1: '25:00-26:00' has an impossible time",
        ),
        (
            "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n      lundi:\n        - 09:00-12:00\n"
            "        - 11:00-14:00\n",
            5,
            "overlap — merge them into one range",
        ),
        (
            "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n      mardi: ['18:00-09:00']\n",
            5,
            "ends before it starts",
        ),
        (
            "queues:\n  q:\n    sip_uri: q@pbx\n    hours:\n      lundi: ['09:00-12:00']\n",
            3,
            "queues.q.sip_uri: 'q@pbx' is not a SIP URI — write it like sip:",
        ),
        (
            "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n      lundi: ['09:00-12:00']\n"
            "    max_wait: 30\n",
            6,
            "queues.q.max_wait: unknown field 'max_wait' — did you mean 'max_wait_s'?",
        ),
        (
            "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n      lundi: ['09:00-12:00']\n"
            "    holidays: XX\n",
            6,
            "no public-holiday table for 'XX'",
        ),
        (
            "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n      lundi: ['09:00-12:00']\n"
            "    exceptions:\n      '24/12/2026': closed\n",
            7,
            "'24/12/2026' is not a date — write the date as \"2026-12-24\"",
        ),
        (
            "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n      lundi: ['09:00-12:00']\n"
            "    load:\n      static: {agents_available: 2}\n      http: {url: 'http://acd/q'}\n",
            6,
            "queues.q.load: give exactly one of 'static' or 'http'",
        ),
        (
            "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n      lundi: ['09:00-12:00']\n"
            "    load:\n      http: {url: 'http://acd/q', timeout_ms: beaucoup}\n",
            7,
            "queues.q.load.http.timeout_ms:",
        ),
        (
            "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n      lundi-vendredi: ['09:00-12:00']\n"
            "      mardi: ['14:00-15:00']\n",
            6,
            "'mardi' gives hours for a day already given above",
        ),
        ("queues:\n  q:\n    sip_uri: sip:q@pbx\n", 2, "queues.q.hours: 'hours' is missing — add it"),
        ("queues:\n  q:\n    sip_uri: 'sip:q@pbx\n", 3, "YAML syntax error"),
        ("horaires: {}\n", 1, "no 'queues:' section"),
    ],
)
def test_config_errors_name_the_file_line_and_fix(
    tmp_path: Path, text: str, line: int, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(QueueConfigError) as caught:
        QueueDirectory.from_yaml(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert expected in message
    assert "\n" not in message


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(QueueConfigError, match=r"queues\.yaml: cannot read the file"):
        QueueDirectory.from_yaml(tmp_path / "queues.yaml")


def test_unknown_queue_names_the_close_match(queues: QueueDirectory) -> None:
    with pytest.raises(UnknownQueue) as caught:
        queues["service_clients"]
    assert str(caught.value) == (
        "unknown queue 'service_clients' — did you mean 'service_client'? "
        "known queues: service_client, reclamations"
    )


def test_alsace_moselle_adds_boxing_day(tmp_path: Path) -> None:
    base = "queues:\n  q:\n    sip_uri: sip:q@pbx\n    hours:\n      lundi-samedi: ['09:00-12:00']\n"
    national = QueueDirectory.from_yaml(write(tmp_path, base + "    holidays: FR\n"))["q"]
    assert national.is_open_at(paris("2026-12-26 10:00"))  # Saturday 26 December
    alsace = QueueDirectory.from_yaml(write(tmp_path, base + "    holidays: FR-57\n"))["q"]
    assert not alsace.is_open_at(paris("2026-12-26 10:00"))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [("09:00-12:30", 540, 750), ("9h-12h30", 540, 750), ("14:00-24:00", 840, 1440), (" 8h - 9h ", 480, 540)],
)
def test_time_ranges_accept_french_writing(text: str, start: int, end: int) -> None:
    span = parse_time_range(text)
    assert (span.start, span.end) == (start, end)


def test_weekday_spans_cover_each_day(queues: QueueDirectory) -> None:
    weekly = queues["service_client"].hours.weekly
    assert [len(day) for day in weekly] == [2, 2, 2, 2, 2, 1, 0]
    assert queues["service_client"].hours.ranges_on(date(2026, 12, 26)) == ()


# ------------------------------------------------------------------------ what the caller hears


BUSY_QUEUES_YAML = """\
queues:
  service_client:
    sip_uri: sip:service-client@pbx.example.fr
    hours:
      lundi-vendredi: ["09:00-18:00"]
    holidays: FR
    max_wait_s: 300
    load:
      static: {agents_available: 1, calls_waiting: 2, avg_handle_s: 240}
  reclamations:
    sip_uri: sip:reclamations@pbx.example.fr
    hours:
      lundi-vendredi: ["09:00-18:00"]
    max_wait_s: 300
    load:
      static: {agents_available: 4, calls_waiting: 1, avg_handle_s: 240}
"""


def test_the_caller_hears_when_a_closed_queue_opens_again(queues: QueueDirectory) -> None:
    now = paris("2026-11-23 19:00")  # Monday evening
    status = queues.status("service_client", now)
    assert (
        status.why_not_fr(now)
        == "Nos conseillers sont absents pour le moment ; ils seront là demain, mardi 24 novembre, à 9 h."
    )


def test_the_caller_hears_the_estimated_wait_of_a_saturated_queue(tmp_path: Path) -> None:
    busy = QueueDirectory.from_yaml(write(tmp_path, BUSY_QUEUES_YAML))
    now = paris("2026-11-23 10:00")
    status = busy.status("service_client", now)  # 2 waiting × 240 s / 1 agent = 8 minutes
    assert status.open and status.saturated
    assert status.why_not_fr(now) == "Nos conseillers sont tous occupés ; l'attente est d'environ 8 minutes."


class _NoRecognizerEngine:
    """The stack's queue check never listens: no recogniser model is loaded for these tests."""

    name = "none"
    description = "no recogniser (queue checks only)"

    def new_recognizer(self) -> None:
        raise AssertionError("the queue check must not need a recogniser")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The real speech stack (flow, Pico prompts) over the busy queues file."""
    from callbot.config import Settings
    from callbot.session.stack import SpeechStack
    from callbot.tts import PicoSynthesizer

    path = tmp_path_factory.mktemp("queues") / "queues.yaml"
    path.write_text(BUSY_QUEUES_YAML, encoding="utf-8")
    return SpeechStack(Settings(queues=path), engine=_NoRecognizerEngine(), synthesizer=PicoSynthesizer())


def test_the_stack_lets_the_caller_wait_for_an_open_but_saturated_queue(stack) -> None:
    from callbot.dialog import QueueUnavailable

    unavailable = stack.queue_check("service_client", paris("2026-11-23 10:00"))
    assert unavailable == QueueUnavailable(
        "Nos conseillers sont tous occupés ; l'attente est d'environ 8 minutes.", can_wait=True
    )


def test_the_stack_never_lets_the_caller_wait_for_a_closed_queue(stack) -> None:
    unavailable = stack.queue_check("service_client", paris("2026-12-25 10:00"))  # Christmas Day
    assert unavailable is not None and not unavailable.can_wait
    assert unavailable.message == (
        "Nos conseillers sont absents pour le moment ; ils seront là lundi 28 décembre à 9 h."
    )


def test_the_stack_transfers_to_a_queue_that_takes_calls_or_is_not_configured(stack) -> None:
    now = paris("2026-11-23 10:00")
    assert stack.queue_check("reclamations", now) is None  # 1 waiting × 240 s / 4 agents: 1 minute
    assert stack.queue_check("a_queue_not_in_the_file", now) is None


def test_a_saturated_queue_through_the_stack_lets_the_caller_choose_to_wait(stack) -> None:
    from callbot.dialog import Conversation

    conversation = Conversation(
        stack.flow,
        now=lambda: paris("2026-11-23 10:00"),
        caller="+33612345678",
        queue_check=stack.queue_check,
    )
    conversation.start()
    offer = conversation.hear("je veux parler à un conseiller")
    assert "8 minutes" in " ".join(getattr(action, "text", "") for action in offer.actions)
    result = conversation.hear("je préfère attendre")
    transfers = [action for action in result.actions if type(action).__name__ == "Transfer"]
    assert [(t.queue, t.reason) for t in transfers] == [("service_client", "caller_chose_to_wait")]


def test_ops_reword_why_a_queue_cannot_take_the_call_in_the_flow(tmp_path: Path) -> None:
    from callbot.config import Settings
    from callbot.dialog import default_flow_path
    from callbot.session.stack import SpeechStack
    from callbot.tts import PicoSynthesizer

    flow = tmp_path / "flow.yaml"
    flow.write_text(
        default_flow_path().read_text(encoding="utf-8")
        + "\nprompts:\n  queue_busy_wait: Comptez environ {minutes} minutes d'attente.\n"
        + "  queue_closed_until: Le service rouvre {moment}.\n",
        encoding="utf-8",
    )
    (tmp_path / "retail-data.yaml").write_text(
        (default_flow_path().parent / "retail-data.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    queues = write(tmp_path, BUSY_QUEUES_YAML)
    stack = SpeechStack(
        Settings(queues=queues, flow=flow), engine=_NoRecognizerEngine(), synthesizer=PicoSynthesizer()
    )
    busy = stack.queue_check("service_client", paris("2026-11-23 10:00"))
    assert busy is not None and busy.message == "Comptez environ 8 minutes d'attente."
    closed = stack.queue_check("service_client", paris("2026-12-25 10:00"))
    assert closed is not None and closed.message == "Le service rouvre lundi 28 décembre à 9 h."
