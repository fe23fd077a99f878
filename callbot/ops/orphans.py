"""Records for the calls a conversation host was running when it died.

A host that dies (killed, out of memory, a crash in native code) cannot write the records of its calls;
the supervisor restarts it. Its live-call files stay behind, holding each call's last known state
(refreshed twice a second). `serve`'s own process turns them into `error` records — ended when the file
was last written — and removes them, so that no call goes unrecorded and no ghost stays on the page.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from callbot.calls.records import CallRecord
from callbot.calls.store import CallRecordStore
from callbot.ops import metrics
from callbot.ops.live import LiveCallBoard

log = logging.getLogger("callbot.ops.orphans")
HOST_DIED = "the conversation host died during the call"


def record_orphans(board: LiveCallBoard, records: CallRecordStore) -> int:
    """Store an `error` record for every call of a dead host; returns how many."""
    done = 0
    for path, state in board.orphans():
        try:
            started = datetime.fromisoformat(str(state["started_at"]))
            ended = datetime.fromtimestamp(path.stat().st_mtime, UTC)  # its last sign of life
            record = CallRecord(
                call_id=str(state["call_id"]),
                started_at=started,
                ended_at=max(started, ended),
                direction=str(state.get("direction") or "inbound"),
                outcome="error",
                caller=state.get("caller"),
                called=state.get("called"),
                flow=state.get("flow"),
                flow_hash=state.get("flow_hash"),
                end_reason=HOST_DIED,
                intents=tuple(state.get("intents") or ()),
                turns=int(state.get("turns") or 0),
                errors=1,
                error_text=HOST_DIED,
                transcript=tuple(state.get("transcript") or ()),
            )
            records.add(record)
        except (KeyError, ValueError, TypeError, OSError) as exc:
            log.warning("live-call file %s of a dead host is unreadable (%s); dropped", path.name, exc)
        except Exception:
            log.exception("the record of an orphaned call could not be stored; will try again")
            continue
        else:
            metrics.CALLS.labels(record.direction, "error").inc()
            metrics.CALL_ERRORS.inc()
            done += 1
        board.forget(path)
    return done
