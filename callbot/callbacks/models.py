"""Call-back requests as the rest of callbot sees them: plain frozen data, no database session attached."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from callbot.dialog.actions import CallContext


class CallbackStatus(StrEnum):
    PENDING = "pending"  # waiting for its time (or its next attempt)
    DIALING = "dialing"  # claimed by a dispatcher, which holds a lease on it
    DONE = "done"  # the caller answered
    FAILED = "failed"  # attempts exhausted, or a number that cannot be reached
    CANCELLED = "cancelled"  # by ops or by the caller
    EXPIRED = "expired"  # stored by a replay (`--now` in the past) after its time: never dialled


ACTIVE_STATUSES = (CallbackStatus.PENDING, CallbackStatus.DIALING)


class CallbackRefused(Exception):
    """A call-back that must not be stored. `code` is stable (for the dialog and metrics); `str()` is one
    English line for logs and the CLI; `alternatives` are free slots to offer when the slot was the issue.
    """

    def __init__(self, code: str, message: str, alternatives: tuple[datetime, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.alternatives = alternatives


class CallbackNotFound(LookupError):
    def __init__(self, ident: object, message: str | None = None) -> None:
        super().__init__(
            message or f"no call-back with id '{ident}' — list them with 'callbot callbacks list'"
        )
        self.ident = ident

    def __str__(self) -> str:
        return str(self.args[0])


class CallbackStateError(ValueError):
    """An operation that the request's status does not allow (cancel a call-back already made)."""


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """One row of `callback_requests`. Datetimes are aware, in UTC."""

    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    queue: str
    phone: str
    caller: str | None
    status: CallbackStatus
    attempts: int
    next_attempt_at: datetime
    last_sip_status: int | None
    last_reason: str | None
    locked_by: str | None
    locked_until: datetime | None
    context: dict[str, Any]
    call_id: str | None

    def call_context(self) -> CallContext:
        """The original call's context, for the agent who takes the call-back."""
        return context_from_json(self.context)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly: ids as text, datetimes as ISO 8601 UTC."""
        result: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, uuid.UUID | CallbackStatus):
                value = str(value)
            result[item.name] = value
        return result


@dataclass(frozen=True, slots=True)
class Defer:
    """Triage verdict: not now (queue closed) — move the next attempt to `until` without dialling."""

    until: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Triage verdict: mark the request failed without dialling."""

    reason: str


Triage = Callable[[CallbackRequest], "Defer | GiveUp | None"]
"""Decides, under the claim's lock, what to do with a due request: None = dial it now."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def context_to_json(context: CallContext | Mapping[str, Any] | None) -> dict[str, Any]:
    """The call context as JSON-safe data (slot values that are dates or decimals become text)."""
    data: dict[str, Any] = {"caller": None, "intent": None, "slots": {}, "transcript": [], "summary": ""}
    if context is None:
        pass
    elif isinstance(context, CallContext):
        data = context.as_dict()
    else:
        data.update(context)
    result: dict[str, Any] = json.loads(json.dumps(data, default=_plain, ensure_ascii=False))
    return result


def context_from_json(data: Mapping[str, Any]) -> CallContext:
    return CallContext(
        caller=data.get("caller"),
        intent=data.get("intent"),
        slots=dict(data.get("slots") or {}),
        transcript=tuple(data.get("transcript") or ()),
        summary=str(data.get("summary") or ""),
    )
