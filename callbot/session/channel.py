"""The small interface the outside world implements for a call: SIP, a replayed recording, a test."""

from __future__ import annotations

from typing import Protocol

from callbot.dialog.actions import ScheduleCallback, Transfer


class Channel(Protocol):
    """Where a session's decisions go. Audio does not pass here: the channel pulls it from `tick`."""

    def transfer(self, action: Transfer) -> None:
        """Hand the call to a human queue with its context (a SIP REFER on a live call)."""

    def schedule_callback(self, action: ScheduleCallback) -> None:
        """Store a confirmed call-back request durably (before the caller hears "c'est noté")."""

    def hangup(self, reason: str) -> None:
        """End the call from the bot's side."""


class RecordingChannel:
    """A channel that only remembers what it was asked to do: used by replay, chat and tests."""

    def __init__(self) -> None:
        self.transfers: list[Transfer] = []
        self.callbacks: list[ScheduleCallback] = []
        self.hangups: list[str] = []

    def transfer(self, action: Transfer) -> None:
        self.transfers.append(action)

    def schedule_callback(self, action: ScheduleCallback) -> None:
        self.callbacks.append(action)

    def hangup(self, reason: str) -> None:
        self.hangups.append(reason)
