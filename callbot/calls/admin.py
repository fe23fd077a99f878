"""`callbot calls list|show|stats|export|purge`: the call history as a contact-centre lead reads it.

Days and times are Paris time; `--day` takes 2026-12-06, today or yesterday; `--from`/`--to` take
"2026-12-06 08:00" (the end excluded). Errors are one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from callbot.callbacks.admin import align_columns, parse_day, parse_moment
from callbot.calls.records import CallRecord
from callbot.calls.store import CallRecordStore, CallStats, day_bounds
from callbot.queues.hours import PARIS


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the subcommands to `parser` (the main CLI's `calls` subparser, or a fresh one)."""
    commands = parser.add_subparsers(dest="calls_command", required=True, metavar="COMMAND")

    def period(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--day", help="2026-12-06, today, yesterday (Paris time)")
        sub.add_argument("--from", dest="start", help='from this time, e.g. "2026-12-06 08:00" (Paris)')
        sub.add_argument("--to", dest="end", help="until this time (excluded)")

    listing = commands.add_parser("list", help="calls, most recent first")
    period(listing)
    listing.add_argument("--outcome", choices=("bot", "transferred", "callback", "abandoned", "error"))
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    show = commands.add_parser("show", help="one call with its transcript")
    show.add_argument("id", help="record id (or its first digits) or SIP Call-ID")
    show.add_argument("--json", action="store_true")
    stats = commands.add_parser("stats", help="calls, containment, transfers per queue, p95, errors")
    period(stats)
    stats.add_argument("--json", action="store_true")
    export = commands.add_parser("export", help="calls as CSV (no transcripts)")
    period(export)
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.add_argument("--delimiter", default=",", help="CSV delimiter (';' for a French spreadsheet)")
    purge = commands.add_parser("purge", help="delete calls older than the retention, with their files")
    purge.add_argument("--older-than", type=int, metavar="DAYS", help="default: calls.retention_days")
    purge.add_argument("--keep-files", action="store_true", help="keep recordings and event logs")
    return parser


def run_command(
    args: argparse.Namespace, store: CallRecordStore, *, retention_days: int = 90, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    try:
        return _run(args, store, retention_days, out)
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        print(f"callbot calls: {message}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, store: CallRecordStore, retention_days: int, out: TextIO) -> int:
    command = args.calls_command
    if command == "show":
        record = store.get(args.id)
        print(
            json.dumps(record.as_dict(), ensure_ascii=False, indent=2) if args.json else details(record),
            file=out,
        )
        return 0
    if command == "purge":
        days = args.older_than if args.older_than is not None else retention_days
        removed = store.purge(days, delete_files=not args.keep_files)
        print(f"{removed} call record(s) older than {days} days deleted", file=out)
        return 0
    start, end = _period(args, store)
    if command == "list":
        records = store.list(start, end, outcome=args.outcome, limit=args.limit)
        print(table(records) if records else "no calls", file=out)
    elif command == "stats":
        figures = store.stats(start, end)
        print(
            json.dumps(figures.as_dict(), ensure_ascii=False) if args.json else stats_text(figures), file=out
        )
    elif command == "export":
        records = list(reversed(store.list(start, end)))
        if args.output:
            with open(Path(args.output), "w", encoding="utf-8", newline="") as fp:
                count = store.export_csv(fp, records, args.delimiter)
            print(f"{count} call(s) written to {args.output}", file=sys.stderr)
        else:
            store.export_csv(out, records, args.delimiter)
    return 0


def _period(args: argparse.Namespace, store: CallRecordStore) -> tuple[datetime, datetime]:
    """--day, or --from/--to; without either, today (Paris)."""
    today = store._clock().astimezone(PARIS).date()
    if args.day and (args.start or args.end):
        raise ValueError("give --day or --from/--to, not both")
    if args.start or args.end:
        start = parse_moment(args.start) if args.start else datetime(2000, 1, 1, tzinfo=PARIS)
        end = parse_moment(args.end) if args.end else store._clock() + timedelta(days=1)
        if end <= start:
            raise ValueError("--to must come after --from")
        return start, end
    return day_bounds(parse_day(args.day, today) if args.day else today)


def table(records: Sequence[CallRecord]) -> str:
    header = ("id", "started (Paris)", "dur", "dir", "caller", "outcome", "queue", "turns", "p95", "intents")
    rows = [header]
    for r in records:
        rows.append(
            (
                r.id.hex[:8],
                r.started_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S"),
                f"{r.duration_s:.0f}s",
                r.direction,
                r.caller or "-",
                r.outcome + (f" ({r.errors} err)" if r.errors else ""),
                r.queue or "",
                str(r.turns),
                "" if r.response_p95_ms is None else f"{r.response_p95_ms}ms",
                " ".join(r.intents)[:40],
            )
        )
    return align_columns(rows)


def details(r: CallRecord) -> str:
    def when(moment: datetime) -> str:
        return moment.astimezone(PARIS).isoformat(timespec="seconds")

    lines = [
        f"id:              {r.id}",
        f"call id:         {r.call_id}",
        f"started:         {when(r.started_at)}",
        f"ended:           {when(r.ended_at)} ({r.duration_s:.1f} s)",
        f"direction:       {r.direction}",
        f"caller:          {r.caller or '-'}",
        f"called:          {r.called or '-'}",
        f"flow:            {r.flow or '-'} ({(r.flow_hash or '-')[:12]})",
        f"outcome:         {r.outcome}" + (f" → {r.queue}" if r.queue else ""),
        f"end:             {r.end_reason or '-'}",
        f"intents:         {' '.join(r.intents) or '-'}",
        f"turns:           {r.turns}",
        f"response:        p50 {_ms(r.response_p50_ms)}, p95 {_ms(r.response_p95_ms)}",
        f"errors:          {r.errors}" + (f" ({r.error_text})" if r.error_text else ""),
        f"recording:       {r.recording_path or '-'}",
    ]
    if r.transcript:
        lines.append("transcript:")
        lines += [f"  {line}" for line in r.transcript]
    return "\n".join(lines)


def stats_text(figures: CallStats) -> str:
    data = figures.as_dict()
    containment = "-" if figures.containment is None else f"{figures.containment:.1%}"
    lines = [
        f"period:            {figures.start.astimezone(PARIS):%Y-%m-%d %H:%M} → "
        f"{figures.end.astimezone(PARIS):%Y-%m-%d %H:%M} (Paris)",
        f"calls:             {figures.calls}",
        f"containment:       {containment} ({data['resolved_by_bot']} resolved by the bot)",
        f"transferred:       {data['transferred']}",
    ]
    lines += [f"  to {queue}: {count}" for queue, count in data["transfers_by_queue"].items()]
    lines += [
        f"call-backs booked: {data['callbacks_booked']}",
        f"abandoned:         {data['abandoned']}",
        f"errors:            {data['errors']}",
        f"response p95:      {_ms(figures.response_p95_ms)}",
    ]
    return "\n".join(lines)


def _ms(value: int | None) -> str:
    return "-" if value is None else f"{value} ms"
