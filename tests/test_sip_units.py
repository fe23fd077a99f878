"""Pure logic of the SIP layer: context headers, media buffers, recording, parsing, configs, templates."""

from __future__ import annotations

import json
import os
import re
import stat
import struct
import subprocess
from pathlib import Path
from queue import SimpleQueue
from urllib.parse import unquote

import numpy as np
import pytest

from callbot.audio.frame import AudioFrame
from callbot.audio.g711 import ulaw_decode, ulaw_encode
from callbot.audio.wav import read_wav
from callbot.dialog.actions import CallContext
from callbot.dialog.actions import Transfer as TransferAction
from callbot.sip.config import ConfigError, WorkerConfig, load_worker_config
from callbot.sip.context import (
    MAX_SLOTS_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_UUI_OCTETS,
    TransferContext,
    decode_user_to_user,
    transfer_headers,
)
from callbot.sip.host import CallControl
from callbot.sip.kamailio import (
    FrontConfig,
    kamailio_command,
    media_lines_regex,
    render_dispatcher_list,
    write_front,
)
from callbot.sip.media import CallRecorder, MediaBridge, OutboundBuffer, finish_partial_recording
from callbot.sip.protocol import (
    AudioIn,
    CallEnded,
    CallStarted,
    DtmfIn,
    Hangup,
    PlayAudio,
    PlaybackMark,
    Transfer,
    TransferStatus,
)
from callbot.sip.rtp_pcap import PCMU, write_rtp_pcap
from callbot.sip.session_adapter import SessionCallHandler, SipChannel
from callbot.sip.sipmsg import caller_number, parse_request, passed_on_headers, uri_user
from callbot.sip.supervisor import Supervisor, SupervisorConfig

FRAME = 320  # 20 ms of PCM16 at 8 kHz


# ------------------------------------------------------------------------------------ transfer context
def test_transfer_headers_carry_the_context_url_encoded() -> None:
    context = TransferContext(
        caller="+33612345678",
        intent="prise_rdv",
        slots={"date": "2024-05-02", "nom": "Éloïse"},
        summary="Veut un rendez-vous\njeudi matin",
    )
    headers, embedded = transfer_headers(context, "call-1@host")
    values = dict(headers)
    assert values["X-Callbot-Caller"] == "+33612345678"
    assert values["X-Callbot-Intent"] == "prise_rdv"
    assert json.loads(unquote(values["X-Callbot-Slots"])) == {"date": "2024-05-02", "nom": "Éloïse"}
    assert unquote(values["X-Callbot-Summary"]) == "Veut un rendez-vous jeudi matin"
    uui = json.loads(decode_user_to_user(values["User-to-User"]))
    assert uui == {"c": "call-1@host", "i": "prise_rdv", "n": "+33612345678"}
    assert embedded == (("User-to-User", values["User-to-User"]),)


def test_transfer_headers_stay_bounded_and_parseable_whatever_the_context() -> None:
    context = TransferContext(
        caller="06 12\r\nX-Injected: 1",
        intent="i" * 500,
        slots={"small": 1, "huge": "x" * 5000, "after": "kept"},
        summary="é" * 5000,
    )
    headers, _ = transfer_headers(context, "c" * 300)
    values = dict(headers)
    assert all("\r" not in v and "\n" not in v for v in values.values())
    assert values["X-Callbot-Caller"] == "0612X-Injected1"
    assert len(values["X-Callbot-Slots"]) <= MAX_SLOTS_CHARS
    assert json.loads(unquote(values["X-Callbot-Slots"])) == {"small": 1, "after": "kept"}
    assert len(values["X-Callbot-Summary"]) <= MAX_SUMMARY_CHARS
    assert unquote(values["X-Callbot-Summary"]) == "é" * (MAX_SUMMARY_CHARS // 6)
    data = decode_user_to_user(values["User-to-User"])
    assert len(data) <= MAX_UUI_OCTETS


def test_explicit_uui_and_call_context_are_used_as_given() -> None:
    context = TransferContext.from_call_context(
        CallContext(caller="0145", intent="facture", slots={"n": 3}, transcript=("allo",), summary="s")
    )
    assert (context.caller, context.intent, dict(context.slots), context.summary) == (
        "0145",
        "facture",
        {"n": 3},
        "s",
    )
    headers, _ = transfer_headers(TransferContext(uui=b"\x01\x02ticket"), "id")
    assert decode_user_to_user(dict(headers)["User-to-User"]) == b"\x01\x02ticket"


# ---------------------------------------------------------------------------------- outbound buffer
def test_outbound_buffer_prebuffers_then_plays_in_order_and_pads_the_tail() -> None:
    buffer = OutboundBuffer(FRAME, prebuffer_frames=2)
    assert buffer.read_frame() == (None, [])
    buffer.write(b"\x01" * FRAME)
    assert buffer.read_frame()[0] is None  # one frame queued: waits for the second or for 2 ticks
    buffer.write(b"\x02" * FRAME + b"\x03" * 100)
    assert buffer.read_frame()[0] == b"\x01" * FRAME
    assert buffer.read_frame()[0] == b"\x02" * FRAME
    assert buffer.read_frame()[0] == b"\x03" * 100 + bytes(FRAME - 100)
    assert buffer.read_frame()[0] is None


def test_a_short_prompt_plays_after_the_prebuffer_wait() -> None:
    buffer = OutboundBuffer(FRAME, prebuffer_frames=2)
    buffer.write(b"\x05" * FRAME)
    assert [buffer.read_frame()[0] for _ in range(3)] == [None, None, b"\x05" * FRAME]


def test_marks_fire_when_their_last_sample_is_played_and_clear_drops_audio_and_marks() -> None:
    buffer = OutboundBuffer(FRAME, prebuffer_frames=0)
    buffer.write(b"\x01" * (FRAME * 2), mark="first")
    buffer.write(b"\x02" * FRAME, mark="second")
    assert buffer.read_frame() == (b"\x01" * FRAME, [])
    assert buffer.read_frame() == (b"\x01" * FRAME, ["first"])
    assert buffer.clear() == FRAME
    assert buffer.read_frame() == (None, [])
    buffer.write(b"", mark="empty")
    assert buffer.read_frame() == (None, ["empty"])


def test_media_bridge_stamps_frames_on_the_call_clock() -> None:
    events: SimpleQueue = SimpleQueue()
    bridge = MediaBridge("c1", 8000, events, prebuffer_ms=0)
    bridge.outbound.write(b"\x01" * FRAME * 3, mark="m")
    for _ in range(3):
        bridge.caller_frame(b"\x07" * FRAME)
        bridge.bot_frame()
    received = [events.get_nowait() for _ in range(4)]
    audio = [e for e in received if isinstance(e, AudioIn)]
    assert [a.start_ms for a in audio] == [0, 20, 40]
    assert [a.outbound_ms for a in audio] == [60, 40, 20]
    assert [e for e in received if isinstance(e, PlaybackMark)] == [PlaybackMark("c1", "m", 60)]


# ---------------------------------------------------------------------------------------- recording
def test_recording_is_stereo_aligned_and_appears_only_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    recorder = CallRecorder(path, 8000)
    caller = [np.full(160, 1000 * (i + 1), dtype="<i2").tobytes() for i in range(4)]
    bot = [np.full(160, -100 * (i + 1), dtype="<i2").tobytes() for i in range(4)]
    recorder.bot(bot[0])
    recorder.caller(caller[0])
    recorder.bot(bot[1])  # the caller frame of this tick never came
    recorder.bot(bot[2])
    recorder.caller(caller[2])
    recorder.flush()
    assert not path.exists()
    recorder.bot(bot[3])
    recorder.caller(caller[3])
    assert recorder.close() == path
    audio = read_wav(path)
    assert audio.channels == 2
    left = np.frombuffer(audio.channel(0), dtype="<i2").reshape(-1, 160)[:, 0].tolist()
    right = np.frombuffer(audio.channel(1), dtype="<i2").reshape(-1, 160)[:, 0].tolist()
    assert left == [1000, 0, 3000, 4000]
    assert right == [-100, -200, -300, -400]


def test_a_recording_left_by_a_killed_worker_becomes_a_valid_wav_of_what_was_flushed(tmp_path: Path) -> None:
    """kill -9 between two flushes: what is on disk is the `.wav.part` as of the last flush (copied here
    while the recorder is still open, as the dead process left it), plus maybe a torn frame."""
    recorder = CallRecorder(tmp_path / "live.wav", 8000)
    for index in range(10):
        recorder.caller(np.full(160, 100 * (index + 1), dtype="<i2").tobytes())
        recorder.bot(np.full(160, -7, dtype="<i2").tobytes())
    recorder.flush()
    left_behind = tmp_path / "killed.wav.part"
    left_behind.write_bytes((tmp_path / "live.wav.part").read_bytes() + b"\x01\x02\x03")  # a torn frame
    recorder.close()

    finished = finish_partial_recording(left_behind)

    assert finished == tmp_path / "killed.wav" and not left_behind.exists()
    audio = read_wav(finished)
    assert audio.channels == 2 and len(audio.channel(0)) == 10 * 320
    assert np.frombuffer(audio.channel(0), dtype="<i2")[::160].tolist() == [100 * (i + 1) for i in range(10)]
    not_a_wav = tmp_path / "junk.wav.part"
    not_a_wav.write_bytes(b"hello")
    assert finish_partial_recording(not_a_wav) is None and not_a_wav.exists()


# ---------------------------------------------------------------------------------------- SIP text
INVITE = (
    "INVITE sip:%2B33900000000@gw.example;user=phone SIP/2.0\r\n"
    "v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
    'f: "Jean" <sip:+33612345678@10.0.0.1>;tag=1\r\n'
    "t: <sip:+33900000000@gw.example>\r\n"
    "i: abc@10.0.0.1\r\n"
    "X-Campaign: spring\r\n"
    "Subject: folded\r\n  line\r\n"
    "P-Asserted-Identity: <tel:+33612345678>\r\n"
    "User-To-User: 00ff;encoding=hex\r\n"
    "Content-Length: 0\r\n\r\n"
)


def test_an_invite_is_read_with_compact_and_folded_headers() -> None:
    request = parse_request(INVITE)
    assert (request.method, uri_user(request.uri)) == ("INVITE", "+33900000000")
    assert request.header("Call-ID") == "abc@10.0.0.1"
    assert uri_user(request.header("from") or "") == "+33612345678"
    assert passed_on_headers(request) == {
        "X-Campaign": "spring",
        "Subject": "folded line",
        "P-Asserted-Identity": "<tel:+33612345678>",
        "User-to-User": "00ff;encoding=hex",
    }
    assert uri_user("tel:+331234;phone-context=x") == "+331234"
    assert uri_user("sip:host.only") == ""


# ------------------------------------------------------------------------------------------ configs
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_calls": 5}, "at most 4 calls"),
        ({"codecs": ["opus"]}, "unknown codec 'opus'"),
        ({"bind_address": "localhost"}, "not an IP address"),
        ({"sip_port": 70000}, "not a port number"),
        ({"transports": ["sctp"]}, "transports"),
        ({"prebuffer_ms": 30}, "multiple of 20"),
        ({"trunk_uri_template": "sip:trunk"}, "placeholder"),
        ({"colour": "blue"}, "unknown worker setting(s) colour"),
        ({"codecs": "PCMA"}, "expected a list"),
    ],
)
def test_bad_worker_settings_are_refused_with_a_precise_message(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as error:
        WorkerConfig.from_mapping({"handler_address": "/tmp/h.sock", **settings})
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_worker_config_loads_from_yaml_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "worker.yaml"
    path.write_text("handler_address: /tmp/h.sock\nsip_port: 5070\ncodecs: [PCMU, G722]\nmax_calls: 2\n")
    config = load_worker_config(path)
    assert (config.sip_port, config.codecs, config.max_calls) == (5070, ("PCMU", "G722"), 2)
    assert WorkerConfig.from_mapping(config.to_mapping()) == config
    with pytest.raises(ConfigError, match="cannot read"):
        load_worker_config(tmp_path / "missing.yaml")


def test_every_deployment_has_the_front_as_its_edge_with_workers_on_loopback() -> None:
    single = SupervisorConfig.from_mapping(
        {"handler_address": "/tmp/h.sock", "sip_port": 5060, "bind_address": "192.0.2.10"}
    )
    assert (single.uses_front, single.worker_port(0)) == (True, 5070)
    worker = single.worker_config(0)
    assert (worker.bind_address, worker.rtp_bind_address) == ("127.0.0.1", "192.0.2.10")
    assert single.front_config().workers == (("127.0.0.1", 5070),)
    exposed = SupervisorConfig.from_mapping({"handler_address": "/tmp/h.sock", "front": "never"})
    assert (exposed.uses_front, exposed.worker_port(0)) == (False, 5060)
    with pytest.raises(ConfigError, match="max_media_lines"):
        SupervisorConfig.from_mapping({"handler_address": "/x", "max_media_lines": 40})
    many = SupervisorConfig.from_mapping(
        {
            "workers": 3,
            "handler_factory": "callbot.sip.demo:build_demo_factory",
            "sip_port": 5060,
            "worker": {"max_calls": 2},
        }
    )
    assert many.uses_front
    assert [many.worker_config(i).sip_port for i in range(3)] == [5070, 5071, 5072]
    assert [many.worker_config(i).rtp_port for i in range(3)] == [20000, 20200, 20400]
    assert many.worker_config(2).max_calls == 2
    assert many.handler_socket(1).endswith("handler-1.sock")
    with pytest.raises(ConfigError, match="exactly one of"):
        SupervisorConfig.from_mapping({"workers": 1})
    with pytest.raises(ConfigError, match="set by the supervisor"):
        SupervisorConfig.from_mapping({"handler_address": "/x", "worker": {"sip_port": 1}})
    with pytest.raises(ConfigError, match="max_calls"):
        SupervisorConfig.from_mapping({"handler_address": "/x", "worker": {"max_calls": 9}})


def test_run_files_hold_no_secret_and_the_worker_gets_them_from_its_environment(tmp_path: Path) -> None:
    settings = {
        "handler_factory": "callbot.sip.demo:build_demo_factory",
        "run_dir": str(tmp_path / "run"),
        "worker": {"trunk_password": "s3cret-trunk", "handler_authkey": "s3cret-key"},
    }
    supervisor = Supervisor(SupervisorConfig.from_mapping(settings))
    supervisor.prepare()

    run = tmp_path / "run"
    for path in run.iterdir():
        assert "s3cret" not in path.read_text(), path.name
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path.name
    assert stat.S_IMODE(run.stat().st_mode) == 0o700
    (worker,) = supervisor.workers
    assert worker.env is not None
    assert worker.env["CALLBOT_SIP_TRUNK_PASSWORD"] == "s3cret-trunk"
    assert worker.env["CALLBOT_SIP_AUTHKEY"] == "s3cret-key"
    os.environ.update({"CALLBOT_SIP_TRUNK_PASSWORD": "s3cret-trunk", "CALLBOT_SIP_AUTHKEY": "s3cret-key"})
    try:
        loaded = load_worker_config(run / "worker-0.json")
    finally:
        del os.environ["CALLBOT_SIP_TRUNK_PASSWORD"], os.environ["CALLBOT_SIP_AUTHKEY"]
    assert (loaded.trunk_password, loaded.handler_authkey) == ("s3cret-trunk", "s3cret-key")


# ---------------------------------------------------------------------------------------- templates
@pytest.mark.parametrize(
    ("metrics_port", "calls_per_source", "calls_per_caller"),
    [(None, None, None), (9094, None, None), (9094, 3, 2)],
    ids=["no counters", "counters on 9094", "counters and call limits per source and per number"],
)
def test_the_kamailio_front_config_is_accepted_by_kamailio(
    tmp_path: Path, metrics_port: int | None, calls_per_source: int | None, calls_per_caller: int | None
) -> None:
    workers = (("127.0.0.1", 5071), ("127.0.0.1", 5072))
    front = FrontConfig(
        "127.0.0.1",
        5070,
        workers,
        tmp_path,
        metrics_port=metrics_port,
        calls_per_source=calls_per_source,
        calls_per_caller=calls_per_caller,
    )
    config = write_front(front)
    text = config.read_text()
    assert ('get_profile_size("calls_from", "$si", "$var(calls)")' in text) is (calls_per_source is not None)
    assert ("$var(calls) >= 3" in text) is (calls_per_source == 3)
    assert ('get_profile_size("calls_by_caller", "$fU"' in text) is (calls_per_caller is not None)
    assert ("$var(calls) >= 2" in text) is (calls_per_caller == 2)
    assert 'ds_select_dst("1", "4")' in text and "record_route();" in text and "Retry-After: 10" in text
    assert "$ml > 4000" in text and '"488", "Too Many Media Lines"' in text and "pike_check_req()" in text
    assert ("listen=tcp:127.0.0.1:9094" in text) is (metrics_port is not None)
    assert ("prom_counter_inc" in text) is (metrics_port is not None)
    assert render_dispatcher_list(workers) == "1 sip:127.0.0.1:5071 0 0\n1 sip:127.0.0.1:5072 0 0\n"
    check = subprocess.run(
        [kamailio_command(front, config)[0], "-c", "-f", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_per_source_call_limit_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="calls_per_source: 0 must be at least 1"):
        FrontConfig("127.0.0.1", 5070, (("127.0.0.1", 5071),), Path("run"), calls_per_source=0)
    with pytest.raises(ValueError, match="calls_per_source: True must be a whole number"):  # YAML `yes`
        FrontConfig("127.0.0.1", 5070, (("127.0.0.1", 5071),), Path("run"), calls_per_source=True)
    with pytest.raises(ValueError, match="calls_per_caller: 0 must be at least 1"):
        FrontConfig("127.0.0.1", 5070, (("127.0.0.1", 5071),), Path("run"), calls_per_caller=0)


def test_the_front_metrics_port_must_be_a_port_of_its_own() -> None:
    with pytest.raises(ValueError, match="must differ from sip_port"):
        FrontConfig("127.0.0.1", 5070, (("127.0.0.1", 5071),), Path("run"), metrics_port=5070)
    with pytest.raises(ValueError, match="between 1024 and 65535"):
        FrontConfig("127.0.0.1", 5070, (("127.0.0.1", 5071),), Path("run"), metrics_port=80)


@pytest.mark.parametrize(
    ("lines", "line_end", "refused"),
    [(1, "\r\n", False), (4, "\r\n", False), (5, "\r\n", True), (40, "\n", True), (40, "\r", True)],
)
def test_the_front_counts_media_lines_whatever_the_line_ends(
    lines: int, line_end: str, refused: bool
) -> None:
    """Kamailio's search_body gets the regex as written in its config; Python's `re` reads the same
    POSIX syntax here (the end-to-end tests in test_sip_front.py run it in Kamailio)."""
    body = line_end.join(
        ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0"] + ["m=audio 4000 RTP/AVP 8"] * lines
    )
    assert bool(re.search(media_lines_regex(5), body + line_end)) is refused


def test_a_wav_becomes_an_rtp_capture_that_decodes_back_to_it(tmp_path: Path) -> None:
    pcm = (np.sin(np.arange(8000 * 0.5) / 5) * 8000).astype("<i2").tobytes()
    path = tmp_path / "a.pcap"
    assert write_rtp_pcap(path, pcm) == 25
    data = path.read_bytes()
    assert struct.unpack("<I", data[:4])[0] == 0xA1B2C3D4
    offset, payload, seqs, stamps, times = 24, b"", [], [], []
    while offset < len(data):
        sec, usec, length, _ = struct.unpack("<IIII", data[offset : offset + 16])
        packet = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        rtp = packet[42:]
        _, pt, seq, stamp, _ = struct.unpack("!BBHII", rtp[:12])
        assert pt & 0x7F == PCMU
        seqs.append(seq)
        stamps.append(stamp)
        times.append(sec * 1_000_000 + usec)
        payload += rtp[12:]
    assert np.all(np.diff(seqs) == 1) and np.all(np.diff(stamps) == 160) and np.all(np.diff(times) == 20000)
    assert ulaw_decode(payload) == ulaw_decode(ulaw_encode(pcm))


# ---------------------------------------------------------------------------------- session adapter
class _SentCommands:
    """Stands for the worker link: records the commands a handler sends."""

    def __init__(self) -> None:
        self.sent: list = []

    def send(self, command) -> None:
        self.sent.append(command)


class _ScriptedSession:
    """Says one frame of audio on the second tick, then silence; remembers what it was given."""

    def __init__(self) -> None:
        self.ended = False
        self.started = False
        self.frames: list[int] = []
        self.digits: list[str] = []

    def start(self) -> None:
        self.started = True

    def tick(self, frame) -> bytes:
        self.frames.append(frame.start_ms)
        return b"\x11" * FRAME if len(self.frames) == 2 else bytes(FRAME)

    def dtmf(self, digit: str) -> None:
        self.digits.append(digit)

    def hangup(self, cause: str = "caller_hangup") -> None:
        self.ended = True
        self.cause = cause

    def transfer_failed(self, status: int | None = None, reason: str = "") -> bool:
        return False  # no dialog to take over: the handler apologises and hangs up


def _started_call():
    return CallStarted("c9", "inbound", "+3361", "3900", "sip:+3361@x", "sip:3900@y", "PCMA/8000", 8000)


def test_a_session_is_ticked_by_caller_frames_and_its_speech_queued_on_the_call() -> None:
    link = _SentCommands()
    session = _ScriptedSession()
    handler = SessionCallHandler(session, CallControl(link, _started_call()))  # type: ignore[arg-type]
    for start in (0, 20, 40):
        handler.on_audio(AudioFrame(bytes(FRAME), 8000, start))
    handler.on_dtmf(DtmfIn("c9", "5", "rfc4733", 60))
    handler.on_ended(CallEnded("c9", "remote hangup", 200, 60))

    assert session.started and session.frames == [0, 20, 40] and session.digits == ["5"] and session.ended
    assert link.sent == [PlayAudio("c9", b"\x11" * FRAME)]  # silent frames are not sent


def test_the_session_channel_turns_decisions_into_sip_commands_and_a_failed_transfer_is_not_silent() -> None:
    link = _SentCommands()
    control = CallControl(link, _started_call())  # type: ignore[arg-type]
    channel = SipChannel(control, queue_uris={"facturation": "sip:factu@pbx"})
    context = CallContext(caller="+3361", intent="facture", slots={"n": "A12"}, transcript=(), summary="x")
    channel.transfer(TransferAction("facturation", "asked_for_agent", context))
    channel.hangup("au revoir")
    with pytest.raises(RuntimeError, match="call-back store"):
        channel.schedule_callback(None)  # type: ignore[arg-type]

    refer, bye = link.sent
    assert isinstance(refer, Transfer) and refer.target == "sip:factu@pbx" and refer.after_playback
    assert dict(refer.headers)["X-Callbot-Reason"] == "asked_for_agent"
    assert bye == Hangup("c9", "au revoir", after_playback=True)

    link.sent.clear()
    handler = SessionCallHandler(_ScriptedSession(), control, transfer_failed_audio=b"\x01\x00" * 80)
    handler.on_transfer_status(TransferStatus("c9", 100, "Trying", False, False))
    handler.on_transfer_status(TransferStatus("c9", 486, "Busy Here", True, False))
    assert link.sent[0] == PlayAudio("c9", b"\x01\x00" * 80, "transfer-failed")
    assert isinstance(link.sent[1], Hangup) and link.sent[1].after_playback


def test_a_caller_id_cannot_carry_a_line_break_or_markup_downstream() -> None:
    """ "%2B33612345678%0D%0A<fake log line>" in the From user: what reaches logs, events, the transfer
    context and the call-back store keeps the line break and the markup %-escaped."""
    forged = '"Caller" <sip:%2B33612345678%0D%0A2026-12-06%2012:00:00%20INFO%20%3Cfake%3E@127.0.0.1>;tag=1'
    user = uri_user(forged)
    assert user == "+33612345678%0D%0A2026-12-06%2012%3A00%3A00%20INFO%20%3Cfake%3E"
    assert not any(char in user for char in "\r\n<> ")
    assert uri_user("sip:%2B33612345678@h") == "+33612345678"  # a well-formed number is untouched


@pytest.mark.parametrize(
    ("caller", "number"),
    [
        ("+33612345678", "+33612345678"),
        ("0145678900", "+33145678900"),
        ("+33612345678%0D%0A2026-12-06%2012%3A00%3A00%20INFO%20%3Cfake%3E", None),
        ("anonymous", None),
        ("", None),
        ("+3361", None),
        ("06.12.34.56.78", "+33612345678"),
    ],
)
def test_only_a_caller_id_that_is_a_valid_number_comes_out_as_e164(caller: str, number: str | None) -> None:
    assert caller_number(caller) == number


def test_control_characters_in_passed_on_headers_stay_escaped() -> None:
    request = parse_request("INVITE sip:bot@h SIP/2.0\r\nX-Account: 12\x1b[31m34\x00\r\nSubject: ok\r\n\r\n")
    assert passed_on_headers(request) == {"X-Account": "12%1B[31m34%00", "Subject": "ok"}


def test_a_call_whose_worker_died_ends_as_worker_lost_not_as_a_caller_hang_up() -> None:
    lost, hung_up = _ScriptedSession(), _ScriptedSession()
    for session, ended in (
        (lost, CallEnded("c9", "worker lost", 0, 0)),
        (hung_up, CallEnded("c9", "remote hangup", 200, 9)),
    ):
        control = CallControl(_SentCommands(), _started_call())  # type: ignore[arg-type]
        SessionCallHandler(session, control).on_ended(ended)
    assert (lost.ended, lost.cause) == (True, "worker_lost")
    assert (hung_up.ended, hung_up.cause) == (True, "caller_hangup")


def test_a_worker_link_is_closed_once_whichever_thread_closes_it_first() -> None:
    """The host stopping and the link's own thread losing its worker both close the link's socket: the
    second close must neither fail (EBADF) nor close a descriptor opened since by someone else."""
    import multiprocessing
    import threading

    from callbot.sip.host import WorkerLink

    for _ in range(50):
        ours, theirs = multiprocessing.Pipe()
        link = WorkerLink(host=None, conn=ours)  # type: ignore[arg-type]
        start = threading.Barrier(3)
        errors: list[BaseException] = []

        def close(
            link: WorkerLink = link, start: threading.Barrier = start, errors: list[BaseException] = errors
        ) -> None:
            start.wait()
            try:
                link.close_connection()
            except BaseException as exc:
                errors.append(exc)

        closers = [threading.Thread(target=close) for _ in range(3)]
        for thread in closers:
            thread.start()
        for thread in closers:
            thread.join()
        assert errors == [] and ours.closed
        replacement = os.open(os.devnull, os.O_RDONLY)  # may take the closed descriptor's number
        link.close_connection()
        os.fstat(replacement)  # still open: the late close did not touch it
        os.close(replacement)
        theirs.close()
