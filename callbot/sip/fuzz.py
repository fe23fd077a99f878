"""Malformed SIP datagrams for a bounded fuzz of the gateway: what a hostile or broken peer sends.

Each category is a way a peer has broken (or could break) a SIP stack: bytes that are not SIP, INVITEs
cut anywhere, start lines and headers out of the grammar, lengths that lie, SDPs PJSIP would pay for
(many media lines, impossible ports, CR-only lines), messages larger than PJSIP reads, in-dialog
requests and responses for dialogs that do not exist, caller ids carrying line breaks. The generator is
seeded: a failing run can be replayed datagram for datagram.

    python -m callbot.sip.fuzz 127.0.0.1:5060 --count 1000     # sends them, prints the answers
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from collections import Counter
from collections.abc import Callable

from callbot.sip.testing import send_datagrams

Target = tuple[str, int]
_METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "REFER", "NOTIFY", "INFO", "PRACK")


def _sdp(rng: random.Random, media_lines: int = 1, line_end: str = "\r\n", port: int = 40000) -> str:
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"]
    for index in range(media_lines):
        lines += [f"m=audio {port + 2 * index} RTP/AVP 8 0 101", "a=rtpmap:8 PCMA/8000"]
    return line_end.join(lines) + line_end


def _request(
    target: Target,
    reply_port: int,
    *,
    method: str = "INVITE",
    user: str = "caller",
    body: str = "",
    to_tag: str | None = None,
    extra: str = "",
    content_length: int | str | None = None,
) -> str:
    branch = uuid.uuid4().hex[:12]
    host, port = target
    length = len(body.encode()) if content_length is None else content_length
    content_type = "Content-Type: application/sdp\r\n" if body else ""
    return (
        f"{method} sip:bot@{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{reply_port};branch=z9hG4bK{branch}\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:{user}@127.0.0.1:{reply_port}>;tag={branch[:6]}\r\n"
        f"To: <sip:bot@{host}:{port}>{';tag=' + to_tag if to_tag else ''}\r\n"
        f"Call-ID: fuzz-{branch}@127.0.0.1\r\nCSeq: 1 {method}\r\n"
        f"Contact: <sip:{user}@127.0.0.1:{reply_port}>\r\n{extra}{content_type}"
        f"Content-Length: {length}\r\n\r\n{body}"
    )


def _random_bytes(rng: random.Random, target: Target, reply_port: int) -> bytes:
    return rng.randbytes(rng.randint(1, 1400))


def _truncated(rng: random.Random, target: Target, reply_port: int) -> bytes:
    whole = _request(target, reply_port, body=_sdp(rng)).encode()
    return whole[: rng.randint(1, len(whole) - 1)]


def _bad_start_line(rng: random.Random, target: Target, reply_port: int) -> bytes:
    lines = _request(target, reply_port, method=rng.choice(_METHODS)).split("\r\n")
    lines[0] = rng.choice(
        [
            f"INVITE sip:bot@{target[0]} SIP/3.0",
            "INVITE",
            f"INV\x00ITE sip:bot@{target[0]} SIP/2.0",
            f"INVITE <sip:bot@{target[0]}> SIP/2.0",
            "SIP/2.0 999999 Whatever",
            f"{'A' * rng.randint(100, 1000)} sip:x SIP/2.0",
            f"INVITE sip:{'%' * 50}@{target[0]} SIP/2.0",
        ]
    )
    return "\r\n".join(lines).encode()


def _broken_header(rng: random.Random, target: Target, reply_port: int) -> bytes:
    lines = _request(target, reply_port, body=_sdp(rng)).split("\r\n")
    headers = range(1, lines.index(""))
    index = rng.choice(list(headers))
    name = lines[index].split(":", 1)[0]
    lines[index] = rng.choice(
        [
            "",  # a mandatory header gone (the empty line ends the headers early)
            f"{name}:",
            f"{name}: {rng.randbytes(40).decode('latin-1')}",
            f"{name}: {'x' * rng.randint(200, 2000)}",
            "CSeq: notanumber INVITE",
            "CSeq: 99999999999999999999 INVITE",
            "Via: SIP/2.0/UDP",
            "From: <sip:@>",
            "Max-Forwards: -1",
        ]
    )
    return "\r\n".join(lines).encode()


def _lying_length(rng: random.Random, target: Target, reply_port: int) -> bytes:
    body = _sdp(rng)
    lengths: list[int | str] = [0, 1, len(body) - 10, len(body) + 500, 99999, -5, "abc"]
    length = rng.choice(lengths)
    return _request(target, reply_port, body=body, content_length=length).encode()


def _costly_sdp(rng: random.Random, target: Target, reply_port: int) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        body = _sdp(rng, media_lines=rng.randint(5, 60))
    elif kind == 1:
        body = _sdp(rng, media_lines=rng.randint(5, 40), line_end=rng.choice(["\n", "\r"]))
    elif kind == 2:
        body = _sdp(rng, port=rng.choice([0, 65535, 99999]))
    else:
        body = _sdp(rng).replace("c=IN IP4 127.0.0.1", rng.choice(["c=IN", "c=IN IP6 ::g", "c=" + "1" * 300]))
    return _request(target, reply_port, body=body).encode()


def _oversize(rng: random.Random, target: Target, reply_port: int) -> bytes:
    padding = f"X-Padding: {'p' * rng.randint(4000, 9000)}\r\n"
    return _request(target, reply_port, body=_sdp(rng), extra=padding).encode()


def _no_dialog(rng: random.Random, target: Target, reply_port: int) -> bytes:
    if rng.random() < 0.3:
        code = rng.choice([100, 180, 200, 481, 487, 500])
        return (
            f"SIP/2.0 {code} Fuzz\r\n"
            f"Via: SIP/2.0/UDP {target[0]}:{target[1]};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
            f"From: <sip:bot@x>;tag=a\r\nTo: <sip:c@y>;tag=b\r\nCall-ID: {uuid.uuid4().hex}\r\n"
            f"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        ).encode()
    method = rng.choice(["ACK", "BYE", "CANCEL", "REFER", "NOTIFY", "INFO", "PRACK", "UPDATE"])
    body = _sdp(rng, media_lines=rng.choice([1, 30])) if method in ("ACK", "UPDATE") else ""
    return _request(target, reply_port, method=method, to_tag=uuid.uuid4().hex[:8], body=body).encode()


def _injected_caller(rng: random.Random, target: Target, reply_port: int) -> bytes:
    user = rng.choice(
        [
            "%2B33612345678%0D%0A2026-01-01 00:00:00 callbot INFO forged",
            "%0A%0A%0A",
            "%00%1B%5B31m",
            "<script>",
        ]
    )
    # Without an SDP body and with a bad Contact: refused before a call slot is taken where possible.
    return _request(
        target, reply_port, user=user, method=rng.choice(["OPTIONS", "REGISTER", "INFO"])
    ).encode()


CATEGORIES: dict[str, Callable[[random.Random, Target, int], bytes]] = {
    "random_bytes": _random_bytes,
    "truncated": _truncated,
    "bad_start_line": _bad_start_line,
    "broken_header": _broken_header,
    "lying_length": _lying_length,
    "costly_sdp": _costly_sdp,
    "oversize": _oversize,
    "no_dialog": _no_dialog,
    "injected_caller": _injected_caller,
}


def malformed_datagrams(
    target: Target, reply_port: int, count: int, seed: int = 11
) -> list[tuple[str, bytes]]:
    """`count` datagrams, the categories in turn, each built by the seeded generator."""
    rng = random.Random(seed)
    names = list(CATEGORIES)
    return [
        (names[i % len(names)], CATEGORIES[names[i % len(names)]](rng, target, reply_port))
        for i in range(count)
    ]


def fuzz(target: Target, count: int, seed: int = 11, gap_s: float = 0.002) -> dict[str, object]:
    """Send the datagrams from one port; the figures: sent by category, answers by status code."""
    sent: Counter[str] = Counter()

    def build(reply_port: int) -> list[bytes]:
        batch = malformed_datagrams(target, reply_port, count, seed)
        sent.update(name for name, _ in batch)
        return [data for _, data in batch]

    codes = send_datagrams(target, build, gap_s=gap_s, listen_s=3.0)
    return {
        "sent": sum(sent.values()),
        "by_category": dict(sent),
        "answers": dict(sorted(Counter(codes).items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callbot.sip.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("target", help="ADDRESS:PORT of the SIP front (or a worker)")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    print(json.dumps(fuzz((host, int(port)), args.count, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
