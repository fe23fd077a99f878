"""One conversation, whatever carries its audio: CallSession, its event log and the speech stack."""

from callbot.session.call_session import AudioClock, CallSession, Outcome, TurnRecord
from callbot.session.channel import Channel, RecordingChannel
from callbot.session.events import EventLog

__all__ = ["AudioClock", "CallSession", "Channel", "EventLog", "Outcome", "RecordingChannel", "TurnRecord"]
