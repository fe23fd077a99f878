"""A real SIP worker process on 127.0.0.1, called by SIPp: media, DTMF, transfer, limits, robustness."""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pytest

from callbot.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from callbot.audio.wav import read_wav
from callbot.sip.context import decode_user_to_user
from callbot.sip.demo import PROMPTS, DemoFactory, DemoHandler
from callbot.sip.host import HandlerHost
from callbot.sip.rtp_pcap import write_rtp_pcap
from callbot.sip.testing import (
    SippRun,
    WorkerHandle,
    finish_sipp,
    free_port,
    free_port_block,
    prepare_sipp_dir,
    run_sipp,
    short_socket_path,
    sipp_args,
    sipp_media_ports,
    sipp_process,
    stop_process,
    worker_process,
)

pytestmark = pytest.mark.slow

TRANSFER_TARGET = "sip:agents@127.0.0.1:5099"
PCMA = {"codec_pt": "8", "codec_name": "PCMA/8000"}
G722 = {"codec_pt": "9", "codec_name": "G722/8000"}
CALLER_PROMPT = PROMPTS / "transfer.wav"


@pytest.fixture(scope="module")
def demo() -> DemoFactory:
    # "Transfert." (1 s) keeps the wait before the REFER short.
    return DemoFactory({"transfer_to": TRANSFER_TARGET, "transfer_prompt": str(PROMPTS / "pbx-transfer.wav")})


@pytest.fixture(scope="module")
def host(demo: DemoFactory):
    with HandlerHost(short_socket_path("sip-worker-test"), demo) as handler_host:
        yield handler_host


@pytest.fixture(scope="module")
def worker(host: HandlerHost, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("sip-worker")
    with worker_process(host, work, max_calls=3, recording_dir=str(work / "recordings")) as handle:
        yield handle


@pytest.fixture
def sipp_dir(tmp_path: Path, demo: DemoFactory) -> Path:
    demo.reset()
    return prepare_sipp_dir(tmp_path)


def call(worker: WorkerHandle, scenario: str, cwd: Path, **options: Any) -> SippRun:
    media_port = sipp_media_ports(int(options.get("calls", 1)))
    args = sipp_args(
        scenario, remote=worker.address, local_port=free_port(), media_port=media_port, **options
    )
    return run_sipp(args, cwd)


def only_handler(demo: DemoFactory, timeout: float = 5.0) -> DemoHandler:
    (handler,) = demo.wait_for_calls(1, timeout)
    assert handler.done.wait(timeout), "the call never ended on the handler side"
    return handler


def pcm(data: bytes | bytearray) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<i2").astype(np.float64)


def best_alignment(received: np.ndarray, sent: np.ndarray) -> tuple[int, float]:
    """(offset of `sent` inside `received`, normalised correlation there)."""
    scores = np.correlate(received, sent, "valid")
    offset = int(np.argmax(scores))
    window = received[offset : offset + len(sent)]
    return offset, float(np.dot(window, sent) / (np.linalg.norm(window) * np.linalg.norm(sent) + 1e-9))


def frames_found(received: np.ndarray, sent: np.ndarray, around: int, search_ms: int = 400) -> float:
    """Share of the sent speech frames found sample-exact in `received`, near `around` + their position.

    The receiving jitter buffer may drop or repeat a frame to adapt its delay, which shifts what follows;
    looking for each 20 ms frame on its own tolerates that and still demands bit-exact transport.
    """
    size, reach = 160, search_ms * 8
    found = total = 0
    for start in range(0, len(sent) - size, size):
        frame = sent[start : start + size]
        if np.sqrt(np.mean(frame**2)) < 300:
            continue
        total += 1
        lo = max(0, around + start - reach)
        window = received[lo : around + start + reach + size]
        if len(window) < size:
            continue
        energy = np.sqrt(np.convolve(window**2, np.ones(size), "valid"))
        score = np.correlate(window, frame, "valid") / (energy * np.linalg.norm(frame) + 1e-9)
        found += bool(score.max() > 0.999)
    return found / max(total, 1)


def test_caller_audio_reaches_the_handler_as_sent(
    worker: WorkerHandle, demo: DemoFactory, sipp_dir: Path
) -> None:
    prompt = read_wav(CALLER_PROMPT)
    source = prompt.channel(0)
    write_rtp_pcap(sipp_dir / "caller.pcap", source, prompt.sample_rate)

    run = call(worker, "uac_audio.xml", sipp_dir, duration_ms=int(len(source) / 16) + 600)

    assert run.returncode == 0, run.errors
    handler = only_handler(demo)
    assert handler.started.caller == "+33612345678"
    assert handler.started.codec == "PCMU/8000"
    assert handler.started.sip_headers["X-Campaign"] == "test-audio"
    sent = pcm(ulaw_decode(ulaw_encode(source)))
    offset, _ = best_alignment(pcm(handler.heard), sent)
    share = frames_found(pcm(handler.heard), sent, offset)
    assert share > 0.9, f"only {share:.0%} of the caller's speech frames arrived intact"
    assert handler.ended is not None and handler.ended.reason == "remote hangup"


def test_bot_audio_reaches_the_caller_and_the_recording_holds_both_sides(
    worker: WorkerHandle, demo: DemoFactory, sipp_dir: Path
) -> None:
    media_port = free_port_block(8)
    args = sipp_args(
        "uac_echo.xml",
        remote=worker.address,
        local_port=free_port(),
        media_port=media_port,
        duration_ms=2500,
        keys=PCMA,
        extra=["-rtp_echo"],
    )

    run = run_sipp(args, sipp_dir)

    assert run.returncode == 0, run.errors
    handler = only_handler(demo)
    assert handler.started.codec == "PCMA/8000"
    greeting = pcm(alaw_decode(alaw_encode(handler._prompts["greeting"])))
    offset, _ = best_alignment(pcm(handler.heard), greeting)
    share = frames_found(pcm(handler.heard), greeting, offset)
    assert share > 0.9, f"only {share:.0%} of the bot's speech frames came back intact"
    assert [m.mark for m in handler.marks] == ["greeting"]

    assert handler.ended is not None and handler.ended.recording_path is not None
    recording = read_wav(handler.ended.recording_path)
    assert (recording.channels, recording.sample_rate) == (2, 8000)
    assert abs(len(recording.channel(0)) / 16 - handler.ended.duration_ms) <= 40
    bot_offset, _ = best_alignment(pcm(recording.channel(1)), pcm(handler._prompts["greeting"]))
    echo_offset, _ = best_alignment(pcm(recording.channel(0)), greeting)
    assert frames_found(pcm(recording.channel(1)), pcm(handler._prompts["greeting"]), bot_offset) > 0.99
    assert frames_found(pcm(recording.channel(0)), greeting, echo_offset) > 0.9
    echo_delay_ms = (echo_offset - bot_offset) / 8
    assert 0 <= echo_delay_ms < 200, f"caller and bot sides are misaligned by {echo_delay_ms} ms"


def test_g722_is_used_when_it_is_all_the_caller_offers(
    worker: WorkerHandle, demo: DemoFactory, sipp_dir: Path
) -> None:
    run = call(worker, "uac_echo.xml", sipp_dir, duration_ms=2000, keys=G722, extra=["-rtp_echo"])

    assert run.returncode == 0, run.errors
    handler = only_handler(demo)
    assert handler.started.codec == "G722/16000"
    _, correlation = best_alignment(pcm(handler.heard), pcm(handler._prompts["greeting"]))
    assert correlation > 0.8, f"the greeting did not survive a G.722 round trip ({correlation:.2f})"


def test_dtmf_from_rfc4733_and_sip_info_reaches_the_handler_in_order(
    worker: WorkerHandle, demo: DemoFactory, sipp_dir: Path
) -> None:
    run = call(worker, "uac_dtmf.xml", sipp_dir)

    assert run.returncode == 0, run.errors
    handler = only_handler(demo)
    assert [(d.digit, d.method) for d in handler.digits] == [
        ("1", "rfc4733"),
        ("9", "rfc4733"),
        ("*", "rfc4733"),
        ("7", "sip-info"),
    ]
    times = [d.at_ms for d in handler.digits]
    assert times == sorted(times) and times[0] > 0


def refer_headers(messages: str) -> dict[str, str]:
    refer = messages[messages.index("REFER sip:") :].split("\n\n", 1)[0]
    return {name: value.strip() for name, value in re.findall(r"^([A-Za-z-]+): (.*)$", refer, re.MULTILINE)}


def test_transfer_on_dtmf_sends_refer_with_context_and_hangs_up_when_it_succeeds(
    worker: WorkerHandle, demo: DemoFactory, sipp_dir: Path
) -> None:
    run = call(worker, "uac_transfer.xml", sipp_dir, keys={"notify_status": "200 OK"})

    assert run.returncode == 0, run.errors  # the scenario itself checks every context header (check_it)
    handler = only_handler(demo)
    headers = refer_headers(run.messages)
    assert headers["X-Callbot-Caller"] == "+33612345678"
    assert headers["X-Callbot-Intent"] == "parler_conseiller"
    assert json.loads(unquote(headers["X-Callbot-Slots"])) == {"digits": "0"}
    assert "conseiller" in unquote(headers["X-Callbot-Summary"])
    uui = json.loads(decode_user_to_user(headers["User-to-User"]))
    assert uui == {"c": handler.started.call_id, "i": "parler_conseiller", "n": "+33612345678"}
    assert headers["User-to-User"].endswith(";encoding=hex;purpose=callbot")
    refer_to = headers["Refer-To"]
    assert refer_to.startswith(f"<{TRANSFER_TARGET}?User-to-User=")
    assert unquote(refer_to.split("User-to-User=", 1)[1].rstrip(">")) == headers["User-to-User"]

    final = handler.transfer_statuses[-1]
    assert (final.final, final.ok, final.status_code) == (True, True, 200)
    assert handler.ended is not None and handler.ended.reason == "transferred"


def test_a_failed_transfer_keeps_the_caller_with_the_bot(
    worker: WorkerHandle, demo: DemoFactory, sipp_dir: Path
) -> None:
    run = call(worker, "uac_transfer.xml", sipp_dir, keys={"notify_status": "486 Busy Here"})

    assert run.returncode == 0, run.errors
    handler = only_handler(demo)
    final = handler.transfer_statuses[-1]
    assert (final.final, final.ok, final.status_code) == (True, False, 486)
    assert "apology" in [m.mark for m in handler.marks], "the caller was not told the transfer failed"
    assert handler.ended is not None and handler.ended.reason == "remote hangup"


def test_a_refer_from_the_caller_is_declined_and_the_call_goes_on(
    worker: WorkerHandle, demo: DemoFactory, sipp_dir: Path
) -> None:
    run = call(worker, "uac_refer_in.xml", sipp_dir)

    assert run.returncode == 0, run.errors  # 603 to the REFER, then the caller's BYE is answered
    handler = only_handler(demo)
    assert handler.ended is not None and handler.ended.reason == "remote hangup"
    assert len(demo.handlers) == 1  # no call was placed to the REFER's target


def test_calls_beyond_the_limit_get_503_with_retry_after(
    worker: WorkerHandle, demo: DemoFactory, sipp_dir: Path
) -> None:
    assert worker.config.max_calls == 3
    run = call(worker, "uac_limit.xml", sipp_dir, calls=4, rate=40, duration_ms=2000)

    assert run.returncode == 0, run.errors  # the scenario checks Retry-After on the 503
    assert len(demo.wait_for_calls(3, 5)) == 3
    time.sleep(0.3)
    assert len(demo.handlers) == 3
    assert run.responses(503) >= 1


_HEAD = (
    "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{n}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bot@127.0.0.1>\r\n"
)
JUNK = [
    b"\x00\xff" * 700,
    b"INVITE sip:bot@127.0.0.1 SIP/2.0\r\n\r\n",
    b"INVITE \r\n\r\n",
    (
        "INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" + _HEAD.format(n=1) + "Call-ID: junk1\r\nCSeq: 1 INVITE\r\n"
        "Content-Type: application/sdp\r\nContent-Length: 9999\r\n\r\nv=0\r\n"
    ).encode(),
    (
        "INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" + _HEAD.format(n=2) + "Call-ID: junk2\r\nCSeq: 1 INVITE\r\n"
        "Contact: <sip:a@127.0.0.1:9>\r\nContent-Type: application/sdp\r\nContent-Length: 31\r\n\r\n"
        "v=0\r\nm=audio 99999 RTP/AVP\r\nc=IN\r\n"
    ).encode(),
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKnope\r\nCSeq: 5 BYE\r\nCall-ID: x\r\n\r\n",
    b"OPTIONS sip:bot@127.0.0.1 SIP/2.0\r\nX-Long: " + b"a" * 60000 + b"\r\n\r\n",
    b"REGISTER sip:127.0.0.1 SIP/2.0\r\nCSeq: notanumber REGISTER\r\nVia: x\r\n\r\n",
]


def test_malformed_sip_does_not_kill_the_worker(
    worker: WorkerHandle, demo: DemoFactory, sipp_dir: Path
) -> None:
    target = ("127.0.0.1", worker.config.sip_port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for message in JUNK:
            udp.sendto(message, target)
    for message in JUNK:
        with socket.create_connection(target, timeout=2) as tcp:
            tcp.sendall(message)
    time.sleep(0.5)
    assert worker.process.poll() is None

    run = call(worker, "uac_echo.xml", sipp_dir, duration_ms=500, keys=PCMA)

    assert run.returncode == 0, run.errors
    assert only_handler(demo).frames > 0
    assert worker.process.poll() is None


def test_sigterm_refuses_new_calls_lets_the_current_one_finish_then_exits(
    tmp_path: Path, demo: DemoFactory, host: HandlerHost
) -> None:
    demo.reset()
    sipp_dir = prepare_sipp_dir(tmp_path / "sipp")
    late_dir = prepare_sipp_dir(tmp_path / "late")
    with worker_process(host, tmp_path / "worker") as worker:
        first = sipp_args(
            "uac_echo.xml",
            remote=worker.address,
            local_port=free_port(),
            media_port=free_port_block(8),
            duration_ms=2500,
            keys=PCMA,
        )
        with sipp_process(first, sipp_dir) as current:
            demo.wait_for_calls(1, 5)
            worker.process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            late = call(worker, "uac_limit.xml", late_dir, duration_ms=500)
            assert late.responses(503) >= 1 and late.returncode == 0, late.errors
            finished = finish_sipp(current, sipp_dir)
        assert finished.returncode == 0, finished.errors
        assert worker.process.wait(10) == 0
        (handler,) = demo.handlers.values()
        assert handler.done.wait(2) and handler.ended is not None
        assert handler.ended.reason == "remote hangup" and handler.ended.duration_ms >= 2400
    assert stop_process(worker.process) == 0


def test_calls_end_and_new_ones_are_refused_while_the_handler_is_away(tmp_path: Path) -> None:
    address = short_socket_path("sip-handler-away")
    first_dir, refused_dir, back_dir = (prepare_sipp_dir(tmp_path / name) for name in ("a", "b", "c"))
    demo = DemoFactory({})
    host = HandlerHost(address, demo).start()
    try:
        with worker_process(host, tmp_path / "worker") as worker:
            args = sipp_args(
                "uac_echo.xml",
                remote=worker.address,
                local_port=free_port(),
                media_port=free_port_block(8),
                duration_ms=5000,
                keys=PCMA,
            )
            with sipp_process(args, first_dir) as caller:
                demo.wait_for_calls(1, 5)
                host.close()
                dropped = finish_sipp(caller, first_dir)
            assert "\nBYE sip:" in dropped.messages, "the worker kept a call nobody was handling"

            refused = call(worker, "uac_limit.xml", refused_dir, duration_ms=300)
            assert refused.returncode == 0 and refused.responses(503) >= 1, refused.errors

            back = DemoFactory({})
            host = HandlerHost(address, back).start()
            host.wait_for_workers(1, 5)
            again = call(worker, "uac_echo.xml", back_dir, duration_ms=500, keys=PCMA)
            assert again.returncode == 0, again.errors
            assert len(back.handlers) == 1
    finally:
        host.close()


def test_a_caller_whose_line_goes_silent_is_hung_up_and_one_that_talks_is_not(
    host: HandlerHost, demo: DemoFactory, tmp_path: Path, sipp_dir: Path
) -> None:
    """A phone that dies without a BYE would hold a call slot until max_call_s: no RTP → BYE."""
    with worker_process(host, tmp_path / "silent", rtp_timeout_s=2.0) as silent_worker:
        started = time.monotonic()
        run = call(silent_worker, "uac_no_rtp.xml", sipp_dir, keys=PCMA)
        waited = time.monotonic() - started
        handler = only_handler(demo)
        assert run.returncode == 0, run.errors  # the gateway's BYE came
        assert 2.0 <= waited < 10.0
        assert handler.ended is not None and handler.ended.reason == "no RTP for 2 s"

        demo.reset()
        echo = call(silent_worker, "uac_echo.xml", sipp_dir, duration_ms=4000, keys=PCMA, extra=["-rtp_echo"])
        assert echo.returncode == 0, echo.errors  # the caller hung up after 4 s, not the gateway
        handler = only_handler(demo)
        assert handler.ended is not None and handler.ended.reason == "remote hangup"


def test_late_offer_calls_never_answered_are_released_and_the_slots_reused(
    host: HandlerHost, demo: DemoFactory, tmp_path: Path, sipp_dir: Path
) -> None:
    """Four INVITEs without SDP whose ACK brings no answer would hold every call slot for ever: each is
    hung up `media_timeout_s` after its 200, and a normal call is answered afterwards."""
    with worker_process(host, tmp_path / "late", media_timeout_s=2.0) as worker:
        started = time.monotonic()
        late = call(worker, "uac_late_offer_no_answer.xml", sipp_dir, calls=4)
        waited = time.monotonic() - started
        assert late.returncode == 0, late.errors  # every one got the gateway's BYE
        assert 2.0 <= waited < 15.0
        assert demo.handlers == {}  # no conversation was ever started for them
        echo = call(worker, "uac_echo.xml", sipp_dir, duration_ms=2000, keys=PCMA, extra=["-rtp_echo"])
        assert echo.returncode == 0, echo.errors
        assert only_handler(demo).ended is not None
