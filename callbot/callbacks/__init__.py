"""Call-backs: slots and capacity, durable storage (SQLite or PostgreSQL, Alembic migrations), the
dispatcher that dials them exactly once through the SIP gateway, and ops commands."""

from callbot.callbacks.booking import CallbackBooking, offer_fr
from callbot.callbacks.dispatcher import (
    Dialer,
    DialRequest,
    DialResult,
    Dispatcher,
    DispatchOutcome,
    RetryPolicy,
)
from callbot.callbacks.models import (
    CallbackNotFound,
    CallbackRefused,
    CallbackRequest,
    CallbackStateError,
    CallbackStatus,
    context_from_json,
    context_to_json,
)
from callbot.callbacks.phones import PhonePolicy
from callbot.callbacks.slots import CallbackSlots, SlotCheck, SlotRules
from callbot.callbacks.store import CallbackLimits, CallbackStore, SlotLimit, StoreError, database_url

__all__ = [
    "CallbackBooking",
    "CallbackLimits",
    "CallbackNotFound",
    "CallbackRefused",
    "CallbackRequest",
    "CallbackSlots",
    "CallbackStateError",
    "CallbackStatus",
    "CallbackStore",
    "DialRequest",
    "DialResult",
    "Dialer",
    "DispatchOutcome",
    "Dispatcher",
    "PhonePolicy",
    "RetryPolicy",
    "SlotCheck",
    "SlotLimit",
    "SlotRules",
    "StoreError",
    "context_from_json",
    "context_to_json",
    "database_url",
    "offer_fr",
]
