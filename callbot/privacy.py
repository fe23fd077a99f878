"""Personal data out of logs when the `redact` setting asks for it.

A contact centre may keep call recordings, transcripts and numbers (its records, under a retention
period) and still want none of them in log files that travel (support tickets, log shippers). With
`redact: true`, callers' numbers are masked in the gateway's log lines and event-log files, and what
callers and the bot said is left out of event-log files and call records; the call itself is unchanged
(the dialog, the transfer context the agent receives, the recording if `record_calls` is on).
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"
#: Event fields that hold what was said or keyed (transcripts, prompts, digits, N-best readings).
SPOKEN_FIELDS = frozenset(
    {
        "text",
        "words",
        "transcript",
        "first",
        "said",
        "heard",
        "bot",
        "digits",
        "keys",
        "reading",
        "prompt",
        "last_said",
        "last_bot",
    }
)
#: Event fields that hold a phone number or a SIP user part.
NUMBER_FIELDS = frozenset({"caller", "callee", "phone", "number", "called"})
_DIGITS = re.compile(r"\+?\d[\d .-]{5,}\d")


def mask_number(value: str | None) -> str | None:
    """'+33612345678' → '+336******78': enough to tell calls apart, not to call anyone."""
    if not value:
        return value
    return _DIGITS.sub(lambda found: _mask(found.group(0)), value) if _DIGITS.search(value) else "***"


def _mask(number: str) -> str:
    digits = [index for index, char in enumerate(number) if char.isdigit()]
    keep = set(digits[:3] + digits[-2:])
    return "".join(char if not char.isdigit() or index in keep else "*" for index, char in enumerate(number))


def redact_event(record: dict[str, Any]) -> dict[str, Any]:
    """An event as written to a file under `redact`: spoken words out, numbers masked (nested too)."""
    return {key: _redact_field(key, value) for key, value in record.items()}


def _redact_field(key: str, value: Any) -> Any:
    if key in SPOKEN_FIELDS and value not in (None, "", [], {}):
        return [] if isinstance(value, list) else REDACTED  # a list stays a list (readers iterate it)
    if key in NUMBER_FIELDS and isinstance(value, str):
        return mask_number(value)
    if isinstance(value, dict):
        return redact_event(value)
    if isinstance(value, list):
        return [_redact_field(key, item) for item in value]
    return value
