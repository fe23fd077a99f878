"""Just enough SIP text parsing to read an incoming INVITE: request URI, caller, selected headers.

pjsua2 hands the application the raw message (`SipRxData.wholeMsg`) rather than parsed headers, and
PJSIP has already validated it, so a line-based reader is enough here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

import phonenumbers

# RFC 3261 §7.3.3 compact forms of the headers we read.
_COMPACT = {"f": "from", "t": "to", "i": "call-id", "m": "contact", "s": "subject"}
_URI_IN_ANGLES = re.compile(r"<([^>]*)>")
_PASSED_ON = ("p-asserted-identity", "diversion", "user-to-user", "subject", "history-info")
_HEADER_LINE = re.compile(r"^([!-9;-~]+)\s*:\s*(.*)$")


@dataclass(frozen=True)
class SipRequest:
    method: str
    uri: str
    headers: dict[str, list[str]] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def parse_request(text: str) -> SipRequest:
    """Request line and headers (names lower-cased, compact forms expanded, folded lines joined)."""
    head = text.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
    lines = head.replace("\r\n", "\n").split("\n")
    parts = lines[0].split(" ") if lines else []
    method, uri = (parts[0], parts[1]) if len(parts) >= 3 else ("", "")
    headers: dict[str, list[str]] = {}
    last: str | None = None
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and last is not None:
            headers[last][-1] += " " + line.strip()
            continue
        match = _HEADER_LINE.match(line)
        if not match:
            continue
        name = match.group(1).lower()
        name = _COMPACT.get(name, name)
        headers.setdefault(name, []).append(match.group(2).strip())
        last = name
    return SipRequest(method, uri, headers)


def uri_of(name_addr: str) -> str:
    """`"Alice" <sip:alice@host>;tag=x` → `sip:alice@host`; a bare addr-spec loses its header params."""
    match = _URI_IN_ANGLES.search(name_addr)
    if match:
        return match.group(1).strip()
    return name_addr.split(";", 1)[0].strip()


def uri_user(uri: str) -> str:
    """User part of a SIP/tel URI, unescaped: `sip:+33612345678@host;user=phone` → `+33612345678`.

    The user part is the peer's to write: only the characters RFC 3261 allows in it unescaped come out
    unescaped; anything else (a CR LF, "<", a space) stays %-escaped, so that caller-controlled text can
    never forge a log line, an event, a header or a stored record downstream.
    """
    uri = uri_of(uri)
    scheme, _, rest = uri.partition(":")
    if scheme.lower() == "tel":
        return _user_text(rest.split(";", 1)[0])
    if "@" not in rest:
        return ""
    return _user_text(rest.split("@", 1)[0].split(";", 1)[0])


# RFC 3261 §25.1: unreserved and user-unreserved characters, safe to show as they are.
_USER_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()&=+$,;?/")


def _user_text(escaped: str) -> str:
    return "".join(char if char in _USER_SAFE else quote(char, safe="") for char in unquote(escaped))


def passed_on_headers(request: SipRequest) -> dict[str, str]:
    """The headers a conversation may use: every X- header and a few standard ones (first value each).

    A header value cannot hold a line break once parsed, but it can hold other control characters (an
    ESC that recolours a terminal, a NUL): those stay %-escaped, like the caller id."""
    selected: dict[str, str] = {}
    for name, values in request.headers.items():
        if name.startswith("x-") or name in _PASSED_ON:
            selected[_canonical(name)] = _CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", values[0])
    return selected


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What a caller id that is a phone number looks like: digits, a leading +, visual separators only.
_PHONE_LIKE = re.compile(r"\+?[0-9][0-9().-]{2,24}")


def caller_number(caller: str, region: str = "FR") -> str | None:
    """The caller id as E.164 (`+33612345678`) when it is a valid phone number, else None: hidden
    ("anonymous"), a SIP user name, or anything else a peer wrote there is not a number to trust or
    call back. `region` reads national numbers (`0145678900`)."""
    if not _PHONE_LIKE.fullmatch(caller):
        return None
    try:
        number = phonenumbers.parse(caller, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _canonical(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-")).replace("-To-", "-to-")
