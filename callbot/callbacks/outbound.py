"""From a stored call-back to the call that keeps the promise, and back.

- `callback_call_request(dial)` gives the outbound dialog (callbot/dialog/callback_call.py) what it needs
  from the dispatcher's `DialRequest`;
- `dial_result_of(...)` reads how that call ended (the session's `Outcome`) as the `DialResult` the
  dispatcher acts on: done, try again later, or give up;
- `store_from_settings`, `slot_rules`, `retry_policy` build the parts from the `callbacks:` settings, the
  same way for `callbot serve`, `callbot replay --store-callbacks` and `callbot callbacks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from callbot.callbacks.dispatcher import DialRequest, DialResult, RetryPolicy
from callbot.callbacks.phones import PhonePolicy
from callbot.callbacks.slots import SlotRules
from callbot.callbacks.store import CallbackLimits, CallbackStore
from callbot.dialog import callback_call as dialog

if TYPE_CHECKING:
    from callbot.config import Settings
    from callbot.session.call_session import Outcome

#: SIP status of an answered call, for the results of answered calls.
_ANSWERED = 200


def callback_call_request(dial: DialRequest) -> dialog.CallbackCallRequest:
    return dialog.CallbackCallRequest(
        callback_id=str(dial.callback_id),
        phone=dial.phone,
        queue=dial.queue,
        context=dial.context,
        due_at=dial.due_at,
    )


def dial_result_of(outcome: Outcome | None, heard_someone: bool, call_end: str) -> DialResult:
    """What an answered call-back call achieved, for the dispatcher.

    Reached (done): put through to an agent, a new time booked, the request cancelled by the person, or
    a person who spoke and then hung up. Not reached (tried again later): a voicemail, silence, a
    transfer the queue refused, a hang-up before anyone spoke, a call lost with the SIP worker that
    carried it. Given up: the wrong person.
    """
    if outcome is None:
        return DialResult(False, _ANSWERED, f"the call ended without an outcome ({call_end})")
    if outcome.type == "transfer":
        return DialResult(True, _ANSWERED, f"put through to {outcome.queue} ({outcome.reason})")
    if outcome.type == "callback":
        at = outcome.callback_at.isoformat() if outcome.callback_at else "?"
        return DialResult(True, _ANSWERED, f"the person asked to be called at {at} instead")
    if outcome.type == "hangup":
        reason = outcome.reason or ""
        if reason == dialog.CANCELLED:
            return DialResult(True, _ANSWERED, "the person no longer needs the call-back")
        if reason == dialog.WRONG_PERSON:
            return DialResult(False, _ANSWERED, "the wrong person answered", retry=False)
        if reason == dialog.VOICEMAIL:
            return DialResult(False, _ANSWERED, "voicemail")
        if reason == dialog.NO_RESPONSE:
            return DialResult(False, _ANSWERED, "answered, but nobody spoke")
        if reason == dialog.TRANSFER_FAILED:
            return DialResult(False, _ANSWERED, "the agents' queue refused the transfer")
        return DialResult(True, _ANSWERED, f"the bot ended the call ({reason})")
    if outcome.type == "worker_lost":
        return DialResult(False, _ANSWERED, "the SIP worker carrying the call died: tried again")
    if outcome.type == "caller_hangup":
        if heard_someone:
            return DialResult(True, _ANSWERED, "the person hung up")
        return DialResult(False, _ANSWERED, "hung up before anyone spoke")
    return DialResult(False, _ANSWERED, f"{outcome.type}: {outcome.reason or call_end}")


def store_from_settings(settings: Settings, *, migrate: bool = True) -> CallbackStore:
    """The call-back store the settings name (PostgreSQL by URL, else SQLite in `data_dir`), migrated."""
    cb = settings.callbacks
    limits = CallbackLimits(
        max_per_phone_per_day=cb.max_per_phone_per_day,
        max_pending_per_phone=cb.max_pending_per_phone,
        max_per_slot=cb.max_per_slot_all_queues,
        max_per_day=cb.max_per_day_all_queues,
        slot_minutes=cb.slot_minutes,
        horizon_days=cb.horizon_days,
        refuse_hidden_caller=cb.refuse_hidden_caller,
    )
    phones = PhonePolicy(regions=frozenset(region.upper() for region in cb.regions))
    store = CallbackStore(settings.database_url or settings.data_dir, limits=limits, phones=phones)
    if migrate:
        store.migrate()
    return store


def slot_rules(settings: Settings) -> SlotRules:
    cb = settings.callbacks
    return SlotRules(
        slot_minutes=cb.slot_minutes,
        per_slot=cb.per_slot,
        min_lead_s=cb.min_lead_s,
        horizon_days=cb.horizon_days,
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    cb = settings.callbacks
    return RetryPolicy(delays_s=tuple(cb.retry_delays_s), max_attempts=cb.max_attempts)
