"""`callbot serve`: the whole gateway on one box — SIP front, media workers, conversation hosts.

The supervisor (callbot/sip/supervisor.py) starts one call-handler host process per SIP worker; each
host loads the speech stack once (`build_session_factory`) and runs one `CallSession` per call on its
own thread, away from PJSIP's media clock (see docs/sip.md for why the processes are split so).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callbot.clock import Clock, wall_clock
from callbot.config import Settings, load_settings
from callbot.dialog.actions import ScheduleCallback
from callbot.dialog.nlu import PARIS
from callbot.session.call_session import CallSession
from callbot.sip.config import ConfigError
from callbot.sip.dialer import SipDialer
from callbot.sip.host import CallControl, CallHandler, HandlerHost
from callbot.sip.protocol import CallEnded, CallStarted, call_file_stem
from callbot.sip.session_adapter import SessionCallHandler, SipChannel
from callbot.sip.supervisor import Supervisor, SupervisorConfig

if TYPE_CHECKING:
    from callbot.callbacks import CallbackStore
    from callbot.callbacks.dispatcher import DialRequest, DialResult
    from callbot.ops.recorder import CallRecorder
    from callbot.session.stack import SpeechStack

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
    worker.setdefault("redact", settings.redact)
    if listen:
        sip["bind_address"], sip["sip_port"] = _parse_listen(listen)
    if workers:
        sip["workers"] = workers
    sip["worker"] = worker
    sip["handler_factory"] = "callbot.sip.serve:build_session_factory"
    sip["handler_options"] = {
        **options,
        "recording_dir": worker.get("recording_dir"),
        "live_dir": str(Path(sip["run_dir"]) / "live"),
    }
    return SupervisorConfig.from_mapping(sip)


def serve_main(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    options = {"config": args.config, **{k: getattr(args, k, None) for k in _OVERRIDES}}
    apply_overrides(settings, options)
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)  # a folder made before (0755) is closed too
    config = supervisor_config(settings, options, args.listen, getattr(args, "workers", None))
    from callbot.ops.gateway_side import start_ops

    stop_ops = start_ops(settings, config.run_path, getattr(args, "http", None))
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
    try:
        return supervisor.run()
    finally:
        stop_ops()


def build_session_factory(options: Mapping[str, Any]) -> GatewayCalls:
    """Entry point of a call-handler host process: load the speech stack once, then one session per call."""
    from callbot.callbacks.outbound import store_from_settings
    from callbot.session.stack import SpeechStack

    settings = apply_overrides(load_settings(options.get("config")), options)
    store = store_from_settings(settings)
    stack = SpeechStack(settings, callback_store=store)
    for line in stack.banner():
        print(f"callbot handler | {line}", file=sys.stderr, flush=True)
    stack.warm_closed_sets()  # before the first call, not during it
    recording_dir = Path(options["recording_dir"]) if options.get("recording_dir") else None
    return GatewayCalls(stack, recording_dir, recorder=_call_recorder(stack, store, options))


def _call_recorder(stack: SpeechStack, store: CallbackStore, options: Mapping[str, Any]) -> CallRecorder:
    """Call records in the call-back store's database, live calls under the run folder (ops page),
    webhooks when the settings name any (their outbox in the same database)."""
    from callbot.calls import CallRecordStore
    from callbot.ops.live import LiveCallBoard
    from callbot.ops.outbox import WebhookOutbox
    from callbot.ops.recorder import CallRecorder
    from callbot.ops.webhooks import WebhookSender

    board = LiveCallBoard(Path(options["live_dir"])) if options.get("live_dir") else None
    hooks = stack.settings.webhooks
    return CallRecorder(
        CallRecordStore(store),
        board,
        stack.flow,
        webhooks=WebhookSender(hooks, outbox=WebhookOutbox(store)) if hooks else None,
        redact=stack.settings.redact,
    )


class GatewayCalls:
    """The gateway's `HandlerFactory`: a conversation for every answered call, inbound or a call-back.

    It also runs this host's call-back dispatcher (`start_services`, called by the host once it
    listens): due call-backs are claimed from the store, dialled through the host's SIP workers, and
    answered ones get a `CallbackCallDialog` session.
    """

    def __init__(
        self,
        stack: SpeechStack,
        recording_dir: Path | None,
        clock: Clock = wall_clock,
        recorder: CallRecorder | None = None,
    ) -> None:
        self.stack = stack
        self.recorder = recorder  # call records, metrics and the live board (callbot/ops/recorder.py)
        self.recording_dir = recording_dir
        self.clock = clock  # a live call starts at the real time; its audio clock runs from there
        self.queue_uris = {name: queue.sip_uri for name, queue in stack.flow.queues.items() if queue.sip_uri}
        self.sorry = stack.prompts(8000).get(stack.flow.prompts.transfer_given_up())

    def __call__(self, call: CallStarted, control: CallControl) -> CallHandler:
        started_at = self.clock()
        try:
            request = call.metadata.get("callback")
            if call.direction == "outbound" and request is not None:
                handler = self._callback_call(call, control, request)
            else:
                handler = self._inbound_call(call, control)
        except Exception as exc:
            if self.recorder is not None:
                self.recorder.failed_to_start(call, started_at, exc)
            raise
        return handler if self.recorder is None else self.recorder.watch(call, handler, started_at)

    def _inbound_call(self, call: CallStarted, control: CallControl) -> SessionCallHandler:
        stack = self.stack

        def schedule(action: ScheduleCallback) -> None:
            stack.store_callback(action, caller=call.caller_number, call_id=call.call_id)

        # Only a caller id that is a valid phone number reaches the conversation (read back, called
        # back, stored): the rest is whatever a SIP peer chose to write in its From header.
        channel = SipChannel(control, queue_uris=self.queue_uris, schedule_callback=schedule)
        session = stack.new_session(
            call_id=call.call_id,
            origin=self.clock().astimezone(PARIS),
            caller=call.caller_number,
            callee=call.callee,
            channel=channel,
            sample_rate=call.sample_rate,
            log_path=self._log_path(call),
            announce_recording=self.recording_dir is not None,
        )
        return SessionCallHandler(session, control, transfer_failed_audio=self.sorry)

    def _callback_call(
        self, call: CallStarted, control: CallControl, dial: DialRequest
    ) -> SessionCallHandler:
        from callbot.callbacks.outbound import callback_call_request

        stack = self.stack

        def schedule(action: ScheduleCallback) -> None:
            # The person asked for another time: a new request, with this call as its origin.
            stack.store_callback(action, caller=dial.phone, call_id=call.call_id)

        uris = {**self.queue_uris, **({dial.queue: dial.queue_uri} if dial.queue_uri else {})}
        channel = SipChannel(control, queue_uris=uris, schedule_callback=schedule)
        session = stack.new_callback_session(
            callback_call_request(dial),
            call_id=call.call_id,
            origin=self.clock().astimezone(PARIS),
            channel=channel,
            sample_rate=call.sample_rate,
            log_path=self._log_path(call),
            announce_recording=self.recording_dir is not None,
        )
        return SessionCallHandler(session, control, transfer_failed_audio=self.sorry)

    def _log_path(self, call: CallStarted) -> Path | None:
        return call_log_path(self.recording_dir, call.call_id) if self.recording_dir else None

    # ------------------------------------------------------------------------------- call-backs

    def start_services(self, host: HandlerHost) -> Callable[[], None]:
        """Start what runs beside the calls: the readiness report (`/readyz`) and the call-back
        dispatcher; returns the function that stops them (and hands this host's undelivered webhooks
        over)."""
        from callbot.ops.readiness import report_connected_workers

        stop_reporting = report_connected_workers(host.connected_links)
        stop_dispatching = self._start_dispatcher(host)

        def stop() -> None:
            stop_dispatching()
            stop_reporting()
            if self.recorder is not None and self.recorder.webhooks is not None:
                self.recorder.webhooks.close()  # its undelivered webhooks go to the next host at once

        return stop

    def _start_dispatcher(self, host: HandlerHost) -> Callable[[], None]:
        """Start this host's call-back dispatcher; returns the function that stops it (calls in progress
        are finished first). Nothing runs when dispatching is off or no trunk can reach numbers."""
        from callbot.callbacks import Dispatcher
        from callbot.callbacks.outbound import retry_policy

        settings = self.stack.settings
        options = settings.callbacks
        trunk = (settings.sip.get("worker") or {}).get("trunk_uri_template")
        store = self.stack.callback_store
        if not options.dispatch or store is None:
            print(
                "callbot handler | call-backs: stored, not dialled here (callbacks.dispatch is off)",
                file=sys.stderr,
                flush=True,
            )
            return lambda: None
        if not trunk:
            print(
                "callbot handler | call-backs: stored, NOT dialled: set sip.worker.trunk_uri_template "
                "(e.g. sip:{number}@trunk.example:5060) to place them",
                file=sys.stderr,
                flush=True,
            )
            return lambda: None
        dialer = SipDialer(
            host,
            caller_id=options.caller_id,
            answer_timeout_s=options.answer_timeout_s,
            judge=judge_callback_call,
        )
        dispatcher = Dispatcher(
            store,
            dialer,
            self.stack.queues,
            lease_s=options.lease_s,
            retry=retry_policy(settings),
            concurrency=options.concurrency,
            capacity=dialer.free_capacity,
        )
        stop = threading.Event()
        thread = threading.Thread(
            target=dispatcher.run_forever,
            args=(stop, options.poll_s),
            name="callback-dispatcher",
            daemon=True,
        )
        thread.start()
        print(
            f"callbot handler | call-backs: dialled through {trunk}, {options.concurrency} at a time "
            f"(dispatcher {dispatcher.dispatcher_id})",
            file=sys.stderr,
            flush=True,
        )

        def stop_dispatching() -> None:
            stop.set()
            thread.join()

        return stop_dispatching


def judge_callback_call(handler: CallHandler, ended: CallEnded) -> DialResult:
    """What an answered call-back call achieved, read from its session (see `dial_result_of`)."""
    from callbot.callbacks.outbound import dial_result_of

    session = getattr(handler, "session", None)
    if not isinstance(session, CallSession):
        from callbot.sip.dialer import reached

        return reached(handler, ended)
    return dial_result_of(session.outcome, session.conversation.heard_someone, ended.reason)
