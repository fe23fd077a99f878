"""`callbot serve`: the whole gateway on one box — SIP front, media workers, conversation hosts.

The supervisor (callbot/sip/supervisor.py) starts one call-handler host process per SIP worker; each
host loads the speech stack once (`build_session_factory`) and runs one `CallSession` per call on its
own thread, away from PJSIP's media clock (see docs/sip.md for why the processes are split so).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from callbot.config import Settings, load_settings
from callbot.dialog.actions import ScheduleCallback
from callbot.dialog.nlu import PARIS
from callbot.sip.config import ConfigError
from callbot.sip.host import CallControl
from callbot.sip.protocol import CallStarted, call_file_stem
from callbot.sip.session_adapter import SessionCallHandler, SipChannel
from callbot.sip.supervisor import Supervisor, SupervisorConfig

TRANSFER_FAILED = "Je n'arrive pas à joindre un conseiller. Merci de rappeler plus tard. Au revoir."
_OVERRIDES = ("flow", "asr", "tts", "vad")
# The worker names a call's recording `<Call-ID>.wav` with every character outside this set replaced by
# "_" (callbot/sip/worker.py); the event log must follow the same rule to lie next to it. A Call-ID may
# hold "/" (RFC 3261 `word`), so the raw Call-ID in a path could also write outside the directory.


def call_log_path(recording_dir: Path, call_id: str) -> Path:
    """Where a call's JSON-lines event log goes: next to its recording, `<Call-ID>.jsonl`."""
    return recording_dir / f"{call_file_stem(call_id)}.jsonl"


def _parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--listen {value!r}: expected ADDRESS:PORT, e.g. 127.0.0.1:5060")
    return host, int(port)


def apply_overrides(settings: Settings, options: Mapping[str, Any]) -> Settings:
    """Command-line choices (flow, engines) on top of the settings file."""
    if options.get("flow"):
        settings.flow = Path(options["flow"])
    if options.get("asr"):
        settings.asr.engine = options["asr"]
    if options.get("tts"):
        settings.tts.engine = options["tts"]
    if options.get("vad"):
        settings.vad.engine = options["vad"]
    return settings


def supervisor_config(
    settings: Settings, options: Mapping[str, Any], listen: str | None, workers: int | None
) -> SupervisorConfig:
    """The SIP layout from the settings' `sip:` section, the command line and callbot's defaults."""
    data = settings.data_dir.resolve()
    sip: dict[str, Any] = {"run_dir": str(data / "sip"), **settings.sip}
    worker = dict(sip.pop("worker", {}) or {})
    if settings.record_calls:
        worker.setdefault("recording_dir", str(data / "recordings"))
    if listen:
        sip["bind_address"], sip["sip_port"] = _parse_listen(listen)
    if workers:
        sip["workers"] = workers
    sip["worker"] = worker
    sip["handler_factory"] = "callbot.sip.serve:build_session_factory"
    sip["handler_options"] = {**options, "recording_dir": worker.get("recording_dir")}
    return SupervisorConfig.from_mapping(sip)


def serve_main(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    options = {"config": args.config, **{k: getattr(args, k, None) for k in _OVERRIDES}}
    apply_overrides(settings, options)
    config = supervisor_config(settings, options, args.listen, getattr(args, "workers", None))
    front = "Kamailio front" if config.uses_front else "no front"
    print(
        f"callbot serve | SIP udp+tcp {config.bind_address}:{config.sip_port} | {config.workers} worker(s), "
        f"{front} | recordings: {config.worker.get('recording_dir') or 'off'} | "
        "engines: see the handler lines below",
        file=sys.stderr,
        flush=True,
    )
    supervisor = Supervisor(config)
    signal.signal(signal.SIGTERM, lambda *_: supervisor.request_stop())
    signal.signal(signal.SIGINT, lambda *_: supervisor.request_stop())
    return supervisor.run()


def build_session_factory(
    options: Mapping[str, Any],
) -> Callable[[CallStarted, CallControl], SessionCallHandler]:
    """Entry point of a call-handler host process: load the speech stack once, then one session per call."""
    from callbot.callbacks import CallbackStore
    from callbot.session.stack import SpeechStack

    settings = apply_overrides(load_settings(options.get("config")), options)
    store = CallbackStore(settings.database_url or settings.data_dir)
    store.migrate()
    stack = SpeechStack(settings, callback_store=store)
    for line in stack.banner():
        print(f"callbot handler | {line}", file=sys.stderr, flush=True)
    queue_uris = {name: queue.sip_uri for name, queue in stack.flow.queues.items() if queue.sip_uri}
    recording_dir = Path(options["recording_dir"]) if options.get("recording_dir") else None
    sorry = stack.prompts(8000).get(TRANSFER_FAILED)

    def factory(call: CallStarted, control: CallControl) -> SessionCallHandler:
        def schedule(action: ScheduleCallback) -> None:
            stack.store_callback(action, caller=call.caller, call_id=call.call_id)

        channel = SipChannel(control, queue_uris=queue_uris, schedule_callback=schedule)
        session = stack.new_session(
            call_id=call.call_id,
            origin=datetime.now(PARIS),
            caller=call.caller,
            channel=channel,
            sample_rate=call.sample_rate,
            log_path=call_log_path(recording_dir, call.call_id) if recording_dir else None,
            announce_recording=recording_dir is not None,
        )
        return SessionCallHandler(session, control, transfer_failed_audio=sorry)

    return factory
