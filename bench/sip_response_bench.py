"""How fast `callbot serve` answers, heard from the callers' side: N simultaneous SIP calls, real dialogue.

`callbot serve --asr whisper` (1 worker, or 2 behind the Kamailio front) takes N calls from SIPp at
once. Each caller stays on the line through the greeting (sending line noise, as a phone does), then
asks "Quels sont les horaires d'ouverture du magasin de Lyon ?" (tests/fixtures/calls/horaires.wav)
and listens to the answer.

Measured on the wire: a raw packet socket on the loopback interface (AF_PACKET, needs root or
CAP_NET_RAW) timestamps every RTP packet of the gateway's calls, both directions, with the kernel's
clock. Per call:
- response latency = end of the caller's speech (last RTP packet the caller sent with speech in it,
  > -45 dBFS) → first RTP packet from the bot after it with sound in it (> -45 dBFS): what the caller
  hears, network and jitter buffers aside; next to it the session's own estimate (`response_ms` in
  the call's event log);
- RTP gaps: consecutive bot packets more than 40 ms apart (the worker's media clock stalled); packets
  missing from the capture (sequence numbers) are counted apart, as "uncaptured";
- dropouts: the bot's answer as received, aligned frame by frame on the same prompts synthesised here
  (Pico is deterministic): silent frames inserted inside the answer (the worker's buffer ran dry) and
  frames of the answer that never came (skipped);
- CPU (% of one core, over the round and in its busiest second) and peak RSS of every process of the
  gateway, from /proc.
The callers all speak at the same moment (SIPp starts them 20 ms apart): the worst case for Whisper,
which decodes each turn when it ends.

    sudo /work/venv/bin/python bench/sip_response_bench.py                  # 1 worker: 1, 2, 4 calls
    sudo /work/venv/bin/python bench/sip_response_bench.py --workers 1 2 --calls 1 2 4 8
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import struct
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import yaml

from callbot.audio.g711 import ulaw_decode, ulaw_encode
from callbot.audio.wav import read_wav
from callbot.dialog import Conversation, default_flow_path, load_flow
from callbot.dialog.actions import Say
from callbot.dialog.nlu import PARIS
from callbot.session.call_session import RECORDING_NOTICE
from callbot.sip.rtp_pcap import write_rtp_pcap
from callbot.sip.testing import (
    ServeHandle,
    free_port,
    free_port_block,
    prepare_sipp_dir,
    run_sipp,
    serve_process,
    sipp_args,
)
from callbot.tts import PromptCache, create_synthesizer

RATE = 8000
FRAME = 160  # samples in 20 ms
CALLS_DIR = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "calls"
CALL_FIXTURE = "horaires.wav"
SOUND_DBFS = -45.0
LINE_NOISE_DBFS = -55.0
RTP_GAP_S = 0.040
QUIET_RMS = 32768 * 10 ** (-50 / 20)
LISTEN_AFTER_SPEECH_MS = 12000
_ETH_P_ALL = 0x0003
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_SO_RCVBUFFORCE = 33
_PCMU = 0


# ------------------------------------------------------------------------------------------ capture
@dataclass
class Stream:
    """One direction of one call's RTP: kernel timestamps (s), sequence numbers, G.711 μ-law payloads."""

    times: list[float] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)


class LoopbackRtpCapture:
    """Every PCMU RTP packet to or from `ports` on `lo`, kept per gateway port (= per call) and direction."""

    def __init__(self, ports: range) -> None:
        self.ports = ports
        self.streams: dict[tuple[int, str], Stream] = defaultdict(Stream)
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
        self._sock.bind(("lo", 0))
        self._sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        with contextlib.suppress(OSError):  # room for seconds of packets should this thread be starved
            self._sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 64 * 1024 * 1024)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rtp-capture", daemon=True)

    def __enter__(self) -> LoopbackRtpCapture:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, ancillary, _, address = self._sock.recvmsg(2048, 64)
            except TimeoutError:
                continue
            # Loopback shows each packet twice (sent, then received): keep the sent copy only.
            if address[2] != socket.PACKET_OUTGOING or data[12:14] != b"\x08\x00" or data[23] != 17:
                continue
            header = (data[14] & 0x0F) * 4
            udp = data[14 + header :]
            source, destination = struct.unpack("!HH", udp[:4])
            rtp = udp[8:]
            if len(rtp) < 12 or rtp[0] >> 6 != 2 or rtp[1] & 0x7F != _PCMU:
                continue  # not audio RTP (RTCP, telephone-event, SIP)
            if destination in self.ports:
                key = (destination, "caller")
            elif source in self.ports:
                key = (source, "bot")
            else:
                continue
            stamp = time.time()
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
                    seconds, nanoseconds = struct.unpack("qq", value[:16])
                    stamp = seconds + nanoseconds / 1e9
            stream = self.streams[key]
            stream.times.append(stamp)
            stream.seqs.append(struct.unpack("!H", rtp[2:4])[0])
            stream.payloads.append(rtp[12:])


def level_dbfs(payload: bytes) -> float:
    samples = np.frombuffer(ulaw_decode(payload), dtype="<i2").astype(np.float64)
    power = float(np.mean(samples**2)) if len(samples) else 0.0
    return 10 * np.log10(power / 32768**2) if power > 0 else -120.0


# ------------------------------------------------------------------------------------------ analysis
@dataclass
class CallFigures:
    latency_ms: float | None
    rtp_gaps: int  # the bot's packets came more than RTP_GAP_S apart although none was missing
    worst_gap_ms: float
    not_captured: int  # packets missing from the capture (sequence numbers), not counted as gaps
    inserted_silence: int
    skipped: int


def analyse(caller: Stream, bot: Stream, reply: np.ndarray) -> CallFigures:
    """Figures of one call from its two RTP streams; `reply` holds the bot's expected answer frames."""
    spoken = [t for t, p in zip(caller.times, caller.payloads, strict=True) if level_dbfs(p) > SOUND_DBFS]
    # A gap between two packets with consecutive sequence numbers is the sender's: the media clock
    # stalled. Missing sequence numbers mean the capture fell behind (or a packet was lost): set apart.
    seqs = np.array(bot.seqs, dtype=np.int64)
    steps = np.mod(np.diff(seqs), 65536) if len(seqs) > 1 else np.ones(1, dtype=np.int64)
    gaps = np.diff(bot.times) if len(bot.times) > 1 else np.zeros(1)
    sender_gaps = gaps[steps == 1]
    figures = CallFigures(
        None,
        int(np.sum(sender_gaps > RTP_GAP_S)),
        float(sender_gaps.max() * 1000) if len(sender_gaps) else 0.0,
        int(np.sum(steps[steps > 1] - 1)),
        0,
        0,
    )
    if not spoken:
        return figures
    speech_end = spoken[-1]
    first = next(
        (
            i
            for i, (t, p) in enumerate(zip(bot.times, bot.payloads, strict=True))
            if t > speech_end and level_dbfs(p) > SOUND_DBFS
        ),
        None,
    )
    if first is None:
        return figures
    figures.latency_ms = (bot.times[first] - speech_end) * 1000
    received = _frames_with_losses(bot, first)
    figures.inserted_silence, figures.skipped = _align(received, reply)
    return figures


def _frames_with_losses(bot: Stream, first: int) -> list[np.ndarray | None]:
    """Decoded bot frames from `first` on, None where a packet is missing (by sequence number)."""
    frames: list[np.ndarray | None] = []
    previous = None
    for seq, payload in zip(bot.seqs[first:], bot.payloads[first:], strict=True):
        if previous is not None:
            frames.extend([None] * ((seq - previous - 1) & 0xFFFF))
        frames.append(np.frombuffer(ulaw_decode(payload), dtype="<i2").astype(np.float64))
        previous = seq
    return frames


def _quiet(frame: np.ndarray) -> bool:
    return float(np.sqrt(np.mean(frame**2))) < QUIET_RMS


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Two frames of the answer match: both (nearly) silent, or the same waveform."""
    if _quiet(a) or _quiet(b):
        return _quiet(a) and _quiet(b)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))) > 0.9


def _align(received: list[np.ndarray | None], reply: np.ndarray) -> tuple[int, int]:
    """(silent frames inserted into the answer, answer frames never played), walking both in step.

    A received frame that is not the expected one is looked for a little before (the answer fell
    behind: silence was inserted) or ahead (frames were skipped) of where it should be.
    """
    loud = np.flatnonzero([not _quiet(frame) for frame in reply])
    j, inserted, skipped = (int(loud[0]) if len(loud) else 0), 0, 0
    for frame in received:
        if j >= len(reply):
            break
        if frame is None:  # not captured: no evidence either way
            j += 1
            continue
        if _same(frame, reply[j]):
            j += 1
            continue
        if not np.any(frame) and not _quiet(reply[j]):
            inserted += 1  # digital silence where the answer should go on: the worker's buffer ran dry
            continue
        window = range(max(0, j - 50), min(len(reply), j + 100))
        found = [k for k in window if not _quiet(reply[k]) and _same(frame, reply[k])]
        if not found:
            j += 1  # a frame unlike any nearby: count it as played in place
            continue
        k = min(found, key=lambda k: abs(k - j))
        if k > j:
            skipped += k - j
        else:
            inserted += j - k
        j = k + 1
    return inserted, skipped


# ------------------------------------------------------------------------------------------ processes
def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            found += [int(c) for c in children.read_text().split()]
    return found


def process_tree(root: int) -> dict[int, str]:
    """pid → role ("serve", "worker-0", "host-0", "kamailio") for the gateway's processes."""
    roles: dict[int, str] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            todo += _children(pid)
        except OSError:
            continue
        text = " ".join(part.decode(errors="replace") for part in argv)
        if "callbot.sip.worker" in text:
            roles[pid] = "worker-" + text.rsplit("worker-", 1)[-1].split(".", 1)[0]
        elif "callbot.sip.host" in text:
            roles[pid] = "host-" + text.rsplit("handler-", 1)[-1].split(".", 1)[0]
        elif "kamailio" in text:
            roles[pid] = "kamailio"
        elif pid == root:
            roles[pid] = "serve"
    return roles


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class ResourceSampler:
    """Per role (kamailio's processes added together): CPU over the whole round, the busiest second of
    it (the decodes come in bursts), and peak RSS."""

    def __init__(self, roles: dict[int, str]) -> None:
        self.roles = roles
        self.peak_rss: dict[str, float] = defaultdict(float)
        self.peak_cpu: dict[str, float] = defaultdict(float)
        self.cpu_percent: dict[str, float] = defaultdict(float)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _cpu_by_role(self) -> dict[str, float]:
        total: dict[str, float] = defaultdict(float)
        for pid, role in self.roles.items():
            with contextlib.suppress(OSError):  # a process that exited meanwhile
                total[role] += cpu_seconds(pid)
        return total

    def __enter__(self) -> ResourceSampler:
        self._start = time.monotonic()
        self._first = self._cpu_by_role()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        wall = time.monotonic() - self._start
        for role, seconds in self._cpu_by_role().items():
            self.cpu_percent[role] = (seconds - self._first.get(role, 0.0)) / wall * 100

    def _run(self) -> None:
        previous, then = self._first, self._start
        while not self._stop.wait(1.0):
            now, current = time.monotonic(), self._cpu_by_role()
            for role, seconds in current.items():
                busy = (seconds - previous.get(role, 0.0)) / (now - then) * 100
                self.peak_cpu[role] = max(self.peak_cpu[role], busy)
            previous, then = current, now
            rss: dict[str, float] = defaultdict(float)
            for pid, role in self.roles.items():
                with contextlib.suppress(OSError):
                    rss[role] += rss_mb(pid)
            for role, value in rss.items():
                self.peak_rss[role] = max(self.peak_rss[role], value)


# ------------------------------------------------------------------------------------------ the run
@dataclass
class Caller:
    """What every caller says, when, and what the bot should answer (as frames)."""

    pcap_pcm: bytes
    speech_end_ms: int
    reply: np.ndarray


def prepare_caller() -> Caller:
    flow = load_flow(default_flow_path())
    prompts = PromptCache(create_synthesizer("pico"), RATE)
    conversation = Conversation(flow, now=lambda: datetime.now(PARIS), caller="+33612345678")
    greeting = [a.text for a in conversation.start().actions if isinstance(a, Say)]
    opening_ms = sum(len(prompts.get(text)) // 16 for text in [RECORDING_NOTICE, *greeting])
    entry = next(
        c
        for c in yaml.safe_load((CALLS_DIR / "manifest.yaml").read_text())["calls"]
        if c["file"] == CALL_FIXTURE
    )
    onset, offset = entry["turns"][0]["speech_ms"]
    speech = read_wav(CALLS_DIR / CALL_FIXTURE).channel(entry["caller_channel"])[
        onset * 16 : (offset + 500) * 16
    ]
    lead_ms = opening_ms + 500
    noise = np.random.default_rng(7).normal(0, 32768 * 10 ** (LINE_NOISE_DBFS / 20), lead_ms * 8)
    pcm = np.concatenate([noise, np.frombuffer(speech, dtype="<i2")]).clip(-32768, 32767).astype("<i2")
    said = [a.text for a in conversation.hear(entry["turns"][0]["text"]).actions if isinstance(a, Say)]
    reply = b"".join(prompts.get(text) + bytes(-len(prompts.get(text)) % (FRAME * 2)) for text in said)
    frames = np.frombuffer(ulaw_decode(ulaw_encode(reply)), dtype="<i2").astype(np.float64).reshape(-1, FRAME)
    return Caller(pcm.tobytes(), lead_ms + offset - onset, frames)


@dataclass
class Round:
    workers: int
    calls: int
    answered: int
    latencies: list[float]
    session_ms: list[int]
    figures: list[CallFigures]
    cpu: dict[str, float]
    peak_cpu: dict[str, float]
    rss: dict[str, float]


def run_round(gateway: ServeHandle, caller: Caller, calls: int, work: Path, workers: int) -> Round:
    sipp_dir = prepare_sipp_dir(work / f"sipp-{workers}w-{calls}c")
    write_rtp_pcap(sipp_dir / "caller.pcap", caller.pcap_pcm, RATE)
    before = set(gateway.recordings.glob("*.jsonl")) if gateway.recordings.exists() else set()
    args = sipp_args(
        "uac_bot_caller.xml",
        remote=gateway.address,
        local_port=free_port(),
        media_port=free_port_block(4 * calls + 4),
        calls=calls,
        rate=50,
        duration_ms=caller.speech_end_ms + LISTEN_AFTER_SPEECH_MS,
        keys={"speak_after_ms": "0"},
        timeout_s=180,
    )
    roles = process_tree(gateway.process.pid)
    with LoopbackRtpCapture(gateway.rtp_ports) as capture, ResourceSampler(roles) as resources:
        run = run_sipp(args, sipp_dir, timeout=200)
    if run.returncode != 0:
        print(f"  SIPp: exit {run.returncode}: {run.errors[-500:]}", file=sys.stderr)
    time.sleep(1.0)  # the last event logs are closed when the calls' ends reach the hosts
    ports = sorted({port for port, _ in capture.streams})
    figures = [
        analyse(capture.streams[(port, "caller")], capture.streams[(port, "bot")], caller.reply)
        for port in ports
        if (port, "bot") in capture.streams
    ]
    session_ms = []
    for log in set(gateway.recordings.glob("*.jsonl")) - before:
        for line in log.read_text().splitlines():
            if '"bot_audio_start"' in line and '"response_ms"' in line:
                session_ms.append(int(json.loads(line)["response_ms"]))
                break
    latencies = [f.latency_ms for f in figures if f.latency_ms is not None]
    return Round(
        workers,
        calls,
        len(latencies),
        latencies,
        session_ms,
        figures,
        resources.cpu_percent,
        resources.peak_cpu,
        resources.peak_rss,
    )


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def print_table(rounds: list[Round]) -> None:
    print()
    print(
        f"{'workers':>7} {'calls':>5} {'answered':>8} | {'latency p50':>11} {'p95':>6} {'max':>6} | "
        f"{'session p50':>11} {'p95':>6} | {'RTP gaps':>8} {'worst':>6} {'uncaptured':>10} | "
        f"{'inserted':>8} {'skipped':>7}"
    )
    for r in rounds:
        gaps = sum(f.rtp_gaps for f in r.figures)
        worst = max((f.worst_gap_ms for f in r.figures), default=0.0)
        print(
            f"{r.workers:>7} {r.calls:>5} {r.answered:>8} | {percentile(r.latencies, 50):>9.0f}ms "
            f"{percentile(r.latencies, 95):>6.0f} {max(r.latencies, default=float('nan')):>6.0f} | "
            f"{percentile(r.session_ms, 50):>9.0f}ms {percentile(r.session_ms, 95):>6.0f} | "
            f"{gaps:>8} {worst:>4.0f}ms {sum(f.not_captured for f in r.figures):>10} | "
            f"{sum(f.inserted_silence for f in r.figures):>8} "
            f"{sum(f.skipped for f in r.figures):>7}"
        )
    print()
    print(f"{'workers':>7} {'calls':>5} | per process: CPU % of one core (round / busiest second), peak RSS")
    for r in rounds:
        parts = [
            f"{role} {r.cpu[role]:.0f}/{r.peak_cpu.get(role, 0):.0f}% {r.rss.get(role, 0):.0f}MB"
            for role in sorted(r.cpu)
        ]
        print(f"{r.workers:>7} {r.calls:>5} | " + ", ".join(parts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="gateways to try (e.g. 1 2)")
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 2, 4, 8], help="simultaneous calls")
    args = parser.parse_args()
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL)).close()
    except PermissionError:
        print("sip_response_bench: capturing RTP on lo needs root or CAP_NET_RAW", file=sys.stderr)
        return 2
    caller = prepare_caller()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for workers in args.workers:
            with serve_process(Path(tmp) / f"serve-{workers}", workers=workers) as gateway:
                for calls in args.calls:
                    if calls > 4 * workers:
                        print(f"  {calls} calls: skipped, {workers} worker(s) hold {4 * workers}", flush=True)
                        continue
                    print(f"  {workers} worker(s), {calls} call(s)…", flush=True)
                    rounds.append(run_round(gateway, caller, calls, Path(tmp), workers))
    print_table(rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
