"""Call-backs placed by the real gateway: due time → INVITE on the wire, and answer → REFER.

Starts `callbot serve` (Whisper, Pico, one SIP worker) with a 24/7 queue and a trunk pointing at a SIPp
callee on 127.0.0.1 that answers every call, says "oui, c'est bien ça" once the announcement is over,
accepts the REFER and reports it done. `--calls` call-backs are stored due at the same moment; the
dispatcher (poll `--poll-s`, `--concurrency` calls at once) places them. Printed from SIPp's message
trace (its receive times):

- due → INVITE: how late each call leaves after its due time (poll interval, claim, pjsua2 set-up);
- answer → REFER: how long the person spends with the bot before being put through (the announcement,
  their "oui", recognition and decision);
- how many were done, and the wall time to place them all.

    /work/venv/bin/python bench/callback_call_bench.py --calls 4 --concurrency 4
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from callbot.audio.wav import read_wav
from callbot.callbacks import CallbackStatus, CallbackStore
from callbot.dialog import default_flow_path, load_flow
from callbot.dialog.actions import CallContext, Say
from callbot.dialog.callback_call import CallbackCallDialog, CallbackCallRequest
from callbot.dialog.nlu import PARIS
from callbot.session.call_session import RECORDING_NOTICE
from callbot.sip.testing import (
    finish_sipp,
    free_port,
    line_pcap,
    prepare_sipp_dir,
    serve_process,
    sipp_args,
    sipp_media_ports,
    sipp_process,
)
from callbot.tts import PromptCache, create_synthesizer

RATE = 8000
CALLEE_WAV = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "callers" / "oui_2.wav"
CONTEXT = CallContext("+33611223344", "suivi_commande", {"numero_commande": "458129"}, (), "Suivi 458129")
_ENTRY = re.compile(
    r"^-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n(UDP message received[^\n]*)\n\n(\S+)", re.M
)


def announcement_ms() -> int:
    prompts = PromptCache(create_synthesizer("pico"), RATE)
    flow = load_flow(default_flow_path())
    request = CallbackCallRequest("x", "+33611223344", "service_client", CONTEXT, datetime.now(UTC))
    said = CallbackCallDialog(request, flow.callback_call, now=lambda: datetime.now(PARIS)).start().actions
    texts = [RECORDING_NOTICE, *(a.text for a in said if isinstance(a, Say))]
    return sum(len(prompts.get(text)) * 500 // RATE for text in texts)


def write_callee_audio(sipp_dir: Path, onset_ms: int) -> None:
    line_pcap(sipp_dir / "callee.pcap", read_wav(CALLEE_WAV).channel(0), onset_ms, seed=3)


def received(messages: str) -> list[tuple[datetime, str, str]]:
    """(local receive time, first line, Call-ID) of every message SIPp received."""
    out = []
    for match in _ENTRY.finditer(messages):
        stamp = datetime.fromisoformat(match.group(1)).astimezone()
        block = messages[match.end(3) : match.end(3) + 2000]
        call_id = re.search(r"^Call-ID: *(\S+)", block, re.M)
        out.append((stamp, match.group(3), call_id.group(1) if call_id else "?"))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--poll-s", type=float, default=1.0)
    args = parser.parse_args()

    speak_at = announcement_ms() + 800
    with tempfile.TemporaryDirectory(prefix="callback-call-bench-") as tmp:
        work = Path(tmp)
        callee_port = free_port()
        queues = work / "queues.yaml"
        queues.write_text(
            yaml.safe_dump(
                {
                    "queues": {
                        "service_client": {
                            "sip_uri": "sip:service-client@acd.test",
                            "hours": {"lundi-dimanche": ["00:00-24:00"]},
                            "holidays": "none",
                        }
                    }
                }
            )
        )
        settings = {
            "queues": str(queues),
            "callbacks": {"poll_s": args.poll_s, "concurrency": args.concurrency, "lease_s": 120},
            "sip": {
                "worker": {
                    "pjsip_log_level": 1,
                    "trunk_uri_template": f"sip:{{number}}@127.0.0.1:{callee_port}",
                }
            },
        }
        sipp_dir = prepare_sipp_dir(work / "sipp")
        write_callee_audio(sipp_dir, speak_at)
        with serve_process(work / "gw", settings=settings) as gateway:
            store = CallbackStore(gateway.data_dir)
            uas_args = sipp_args(
                "uas_callback.xml",
                remote=None,
                local_port=callee_port,
                media_port=sipp_media_ports(args.calls),
                calls=args.calls,
                keys={"speak_after_ms": "0"},
                timeout_s=300,
            )
            with sipp_process(uas_args, sipp_dir) as uas:
                time.sleep(0.5)
                due = datetime.now(UTC) + timedelta(seconds=3)
                ids = [
                    store.add(
                        due_at=due, queue="service_client", phone=f"+336112233{i:02d}", context=CONTEXT
                    ).id
                    for i in range(args.calls)
                ]
                started = time.monotonic()
                run = finish_sipp(uas, sipp_dir, timeout=300)
            wall = time.monotonic() - started
            statuses = [store.get(ident).status for ident in ids]
            store.close()

    events = received(run.messages)
    invites = {cid: t for t, first, cid in events if first == "INVITE"}
    refers = {cid: t for t, first, cid in events if first == "REFER"}
    acks = {cid: t for t, first, cid in events if first == "ACK"}
    late_ms = [(t - due).total_seconds() * 1000 for t in invites.values()]
    talk_s = [(refers[cid] - acks[cid]).total_seconds() for cid in refers if cid in acks]
    done = sum(status == CallbackStatus.DONE for status in statuses)
    print(f"callbot serve, 1 SIP worker, Whisper + Pico; {args.calls} call-backs due at once")
    print(f"  dispatcher: poll {args.poll_s} s, {args.concurrency} calls at once; SIPp exit {run.returncode}")
    if late_ms:
        print(
            f"  due -> INVITE received: p50 {statistics.median(late_ms):.0f} ms, "
            f"p95 {percentile(late_ms, 0.95):.0f} ms, max {max(late_ms):.0f} ms ({len(late_ms)} calls)"
        )
    if talk_s:
        print(
            f"  answer -> REFER (announcement, 0.8 s, 'oui', then 'je vous passe un conseiller'; the "
            f"person speaks {speak_at / 1000:.1f} s after the answer): "
            f"p50 {statistics.median(talk_s):.1f} s, max {max(talk_s):.1f} s"
        )
    print(f"  done: {done}/{args.calls} in {wall:.1f} s")


if __name__ == "__main__":
    main()
