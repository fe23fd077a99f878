"""SIP worker under load: CPU, memory and media regularity with N simultaneous calls (SIPp on loopback).

One worker process (pjsua2) answers N calls from SIPp, each caller speaking a French prompt in a loop;
the call handler (this process) greets each caller and timestamps every caller frame as it arrives.
Prints the worker's CPU share and RSS, and per call the frame rate and the worst gap between frames.

    /work/venv/bin/python bench/sip_load.py --calls 4 --seconds 20
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from callbot.audio.frame import AudioFrame
from callbot.audio.wav import read_wav
from callbot.sip.demo import PROMPTS, DemoHandler, DemoSettings
from callbot.sip.host import CallControl, HandlerHost
from callbot.sip.protocol import CallStarted
from callbot.sip.rtp_pcap import write_rtp_pcap
from callbot.sip.testing import (
    finish_sipp,
    free_port,
    prepare_sipp_dir,
    short_socket_path,
    sipp_args,
    sipp_media_ports,
    sipp_process,
    worker_process,
)


class TimedHandler(DemoHandler):
    def __init__(self, started: CallStarted, control: CallControl, settings: DemoSettings) -> None:
        super().__init__(started, control, settings)
        self.arrivals: list[float] = []

    def on_audio(self, frame: AudioFrame) -> None:
        self.arrivals.append(time.monotonic())
        super().on_audio(frame)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()

    settings = DemoSettings({})
    handlers: list[TimedHandler] = []
    lock = threading.Lock()

    def factory(started: CallStarted, control: CallControl) -> TimedHandler:
        handler = TimedHandler(started, control, settings)
        with lock:
            handlers.append(handler)
        return handler

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sipp_dir = prepare_sipp_dir(work / "sipp")
        prompt = read_wav(PROMPTS / "transfer.wav")
        looped = prompt.channel(0) * int(args.seconds / 3.5 + 1)
        write_rtp_pcap(sipp_dir / "caller.pcap", looped, prompt.sample_rate)
        recordings = str(work / "rec")
        with (
            HandlerHost(short_socket_path("bench"), factory) as host,
            worker_process(host, work / "worker", max_calls=4, recording_dir=recordings) as worker,
        ):
            pid = worker.process.pid
            idle_cpu, idle_t = cpu_seconds(pid), time.monotonic()
            time.sleep(2.0)
            idle_share = (cpu_seconds(pid) - idle_cpu) / (time.monotonic() - idle_t)
            sipp = sipp_args(
                "uac_audio.xml",
                remote=worker.address,
                local_port=free_port(),
                media_port=sipp_media_ports(args.calls),
                calls=args.calls,
                rate=50,
                duration_ms=int(args.seconds * 1000),
                timeout_s=int(args.seconds) + 30,
            )
            with sipp_process(sipp, sipp_dir) as callers:
                while len(handlers) < args.calls:
                    time.sleep(0.05)
                time.sleep(1.0)
                cpu0, t0 = cpu_seconds(pid), time.monotonic()
                time.sleep(args.seconds - 3)
                busy_share = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
                rss = rss_mb(pid)
                run = finish_sipp(callers, sipp_dir, timeout=args.seconds + 30)
    print(f"calls: {args.calls} x {args.seconds:.0f} s, SIPp exit {run.returncode}")
    print(f"worker CPU: idle {idle_share * 100:.1f} % of a core, with calls {busy_share * 100:.1f} %")
    print(f"worker CPU per call: {(busy_share - idle_share) / args.calls * 100:.2f} % of a core")
    print(f"worker RSS with calls: {rss:.0f} MB")
    for index, handler in enumerate(handlers):
        arrivals = np.array(handler.arrivals[25:-25])
        gaps = np.diff(arrivals) * 1000
        rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        print(
            f"call {index}: {rate:.1f} frames/s, gap p50 {np.percentile(gaps, 50):.1f} ms, "
            f"p99 {np.percentile(gaps, 99):.1f} ms, max {gaps.max():.1f} ms"
        )


if __name__ == "__main__":
    main()
