"""Call-back slots: when a queue can promise to call back, and how many call-backs fit in a slot.

Agents handle call-backs between inbound calls, so a queue takes at most `per_slot` call-backs per slot
(15 minutes by default), only while it is open (hours, holidays, exceptions), not sooner than a lead time
(time to plan the agent) and not further ahead than a horizon. When the asked time does not fit, the bot
proposes the nearest free slots on either side of it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from callbot.callbacks.store import SlotLimit
from callbot.clock import Clock, wall_clock
from callbot.queues.directory import Queue


class SlotBookings(Protocol):
    """Where booked call-backs are counted (the CallbackStore)."""

    def due_times(self, queue: str, start: datetime, end: datetime) -> list[datetime]: ...


@dataclass(frozen=True)
class SlotRules:
    slot_minutes: int = 15
    per_slot: int = 2
    min_lead_s: float = 600.0
    horizon_days: int = 14

    def __post_init__(self) -> None:
        if self.slot_minutes <= 0 or 60 % self.slot_minutes:
            raise ValueError(
                f"slot_minutes={self.slot_minutes} — use a divisor of 60: 5, 10, 15, 20, 30 or 60"
            )
        if self.per_slot < 1:
            raise ValueError(f"per_slot={self.per_slot} — a slot takes at least one call-back")
        if self.min_lead_s < 0 or self.horizon_days < 1:
            raise ValueError("min_lead_s must be >= 0 and horizon_days >= 1")

    @property
    def slot(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)


@dataclass(frozen=True, slots=True)
class SlotCheck:
    """`code`: ok, past, too_soon, too_far, closed, holiday, full. `reason` is one English line."""

    ok: bool
    slot_start: datetime | None
    reason: str
    code: str = "ok"


class CallbackSlots:
    """Slots of one queue. Times handed out are aware, on the queue's clock (Europe/Paris)."""

    def __init__(
        self, queue: Queue, bookings: SlotBookings, rules: SlotRules | None = None, clock: Clock = wall_clock
    ) -> None:
        self.queue = queue
        self.bookings = bookings
        self.rules = rules or SlotRules()
        self._clock = clock

    def slot_start(self, at: datetime) -> datetime:
        """Start of the slot holding `at` (slots are aligned on the local quarter hours)."""
        at = self.queue.local_time(at)
        size = self.rules.slot_minutes * 60
        start = int(at.timestamp()) // size * size
        return datetime.fromtimestamp(start, UTC).astimezone(self.queue.hours.tz)

    def limit(self, at: datetime) -> SlotLimit:
        """The capacity rule for `at`'s slot, for the store to enforce atomically when booking."""
        start = self.slot_start(at)
        return SlotLimit(self.queue.name, start, start + self.rules.slot, self.rules.per_slot)

    def check(self, at: datetime) -> SlotCheck:
        at = self.queue.local_time(at)
        now = self._clock()
        earliest = now + timedelta(seconds=self.rules.min_lead_s)
        if at < now:
            return SlotCheck(False, None, f"{at.isoformat()} is in the past", "past")
        if at < earliest:
            minutes = round(self.rules.min_lead_s / 60)
            return SlotCheck(False, None, f"{at.isoformat()} is less than {minutes} min from now", "too_soon")
        if at > now + timedelta(days=self.rules.horizon_days):
            return SlotCheck(
                False, None, f"{at.isoformat()} is more than {self.rules.horizon_days} days ahead", "too_far"
            )
        closed = self.queue.hours.closed_reason(at)
        if closed is not None:
            code = "holiday" if closed.startswith("public holiday") else "closed"
            return SlotCheck(False, None, f"queue {self.queue.name} is closed then: {closed}", code)
        start = self.slot_start(at)
        booked = len(self.bookings.due_times(self.queue.name, start, start + self.rules.slot))
        if booked >= self.rules.per_slot:
            return SlotCheck(
                False, start, f"slot {start.isoformat()} is full ({booked}/{self.rules.per_slot})", "full"
            )
        return SlotCheck(
            True, start, f"slot {start.isoformat()} has room ({booked}/{self.rules.per_slot} booked)"
        )

    def free_slots(self, start: datetime, end: datetime) -> list[datetime]:
        """Slot starts in [start, end) when the queue is open, not before the lead time, with room left."""
        now = self._clock()
        start = max(self.queue.local_time(start), now + timedelta(seconds=self.rules.min_lead_s))
        end = min(self.queue.local_time(end), now + timedelta(days=self.rules.horizon_days))
        if end <= start:
            return []
        booked = Counter(self.slot_start(due) for due in self.bookings.due_times(self.queue.name, start, end))
        free = []
        for opens, closes in self.queue.hours.intervals(start, end):
            slot = self.slot_start(opens)
            if slot < opens:
                slot += self.rules.slot
            while slot < closes:
                if booked[slot] < self.rules.per_slot:
                    free.append(slot)
                slot = (slot.astimezone(UTC) + self.rules.slot).astimezone(self.queue.hours.tz)
        return free

    def nearest_free(self, at: datetime, n: int = 2) -> list[datetime]:
        """`n` free slots around `at`, in time order, taken alternately after and before it (the closer
        side first), so that the caller is offered an earlier and a later choice when both exist."""
        at = self.queue.local_time(at)
        now = self._clock()
        candidates = self.free_slots(now, now + timedelta(days=self.rules.horizon_days))
        after = [slot for slot in candidates if slot >= at]
        before = [slot for slot in reversed(candidates) if slot < at]
        chosen: list[datetime] = []
        while len(chosen) < n and (after or before):
            # One from each side per round, the closer side first.
            sides = sorted(
                (side for side in (after, before) if side),
                key=lambda side: abs(side[0].timestamp() - at.timestamp()),
            )
            for side in sides[: n - len(chosen)]:
                chosen.append(side.pop(0))
        return sorted(chosen)
