"""The `callbot` command: serve calls, try a flow, replay recordings, check flows, manage models.

User errors (a bad flow, a missing file, an unknown model) end with one line on stderr and exit code 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from callbot import __version__
from callbot.clock import wall_clock

if TYPE_CHECKING:  # imports kept lazy so that `callbot --help` answers at once
    from callbot.callbacks import CallbackStore
    from callbot.config import Settings
    from callbot.dialog import Conversation, Flow
    from callbot.replay.replay import ReplayResult
    from callbot.session.stack import SpeechStack

PARIS = ZoneInfo("Europe/Paris")


class UserError(Exception):
    """An error the user can fix; printed as one line."""


def _parse_now(value: str | None) -> datetime:
    if not value:
        return wall_clock().astimezone(PARIS)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"--now {value!r}: expected ISO-8601, e.g. 2026-11-23T10:30:00+01:00") from exc
    return parsed.replace(tzinfo=PARIS) if parsed.tzinfo is None else parsed.astimezone(PARIS)


def _settings(args: argparse.Namespace) -> Settings:
    from callbot.config import load_settings

    settings = load_settings(args.config)
    if getattr(args, "flow", None):
        settings.flow = Path(args.flow)
    if getattr(args, "asr", None):
        settings.asr.engine = args.asr
    if getattr(args, "tts", None):
        settings.tts.engine = args.tts
    if getattr(args, "vad", None):
        settings.vad.engine = args.vad
    return settings


def _stack(
    args: argparse.Namespace, quiet: bool = False, callback_store: CallbackStore | None = None
) -> SpeechStack:
    from callbot.session.stack import SpeechStack

    stack = SpeechStack(_settings(args), callback_store=callback_store)
    if not quiet:
        for line in stack.banner():
            print(f"callbot {__version__} | {line}", file=sys.stderr)
    return stack


# ---------------------------------------------------------------------------------------------- commands
def cmd_replay(args: argparse.Namespace) -> int:
    from callbot.audio import read_wav
    from callbot.replay import replay_call
    from callbot.replay.header import read_header, replay_setup

    recordings = []
    for given in args.recordings:  # a folder stands for the recordings in it
        folder = Path(given)
        found = sorted(str(p) for p in folder.glob("*.wav")) if folder.is_dir() else [given]
        if folder.is_dir() and not found:
            raise UserError(f"{given}: no recordings (*.wav) in this folder")
        recordings += found
    for path in recordings:
        if not Path(path).is_file():
            raise UserError(f"{path}: no such recording")
        read_wav(path)  # a bad file is refused before the models load
    store = _callback_store(args) if args.store_callbacks or args.record_calls else None
    stack = _stack(args, quiet=args.json, callback_store=store if args.store_callbacks else None)
    now = _parse_now(args.now) if args.now else None
    events = open(args.events, "a", encoding="utf-8") if args.events else None  # noqa: SIM115
    try:
        for path in recordings:
            # Without --now/--caller, a recording made by `serve` replays as of its call (event-log header).
            setup = replay_setup(read_header(path), now=now, caller=args.caller)
            result = replay_call(
                stack,
                path,
                now=setup.now,
                timing=args.timing,
                caller=setup.caller,
                log_stream=events,
                store_callbacks=args.store_callbacks,
            )
            if store is not None and args.record_calls:
                _record_replay(store, stack, result, setup.now, setup.caller)
            if args.json:
                print(json.dumps(result.as_dict(), ensure_ascii=False))
            else:
                _print_replay(result.as_dict())
    finally:
        if events is not None:
            events.close()
    return 0


def _record_replay(
    store: CallbackStore, stack: SpeechStack, result: ReplayResult, now: datetime, caller: str | None
) -> None:
    """`--record-calls`: the replayed call gets its call record, as a live call would."""
    from callbot.calls import CallRecordStore, flow_hash, record_from_replay

    record = record_from_replay(
        result, started_at=now, caller=caller, flow=stack.flow, flow_hash=flow_hash(stack.flow)
    )
    CallRecordStore(store).add(record)


def _print_replay(report: dict) -> None:
    print(
        f"== {report['source']}  ({report['audio_ms'] / 1000:.1f} s audio, RTF {report['real_time_factor']})"
    )
    for turn in report["turns"]:
        heard = turn["transcript"] or (f"[DTMF {turn['dtmf']}]" if turn.get("dtmf") else "[silence]")
        print(f"  caller {turn['start_ms'] / 1000:6.2f}s  {heard}")
        slots = f" {turn['slots']}" if turn["slots"] else ""
        latency = f" (+{turn['response_ms']} ms)" if turn["response_ms"] is not None else ""
        print(f"     -> {turn['intent'] or '?'}{slots}")
        if turn["bot"]:
            print(f"  bot{latency}: {turn['bot']}")
    print(f"  outcome: {json.dumps(report['outcome'], ensure_ascii=False)}")


def cmd_chat(args: argparse.Namespace) -> int:
    from callbot.dialog import default_flow_path, load_flow
    from callbot.dialog.actions import Hangup, Say, ScheduleCallback, Transfer

    settings = _settings(args)
    flow = load_flow(settings.flow or default_flow_path())
    now = _parse_now(args.now)
    conversation = _chat_conversation(args, settings, flow, now)
    print(
        f"flow {flow.name}: type what the caller says; '#123' sends DTMF, an empty line is silence, "
        "Ctrl-D hangs up.",
        file=sys.stderr,
    )
    result = conversation.start()
    while True:
        for action in result.actions:
            if isinstance(action, Say):
                print(f"bot> {action.text}")
            elif isinstance(action, Transfer):
                print(f"[transfer to {action.queue}: {action.context.summary}]")
            elif isinstance(action, ScheduleCallback):
                print(f"[call-back at {action.at.isoformat()} on {action.phone or 'caller id'}]")
            elif isinstance(action, Hangup):
                print(f"[hang up: {action.reason}]")
        if args.show_intents and result.intent is not None:
            print(f"      (intent {result.intent} {result.confidence:.2f} {result.slots})", file=sys.stderr)
        if conversation.ended:
            return 0
        try:
            line = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if not line:
            result = conversation.no_input()
        elif line.startswith("#") and line[1:] and all(c in "0123456789*#" for c in line[1:]):
            result = conversation.dtmf(line[1:])
        else:
            result = conversation.hear(line)


def _chat_conversation(
    args: argparse.Namespace, settings: Settings, flow: Flow, now: datetime
) -> Conversation:
    """The conversation `serve` would hold at `now`: the same queues (hours, holidays, load) before a
    transfer, the same call-back time check (hours and slots, read from the store), a caller id as a
    live call has one. Call-backs are shown, never stored; what is skipped is said on stderr."""
    from functools import partial

    from callbot.dialog import Conversation
    from callbot.queues import QueueDirectory
    from callbot.session.stack import callback_time_check, check_queue

    caller = None if args.caller.lower() == "none" else args.caller
    queues = QueueDirectory.from_yaml(settings.queues) if settings.queues is not None else None
    store = _callback_store(args) if queues is not None else None
    if queues is None:
        print("chat | no queues file in the settings: every queue is taken as open", file=sys.stderr)
    else:
        print(f"chat | queues from {settings.queues}, as serve applies them", file=sys.stderr)
    print(f"chat | caller id {caller or 'hidden'}; call-backs are shown, not stored", file=sys.stderr)
    return Conversation(
        flow,
        now=lambda: now,
        caller=caller,
        queue_check=partial(check_queue, queues, sentences=flow.prompts),
        check_callback_time=callback_time_check(
            settings, queues, store, flow.settings.fallback_queue, lambda: now, flow.callback_refused
        ),
    )


def cmd_flow_check(args: argparse.Namespace) -> int:
    from callbot.dialog import check_flow

    worst = 0
    for path in args.files:
        issues = check_flow(path)
        for issue in issues:
            print(str(issue))
        errors = [i for i in issues if i.severity == "error"]
        if errors:
            worst = 1
        elif not args.quiet:
            print(f"{path}: ok ({len(issues)} warning{'s' if len(issues) != 1 else ''})")
    return worst


def cmd_flow_graph(args: argparse.Namespace) -> int:
    from callbot.dialog import load_flow
    from callbot.dialog.graph import flow_graph, to_dot, to_mermaid

    graph = flow_graph(load_flow(args.file))
    print(to_mermaid(graph) if args.format == "mermaid" else to_dot(graph), end="")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from callbot.asr import models

    models_dir = Path(args.models_dir) if args.models_dir else None
    if args.models_command == "list":
        for status in models.list_models(models_dir):
            mark = "installed" if status.installed else "missing"
            print(f"{status.name:28s} {status.engine:8s} {status.language:3s} {mark:9s} {status.note}")
        return 0
    if args.models_command == "verify":
        names = args.names or [s.name for s in models.list_models(models_dir) if s.installed]
        failed = 0
        for name in names:
            result = models.verify_model(name, models_dir)
            verdict = {True: "ok", False: "FAILED", None: "unchecked"}[result.ok]
            print(f"{name}: {verdict}: {result.message}")
            failed += result.ok is False
        return 1 if failed else 0
    if args.models_command == "fetch":
        for name in args.names:
            if args.archive:
                path = models.install_from_archive(name, Path(args.archive), models_dir)
            else:
                path = models.fetch_model(name, models_dir, url_override=args.url)
            print(f"{name}: installed in {path}")
        return 0
    raise UserError("models: choose list, verify or fetch")


def _callback_store(args: argparse.Namespace) -> CallbackStore:
    from callbot.callbacks.outbound import store_from_settings

    return store_from_settings(_settings(args))


def cmd_callbacks(args: argparse.Namespace) -> int:
    from callbot.callbacks.admin import run_command

    return run_command(args, _callback_store(args))


def cmd_calls(args: argparse.Namespace) -> int:
    from callbot.calls import CallRecordStore
    from callbot.calls.admin import run_command

    settings = _settings(args)
    store = CallRecordStore(_callback_store(args))
    return run_command(args, store, retention_days=settings.calls.retention_days)


def cmd_queues(args: argparse.Namespace) -> int:
    from callbot.dialog import default_flow_path, load_flow
    from callbot.queues.admin import run_command

    settings = _settings(args)
    flow = load_flow(settings.flow or default_flow_path())
    return run_command(args, settings.queues, flow)


def cmd_test(args: argparse.Namespace) -> int:
    from callbot.qa.cli import run_command

    return run_command(args, _settings(args))


def cmd_info(args: argparse.Namespace) -> int:
    stack = _stack(args, quiet=True)
    for line in stack.banner():
        print(line)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from callbot.sip.serve import serve_main
    except ImportError as exc:
        raise UserError(f"the SIP gateway is not available: {exc}") from exc
    return serve_main(args)


# ---------------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callbot", description="French voicebot/callbot telephony gateway")
    parser.add_argument("--version", action="version", version=f"callbot {__version__}")
    parser.add_argument("--config", default=os.environ.get("CALLBOT_CONFIG"), help="settings file (YAML)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def engines(p: argparse.ArgumentParser) -> None:
        p.add_argument("--flow", help="call flow file (default: the retail flow shipped with callbot)")
        p.add_argument("--asr", choices=["auto", "vosk", "whisper"], help="speech recogniser")
        p.add_argument("--tts", choices=["auto", "pico", "espeak"], help="speech synthesiser")
        p.add_argument("--vad", choices=["auto", "webrtc", "silero"], help="voice activity detector")

    p = sub.add_parser("replay", help="run caller recordings through the bot, faster than real time")
    p.add_argument("recordings", nargs="+", metavar="CALL.wav", help="recordings, or folders of them")
    p.add_argument("--json", action="store_true", help="one JSON object per recording")
    p.add_argument(
        "--now",
        help="replay as if the call started then, ISO-8601 (default: the start written in the event log "
        "beside a recording made by 'serve', else now): relative dates, queue hours, "
        "call-back slots and the store's past check all use it; with --store-callbacks, a call-back "
        "whose time has passed in real life is stored 'expired' and never dialled",
    )
    p.add_argument(
        "--timing",
        choices=["turns", "original"],
        default="turns",
        help="turns: release each caller turn when the bot waits (default); original: as recorded",
    )
    p.add_argument(
        "--caller",
        help="caller id the call presents, E.164 ('none' for a hidden number; default: the caller in the "
        "event log beside a recording made by 'serve', else +33612345678)",
    )
    p.add_argument("--events", help="append the sessions' JSON-lines events to this file")
    p.add_argument(
        "--store-callbacks",
        action="store_true",
        help="store confirmed call-backs in the gateway's call-back store (data_dir / database_url)",
    )
    p.add_argument(
        "--record-calls",
        action="store_true",
        help="keep a call record of each replayed call (see `callbot calls`), in the same database",
    )
    engines(p)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("chat", help="type as the caller and read the bot's replies (try a flow)")
    p.add_argument("--now", help="chat as if it were then, ISO-8601 (default: now)")
    p.add_argument(
        "--caller",
        default="+33612345678",
        help="caller id to pretend, E.164 (default +33612345678, as replay; 'none' for a hidden number)",
    )
    p.add_argument("--show-intents", action="store_true", help="print the intent and slots of each turn")
    p.add_argument("--flow", help="call flow file (default: the retail flow shipped with callbot)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("flow", help="call flow tools")
    flow_sub = p.add_subparsers(dest="flow_command", metavar="SUBCOMMAND")
    check = flow_sub.add_parser("check", help="validate flow files before going live")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    check.set_defaults(func=cmd_flow_check)
    graph = flow_sub.add_parser("graph", help="draw a flow's states and transitions (Mermaid or Graphviz)")
    graph.add_argument("file", metavar="FLOW")
    graph.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")
    graph.set_defaults(func=cmd_flow_graph)

    p = sub.add_parser("models", help="list, verify and fetch speech models")
    p.add_argument("--models-dir", help="where models live (default: $CALLBOT_MODELS_DIR or ./models)")
    models_sub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    models_sub.add_parser("list", help="known models and whether they are installed").set_defaults(
        func=cmd_models
    )
    verify = models_sub.add_parser("verify", help="check installed models against the manifest checksums")
    verify.add_argument("names", nargs="*")
    verify.set_defaults(func=cmd_models)
    fetch = models_sub.add_parser("fetch", help="download (or install from an archive) a model")
    fetch.add_argument("names", nargs="+")
    fetch.add_argument("--url", help="download from this mirror instead of the manifest's URL")
    fetch.add_argument("--archive", help="install from a zip already on disk")
    fetch.set_defaults(func=cmd_models)

    p = sub.add_parser("callbacks", help="list, show, cancel, reschedule and export call-back requests")
    from callbot.callbacks.admin import configure_parser

    configure_parser(p)
    p.set_defaults(func=cmd_callbacks)

    p = sub.add_parser("calls", help="call history: list, show, stats, export, purge")
    from callbot.calls.admin import configure_parser as configure_calls

    configure_calls(p)
    p.set_defaults(func=cmd_calls)

    p = sub.add_parser("queues", help="check queues files; see which queues are open, closed or saturated")
    from callbot.queues.admin import configure_parser as configure_queues

    configure_queues(p)
    p.set_defaults(func=cmd_queues)

    p = sub.add_parser("test", help="replay suites of recorded calls against expected outcomes (docs/qa.md)")
    from callbot.qa.cli import configure_parser as configure_test

    configure_test(p)
    engines(p)
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("info", help="print the engines and flow callbot would use")
    engines(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("serve", help="answer SIP calls")
    p.add_argument("--listen", help="address:port of the SIP front, e.g. 127.0.0.1:5060")
    p.add_argument(
        "--workers", type=int, help="SIP media worker processes (4 calls each; >1 starts Kamailio)"
    )
    p.add_argument(
        "--http",
        help="address:port of the ops page, /metrics, /healthz, /readyz and /api (default 127.0.0.1:8080, "
        "'off' for none; another address than loopback needs http.token)",
    )
    engines(p)
    p.set_defaults(func=cmd_serve)
    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that carry a one-line message for the user."""
    found: list[type[BaseException]] = [UserError]
    loaders: list[Callable[[], type[BaseException]]] = [
        lambda: __import__("callbot.config", fromlist=["ConfigError"]).ConfigError,
        lambda: __import__("callbot.dialog", fromlist=["FlowError"]).FlowError,
        lambda: __import__("callbot.asr.models", fromlist=["ModelError"]).ModelError,
        lambda: __import__("callbot.audio.wav", fromlist=["WavError"]).WavError,
        lambda: __import__("callbot.tts.base", fromlist=["SynthesisError"]).SynthesisError,
        lambda: __import__("callbot.sip.config", fromlist=["ConfigError"]).ConfigError,
        lambda: __import__("callbot.queues.config", fromlist=["QueueConfigError"]).QueueConfigError,
        lambda: __import__("callbot.qa", fromlist=["QaError"]).QaError,
        lambda: __import__("callbot.callbacks.store", fromlist=["StoreError"]).StoreError,
    ]
    for load in loaders:
        try:
            found.append(load())
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    # Private by default: call-backs, recordings, event logs and run files hold callers' personal data
    # (and the run files secrets): what callbot creates is readable by its own user only (0600 / 0700).
    os.umask(0o077)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except _known_errors() as exc:
        print(f"callbot: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
