"""Messages between a SIP worker process and the process that runs the conversations.

The worker holds pjsua2 and nothing else heavy (a CPU-bound Python thread next to PJSIP starves its media
clock through the GIL), so the conversation side lives in another process. These frozen dataclasses are
what crosses the boundary, pickled over one `multiprocessing.connection` per worker: events flow from the
worker to the handler side, commands flow back. Audio is PCM16 little-endian mono at the call's
`sample_rate` (8000 Hz unless the worker is configured for 16000), cut in 20 ms frames inbound and in
chunks of any length outbound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

_NOT_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._@-]")


def call_file_stem(call_id: str) -> str:
    """A SIP Call-ID made safe as a file name (a hostile Call-ID may hold "/" or ".."): recordings,
    event logs and port names all use it, so a call's files share one name."""
    return _NOT_IN_FILE_NAME.sub("_", call_id)


Direction = Literal["inbound", "outbound"]
DtmfMethod = Literal["rfc4733", "sip-info", "unknown"]

# ---------------------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class WorkerHello:
    """First message of a link: who the worker is and how many calls it can carry."""

    worker_id: str
    pid: int
    max_calls: int
    sample_rate: int
    #: Where its recordings are written: if the worker dies, the host finishes them (host.py).
    recording_dir: str | None = None


@dataclass(frozen=True, slots=True)
class CallStarted:
    """A call is answered (inbound) or was answered (outbound) and its media flows from now on.

    `caller` and `callee` are the user parts of the From and request URIs (the phone numbers when a
    trunk delivers the call); `sip_headers` holds the INVITE's X- headers, P-Asserted-Identity,
    Diversion, User-to-User and Subject; `metadata` is what `Originate` carried, for outbound calls.
    `caller_number` is `caller` as E.164 when it is a valid phone number, None when the caller id is
    hidden or invalid: the conversation trusts (reads back, calls back) only that one.
    """

    call_id: str
    direction: Direction
    caller: str
    callee: str
    remote_uri: str
    local_uri: str
    codec: str
    sample_rate: int
    sip_headers: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    caller_number: str | None = None


@dataclass(frozen=True, slots=True)
class AudioIn:
    """20 ms of caller audio; `start_ms` counts on the call's frame clock from the answer.

    `outbound_ms` is how much bot audio was still queued in the worker, not yet played, when this frame
    arrived: what the caller hears lags what the conversation produced by that much.
    """

    call_id: str
    start_ms: int
    pcm: bytes
    outbound_ms: int = 0


@dataclass(frozen=True, slots=True)
class DtmfIn:
    """One DTMF digit, however it came (RFC 4733 telephone-event or SIP INFO)."""

    call_id: str
    digit: str
    method: DtmfMethod
    at_ms: int


@dataclass(frozen=True, slots=True)
class PlaybackMark:
    """The outbound audio queued with `PlayAudio(mark=...)` has been played out to its last sample."""

    call_id: str
    mark: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class TransferStatus:
    """Progress of a blind transfer (REFER): 100 trying, then a final status once `final` is True.

    `ok` is True only on a final 2xx. When a transfer fails the call stays up with the bot, so the
    conversation can apologise, retry or offer a call-back instead of dropping the caller.
    """

    call_id: str
    status_code: int
    reason: str
    final: bool
    ok: bool


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over. `reason` in words: "remote hangup", "transferred", "handler hangup: …"."""

    call_id: str
    reason: str
    status_code: int
    duration_ms: int
    recording_path: str | None = None


@dataclass(frozen=True, slots=True)
class OriginateResult:
    """Outcome of an `Originate`: answered, or the final SIP status that ended the attempt.

    Codes 503 (worker full or draining) and 400 (target the worker cannot dial) are answered locally
    without sending an INVITE; 408 means nobody answered before the timeout.
    """

    request_id: str
    answered: bool
    status_code: int
    reason: str
    call_id: str | None = None


Event = (
    WorkerHello | CallStarted | AudioIn | DtmfIn | PlaybackMark | TransferStatus | CallEnded | OriginateResult
)

# -------------------------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class PlayAudio:
    """Queue bot audio (PCM16 mono at the call's rate) after what is already queued.

    With a `mark`, a `PlaybackMark` comes back once the last sample of this chunk has been played.
    """

    call_id: str
    pcm: bytes
    mark: str | None = None


@dataclass(frozen=True, slots=True)
class ClearAudio:
    """Drop every queued outbound sample (barge-in); pending marks are dropped too."""

    call_id: str


@dataclass(frozen=True, slots=True)
class Transfer:
    """Blind transfer (REFER) to `target`: a SIP URI, or a name/number for the transfer URI template.

    `headers` are sent on the REFER; `refer_to_headers` are embedded in the Refer-To URI, which the
    transferee copies into the INVITE it sends to the target (RFC 3515, RFC 7433 §4.1). With
    `after_playback`, the REFER leaves once the queued bot audio has been played.
    """

    call_id: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    refer_to_headers: tuple[tuple[str, str], ...] = ()
    after_playback: bool = True


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the call; with `after_playback`, once the queued outbound audio has been played."""

    call_id: str
    reason: str
    after_playback: bool = True


@dataclass(frozen=True, slots=True)
class SendDtmf:
    """Send DTMF digits to the remote party (RFC 4733), e.g. to walk a remote IVR on a call-back."""

    call_id: str
    digits: str


@dataclass(frozen=True, slots=True)
class Originate:
    """Place an outbound call to a SIP URI, or to a number through the configured trunk."""

    request_id: str
    target: str
    caller_id: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    timeout_s: float = 30.0


Command = PlayAudio | ClearAudio | Transfer | Hangup | SendDtmf | Originate
