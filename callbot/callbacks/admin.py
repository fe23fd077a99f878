"""`callbot callbacks list|show|cancel|reschedule|export`: what ops need day to day, as functions the
main CLI mounts (`configure_parser` + `run_command`, or `callbacks_main(argv, store)` in one go).

Times are read and shown on the Paris clock; errors are one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from callbot.callbacks.models import (
    CallbackNotFound,
    CallbackRefused,
    CallbackRequest,
    CallbackStateError,
    CallbackStatus,
)
from callbot.callbacks.store import CallbackStore, parse_status
from callbot.clock import Clock, wall_clock
from callbot.queues.directory import QueueDirectory, UnknownQueue
from callbot.queues.hours import PARIS

_DAY_WORDS = {
    "today": 0,
    "aujourd'hui": 0,
    "aujourdhui": 0,
    "tomorrow": 1,
    "demain": 1,
    "yesterday": -1,
    "hier": -1,
}


def parse_day(text: str, today: date) -> date:
    """'2026-11-24', 'today'/'aujourd'hui', 'tomorrow'/'demain', 'yesterday'/'hier'."""
    word = text.strip().lower()
    if word in _DAY_WORDS:
        return today + timedelta(days=_DAY_WORDS[word])
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise ValueError(f"'{text}' is not a day — write 2026-11-24, today or tomorrow") from None


def parse_moment(text: str, tz: ZoneInfo = PARIS) -> datetime:
    """'2026-11-24 15:30' (Paris time) or ISO 8601 with an offset."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"'{text}' is not a date and time — write \"2026-11-24 15:30\" (Paris time)"
        ) from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def format_table(requests: Sequence[CallbackRequest], tz: ZoneInfo = PARIS) -> str:
    """One line per request: short id, due time, queue, number, status, attempts, last outcome, summary."""
    header = ("id", "due (Paris)", "queue", "phone", "status", "try", "last", "summary")
    rows = [header]
    for request in requests:
        last = request.last_reason or ""
        if request.last_sip_status is not None:
            last = f"{request.last_sip_status} {last}"
        summary = str(request.context.get("summary") or "")
        rows.append(
            (
                request.id.hex[:8],
                request.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                request.queue,
                request.phone,
                request.status.value,
                str(request.attempts),
                _clip(last, 28),
                _clip(summary, 48),
            )
        )
    return align_columns(rows)


def align_columns(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as text columns two spaces apart (the first row is the header); no trailing blanks."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def format_details(request: CallbackRequest, tz: ZoneInfo = PARIS) -> str:
    """Every field of one request, then the call's context (what the agent will see)."""

    def when(moment: datetime | None) -> str:
        return moment.astimezone(tz).isoformat(timespec="seconds") if moment is not None else "-"

    context = request.context
    lease = f"{request.locked_by} until {when(request.locked_until)}" if request.locked_by else "-"
    lines = [
        f"id:              {request.id}",
        f"status:          {request.status.value}",
        f"due:             {when(request.due_at)}",
        f"queue:           {request.queue}",
        f"phone:           {request.phone}",
        f"caller:          {request.caller or '-'}",
        f"attempts:        {request.attempts}",
        f"next attempt:    {when(request.next_attempt_at)}",
        f"last outcome:    {request.last_sip_status or '-'} {request.last_reason or ''}".rstrip(),
        f"locked by:       {lease}",
        f"created:         {when(request.created_at)}",
        f"original call:   {request.call_id or '-'}",
        f"intent:          {context.get('intent') or '-'}",
        f"summary:         {context.get('summary') or '-'}",
    ]
    for name, value in (context.get("slots") or {}).items():
        lines.append(f"  slot {name}: {value}")
    transcript = context.get("transcript") or []
    if transcript:
        lines.append("transcript:")
        lines += [f"  {turn}" for turn in transcript]
    return "\n".join(lines)


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the call-back subcommands to `parser` (a fresh one, or the main CLI's `callbacks` subparser)."""
    commands = parser.add_subparsers(dest="callbacks_command", required=True, metavar="COMMAND")

    def filters(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--day", help="due day: 2026-11-24, today, tomorrow (Paris time)")
        sub.add_argument("--status", help="pending, dialing, done, failed or cancelled")
        sub.add_argument("--queue", help="queue name")

    filters(commands.add_parser("list", help="call-backs by due time"))
    show = commands.add_parser("show", help="one call-back with its context")
    show.add_argument("id", help="id or its first digits")
    cancel = commands.add_parser("cancel", help="cancel a pending call-back")
    cancel.add_argument("id", help="id or its first digits")
    cancel.add_argument("--reason", default="cancelled by ops")
    reschedule = commands.add_parser("reschedule", help="move a call-back (pending, failed or cancelled)")
    reschedule.add_argument("id", help="id or its first digits")
    reschedule.add_argument("at", help='new time, e.g. "2026-11-24 15:30" (Paris time)')
    export = commands.add_parser("export", help="write call-backs as CSV or JSON")
    filters(export)
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.add_argument("--delimiter", default=",", help="CSV delimiter (';' for a French spreadsheet)")
    return parser


def build_parser(prog: str = "callbot callbacks") -> argparse.ArgumentParser:
    return configure_parser(argparse.ArgumentParser(prog=prog, description="Manage scheduled call-backs."))


def run_command(
    args: argparse.Namespace,
    store: CallbackStore,
    *,
    queues: QueueDirectory | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    clock: Clock = wall_clock,
) -> int:
    """Run a parsed call-back subcommand; returns the exit status."""
    tz = store.tz
    try:
        return _run(args, store, queues, out, err, clock().astimezone(tz).date(), tz)
    except (CallbackNotFound, CallbackStateError, CallbackRefused, UnknownQueue, ValueError, OSError) as exc:
        print(f"error: {exc}", file=err)
        return 1


def callbacks_main(
    argv: Sequence[str],
    store: CallbackStore,
    *,
    queues: QueueDirectory | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    clock: Clock = wall_clock,
) -> int:
    args = build_parser().parse_args(list(argv))
    return run_command(args, store, queues=queues, out=out, err=err, clock=clock)


def _run(
    args: argparse.Namespace,
    store: CallbackStore,
    queues: QueueDirectory | None,
    out: TextIO,
    err: TextIO,
    today: date,
    tz: ZoneInfo,
) -> int:
    command = args.callbacks_command
    if command in ("list", "export"):
        day = parse_day(args.day, today) if args.day else None
        status = parse_status(args.status) if args.status else None
        if queues is not None and args.queue is not None and args.queue not in queues:
            raise UnknownQueue(args.queue, list(queues))
        if command == "list":
            requests = store.list(day=day, status=status, queue=args.queue)
            print(format_table(requests, tz), file=out)
            print(f"{len(requests)} call-back(s)", file=err)
            return 0
        return _export(args, store, out, err, day, status)
    request = store.resolve(args.id)
    if command == "show":
        print(format_details(request, tz), file=out)
    elif command == "cancel":
        cancelled = store.cancel(request.id, args.reason)
        due = cancelled.due_at.astimezone(tz)
        print(f"cancelled {cancelled.id} ({cancelled.phone}, due {due:%Y-%m-%d %H:%M})", file=out)
    elif command == "reschedule":
        at = parse_moment(args.at, tz)
        moved = store.reschedule(request.id, at)
        print(f"rescheduled {moved.id} to {moved.due_at.astimezone(tz):%Y-%m-%d %H:%M}", file=out)
        if queues is not None and moved.queue in queues and not queues[moved.queue].is_open_at(at):
            reason = queues[moved.queue].hours.closed_reason(at)
            print(
                f"warning: queue {moved.queue} is closed then ({reason}); the call will wait for it to open",
                file=err,
            )
    return 0


def _export(
    args: argparse.Namespace,
    store: CallbackStore,
    out: TextIO,
    err: TextIO,
    day: date | None,
    status: CallbackStatus | None,
) -> int:
    target = open(Path(args.output), "w", encoding="utf-8", newline="") if args.output else out  # noqa: SIM115
    try:
        if args.format == "json":
            count = store.export_json(target, day=day, status=status, queue=args.queue)
        else:
            count = store.export_csv(
                target, day=day, status=status, queue=args.queue, delimiter=args.delimiter
            )
    finally:
        if target is not out:
            target.close()
    print(f"exported {count} call-back(s){' to ' + args.output if args.output else ''}", file=err)
    return 0


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
