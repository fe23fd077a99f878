"""The `redact` setting (callbot/privacy.py): numbers masked and words said left out of what is written."""

from __future__ import annotations

import json
from pathlib import Path

from callbot.privacy import REDACTED, mask_number, redact_event
from callbot.session.events import EventLog


def test_a_number_is_masked_but_calls_stay_told_apart() -> None:
    assert mask_number("+33612345678") == "+336******78"
    assert mask_number("sip:0612345678@trunk.example") == "sip:061*****78@trunk.example"
    assert mask_number("anonymous") == "***"
    assert mask_number(None) is None


def test_a_redacted_event_keeps_its_shape_without_words_or_numbers() -> None:
    event = {
        "event": "asr_final",
        "text": "je voudrais être rappelé au 06 12 34 56 78",
        "words": [["je", 0, 100]],
        "confidence": 0.8,
        "context": {"caller": "+33612345678", "transcript": ["Client : oui"]},
    }
    assert redact_event(event) == {
        "event": "asr_final",
        "text": REDACTED,
        "words": [],
        "confidence": 0.8,
        "context": {"caller": "+336******78", "transcript": []},
    }


def test_the_event_log_file_is_redacted_while_the_call_keeps_what_it_heard(tmp_path: Path) -> None:
    path = tmp_path / "call.jsonl"
    log = EventLog("c1", path, redact=True)
    log.emit(100, "asr_final", text="mon numéro est le 06 12 34 56 78")
    log.emit(120, "call_header", caller="+33612345678")
    log.close()
    written = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert written[0]["text"] == REDACTED and written[1]["caller"] == "+336******78"
    assert "12 34" not in path.read_text(encoding="utf-8")
    assert log.events[0]["text"] == "mon numéro est le 06 12 34 56 78"  # the dialog still has it
