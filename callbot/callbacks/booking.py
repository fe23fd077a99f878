"""Booking a call-back from the dialog: the time check the conversation asks while the caller is still
on the line, and the durable write when the caller has confirmed.

Order on a live call: `ScheduleCallback` arrives → `schedule()` stores it (committed) → only then may the
bot say "c'est noté". If `schedule()` refuses, `refusal_fr()` gives the sentence to say instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from callbot.callbacks.models import CallbackRefused, CallbackRequest
from callbot.callbacks.slots import CallbackSlots, SlotRules
from callbot.callbacks.store import CallbackStore
from callbot.clock import Clock, wall_clock
from callbot.dialog import french
from callbot.dialog.actions import ScheduleCallback
from callbot.dialog.flow import CallbackRefusalPrompts
from callbot.queues.directory import QueueDirectory, UnknownQueue

_SLOT_CODES = frozenset({"past", "too_soon", "too_far", "closed", "holiday", "full", "slot_full"})


class CallbackBooking:
    """Call-back booking for every queue of a site: slot rules, the abuse limit and durable storage."""

    def __init__(
        self,
        store: CallbackStore,
        queues: QueueDirectory,
        rules: SlotRules | None = None,
        clock: Clock = wall_clock,
        proposals: int = 2,
        refusals: CallbackRefusalPrompts | None = None,
    ) -> None:
        self.store = store
        self.refusals = refusals or CallbackRefusalPrompts()  # the flow's `callback_refused:` sentences
        self.queues = queues
        self.rules = rules or SlotRules()
        self._clock = clock
        self.proposals = proposals

    def slots(self, queue: str) -> CallbackSlots:
        return CallbackSlots(self.queues[queue], self.store, self.rules, self._clock)

    def time_check(self, queue: str) -> Callable[[datetime], str | None]:
        """A `CallbackTimeCheck` for `Conversation(check_callback_time=...)`: None when `at` can be booked
        on `queue`, else the French sentence to say (why not, and the nearest free slots)."""

        def check(at: datetime) -> str | None:
            slots = self.slots(queue)
            verdict = slots.check(at)
            if verdict.ok:
                return None
            refusal = CallbackRefused(
                verdict.code, verdict.reason, tuple(slots.nearest_free(at, self.proposals))
            )
            return self.refusal_fr(refusal)

        return check

    def schedule(
        self,
        action: ScheduleCallback,
        *,
        caller: str | None = None,
        call_id: str | None = None,
        default_queue: str | None = None,
    ) -> CallbackRequest:
        """Store the confirmed call-back (committed when this returns) or raise CallbackRefused.

        The number called is `action.phone`, else `caller` (the caller id), else the context's caller.
        A refusal about the time carries the nearest free slots in `alternatives`.
        """
        name = action.queue or default_queue
        if name is None:
            raise CallbackRefused("unknown_queue", "the call-back names no queue and no default queue is set")
        try:
            slots = self.slots(name)
        except UnknownQueue as exc:
            raise CallbackRefused("unknown_queue", str(exc)) from None
        verdict = slots.check(action.at)
        if not verdict.ok:
            raise CallbackRefused(
                verdict.code, verdict.reason, tuple(slots.nearest_free(action.at, self.proposals))
            )
        caller_id = caller or action.context.caller
        try:
            return self.store.add(
                due_at=action.at,
                queue=name,
                phone=action.phone or caller_id,
                context=action.context,
                caller=caller_id,
                call_id=call_id,
                slot=slots.limit(action.at),
                as_of=action.decided_at,
            )
        except CallbackRefused as refused:
            if refused.code != "slot_full":
                raise
            # Another call took the last place between the check and the write.
            alternatives = tuple(slots.nearest_free(action.at, self.proposals))
            raise CallbackRefused(refused.code, str(refused), alternatives) from None

    def refusal_fr(self, refused: CallbackRefused) -> str:
        """What the bot says: the reason, then the free slots to choose from when the time was the issue."""
        sentence = self.refusals.reason(refused.code)
        if refused.code not in _SLOT_CODES:
            return sentence
        if not refused.alternatives:
            return f"{sentence} {self.refusals.no_free_slot}"
        offer = self.refusals.offer.format(slots=offer_fr(refused.alternatives, self._clock()))
        return f"{sentence} {offer}"


def offer_fr(slots: tuple[datetime, ...] | list[datetime], now: datetime) -> str:
    """'demain, mardi 24 novembre, à 9 h 45 ou à 10 h 15' — times of one day share the day."""
    if not slots:
        return ""
    local_now = now.astimezone(slots[0].tzinfo)
    parts: list[str] = []
    previous_day = None
    for slot in slots:
        same_day = slot.date() == previous_day
        parts.append(f"à {french.clock(slot)}" if same_day else french.moment(slot, local_now))
        previous_day = slot.date()
    return french.join(parts, "ou")
