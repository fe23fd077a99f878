"""Transfer context as SIP headers, so the human agent who picks up never makes the caller repeat.

A blind transfer is a REFER; the headers below ride on it, and the User-to-User one is also embedded in the
Refer-To URI because that is what a transferee copies into the INVITE it sends to the agent's queue
(RFC 3515 §2.1, RFC 7433 §4.1). Every value is bounded so that the REFER stays under the 1300-byte UDP
limit beyond which PJSIP would switch to TCP, which many trunks do not offer:

- `X-Callbot-Caller`: the caller's number, characters of a dial string only.
- `X-Callbot-Intent`: the recognised intent, URL-encoded, at most 64 characters.
- `X-Callbot-Reason`: why the bot transfers ("asked_for_agent", "error", …), same bounds.
- `X-Callbot-Slots`: compact JSON of the slots, URL-encoded, at most 300 characters; slots that do not
  fit are left out whole (the JSON always parses).
- `X-Callbot-Summary`: one line for the agent, URL-encoded UTF-8, at most 200 characters.
- `User-to-User`: RFC 7433, hex with `;encoding=hex;purpose=callbot`; the data is compact JSON
  `{"c": call id, "i": intent, "n": caller}` within 128 octets (the ISDN interworking limit), keys
  dropped from the end when they do not fit. Only this header is embedded in the Refer-To URI: it
  already carries the call id, intent and caller, and keeps the REFER near 1.5 kB at worst.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from callbot.dialog.actions import CallContext

MAX_INTENT_CHARS = 64
MAX_SLOTS_CHARS = 300
MAX_SUMMARY_CHARS = 200
MAX_CALLER_CHARS = 32
MAX_UUI_OCTETS = 128

Header = tuple[str, str]

_DIAL_STRING = re.compile(r"[^0-9A-Za-z+*#._-]")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TransferContext:
    """What the agent should know; `uui` overrides the default User-to-User data when given."""

    caller: str | None = None
    intent: str | None = None
    slots: Mapping[str, Any] = field(default_factory=dict)
    summary: str | None = None
    reason: str | None = None
    uui: bytes | None = None

    @classmethod
    def from_call_context(cls, context: CallContext, reason: str | None = None) -> TransferContext:
        return cls(
            caller=context.caller,
            intent=context.intent,
            slots=context.slots,
            summary=context.summary,
            reason=reason,
        )


def transfer_headers(context: TransferContext, call_id: str) -> tuple[tuple[Header, ...], tuple[Header, ...]]:
    """(headers for the REFER, headers to embed in the Refer-To URI) for one transfer."""
    headers: list[Header] = []
    caller = _DIAL_STRING.sub("", context.caller or "")[:MAX_CALLER_CHARS]
    intent = _bounded_quote(context.intent or "", MAX_INTENT_CHARS)
    if caller:
        headers.append(("X-Callbot-Caller", caller))
    if intent:
        headers.append(("X-Callbot-Intent", intent))
    reason = _bounded_quote(context.reason or "", MAX_INTENT_CHARS)
    if reason:
        headers.append(("X-Callbot-Reason", reason))
    slots = encode_slots(context.slots)
    if slots:
        headers.append(("X-Callbot-Slots", slots))
    summary = _bounded_quote(_WHITESPACE.sub(" ", context.summary or "").strip(), MAX_SUMMARY_CHARS)
    if summary:
        headers.append(("X-Callbot-Summary", summary))
    uui_data = context.uui if context.uui is not None else default_uui(call_id, context.intent, caller)
    uui = user_to_user(uui_data)
    headers.append(("User-to-User", uui))
    embedded = (("User-to-User", uui),)
    return tuple(headers), embedded


def encode_slots(slots: Mapping[str, Any], limit: int = MAX_SLOTS_CHARS) -> str:
    """URL-encoded compact JSON of as many slots as fit in `limit` characters, in their given order."""
    kept: dict[str, Any] = {}
    encoded = ""
    for key, value in slots.items():
        candidate = {**kept, str(key): value}
        text = quote(_compact_json(candidate), safe="")
        if len(text) <= limit:
            kept, encoded = candidate, text
    return encoded


def default_uui(call_id: str, intent: str | None, caller: str | None) -> bytes:
    """Compact JSON with the call id first (the key to everything else), then intent and caller."""
    kept: dict[str, str] = {}
    data = b""
    for key, value in (("c", call_id), ("i", intent), ("n", caller)):
        if not value:
            continue
        candidate = {**kept, key: value}
        encoded = _compact_json(candidate).encode()
        if len(encoded) <= MAX_UUI_OCTETS:
            kept, data = candidate, encoded
    return data


def user_to_user(data: bytes) -> str:
    """RFC 7433 header value: hex-encoded data, at most MAX_UUI_OCTETS octets of it."""
    return f"{data[:MAX_UUI_OCTETS].hex()};encoding=hex;purpose=callbot"


def decode_user_to_user(value: str) -> bytes:
    """The data of a `User-to-User` value written by `user_to_user` (for the receiving side and tests)."""
    data, _, params = value.partition(";")
    if "encoding=hex" not in params.replace(" ", "").lower():
        raise ValueError(f"User-to-User value is not hex-encoded: {value!r}")
    return bytes.fromhex(data.strip())


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _bounded_quote(text: str, limit: int) -> str:
    """URL-encode `text`, cutting whole characters so that the encoding fits in `limit`."""
    encoded = quote(text, safe="")
    if len(encoded) <= limit:
        return encoded
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(quote(text[:middle], safe="")) <= limit:
            low = middle
        else:
            high = middle - 1
    return quote(text[:low], safe="")
