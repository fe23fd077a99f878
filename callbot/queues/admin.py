"""`callbot queues check|status`: ops check the queues file before going live, and watch the queues.

- `check [FILE…]` loads each queues file (the settings' `queues:` by default) with the same checks as the
  gateway, one line per file (`file:line: where: problem — fix` on error), and warns about queues the
  call flow transfers to that the file does not define (those transfers are never checked: no hours, no
  call-back offer);
- `status [--at TIME]` prints, for every queue, what a caller would get at that moment: open, closed (and
  until when) or saturated (and the estimated wait), asking the load source as a transfer would.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from callbot.callbacks.admin import align_columns, parse_moment
from callbot.clock import wall_clock
from callbot.dialog.flow import Flow
from callbot.dialog.nlu import PARIS
from callbot.queues.config import QueueConfigError
from callbot.queues.directory import QueueDirectory, QueueStatus


def configure_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="queues_command", metavar="SUBCOMMAND")
    check = sub.add_parser("check", help="validate queues files before going live")
    check.add_argument("files", nargs="*", metavar="FILE", help="default: the settings' queues file")
    status = sub.add_parser("status", help="open, closed or saturated, for every queue, now or at --at")
    status.add_argument("--at", help='moment to look at, "2026-11-24 08:30" (Paris time); default: now')


def check_files(paths: list[Path], flow: Flow | None, out: TextIO) -> int:
    """Print one line per file (and per flow queue missing from it); 1 when any file has an error."""
    failed = False
    for path in paths:
        try:
            queues = QueueDirectory.from_yaml(path)
        except QueueConfigError as exc:
            print(exc, file=out)
            failed = True
            continue
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=out)
            failed = True
            continue
        print(
            f"{path}: ok ({len(queues)} queue{'s' if len(queues) != 1 else ''}: {', '.join(queues)})",
            file=out,
        )
        if flow is not None:
            for name in flow.queues:
                if name not in queues:
                    print(
                        f"{path}: warning: the flow '{flow.name}' transfers to '{name}', which this file "
                        "does not define — its transfers are never checked against hours or load; add it",
                        file=out,
                    )
    return 1 if failed else 0


def status_table(queues: QueueDirectory, at: datetime) -> str:
    rows = [("queue", "state", "estimated wait", "next opening", "detail")]
    for name in queues:
        queue = queues[name]
        status = queue.status(at)
        rows.append((name, _state(status), _wait(status), _opening(status, queue.hours.tz), status.reason))
    return align_columns(rows)


def _state(status: QueueStatus) -> str:
    if not status.open:
        return "closed"
    return "saturated" if status.saturated else "open"


def _wait(status: QueueStatus) -> str:
    if status.estimated_wait_s is None:
        return "-"
    return f"{status.estimated_wait_s / 60:.0f} min"


def _opening(status: QueueStatus, tz: ZoneInfo) -> str:
    if status.open:
        return "-"
    if status.next_opening is None:
        return "not within a year"
    return f"{status.next_opening.astimezone(tz):%Y-%m-%d %H:%M}"


def run_command(
    args: argparse.Namespace, queues_file: Path | None, flow: Flow | None, out: TextIO | None = None
) -> int:
    stream = out or sys.stdout
    command = getattr(args, "queues_command", None)
    if command == "check":
        paths = [Path(name) for name in args.files] or ([queues_file] if queues_file else [])
        if not paths:
            print("callbot: no queues file: give one, or set `queues:` in the settings", file=sys.stderr)
            return 2
        return check_files(paths, flow, stream)
    if command == "status":
        if queues_file is None:
            print("callbot: no queues file: set `queues:` in the settings (--config)", file=sys.stderr)
            return 2

        try:
            at = parse_moment(args.at) if args.at else wall_clock().astimezone(PARIS)
        except ValueError as exc:
            print(f"callbot: {exc}", file=sys.stderr)
            return 2
        queues = QueueDirectory.from_yaml(queues_file)
        print(f"queues of {queues_file} at {at.astimezone(PARIS):%Y-%m-%d %H:%M} (Paris)", file=stream)
        print(status_table(queues, at), file=stream)
        return 0
    print("callbot: queues: choose check or status", file=sys.stderr)
    return 2
