"""Helpers for tests that talk real SIP on 127.0.0.1: free ports, a worker process, `callbot serve`, SIPp.

Every helper that starts a process stops it on exit, even when the test fails, so no SIP peer outlives
its test. Kept in the package (not under tests/) so that end-to-end tests of other parts, a
`CallSession` behind SIP for example, can use them too.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from callbot.sip.config import WorkerConfig
from callbot.sip.host import HandlerHost, WorkerLink

if TYPE_CHECKING:
    from callbot.asr.base import RecognizerEngine

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
SIPP_PCAPS = Path("/usr/share/sip-tester")
SCENARIOS = Path(__file__).resolve().parents[2] / "tests" / "sipp"


#: Ports handed out by this process: a worker binds its RTP ports only when a call starts, so a range
#: that looks free now may be a running worker's; never hand out the same port twice.
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (SIP listens on both), not handed out before."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            if port in _HANDED_OUT:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                _HANDED_OUT.add(port)
                return port
    raise RuntimeError("no free UDP+TCP port on 127.0.0.1")


def free_port_block(count: int) -> int:
    """First port of `count` consecutive UDP ports that are free now and not handed out before (RTP)."""
    for _ in range(200):
        base = random.randrange(30000, 60000 - count, 2)
        block = range(base, base + count)
        if _HANDED_OUT.intersection(block):
            continue
        sockets: list[socket.socket] = []
        try:
            for port in block:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            _HANDED_OUT.update(block)
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no block of {count} free UDP ports")


def sipp_media_ports(calls: int = 1) -> int:
    """First port of a block for SIPp's `-mp` with `calls` calls at once: each call takes its own RTP and
    RTCP ports (audio and video), so a block too small would spill into ports handed out to others."""
    return free_port_block(max(8, 4 * calls))


def short_socket_path(name: str) -> str:
    """A Unix socket path short enough for AF_UNIX (108 bytes), unlike pytest's tmp paths."""
    return f"/tmp/callbot-{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"


@dataclass
class WorkerHandle:
    config: WorkerConfig
    process: subprocess.Popen[bytes]
    link: WorkerLink
    log_path: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.config.sip_port}"


@contextlib.contextmanager
def worker_process(host: HandlerHost, work_dir: Path, **settings: Any) -> Iterator[WorkerHandle]:
    """Start `python -m callbot.sip.worker` on free ports, wait until it reaches `host`, stop it after."""
    worker_id = settings.pop("worker_id", f"test-{uuid.uuid4().hex[:6]}")
    values: dict[str, Any] = {
        "handler_address": host.address,
        "worker_id": worker_id,
        "sip_port": free_port(),
        "rtp_port": free_port_block(40),
        "rtp_port_range": 40,
        "pjsip_log_level": 1,
        **settings,
    }
    config = WorkerConfig.from_mapping(values)
    work_dir.mkdir(parents=True, exist_ok=True)
    config_path = work_dir / f"{worker_id}.json"
    config_path.write_text(json.dumps(config.to_mapping()))
    log_path = work_dir / f"{worker_id}.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "callbot.sip.worker", "--config", str(config_path)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        link = _wait_for_link(host, worker_id, process, log_path)
        yield WorkerHandle(config, process, link, log_path)
    finally:
        stop_process(process)


def _wait_for_link(
    host: HandlerHost, worker_id: str, process: subprocess.Popen[bytes], log: Path
) -> WorkerLink:
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        for link in host.connected_links():
            if link.worker_id == worker_id:
                return link
        if process.poll() is not None:
            raise RuntimeError(f"SIP worker exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    raise TimeoutError(f"SIP worker {worker_id} did not reach the handler host:\n{log.read_text()[-3000:]}")


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0, signum: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return int(process.returncode)


def prepare_sipp_dir(path: Path) -> Path:
    """A working directory for SIPp with its DTMF/audio captures under `pcap/` (scenarios look there)."""
    pcap_dir = path / "pcap"
    pcap_dir.mkdir(parents=True, exist_ok=True)
    for capture in SIPP_PCAPS.glob("*.pcap"):
        shutil.copy(capture, pcap_dir / capture.name)
    return path


@dataclass
class SippRun:
    returncode: int
    messages: str
    errors: str
    stdout: str

    def responses(self, code: int) -> int:
        """How many responses with this status code SIPp received (retransmissions included)."""
        return self.messages.count(f"\nSIP/2.0 {code} ")

    def request(self, method: str) -> str:
        """The first `method` request (e.g. "REFER") in SIPp's message trace, start line and headers."""
        return self.messages[self.messages.index(f"{method} sip:") :].split("\n\n", 1)[0]

    def headers(self, method: str) -> dict[str, str]:
        """The headers of the first `method` request, by name."""
        found = re.findall(r"^([A-Za-z-]+): (.*)$", self.request(method), re.MULTILINE)
        return {name: value.strip() for name, value in found}


def sipp_args(
    scenario: str,
    *,
    remote: str | None,
    local_port: int,
    media_port: int,
    calls: int = 1,
    rate: float = 10,
    duration_ms: int | None = None,
    keys: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
    timeout_s: int = 30,
) -> list[str]:
    """SIPp command line for a scenario of tests/sipp (a name) on loopback, with traces in its cwd."""
    path = SCENARIOS / scenario if not Path(scenario).is_absolute() else Path(scenario)
    args = [SIPP]
    if remote is not None:
        args.append(remote)
    args += ["-sf", str(path), "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(local_port)]
    args += ["-mp", str(media_port), "-m", str(calls), "-l", str(calls), "-r", str(rate), "-nostdin"]
    args += ["-trace_msg", "-message_file", "messages.log", "-trace_err", "-error_file", "errors.log"]
    args += ["-timeout", f"{timeout_s}s", "-timeout_error"]
    if duration_ms is not None:
        args += ["-d", str(duration_ms)]
    for key, value in (keys or {}).items():
        args += ["-key", key, value]
    return args + list(extra)


@contextlib.contextmanager
def sipp_process(args: Sequence[str], cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """SIPp in the background (e.g. a UAS waiting for callbot's call); killed if still running at exit."""
    for name in ("messages.log", "errors.log"):
        (cwd / name).unlink(missing_ok=True)
    process = subprocess.Popen(list(args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop_process(process, timeout=5.0, signum=signal.SIGKILL)


def finish_sipp(process: subprocess.Popen[bytes], cwd: Path, timeout: float = 30.0) -> SippRun:
    try:
        stdout, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, _ = process.communicate()
    return SippRun(
        int(process.returncode),
        _read(cwd / "messages.log"),
        _read(cwd / "errors.log"),
        stdout.decode(errors="replace")[-4000:],
    )


def run_sipp(args: Sequence[str], cwd: Path, timeout: float = 30.0) -> SippRun:
    with sipp_process(args, cwd) as process:
        return finish_sipp(process, cwd, timeout)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def sip_options(address: tuple[str, int], timeout: float = 1.0) -> int | None:
    """Send one OPTIONS over UDP; the status code of the answer, or None if nothing came back."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        port = sock.getsockname()[1]
        tag = uuid.uuid4().hex[:10]
        message = (
            f"OPTIONS sip:{address[0]}:{address[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{tag}\r\n"
            f"From: <sip:probe@127.0.0.1:{port}>;tag={tag}\r\n"
            f"To: <sip:{address[0]}:{address[1]}>\r\n"
            f"Call-ID: {tag}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        sock.sendto(message.encode(), address)
        try:
            data = sock.recv(65535)
        except OSError:
            return None
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def invite_with_media_lines(
    target: tuple[str, int], reply_port: int, media_lines: int, multipart: bool = False
) -> bytes:
    """An INVITE over UDP whose SDP offers `media_lines` audio streams: each costs a PJSIP worker two
    sockets before any application code runs, the shape of the packet that used to abort workers.
    `multipart`: the SDP inside a multipart/mixed body (PJSIP takes it out of one too)."""
    tag = uuid.uuid4().hex[:10]
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + "".join(
        f"m=audio {40000 + 2 * line} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n" for line in range(media_lines)
    )
    content_type = "application/sdp"
    if multipart:
        content_type = "multipart/mixed;boundary=unique-boundary-1"
        sdp = (
            f"--unique-boundary-1\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--unique-boundary-1--\r\n"
        )
    return (
        f"INVITE sip:bot@{target[0]}:{target[1]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{reply_port};branch=z9hG4bK{tag}\r\n"
        f"From: <sip:many@127.0.0.1:{reply_port}>;tag={tag}\r\nTo: <sip:bot@{target[0]}:{target[1]}>\r\n"
        f"Call-ID: {tag}@127.0.0.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
        f"Contact: <sip:many@127.0.0.1:{reply_port}>\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()


def send_datagrams(
    target: tuple[str, int],
    messages: Sequence[bytes] | Callable[[int], Sequence[bytes]],
    *,
    gap_s: float = 0.0,
    listen_s: float = 2.0,
) -> list[int]:
    """Send SIP datagrams from one local port (`messages`, or those `messages(reply_port)` builds to be
    answered there), `gap_s` apart, then listen `listen_s`; the status codes of every response."""
    codes: list[int] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        reply_port = int(sock.getsockname()[1])
        batch = list(messages(reply_port)) if callable(messages) else list(messages)

        def drain(until: float) -> None:
            while (left := until - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    data = sock.recv(65535)
                except OSError:
                    return
                parts = data.split(b" ", 2)
                if data.startswith(b"SIP/2.0 ") and len(parts) > 1 and parts[1].isdigit():
                    codes.append(int(parts[1]))

        for message in batch:
            sock.sendto(message, target)
            drain(time.monotonic() + gap_s)
        drain(time.monotonic() + listen_s)
    return codes


@dataclass
class ServeHandle:
    """A running `callbot serve` (supervisor, workers, conversation hosts) started by `serve_process`."""

    process: subprocess.Popen[bytes]
    sip_port: int
    rtp_ports: range  # every worker's RTP (and RTCP) ports
    data_dir: Path
    log_path: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    @property
    def recordings(self) -> Path:
        return self.data_dir / "recordings"

    def call_files(self, call_id: str) -> tuple[Path, Path]:
        """(stereo recording, JSON-lines event log) of a call, named as the gateway names them."""
        from callbot.sip.serve import call_log_path

        log = call_log_path(self.recordings, call_id)
        return log.with_suffix(".wav"), log

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def serve_process(
    work_dir: Path,
    *,
    workers: int = 1,
    engines: Sequence[str] = ("--asr", "whisper"),
    settings: Mapping[str, Any] | None = None,
    ready_timeout_s: float = 120.0,
) -> Iterator[ServeHandle]:
    """`python -m callbot.cli serve` on free ports with `data_dir` under `work_dir`, ready for calls.

    Ready means every worker has reached its conversation host (each host loads the speech stack
    first, which takes seconds) and the Kamailio front answers OPTIONS. The
    whole process group is stopped on exit, so no worker or host outlives the caller.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    data_dir = work_dir / "data"
    sip: dict[str, Any] = {
        "rtp_base_port": free_port_block(40 * workers),
        "rtp_ports_per_worker": 40,
        "drain_timeout_s": 5,
        "worker": {"pjsip_log_level": 1},
    }
    sip["worker_base_port"] = free_port_block(workers)  # behind the front, one worker included
    values: dict[str, Any] = {"data_dir": str(data_dir), **(settings or {})}
    values["sip"] = {**sip, **values.get("sip", {})}
    rtp = values["sip"]
    rtp_ports = range(rtp["rtp_base_port"], rtp["rtp_base_port"] + workers * rtp["rtp_ports_per_worker"])
    config = work_dir / "callbot.yaml"
    config.write_text(yaml.safe_dump(values))
    sip_port = free_port()
    log_path = work_dir / "serve.log"
    argv = [sys.executable, "-m", "callbot.cli", "--config", str(config), "serve"]
    argv += ["--listen", f"127.0.0.1:{sip_port}", "--workers", str(workers), *engines]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    handle = ServeHandle(process, sip_port, rtp_ports, data_dir, log_path)
    try:
        _wait_until_serving(handle, workers, ready_timeout_s)
        yield handle
    finally:
        stop_process_group(process)


def _wait_until_serving(handle: ServeHandle, workers: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if handle.process.poll() is not None:
            raise RuntimeError(
                f"callbot serve exited with {handle.process.returncode}:\n{handle.log_text()[-3000:]}"
            )
        connected = handle.log_text().count("callbot.sip.host INFO worker sip-")
        if connected >= workers and sip_options(("127.0.0.1", handle.sip_port), 0.5) == 200:
            time.sleep(1.2)  # one dispatcher probe round, so that the front knows every worker alive
            return
        time.sleep(0.2)
    raise TimeoutError(f"callbot serve was not ready in {timeout_s:.0f} s:\n{handle.log_text()[-3000:]}")


def stop_process_group(process: subprocess.Popen[Any], timeout: float = 20.0) -> None:
    """SIGTERM to a process started with `start_new_session=True` and all its children, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


# ------------------------------------------------------------------------------- listening to calls
_RATE = 8000
LINE_NOISE_DBFS = -55.0  # as in the caller fixtures


def line_pcap(path: Path, speech: bytes, noise_ms: int, *, gain_db: float = 0.0, seed: int = 7) -> None:
    """A phone's RTP from the answer on, as a capture SIPp plays: `noise_ms` of line noise, then the 8 kHz
    `speech`. A phone sends RTP all along; starting it only when the person speaks would make the first
    frames of line noise after digital silence look like speech to the VAD."""
    import numpy as np

    from callbot.sip.rtp_pcap import write_rtp_pcap

    voice = np.frombuffer(speech, dtype="<i2") * 10 ** (gain_db / 20)
    noise_level = 32768 * 10 ** (LINE_NOISE_DBFS / 20)
    noise = np.random.default_rng(seed).normal(0.0, noise_level, noise_ms * _RATE // 1000)
    pcm = np.clip(np.concatenate([noise, voice]), -32768, 32767).astype("<i2").tobytes()
    write_rtp_pcap(path, pcm, _RATE)


def frame_levels(pcm: bytes) -> list[float]:
    """dBFS of each 20 ms frame of 8 kHz PCM16."""
    from callbot.vad.echo import dbfs

    size = _RATE // 50 * 2
    return [dbfs(pcm[i : i + size]) for i in range(0, len(pcm) - size + 1, size)]


def spoken_spans(pcm: bytes, gap_ms: int = 500) -> list[tuple[int, int]]:
    """(start, end) ms of the stretches of speech, split where the speaker pauses `gap_ms` or more."""
    spans: list[tuple[int, int]] = []
    for index, level in enumerate(frame_levels(pcm)):
        if level < -45:
            continue
        start, end = index * 20, index * 20 + 20
        if spans and start - spans[-1][1] < gap_ms:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return [(a, b) for a, b in spans if b - a >= 100]


def transcribe(engine: RecognizerEngine, pcm: bytes) -> str:
    """What a listener hears in 8 kHz `pcm` (a call's recording): each stretch of speech decoded like a
    caller turn, since a recogniser fed a long stretch at once drifts into inventing words."""
    from callbot.audio.resample import resample

    texts = []
    for start, end in spoken_spans(pcm):
        piece = resample(pcm[max(0, start - 150) * 16 : (end + 150) * 16], _RATE, 16000)
        recognizer = engine.new_recognizer()
        recognizer.start_turn(())
        for offset in range(0, len(piece), 640):
            recognizer.accept(piece[offset : offset + 640])
        recognizer.pause()
        texts.append(recognizer.finish().text)
        recognizer.close()
    return " ".join(texts)
